// Guests: upsert_client, create_client, update_client, delete_client.
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { book, refusal } from '../support/sql';

let db: TestDatabase;
let r: Restaurant;

beforeAll(async () => {
  db = await freshDatabase();
  r = await createRestaurant(db.pool);
});
afterAll(() => db.drop());

const upsert = (email: string, name: string | null = null, phone: string | null = null, restaurantId = r.id) =>
  db.pool.query('select * from booking.upsert_client($1, $2, $3, $4)', [restaurantId, email, name, phone]).then((res) => res.rows[0]);

describe('upsert_client', () => {
  test('creates a guest, then updates the same one whatever the e-mail case', async () => {
    const created = await upsert('Lola@Example.com', 'Lola', '+34 600 000 001');
    const updated = await upsert('lola@example.COM', 'Lola Flores');
    expect(updated.id).toBe(created.id);
    expect(updated).toMatchObject({ name: 'Lola Flores', phone: '+34 600 000 001', email: 'Lola@Example.com' });
    const { rows } = await db.pool.query("select count(*)::int as n from booking.clients where lower(email) = 'lola@example.com'");
    expect(rows[0].n).toBe(1);
  });

  test('keeps stored values for null arguments', async () => {
    await upsert('keep@example.com', 'Keep', '+34 600 000 002');
    await expect(upsert('keep@example.com')).resolves.toMatchObject({ name: 'Keep', phone: '+34 600 000 002' });
  });

  test('never duplicates a guest under concurrent calls', async () => {
    await Promise.all(Array.from({ length: 8 }, (_, i) => upsert('race@example.com', `Racer ${i}`)));
    const { rows } = await db.pool.query("select count(*)::int as n from booking.clients where email = 'race@example.com'");
    expect(rows[0].n).toBe(1);
  });

  test('PT404 restaurant_not_found for an unknown restaurant', async () => {
    const error = await refusal(upsert('x@example.com', null, null, '777777'));
    expect([error.code, error.reason]).toEqual(['PT404', 'restaurant_not_found']);
  });

  test('takes internationalised addresses and finds the guest again in any case of any script', async () => {
    const created = await upsert('ñandú@exämple.org', 'Ñandú');
    await expect(upsert('ÑANDÚ@EXÄMPLE.ORG', 'Ñandú Pérez')).resolves.toMatchObject({ id: created.id, name: 'Ñandú Pérez', email: 'ñandú@exämple.org' });
    await expect(upsert('δοκιμή@παράδειγμα.δοκιμή')).resolves.toMatchObject({ email: 'δοκιμή@παράδειγμα.δοκιμή' });
    const error = await refusal(db.pool.query("select booking.create_client($1, 'Δοκιμή@ΠΑΡΆΔΕΙΓΜΑ.δοκιμή')", [r.id]));
    expect(error.code).toBe('23505');
  });

  test.each(['not-an-email', '"quoted"@example.com', 'a..b@example.com', '.a@example.com', 'a@[10.0.0.1]', 'nbsp\u00a0@example.com', 'a@exämple'])('23514 for the e-mail %s', async (email) => {
    expect((await refusal(upsert(email))).code).toBe('23514');
  });

  test('23514 for a phone that is not a phone number', async () => {
    expect((await refusal(upsert('phone@example.com', null, 'call me maybe'))).code).toBe('23514');
  });

  test('23502 when the e-mail is missing', async () => {
    expect((await refusal(db.pool.query('select booking.upsert_client($1, null)', [r.id]))).code).toBe('23502');
  });
});

describe('create_client and update_client', () => {
  test('create_client refuses an e-mail already taken with 23505', async () => {
    await db.pool.query("select booking.create_client($1, 'dup@example.com', 'First')", [r.id]);
    const error = await refusal(db.pool.query("select booking.create_client($1, 'DUP@example.com', 'Second')", [r.id]));
    expect(error.code).toBe('23505');
  });

  test('update_client changes the given fields and keeps the rest', async () => {
    const client = await upsert('edit@example.com', 'Edit', '+34 600 000 003');
    const { rows } = await db.pool.query("select * from booking.update_client($1, $2, notes => 'allergic to nuts')", [r.id, client.id]);
    expect(rows[0]).toMatchObject({ name: 'Edit', phone: '+34 600 000 003', notes: 'allergic to nuts' });
  });

  test('update_client refuses an e-mail another guest has with 23505', async () => {
    await upsert('taken@example.com');
    const client = await upsert('mover@example.com');
    const error = await refusal(db.pool.query("select booking.update_client($1, $2, email => 'Taken@example.com')", [r.id, client.id]));
    expect(error.code).toBe('23505');
  });

  test("update_client answers PT404 client_not_found for another restaurant's guest", async () => {
    const other = await createRestaurant(db.pool, { name: 'Other' });
    const theirs = await upsert('theirs@example.com', null, null, other.id);
    const error = await refusal(db.pool.query("select booking.update_client($1, $2, name => 'Mine now')", [r.id, theirs.id]));
    expect([error.code, error.reason]).toEqual(['PT404', 'client_not_found']);
  });
});

describe('delete_client', () => {
  test('deletes a guest without reservations', async () => {
    const client = await upsert('gone@example.com', 'Gone');
    const { rows } = await db.pool.query('select booking.delete_client($1, $2) as outcome', [r.id, client.id]);
    expect(rows[0].outcome).toBe('deleted');
    expect((await db.pool.query('select 1 from booking.clients where id = $1', [client.id])).rowCount).toBe(0);
  });

  test('anonymises a guest with reservations and keeps the bookings', async () => {
    const client = await upsert('private@example.com', 'Private Person', '+34 600 000 004');
    const day = await localDate(db.pool, r.timezone, 3);
    const booking = await book(db.pool, { restaurantId: r.id, startsAt: await localInstant(db.pool, r.timezone, day, '13:00'), guests: 2, clientId: client.id });
    const { rows } = await db.pool.query('select booking.delete_client($1, $2) as outcome', [r.id, client.id]);
    expect(rows[0].outcome).toBe('anonymised');
    const stored = await db.pool.query('select name, phone, email, notes from booking.clients where id = $1', [client.id]);
    expect(stored.rows[0]).toEqual({ name: null, phone: null, notes: null, email: `anonymised-${client.id}@invalid.example` });
    expect((await db.pool.query('select client_id from booking.reservations where id = $1', [booking.id])).rows[0].client_id).toBe(client.id);
  });

  test('PT404 client_not_found for an unknown guest', async () => {
    const error = await refusal(db.pool.query('select booking.delete_client($1, 123456)', [r.id]));
    expect([error.code, error.reason]).toEqual(['PT404', 'client_not_found']);
  });
});
