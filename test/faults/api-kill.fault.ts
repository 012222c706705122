// The API process killed (SIGKILL, no shutdown at all) in the middle of a load and started again
// on the same database: no half-written booking, the invariants hold, and a client whose request
// got no answer recovers by replaying its Idempotency-Key: at most one booking per key.
import { request } from '../../load/engine';
import { Ledger, reservationFromBody } from '../../load/ledger';
import { scenarios } from '../../load/prepare';
import { runMixed } from '../../load/runners';
import { activeCount, ledgerMismatches, overlappingPairs } from '../../load/verify';
import { routes } from '../../load/scenario-types';
import { startFaultStack, waitUntilReady, type FaultStack } from './stack';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let stack: FaultStack;
beforeAll(async () => {
  stack = await startFaultStack();
});
afterAll(() => stack?.close());

test('killing the API mid-load leaves no half-written booking, and unanswered keys replay to one booking', async () => {
  const { target } = stack;
  const ledger = new Ledger();
  // Booking-heavy traffic so that some bookings are in flight when the process dies.
  const mix = { availability: 0.3, book: 0.6, cancel: 0.05, reschedule: 0.05 };
  const load = runMixed(stack.api.baseUrl, { ...scenarios, mixed: { ...scenarios.mixed, mix } }, target, ledger, {
    durationSeconds: 16,
    ratePerSecond: 60,
    timeoutMs: 20000,
  });
  await sleep(4000);
  const killed = stack.api;
  await killed.kill();
  expect(killed.child.signalCode).toBe('SIGKILL');
  await sleep(1000);
  const restarted = await stack.startApi();
  expect(restarted.child.pid).not.toBe(killed.child.pid);
  expect(await waitUntilReady(restarted.baseUrl, 30)).toBe(true);
  const ready = performance.now();
  const outcome = await load;

  // The outage shows as requests without an answer, never as a 5xx; afterwards all is normal.
  expect(outcome.metrics.samples.some((s) => s.status === 0)).toBe(true);
  expect(outcome.metrics.samples.filter((s) => s.status >= 500)).toEqual([]);
  expect(outcome.metrics.samples.filter((s) => s.at > ready + 500 && ![200, 201, 409].includes(s.status))).toEqual([]);

  // No half-written booking: every reservation has its creation event and consistent times.
  const { rows: broken } = await stack.pool.query(
    `select r.id from booking.reservations r
      join booking.restaurants x on x.id = r.restaurant_id
     where r.during <> tstzrange(r.starts_at, r.ends_at + make_interval(mins => x.buffer_minutes), '[)')
        or (select count(*) from booking.reservation_events e where e.reservation_id = r.id and e.action = 'created') <> 1`,
  );
  expect(broken).toEqual([]);

  // Clients that got no answer replay their key: the booking exists once, or is made now, or the
  // slot is gone (409) and then no row holds the key.
  const data = ledger.data();
  for (const lost of data.unanswered) {
    const replay = await request(restarted.baseUrl, 'POST', routes.reservations(lost.restaurantId), {
      apiKey: target.mixed.apiKey,
      idempotencyKey: lost.idempotencyKey,
      body: lost.body,
    });
    expect([200, 201, 409]).toContain(replay.status);
    const { rows } = await stack.pool.query<{ id: string }>('select id::text from booking.reservations where idempotency_key = $1', [
      lost.idempotencyKey,
    ]);
    if (replay.status === 409) expect(rows).toEqual([]);
    else expect(rows.map((r) => r.id)).toEqual([reservationFromBody(replay.body)?.id]);
  }

  // Invariants: no overlap, every acknowledged booking as told, active rows within what the
  // clients can know (unanswered bookings were replayed above, so each may now exist once).
  expect(await overlappingPairs(stack.pool)).toBe(0);
  expect(await ledgerMismatches(stack.pool, data)).toEqual([]);
  const acknowledged = data.bookings.filter((b) => !b.cancelled).length;
  const uncertain = data.bookings.filter((b) => b.uncertain).length;
  const active = await activeCount(stack.pool, target.mixed.id);
  expect(active).toBeGreaterThanOrEqual(acknowledged - uncertain);
  expect(active).toBeLessThanOrEqual(acknowledged + data.unanswered.length);
});
