// load/scenarios.json is shared by the k6 scripts and the Node driver: keep it meaning what the
// load tests claim (the traffic mix; storm slots that prove min(requests, tables)).
import { scenarios } from '../../load/prepare';
import { pickOperation } from '../../load/scenario-types';

test('the mixed traffic is about 80% availability, 15% bookings, 5% cancels and reschedules', () => {
  const { mix } = scenarios.mixed;
  expect(mix.availability + mix.book + mix.cancel + mix.reschedule).toBeCloseTo(1, 10);
  expect(mix.availability).toBeCloseTo(0.8, 10);
  expect(mix.book).toBeCloseTo(0.15, 10);
  expect(mix.cancel + mix.reschedule).toBeCloseTo(0.05, 10);
  const counts = { availability: 0, book: 0, cancel: 0, reschedule: 0 };
  for (let i = 0; i < 1000; i += 1) counts[pickOperation(mix, i / 1000)] += 1;
  // Evenly spread draws land in proportion (±1 where a boundary is a sum of decimals).
  const expected = { availability: 800, book: 150, cancel: 25, reschedule: 25 };
  for (const op of Object.keys(expected) as Array<keyof typeof expected>) expect(Math.abs(counts[op] - expected[op])).toBeLessThanOrEqual(1);
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
