// Runners for the storm and mixed scenarios of load/scenarios.json, from Node against a base URL. The
// k6 scripts in load/k6 are the same scenarios for k6 users.
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { setTimeout as sleep } from 'node:timers/promises';
import { pickHoldOutcome, pickOperation, routes, waitlistWindow, type Scenarios, type Target } from './scenario-types';
import { constantArrivalRate, request } from './engine';
import { Metrics, type Threshold } from './metrics';
import type { Ledger } from './ledger';

const randomInt = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));
const randomItem = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** A legacy 409 body with the nearest free slots to offer (the list may be empty on a full day). */
function hasAlternatives(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { error?: { details?: { alternatives?: unknown } } };
    return Array.isArray(parsed.error?.details?.alternatives);
  } catch {
    return false;
  }
}

export interface StormOutcome {
  metrics: Metrics;
  slots: Array<{ startsAt: string; requests: number; acknowledged: number }>;
  thresholds: Threshold[];
}

interface StormContext {
  slot?: number;
  key?: string;
  started?: number;
}

export async function runStorm(baseUrl: string, scenarios: Scenarios, target: Target, ledger: Ledger): Promise<StormOutcome> {
  const storm = scenarios.storm;
  const slots = target.storm.slots.map((slot) => ({ startsAt: slot.startsAt, requests: slot.requests, acknowledged: 0 }));
  const total = slots.reduce((sum, slot) => sum + slot.requests, 0);
  const slotOf: number[] = slots.flatMap((slot, index) => Array<number>(slot.requests).fill(index));
  const metrics = new Metrics();
  let next = 0;
  let refusalsWithoutAlternatives = 0;
  const result = await autocannon({
    url: baseUrl,
    connections: Math.min(storm.virtualUsers, total),
    amount: total,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: routes.reservations(target.storm.id),
        setupRequest: (req, context) => {
          const ctx = context as StormContext;
          const index = next++;
          ctx.slot = slotOf[Math.min(index, total - 1)]!;
          ctx.key = `storm-${randomUUID()}`;
          ctx.started = performance.now();
          return {
            ...req,
            headers: {
              authorization: `Bearer ${target.storm.apiKey}`,
              'content-type': 'application/json',
              'idempotency-key': ctx.key,
            },
            body: JSON.stringify({ date: slots[ctx.slot]!.startsAt, guests: target.storm.guests, notes: `storm ${index}` }),
          };
        },
        onResponse: (status, body, context) => {
          const ctx = context as StormContext;
          metrics.add('book', status, performance.now() - (ctx.started ?? performance.now()));
          const booking = ledger.booked(target.storm.id, ctx.key ?? '', status, body);
          if (booking && status === 201) slots[ctx.slot ?? 0]!.acknowledged += 1;
          if (status === 409 && !hasAlternatives(body)) refusalsWithoutAlternatives += 1;
        },
      },
    ],
  });
  metrics.finish();
  for (let i = 0; i < result.errors; i += 1) metrics.add('book', 0, result.latency.max);
  ledger.unansweredBookings += result.errors;
  const latency = metrics.latency();
  const unexpected = metrics.unexpected(() => storm.expectedStatuses).length;
  const thresholds: Threshold[] = [
    { name: `p(95)<${storm.thresholds.p95Ms}ms`, ok: latency.p95 < storm.thresholds.p95Ms, actual: `p(95)=${latency.p95.toFixed(1)}ms` },
    {
      name: `unexpected status rate<=${storm.thresholds.maxUnexpectedRate} (expected: ${storm.expectedStatuses.join(', ')})`,
      ok: unexpected / Math.max(1, metrics.samples.length) <= storm.thresholds.maxUnexpectedRate,
      actual: `${unexpected}/${metrics.samples.length}`,
    },
    {
      name: '409s explain themselves (error.details.alternatives)',
      ok: refusalsWithoutAlternatives === 0,
      actual: `${refusalsWithoutAlternatives} without`,
    },
  ];
  return { metrics, slots, thresholds };
}

export interface MixedOutcome {
  metrics: Metrics;
  thresholds: Threshold[];
}

export interface MixedOptions {
  durationSeconds?: number;
  ratePerSecond?: number;
  /** Stop early (e.g. a fault test that has seen enough). */
  stop?: () => boolean;
  timeoutMs?: number;
}

export async function runMixed(
  baseUrl: string,
  scenarios: Scenarios,
  target: Target,
  ledger: Ledger,
  options: MixedOptions = {},
): Promise<MixedOutcome> {
  const mixed = scenarios.mixed;
  const { id: restaurantId, apiKey } = target.mixed;
  const metrics = new Metrics();
  // Bookings the assistant made (directly or by confirming a hold) and may cancel or reschedule.
  const mine: string[] = [];
  const timeoutMs = options.timeoutMs ?? 15000;

  /**
   * A hold, the guest's thinking time, then their answer: confirm (the hold becomes one of the
   * assistant's bookings), release, or nothing at all (a short hold left to lapse). The time the
   * two requests of a hold → confirm took, thinking excluded, is the `hold_to_confirm` trend.
   */
  async function holdThenDecide(guests: number): Promise<void> {
    const intent = pickHoldOutcome(mixed.holds.outcomes, Math.random());
    const key = `mixed-hold-${randomUUID()}`;
    const minutes = intent === 'lapse' ? mixed.holds.lapseHoldMinutes : mixed.holds.holdMinutes;
    const body = { date: randomItem(target.mixed.bookable), guests, hold_minutes: minutes };
    const held = await request(baseUrl, 'POST', routes.holds(restaurantId), { apiKey, idempotencyKey: key, body, timeoutMs });
    metrics.add('hold', held.status, held.ms);
    const hold = ledger.held(restaurantId, key, held.status, held.body, intent);
    if (!hold || intent === 'lapse') return;
    await sleep(randomInt(mixed.holds.decideMs[0], mixed.holds.decideMs[1]));
    if (intent === 'confirm') {
      const r = await request(baseUrl, 'POST', routes.confirmHold(restaurantId, hold.id), { apiKey, timeoutMs });
      metrics.add('confirm', r.status, r.ms);
      if (r.status === 200) metrics.trend('hold_to_confirm', held.ms + r.ms);
      const booking = ledger.confirmed(hold.id, r.status, r.body);
      if (booking) mine.push(booking.id);
    } else {
      const r = await request(baseUrl, 'DELETE', routes.hold(restaurantId, hold.id), { apiKey, timeoutMs });
      metrics.add('release', r.status, r.ms);
      ledger.released(hold.id, r.status, r.body);
    }
  }

  const { dropped } = await constantArrivalRate({
    ratePerSecond: options.ratePerSecond ?? mixed.ratePerSecond,
    durationMs: (options.durationSeconds ?? mixed.durationSeconds) * 1000,
    maxInFlight: mixed.maxVUs,
    stop: options.stop,
    iteration: async () => {
      let op = pickOperation(mixed.mix, Math.random());
      if ((op === 'cancel' || op === 'reschedule') && mine.length === 0) op = 'book';
      const guests = randomInt(mixed.guests[0], mixed.guests[1]);
      if (op === 'availability') {
        const path = routes.availability(restaurantId, randomItem(target.mixed.days), guests);
        const r = await request(baseUrl, 'GET', path, { apiKey, timeoutMs });
        ledger.status(r.status);
        metrics.add(op, r.status, r.ms);
      } else if (op === 'book') {
        const key = `mixed-${randomUUID()}`;
        const body = { date: randomItem(target.mixed.bookable), guests };
        const r = await request(baseUrl, 'POST', routes.reservations(restaurantId), { apiKey, idempotencyKey: key, body, timeoutMs });
        metrics.add(op, r.status, r.ms);
        const booking = ledger.booked(restaurantId, key, r.status, r.body, body);
        if (booking && r.status === 201) mine.push(booking.id);
      } else if (op === 'hold') {
        await holdThenDecide(guests);
      } else if (op === 'waitlist') {
        const body = {
          guests,
          ...waitlistWindow(randomItem(target.mixed.bookable), mixed.waitlist.windowMinutes),
          name: 'Load guest',
          phone: `+34 600 ${String(randomInt(0, 999999)).padStart(6, '0')}`,
        };
        const r = await request(baseUrl, 'POST', routes.waitlist(restaurantId), { apiKey, body, timeoutMs });
        metrics.add(op, r.status, r.ms);
        ledger.waited(restaurantId, r.status, r.body);
      } else if (op === 'cancel') {
        const id = mine.splice(randomInt(0, mine.length - 1), 1)[0]!;
        const r = await request(baseUrl, 'POST', routes.cancel(restaurantId, id), { apiKey, timeoutMs });
        metrics.add(op, r.status, r.ms);
        ledger.cancelled(id, r.status);
      } else {
        const id = randomItem(mine);
        const r = await request(baseUrl, 'PATCH', routes.reservation(restaurantId, id), {
          apiKey,
          body: { date: randomItem(target.mixed.bookable) },
          timeoutMs,
        });
        metrics.add(op, r.status, r.ms);
        ledger.rescheduled(id, r.status, r.body);
      }
    },
  });

  metrics.finish();
  metrics.dropped = dropped;
  const latency = metrics.latency();
  const availability = metrics.latency('availability');
  const unexpected = metrics.unexpected((op) => mixed.expectedStatuses[op as keyof typeof mixed.expectedStatuses] ?? []).length;
  const thresholds: Threshold[] = [
    { name: `p(95)<${mixed.thresholds.p95Ms}ms`, ok: latency.p95 < mixed.thresholds.p95Ms, actual: `p(95)=${latency.p95.toFixed(1)}ms` },
    {
      name: `{op:availability} p(95)<${mixed.thresholds.availabilityP95Ms}ms`,
      ok: availability.p95 < mixed.thresholds.availabilityP95Ms,
      actual: `p(95)=${availability.p95.toFixed(1)}ms`,
    },
    {
      name: `unexpected status rate<=${mixed.thresholds.maxUnexpectedRate} (409 on book/hold/confirm/reschedule is expected)`,
      ok: unexpected / Math.max(1, metrics.samples.length) <= mixed.thresholds.maxUnexpectedRate,
      actual: `${unexpected}/${metrics.samples.length}`,
    },
  ];
  return { metrics, thresholds };
}

/**
 * A few harmless requests before measuring, so that the first measured seconds do not pay for
 * the server's cold start (lazily compiled request validators, new pool connections, JIT).
 * Nothing here writes: availability reads, and bookings, reschedules, cancels, holds, confirmations,
 * releases and waitlist joins the API refuses.
 */
export async function warmUp(baseUrl: string, target: Target, rounds = 5): Promise<void> {
  const { id, apiKey } = target.mixed;
  for (let round = 0; round < rounds; round += 1) {
    await Promise.all([
      ...target.mixed.days.map((day, i) => request(baseUrl, 'GET', routes.availability(id, day, 1 + (i % 6)), { apiKey })),
      request(baseUrl, 'POST', routes.reservations(id), { apiKey, body: { date: 'not a date', guests: 0 } }),
      request(baseUrl, 'POST', routes.reservations(target.storm.id), { apiKey: target.storm.apiKey, body: { guests: 2 } }),
      request(baseUrl, 'PATCH', routes.reservation(id, '1'), { apiKey, body: { guests: 0 } }),
      request(baseUrl, 'POST', routes.cancel(id, String(Number.MAX_SAFE_INTEGER)), { apiKey }),
      request(baseUrl, 'POST', routes.holds(id), { apiKey, body: { date: 'not a date', guests: 0 } }),
      request(baseUrl, 'POST', routes.confirmHold(id, String(Number.MAX_SAFE_INTEGER)), { apiKey }),
      request(baseUrl, 'DELETE', routes.hold(id, String(Number.MAX_SAFE_INTEGER)), { apiKey }),
      request(baseUrl, 'POST', routes.waitlist(id), { apiKey, body: { guests: 0 } }),
    ]);
  }
}
