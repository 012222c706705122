// The checks `npm run load:verify` makes after a load must catch what they exist for: an
// acknowledged booking missing or moved, a wrong storm count, a 5xx, a double booking (made
// possible here only by dropping the exclusion constraint in this file's own database), a hold
// that did not end as its client was told, a waitlist offer without a live hold, an
// acknowledged waitlist entry gone. Each defect is planted in SQL, as a DBA could.
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

const holdCheck = 'every hold a client acknowledged ended confirmed, released or expired, as the client was told';
const offerCheck = 'every offered waitlist entry has a live or confirmed hold';
const entryCheck = 'every waitlist entry a client was told about exists';

interface HoldRow extends Row {
  status: string;
  hold_expires_at: Date;
}

const reservationBody = (row: HoldRow) =>
  JSON.stringify({
    success: true,
    data: {
      reservation: {
        id: Number(row.id),
        table_id: Number(row.table_id),
        date: row.starts_at.toISOString(),
        status: row.status,
        hold_expires_at: row.hold_expires_at?.toISOString() ?? null,
      },
    },
  });

const holdColumns = 'id::text, table_id::text, starts_at, status, hold_expires_at';

async function hold(restaurantId: string, startsAt: string, minutes = 5): Promise<HoldRow> {
  const { rows } = await db.pool.query<HoldRow>(`select ${holdColumns} from booking.hold_table($1, $2, 2, hold_minutes => $3)`, [
    restaurantId,
    startsAt,
    minutes,
  ]);
  return rows[0]!;
}

async function reservation(id: string): Promise<HoldRow> {
  const { rows } = await db.pool.query<HoldRow>(`select ${holdColumns} from booking.reservations where id = $1`, [id]);
  return rows[0]!;
}

/** A run with fresh restaurants of its own, so that other tests' defects stay out of its counts. */
async function freshRun(): Promise<{ target: Target; ledger: Ledger; verify: () => Promise<string[]>; failures: () => Promise<Array<{ name: string; detail?: string }>> }> {
  const own = await prepareTarget(db.url);
  const ledger = new Ledger();
  const checks = async () => verifyRun(db.url, { finishedAt: new Date().toISOString(), database: { url: db.url }, target: own, ledger: ledger.data() });
  const verify = async () => failing(await checks());
  // The failing checks with their details: what an unexpected failure prints.
  const failures = async () => (await checks()).filter((c) => !c.ok).map(({ name, detail }) => ({ name, detail }));
  return { target: own, ledger, verify, failures };
}

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

test('holds that ended as their clients were told pass; one reopened or never lapsed fails the hold check', async () => {
  const run = await freshRun();
  const { id } = run.target.mixed;
  const at = (i: number) => run.target.mixed.bookable[i]!;

  // Confirmed: a booking the client acknowledged (200), its table and time as told.
  const confirmed = await hold(id, at(1));
  run.ledger.held(id, 'k-confirmed', 201, reservationBody(confirmed), 'confirm');
  const { rows: done } = await db.pool.query<HoldRow>(`select ${holdColumns} from booking.confirm_hold($1, $2)`, [id, confirmed.id]);
  expect(run.ledger.confirmed(confirmed.id, 200, reservationBody(done[0]!))?.id).toBe(confirmed.id);
  // Released (200 with status released).
  const released = await hold(id, at(2));
  run.ledger.held(id, 'k-released', 201, reservationBody(released), 'release');
  await db.pool.query('select booking.release_hold($1, $2)', [id, released.id]);
  run.ledger.released(released.id, 200, reservationBody(await reservation(released.id)));
  // Left to lapse: its minute has passed (moved back, as the clock would), not swept yet.
  const lapsing = await hold(id, at(3), 1);
  await db.pool.query("update booking.reservations set hold_expires_at = now() - interval '1 second' where id = $1", [lapsing.id]);
  run.ledger.held(id, 'k-lapsing', 201, reservationBody(await reservation(lapsing.id)), 'lapse');
  // Confirmed too late: 409 hold_expired, nothing booked.
  const late = await hold(id, at(4));
  run.ledger.held(id, 'k-late', 201, reservationBody(late), 'confirm');
  await db.pool.query("update booking.reservations set hold_expires_at = now() - interval '1 second' where id = $1", [late.id]);
  await expect(db.pool.query('select booking.confirm_hold($1, $2)', [id, late.id])).rejects.toMatchObject({ code: 'PT409' });
  run.ledger.confirmed(late.id, 409, JSON.stringify({ success: false, error: { code: 'PT409', details: { reason: 'hold_expired' } } }));

  expect(await run.failures()).toEqual([]);
  expect((await reservation(lapsing.id)).status).toBe('expired'); // the sweep verify ran
  expect((await reservation(late.id)).status).toBe('expired');

  // A DBA puts the released hold back: held again, the client was told released.
  await db.pool.query("update booking.reservations set status = 'held', hold_expires_at = now() + interval '10 minutes' where id = $1", [released.id]);
  expect(await run.verify()).toEqual([holdCheck]);
  await db.pool.query("update booking.reservations set status = 'released' where id = $1", [released.id]);
  expect(await run.verify()).toEqual([]);

  // The hold left to lapse is still held, with a later expiry than its client was given.
  await db.pool.query("update booking.reservations set status = 'held', hold_expires_at = now() + interval '10 minutes' where id = $1", [lapsing.id]);
  expect(await run.verify()).toEqual([holdCheck]);
});

test('an offered waitlist entry needs a live or confirmed hold: a lapsed offer is swept, one released behind its back fails', async () => {
  const run = await freshRun();
  const { id } = run.target.mixed;
  const join = async (i: number) => {
    const around = Date.parse(run.target.mixed.bookable[i]!);
    const { rows } = await db.pool.query<{ entry: Record<string, unknown> }>(
      "select to_jsonb(w) as entry from booking.join_waitlist($1, 2, $2, $3, phone => '+34 600 000 000') w",
      [id, new Date(around - 1800000).toISOString(), new Date(around + 1800000).toISOString()],
    );
    const entry = run.ledger.waited(id, 201, JSON.stringify({ success: true, data: { entry: rows[0]!.entry } }))!;
    expect(entry.status).toBe('offered'); // a table fits already: offered at once
    return entry;
  };
  const first = await join(100);
  const second = await join(140);
  expect(await run.verify()).toEqual([]);

  // An offer past its time, not yet swept: the sweep verify runs returns the entry to waiting.
  await db.pool.query("update booking.reservations set hold_expires_at = now() - interval '1 second' where id = $1", [second.reservationId]);
  expect(await run.verify()).toEqual([]);
  expect((await reservation(second.reservationId!)).status).toBe('expired');

  // A DBA releases the first offer's hold without touching the entry: offered, nothing held.
  await db.pool.query("update booking.reservations set status = 'released' where id = $1", [first.reservationId]);
  expect(await run.verify()).toEqual([offerCheck]);
  await db.pool.query("update booking.waitlist set status = 'waiting', reservation_id = null where id = $1", [first.id]);
  expect(await run.verify()).toEqual([]);

  // An entry a client was told about, deleted.
  await db.pool.query('delete from booking.waitlist where id = $1', [first.id]);
  expect(await run.verify()).toEqual([entryCheck]);
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

test('a hold overlapping a booking is an overlap, live or lapsed, until it is marked expired', async () => {
  await db.pool.query('alter table booking.reservation_tables drop constraint if exists reservation_tables_no_overlap');
  const before = await overlappingPairs(db.pool);
  const booked = await book(target.mixed.id, target.mixed.bookable[60]!);
  const { rows } = await db.pool.query<{ id: string }>(
    `insert into booking.reservations (restaurant_id, table_id, starts_at, ends_at, guests, status, hold_expires_at)
     select restaurant_id, table_id, starts_at + interval '15 minutes', ends_at + interval '15 minutes', guests, 'held', now() + interval '5 minutes'
       from booking.reservations where id = $1
     returning id::text`,
    [booked.id],
  );
  const held = rows[0]!.id;
  expect(await overlappingPairs(db.pool)).toBe(before + 1);
  await db.pool.query("update booking.reservations set hold_expires_at = now() - interval '1 minute' where id = $1", [held]);
  expect(await overlappingPairs(db.pool)).toBe(before + 1);
  await db.pool.query("update booking.reservations set status = 'expired' where id = $1", [held]);
  expect(await overlappingPairs(db.pool)).toBe(before);
});
