// Delivery by a real graphile-worker runner to real HTTP receivers: signed per the Standard
// Webhooks spec, retried until the receiver takes it (and then never again), kept in
// PostgreSQL across a killed worker, and never sent to the operator's own network in production.
// The runner's own pool (sized by WORKER_CONCURRENCY, named in pg_stat_activity, surviving lost
// connections) and the host's signals, left to the process, are checked while it delivers.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { book } from '../support/sql';
import type { RunningWorker } from '../../server/worker';
import { captureLogs, eventually, retryNow, startReceiver, startTestWorker, type Receiver } from './support';

let db: TestDatabase;
let r: Restaurant;
let day: string;
let worker: RunningWorker | undefined;
let receiver: Receiver | undefined;
const at = (time: string) => localInstant(db.pool, r.timezone, day, time);

beforeAll(async () => {
  db = await freshDatabase();
  r = await createRestaurant(db.pool);
  day = await localDate(db.pool, r.timezone, 5);
});
afterAll(() => db.drop());
afterEach(async () => {
  await worker?.stop();
  await receiver?.close();
  worker = undefined;
  receiver = undefined;
  await db.pool.query('delete from booking.reservations; delete from booking.webhook_endpoints; delete from booking.webhook_events; delete from graphile_worker._private_jobs');
});

const addEndpoint = (url: string, events: string[] | null = null) =>
  db.pool.query<{ id: string; secret: string }>('select id, secret from booking.add_webhook_endpoint($1, $2, $3)', [r.id, url, events]).then((res) => res.rows[0]!);
const deliveries = () =>
  db.pool.query<{ status: string; attempts: number; last_error: string | null }>('select status, attempts, last_error from booking.webhook_deliveries order by id').then((res) => res.rows);

test('a registered endpoint receives the booking as reservation.created, signed per Standard Webhooks and verified by its reference library', async () => {
  receiver = await startReceiver();
  const endpoint = await addEndpoint(receiver.url);
  worker = await startTestWorker(db.url);
  const made = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
  const [got] = await receiver.waitFor(1);
  expect([got!.method, got!.headers['user-agent']]).toEqual(['POST', 'nora-reservations-webhooks/1']);
  expect(got!.headers['content-type']).toBe('application/json');
  expect(got!.headers['webhook-id']).toMatch(/^evt_\d+$/);
  expect(Math.abs(Number(got!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
  expect(got!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  const verified = new Webhook(endpoint.secret).verify(got!.body, got!.headers as Record<string, string>);
  const { rows } = await db.pool.query('select booking.reservation_document(r) as doc from booking.reservations r where id = $1', [made.id]);
  expect(verified).toEqual({ type: 'reservation.created', timestamp: expect.any(String), data: rows[0].doc });
  // Another secret, or a body changed on the way, does not verify.
  expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(got!.body, got!.headers as Record<string, string>)).toThrow();
  expect(() => new Webhook(endpoint.secret).verify(got!.body.replace('confirmed', 'cancelled'), got!.headers as Record<string, string>)).toThrow();
  await eventually(async () => (await deliveries())[0]?.status === 'delivered');
});

test('an endpoint subscribed to cancellations gets only those', async () => {
  receiver = await startReceiver();
  await addEndpoint(receiver.url, ['reservation.cancelled']);
  worker = await startTestWorker(db.url);
  const made = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
  await db.pool.query('select booking.cancel_reservation($1, $2)', [r.id, made.id]);
  const [got] = await receiver.waitFor(1);
  expect(JSON.parse(got!.body)).toMatchObject({ type: 'reservation.cancelled', data: { id: Number(made.id), status: 'cancelled' } });
  expect(await deliveries()).toHaveLength(1);
});

test('a receiver that fails twice and then succeeds gets the event exactly once more, with the same id and body', async () => {
  receiver = await startReceiver((n) => (n < 2 ? 500 : 204));
  await addEndpoint(receiver.url);
  worker = await startTestWorker(db.url);
  await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
  await receiver.waitFor(1);
  // Instead of waiting out the backoff (e, then e² seconds), move the failed job to now, as a
  // DBA would; the worker's next poll (100 ms here) takes it.
  await eventually(async () => (await retryNow(db.pool)) === 1);
  await receiver.waitFor(2);
  await eventually(async () => (await retryNow(db.pool)) === 1);
  const got = await receiver.waitFor(3);
  await eventually(async () => (await deliveries())[0]?.status === 'delivered');
  expect(await deliveries()).toEqual([{ status: 'delivered', attempts: 3, last_error: null }]);
  expect(new Set(got.map((g) => g.headers['webhook-id'])).size).toBe(1);
  expect(new Set(got.map((g) => g.body)).size).toBe(1);
  // Nothing is left to retry, and nothing more arrives.
  expect((await db.pool.query("select count(*)::int as n from graphile_worker.jobs where task_identifier = 'deliver_webhook'")).rows[0].n).toBe(0);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(receiver.received).toHaveLength(3);
  const failing = await db.pool.query('select failing_since from booking.webhook_endpoints');
  expect(failing.rows[0].failing_since).toBeNull();
});

test('a receiver that does not answer within WEBHOOK_TIMEOUT_MS is a failed attempt, retried later', async () => {
  receiver = await startReceiver(() => null);
  await addEndpoint(receiver.url);
  worker = await startTestWorker(db.url, { WEBHOOK_TIMEOUT_MS: '300' });
  await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
  await eventually(async () => (await deliveries())[0]?.last_error === 'no answer within 300 ms');
  const job = await eventually(async () => (await db.pool.query("select attempts, last_error, run_at > now() as later from graphile_worker.jobs where task_identifier = 'deliver_webhook' and locked_at is null")).rows[0]);
  expect(job).toMatchObject({ attempts: 1, later: true, last_error: expect.stringContaining('no answer within 300 ms') });
  expect((await db.pool.query('select failing_since is not null as failing from booking.webhook_endpoints')).rows[0].failing).toBe(true);
});

test("a delivery whose job has no attempt left is failed at the receiver's refusal, and not retried", async () => {
  receiver = await startReceiver(() => 500);
  await addEndpoint(receiver.url);
  await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
  await db.pool.query("update graphile_worker._private_jobs set max_attempts = 1 where task_id = (select id from graphile_worker._private_tasks where identifier = 'deliver_webhook')");
  worker = await startTestWorker(db.url);
  await receiver.waitFor(1);
  await eventually(async () => (await deliveries())[0]?.status !== 'pending');
  expect(await deliveries()).toEqual([{ status: 'failed', attempts: 1, last_error: 'HTTP 500' }]);
});

test('a delivery with nothing left to send (its endpoint disabled meanwhile) is skipped, and its job ends', async () => {
  receiver = await startReceiver();
  await addEndpoint(receiver.url);
  await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
  await db.pool.query("update booking.webhook_endpoints set disabled_at = now(), disabled_reason = 'test'");
  worker = await startTestWorker(db.url);
  await eventually(async () => (await db.pool.query("select count(*)::int as n from graphile_worker.jobs where task_identifier = 'deliver_webhook'")).rows[0].n === 0);
  expect(await deliveries()).toEqual([{ status: 'skipped', attempts: 0, last_error: null }]);
  expect(receiver.received).toEqual([]);
});

test('a delivery written without a job (as on a Citus worker) is enqueued by the sweep task and delivered', async () => {
  receiver = await startReceiver();
  await addEndpoint(receiver.url);
  await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
  await db.pool.query("delete from graphile_worker._private_jobs; update booking.webhook_deliveries set enqueued = false; select graphile_worker.add_job('enqueue_webhooks')");
  worker = await startTestWorker(db.url);
  const [got] = await receiver.waitFor(1);
  expect(JSON.parse(got!.body)).toMatchObject({ type: 'reservation.created' });
  await eventually(async () => (await deliveries())[0]?.status === 'delivered');
});

test('a worker killed in the middle of a delivery loses no event: its jobs are in PostgreSQL and a new worker delivers them', async () => {
  // The first request is left unanswered while the worker process is killed with SIGKILL.
  receiver = await startReceiver((n) => (n === 0 ? null : 204));
  const endpoint = await addEndpoint(receiver.url);
  const first = await book(db.pool, { restaurantId: r.id, startsAt: await at('19:00'), guests: 2 });
  // `npm run worker`'s entry point in this very process (tsx's loader, not its CLI, which would
  // run the worker in a grandchild that SIGKILL does not reach).
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('server', 'worker', 'main.ts')], {
    cwd: path.resolve(__dirname, '..', '..'),
    env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'silent', WORKER_POLL_INTERVAL_MS: '100', NODE_ENV: 'development' },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await receiver.waitFor(1, 30_000);
  child.kill('SIGKILL');
  await exited;
  // While no worker runs, more happens: the events wait in PostgreSQL.
  const second = await book(db.pool, { restaurantId: r.id, startsAt: await at('21:00'), guests: 2 });
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(receiver.received).toHaveLength(1);
  // graphile-worker frees a dead worker's jobs after 4 hours by itself; an operator who knows
  // the worker is dead frees them at once with force_unlock_workers.
  await db.pool.query('select graphile_worker.force_unlock_workers(array(select distinct locked_by from graphile_worker.jobs where locked_by is not null))');
  worker = await startTestWorker(db.url);
  const got = await receiver.waitFor(3);
  const ids = got.map((g) => (JSON.parse(g.body) as { data: { id: number } }).data.id);
  expect(ids[0]).toBe(Number(first.id));
  expect(ids.slice(1).sort()).toEqual([Number(first.id), Number(second.id)].sort());
  expect(got[1]!.headers['webhook-id'] === got[0]!.headers['webhook-id'] || got[2]!.headers['webhook-id'] === got[0]!.headers['webhook-id']).toBe(true);
  for (const g of got) new Webhook(endpoint.secret).verify(g.body, g.headers as Record<string, string>);
  await eventually(async () => (await deliveries()).every((d) => d.status === 'delivered'));
});

test('a job queued before jobs carried their restaurant (payload delivery_id alone) is delivered once, like a new one', async () => {
  receiver = await startReceiver();
  await addEndpoint(receiver.url);
  await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
  // The job as emit_event queued it before: {delivery_id}, no key.
  await db.pool.query(
    `with old as (delete from graphile_worker._private_jobs returning (payload->>'delivery_id')::bigint as id)
     select graphile_worker.add_job('deliver_webhook', json_build_object('delivery_id', id), max_attempts => 14) from old`,
  );
  worker = await startTestWorker(db.url);
  const [got] = await receiver.waitFor(1);
  expect(JSON.parse(got!.body)).toMatchObject({ type: 'reservation.created' });
  await eventually(async () => (await deliveries())[0]?.status === 'delivered');
  expect(await deliveries()).toEqual([{ status: 'delivered', attempts: 1, last_error: null }]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(receiver.received).toHaveLength(1);
});

test('with WORKER_CONCURRENCY=1 it delivers on connections of its own, and leaves SIGINT and SIGTERM to the process', async () => {
  const signals = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
  receiver = await startReceiver();
  await addEndpoint(receiver.url);
  worker = await startTestWorker(db.url, { WORKER_CONCURRENCY: '1' });
  await book(db.pool, { restaurantId: r.id, startsAt: await at('19:00'), guests: 2 });
  await receiver.waitFor(1);
  const named = await db.pool.query("select count(*)::int as n from pg_stat_activity where application_name = 'nora-worker' and datname = current_database()");
  expect(named.rows[0].n).toBeGreaterThan(0);
  expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(signals);
});

test('connections cut under it are logged as warnings, and it goes on delivering', async () => {
  const { lines, logger } = captureLogs();
  receiver = await startReceiver();
  await addEndpoint(receiver.url);
  worker = await startTestWorker(db.url, {}, logger);
  await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
  await eventually(async () => (await deliveries())[0]?.status === 'delivered');
  // The delivery's connection is back in the pool, idle; graphile-worker keeps one checked out to
  // LISTEN. A poll (every 100 ms) may hold the idle one at the moment of a cut, so the cut is
  // repeated until one has caught a connection idle.
  const warned = await eventually(async () => {
    await db.pool.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and datname = current_database()', ['nora-worker']);
    const messages = new Set(lines.filter((line) => line.level === 40 && line.err?.code === '57P01').map((line) => line.msg));
    return messages.size === 2 ? [...messages].sort() : undefined;
  });
  expect(warned).toEqual(['idle worker database connection failed', 'worker database connection failed while in use']);
  await book(db.pool, { restaurantId: r.id, startsAt: await at('21:00'), guests: 2 });
  await receiver.waitFor(2);
});

describe('in production (NODE_ENV=production)', () => {
  test('the worker refuses to deliver to a loopback address, and says why', async () => {
    receiver = await startReceiver();
    await addEndpoint(receiver.url);
    worker = await startTestWorker(db.url, { NODE_ENV: 'production' });
    await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
    const [delivery] = await eventually(async () => {
      const rows = await deliveries();
      return rows[0]?.last_error ? rows : undefined;
    });
    expect(delivery!.last_error).toBe('127.0.0.1 is not a public address.');
    expect(receiver.received).toEqual([]);
  });

  test('WEBHOOK_ALLOW_PRIVATE=true lets it deliver to the operator\'s own network', async () => {
    receiver = await startReceiver();
    await addEndpoint(receiver.url.replace('127.0.0.1', 'localhost'));
    worker = await startTestWorker(db.url, { NODE_ENV: 'production', WEBHOOK_ALLOW_PRIVATE: 'true' });
    await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
    await receiver.waitFor(1);
  });
});
