"""pg8000 (pure-Python protocol implementation) cases; see drivercase.py for the contract."""
import pg8000.dbapi

import drivercase
from drivercase import ADMIN_DSN, DSN, TAG, attempt, parts, run

TABLE = "drv_p8_" + TAG


def connect(dsn=DSN, autocommit=False):
    c = pg8000.dbapi.connect(timeout=30, **parts(dsn))
    c.autocommit = autocommit
    return c


def one(conn, sql, args=()):
    cur = conn.cursor()
    cur.execute(sql, args)
    return cur.fetchone()[0]


def execute(conn, sql, args=()):
    conn.cursor().execute(sql, args)


def setup_table():
    c = connect(autocommit=True)
    execute(c, "DROP TABLE IF EXISTS " + TABLE)
    execute(c, "CREATE TABLE %s (id int)" % TABLE)
    c.close()


def drop_table():
    a = connect(ADMIN_DSN, autocommit=True)
    execute(a, "DROP TABLE IF EXISTS " + TABLE)
    a.close()


def smoke(obs):
    setup_table()
    conn = connect()
    obs["select"] = one(conn, "SELECT 1")
    obs["param"] = one(conn, "SELECT %s::int + 1", (41,))
    execute(conn, "INSERT INTO " + TABLE + " VALUES (%s), (%s)", (1, 2))
    conn.commit()
    attempt(obs, "error", lambda: one(conn, "SELECT 1/0"))
    attempt(obs, "in_failed_tx", lambda: one(conn, "SELECT 1"))
    conn.rollback()
    obs["count_after_recovery"] = one(conn, "SELECT count(*) FROM " + TABLE)
    conn.commit()
    conn.close()
    drop_table()


def lost_transaction(obs, end):
    setup_table()
    conn = connect()
    execute(conn, "INSERT INTO " + TABLE + " VALUES (1)")
    pid = one(conn, "SELECT pg_backend_pid()")
    a = connect(ADMIN_DSN, autocommit=True)
    drivercase.terminate(one, a, pid)
    attempt(obs, end, getattr(conn, end))

    def next_transaction():
        execute(conn, "INSERT INTO " + TABLE + " VALUES (2)")
        conn.commit()
    attempt(obs, "next_transaction", next_transaction)
    obs["rows"] = one(a, "SELECT array_agg(id ORDER BY id)::text FROM " + TABLE)
    a.close()
    drop_table()


def lost_commit(obs):
    lost_transaction(obs, "commit")


def lost_rollback(obs):
    lost_transaction(obs, "rollback")


def settings_do_not_leak(obs):
    setup_table()
    a = connect(autocommit=True)
    b = connect(autocommit=True)
    execute(a, "SET default_transaction_read_only = on")
    execute(a, "SET standard_conforming_strings = off")
    obs["b_read_only"] = one(b, "SHOW default_transaction_read_only")
    obs["b_standard_conforming_strings"] = one(b, "SHOW standard_conforming_strings")
    attempt(obs, "b_insert", lambda: execute(b, "INSERT INTO " + TABLE + " VALUES (1)"))
    obs["a_read_only"] = one(a, "SHOW default_transaction_read_only")
    obs["a_standard_conforming_strings"] = one(a, "SHOW standard_conforming_strings")
    attempt(obs, "a_insert", lambda: execute(a, "INSERT INTO " + TABLE + " VALUES (2)"))
    a.close()
    b.close()
    drop_table()


def temp_table(obs):
    a = connect(autocommit=True)
    b = connect(autocommit=True)
    execute(a, "CREATE TABLE pg_temp.tmp_%s (i int)" % TAG)
    obs["b_sees"] = one(b, "SELECT to_regclass('pg_temp.tmp_%s') IS NOT NULL" % TAG)
    obs["a_sees"] = one(a, "SELECT to_regclass('pg_temp.tmp_%s') IS NOT NULL" % TAG)
    a.close()
    b.close()


run({f.__name__: f for f in (smoke, lost_commit, lost_rollback, settings_do_not_leak, temp_table)})
