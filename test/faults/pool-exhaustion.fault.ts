// More concurrent requests than the API has database connections: they wait for a connection
// and succeed, with no error from pool exhaustion, and the pool never grows past its size.
import { request } from '../../load/engine';
import { routes } from '../../load/scenario-types';
import { startFaultStack, type FaultStack } from './stack';

const POOL_SIZE = 2;
let stack: FaultStack;
beforeAll(async () => {
  stack = await startFaultStack({ DB_POOL_SIZE: String(POOL_SIZE) });
});
afterAll(() => stack?.close());

async function apiConnections(): Promise<number> {
  const { rows } = await stack.pool.query<{ n: number }>(
    "select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'nora-api'",
  );
  return rows[0]!.n;
}

test(`150 concurrent requests over a pool of ${POOL_SIZE} connections queue and all succeed`, async () => {
  const { storm, mixed } = stack.target;
  const slot = storm.slots[1]!;
  let observing = true;
  const seen: number[] = [];
  const observer = (async () => {
    for (let i = 0; observing && i < 2000; i += 1) {
      seen.push(await apiConnections());
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const availability = Array.from({ length: 100 }, (_, i) =>
    request(stack.api.baseUrl, 'GET', routes.availability(mixed.id, mixed.days[i % mixed.days.length]!, 1 + (i % 6)), {
      apiKey: mixed.apiKey,
      timeoutMs: 30000,
    }),
  );
  const bookings = Array.from({ length: 50 }, (_, i) =>
    request(stack.api.baseUrl, 'POST', routes.reservations(storm.id), {
      apiKey: storm.apiKey,
      idempotencyKey: `pool-${i}`,
      body: { date: slot.startsAt, guests: storm.guests },
      timeoutMs: 30000,
    }),
  );
  const [answers, booked] = await Promise.all([Promise.all(availability), Promise.all(bookings)]);
  observing = false;
  await observer;

  expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
  const statuses = booked.map((b) => b.status);
  const { rows } = await stack.pool.query<{ n: number }>(
    'select count(*)::int as n from booking.tables where restaurant_id = $1 and active and min_guests <= $2 and capacity >= $2',
    [storm.id, storm.guests],
  );
  const fitting = rows[0]!.n;
  expect(statuses.filter((s) => s === 201)).toHaveLength(Math.min(50, fitting));
  expect(statuses.filter((s) => s !== 201 && s !== 409)).toEqual([]);
  // The requests really did outnumber the connections, and the pool never grew past its size.
  expect(Math.max(...seen)).toBeGreaterThan(0);
  expect(Math.max(...seen)).toBeLessThanOrEqual(POOL_SIZE);
});
