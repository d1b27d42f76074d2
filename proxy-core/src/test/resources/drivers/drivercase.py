"""Shared by the Python driver programs: how a case reads its targets and reports what it saw.

Each program runs one case (argv[1]) against DSN (the target: PostgreSQL directly or pgwarden) with
ADMIN_DSN (a superuser connection straight to PostgreSQL, for what a DBA or another service would do) and
prints one JSON line of observations, which the Java side compares between targets.
"""
import json
import os
import sys
import threading
import time
import traceback
from urllib.parse import urlparse

DSN = os.environ["DSN"]
ADMIN_DSN = os.environ["ADMIN_DSN"]
TAG = os.environ.get("TAG", "t")
# Set only against PostgreSQL directly, where the server's own idle_in_transaction_session_timeout plays the
# part pgwarden's client.idle_in_transaction_timeout plays through the proxy.
SERVER_IDLE_TIMEOUT = os.environ.get("SERVER_IDLE_TIMEOUT")


def parts(dsn):
    u = urlparse(dsn)
    return dict(user=u.username, password=u.password, host=u.hostname, port=u.port,
                database=u.path.lstrip("/"))


# The classes an application's error handling catches: the DB-API hierarchy, and asyncpg's two roots.
FAMILIES = ("InterfaceError", "DataError", "OperationalError", "IntegrityError", "InternalError",
            "ProgrammingError", "NotSupportedError", "PostgresError", "DatabaseError")


def err(e):
    """An exception as the application's error handling sees it: "ERR:family/class:SQLSTATE"."""
    code = getattr(e, "pgcode", None) or getattr(e, "sqlstate", None)
    if code is None and getattr(e, "args", None) and isinstance(e.args[0], dict):
        code = e.args[0].get("C")  # pg8000
    family = next((c.__name__ for c in type(e).__mro__ if c.__name__ in FAMILIES), type(e).__name__)
    if type(e).__name__ == "ConnectionDoesNotExistError":
        # asyncpg raises it itself when the socket closes under a query; its 08003 names no server error.
        family, code = "InterfaceError", None
    return "ERR:%s/%s:%s" % (family, type(e).__name__, code or "")


def message(e):
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def wait_until(predicate, what, attempts=200, pause=0.025):
    for _ in range(attempts):
        if predicate():
            return
        time.sleep(pause)
    raise AssertionError("timed out waiting for " + what)


def attempt(obs, key, fn):
    """Records whether fn() worked, as "ok" or as err(); the message goes under "_key", kept out of comparisons."""
    try:
        fn()
        obs[key] = "ok"
    except Exception as e:
        obs[key] = err(e)
        obs["_" + key] = message(e)


# The helpers below take the program's one(conn, sql, args), which returns the first column of the first row;
# the DB-API drivers here all take %s parameters.

def terminate(one, admin, pid):
    """What a DBA or a failover does to the client's backend: it ends, and the client learns at its next call."""
    one(admin, "SELECT pg_terminate_backend(%s)", (pid,))
    wait_until(lambda: one(admin, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)) == 0,
               "backend %s to exit" % pid)


def terminate_when_sleeping(one, admin, pid):
    """Terminates the backend once it runs the client's pg_sleep, so the loss falls during the statement."""
    wait_until(lambda: one(admin, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND wait_event = 'PgSleep'",
                           (pid,)) == 1, "backend %s to sleep" % pid)
    one(admin, "SELECT pg_terminate_backend(%s)", (pid,))


def terminated_statement(obs, conn, one, admin):
    """Case 8: the next statement of a transaction whose backend was terminated raises AdminShutdown."""
    pid = one(conn, "SELECT pg_backend_pid()")
    a = admin()
    terminate(one, a, pid)
    a.close()
    attempt(obs, "statement", lambda: one(conn, "SELECT 1"))
    attempt(obs, "rollback", conn.rollback)
    attempt(obs, "after", lambda: one(conn, "SELECT 1"))


def terminated_during_query(obs, conn, one, admin):
    """Case 8: a backend terminated while it runs the client's statement: AdminShutdown (57P01) directly."""
    pid = one(conn, "SELECT pg_backend_pid()")
    a = admin()
    killer = threading.Thread(target=lambda: terminate_when_sleeping(one, a, pid))
    killer.start()
    attempt(obs, "statement", lambda: one(conn, "SELECT pg_sleep(30)"))
    killer.join()
    a.close()
    attempt(obs, "rollback", conn.rollback)
    attempt(obs, "after", lambda: one(conn, "SELECT 1"))


def idle_in_transaction_past_timeout(obs, conn, one):
    """Case 8: idle in a transaction past the timeout; the next statement raises IdleInTransactionSessionTimeout."""
    if SERVER_IDLE_TIMEOUT:
        conn.autocommit = True
        one(conn, "SELECT set_config('idle_in_transaction_session_timeout', %s, false)", (SERVER_IDLE_TIMEOUT,))
        conn.autocommit = False
    one(conn, "SELECT 1")
    # The idling is the behaviour under test: the timeout is 1s on either side.
    time.sleep(2.5)
    attempt(obs, "statement", lambda: one(conn, "SELECT 1"))


def run(cases):
    name = sys.argv[1]
    obs = {}
    try:
        cases[name](obs)
    except Exception as e:  # the case itself broke: report it instead of a traceback alone
        obs["_crash"] = err(e) + " " + message(e)
        traceback.print_exc()
    print(json.dumps(obs, sort_keys=True, default=str), flush=True)
