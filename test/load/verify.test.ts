// The checks `npm run load:verify` makes after a load must catch what they exist for: an
// acknowledged booking missing or moved, a wrong storm count, a 5xx, and a double booking
// (made possible here only by dropping the exclusion constraint in this file's own database).
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { Ledger } from '../../load/ledger';
import { prepareTarget } from '../../load/prepare';
import type { RunRecord } from '../../load/run-record';
import type { Target } from '../../load/scenario-types';
import { overlappingPairs, verifyRun } from '../../load/verify';

let db: TestDatabase;
let target: Target;
beforeAll(async () => {
  db = await freshDatabase();
  target = await prepareTarget(db.url);
});
afterAll(() => db.drop());

interface Row {
  id: string;
  table_id: string;
  starts_at: Date;
}

async function book(restaurantId: string, startsAt: string, guests = 2): Promise<Row> {
  const { rows } = await db.pool.query<Row>('select id::text, table_id::text, starts_at from booking.book_table($1, $2, $3)', [restaurantId, startsAt, guests]);
  return rows[0]!;
}

function acknowledge(ledger: Ledger, restaurantId: string, row: Row): void {
  const body = JSON.stringify({ success: true, data: { reservation: { id: Number(row.id), table_id: Number(row.table_id), date: row.starts_at.toISOString() } } });
  ledger.booked(restaurantId, `key-${row.id}`, 201, body);
}

function record(ledger: Ledger, stormSlots: RunRecord['stormSlots']): RunRecord {
  return { finishedAt: new Date().toISOString(), database: { url: db.url }, target, stormSlots, ledger: ledger.data() };
}

const failing = (checks: Array<{ name: string; ok: boolean }>) => checks.filter((c) => !c.ok).map((c) => c.name);

test('a run whose clients saw exactly what the database holds passes every check', async () => {
  const ledger = new Ledger();
  const slot = target.storm.slots[3]!; // 5 requests, more tables than that
  for (let i = 0; i < slot.requests; i += 1) acknowledge(ledger, target.storm.id, await book(target.storm.id, slot.startsAt));
  acknowledge(ledger, target.mixed.id, await book(target.mixed.id, target.mixed.bookable[0]!));
  const checks = await verifyRun(db.url, record(ledger, [{ startsAt: slot.startsAt, requests: slot.requests, acknowledged: slot.requests }]));
  expect(failing(checks)).toEqual([]);
});

test('a missing, moved or unexpected booking, a wrong storm count and a 5xx each fail their check', async () => {
  const ledger = new Ledger();
  const kept = await book(target.mixed.id, target.mixed.bookable[10]!);
  const lost = await book(target.mixed.id, target.mixed.bookable[20]!);
  acknowledge(ledger, target.mixed.id, kept);
  acknowledge(ledger, target.mixed.id, { ...lost, table_id: String(Number(lost.table_id) + 1) });
  await book(target.mixed.id, target.mixed.bookable[30]!); // a row no client was told about
  ledger.status(500);
  const slot = target.storm.slots[3]!;
  const checks = await verifyRun(db.url, record(ledger, [{ startsAt: slot.startsAt, requests: slot.requests, acknowledged: 2 }]));
  expect(failing(checks)).toEqual([
    `storm ${slot.startsAt}: bookings = min(requests, fitting tables)`,
    'every acknowledged booking exists with the table, time and status the client was told',
    `restaurant ${target.storm.id}: active rows = acknowledged bookings - cancelled`,
    `restaurant ${target.mixed.id}: active rows = acknowledged bookings - cancelled`,
    'no 5xx responses',
  ]);
});

test('overlapping active reservations are found once nothing else prevents them', async () => {
  expect(await overlappingPairs(db.pool)).toBe(0);
  await db.pool.query('alter table booking.reservation_tables drop constraint reservation_tables_no_overlap');
  const first = await book(target.mixed.id, target.mixed.bookable[40]!);
  await db.pool.query(
    `insert into booking.reservations (restaurant_id, table_id, starts_at, ends_at, guests)
     select restaurant_id, table_id, starts_at + interval '15 minutes', ends_at + interval '15 minutes', guests
       from booking.reservations where id = $1`,
    [first.id],
  );
  expect(await overlappingPairs(db.pool)).toBe(1);
});
