// node-postgres (pg) cases; the same contract as drivercase.py: argv[2] is the case, DSN and ADMIN_DSN come
// from the environment, and one JSON line of observations goes to stdout.
'use strict';
const { Client } = require('pg');

const DSN = process.env.DSN;
const ADMIN_DSN = process.env.ADMIN_DSN;
const TAG = process.env.TAG || 't';
const TABLE = 'drv_nd_' + TAG;

function err(e) {
  // node-postgres has one error class; the SQLSTATE is the part an application can test.
  return 'ERR:' + (e.code && /^[0-9A-Z]{5}$/.test(e.code) ? 'DatabaseError' : 'Error') + '/' + e.constructor.name
    + ':' + (e.code && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : '');
}

async function attempt(obs, key, fn) {
  try {
    await fn();
    obs[key] = 'ok';
  } catch (e) {
    obs[key] = err(e);
    obs['_' + key] = String(e.message).split('\n')[0];
  }
}

async function connect(dsn = DSN, obs = null) {
  const c = new Client({ connectionString: dsn });
  // A connection lost while idle is reported as an 'error' event; unhandled it would end the process.
  c.on('error', (e) => { if (obs) obs['_idle_error'] = String(e.message); });
  await c.connect();
  return c;
}

async function one(c, sql, params) {
  const r = await c.query({ text: sql, values: params, rowMode: 'array' });
  return r.rows[0][0];
}

async function until(fn, what) {
  for (let i = 0; i < 200; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('timed out waiting for ' + what);
}

async function setupTable(ddl = 'CREATE TABLE %s (id int)') {
  const c = await connect();
  await c.query('DROP TABLE IF EXISTS ' + TABLE);
  await c.query(ddl.replace('%s', TABLE));
  await c.end();
}

async function dropTable() {
  const a = await connect(ADMIN_DSN);
  await a.query('DROP TABLE IF EXISTS ' + TABLE);
  await a.end();
}

async function terminate(pid, sleeping = false) {
  const a = await connect(ADMIN_DSN);
  if (sleeping) {
    await until(async () => (await one(a, "SELECT count(*)::int FROM pg_stat_activity WHERE pid = $1 "
      + "AND wait_event = 'PgSleep'", [pid])) === 1, 'backend to sleep');
  }
  await a.query('SELECT pg_terminate_backend($1)', [pid]);
  await until(async () => (await one(a, 'SELECT count(*)::int FROM pg_stat_activity WHERE pid = $1', [pid])) === 0,
    'backend to exit');
  await a.end();
}

const cases = {
  async smoke(obs) {
    await setupTable();
    const c = await connect();
    obs.select = await one(c, 'SELECT 1');
    obs.param = await one(c, 'SELECT $1::int + 1', [41]);
    await c.query('BEGIN');
    await c.query('INSERT INTO ' + TABLE + ' VALUES ($1), ($2)', [1, 2]);
    await c.query('COMMIT');
    await c.query('BEGIN');
    await attempt(obs, 'error', () => c.query('SELECT 1/0'));
    await attempt(obs, 'in_failed_tx', () => c.query('SELECT 1'));
    await c.query('ROLLBACK');
    obs.count_after_recovery = await one(c, 'SELECT count(*)::int FROM ' + TABLE);
    await c.end();
    await dropTable();
  },

  async lost_commit(obs) { await lostTransaction(obs, 'COMMIT'); },
  async lost_rollback(obs) { await lostTransaction(obs, 'ROLLBACK'); },

  async terminated_during_query(obs) {
    const c = await connect(DSN, obs);
    await c.query('BEGIN');
    const pid = await one(c, 'SELECT pg_backend_pid()');
    const killer = terminate(pid, true);
    await attempt(obs, 'statement', () => c.query('SELECT pg_sleep(30)'));
    await killer;
    await attempt(obs, 'rollback', () => c.query('ROLLBACK'));
    await attempt(obs, 'after', () => c.query('SELECT 1'));
    c.end().catch(() => {});
  },

  async settings_do_not_leak(obs) {
    await setupTable();
    const a = await connect();
    const b = await connect();
    await a.query('SET default_transaction_read_only = on');
    await a.query('SET standard_conforming_strings = off');
    obs.b_read_only = await one(b, 'SHOW default_transaction_read_only');
    obs.b_standard_conforming_strings = await one(b, 'SHOW standard_conforming_strings');
    await attempt(obs, 'b_insert', () => b.query('INSERT INTO ' + TABLE + ' VALUES (1)'));
    obs.a_read_only = await one(a, 'SHOW default_transaction_read_only');
    obs.a_standard_conforming_strings = await one(a, 'SHOW standard_conforming_strings');
    await attempt(obs, 'a_insert', () => a.query('INSERT INTO ' + TABLE + ' VALUES (2)'));
    await a.end();
    await b.end();
    await dropTable();
  },

  async temp_table(obs) {
    const a = await connect();
    const b = await connect();
    await a.query('CREATE TABLE pg_temp.tmp_' + TAG + ' (i int)');
    obs.b_sees = await one(b, "SELECT to_regclass('pg_temp.tmp_" + TAG + "') IS NOT NULL");
    obs.a_sees = await one(a, "SELECT to_regclass('pg_temp.tmp_" + TAG + "') IS NOT NULL");
    await a.end();
    await b.end();
  },

  async client_encoding(obs) {
    // A client before it leaves a backend in the pool, so the one under test may be served without a new login.
    await (await connect()).end();
    const c = new Client({ connectionString: DSN, client_encoding: 'utf8' });
    const status = {};
    c.connection.on('parameterStatus', (m) => { status[m.parameterName] = m.parameterValue; });
    await c.connect();
    obs.parameter_status = status.client_encoding;
    obs.show = await one(c, 'SHOW client_encoding');
    await c.end();
  },

  async quick_disconnect(obs) {
    // node-postgres' own test: end() right after connect() started, before any startup packet went out.
    const errors = [];
    const c = new Client({ connectionString: DSN });
    c.on('error', (e) => errors.push('error event: ' + e.message));
    let connectOutcome = 'pending';
    const connecting = c.connect().then(() => { connectOutcome = 'connected'; },
      (e) => { connectOutcome = 'connect rejected: ' + e.message; });
    obs.end = await c.end().then(() => 'ended', (e) => 'end rejected: ' + e.message);
    // Directly, PostgreSQL closes without a word and connect() never settles; a bounded wait tells that apart
    // from an error arriving later.
    await Promise.race([connecting, new Promise((r) => setTimeout(r, 1000))]);
    obs.connect = connectOutcome;
    obs.error_events = errors;
  },

  async listen(obs) {
    const c = await connect();
    const channel = 'ch_' + TAG;
    const received = [];
    let wake = null;
    c.on('notification', (n) => { received.push(n.payload); if (wake) wake(); });
    await c.query('LISTEN ' + channel);
    const notifier = await connect(ADMIN_DSN);
    for (const [i, payload] of ['one', 'two'].entries()) {
      await notifier.query('SELECT pg_notify($1, $2)', [channel, payload]);
      if (received.length <= i) {
        await new Promise((resolve) => { wake = resolve; setTimeout(resolve, 3000); });
      }
      await c.query('SELECT 1');
    }
    obs.received = received;
    await notifier.end();
    await c.end();
  },
};

async function lostTransaction(obs, end) {
  await setupTable();
  const c = await connect(DSN, obs);
  await c.query('BEGIN');
  await c.query('INSERT INTO ' + TABLE + ' VALUES (1)');
  await terminate(await one(c, 'SELECT pg_backend_pid()'));
  await attempt(obs, end.toLowerCase(), () => c.query(end));
  await attempt(obs, 'next_transaction', async () => {
    await c.query('BEGIN');
    await c.query('INSERT INTO ' + TABLE + ' VALUES (2)');
    await c.query('COMMIT');
  });
  const a = await connect(ADMIN_DSN);
  obs.rows = await one(a, 'SELECT array_agg(id ORDER BY id)::text FROM ' + TABLE);
  await a.end();
  c.end().catch(() => {});
  await dropTable();
}

(async () => {
  const obs = {};
  const timer = setTimeout(() => { obs._crash = 'case timed out'; finish(obs, 1); }, 60000);
  try {
    await cases[process.argv[2]](obs);
  } catch (e) {
    obs._crash = err(e) + ' ' + e.message;
    console.error(e);
  }
  clearTimeout(timer);
  finish(obs, 0);
})();

function finish(obs, code) {
  const sorted = {};
  for (const k of Object.keys(obs).sort()) sorted[k] = obs[k];
  process.stdout.write(JSON.stringify(sorted) + '\n', () => process.exit(code));
}
