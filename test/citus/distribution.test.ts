// What only a Citus cluster can show (run by `npm run test:citus`, never by `npm test`): the
// schema really is distributed by restaurant, two restaurants on different workers book at the
// same time with exact counts, and the exclusion rule holds on a shard for a raw INSERT sent
// through the coordinator.
import pg from 'pg';
import { connections, freshDatabase, testTarget, type TestDatabase } from '../support/cluster';
import { createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { refusal } from '../support/sql';
import { overlappingPairs } from '../../load/verify';
import { REFERENCE_TABLES, TENANT_TABLES } from '../../db/distribute';

if (testTarget() !== 'citus') throw new Error('test/citus runs only with NORA_TEST_TARGET=citus (npm run test:citus)');

let db: TestDatabase;
let restaurants: Restaurant[];
const RACERS = 12;

/** The worker (host:port) holding a restaurant's shard. */
async function workerOf(restaurantId: string): Promise<string> {
  const { rows } = await db.pool.query<{ node: string }>(
    `select p.nodename || ':' || p.nodeport as node from pg_dist_shard_placement p
     where p.shardid = get_shard_id_for_distribution_column('booking.restaurants', $1::bigint)`,
    [restaurantId],
  );
  return rows[0]!.node;
}

beforeAll(async () => {
  db = await freshDatabase();
  // Restaurants until two of them live on different workers.
  restaurants = [await createRestaurant(db.pool, { tables: [[2, 1], [2, 1], [2, 1], [4, 1], [4, 1]] })];
  const first = await workerOf(restaurants[0]!.id);
  for (let i = 0; i < 20 && restaurants.length < 2; i++) {
    const r = await createRestaurant(db.pool, { tables: [[2, 1], [2, 1], [2, 1], [4, 1], [4, 1]] });
    if ((await workerOf(r.id)) !== first) restaurants.push(r);
  }
});
afterAll(() => db.drop());

test('every tenant table is distributed by restaurant in one colocation group, and the API keys are a reference table', async () => {
  const { rows } = await db.pool.query<{ table: string; method: string; column: string | null; colocation: number }>(
    `select logicalrelid::regclass::text as table, partmethod as method,
            column_to_column_name(logicalrelid, partkey) as column, colocationid as colocation
     from pg_dist_partition`,
  );
  const byName = new Map(rows.map((row) => [row.table, row]));
  const colocation = byName.get('booking.restaurants')!.colocation;
  for (const table of TENANT_TABLES) {
    expect({ table, method: byName.get(table)?.method, column: byName.get(table)?.column, colocation: byName.get(table)?.colocation }).toEqual({
      table,
      method: 'h',
      column: table === 'booking.restaurants' ? 'id' : 'restaurant_id',
      colocation,
    });
  }
  for (const table of REFERENCE_TABLES) expect(byName.get(table)?.method).toBe('n');
  const { rows: workers } = await db.pool.query<{ n: number }>('select count(distinct nodeid)::int as n from pg_dist_shard_placement join pg_dist_node using (nodename, nodeport) where groupid <> 0');
  expect(workers[0]!.n).toBe(2);
});

test('two restaurants whose shards live on different workers, booked at once by 12 connections each, get exactly their 5 tables each', async () => {
  expect(restaurants).toHaveLength(2);
  expect(await workerOf(restaurants[0]!.id)).not.toBe(await workerOf(restaurants[1]!.id));
  const clients = await connections(db.url, RACERS * 2);
  try {
    const results = await Promise.all(
      restaurants.map(async (r, n) => {
        const day = await localDate(db.pool, r.timezone, 5);
        const startsAt = await localInstant(db.pool, r.timezone, day, '20:00');
        return Promise.all(
          clients.slice(n * RACERS, (n + 1) * RACERS).map(async (client: pg.Client) => {
            try {
              await client.query('select booking.book_table($1, $2, 2)', [r.id, startsAt]);
              return 'booked';
            } catch (error) {
              return (await refusal(Promise.reject(error))).code;
            }
          }),
        );
      }),
    );
    for (const outcomes of results) {
      expect(outcomes.filter((o) => o === 'booked')).toHaveLength(5);
      expect(outcomes.filter((o) => o !== 'booked')).toEqual(Array(RACERS - 5).fill('PT409'));
    }
    for (const r of restaurants) {
      const { rows } = await db.pool.query<{ n: number }>("select count(*)::int as n from booking.reservations where restaurant_id = $1 and status = 'confirmed'", [r.id]);
      expect(rows[0]!.n).toBe(5);
    }
    expect(await overlappingPairs(db.pool)).toBe(0);
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
});

test('a raw overlapping INSERT sent through the coordinator is refused on the shard with 23P01', async () => {
  const r = restaurants[1]!;
  const day = await localDate(db.pool, r.timezone, 9);
  const at = (time: string) => localInstant(db.pool, r.timezone, day, time);
  const insert = async (from: string, to: string) =>
    db.pool.query(
      `insert into booking.reservations (restaurant_id, table_id, starts_at, ends_at, guests, status)
       values ($1, $2, $3, $4, 2, 'confirmed')`,
      [r.id, r.tableIds[0], await at(from), await at(to)],
    );
  await insert('13:00', '14:00');
  const error = await refusal(insert('13:30', '15:00'));
  expect(error.code).toBe('23P01');
});
