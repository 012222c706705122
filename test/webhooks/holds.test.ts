// The worker's hold sweep and the hold and waitlist events: a lapsed offer goes to the next
// waiting party within a sweep, and the restaurant hears of holds and offers as they happen.
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { book } from '../support/sql';
import type { RunningWorker } from '../../server/worker';
import { eventually, startReceiver, startTestWorker, type Receiver } from './support';

let db: TestDatabase;
let r: Restaurant;
let day: string;
let worker: RunningWorker | undefined;
let receiver: Receiver | undefined;
const at = (time: string) => localInstant(db.pool, r.timezone, day, time);

beforeAll(async () => {
  db = await freshDatabase();
  r = await createRestaurant(db.pool, { tables: [[2, 1]] });
  day = await localDate(db.pool, r.timezone, 5);
});
afterAll(() => db.drop());
afterEach(async () => {
  await worker?.stop();
  await receiver?.close();
  worker = undefined;
  receiver = undefined;
});

const join = async (phone: string) =>
  (await db.pool.query('select id from booking.join_waitlist($1, 2, $2, $2, phone => $3)', [r.id, await at('20:00'), phone])).rows[0].id as string;
const entryStatus = async (id: string) => (await db.pool.query('select status from booking.waitlist where id = $1', [id])).rows[0].status as string;

test('the sweep, run by the worker, expires a lapsed offer and offers the table to the next party, and each step is an event', async () => {
  receiver = await startReceiver();
  await db.pool.query('select booking.add_webhook_endpoint($1, $2, $3)', [r.id, receiver.url, ['hold.created', 'hold.expired', 'waitlist.offered']]);
  const booking = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
  const first = await join('+34 600 000 001');
  const second = await join('+34 600 000 002');
  await db.pool.query('select booking.cancel_reservation($1, $2)', [r.id, booking.id]);
  expect([await entryStatus(first), await entryStatus(second)]).toEqual(['offered', 'waiting']);
  await db.pool.query("update booking.reservations set hold_expires_at = now() - interval '1 second' where status = 'held'");
  worker = await startTestWorker(db.url);
  // The crontab runs the sweep at the top of each minute; a DBA (or this test) need not wait.
  await db.pool.query("select graphile_worker.add_job('expire_holds')");
  await eventually(async () => (await entryStatus(second)) === 'offered');
  expect(await entryStatus(first)).toBe('waiting');
  const events = (await receiver.waitFor(5)).map((got) => JSON.parse(got.body) as { type: string; data: { id: number; status: string } });
  expect(events.map((e) => e.type).sort()).toEqual(['hold.created', 'hold.created', 'hold.expired', 'waitlist.offered', 'waitlist.offered']);
  const offers = events.filter((e) => e.type === 'waitlist.offered').map((e) => String(e.data.id));
  expect(offers.sort()).toEqual([first, second].sort());
});
