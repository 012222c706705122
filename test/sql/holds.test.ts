// Holds, called as a DBA or the API would: a hold blocks like a booking while it lives, blocks
// nothing once it lapses (before any sweep), and ends confirmed, released or expired.
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { addCombination, createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { book, refusal, type Booking } from '../support/sql';

let db: TestDatabase;
let r: Restaurant;
let day: string;
const at = (time: string) => localInstant(db.pool, r.timezone, day, time);

beforeAll(async () => {
  db = await freshDatabase();
  // T1, T2 two-tops; T3 a four-top for 3 or 4.
  r = await createRestaurant(db.pool, { tables: [[2, 1], [2, 1], [4, 3]] });
  day = await localDate(db.pool, r.timezone, 3);
});
afterAll(() => db.drop());
beforeEach(() => db.pool.query('delete from booking.reservations'));

interface Hold extends Booking {
  hold_expires_at: Date | null;
}

async function hold(startsAt: string, guests = 2, minutes = 5, extra: { tableId?: string; key?: string } = {}): Promise<Hold> {
  const { rows } = await db.pool.query<Hold>(
    'select * from booking.hold_table($1, $2, $3, hold_minutes => $4, table_id => $5, idempotency_key => $6)',
    [r.id, startsAt, guests, minutes, extra.tableId ?? null, extra.key ?? null],
  );
  return rows[0]!;
}

const lapse = (id: string) => db.pool.query("update booking.reservations set hold_expires_at = now() - interval '1 second' where id = $1", [id]);

async function tablesAt(time: string, guests = 2): Promise<number> {
  const { rows } = await db.pool.query("select tables_available from booking.available_table_counts($1, $2, $3) where local_time = $4", [
    r.id,
    day,
    guests,
    time,
  ]);
  return rows[0].tables_available;
}

async function history(id: string): Promise<string[]> {
  const { rows } = await db.pool.query('select action from booking.reservation_events where reservation_id = $1 order by id', [id]);
  return rows.map((row) => row.action);
}

describe('a live hold', () => {
  test('is a held row on the best table that lapses after hold_minutes', async () => {
    const held = await hold(await at('20:00'), 2, 10);
    expect(held).toMatchObject({ status: 'held', table_id: r.tableIds[0] });
    const { rows } = await db.pool.query("select $1::timestamptz - now() between interval '9 minutes 59 seconds' and interval '10 minutes' as ok", [
      held.hold_expires_at,
    ]);
    expect(rows[0].ok).toBe(true);
    expect(await history(held.id)).toEqual(['held']);
  });

  test('blocks its table for book_table, availability and a raw insert', async () => {
    await hold(await at('20:00'));
    expect(await tablesAt('20:00')).toBe(1);
    expect((await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 })).table_id).toBe(r.tableIds[1]);
    const raw = refusal(
      db.pool.query(
        `insert into booking.reservations (restaurant_id, table_id, starts_at, ends_at, guests) values ($1, $2, $3, $3::timestamptz + interval '1 hour', 2)`,
        [r.id, r.tableIds[0], await at('20:30')],
      ),
    );
    expect((await raw).code).toBe('23P01');
  });

  test('refuses like book_table, and hold_minutes outside 1..30 with 22023', async () => {
    expect((await refusal(hold(await at('20:07')))).reason).toBe('off_grid');
    for (const minutes of [0, 31]) {
      const error = await refusal(hold(await at('20:00'), 2, minutes));
      expect([error.code, error.reason]).toEqual(['22023', 'invalid_hold_minutes']);
    }
  });

  test('counts toward the pacing limit', async () => {
    await db.pool.query("insert into booking.pacing_limits (restaurant_id, opens, closes, max_covers) values ($1, '20:00', '20:15', 3)", [r.id]);
    try {
      await hold(await at('20:00'), 2);
      expect((await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 }))).reason).toBe('pacing_limit');
    } finally {
      await db.pool.query('delete from booking.pacing_limits where restaurant_id = $1', [r.id]);
    }
  });

  test('can hold a combination for a party no single table seats', async () => {
    const pair = await addCombination(db.pool, r.id, { name: 'T1+T3', tableIds: [r.tableIds[0]!, r.tableIds[2]!], minGuests: 5, capacity: 6 });
    try {
      const held = await hold(await at('20:00'), 6);
      expect(held.combination_id).toBe(pair);
      expect(await tablesAt('20:00', 2)).toBe(1);
    } finally {
      await db.pool.query('delete from booking.reservations');
      await db.pool.query('delete from booking.table_combinations where id = $1', [pair]);
    }
  });

  test('replays an idempotency key, and refuses the key for a booking', async () => {
    const first = await hold(await at('20:00'), 2, 5, { key: 'hold-1' });
    expect((await hold(await at('20:00'), 2, 5, { key: 'hold-1' })).id).toBe(first.id);
    const reused = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2, key: 'hold-1' }));
    expect(reused.reason).toBe('idempotency_key_reused');
  });
});

describe('a lapsed hold', () => {
  test('blocks nothing before any sweep: availability counts its table free and book_table takes it, marking it expired', async () => {
    const held = await hold(await at('20:00'));
    await lapse(held.id);
    expect(await tablesAt('20:00')).toBe(2);
    const booking = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:15'), guests: 2 });
    expect(booking.table_id).toBe(r.tableIds[0]);
    const { rows } = await db.pool.query('select status from booking.reservations where id = $1', [held.id]);
    expect(rows[0].status).toBe('expired');
    expect(await history(held.id)).toEqual(['held', 'expired']);
  });

  test('is taken by another hold too', async () => {
    const held = await hold(await at('20:00'), 2, 5, { tableId: r.tableIds[0] });
    await lapse(held.id);
    expect((await hold(await at('20:00'), 2, 5, { tableId: r.tableIds[0] })).table_id).toBe(r.tableIds[0]);
  });

  test('cannot be confirmed: PT409 hold_expired, with its own time among the alternatives while it is free', async () => {
    const held = await hold(await at('20:00'));
    await lapse(held.id);
    const error = await refusal(db.pool.query('select * from booking.confirm_hold($1, $2)', [r.id, held.id]));
    expect([error.code, error.reason]).toEqual(['PT409', 'hold_expired']);
    const alternatives = error.detail!.alternatives as Array<{ local_time: string }>;
    expect(alternatives[0]!.local_time).toBe('20:00');
  });

  test('is marked expired by the sweep, which says how many it expired', async () => {
    const lapsed = await hold(await at('20:00'));
    const live = await hold(await at('20:00'));
    await lapse(lapsed.id);
    const { rows } = await db.pool.query('select booking.expire_holds() as n');
    expect(rows[0].n).toBe(1);
    const statuses = await db.pool.query('select id, status from booking.reservations order by id');
    expect(statuses.rows.map((row) => [row.id, row.status])).toEqual([
      [lapsed.id, 'expired'],
      [live.id, 'held'],
    ]);
  });
});

describe('confirm_hold', () => {
  test('confirms the same row, table and time, with the guest and notes, and is safe to retry', async () => {
    const { rows: guest } = await db.pool.query("insert into booking.clients (restaurant_id, email) values ($1, 'hold@example.com') returning id", [r.id]);
    const held = await hold(await at('20:00'));
    const { rows } = await db.pool.query('select * from booking.confirm_hold($1, $2, client_id => $3, notes => $4)', [r.id, held.id, guest[0].id, 'birthday']);
    expect(rows[0]).toMatchObject({ id: held.id, status: 'confirmed', table_id: held.table_id, client_id: guest[0].id, notes: 'birthday', hold_expires_at: null });
    expect(rows[0].starts_at).toEqual(held.starts_at);
    const again = await db.pool.query('select * from booking.confirm_hold($1, $2)', [r.id, held.id]);
    expect(again.rows[0].updated_at).toEqual(rows[0].updated_at);
    expect(await history(held.id)).toEqual(['held', 'confirmed']);
  });

  test('refuses what is not a hold (PT409 not_held) and an unknown guest (PT404)', async () => {
    const booking = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
    const error = await refusal(db.pool.query("select * from booking.confirm_hold($1, $2, notes => 'x')", [r.id, booking.id]));
    expect([error.code, error.reason]).toEqual(['PT409', 'not_held']);
    const held = await hold(await at('21:00'));
    expect((await refusal(db.pool.query('select * from booking.confirm_hold($1, $2, 999999)', [r.id, held.id]))).reason).toBe('client_not_found');
  });
});

describe('release_hold', () => {
  test('frees the table at once, and releasing again changes nothing', async () => {
    const held = await hold(await at('20:00'));
    const { rows } = await db.pool.query('select * from booking.release_hold($1, $2)', [r.id, held.id]);
    expect(rows[0].status).toBe('released');
    expect(await tablesAt('20:00')).toBe(2);
    const again = await db.pool.query('select * from booking.release_hold($1, $2)', [r.id, held.id]);
    expect(again.rows[0].updated_at).toEqual(rows[0].updated_at);
    expect(await history(held.id)).toEqual(['held', 'released']);
  });

  test('refuses a confirmed reservation (PT409 not_held), which cancel_reservation frees', async () => {
    const booking = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
    expect((await refusal(db.pool.query('select * from booking.release_hold($1, $2)', [r.id, booking.id]))).reason).toBe('not_held');
    const held = await hold(await at('21:00'));
    const cancel = await refusal(db.pool.query('select * from booking.cancel_reservation($1, $2)', [r.id, held.id]));
    expect([cancel.reason, cancel.hint]).toEqual(['not_cancellable', 'Release a hold with release_hold.']);
  });
});
