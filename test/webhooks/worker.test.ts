// The graphile-worker runner as `npm start` and `npm run worker` run it: its log lines in ours,
// its own pool (sized by WORKER_CONCURRENCY, named in pg_stat_activity, surviving lost
// connections), the host's signals left to us, and the periodic tasks it schedules.
import { parseCrontab } from 'graphile-worker';
import { createLogger } from '../../server/logger';
import { crontab } from '../../server/worker/tasks';
import { workerLogger, type RunningWorker } from '../../server/worker';
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { book } from '../support/sql';
import { eventually, startReceiver, startTestWorker, type Receiver } from './support';

interface Line {
  level: number;
  msg: string;
  worker?: Record<string, unknown>;
  err?: { code?: string };
}

function capture(): { lines: Line[]; logger: ReturnType<typeof createLogger> } {
  const lines: Line[] = [];
  return { lines, logger: createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line) as Line) }) };
}

test("graphile-worker's log lines are ours at the same level, with its scope and details", () => {
  const { lines, logger } = capture();
  const log = workerLogger(logger).scope({ label: 'job', taskIdentifier: 'deliver_webhook' });
  log.error('failed', { attempts: 2 });
  log.warn('slow');
  log.info('started');
  log.debug('polled');
  expect(lines.map(({ level, msg, worker }) => [level, msg, worker])).toEqual([
    [50, 'failed', { label: 'job', taskIdentifier: 'deliver_webhook', attempts: 2 }],
    [40, 'slow', { label: 'job', taskIdentifier: 'deliver_webhook' }],
    [30, 'started', { label: 'job', taskIdentifier: 'deliver_webhook' }],
    [20, 'polled', { label: 'job', taskIdentifier: 'deliver_webhook' }],
  ]);
});

test('each periodic task runs every minute, with no retry of a failed run and no backlog after downtime', () => {
  const items = parseCrontab(crontab);
  expect(items.map((item) => [item.task, item.options.maxAttempts, item.options.backfillPeriod])).toEqual([
    ['expire_holds', 1, 0],
    ['enqueue_webhooks', 1, 0],
  ]);
  const minute = (m: number) => ({ min: m, hour: 13, date: 5, month: 12, dow: 6 });
  for (const item of items) expect([0, 1, 37, 59].map((m) => item.match(minute(m)))).toEqual([true, true, true, true]);
});

describe('a running worker', () => {
  let db: TestDatabase;
  let r: Restaurant;
  let day: string;
  let worker: RunningWorker | undefined;
  let receiver: Receiver | undefined;

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

  const addEndpoint = (url: string) => db.pool.query('select booking.add_webhook_endpoint($1, $2)', [r.id, url]);
  const bookAt = async (time: string) => book(db.pool, { restaurantId: r.id, startsAt: await localInstant(db.pool, r.timezone, day, time), guests: 2 });
  const workerConnections = () =>
    db.pool.query<{ pid: number }>("select pid from pg_stat_activity where application_name = 'nora-worker' and datname = current_database()").then((res) => res.rows);

  test('with WORKER_CONCURRENCY=1 it delivers on connections of its own, and leaves SIGINT and SIGTERM to the process', async () => {
    const signals = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    receiver = await startReceiver();
    await addEndpoint(receiver.url);
    worker = await startTestWorker(db.url, { WORKER_CONCURRENCY: '1' });
    await bookAt('19:00');
    await receiver.waitFor(1);
    expect((await workerConnections()).length).toBeGreaterThan(0);
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(signals);
  });

  test('connections cut under it are logged as warnings, and it goes on delivering', async () => {
    const { lines, logger } = capture();
    receiver = await startReceiver();
    await addEndpoint(receiver.url);
    worker = await startTestWorker(db.url, {}, logger);
    await bookAt('20:00');
    await eventually(async () => (await db.pool.query("select count(*)::int as n from booking.webhook_deliveries where status = 'delivered'")).rows[0].n === 1);
    // The delivery's connection is back in the pool, idle; graphile-worker keeps one checked out to LISTEN.
    await db.pool.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and datname = current_database()', ['nora-worker']);
    const warned = await eventually(async () => {
      const messages = new Set(lines.filter((line) => line.level === 40 && line.err?.code === '57P01').map((line) => line.msg));
      return messages.size === 2 ? [...messages].sort() : undefined;
    });
    expect(warned).toEqual(['idle worker database connection failed', 'worker database connection failed while in use']);
    await bookAt('21:00');
    await receiver.waitFor(2);
  });
});
