// API keys are stored hashed and resolve to one scope; the API role can run the booking
// functions and read what the API lists, and nothing more.
import pg from 'pg';
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { refusal } from '../support/sql';

let db: TestDatabase;
let r: Restaurant;
let api: pg.Client;

beforeAll(async () => {
  db = await freshDatabase();
  r = await createRestaurant(db.pool);
  // The server's own connection: the owner login switched to the API role, as server/db does.
  api = new pg.Client({ connectionString: db.url, options: `-c role=${db.apiRole}` });
  await api.connect();
});
afterAll(async () => {
  await api.end();
  await db.drop();
});

const createKey = (restaurantId: string | null, label: string) =>
  db.pool.query<{ key: string }>('select booking.create_api_key($1, $2) as key', [restaurantId, label]).then((res) => res.rows[0]!.key);

describe('API keys', () => {
  test('create_api_key returns a key once and stores only its hash', async () => {
    const key = await createKey(r.id, 'phone assistant');
    expect(key).toMatch(/^nora_[0-9a-f]{64}$/);
    const { rows } = await db.pool.query('select * from booking_private.api_keys');
    expect(JSON.stringify(rows)).not.toContain(key.slice(5));
  });

  test('resolve_api_key gives the restaurant and label of a key, and nothing for an unknown one', async () => {
    const key = await createKey(r.id, 'chat bot');
    const { rows } = await api.query('select restaurant_id, label from booking.resolve_api_key($1)', [key]);
    expect(rows).toEqual([{ restaurant_id: r.id, label: 'chat bot' }]);
    expect((await api.query('select * from booking.resolve_api_key($1)', [`${key}x`])).rows).toEqual([]);
  });

  test('an admin key has no restaurant', async () => {
    const key = await createKey(null, 'operator');
    const { rows } = await api.query('select restaurant_id from booking.resolve_api_key($1)', [key]);
    expect(rows).toEqual([{ restaurant_id: null }]);
  });

  test('a revoked key no longer resolves', async () => {
    const key = await createKey(r.id, 'old');
    const { rows } = await db.pool.query('select key_id from booking.resolve_api_key($1)', [key]);
    await db.pool.query('select booking.revoke_api_key($1)', [rows[0].key_id]);
    expect((await api.query('select * from booking.resolve_api_key($1)', [key])).rows).toEqual([]);
  });

  test('PT404 restaurant_not_found for a key of an unknown restaurant', async () => {
    const error = await refusal(createKey('55555', 'ghost'));
    expect([error.code, error.reason]).toEqual(['PT404', 'restaurant_not_found']);
  });
});

describe('the API role', () => {
  test('books, lists availability and reads reservations through the functions', async () => {
    const day = await localDate(db.pool, r.timezone, 2);
    const startsAt = await localInstant(db.pool, r.timezone, day, '20:00');
    const booked = await api.query('select id from booking.book_table($1, $2, 2)', [r.id, startsAt]);
    expect(booked.rowCount).toBe(1);
    expect((await api.query('select * from booking.available_table_counts($1, $2, 2)', [r.id, day])).rowCount).toBeGreaterThan(0);
    expect((await api.query('select id from booking.reservations where id = $1', [booked.rows[0].id])).rowCount).toBe(1);
  });

  test.each([
    ['insert into booking.reservations', "insert into booking.clients (restaurant_id, email) values (1, 'sneaky@example.com')"],
    ['update reservations', "update booking.reservations set status = 'cancelled'"],
    ['delete tables', 'delete from booking.tables'],
    ['read the key hashes', 'select * from booking_private.api_keys'],
    ['create API keys', "select booking.create_api_key(null, 'escalate')"],
    ['call the private helpers', 'select booking_private.restaurant(1)'],
  ])('may not %s (42501)', async (_what, sql) => {
    expect((await refusal(api.query(sql))).code).toBe('42501');
  });
});
