// The schema's own guarantees, proven with raw SQL as a DBA or a script would write it: these
// hold whatever process writes the row.
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { refusal } from '../support/sql';

let db: TestDatabase;
let r: Restaurant;
let day: string;

beforeAll(async () => {
  db = await freshDatabase();
  r = await createRestaurant(db.pool, { bufferMinutes: 15 });
  day = await localDate(db.pool, r.timezone, 3);
});
afterAll(() => db.drop());

async function rawInsert(tableId: string, from: string, to: string, status = 'confirmed', restaurantId = r.id) {
  return db.pool.query(
    `insert into booking.reservations (restaurant_id, table_id, starts_at, ends_at, guests, status)
     values ($1, $2, $3, $4, 2, $5)
     returning id, lower(during) as lower, upper(during) as upper, lower_inc(during) as lower_inc, upper_inc(during) as upper_inc`,
    [restaurantId, tableId, await localInstant(db.pool, r.timezone, day, from), await localInstant(db.pool, r.timezone, day, to), status],
  );
}

/** The tables held by active reservations (booking.reservation_tables, which the constraint guards), in time order. */
async function activeHolds(): Promise<string[]> {
  const { rows } = await db.pool.query<{ table_id: string }>(
    'select table_id from booking.reservation_tables where restaurant_id = $1 and active order by lower(during), table_id',
    [r.id],
  );
  return rows.map((row) => row.table_id);
}

describe('exclusion constraint reservation_tables_no_overlap', () => {
  beforeEach(() => db.pool.query('delete from booking.reservations'));

  test('rejects an overlapping raw INSERT on the same table with 23P01', async () => {
    await rawInsert(r.tableIds[0]!, '19:00', '20:30');
    const error = await refusal(rawInsert(r.tableIds[0]!, '20:00', '21:30'));
    expect(error.code).toBe('23P01');
  });

  test('accepts the same time on another table', async () => {
    await rawInsert(r.tableIds[0]!, '19:00', '20:30');
    expect((await rawInsert(r.tableIds[1]!, '19:00', '20:30')).rowCount).toBe(1);
    expect(await activeHolds()).toEqual([r.tableIds[0], r.tableIds[1]]);
  });

  test('keeps the table blocked during the buffer: a stay ending 20:30 blocks it until 20:45', async () => {
    const { rows } = await rawInsert(r.tableIds[0]!, '19:00', '20:30');
    // during = [starts_at, ends_at + buffer): 19:00 included, 20:45 excluded.
    expect(rows[0]).toEqual({
      id: rows[0].id,
      lower: new Date(await localInstant(db.pool, r.timezone, day, '19:00')),
      upper: new Date(await localInstant(db.pool, r.timezone, day, '20:45')),
      lower_inc: true,
      upper_inc: false,
    });
    expect((await refusal(rawInsert(r.tableIds[0]!, '20:30', '22:00'))).code).toBe('23P01');
    expect((await refusal(rawInsert(r.tableIds[0]!, '20:44', '22:00'))).code).toBe('23P01');
    expect((await rawInsert(r.tableIds[0]!, '20:45', '22:15')).rowCount).toBe(1);
    expect(await activeHolds()).toEqual([r.tableIds[0], r.tableIds[0]]);
  });

  test.each(['cancelled', 'no_show', 'completed'])('does not let a %s reservation block the table', async (status) => {
    await rawInsert(r.tableIds[0]!, '19:00', '20:30', status);
    expect((await rawInsert(r.tableIds[0]!, '19:00', '20:30')).rowCount).toBe(1);
    expect(await activeHolds()).toEqual([r.tableIds[0]]);
  });

  test('a seated reservation blocks the table like a confirmed one', async () => {
    await rawInsert(r.tableIds[0]!, '19:00', '20:30', 'seated');
    expect((await refusal(rawInsert(r.tableIds[0]!, '19:30', '21:00'))).code).toBe('23P01');
  });

  test('rejects an update that moves a reservation onto an occupied table', async () => {
    await rawInsert(r.tableIds[0]!, '19:00', '20:30');
    const { rows } = await rawInsert(r.tableIds[1]!, '19:00', '20:30');
    const error = await refusal(db.pool.query('update booking.reservations set table_id = $1 where id = $2', [r.tableIds[0], rows[0].id]));
    expect(error.code).toBe('23P01');
  });
});

describe('check constraints', () => {
  test('rejects a stay that ends before it starts with 23514', async () => {
    expect((await refusal(rawInsert(r.tableIds[0]!, '20:00', '19:00'))).code).toBe('23514');
  });

  test.each([0, 21])('rejects a party of %i with 23514', async (guests) => {
    const at = await localInstant(db.pool, r.timezone, day, '13:00');
    const error = await refusal(
      db.pool.query(
        `insert into booking.reservations (restaurant_id, table_id, starts_at, ends_at, guests)
         values ($1, $2, $3, $3::timestamptz + interval '1 hour', $4)`,
        [r.id, r.tableIds[0], at, guests],
      ),
    );
    expect(error.code).toBe('23514');
  });

  test('rejects a party above the restaurant max_guests with 23514', async () => {
    const small = await createRestaurant(db.pool, { maxGuests: 6 });
    const at = await localInstant(db.pool, small.timezone, day, '13:00');
    const error = await refusal(
      db.pool.query(
        `insert into booking.reservations (restaurant_id, table_id, starts_at, ends_at, guests)
         values ($1, $2, $3, $3::timestamptz + interval '1 hour', 8)`,
        [small.id, small.tableIds[5], at],
      ),
    );
    expect(error.code).toBe('23514');
  });

  test.each([
    ['capacity below min_guests', "insert into booking.tables (restaurant_id, name, capacity, min_guests) values ($1, 'bad', 2, 3)"],
    ['min_guests of zero', "insert into booking.tables (restaurant_id, name, capacity, min_guests) values ($1, 'bad', 2, 0)"],
    ['a slot grid that does not divide the hour', "update booking.restaurants set slot_minutes = 25 where id = $1"],
    ['an unknown time zone', "update booking.restaurants set timezone = 'Mars/Olympus' where id = $1"],
    ['a time zone abbreviation', "update booking.restaurants set timezone = 'CEST' where id = $1"],
    ['an ISO weekday of 8', "insert into booking.opening_hours (restaurant_id, weekday, opens, closes) values ($1, 8, '10:00', '12:00')"],
  ])('rejects %s with 23514', async (_what, sql) => {
    expect((await refusal(db.pool.query(sql, [r.id]))).code).toBe('23514');
  });

  test.each(['"josé"@example.com', 'no-at-sign', 'a@b', 'spaces in@example.com'])('rejects the e-mail %s with 23514', async (email) => {
    const error = await refusal(db.pool.query('insert into booking.clients (restaurant_id, email) values ($1, $2)', [r.id, email]));
    expect(error.code).toBe('23514');
  });

  test('names of tables are unique per restaurant (23505)', async () => {
    const error = await refusal(db.pool.query("insert into booking.tables (restaurant_id, name, capacity) values ($1, 'T1', 2)", [r.id]));
    expect(error.code).toBe('23505');
  });

  test('e-mails are unique per restaurant whatever their case (23505), but may repeat across restaurants', async () => {
    await db.pool.query("insert into booking.clients (restaurant_id, email) values ($1, 'Eva@Example.com')", [r.id]);
    const error = await refusal(db.pool.query("insert into booking.clients (restaurant_id, email) values ($1, 'eva@example.COM')", [r.id]));
    expect(error.code).toBe('23505');
    const other = await createRestaurant(db.pool, { name: 'Elsewhere' });
    expect((await db.pool.query("insert into booking.clients (restaurant_id, email) values ($1, 'eva@example.com')", [other.id])).rowCount).toBe(1);
  });

  test('e-mails are unique whatever their case in every script, in a database of any locale (23505)', async () => {
    await db.pool.query("insert into booking.clients (restaurant_id, email) values ($1, 'éva@exämple.org')", [r.id]);
    for (const email of ['ÉVA@EXÄMPLE.ORG', 'Éva@Exämple.org']) {
      const error = await refusal(db.pool.query('insert into booking.clients (restaurant_id, email) values ($1, $2)', [r.id, email]));
      expect([email, error.code]).toEqual([email, '23505']);
    }
  });
});

describe('composite foreign keys', () => {
  let other: Restaurant;
  beforeAll(async () => {
    other = await createRestaurant(db.pool, { name: 'Other Place' });
  });

  test("rejects a reservation on another restaurant's table with 23503", async () => {
    expect((await refusal(rawInsert(other.tableIds[0]!, '13:00', '14:00'))).code).toBe('23503');
  });

  test("rejects a reservation for another restaurant's guest with 23503", async () => {
    const { rows } = await db.pool.query("insert into booking.clients (restaurant_id, email) values ($1, 'guest@other.test') returning id", [other.id]);
    const at = await localInstant(db.pool, r.timezone, day, '13:00');
    const error = await refusal(
      db.pool.query(
        `insert into booking.reservations (restaurant_id, table_id, client_id, starts_at, ends_at, guests)
         values ($1, $2, $3, $4, $4::timestamptz + interval '1 hour', 2)`,
        [r.id, r.tableIds[0], rows[0].id, at],
      ),
    );
    expect(error.code).toBe('23503');
  });
});

describe('housekeeping triggers', () => {
  test('updated_at follows every update', async () => {
    const { rows } = await db.pool.query(
      "insert into booking.clients (restaurant_id, email) values ($1, 'touch@example.com') returning updated_at",
      [r.id],
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    const after = await db.pool.query("update booking.clients set name = 'Touched' where email = 'touch@example.com' returning updated_at");
    expect(after.rows[0].updated_at.getTime()).toBeGreaterThan(rows[0].updated_at.getTime());
  });

  test('reservation history cannot be rewritten (42501)', async () => {
    await db.pool.query('delete from booking.reservations');
    await rawInsert(r.tableIds[0]!, '13:00', '14:00');
    const error = await refusal(db.pool.query("update booking.reservation_events set action = 'moved'"));
    expect(error.code).toBe('42501');
  });
});
