// Mixed traffic at a constant arrival rate, as load/scenarios.json describes it: mostly
// availability; bookings, half of them through a hold (mostly confirmed, some released, some
// left to lapse); cancels and reschedules of bookings this VU made; a few waitlist joins.
// 409 answers are expected, not failures.
//   k6 run -e BASE_URL=http://127.0.0.1:3000 -e TARGET_FILE=/path/target.json load/k6/mixed.ts
import http from 'k6/http';
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import { Rate, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { pickHoldOutcome, pickOperation, routes, waitlistWindow, type MixedRequest } from '../scenario-types.ts';
import { baseUrl, headers, randomInt, randomItem, scenarios, target, uniqueKey, expectOnly } from './common.ts';

const mixed = scenarios.mixed;
const unexpected = new Rate('unexpected_status');
// The two requests of a hold that the guest confirms, their thinking time excluded.
const holdToConfirm = new Trend('hold_to_confirm', true);
const allExpected = [...new Set(Object.values(mixed.expectedStatuses).flat())];

export const options: Options = {
  scenarios: {
    mixed: {
      executor: 'constant-arrival-rate',
      rate: mixed.ratePerSecond,
      timeUnit: '1s',
      duration: `${__ENV.DURATION_SECONDS || mixed.durationSeconds}s`,
      preAllocatedVUs: mixed.preAllocatedVUs,
      maxVUs: mixed.maxVUs,
    },
  },
  thresholds: {
    http_req_duration: [`p(95)<${mixed.thresholds.p95Ms}`],
    'http_req_duration{op:availability}': [`p(95)<${mixed.thresholds.availabilityP95Ms}`],
    http_req_failed: [`rate<=${mixed.thresholds.maxUnexpectedRate}`],
    unexpected_status: [`rate<=${mixed.thresholds.maxUnexpectedRate}`],
  },
};

expectOnly(allExpected);

// Bookings this VU made (directly or by confirming a hold) and still has (VU-local, like one
// assistant's memory).
const mine: string[] = [];
const { id: restaurantId, apiKey } = target.mixed;

function record(op: MixedRequest, response: { status: number }): void {
  unexpected.add(!mixed.expectedStatuses[op].includes(response.status));
  check(response, { [`${op}: expected status`]: (r) => mixed.expectedStatuses[op].includes(r.status) });
}

/** A hold, the guest's thinking time, then confirm, release, or nothing (a short hold left to lapse). */
function holdThenDecide(guests: number): void {
  const intent = pickHoldOutcome(mixed.holds.outcomes, Math.random());
  const minutes = intent === 'lapse' ? mixed.holds.lapseHoldMinutes : mixed.holds.holdMinutes;
  const held = http.post(
    `${baseUrl}${routes.holds(restaurantId)}`,
    JSON.stringify({ date: randomItem(target.mixed.bookable), guests, hold_minutes: minutes }),
    { headers: headers(apiKey, uniqueKey('mixed-hold', exec.vu.idInTest, exec.scenario.iterationInTest)), tags: { op: 'hold', intent } },
  );
  record('hold', held);
  if (held.status !== 201 || intent === 'lapse') return;
  const id = String(held.json('data.reservation.id'));
  sleep(randomInt(mixed.holds.decideMs[0], mixed.holds.decideMs[1]) / 1000);
  if (intent === 'confirm') {
    const confirmed = http.post(`${baseUrl}${routes.confirmHold(restaurantId, id)}`, null, { headers: headers(apiKey), tags: { op: 'confirm' } });
    record('confirm', confirmed);
    if (confirmed.status === 200) {
      holdToConfirm.add(held.timings.duration + confirmed.timings.duration);
      mine.push(id);
    }
  } else {
    record('release', http.del(`${baseUrl}${routes.hold(restaurantId, id)}`, null, { headers: headers(apiKey), tags: { op: 'release' } }));
  }
}

export default function (): void {
  let op = pickOperation(mixed.mix, Math.random());
  if ((op === 'cancel' || op === 'reschedule') && mine.length === 0) op = 'book';
  const guests = randomInt(mixed.guests[0], mixed.guests[1]);
  const tags = { op };
  if (op === 'availability') {
    const day = randomItem(target.mixed.days);
    record(op, http.get(`${baseUrl}${routes.availability(restaurantId, day, guests)}`, { headers: headers(apiKey), tags }));
  } else if (op === 'book') {
    const response = http.post(
      `${baseUrl}${routes.reservations(restaurantId)}`,
      JSON.stringify({ date: randomItem(target.mixed.bookable), guests }),
      { headers: headers(apiKey, uniqueKey('mixed', exec.vu.idInTest, exec.scenario.iterationInTest)), tags },
    );
    record(op, response);
    if (response.status === 201) mine.push(String(response.json('data.reservation.id')));
  } else if (op === 'hold') {
    holdThenDecide(guests);
  } else if (op === 'waitlist') {
    const body = {
      guests,
      ...waitlistWindow(randomItem(target.mixed.bookable), mixed.waitlist.windowMinutes),
      name: 'Load guest',
      phone: `+34 600 ${String(randomInt(0, 999999)).padStart(6, '0')}`,
    };
    record(op, http.post(`${baseUrl}${routes.waitlist(restaurantId)}`, JSON.stringify(body), { headers: headers(apiKey), tags }));
  } else if (op === 'cancel') {
    const id = mine.splice(randomInt(0, mine.length - 1), 1)[0]!;
    record(op, http.post(`${baseUrl}${routes.cancel(restaurantId, id)}`, null, { headers: headers(apiKey), tags }));
  } else {
    const id = randomItem(mine);
    const response = http.patch(
      `${baseUrl}${routes.reservation(restaurantId, id)}`,
      JSON.stringify({ date: randomItem(target.mixed.bookable) }),
      { headers: headers(apiKey), tags },
    );
    record(op, response);
  }
}
