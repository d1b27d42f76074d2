"""psycopg 3 (libpq) cases; see drivercase.py for the contract."""

import psycopg

import drivercase
from drivercase import ADMIN_DSN, DSN, TAG, attempt, run

TABLE = "drv_p3_" + TAG


def admin():
    return psycopg.connect(ADMIN_DSN, autocommit=True)


def one(conn, sql, args=None, prepare=None):
    return conn.execute(sql, args, prepare=prepare).fetchone()[0]


def setup_table(sql="CREATE TABLE %s (id int)"):
    with psycopg.connect(DSN, autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS " + TABLE)
        c.execute(sql % TABLE)


def drop_table():
    with admin() as a:
        a.execute("DROP TABLE IF EXISTS " + TABLE)


def terminate(pid):
    with admin() as a:
        drivercase.terminate(one, a, pid)


def smoke(obs):
    setup_table()
    with psycopg.connect(DSN) as conn:
        obs["select"] = one(conn, "SELECT 1")
        obs["param"] = one(conn, "SELECT %s::int + 1", (41,))
        obs["param_prepared"] = one(conn, "SELECT %s::int + 2", (40,), prepare=True)
        conn.execute("INSERT INTO " + TABLE + " VALUES (%s), (%s)", (1, 2))
        conn.commit()
        attempt(obs, "error", lambda: one(conn, "SELECT 1/0"))
        attempt(obs, "in_failed_tx", lambda: one(conn, "SELECT 1"))
        conn.rollback()
        obs["count_after_recovery"] = one(conn, "SELECT count(*) FROM " + TABLE)
        conn.commit()
    drop_table()


def lost_transaction(obs, end):
    setup_table()
    conn = psycopg.connect(DSN)
    conn.execute("INSERT INTO " + TABLE + " VALUES (1)")
    terminate(one(conn, "SELECT pg_backend_pid()"))
    attempt(obs, end, getattr(conn, end))
    obs["closed"] = conn.closed

    def next_transaction():
        conn.execute("INSERT INTO " + TABLE + " VALUES (2)")
        conn.commit()
    attempt(obs, "next_transaction", next_transaction)
    with admin() as a:
        obs["rows"] = one(a, "SELECT array_agg(id ORDER BY id)::text FROM " + TABLE)
    drop_table()


def lost_commit(obs):
    lost_transaction(obs, "commit")


def lost_rollback(obs):
    lost_transaction(obs, "rollback")


def lost_commit_pipeline(obs):
    """Case 1 in pipeline mode (the extended protocol, COMMIT pipelined with the statement before it)."""
    setup_table()
    conn = psycopg.connect(DSN)
    conn.execute("INSERT INTO " + TABLE + " VALUES (1)")
    terminate(one(conn, "SELECT pg_backend_pid()"))

    def pipelined_commit():
        with conn.pipeline():
            conn.execute("INSERT INTO " + TABLE + " VALUES (%s)", (3,))
            conn.commit()
    attempt(obs, "commit", pipelined_commit)
    obs["closed"] = conn.closed

    def next_transaction():
        with conn.pipeline():
            conn.execute("INSERT INTO " + TABLE + " VALUES (%s)", (2,))
        conn.commit()
    attempt(obs, "next_transaction", next_transaction)
    with admin() as a:
        obs["rows"] = one(a, "SELECT array_agg(id ORDER BY id)::text FROM " + TABLE)
    drop_table()


def terminated_statement(obs):
    drivercase.terminated_statement(obs, psycopg.connect(DSN), one, admin)


def terminated_during_query(obs):
    drivercase.terminated_during_query(obs, psycopg.connect(DSN), one, admin)


def stale_prepared(obs):
    """Case 2: a prepared statement after ALTER TABLE: a fresh prepare sees the new type; the old one fails."""
    setup_table("CREATE TABLE %s (d date)")
    with psycopg.connect(DSN, autocommit=True) as c:
        c.execute("INSERT INTO " + TABLE + " VALUES ('2024-05-06')")
    a = psycopg.connect(DSN, autocommit=True)
    sql = "SELECT d FROM " + TABLE
    obs["a_before"] = repr(one(a, sql, prepare=True))
    with admin() as ad:
        ad.execute("ALTER TABLE %s ALTER COLUMN d TYPE time USING '12:34:56'::time" % TABLE)
    b = psycopg.connect(DSN, autocommit=True)
    attempt(obs, "b_fresh", lambda: obs.__setitem__("b_value", repr(one(b, sql, prepare=True))))
    attempt(obs, "a_again", lambda: obs.__setitem__("a_value", repr(one(a, sql, prepare=True))))
    attempt(obs, "a_retry", lambda: obs.__setitem__("a_retry_value", repr(one(a, sql, prepare=True))))
    a.close()
    b.close()
    drop_table()


def idle_timeout(obs):
    drivercase.idle_in_transaction_past_timeout(obs, psycopg.connect(DSN), one)


def settings_do_not_leak(obs):
    setup_table()
    a = psycopg.connect(DSN, autocommit=True)
    b = psycopg.connect(DSN, autocommit=True)
    a.execute("SET default_transaction_read_only = on")
    a.execute("SET standard_conforming_strings = off")
    obs["b_read_only"] = one(b, "SHOW default_transaction_read_only")
    obs["b_standard_conforming_strings"] = one(b, "SHOW standard_conforming_strings")
    attempt(obs, "b_insert", lambda: b.execute("INSERT INTO " + TABLE + " VALUES (1)"))
    obs["a_read_only"] = one(a, "SHOW default_transaction_read_only")
    obs["a_standard_conforming_strings"] = one(a, "SHOW standard_conforming_strings")
    attempt(obs, "a_insert", lambda: a.execute("INSERT INTO " + TABLE + " VALUES (2)"))
    a.close()
    b.close()
    drop_table()


def temp_table(obs):
    a = psycopg.connect(DSN, autocommit=True)
    b = psycopg.connect(DSN, autocommit=True)
    a.execute("CREATE TABLE pg_temp.tmp_%s (i int)" % TAG)
    obs["b_sees"] = one(b, "SELECT to_regclass('pg_temp.tmp_%s') IS NOT NULL" % TAG)
    obs["a_sees"] = one(a, "SELECT to_regclass('pg_temp.tmp_%s') IS NOT NULL" % TAG)
    a.close()
    b.close()


def client_encoding(obs):
    # A client before it leaves a backend in the pool, so the one under test may be served without a new login.
    psycopg.connect(DSN).close()
    with psycopg.connect(DSN, client_encoding="utf8") as conn:
        obs["encoding"] = conn.info.encoding
        status = conn.info.parameter_status("client_encoding")
        obs["parameter_status"] = status.decode() if isinstance(status, bytes) else status
        obs["show"] = one(conn, "SHOW client_encoding")


def listen(obs):
    conn = psycopg.connect(DSN, autocommit=True)
    channel = "ch_" + TAG
    conn.execute("LISTEN " + channel)
    received = []
    with admin() as notifier:
        for payload in ("one", "two"):
            notifier.execute("SELECT pg_notify(%s, %s)", (channel, payload))
            for n in conn.notifies(timeout=3, stop_after=1):
                received.append(n.payload)
            one(conn, "SELECT 1")
    obs["received"] = received
    conn.close()


run({f.__name__: f for f in (smoke, lost_commit, lost_rollback, lost_commit_pipeline, terminated_statement, terminated_during_query,
                             idle_timeout, stale_prepared, settings_do_not_leak, temp_table, client_encoding, listen)})
