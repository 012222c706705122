// Webhooks on Citus, end to end: the outbox trigger runs on the worker holding the restaurant and
// writes the delivery without a job (graphile-worker's queue is on the coordinator); the sweep the
// worker process runs enqueues it, and the delivery, found by restaurant, reaches the endpoint
// signed, once; and the trigger writes them in a transaction block too, as the API makes its
// changes on Citus.
import { Webhook } from 'standardwebhooks';
import { freshDatabase, testTarget, type TestDatabase } from '../support/cluster';
import { createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { book } from '../support/sql';
import type { RunningWorker } from '../../server/worker';
import { eventually, startReceiver, startTestWorker, type Receiver } from '../webhooks/support';

if (testTarget() !== 'citus') throw new Error('test/citus runs only with NORA_TEST_TARGET=citus (npm run test:citus)');

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
afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
  await db.drop();
});

test('a booking and its cancellation through the coordinator reach the endpoint, signed, each once, after the sweep enqueues them', async () => {
  receiver = await startReceiver();
  const endpoint = (await db.pool.query<{ secret: string }>('select secret from booking.add_webhook_endpoint($1, $2)', [r.id, receiver.url])).rows[0]!;
  const made = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
  await db.pool.query('select booking.cancel_reservation($1, $2)', [r.id, made.id]);
  // Written on the worker, not enqueued: no job until the sweep.
  const pending = await db.pool.query("select count(*)::int as n from booking.webhook_deliveries where status = 'pending' and not enqueued");
  expect(pending.rows[0].n).toBe(2);
  expect((await db.pool.query("select count(*)::int as n from graphile_worker.jobs where task_identifier = 'deliver_webhook'")).rows[0].n).toBe(0);
  worker = await startTestWorker(db.url);
  // The crontab runs the sweep at the top of each minute; the test need not wait for it.
  await db.pool.query("select graphile_worker.add_job('enqueue_webhooks')");
  const got = await receiver.waitFor(2);
  const bodies = got.map((g) => new Webhook(endpoint.secret).verify(g.body, g.headers as Record<string, string>) as { type: string; data: { id: number } });
  expect(bodies.map((b) => [b.type, b.data.id]).sort()).toEqual([
    ['reservation.cancelled', Number(made.id)],
    ['reservation.created', Number(made.id)],
  ]);
  await eventually(async () => {
    const { rows } = await db.pool.query<{ status: string }>('select status from booking.webhook_deliveries');
    return rows.length === 2 && rows.every((row) => row.status === 'delivered');
  });
  // Another sweep finds nothing to enqueue, and nothing more arrives.
  expect((await db.pool.query('select booking_private.enqueue_webhook_deliveries() as n')).rows[0].n).toBe(0);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(receiver.received).toHaveLength(2);
});

test('a booking and a cancellation in a transaction block, as the API makes them on Citus, write their deliveries: the trigger stays on the restaurant\'s shards', async () => {
  await db.pool.query('delete from booking.webhook_endpoints');
  await db.pool.query("select booking.add_webhook_endpoint($1, 'https://example.com/hooks')", [r.id]);
  const client = await db.pool.connect();
  try {
    await client.query('begin');
    await client.query("set local nora.channel = 'api'");
    const made = await book(client, { restaurantId: r.id, startsAt: await at('21:00'), guests: 2 });
    await client.query('select booking.cancel_reservation($1, $2)', [r.id, made.id]);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
  const { rows } = await db.pool.query<{ type: string }>(
    'select e.type from booking.webhook_deliveries d join booking.webhook_events e on e.restaurant_id = d.restaurant_id and e.id = d.event_id order by e.id',
  );
  expect(rows.map((row) => row.type)).toEqual(['reservation.created', 'reservation.cancelled']);
});
