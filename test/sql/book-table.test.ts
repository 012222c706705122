// booking.book_table called as a DBA would: choice of table, every refusal with its SQLSTATE
// and reason, idempotency.
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { book, refusal } from '../support/sql';

let db: TestDatabase;
let r: Restaurant;
let day: string;
const at = (time: string, onDay = day, restaurant = r) => localInstant(db.pool, restaurant.timezone, onDay, time);

beforeAll(async () => {
  db = await freshDatabase();
  // Tables: T1 2 (1+), T2 2 (1+), T3 4 (2+), T4 4 (2+), T5 6 (3+), T6 8 (4+).
  r = await createRestaurant(db.pool, {
    hours: [1, 2, 3, 4, 5, 6, 7].flatMap((d): Array<[number, string, string]> => [
      [d, '13:00', '16:00'],
      [d, '20:00', '23:30'],
    ]),
  });
  day = await localDate(db.pool, r.timezone, 5);
});
afterAll(() => db.drop());
beforeEach(() => db.pool.query('delete from booking.reservations'));

describe('choosing a table', () => {
  test('takes the smallest active table that fits the party', async () => {
    const booking = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 3 });
    expect(booking.table_id).toBe(r.tableIds[2]);
    expect(booking.status).toBe('confirmed');
  });

  test('moves to the next smallest when the best table is taken', async () => {
    await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 3 });
    const second = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:15'), guests: 3 });
    expect(second.table_id).toBe(r.tableIds[3]);
  });

  test('respects min_guests: a party of one never takes a four-seat table', async () => {
    await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 1 });
    await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 1 });
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 1 }));
    expect(error.code).toBe('PT409');
    expect(error.reason).toBe('all_tables_taken');
  });

  test('skips inactive tables', async () => {
    await db.pool.query('update booking.tables set active = false where id = $1', [r.tableIds[0]]);
    try {
      const booking = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
      expect(booking.table_id).toBe(r.tableIds[1]);
    } finally {
      await db.pool.query('update booking.tables set active = true where id = $1', [r.tableIds[0]]);
    }
  });

  test('books the requested table_id when it is free', async () => {
    const booking = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 3, tableId: r.tableIds[4] });
    expect(booking.table_id).toBe(r.tableIds[4]);
  });

  test('uses the party-size turn time and the buffer for the blocked period', async () => {
    await db.pool.query('insert into booking.turn_times (restaurant_id, max_guests, minutes) values ($1, 4, 60), ($1, 20, 150)', [r.id]);
    try {
      const small = await book(db.pool, { restaurantId: r.id, startsAt: await at('13:00'), guests: 2 });
      const large = await book(db.pool, { restaurantId: r.id, startsAt: await at('13:00'), guests: 8 });
      expect((small.ends_at.getTime() - small.starts_at.getTime()) / 60000).toBe(60);
      expect((large.ends_at.getTime() - large.starts_at.getTime()) / 60000).toBe(150);
      const { rows } = await db.pool.query('select upper(during) - ends_at as buffer from booking.reservations where id = $1', [small.id]);
      expect(rows[0].buffer).toEqual({ minutes: 15 });
    } finally {
      await db.pool.query('delete from booking.turn_times');
    }
  });

  test('books a period that runs past midnight on the day it opened', async () => {
    const night = await createRestaurant(db.pool, { hours: [1, 2, 3, 4, 5, 6, 7].map((d): [number, string, string] => [d, '22:00', '03:00']) });
    const next = await localDate(db.pool, night.timezone, 6);
    const booking = await book(db.pool, { restaurantId: night.id, startsAt: await at('00:30', next, night), guests: 2 });
    expect(booking.table_id).toBe(night.tableIds[0]);
    const late = await refusal(book(db.pool, { restaurantId: night.id, startsAt: await at('02:00', next, night), guests: 2 }));
    expect(late.reason).toBe('ends_after_closing');
  });
});

describe('refusals', () => {
  test('PT404 restaurant_not_found for an unknown restaurant', async () => {
    const error = await refusal(book(db.pool, { restaurantId: '999999', startsAt: await at('20:00'), guests: 2 }));
    expect([error.code, error.reason]).toEqual(['PT404', 'restaurant_not_found']);
  });

  test('PT404 client_not_found for a client of no one or of another restaurant', async () => {
    const other = await createRestaurant(db.pool, { name: 'Other' });
    const { rows } = await db.pool.query("select id from booking.upsert_client($1, 'x@other.test')", [other.id]);
    for (const clientId of ['424242', rows[0].id]) {
      const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2, clientId }));
      expect([error.code, error.reason]).toEqual(['PT404', 'client_not_found']);
    }
  });

  test('PT404 table_not_found for a table of another restaurant', async () => {
    const other = await createRestaurant(db.pool, { name: 'Other tables' });
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2, tableId: other.tableIds[0] }));
    expect([error.code, error.reason]).toEqual(['PT404', 'table_not_found']);
  });

  test.each([0, 21, -3])('22023 invalid_guests for a party of %i', async (guests) => {
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests }));
    expect([error.code, error.reason]).toEqual(['22023', 'invalid_guests']);
  });

  test('22023 when starts_at is missing', async () => {
    const error = await refusal(db.pool.query('select booking.book_table($1, null, 2)', [r.id]));
    expect(error.code).toBe('22023');
  });

  test('PT422 in_past for a time before now', async () => {
    const yesterday = await localDate(db.pool, r.timezone, -1);
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00', yesterday), guests: 2 }));
    expect([error.code, error.reason]).toEqual(['PT422', 'in_past']);
  });

  test('PT422 too_soon inside the minimum notice', async () => {
    const strict = await createRestaurant(db.pool, { minNoticeMinutes: 60 * 24 * 3 });
    const soon = await localDate(db.pool, strict.timezone, 1);
    const error = await refusal(book(db.pool, { restaurantId: strict.id, startsAt: await at('20:00', soon, strict), guests: 2 }));
    expect([error.code, error.reason]).toEqual(['PT422', 'too_soon']);
  });

  test('PT422 beyond_horizon past the booking horizon', async () => {
    const far = await localDate(db.pool, r.timezone, 400);
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00', far), guests: 2 }));
    expect([error.code, error.reason]).toEqual(['PT422', 'beyond_horizon']);
    expect(error.hint).toBeTruthy();
  });

  test.each(['20:10', '20:00:30'])('PT422 off_grid for %s on a 15-minute grid', async (time) => {
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at(time), guests: 2 }));
    expect([error.code, error.reason]).toEqual(['PT422', 'off_grid']);
  });

  test('PT422 closed between services', async () => {
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('17:00'), guests: 2 }));
    expect([error.code, error.reason]).toEqual(['PT422', 'closed']);
  });

  test('PT422 closed on a weekday without opening hours', async () => {
    const weekdays = await createRestaurant(db.pool, { hours: [[1, '13:00', '16:00']] });
    const { rows } = await db.pool.query<{ day: string }>(
      "select to_char(d, 'YYYY-MM-DD') as day from generate_series(current_date + 2, current_date + 9, '1 day') d where extract(isodow from d) = 3 limit 1",
    );
    const error = await refusal(book(db.pool, { restaurantId: weekdays.id, startsAt: await at('13:00', rows[0]!.day, weekdays), guests: 2 }));
    expect(error.reason).toBe('closed');
  });

  test('PT422 closure on a closed day, with the reason', async () => {
    await db.pool.query("insert into booking.closures (restaurant_id, day, reason) values ($1, $2, 'Private event')", [r.id, day]);
    try {
      const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 }));
      expect([error.code, error.reason, error.detail?.closure]).toEqual(['PT422', 'closure', 'Private event']);
    } finally {
      await db.pool.query('delete from booking.closures');
    }
  });

  test('PT422 ends_after_closing when the stay would outlast the service', async () => {
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('22:30'), guests: 2 }));
    expect([error.code, error.reason]).toEqual(['PT422', 'ends_after_closing']);
  });

  test('PT422 party_too_large above the restaurant maximum', async () => {
    const small = await createRestaurant(db.pool, { maxGuests: 6 });
    const error = await refusal(book(db.pool, { restaurantId: small.id, startsAt: await at('20:00', day, small), guests: 7 }));
    expect([error.code, error.reason]).toEqual(['PT422', 'party_too_large']);
  });

  test('PT422 no_table_fits when no table seats the party', async () => {
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 12 }));
    expect([error.code, error.reason]).toEqual(['PT422', 'no_table_fits']);
  });

  test('PT422 table_does_not_fit and table_inactive for an unsuitable requested table', async () => {
    const tooSmall = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 5, tableId: r.tableIds[0] }));
    expect([tooSmall.code, tooSmall.reason]).toEqual(['PT422', 'table_does_not_fit']);
    await db.pool.query('update booking.tables set active = false where id = $1', [r.tableIds[0]]);
    try {
      const inactive = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2, tableId: r.tableIds[0] }));
      expect([inactive.code, inactive.reason]).toEqual(['PT422', 'table_inactive']);
    } finally {
      await db.pool.query('update booking.tables set active = true where id = $1', [r.tableIds[0]]);
    }
  });

  test('PT409 all_tables_taken lists the nearest free slots of that service', async () => {
    // Only T5 and T6 seat six; both are then blocked 20:00-21:45 (90 minutes and the 15-minute buffer).
    for (let i = 0; i < 2; i += 1) await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 6 });
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:30'), guests: 6 }));
    expect([error.code, error.reason]).toEqual(['PT409', 'all_tables_taken']);
    const alternatives = error.detail?.alternatives as Array<{ local_time: string; tables_available: number }>;
    expect(alternatives.length).toBeGreaterThan(0);
    expect(alternatives.length).toBeLessThanOrEqual(5);
    expect(alternatives[0]).toMatchObject({ local_time: '21:45' });
    for (const slot of alternatives) expect(slot.tables_available).toBeGreaterThan(0);
  });

  test('PT409 table_taken for a requested table that is booked', async () => {
    await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2, tableId: r.tableIds[0] });
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:30'), guests: 2, tableId: r.tableIds[0] }));
    expect([error.code, error.reason]).toEqual(['PT409', 'table_taken']);
  });
});

describe('idempotency', () => {
  test('a replay with the same key and arguments returns the original reservation', async () => {
    const args = { restaurantId: r.id, startsAt: await at('20:00'), guests: 2, key: 'call-1', notes: 'window' };
    const first = await book(db.pool, args);
    const again = await book(db.pool, args);
    expect(again.id).toBe(first.id);
    const { rows } = await db.pool.query('select count(*)::int as n from booking.reservations');
    expect(rows[0].n).toBe(1);
  });

  test('the same instant written in another offset is the same request', async () => {
    const first = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2, key: 'call-tz' });
    const utc = new Date(first.starts_at).toISOString();
    await expect(book(db.pool, { restaurantId: r.id, startsAt: utc, guests: 2, key: 'call-tz' })).resolves.toMatchObject({ id: first.id });
  });

  test('23505 idempotency_key_reused when the key comes with other arguments', async () => {
    await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2, key: 'call-2' });
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 3, key: 'call-2' }));
    expect([error.code, error.reason]).toEqual(['23505', 'idempotency_key_reused']);
  });

  test('keys are per restaurant', async () => {
    const other = await createRestaurant(db.pool, { name: 'Keys elsewhere' });
    const mine = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2, key: 'shared' });
    const theirs = await book(db.pool, { restaurantId: other.id, startsAt: await at('20:00', day, other), guests: 2, key: 'shared' });
    expect(theirs.id).not.toBe(mine.id);
  });

  test('concurrent calls with one key book once', async () => {
    const args = { restaurantId: r.id, startsAt: await at('21:00'), guests: 4, key: 'race' };
    const results = await Promise.all(Array.from({ length: 10 }, () => book(db.pool, args)));
    expect(new Set(results.map((b) => b.id)).size).toBe(1);
    const { rows } = await db.pool.query("select count(*)::int as n from booking.reservations where idempotency_key = 'race'");
    expect(rows[0].n).toBe(1);
  });
});
