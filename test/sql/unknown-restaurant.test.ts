// Every function of the SQL API answers PT404 restaurant_not_found for a restaurant that does not
// exist, before anything else.
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { refusal } from '../support/sql';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(() => db.drop());

test.each([
  ['book_table', "select booking.book_table(424242, now() + interval '1 day', 2)"],
  ['available_table_counts', 'select * from booking.available_table_counts(424242, current_date + 1, 2)'],
  ['upsert_client', "select booking.upsert_client(424242, 'a@example.com')"],
  ['create_client', "select booking.create_client(424242, 'a@example.com')"],
  ['update_client', "select booking.update_client(424242, 1, name => 'x')"],
  ['delete_client', 'select booking.delete_client(424242, 1)'],
  ['cancel_reservation', 'select booking.cancel_reservation(424242, 1)'],
  ['reschedule_reservation', "select booking.reschedule_reservation(424242, 1, guests => 2)"],
  ['set_reservation_status', "select booking.set_reservation_status(424242, 1, 'seated')"],
  ['create_api_key', "select booking.create_api_key(424242, 'label')"],
])('%s answers PT404 restaurant_not_found for an unknown restaurant', async (_name, sql) => {
  const error = await refusal(db.pool.query(sql));
  expect([error.code, error.reason]).toEqual(['PT404', 'restaurant_not_found']);
});
