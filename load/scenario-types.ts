// Shapes of load/scenarios.json (the scenarios) and of the target file that `load/prepare.ts`
// writes for a prepared database (restaurants, keys and the instants to book). Shared by the
// Node driver and the k6 scripts, so it imports nothing.

export type TableSpec = [capacity: number, minGuests: number];

export interface RestaurantScenario {
  name: string;
  timezone: string;
  hours: [opens: string, closes: string];
  tables: TableSpec[];
}

/** What one arrival of the mixed scenario does (the keys of `mixed.mix`). */
export type MixedOperation = 'availability' | 'book' | 'hold' | 'cancel' | 'reschedule' | 'waitlist';
/** The requests the mixed scenario makes, by operation tag: a `hold` arrival may go on to `confirm` or `release`. */
export type MixedRequest = MixedOperation | 'confirm' | 'release';
/** What the guest does with a hold: says yes (confirm), says no (release), or never calls back (lapse). */
export type HoldOutcome = 'confirm' | 'release' | 'lapse';

/**
 * The share of each operation. `hold` and `waitlist` may be left out (0): the fault tests pass
 * their own booking-heavy mix of the four original operations.
 */
export type MixedMix = Record<'availability' | 'book' | 'cancel' | 'reschedule', number> & Partial<Record<'hold' | 'waitlist', number>>;

export interface Scenarios {
  restaurants: { storm: RestaurantScenario; mixed: RestaurantScenario };
  storm: {
    description: string;
    virtualUsers: number;
    dayOffset: number;
    guests: number;
    slots: Array<{ time: string; requests: number }>;
    thresholds: { p95Ms: number; maxUnexpectedRate: number };
    expectedStatuses: number[];
  };
  mixed: {
    description: string;
    ratePerSecond: number;
    durationSeconds: number;
    preAllocatedVUs: number;
    maxVUs: number;
    mix: MixedMix;
    /** What happens to a `hold` arrival's hold (shares summing to 1), and how long holds last. */
    holds: {
      outcomes: Record<HoldOutcome, number>;
      /** hold_minutes of a hold the guest will confirm or release. */
      holdMinutes: number;
      /** hold_minutes of a hold nobody will confirm: it lapses during the run. */
      lapseHoldMinutes: number;
      /** The guest's thinking time between the hold and the answer, [min, max] ms. */
      decideMs: [min: number, max: number];
    };
    /** A `waitlist` arrival: a party waiting for a start within ± windowMinutes of a bookable time. */
    waitlist: { windowMinutes: number };
    days: number;
    firstDayOffset: number;
    bookingTimes: { from: string; to: string };
    guests: [min: number, max: number];
    thresholds: { p95Ms: number; availabilityP95Ms: number; maxUnexpectedRate: number };
    expectedStatuses: Record<MixedRequest, number[]>;
  };
}

export interface PreparedRestaurant {
  id: string;
  apiKey: string;
}

/** What a prepared database offers the load: written by load/prepare.ts, read by k6 and the driver. */
export interface Target {
  storm: PreparedRestaurant & {
    day: string;
    guests: number;
    /** One entry per scenario slot, in the same order, with its instant. */
    slots: Array<{ time: string; startsAt: string; requests: number }>;
  };
  mixed: PreparedRestaurant & {
    /** Local dates (YYYY-MM-DD) the availability questions ask about. */
    days: string[];
    /** Instants on the grid inside opening hours over those days, to book and reschedule to. */
    bookable: string[];
  };
}

export const mixedOperations: readonly MixedOperation[] = ['availability', 'book', 'hold', 'cancel', 'reschedule', 'waitlist'];

/** Picks an operation for a random number in [0, 1) according to the mix. */
export function pickOperation(mix: MixedMix, random: number): MixedOperation {
  let threshold = 0;
  for (const operation of mixedOperations) {
    threshold += mix[operation] ?? 0;
    if (random < threshold) return operation;
  }
  return 'availability';
}

/** Picks what the guest does with a hold, for a random number in [0, 1). */
export function pickHoldOutcome(outcomes: Record<HoldOutcome, number>, random: number): HoldOutcome {
  let threshold = 0;
  for (const outcome of ['confirm', 'release', 'lapse'] as const) {
    threshold += outcomes[outcome];
    if (random < threshold) return outcome;
  }
  return 'confirm';
}

/** A waitlist window: every start within ± minutes of `around` (an instant, ISO 8601). */
export function waitlistWindow(around: string, minutes: number): { earliest: string; latest: string } {
  const at = Date.parse(around);
  return { earliest: new Date(at - minutes * 60000).toISOString(), latest: new Date(at + minutes * 60000).toISOString() };
}

/** Where each operation of the API lives; the k6 scripts and the driver build requests alike. */
export const routes = {
  availability: (restaurantId: string, day: string, guests: number) =>
    `/api/restaurants/${restaurantId}/availability?date=${day}&guests=${guests}`,
  reservations: (restaurantId: string) => `/api/restaurants/${restaurantId}/reservations`,
  reservation: (restaurantId: string, id: string) => `/api/restaurants/${restaurantId}/reservations/${id}`,
  cancel: (restaurantId: string, id: string) => `/api/restaurants/${restaurantId}/reservations/${id}/cancel`,
  holds: (restaurantId: string) => `/api/restaurants/${restaurantId}/holds`,
  hold: (restaurantId: string, id: string) => `/api/restaurants/${restaurantId}/holds/${id}`,
  confirmHold: (restaurantId: string, id: string) => `/api/restaurants/${restaurantId}/holds/${id}/confirm`,
  waitlist: (restaurantId: string) => `/api/restaurants/${restaurantId}/waitlist`,
} as const;
