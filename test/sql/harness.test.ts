import { freshDatabase, type TestDatabase } from '../support/cluster';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(() => db.drop());

test('each test file gets a migrated database of its own', async () => {
  const { rows } = await db.pool.query("select count(*)::int as n from pg_proc where proname = 'book_table'");
  expect(rows[0].n).toBe(1);
});
