// Seating as a dining room does it, called as a DBA would: combinations of tables guarded per
// table for any writer, the order book_table seats a party in, areas, and opening periods.
import pg from 'pg';
import { connections, freshDatabase, type TestDatabase } from '../support/cluster';
import { addCombination, createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { book, refusal } from '../support/sql';

let db: TestDatabase;
let r: Restaurant;
let day: string;
let pair: string;
let trio: string;
const at = (time: string, restaurant = r) => localInstant(db.pool, restaurant.timezone, day, time);

beforeAll(async () => {
  db = await freshDatabase();
  // T1, T2 two-tops inside; T3, T4, T5 four-tops inside; T6 a four-top on the terrace.
  r = await createRestaurant(db.pool, {
    tables: [[2, 1, 'inside'], [2, 1, 'inside'], [4, 2, 'inside'], [4, 2, 'inside'], [4, 2, 'inside'], [4, 2, 'terrace']],
  });
  pair = await addCombination(db.pool, r.id, { name: 'T3+T4', tableIds: [r.tableIds[2]!, r.tableIds[3]!], minGuests: 5, capacity: 8 });
  trio = await addCombination(db.pool, r.id, {
    name: 'T3+T4+T5',
    tableIds: [r.tableIds[2]!, r.tableIds[3]!, r.tableIds[4]!],
    minGuests: 7,
    capacity: 12,
  });
  day = await localDate(db.pool, r.timezone, 4);
});
afterAll(() => db.drop());
beforeEach(() => db.pool.query('delete from booking.reservations'));

async function heldTables(reservationId: string): Promise<Array<{ table_id: string; active: boolean }>> {
  const { rows } = await db.pool.query(
    'select table_id, active from booking.reservation_tables where reservation_id = $1 order by table_id',
    [reservationId],
  );
  return rows;
}

async function rawInsert(columns: { tableId?: string; combinationId?: string }, from: string, to: string) {
  return db.pool.query<{ id: string; table_id: string }>(
    `insert into booking.reservations (restaurant_id, table_id, combination_id, starts_at, ends_at, guests)
     values ($1, $2, $3, $4, $5, 2) returning id, table_id`,
    [r.id, columns.tableId ?? null, columns.combinationId ?? null, await at(from), await at(to)],
  );
}

describe('reservation_tables: the tables each reservation holds', () => {
  test('lists one row for a single table and one per member for a combination, kept by trigger', async () => {
    const single = await rawInsert({ tableId: r.tableIds[0] }, '13:00', '14:00');
    expect(await heldTables(single.rows[0]!.id)).toEqual([{ table_id: r.tableIds[0], active: true }]);
    const joined = await rawInsert({ combinationId: trio }, '13:00', '14:00');
    expect(joined.rows[0]!.table_id).toBe(r.tableIds[2]);
    expect(await heldTables(joined.rows[0]!.id)).toEqual(r.tableIds.slice(2, 5).map((id) => ({ table_id: id, active: true })));
  });

  test('follows a cancellation, a move to another time and a move to another place', async () => {
    const { rows } = await rawInsert({ combinationId: pair }, '13:00', '14:00');
    const id = rows[0]!.id;
    // The new times computed first: Citus refuses an UPDATE whose SET calls a STABLE function
    // (timestamptz + interval) on a column.
    const { rows: later } = await db.pool.query<{ starts_at: Date; ends_at: Date }>(
      `select starts_at + interval '1 hour' as starts_at, ends_at + interval '1 hour' as ends_at from booking.reservations where id = $1`,
      [id],
    );
    await db.pool.query('update booking.reservations set starts_at = $2, ends_at = $3 where id = $1', [id, later[0]!.starts_at, later[0]!.ends_at]);
    const { rows: moved } = await db.pool.query<{ same: boolean }>(
      `select bool_and(rt.during = r.during) as same from booking.reservation_tables rt join booking.reservations r on r.restaurant_id = rt.restaurant_id and r.id = rt.reservation_id
        where r.id = $1`,
      [id],
    );
    expect(moved[0]!.same).toBe(true);
    await db.pool.query('update booking.reservations set combination_id = null, table_id = $2 where id = $1', [id, r.tableIds[5]]);
    expect(await heldTables(id)).toEqual([{ table_id: r.tableIds[5], active: true }]);
    await db.pool.query("update booking.reservations set status = 'cancelled' where id = $1", [id]);
    expect(await heldTables(id)).toEqual([{ table_id: r.tableIds[5], active: false }]);
  });

  test('rejects a raw single-table booking that overlaps a combination holding that table with 23P01', async () => {
    await rawInsert({ combinationId: trio }, '13:00', '14:00');
    expect((await refusal(rawInsert({ tableId: r.tableIds[4] }, '13:30', '14:30'))).code).toBe('23P01');
  });

  test('rejects a raw combination booking that overlaps a booking of any member table with 23P01', async () => {
    await rawInsert({ tableId: r.tableIds[3] }, '13:00', '14:00');
    expect((await refusal(rawInsert({ combinationId: pair }, '13:45', '15:00'))).code).toBe('23P01');
    expect((await refusal(rawInsert({ combinationId: trio }, '12:30', '13:30'))).code).toBe('23P01');
  });

  test('rejects a raw update that moves a reservation onto a combination whose member is taken (23P01)', async () => {
    await rawInsert({ tableId: r.tableIds[2] }, '13:00', '14:00');
    const { rows } = await rawInsert({ tableId: r.tableIds[0] }, '13:00', '14:00');
    const error = await refusal(db.pool.query('update booking.reservations set table_id = null, combination_id = $2 where id = $1', [rows[0]!.id, pair]));
    expect(error.code).toBe('23P01');
  });

  test('refuses a table_id that is not one of the combination\'s tables (23514)', async () => {
    expect((await refusal(rawInsert({ tableId: r.tableIds[0], combinationId: pair }, '13:00', '14:00'))).code).toBe('23514');
  });

  test('cannot be written by hand (42501)', async () => {
    const { rows } = await rawInsert({ tableId: r.tableIds[0] }, '13:00', '14:00');
    expect((await refusal(db.pool.query('delete from booking.reservation_tables where reservation_id = $1', [rows[0]!.id]))).code).toBe('42501');
    expect((await refusal(db.pool.query('update booking.reservation_tables set active = false'))).code).toBe('42501');
    expect((await heldTables(rows[0]!.id))).toHaveLength(1);
  });
});

describe('table_combinations', () => {
  test('must join at least two tables, checked at commit (23514)', async () => {
    const error = await refusal(addCombination(db.pool, r.id, { name: 'alone', tableIds: [r.tableIds[0]!], minGuests: 1, capacity: 3 }));
    expect(error.code).toBe('23514');
    const lonely = refusal(db.pool.query('delete from booking.table_combination_members where combination_id = $1 and table_id = $2', [pair, r.tableIds[3]]));
    expect((await lonely).code).toBe('23514');
  });

  test("cannot join another restaurant's table (23503)", async () => {
    const other = await createRestaurant(db.pool, { name: 'Next door' });
    const error = await refusal(addCombination(db.pool, r.id, { name: 'stolen', tableIds: [r.tableIds[0]!, other.tableIds[0]!], minGuests: 1, capacity: 4 }));
    expect(error.code).toBe('23503');
  });

  test.each([
    ['a capacity above 20', 21, 1],
    ['a capacity below min_guests', 4, 5],
  ])('refuses %s (23514)', async (_what, capacity, minGuests) => {
    const error = await refusal(
      db.pool.query('insert into booking.table_combinations (restaurant_id, name, min_guests, capacity) values ($1, $2, $3, $4)', [
        r.id, 'bad', minGuests, capacity,
      ]),
    );
    expect(error.code).toBe('23514');
  });

  test('names are unique per restaurant (23505)', async () => {
    const error = await refusal(db.pool.query("insert into booking.table_combinations (restaurant_id, name, capacity) values ($1, 'T3+T4', 8)", [r.id]));
    expect(error.code).toBe('23505');
  });
});

describe('book_table seats the party', () => {
  test('at the smallest combination (capacity, then fewest tables) when no single table is large enough', async () => {
    const six = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 6 });
    expect(six.combination_id).toBe(pair);
    expect(await heldTables(six.id)).toEqual([r.tableIds[2], r.tableIds[3]].map((id) => ({ table_id: id, active: true })));
    const eight = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 8 }));
    expect([eight.code, eight.reason]).toEqual(['PT409', 'all_tables_taken']);
    expect(await book(db.pool, { restaurantId: r.id, startsAt: await at('22:00'), guests: 10 })).toMatchObject({ combination_id: trio });
  });

  test('at a single table whenever one fits and is free, before any combination', async () => {
    const solo = await addCombination(db.pool, r.id, { name: 'T1+T2', tableIds: [r.tableIds[0]!, r.tableIds[1]!], minGuests: 3, capacity: 4 });
    try {
      const seated = [];
      for (let i = 0; i < 5; i++) seated.push(await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 4 }));
      expect(seated.map((b) => b.combination_id)).toEqual([null, null, null, null, solo]);
      expect(seated.slice(0, 4).map((b) => b.table_id)).toEqual(r.tableIds.slice(2, 6));
    } finally {
      await db.pool.query('delete from booking.reservations');
      await db.pool.query('delete from booking.table_combinations where id = $1', [solo]);
    }
  });

  test('at the requested combination_id, or refuses it with combination_taken and alternatives', async () => {
    const first = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 8, combinationId: trio });
    expect(first.combination_id).toBe(trio);
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:30'), guests: 6, combinationId: pair }));
    expect([error.code, error.reason]).toEqual(['PT409', 'combination_taken']);
    expect((error.detail!.alternatives as unknown[]).length).toBeGreaterThan(0);
  });

  test.each([
    ['combination_not_found', 'PT404', { combinationId: '999999', guests: 6 }],
    ['combination_does_not_fit', 'PT422', { combinationId: 'pair', guests: 4 }],
    ['table_and_combination', '22023', { combinationId: 'pair', tableId: 'T1', guests: 6 }],
  ])('refuses %s', async (reason, code, args) => {
    const error = await refusal(
      book(db.pool, {
        restaurantId: r.id,
        startsAt: await at('20:00'),
        guests: args.guests,
        combinationId: args.combinationId === 'pair' ? pair : args.combinationId,
        tableId: 'tableId' in args ? r.tableIds[0] : undefined,
      }),
    );
    expect([error.code, error.reason]).toEqual([code, reason]);
  });

  test('never at a combination with a table out of service', async () => {
    await db.pool.query('update booking.tables set active = false where id = $1', [r.tableIds[4]]);
    try {
      const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 9 }));
      expect([error.code, error.reason]).toEqual(['PT422', 'no_table_fits']);
      const asked = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 7, combinationId: trio }));
      expect([asked.code, asked.reason]).toEqual(['PT422', 'combination_inactive']);
    } finally {
      await db.pool.query('update booking.tables set active = true where id = $1', [r.tableIds[4]]);
    }
  });

  test('refuses a party larger than every table and combination with no_table_fits naming the largest', async () => {
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 13 }));
    expect([error.code, error.reason, error.detail!.largest_table]).toEqual(['PT422', 'no_table_fits', 12]);
  });

  test('counts two combinations sharing a table once, and exactly that many bookings succeed', async () => {
    const counts = await db.pool.query<{ tables_available: number }>(
      "select tables_available from booking.available_table_counts($1, $2, 7) where local_time = '20:00'",
      [r.id, day],
    );
    expect(counts.rows[0]!.tables_available).toBe(1);
    const six = await db.pool.query<{ tables_available: number }>(
      "select tables_available from booking.available_table_counts($1, $2, 6) where local_time = '20:00'",
      [r.id, day],
    );
    // T3+T4 and T3+T4+T5 share two tables: one party of six, not two.
    expect(six.rows[0]!.tables_available).toBe(1);
    await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 6 });
    const next = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 6 }));
    expect(next.reason).toBe('all_tables_taken');
  });
});

describe('reschedule_reservation', () => {
  test('moves a party that grew onto a combination, and back to a single table when it shrinks', async () => {
    const booking = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 4 });
    const { rows: grown } = await db.pool.query('select * from booking.reschedule_reservation($1, $2, guests => 7)', [r.id, booking.id]);
    expect(grown[0].combination_id).toBe(pair);
    expect(await heldTables(booking.id)).toHaveLength(2);
    const { rows: shrunk } = await db.pool.query('select * from booking.reschedule_reservation($1, $2, guests => 4)', [r.id, booking.id]);
    expect([shrunk[0].combination_id, shrunk[0].table_id]).toEqual([null, r.tableIds[2]]);
    const { rows: events } = await db.pool.query('select action from booking.reservation_events where reservation_id = $1 order by id', [booking.id]);
    expect(events.map((e) => e.action)).toEqual(['created', 'moved', 'moved']);
  });

  test('keeps its combination when it is still free at the new time, even where a smaller one is free', async () => {
    const booking = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 8, combinationId: trio });
    const { rows } = await db.pool.query('select * from booking.reschedule_reservation($1, $2, starts_at => $3)', [r.id, booking.id, await at('21:00')]);
    expect(rows[0].combination_id).toBe(trio);
  });
});

describe('areas', () => {
  test('book only tables in the area asked for, lower-cased', async () => {
    const booking = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2, area: 'Terrace' });
    expect(booking.table_id).toBe(r.tableIds[5]);
  });

  test('a refusal under an area filter names the area and offers times in it', async () => {
    await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2, area: 'terrace' });
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:30'), guests: 2, area: 'terrace' }));
    expect([error.code, error.reason, error.detail!.area]).toEqual(['PT409', 'all_tables_taken', 'terrace']);
    expect(error.message).toContain('terrace');
    const alternatives = error.detail!.alternatives as Array<{ local_time: string }>;
    expect(alternatives.map((a) => a.local_time)).not.toContain('20:15');
    expect(alternatives[0]!.local_time).toBe('21:45');
  });

  test('an unknown area is PT422 unknown_area listing the restaurant\'s areas', async () => {
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2, area: 'roof' }));
    expect([error.code, error.reason, error.detail!.areas]).toEqual(['PT422', 'unknown_area', ['inside', 'terrace']]);
    expect(error.hint).toBe('Ask for one of: inside, terrace.');
    const counts = await refusal(db.pool.query('select * from booking.available_table_counts($1, $2, 2, $3)', [r.id, day, 'roof']));
    expect(counts.reason).toBe('unknown_area');
  });

  test('a party no table of the area seats is no_table_fits naming the area', async () => {
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 6, area: 'terrace' }));
    expect([error.code, error.reason, error.detail!.area]).toEqual(['PT422', 'no_table_fits', 'terrace']);
  });

  test('availability counts only the tables and combinations of the area', async () => {
    const counts = async (guests: number, area: string | null) =>
      (await db.pool.query("select tables_available from booking.available_table_counts($1, $2, $3, $4) where local_time = '20:00'", [r.id, day, guests, area])).rows[0]
        .tables_available;
    expect([await counts(2, null), await counts(2, 'terrace'), await counts(2, 'inside')]).toEqual([6, 1, 5]);
    expect([await counts(6, 'inside'), await counts(6, 'terrace')]).toEqual([1, 0]);
  });

  test('are lower-case words (23514)', async () => {
    expect((await refusal(db.pool.query("update booking.tables set area = 'Terrace' where id = $1", [r.tableIds[0]]))).code).toBe('23514');
  });
});

describe('opening_hours', () => {
  test('refuses a period overlapping another of the same weekday (23P01), but not one of another day', async () => {
    const place = await createRestaurant(db.pool, { name: 'Night owl', hours: [[5, '20:00', '02:00']] });
    const overlap = "insert into booking.opening_hours (restaurant_id, weekday, opens, closes) values ($1, $2, $3, $4)";
    expect((await refusal(db.pool.query(overlap, [place.id, 5, '23:00', '23:30']))).code).toBe('23P01');
    expect((await refusal(db.pool.query(overlap, [place.id, 5, '12:00', '20:30']))).code).toBe('23P01');
    await expect(db.pool.query(overlap, [place.id, 5, '12:00', '16:00'])).resolves.toBeDefined();
    await expect(db.pool.query(overlap, [place.id, 6, '01:00', '03:00'])).resolves.toBeDefined();
  });
});

describe('concurrency with combinations', () => {
  test('parties racing for overlapping combinations get exactly as many as available counts, with no table held twice', async () => {
    const racers = await connections(db.url, 12);
    try {
      const startsAt = await at('21:00');
      const outcomes = await Promise.all(
        racers.map((client) =>
          client.query('select combination_id from booking.book_table($1, $2, 7)', [r.id, startsAt]).then(
            (result) => result.rows[0].combination_id as string,
            (error: pg.DatabaseError) => `${error.code} ${JSON.parse(error.detail ?? '{}').reason}`,
          ),
        ),
      );
      expect(outcomes.sort()).toEqual([pair, ...Array(11).fill('PT409 all_tables_taken')].sort());
      const { rows } = await db.pool.query(
        `select count(*)::int as n from booking.reservation_tables a join booking.reservation_tables b
           on a.restaurant_id = b.restaurant_id and a.table_id = b.table_id and a.reservation_id < b.reservation_id and a.during && b.during and a.active and b.active`,
      );
      expect(rows[0].n).toBe(0);
    } finally {
      await Promise.all(racers.map((client) => client.end()));
    }
  });
});
