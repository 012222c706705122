// PostgreSQL stopped in the middle of a load and started again (DESIGN §7, Faults): requests fail
// fast with 503 rather than hang, /ready says not ready, the same API process serves again once
// the database is back, no acknowledged booking is lost, and replaying an Idempotency-Key after
// the outage returns the booking instead of making a second one.
import { randomUUID } from 'node:crypto';
import { request, type HttpResult } from '../../load/engine';
import { Ledger, reservationFromBody } from '../../load/ledger';
import { scenarios } from '../../load/prepare';
import { runMixed } from '../../load/runners';
import { ledgerMismatches, overlappingPairs } from '../../load/verify';
import { routes } from '../../load/scenario-types';
import { startFaultStack, waitUntilReady, type FaultStack } from './stack';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A 503 (or any answer) must come well before a client would give up: no hanging requests
 *  (the API runs with its default settings, e.g. a 5 s connection timeout). */
const FAIL_FAST_MS = 8000;

let stack: FaultStack;
beforeAll(async () => {
  stack = await startFaultStack();
});
afterAll(() => stack?.close());

async function book(key: string, startsAt: string): Promise<HttpResult> {
  const { id, apiKey } = stack.target.mixed;
  return request(stack.api.baseUrl, 'POST', routes.reservations(id), {
    apiKey,
    idempotencyKey: key,
    body: { date: startsAt, guests: 2 },
    timeoutMs: 30000,
  });
}

async function rowsWithKey(key: string): Promise<number> {
  const { rows } = await stack.pool.query<{ n: number }>('select count(*)::int as n from booking.reservations where idempotency_key = $1', [key]);
  return rows[0]!.n;
}

test('a PostgreSQL restart under load: fast 503s, /ready down then up, same process, nothing lost, keys replay', async () => {
  const { target, api } = stack;
  const pid = api.child.pid;
  const ledger = new Ledger();
  const load = runMixed(api.baseUrl, scenarios, target, ledger, { durationSeconds: 30, ratePerSecond: 25, timeoutMs: 30000 });

  await sleep(4000);
  const keyBefore = `before-${randomUUID()}`;
  const before = await book(keyBefore, target.mixed.bookable[3]!);
  expect(before.status).toBe(201);

  await stack.stopPostgres();
  const outageStarted = performance.now();
  const readyDuringOutage: number[] = [];
  const keyDuring = `during-${randomUUID()}`;
  const during = await book(keyDuring, target.mixed.bookable[7]!);
  for (let i = 0; i < 8; i += 1) {
    readyDuringOutage.push((await request(api.baseUrl, 'GET', '/ready', { timeoutMs: FAIL_FAST_MS })).status);
    await sleep(500);
  }
  await stack.startPostgres();
  const outageEnded = performance.now();
  expect(await waitUntilReady(api.baseUrl, 30)).toBe(true);
  const recovered = performance.now();
  const outcome = await load;

  // During the outage: a quick 503, and /ready not ready.
  expect(during.status).toBe(503);
  expect(during.ms).toBeLessThan(FAIL_FAST_MS);
  expect(readyDuringOutage.every((status) => status === 503)).toBe(true);

  // Every request of the load got an answer, quickly, and nothing but expected answers or 503.
  const samples = outcome.metrics.samples;
  expect(samples.filter((s) => s.status === 0)).toEqual([]);
  expect(Math.max(...samples.map((s) => s.ms))).toBeLessThan(FAIL_FAST_MS);
  expect([...new Set(samples.map((s) => s.status))].filter((s) => ![200, 201, 409, 503].includes(s))).toEqual([]);
  expect(samples.some((s) => s.status === 503 && s.at > outageStarted && s.at < outageEnded + 1000)).toBe(true);
  const afterRecovery = samples.filter((s) => s.at > recovered + 500);
  expect(afterRecovery.length).toBeGreaterThan(20);
  expect(afterRecovery.filter((s) => s.status >= 500)).toEqual([]);

  // The same server process serves again: it was never restarted.
  expect(api.child.pid).toBe(pid);
  expect(api.child.exitCode).toBeNull();

  // Idempotency-Key replays after the outage: the booking made before it comes back as is, the
  // one refused during it is made once, and replaying that one returns it again.
  const replayBefore = await book(keyBefore, target.mixed.bookable[3]!);
  expect([200, 201]).toContain(replayBefore.status);
  expect(reservationFromBody(replayBefore.body)?.id).toBe(reservationFromBody(before.body)?.id);
  const retried = await book(keyDuring, target.mixed.bookable[7]!);
  expect(retried.status).toBe(201);
  const replayed = await book(keyDuring, target.mixed.bookable[7]!);
  expect(reservationFromBody(replayed.body)?.id).toBe(reservationFromBody(retried.body)?.id);
  expect(await rowsWithKey(keyBefore)).toBe(1);
  expect(await rowsWithKey(keyDuring)).toBe(1);

  // No acknowledged booking lost or changed, and no double booking.
  ledger.booked(target.mixed.id, keyBefore, before.status, before.body);
  expect(await ledgerMismatches(stack.pool, ledger.data())).toEqual([]);
  expect(await overlappingPairs(stack.pool)).toBe(0);
});
