"""Issue 13, item 2: what asyncpg sees of a prepared statement across ALTER TABLE ... TYPE.

Usage: asyncpg_date_to_time.py PORT DIRECT_PORT PASSWORD. Prints one line per observation; DDL goes to
PostgreSQL directly (as another application's migration would).
"""
import asyncio
import datetime
import sys

import asyncpg


async def main(port, direct_port, password):
    def connect(p):
        return asyncpg.connect(host='127.0.0.1', port=p, user='app', password=password, database='appdb')

    ddl = await connect(direct_port)
    await ddl.execute('DROP TABLE IF EXISTS stale_asyncpg')
    await ddl.execute('CREATE TABLE stale_asyncpg (id int, d date)')
    await ddl.execute("INSERT INTO stale_asyncpg VALUES (1, '2024-05-06')")
    query = 'SELECT d FROM stale_asyncpg WHERE id = $1'
    by_value = 'SELECT id FROM stale_asyncpg WHERE d = $1'

    a = await connect(port)
    print('A', repr(await a.fetchval(query, 1)))
    a_stmt = await a.prepare(by_value)
    print('A params', [t.name for t in a_stmt.get_parameters()])
    # asyncpg's prepare() leaves the extended-query batch open (Flush, no Sync) until the next command.
    print('A', repr(await a_stmt.fetchval(datetime.date(2024, 5, 6))))

    await ddl.execute("ALTER TABLE stale_asyncpg ALTER d TYPE time USING time '12:34:56'")

    b = await connect(port)
    stmt = await b.prepare(query)
    print('B columns', [(attr.name, attr.type.name) for attr in stmt.get_attributes()])
    print('B', repr(await stmt.fetchval(1)))
    by_value_stmt = await b.prepare(by_value)
    print('B params', [t.name for t in by_value_stmt.get_parameters()])
    print('B', repr(await by_value_stmt.fetchval(datetime.time(12, 34, 56))))
    # A's cached statement is outdated: asyncpg re-prepares it when told so, as it is directly.
    print('A', repr(await a.fetchval(query, 1)))
    print('A', repr(await a.fetchval(query, 1)))
    for c in (a, b, ddl):
        await c.close()


asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]))
