// Assistants racing through /mcp for one slot: the exclusion constraint decides, as for /api,
// and every loser gets the alternatives to offer. Mutation testing leaves this file out for its
// cost (the slowest MCP test): what it proves is the database's rule, reached through tools
// that http.test.ts checks call by call.
import { startTestApi, tenant, type ApiUnderTest } from '../api/support';
import { callTool as call, httpClient, refusalOf, resultOf } from './support';

let t: ApiUnderTest;
beforeAll(async () => {
  // The 60 sessions open the pool's 20 connections at once, on a cold pool: on a busy shared
  // machine that can take longer than the default 5 s, which would be a 503, not a lost race.
  t = await startTestApi({ env: { DB_POOL_SIZE: '20', RATE_LIMIT_MAX: '100000', DB_CONNECTION_TIMEOUT_MS: '30000' } });
});
afterAll(() => t.close());

test('60 assistants racing through MCP for one slot with 4 fitting tables: exactly 4 book, the rest get alternatives', async () => {
  const storm = await tenant(t.db, { tables: [[4, 1], [4, 1], [4, 2], [6, 2], [2, 1]] });
  const date = await storm.at('20:00');
  const results = await Promise.all(
    Array.from({ length: 60 }, async (_v, i) => {
      const client = await httpClient(t.url, storm.key);
      try {
        return await call(client, 'book_table', { restaurant_id: storm.id, date, guests: 4, idempotency_key: `storm-${i}` });
      } finally {
        await client.close();
      }
    }),
  );
  const booked = results.filter((r) => !r.isError).map((r) => resultOf<{ table: { id: number } }>(r));
  expect(booked).toHaveLength(4);
  expect(new Set(booked.map((b) => b.table.id)).size).toBe(4);
  const refusals = results.filter((r) => r.isError).map(refusalOf);
  expect(refusals).toHaveLength(56);
  for (const refusal of refusals) {
    expect(refusal.details?.reason).toBe('all_tables_taken');
    expect(refusal.details?.alternatives?.length).toBeGreaterThan(0);
  }
  const { rows } = await t.db.pool.query("select count(*)::int as n from booking.reservations where restaurant_id = $1 and status = 'confirmed'", [storm.id]);
  expect(rows[0].n).toBe(4);
});
