"""asyncpg cases (its own protocol implementation; prepares every statement); see drivercase.py."""
import asyncio

import asyncpg

from drivercase import ADMIN_DSN, DSN, TAG, err, message, run

TABLE = "drv_ap_" + TAG


async def setup_table(sql="CREATE TABLE %s (id int)"):
    c = await asyncpg.connect(DSN)
    await c.execute("DROP TABLE IF EXISTS " + TABLE)
    await c.execute(sql % TABLE)
    await c.close()


async def drop_table():
    a = await asyncpg.connect(ADMIN_DSN)
    await a.execute("DROP TABLE IF EXISTS " + TABLE)
    await a.close()


async def until(predicate, what):
    for _ in range(200):
        if await predicate():
            return
        await asyncio.sleep(0.025)
    raise AssertionError("timed out waiting for " + what)


async def terminate(pid, sleeping=False):
    a = await asyncpg.connect(ADMIN_DSN)
    if sleeping:
        await until(lambda: a.fetchval("SELECT count(*) = 1 FROM pg_stat_activity WHERE pid = $1 "
                                       "AND wait_event = 'PgSleep'", pid), "backend to sleep")
    await a.fetchval("SELECT pg_terminate_backend($1)", pid)
    await until(lambda: a.fetchval("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $1", pid),
                "backend to exit")
    await a.close()


async def attempt(obs, key, call):
    """Runs call() (which returns an awaitable): asyncpg raises some errors before the awaitable exists."""
    try:
        await call()
        obs[key] = "ok"
    except Exception as e:
        obs[key] = err(e)
        obs["_" + key] = message(e)


async def smoke(obs):
    await setup_table()
    conn = await asyncpg.connect(DSN)
    obs["select"] = await conn.fetchval("SELECT 1")
    obs["param"] = await conn.fetchval("SELECT $1::int + 1", 41)
    async with conn.transaction():
        await conn.executemany("INSERT INTO " + TABLE + " VALUES ($1)", [(1,), (2,)])
    tr = conn.transaction()
    await tr.start()
    await attempt(obs, "error", lambda: conn.fetchval("SELECT 1/0"))
    await attempt(obs, "in_failed_tx", lambda: conn.fetchval("SELECT 1"))
    await tr.rollback()
    obs["count_after_recovery"] = await conn.fetchval("SELECT count(*) FROM " + TABLE)
    await conn.close()
    await drop_table()


async def lost_transaction(obs, end):
    await setup_table()
    conn = await asyncpg.connect(DSN)
    tr = conn.transaction()
    await tr.start()
    await conn.execute("INSERT INTO " + TABLE + " VALUES (1)")
    await terminate(await conn.fetchval("SELECT pg_backend_pid()"))
    await attempt(obs, end, getattr(tr, end))
    obs["closed"] = conn.is_closed()

    async def next_transaction():
        async with conn.transaction():
            await conn.execute("INSERT INTO " + TABLE + " VALUES (2)")
    await attempt(obs, "next_transaction", next_transaction)
    a = await asyncpg.connect(ADMIN_DSN)
    obs["rows"] = await a.fetchval("SELECT array_agg(id ORDER BY id)::text FROM " + TABLE)
    await a.close()
    await drop_table()


async def lost_commit(obs):
    await lost_transaction(obs, "commit")


async def lost_rollback(obs):
    await lost_transaction(obs, "rollback")


async def terminated_during_query(obs):
    conn = await asyncpg.connect(DSN)
    tr = conn.transaction()
    await tr.start()
    pid = await conn.fetchval("SELECT pg_backend_pid()")
    killer = asyncio.ensure_future(terminate(pid, sleeping=True))
    await attempt(obs, "statement", lambda: conn.fetchval("SELECT pg_sleep(30)"))
    await killer
    await attempt(obs, "rollback", lambda: tr.rollback())
    await attempt(obs, "after", lambda: conn.fetchval("SELECT 1"))


async def stale_prepared(obs):
    """Case 2: asyncpg prepares every statement and re-prepares on InvalidCachedStatementError."""
    await setup_table("CREATE TABLE %s (d date)")
    a = await asyncpg.connect(DSN)
    await a.execute("INSERT INTO " + TABLE + " VALUES ('2024-05-06')")
    sql = "SELECT d FROM " + TABLE
    obs["a_before"] = repr(await a.fetchval(sql))
    ad = await asyncpg.connect(ADMIN_DSN)
    await ad.execute("ALTER TABLE %s ALTER COLUMN d TYPE time USING '12:34:56'::time" % TABLE)
    await ad.close()
    b = await asyncpg.connect(DSN)

    async def fetch(conn, key):
        obs[key] = repr(await conn.fetchval(sql))
    await attempt(obs, "b_fresh", lambda: fetch(b, "b_value"))
    await attempt(obs, "a_again", lambda: fetch(a, "a_value"))
    await a.close()
    await b.close()
    await drop_table()


async def settings_do_not_leak(obs):
    await setup_table()
    a = await asyncpg.connect(DSN)
    b = await asyncpg.connect(DSN)
    await a.execute("SET default_transaction_read_only = on")
    await a.execute("SET standard_conforming_strings = off")
    obs["b_read_only"] = await b.fetchval("SHOW default_transaction_read_only")
    obs["b_standard_conforming_strings"] = await b.fetchval("SHOW standard_conforming_strings")
    await attempt(obs, "b_insert", lambda: b.execute("INSERT INTO " + TABLE + " VALUES (1)"))
    obs["a_read_only"] = await a.fetchval("SHOW default_transaction_read_only")
    obs["a_standard_conforming_strings"] = await a.fetchval("SHOW standard_conforming_strings")
    await attempt(obs, "a_insert", lambda: a.execute("INSERT INTO " + TABLE + " VALUES (2)"))
    await a.close()
    await b.close()
    await drop_table()


async def temp_table(obs):
    a = await asyncpg.connect(DSN)
    b = await asyncpg.connect(DSN)
    await a.execute("CREATE TABLE pg_temp.tmp_%s (i int)" % TAG)
    obs["b_sees"] = await b.fetchval("SELECT to_regclass('pg_temp.tmp_%s') IS NOT NULL" % TAG)
    obs["a_sees"] = await a.fetchval("SELECT to_regclass('pg_temp.tmp_%s') IS NOT NULL" % TAG)
    await a.close()
    await b.close()


async def listen(obs):
    conn = await asyncpg.connect(DSN)
    channel = "ch_" + TAG
    queue = asyncio.Queue()
    await conn.add_listener(channel, lambda *args: queue.put_nowait(args[3]))
    notifier = await asyncpg.connect(ADMIN_DSN)
    received = []
    for payload in ("one", "two"):
        await notifier.execute("SELECT pg_notify($1, $2)", channel, payload)
        try:
            received.append(await asyncio.wait_for(queue.get(), 3))
        except asyncio.TimeoutError:
            pass
        await conn.fetchval("SELECT 1")
    obs["received"] = received
    await notifier.close()
    await conn.close()


def sync(coro_fn):
    def case(obs):
        asyncio.run(asyncio.wait_for(coro_fn(obs), 60))
    return case


run({f.__name__: sync(f) for f in (smoke, lost_commit, lost_rollback, terminated_during_query, stale_prepared,
                                  settings_do_not_leak, temp_table, listen)})
