// Booking storm: many virtual users race for the same evening's slots of one restaurant.
// Exactly min(requests, fitting tables) bookings per slot may succeed; everyone else gets 409.
//   k6 run -e BASE_URL=http://127.0.0.1:3000 -e TARGET_FILE=/path/target.json load/k6/storm.ts
import http from 'k6/http';
import { check } from 'k6';
import exec from 'k6/execution';
import { Counter, Rate } from 'k6/metrics';
import type { Options } from 'k6/options';
import { routes } from '../scenario-types.ts';
import { baseUrl, expectOnly, headers, scenarios, target, uniqueKey } from './common.ts';

const storm = scenarios.storm;
const totalRequests = storm.slots.reduce((sum, slot) => sum + slot.requests, 0);

const unexpected = new Rate('unexpected_status');
const booked = new Counter('bookings_acknowledged');
const refused = new Counter('bookings_refused');

export const options: Options = {
  scenarios: {
    storm: {
      executor: 'shared-iterations',
      vus: storm.virtualUsers,
      iterations: totalRequests,
      maxDuration: '2m',
    },
  },
  thresholds: {
    http_req_duration: [`p(95)<${storm.thresholds.p95Ms}`],
    http_req_failed: [`rate<=${storm.thresholds.maxUnexpectedRate}`],
    unexpected_status: [`rate<=${storm.thresholds.maxUnexpectedRate}`],
  },
};

expectOnly(storm.expectedStatuses);

/** Iteration i books the slot whose cumulative request range holds i. */
function slotFor(iteration: number): { startsAt: string } {
  let end = 0;
  for (const slot of target.storm.slots) {
    end += slot.requests;
    if (iteration < end) return slot;
  }
  return target.storm.slots[target.storm.slots.length - 1]!;
}

export default function (): void {
  const iteration = exec.scenario.iterationInTest;
  const slot = slotFor(iteration);
  const response = http.post(
    `${baseUrl}${routes.reservations(target.storm.id)}`,
    JSON.stringify({ date: slot.startsAt, guests: target.storm.guests, notes: `storm ${iteration}` }),
    { headers: headers(target.storm.apiKey, uniqueKey('storm', exec.vu.idInTest, iteration)), tags: { op: 'book' } },
  );
  unexpected.add(!storm.expectedStatuses.includes(response.status));
  if (response.status === 201) booked.add(1);
  if (response.status === 409) refused.add(1);
  check(response, {
    'booked or refused with alternatives': (r) =>
      r.status === 201 || (r.status === 409 && Array.isArray(r.json('error.details.alternatives'))),
  });
}
