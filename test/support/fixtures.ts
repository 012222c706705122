// Arranging restaurants for tests, as a DBA would: plain INSERTs through the owner pool.
import type pg from 'pg';

export interface RestaurantSpec {
  name?: string;
  timezone?: string;
  slotMinutes?: number;
  reservationMinutes?: number;
  bufferMinutes?: number;
  maxGuests?: number;
  minNoticeMinutes?: number;
  horizonDays?: number;
  /** [weekday 1-7, opens, closes]; default: every day 12:00-23:59. */
  hours?: Array<[number, string, string]>;
  /** [capacity, min_guests, area?]; default: 2, 2, 4, 4, 6, 8, no areas. */
  tables?: Array<[number, number, string?]>;
}

export interface Restaurant {
  id: string;
  timezone: string;
  tableIds: string[];
}

export async function createRestaurant(pool: pg.Pool, spec: RestaurantSpec = {}): Promise<Restaurant> {
  const timezone = spec.timezone ?? 'Europe/Madrid';
  const { rows } = await pool.query<{ id: string }>(
    `insert into booking.restaurants (name, timezone, slot_minutes, reservation_minutes, buffer_minutes,
                                      max_guests, min_notice_minutes, booking_horizon_days)
     values ($1, $2, $3, $4, $5, $6, $7, $8) returning id`,
    [
      spec.name ?? 'Test Kitchen',
      timezone,
      spec.slotMinutes ?? 15,
      spec.reservationMinutes ?? 90,
      spec.bufferMinutes ?? 15,
      spec.maxGuests ?? 20,
      spec.minNoticeMinutes ?? 0,
      spec.horizonDays ?? 365,
    ],
  );
  const id = rows[0]!.id;
  const hours = spec.hours ?? [1, 2, 3, 4, 5, 6, 7].map((d): [number, string, string] => [d, '12:00', '23:59']);
  for (const [weekday, opens, closes] of hours) {
    await pool.query('insert into booking.opening_hours (restaurant_id, weekday, opens, closes) values ($1, $2, $3, $4)', [
      id,
      weekday,
      opens,
      closes,
    ]);
  }
  const tableIds: string[] = [];
  const tables = spec.tables ?? [[2, 1], [2, 1], [4, 2], [4, 2], [6, 3], [8, 4]];
  for (const [index, [capacity, minGuests, area]] of tables.entries()) {
    const table = await pool.query<{ id: string }>(
      'insert into booking.tables (restaurant_id, name, capacity, min_guests, area) values ($1, $2, $3, $4, $5) returning id',
      [id, `T${index + 1}`, capacity, minGuests, area ?? null],
    );
    tableIds.push(table.rows[0]!.id);
  }
  return { id, timezone, tableIds };
}

/** A combination of the restaurant's tables (and its members, in one transaction); returns its id. */
export async function addCombination(
  pool: pg.Pool,
  restaurantId: string,
  spec: { name: string; tableIds: string[]; minGuests: number; capacity: number; active?: boolean },
): Promise<string> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const { rows } = await client.query<{ id: string }>(
      `insert into booking.table_combinations (restaurant_id, name, min_guests, capacity, active)
       values ($1, $2, $3, $4, $5) returning id`,
      [restaurantId, spec.name, spec.minGuests, spec.capacity, spec.active ?? true],
    );
    await client.query(
      'insert into booking.table_combination_members (restaurant_id, combination_id, table_id) select $1, $2, unnest($3::bigint[])',
      [restaurantId, rows[0]!.id, spec.tableIds],
    );
    await client.query('commit');
    return rows[0]!.id;
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
}

/** A local date `days` from today in the restaurant's zone, as YYYY-MM-DD. */
export async function localDate(pool: pg.Pool, timezone: string, days: number): Promise<string> {
  const { rows } = await pool.query<{ day: string }>(
    "select to_char((now() at time zone $1)::date + $2::int, 'YYYY-MM-DD') as day",
    [timezone, days],
  );
  return rows[0]!.day;
}

/** The instant of a local wall-clock time, as an ISO string. */
export async function localInstant(pool: pg.Pool, timezone: string, day: string, time: string): Promise<string> {
  const { rows } = await pool.query<{ at: Date }>('select ($1::date + $2::time) at time zone $3 as at', [day, time, timezone]);
  return rows[0]!.at.toISOString();
}
