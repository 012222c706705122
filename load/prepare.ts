// Prepares a migrated database for a load run: the storm and mixed restaurants of
// load/scenarios.json, an API key for each, and the instants to book (computed by PostgreSQL in
// the restaurants' time zone). The Node driver calls it; k6 users run it once and pass the file:
//   DATABASE_URL=postgres://… npx tsx load/prepare.ts [target.json]
import { promises as fs } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { RestaurantScenario, Scenarios, Target } from './scenario-types';
import scenarioFile from './scenarios.json';
import { runCommand } from './cli';

export const scenarios = scenarioFile as unknown as Scenarios;
export const defaultTargetFile = path.resolve(__dirname, '..', '.data', 'load', 'target.json');

async function createRestaurant(client: pg.Client, spec: RestaurantScenario, label: string): Promise<{ id: string; apiKey: string }> {
  const { rows } = await client.query<{ id: string }>(
    `insert into booking.restaurants (name, timezone, min_notice_minutes, booking_horizon_days)
     values ($1, $2, 0, 365) returning id`,
    [`${spec.name} ${new Date().toISOString()}`, spec.timezone],
  );
  const id = rows[0]!.id;
  await client.query(
    `insert into booking.opening_hours (restaurant_id, weekday, opens, closes)
     select $1, weekday, $2::time, $3::time from generate_series(1, 7) weekday`,
    [id, spec.hours[0], spec.hours[1]],
  );
  await client.query(
    `insert into booking.tables (restaurant_id, name, capacity, min_guests)
     select $1, 'L' || ordinality, (t->>0)::int, (t->>1)::int
     from jsonb_array_elements($2::jsonb) with ordinality as x (t, ordinality)`,
    [id, JSON.stringify(spec.tables)],
  );
  const key = await client.query<{ key: string }>('select booking.create_api_key($1, $2) as key', [id, label]);
  return { id, apiKey: key.rows[0]!.key };
}

export async function prepareTarget(databaseUrl: string): Promise<Target> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('begin');
    const storm = await createRestaurant(client, scenarios.restaurants.storm, 'load-storm');
    const mixed = await createRestaurant(client, scenarios.restaurants.mixed, 'load-mixed');
    const stormDay = await client.query<{ day: string }>(
      "select to_char((now() at time zone $1)::date + $2::int, 'YYYY-MM-DD') as day",
      [scenarios.restaurants.storm.timezone, scenarios.storm.dayOffset],
    );
    const day = stormDay.rows[0]!.day;
    const slots = [];
    for (const slot of scenarios.storm.slots) {
      const { rows } = await client.query<{ at: Date }>('select ($1::date + $2::time) at time zone $3 as at', [
        day,
        slot.time,
        scenarios.restaurants.storm.timezone,
      ]);
      slots.push({ time: slot.time, startsAt: rows[0]!.at.toISOString(), requests: slot.requests });
    }
    const m = scenarios.mixed;
    const days = await client.query<{ day: string }>(
      `select to_char((now() at time zone $1)::date + d, 'YYYY-MM-DD') as day
       from generate_series($2::int, $2::int + $3::int - 1) d order by d`,
      [scenarios.restaurants.mixed.timezone, m.firstDayOffset, m.days],
    );
    const bookable = await client.query<{ at: Date }>(
      `select (day::date + t::time) at time zone $1 as at
       from unnest($2::text[]) day,
            generate_series(timestamp '2000-01-01' + $3::time, timestamp '2000-01-01' + $4::time, interval '15 minutes') t
       order by 1`,
      [scenarios.restaurants.mixed.timezone, days.rows.map((r) => r.day), m.bookingTimes.from, m.bookingTimes.to],
    );
    await client.query('commit');
    return {
      storm: { ...storm, day, guests: scenarios.storm.guests, slots },
      mixed: { ...mixed, days: days.rows.map((r) => r.day), bookable: bookable.rows.map((r) => r.at.toISOString()) },
    };
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

export async function writeTarget(target: Target, file = defaultTargetFile): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `${JSON.stringify(target, null, 2)}\n`, { mode: 0o600 });
}

if (require.main === module) {
  runCommand(async () => {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL (owner connection of a migrated database) is required');
    const file = path.resolve(process.argv[2] ?? defaultTargetFile);
    await writeTarget(await prepareTarget(url), file);
    console.log(`Target written to ${file}`);
    return 0;
  });
}
