// load/scenarios.json is shared by the k6 scripts and the Node driver: keep it meaning what the
// load tests claim (the issues' traffic mix, holds and waitlist included; storm slots that prove
// min(requests, tables)).
import { scenarios } from '../../load/prepare';
import { mixedOperations, pickHoldOutcome, pickOperation, waitlistWindow, type MixedOperation } from '../../load/scenario-types';

test('the mixed traffic is 79% availability, 15% bookings (half through a hold), 5% cancels and reschedules, 1% waitlist', () => {
  const { mix } = scenarios.mixed;
  const shares = mixedOperations.map((op) => mix[op] ?? 0);
  expect(shares.reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 10);
  expect(Object.keys(mix).sort()).toEqual([...mixedOperations].sort());
  expect(mix.availability).toBeCloseTo(0.79, 10);
  expect(mix.book + mix.hold!).toBeCloseTo(0.15, 10);
  expect(mix.hold).toBeCloseTo(mix.book, 10);
  expect(mix.cancel + mix.reschedule).toBeCloseTo(0.05, 10);
  expect(mix.waitlist).toBeCloseTo(0.01, 10);
  const counts: Record<MixedOperation, number> = { availability: 0, book: 0, hold: 0, cancel: 0, reschedule: 0, waitlist: 0 };
  for (let i = 0; i < 1000; i += 1) counts[pickOperation(mix, i / 1000)] += 1;
  // Evenly spread draws land in proportion (±1 where a boundary is a sum of decimals).
  const expected = { availability: 790, book: 75, hold: 75, cancel: 25, reschedule: 25, waitlist: 10 };
  for (const op of mixedOperations) expect(Math.abs(counts[op] - expected[op])).toBeLessThanOrEqual(1);
});

test('a mix without holds or a waitlist (the fault tests\' own) never picks them', () => {
  const mix = { availability: 0.3, book: 0.6, cancel: 0.05, reschedule: 0.05 };
  const picked = new Set(Array.from({ length: 1000 }, (_, i) => pickOperation(mix, i / 1000)));
  expect([...picked].sort()).toEqual(['availability', 'book', 'cancel', 'reschedule']);
});

test('most holds are confirmed, some released, some left to lapse within the run', () => {
  const { holds, durationSeconds } = scenarios.mixed;
  const { confirm, release, lapse } = holds.outcomes;
  expect(confirm + release + lapse).toBeCloseTo(1, 10);
  expect(confirm).toBeGreaterThan(0.5);
  expect(release).toBeGreaterThan(0);
  expect(lapse).toBeGreaterThan(0);
  const counts = { confirm: 0, release: 0, lapse: 0 };
  for (let i = 0; i < 1000; i += 1) counts[pickHoldOutcome(holds.outcomes, i / 1000)] += 1;
  expect(counts).toEqual({ confirm: Math.round(confirm * 1000), release: Math.round(release * 1000), lapse: Math.round(lapse * 1000) });
  // A lapsing hold is the shortest the API allows, shorter than the run, so holds of its first
  // part lapse while the load goes on; the others outlast the guest's thinking by far.
  expect(holds.lapseHoldMinutes).toBe(1);
  expect(holds.lapseHoldMinutes * 60).toBeLessThan(durationSeconds);
  expect(holds.holdMinutes).toBeGreaterThanOrEqual(1);
  expect(holds.holdMinutes).toBeLessThanOrEqual(30);
  expect(holds.decideMs[1]).toBeLessThan(holds.holdMinutes * 60000);
});

test('every request of the mixed scenario has its expected statuses listed', () => {
  const { expectedStatuses } = scenarios.mixed;
  expect(expectedStatuses).toEqual({
    availability: [200],
    book: [201, 409],
    hold: [201, 409],
    confirm: [200, 409],
    release: [200],
    cancel: [200],
    reschedule: [200, 409],
    waitlist: [201],
  });
});

test('a waitlist window spans the minutes either side of a bookable time, within the API\'s 7 days', () => {
  const minutes = scenarios.mixed.waitlist.windowMinutes;
  const at = '2026-12-12T19:00:00.000Z';
  const { earliest, latest } = waitlistWindow(at, minutes);
  expect(Date.parse(at) - Date.parse(earliest)).toBe(minutes * 60000);
  expect(Date.parse(latest) - Date.parse(at)).toBe(minutes * 60000);
  expect(minutes).toBeGreaterThan(0);
  expect(2 * minutes).toBeLessThanOrEqual(7 * 24 * 60);
});

test('storm slots oversubscribe the fitting tables, except one that does not, and never overlap', () => {
  const { storm, restaurants } = scenarios;
  const fitting = restaurants.storm.tables.filter(([capacity, min]) => min <= storm.guests && capacity >= storm.guests).length;
  expect(storm.slots.filter((s) => s.requests > fitting).length).toBeGreaterThanOrEqual(2);
  expect(storm.slots.filter((s) => s.requests < fitting).length).toBeGreaterThanOrEqual(1);
  expect(storm.virtualUsers).toBeGreaterThanOrEqual(200);
  // A party of up to 6 stays 105 min plus the 15 min buffer in the demo rules: 2 h apart is safe.
  const minutes = storm.slots.map((s) => Number(s.time.slice(0, 2)) * 60 + Number(s.time.slice(3))).sort((a, b) => a - b);
  for (let i = 1; i < minutes.length; i += 1) expect(minutes[i]! - minutes[i - 1]!).toBeGreaterThanOrEqual(120);
});

test('every status a scenario accepts is a documented answer, and 5xx never is', () => {
  const accepted = [...scenarios.storm.expectedStatuses, ...Object.values(scenarios.mixed.expectedStatuses).flat()];
  expect(accepted.filter((status) => status >= 500)).toEqual([]);
});
