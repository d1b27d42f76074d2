"""psycopg2 (libpq) cases; see drivercase.py for the contract."""
import random
import select
import threading
import time

import psycopg2
import psycopg2.extensions
import psycopg2.pool

import drivercase
from drivercase import ADMIN_DSN, DSN, TAG, attempt, err, message, run

TABLE = "drv_p2_" + TAG


def admin():
    c = psycopg2.connect(ADMIN_DSN)
    c.autocommit = True
    return c


def one(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0]


def setup_table(sql="CREATE TABLE %s (id int)"):
    c = psycopg2.connect(DSN)
    c.autocommit = True
    with c.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS " + TABLE)
        cur.execute(sql % TABLE)
    c.close()


def drop_table():
    with admin() as a, a.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS " + TABLE)


def terminate(pid):
    a = admin()
    drivercase.terminate(one, a, pid)
    a.close()


def smoke(obs):
    setup_table()
    conn = psycopg2.connect(DSN)
    obs["select"] = one(conn, "SELECT 1")
    obs["param"] = one(conn, "SELECT %s::int + 1", (41,))
    with conn.cursor() as cur:
        cur.execute("INSERT INTO " + TABLE + " VALUES (%s), (%s)", (1, 2))
    conn.commit()
    attempt(obs, "error", lambda: one(conn, "SELECT 1/0"))
    attempt(obs, "in_failed_tx", lambda: one(conn, "SELECT 1"))
    conn.rollback()
    obs["count_after_recovery"] = one(conn, "SELECT count(*) FROM " + TABLE)
    conn.commit()
    conn.close()
    drop_table()


def lost_transaction(obs, end):
    """Case 1: the backend of a client idle in its transaction is terminated; the client then ends it."""
    setup_table()
    conn = psycopg2.connect(DSN)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO " + TABLE + " VALUES (1)")
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    terminate(pid)
    attempt(obs, end, getattr(conn, end))
    obs["closed"] = conn.closed != 0

    def next_transaction():
        with conn.cursor() as cur:
            cur.execute("INSERT INTO " + TABLE + " VALUES (2)")
        conn.commit()
    attempt(obs, "next_transaction", next_transaction)
    obs["rows"] = one(admin(), "SELECT array_agg(id ORDER BY id)::text FROM " + TABLE)
    drop_table()


def lost_commit(obs):
    lost_transaction(obs, "commit")


def lost_rollback(obs):
    lost_transaction(obs, "rollback")


def lost_commit_pool(obs):
    """Case 1 as the troubleshooting guide's app does it: ThreadedConnectionPool, rollback on error, putconn."""
    setup_table()
    pool = psycopg2.pool.ThreadedConnectionPool(1, 1, DSN)
    outcomes = []
    for i in range(3):
        conn = pool.getconn()
        try:
            with conn.cursor() as cur:
                cur.execute("INSERT INTO " + TABLE + " VALUES (%s)", (i,))
                cur.execute("SELECT pg_backend_pid()")
                pid = cur.fetchone()[0]
            if i == 0:
                terminate(pid)
            conn.commit()
            outcomes.append("ok")
        except Exception as e:
            outcomes.append(err(e))
            obs.setdefault("_errors", []).append(message(e))
            try:
                conn.rollback()
            except Exception:
                pass
        finally:
            pool.putconn(conn)
    pool.closeall()
    obs["transactions"] = outcomes
    obs["rows"] = one(admin(), "SELECT array_agg(id ORDER BY id)::text FROM " + TABLE)
    drop_table()


def terminated_statement(obs):
    drivercase.terminated_statement(obs, psycopg2.connect(DSN), one, admin)


def terminated_during_query(obs):
    drivercase.terminated_during_query(obs, psycopg2.connect(DSN), one, admin)


def idle_timeout(obs):
    drivercase.idle_in_transaction_past_timeout(obs, psycopg2.connect(DSN), one)


def settings_do_not_leak(obs):
    """Case 3: a session setting of connection A never reaches connection B (they may share a backend)."""
    setup_table()
    a = psycopg2.connect(DSN)
    a.autocommit = True
    b = psycopg2.connect(DSN)
    b.autocommit = True
    one(a, "SELECT 1 FROM (SELECT set_config('application_name', 'A', false)) s")
    with a.cursor() as cur:
        cur.execute("SET default_transaction_read_only = on")
        cur.execute("SET standard_conforming_strings = off")
    obs["b_read_only"] = one(b, "SHOW default_transaction_read_only")
    obs["b_standard_conforming_strings"] = one(b, "SHOW standard_conforming_strings")
    attempt(obs, "b_insert", lambda: b.cursor().execute("INSERT INTO " + TABLE + " VALUES (1)"))
    obs["a_read_only"] = one(a, "SHOW default_transaction_read_only")
    obs["a_standard_conforming_strings"] = one(a, "SHOW standard_conforming_strings")
    attempt(obs, "a_insert", lambda: a.cursor().execute("INSERT INTO " + TABLE + " VALUES (2)"))
    a.close()
    b.close()
    drop_table()


def temp_table(obs):
    """Case 4: CREATE TABLE pg_temp.x in A; B does not see it."""
    a = psycopg2.connect(DSN)
    a.autocommit = True
    b = psycopg2.connect(DSN)
    b.autocommit = True
    with a.cursor() as cur:
        cur.execute("CREATE TABLE pg_temp.tmp_%s (i int)" % TAG)
    obs["b_sees"] = one(b, "SELECT to_regclass('pg_temp.tmp_%s') IS NOT NULL" % TAG)
    obs["a_sees"] = one(a, "SELECT to_regclass('pg_temp.tmp_%s') IS NOT NULL" % TAG)
    a.close()
    b.close()


def client_encoding(obs):
    """Case 5: the server's spelling of client_encoding, whatever the client asked with."""
    # A client before it leaves a backend in the pool, so the one under test may be served without a new login.
    psycopg2.connect(DSN).close()
    conn = psycopg2.connect(DSN, client_encoding="utf8")
    obs["encoding"] = conn.encoding
    obs["parameter_status"] = conn.get_parameter_status("client_encoding")
    obs["show"] = one(conn, "SHOW client_encoding")
    conn.close()


def cancel(obs):
    """Case 6: once conn.cancel() has returned, the cancel has reached the server: it never hits the next query."""
    conn = psycopg2.connect(DSN)
    conn.autocommit = True
    rng = random.Random(TAG)
    first, second = [], []
    for _ in range(20):
        # The cancel lands at random around the end of the first query: sometimes during it, sometimes after.
        t = threading.Timer(rng.uniform(0.0, 0.04), conn.cancel)
        t.start()
        try:
            one(conn, "SELECT pg_sleep(0.02)")
            first.append("ok")
        except psycopg2.Error as e:
            first.append(err(e))
        t.join()
        try:
            one(conn, "SELECT pg_sleep(0.05)")
            second.append("ok")
        except psycopg2.Error as e:
            second.append(err(e))
    obs["next_query_cancelled"] = sum(1 for s in second if s != "ok")
    obs["_first"] = sorted(set(first))
    obs["_second"] = second
    conn.close()


def listen(obs):
    """Case 11: a LISTENing client keeps getting notifications between its transactions."""
    conn = psycopg2.connect(DSN)
    conn.autocommit = True
    channel = "ch_" + TAG
    with conn.cursor() as cur:
        cur.execute("LISTEN " + channel)
    notifier = admin()
    received = []
    for payload in ("one", "two"):
        with notifier.cursor() as cur:
            cur.execute("SELECT pg_notify(%s, %s)", (channel, payload))
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and len(received) < (1 if payload == "one" else 2):
            if select.select([conn], [], [], 0.2)[0]:
                conn.poll()
                while conn.notifies:
                    received.append(conn.notifies.pop(0).payload)
        # Between notifications the listener runs a transaction of its own, as an app would.
        one(conn, "SELECT 1")
    obs["received"] = received
    conn.close()
    notifier.close()


def replication(obs):
    """Case 10: replication connections pass through: IDENTIFY_SYSTEM (replication=database), then a physical
    stream that carries the WAL of a write made after it started."""
    import psycopg2.extras
    conn = psycopg2.connect(DSN, connection_factory=psycopg2.extras.LogicalReplicationConnection)
    cur = conn.cursor()
    cur.execute("IDENTIFY_SYSTEM")
    system_id, timeline, _, dbname = cur.fetchone()
    obs["identify_system"] = [system_id, timeline, dbname]
    conn.close()
    stream = psycopg2.connect(DSN, connection_factory=psycopg2.extras.PhysicalReplicationConnection)
    scur = stream.cursor()
    a = admin()
    start = one(a, "SELECT pg_current_wal_flush_lsn()")
    scur.start_replication(start_lsn=start)
    with a.cursor() as c:
        c.execute("DROP TABLE IF EXISTS " + TABLE)
        c.execute("CREATE TABLE %s (i int)" % TABLE)
    message = None
    deadline = time.monotonic() + 10
    while message is None and time.monotonic() < deadline:
        message = scur.read_message()
        if message is None:
            select.select([stream], [], [], 0.5)
    obs["streamed_wal"] = message is not None and len(message.payload) > 0
    stream.close()
    drop_table()


run({f.__name__: f for f in (smoke, lost_commit, lost_rollback, lost_commit_pool, terminated_statement, terminated_during_query,
                             idle_timeout, settings_do_not_leak, temp_table, client_encoding, cancel, listen,
                             replication)})
