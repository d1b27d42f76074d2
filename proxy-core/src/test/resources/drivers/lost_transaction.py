"""What psycopg2 (or psycopg 3) sees when its transaction is lost: run by LostTransactionDriversTest.

Usage: python lost_transaction.py DRIVER SCENARIO DSN ADMIN_DSN   (DRIVER: psycopg2 or psycopg)
Prints one line per step, "step: outcome", which the test compares with what it expects.
"""
import importlib
import select
import sys
import time

driver, scenario, dsn, admin_dsn = sys.argv[1:5]
pg = importlib.import_module(driver)


def outcome(step, action):
    try:
        action()
        print(step + ": ok", flush=True)
    except pg.Error as e:
        code = e.pgcode if driver == "psycopg2" else e.sqlstate
        print(step + ": " + type(e).__name__ + " " + str(code), flush=True)


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


def pipelined(action):
    """psycopg 3's pipeline mode: everything goes as Parse/Bind/Execute, several requests before one Sync."""
    def run():
        with conn.pipeline():
            action()
    return run


conn = pg.connect(dsn)
if scenario in ("commit", "rollback", "pipeline_commit"):
    pipeline = scenario.startswith("pipeline_")
    admin = pg.connect(admin_dsn)
    admin.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT pg_backend_pid()")  # the driver sends BEGIN first: the client is now in a transaction
    pid = cur.fetchone()[0]
    admin.cursor().execute("SELECT pg_terminate_backend(%s)", (pid,))
    backend_gone(admin, pid)
    # pgwarden sees the backend's socket end moments after PostgreSQL drops the pid; either way the client's
    # outcome below must be the same.
    end = conn.commit if scenario.endswith("commit") else conn.rollback
    outcome(scenario, pipelined(end) if pipeline else end)
    for i in range(3):
        step = one_transaction(conn)
        outcome("next transaction " + str(i + 1), pipelined(step) if pipeline else step)
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
