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

export type MixedOperation = 'availability' | 'book' | 'cancel' | 'reschedule';

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
    mix: Record<MixedOperation, number>;
    days: number;
    firstDayOffset: number;
    bookingTimes: { from: string; to: string };
    guests: [min: number, max: number];
    thresholds: { p95Ms: number; availabilityP95Ms: number; maxUnexpectedRate: number };
    expectedStatuses: Record<MixedOperation, number[]>;
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

/** Picks an operation for a random number in [0, 1) according to the mix. */
export function pickOperation(mix: Record<MixedOperation, number>, random: number): MixedOperation {
  let threshold = 0;
  for (const operation of ['availability', 'book', 'cancel', 'reschedule'] as const) {
    threshold += mix[operation];
    if (random < threshold) return operation;
  }
  return 'availability';
}

/** Where each operation of the API lives; the k6 scripts and the driver build requests alike. */
export const routes = {
  availability: (restaurantId: string, day: string, guests: number) =>
    `/api/restaurants/${restaurantId}/availability?date=${day}&guests=${guests}`,
  reservations: (restaurantId: string) => `/api/restaurants/${restaurantId}/reservations`,
  reservation: (restaurantId: string, id: string) => `/api/restaurants/${restaurantId}/reservations/${id}`,
  cancel: (restaurantId: string, id: string) => `/api/restaurants/${restaurantId}/reservations/${id}/cancel`,
} as const;
