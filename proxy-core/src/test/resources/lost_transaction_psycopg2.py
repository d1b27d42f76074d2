"""What psycopg2 sees when its transaction is lost: run by LostTransactionDriversTest.

Usage: python lost_transaction_psycopg2.py SCENARIO DSN ADMIN_DSN
Prints one line per step, "step: outcome", which the test compares with what it expects.
"""
import select
import sys
import time

import psycopg2
import psycopg2.errors

scenario, dsn, admin_dsn = sys.argv[1:4]


def outcome(step, action):
    try:
        action()
        print(step + ": ok", flush=True)
    except psycopg2.Error as e:
        print(step + ": " + type(e).__name__ + " " + str(e.pgcode), flush=True)


def backend_gone(admin, pid):
    """Waits (bounded) until PostgreSQL no longer lists the terminated backend."""
    cur = admin.cursor()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
        if cur.fetchone()[0] == 0:
            return
        time.sleep(0.01)
    raise SystemExit("backend " + str(pid) + " still there")


def one_transaction(conn):
    def run():
        cur = conn.cursor()
        cur.execute("SELECT 1")
        cur.fetchone()
        conn.commit()
    return run


conn = psycopg2.connect(dsn)
if scenario in ("commit", "rollback"):
    admin = psycopg2.connect(admin_dsn)
    admin.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT pg_backend_pid()")  # psycopg2 sends BEGIN first: the client is now in a transaction
    pid = cur.fetchone()[0]
    admin.cursor().execute("SELECT pg_terminate_backend(%s)", (pid,))
    backend_gone(admin, pid)
    # pgwarden sees the backend's socket end moments after PostgreSQL drops the pid; either way the client's
    # outcome below must be the same.
    outcome(scenario, conn.commit if scenario == "commit" else conn.rollback)
    for i in range(3):
        outcome("next transaction " + str(i + 1), one_transaction(conn))
elif scenario == "idle_in_transaction_timeout":
    cur = conn.cursor()
    cur.execute("SELECT 1")
    cur.fetchone()
    # Idle in the transaction until the server side ends the session: its FATAL makes the socket readable.
    readable, _, _ = select.select([conn.fileno()], [], [], 30)
    print("ended by the server side: " + ("yes" if readable else "no"), flush=True)
    outcome("next statement", lambda: cur.execute("SELECT 2"))
else:
    raise SystemExit("unknown scenario " + scenario)
