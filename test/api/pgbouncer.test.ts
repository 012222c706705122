// README "Scaling": the API behind PgBouncer in transaction mode. The pool logs in through a
// PgBouncer of the test's own (fewer server connections than the API's pool, so every server
// connection serves many clients' transactions), the LISTEN connection goes to PostgreSQL directly.
// A storm, mixed traffic and the history's channel and actor must come out as on a direct pool:
// nothing a transaction sets may be seen by the next one on the same server connection.
// Needs Debian's pgbouncer (.ci/run installs it).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { EXAMPLE_INI, hasPgBouncer, iniSection, PGBOUNCER, pgBouncerVersion, startPgBouncer, tracksPreparedStatements, type TestPgBouncer } from '../support/pgbouncer';
import { createLogger } from '../../server/logger';
import { startApi, type RunningApi } from '../../server/server';
import { client, overlaps, tenant, testConfig, type Tenant } from './support';

if (!hasPgBouncer) console.warn(`${PGBOUNCER} is missing: the PgBouncer tests are SKIPPED (apt-get install pgbouncer)`);
const maybe = hasPgBouncer ? describe : describe.skip;

// Debian 12 ships PgBouncer 1.18, which cannot carry named prepared statements across server
// connections in transaction mode: there the API runs with DB_PREPARED_STATEMENTS=false, as
// README says; from 1.21 on, with them on and max_prepared_statements set.
const prepared = hasPgBouncer && tracksPreparedStatements(pgBouncerVersion());
const SERVER_CONNECTIONS = 4;
const PASSWORD = 'through-pgbouncer';

maybe(`the API through PgBouncer in transaction mode (prepared statements ${prepared ? 'on' : 'off: PgBouncer < 1.21'})`, () => {
  let db: TestDatabase;
  let role: string;
  let bouncer: TestPgBouncer;
  let running: RunningApi;
  let api: ReturnType<typeof client>;
  beforeAll(async () => {
    db = await freshDatabase();
    role = `nora_pgb_${randomBytes(4).toString('hex')}`;
    // Startup options do not pass through PgBouncer: the login role carries the API's settings.
    await db.pool.query(`create role ${role} login password '${PASSWORD}' in role ${db.apiRole}`);
    await db.pool.query(`alter role ${role} set statement_timeout = '10s'`);
    await db.pool.query(`alter role ${role} set timezone = 'UTC'`);
    bouncer = await startPgBouncer({
      databaseUrl: db.url,
      user: role,
      password: PASSWORD,
      poolSize: SERVER_CONNECTIONS,
      preparedStatements: prepared,
    });
    const direct = new URL(db.url);
    direct.username = role;
    direct.password = PASSWORD;
    const config = testConfig(db.url, {
      API_DATABASE_URL: bouncer.url,
      DATABASE_LISTEN_URL: direct.toString(),
      DB_POOL_SIZE: '12',
      DB_PREPARED_STATEMENTS: String(prepared),
      // Long enough that only the notification, not the TTL, can make a revoked key fail at once.
      API_KEY_CACHE_TTL_MS: '60000',
      PORT: '0',
    });
    running = await startApi(config, createLogger('silent'));
    api = client(running.server);
  }, 60_000);
  afterAll(async () => {
    await running?.close();
    await bouncer?.stop();
    await db?.drop();
    if (!role) return;
    const admin = new pg.Client({ connectionString: db.adminUrl });
    await admin.connect();
    await admin.query(`drop role if exists ${role}`);
    await admin.end();
  });

  test('the suite runs the settings of deploy/pgbouncer.ini, which pools by transaction', () => {
    expect(iniSection(readFileSync(EXAMPLE_INI, 'utf8'), 'pgbouncer').get('pool_mode')).toBe('transaction');
  });

  test('40 parallel bookings for one slot with 4 fitting tables: exactly 4 distinct tables, 36 refusals, no 5xx, no table held twice', async () => {
    const bistro = await tenant(db, { tables: [[2, 1], [2, 1], [2, 1], [2, 1], [6, 3]] });
    const date = await bistro.at('20:00');
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_v, i) => api.post(`/api/restaurants/${bistro.id}/reservations`, bistro.key).set('Idempotency-Key', `pgb-storm-${i}`).send({ date, guests: 2 })),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(4).fill(201), ...Array(36).fill(409)]);
    const tables = responses.filter((r) => r.status === 201).map((r) => r.body.data.table.id as number);
    expect(new Set(tables).size).toBe(4);
    expect(await overlaps(db.pool, bistro.id)).toEqual([]);
    const { rows } = await db.pool.query<{ n: number }>("select count(*)::int as n from booking.reservations where restaurant_id = $1 and status = 'confirmed'", [bistro.id]);
    expect(rows[0]!.n).toBe(4);
  });

  /** One guest's visit and one hold, each step a request; the even flows cancel and confirm, the odd ones sit down and release. */
  async function flow(t: Tenant, i: number): Promise<number[]> {
    const base = `/api/restaurants/${t.id}`;
    const hour = 12 + i;
    const statuses: number[] = [];
    const step = async (res: Promise<{ status: number; body: { data?: { reservation?: { id: number } } } }>) => {
      const done = await res;
      statuses.push(done.status);
      return done.body.data?.reservation?.id;
    };
    await step(api.get(`${base}/availability?date=${t.day}&guests=2&time=${hour}:00`, t.key));
    const id = await step(api.post(`${base}/reservations`, t.key).set('Idempotency-Key', `mixed-${i}`).send({ date: await t.at(`${hour}:00`), guests: 2 }));
    await step(api.patch(`${base}/reservations/${id}`, t.key).send({ date: await t.at(`${hour}:30`), guests: 3 }));
    await step(i % 2 === 0 ? api.post(`${base}/reservations/${id}/cancel`, t.key) : api.post(`${base}/reservations/${id}/status`, t.key).send({ status: 'seated' }));
    const held = await step(api.post(`${base}/holds`, t.key).send({ date: await t.at(`${hour}:00`), guests: 4 }));
    await step(i % 2 === 0 ? api.post(`${base}/holds/${held}/confirm`, t.key) : api.delete(`${base}/holds/${held}`, t.key));
    await step(api.get(`${base}/reservations/${id}/history`, t.key));
    return statuses;
  }

  test('mixed traffic of two tenants (availability, bookings, reschedules, cancellations, door statuses, holds): every answer as expected, exact counts, and each write in the history with channel api and its own key label', async () => {
    const labels = ['front-desk', 'assistant'];
    const tenants = await Promise.all(labels.map((label) => tenant(db, { tables: Array(8).fill([4, 1]) }, label)));
    const flows = 8;
    const half = flows / 2;
    const results = await Promise.all(tenants.flatMap((t) => Array.from({ length: flows }, (_v, i) => flow(t, i))));
    expect(results).toEqual(Array(2 * flows).fill([200, 201, 200, 200, 201, 200, 200]));
    for (const [i, t] of tenants.entries()) {
      const { rows: reservations } = await db.pool.query<{ status: string; n: number }>(
        'select status, count(*)::int as n from booking.reservations where restaurant_id = $1 group by status order by status',
        [t.id],
      );
      expect(reservations).toEqual([
        { status: 'cancelled', n: half },
        { status: 'confirmed', n: half },
        { status: 'released', n: half },
        { status: 'seated', n: half },
      ]);
      const { rows: events } = await db.pool.query<{ channel: string; actor: string; action: string; n: number }>(
        `select channel, actor, action, count(*)::int as n from booking.reservation_events where restaurant_id = $1
          group by channel, actor, action order by action`,
        [t.id],
      );
      const actions = { cancelled: half, confirmed: half, created: flows, held: flows, moved: flows, released: half, seated: half };
      expect(events).toEqual(Object.entries(actions).map(([action, n]) => ({ channel: 'api', actor: labels[i], action, n })));
    }
  });

  test('no transaction through PgBouncer sees what an earlier one set, and every server connection carries the login role and its settings', async () => {
    const bistro = await tenant(db);
    await Promise.all(
      Array.from({ length: 12 }, async (_v, i) =>
        api.post(`/api/restaurants/${bistro.id}/reservations`, bistro.key).send({ date: await bistro.at(`${12 + (i % 10)}:00`), guests: 2 }).expect(201),
      ),
    );
    // As many clients as server connections, each holding a transaction open, see every one.
    const clients = Array.from({ length: SERVER_CONNECTIONS }, () => new pg.Client({ connectionString: bouncer.url }));
    try {
      await Promise.all(clients.map((c) => c.connect()));
      await Promise.all(clients.map((c) => c.query('begin')));
      const seen = await Promise.all(
        clients.map(async (c) => {
          const { rows } = await c.query<{ pid: number; who: string; channel: string; actor: string; timezone: string; timeout: string }>(
            `select pg_backend_pid() as pid, current_user as who, current_setting('nora.channel', true) as channel,
                    current_setting('nora.actor', true) as actor, current_setting('timezone') as timezone,
                    current_setting('statement_timeout') as timeout`,
          );
          return rows[0]!;
        }),
      );
      await Promise.all(clients.map((c) => c.query('commit')));
      expect(new Set(seen.map((s) => s.pid)).size).toBe(SERVER_CONNECTIONS);
      for (const { channel, actor, who, timezone, timeout } of seen) {
        expect({ channel: channel || null, actor: actor || null, who, timezone, timeout }).toEqual({ channel: null, actor: null, who: role, timezone: 'UTC', timeout: '10s' });
      }
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  test('a key revoked in the database is refused at once: the API listens on its direct connection', async () => {
    const bistro = await tenant(db);
    await api.get(`/api/restaurants/${bistro.id}/clients`, bistro.key).expect(200);
    await db.pool.query("select booking.revoke_api_key(id) from booking_private.api_keys where label = 'assistant' and restaurant_id = $1", [bistro.id]);
    let status = 200;
    for (let i = 0; i < 50 && status === 200; i += 1) {
      status = (await api.get(`/api/restaurants/${bistro.id}/clients`, bistro.key)).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(401);
  });
});
