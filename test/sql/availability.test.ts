// booking.available_table_counts: agrees with a brute-force count, lists slots correctly across
// DST changes, and refuses bad arguments.
import fc from 'fast-check';
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { book, refusal } from '../support/sql';

let db: TestDatabase;

beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(() => db.drop());

interface Slot {
  starts_at: Date;
  local_time: string;
  tables_available: number;
}

async function counts(restaurantId: string, day: string, guests: number): Promise<Slot[]> {
  const { rows } = await db.pool.query<Slot>('select * from booking.available_table_counts($1, $2, $3)', [restaurantId, day, guests]);
  return rows;
}

describe('counts agree with brute force', () => {
  const tables: Array<[number, number]> = [[2, 1], [2, 1], [4, 2], [4, 1], [6, 3], [6, 2], [8, 4], [10, 6]];
  let r: Restaurant;
  let day: string;
  const MINUTE = 60_000;

  beforeAll(async () => {
    r = await createRestaurant(db.pool, {
      timezone: 'UTC',
      tables,
      hours: [1, 2, 3, 4, 5, 6, 7].map((d): [number, string, string] => [d, '12:00', '23:00']),
    });
    await db.pool.query('insert into booking.turn_times (restaurant_id, max_guests, minutes) values ($1, 2, 60), ($1, 6, 105)', [r.id]);
    day = await localDate(db.pool, 'UTC', 3);
  });

  const stay = (guests: number) => (guests <= 2 ? 60 : guests <= 6 ? 105 : 90);

  test('for random bookings and party sizes (fixed seed)', async () => {
    const booking = fc.record({
      table: fc.nat(tables.length - 1),
      startSlot: fc.nat(11 * 4 - 1),
      quarterHours: fc.integer({ min: 2, max: 10 }),
      status: fc.constantFrom('confirmed', 'confirmed', 'seated', 'cancelled', 'no_show'),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(booking, { maxLength: 40 }), fc.integer({ min: 1, max: 10 }), async (bookings, guests) => {
        await db.pool.query('delete from booking.reservations');
        const base = Date.parse(`${day}T12:00:00Z`);
        for (const b of bookings) {
          const from = new Date(base + b.startSlot * 15 * MINUTE);
          const to = new Date(from.getTime() + b.quarterHours * 15 * MINUTE);
          await db.pool
            .query(
              `insert into booking.reservations (restaurant_id, table_id, starts_at, ends_at, guests, status)
               values ($1, $2, $3, $4, 1, $5)`,
              [r.id, r.tableIds[b.table], from, to, b.status],
            )
            .catch((error: { code?: string }) => {
              if (error.code !== '23P01') throw error;
            });
        }
        const { rows: stored } = await db.pool.query<{ table_id: string; lo: Date; hi: Date }>(
          "select table_id, lower(during) as lo, upper(during) as hi from booking.reservations where status in ('confirmed', 'seated')",
        );
        const expected: Array<[string, number]> = [];
        for (let t = base; t + stay(guests) * MINUTE <= Date.parse(`${day}T23:00:00Z`); t += 15 * MINUTE) {
          const end = t + (stay(guests) + 15) * MINUTE;
          const free = tables.filter(([capacity, min], i) => {
            if (guests < min || guests > capacity) return false;
            return !stored.some((s) => s.table_id === r.tableIds[i] && s.lo.getTime() < end && t < s.hi.getTime());
          }).length;
          expected.push([new Date(t).toISOString(), free]);
        }
        const actual = (await counts(r.id, day, guests)).map((s): [string, number] => [s.starts_at.toISOString(), s.tables_available]);
        expect(actual).toEqual(expected);
      }),
      { seed: 20261124, numRuns: 30 },
    );
  });
});

describe('slots', () => {
  test('follow the grid from each opening, leave room for the stay, and read HH:MM local time', async () => {
    const r = await createRestaurant(db.pool, {
      slotMinutes: 30,
      reservationMinutes: 60,
      hours: [1, 2, 3, 4, 5, 6, 7].flatMap((d): Array<[number, string, string]> => [
        [d, '13:10', '15:00'],
        [d, '20:00', '22:00'],
      ]),
    });
    const day = await localDate(db.pool, r.timezone, 2);
    const slots = await counts(r.id, day, 2);
    expect(slots.map((s) => s.local_time)).toEqual(['13:30', '14:00', '20:00', '20:30', '21:00']);
    expect(slots[2]!.starts_at.toISOString()).toBe(await localInstant(db.pool, r.timezone, day, '20:00'));
  });

  test('count a booked table as taken for every slot its stay and buffer overlap', async () => {
    const r = await createRestaurant(db.pool, { tables: [[4, 1]], hours: [1, 2, 3, 4, 5, 6, 7].map((d): [number, string, string] => [d, '18:00', '23:00']) });
    const day = await localDate(db.pool, r.timezone, 2);
    await book(db.pool, { restaurantId: r.id, startsAt: await localInstant(db.pool, r.timezone, day, '20:00'), guests: 2 });
    const taken = (await counts(r.id, day, 2)).filter((s) => s.tables_available === 0).map((s) => s.local_time);
    // Blocked 20:00-21:45; a new stay blocks 90 + 15 minutes too, so from 18:30 on they collide.
    expect(taken).toEqual(['18:30', '18:45', '19:00', '19:15', '19:30', '19:45', '20:00', '20:15', '20:30', '20:45', '21:00', '21:15', '21:30']);
  });

  test('are none on a closure day or a day without hours', async () => {
    const r = await createRestaurant(db.pool, { hours: [[1, '13:00', '16:00']] });
    const { rows } = await db.pool.query<{ monday: string; tuesday: string }>(
      `select to_char(d, 'YYYY-MM-DD') as monday, to_char(d + 1, 'YYYY-MM-DD') as tuesday
         from (select (current_date + i) as d from generate_series(2, 8) i) days where extract(isodow from d) = 1`,
    );
    const { monday, tuesday } = rows[0]!;
    expect((await counts(r.id, monday, 2)).length).toBeGreaterThan(0);
    expect(await counts(r.id, tuesday, 2)).toEqual([]);
    await db.pool.query("insert into booking.closures (restaurant_id, day, reason) values ($1, $2, 'Holiday')", [r.id, monday]);
    expect(await counts(r.id, monday, 2)).toEqual([]);
  });

  test('leave out times inside the notice and beyond the horizon', async () => {
    const r = await createRestaurant(db.pool, { minNoticeMinutes: 3 * 24 * 60, horizonDays: 10 });
    expect(await counts(r.id, await localDate(db.pool, r.timezone, 1), 2)).toEqual([]);
    expect((await counts(r.id, await localDate(db.pool, r.timezone, 5), 2)).length).toBeGreaterThan(0);
    expect(await counts(r.id, await localDate(db.pool, r.timezone, 20), 2)).toEqual([]);
  });
});

describe('across DST in Europe/Madrid, open 22:00-05:00', () => {
  let r: Restaurant;
  beforeAll(async () => {
    r = await createRestaurant(db.pool, {
      horizonDays: 730,
      tables: [[4, 1], [4, 1]],
      hours: [1, 2, 3, 4, 5, 6, 7].map((d): [number, string, string] => [d, '22:00', '05:00']),
    });
  });

  test('the night opening Saturday 2027-03-27 lists no local time from 02:00 to 02:59', async () => {
    const times = (await counts(r.id, '2027-03-27', 2)).map((s) => s.local_time);
    expect(times).toContain('01:45');
    expect(times).toContain('03:00');
    expect(times.filter((t) => t.startsWith('02:'))).toEqual([]);
    expect(times[0]).toBe('22:00');
  });

  test('the night opening Saturday 2027-10-30 lists 02:30 twice with instants an hour apart', async () => {
    const twice = (await counts(r.id, '2027-10-30', 2)).filter((s) => s.local_time === '02:30');
    expect(twice.map((s) => s.starts_at.toISOString())).toEqual(['2027-10-31T00:30:00.000Z', '2027-10-31T01:30:00.000Z']);
  });

  test('booking either 02:30 of that night lands on its own instant', async () => {
    for (const instant of ['2027-10-31T00:30:00.000Z', '2027-10-31T01:30:00.000Z']) {
      const booking = await book(db.pool, { restaurantId: r.id, startsAt: instant, guests: 2 });
      expect(booking.starts_at.toISOString()).toBe(instant);
    }
    const left = (await counts(r.id, '2027-10-30', 2)).filter((s) => s.local_time === '02:30');
    expect(left.map((s) => s.tables_available)).toEqual([0, 0]);
  });
});

describe('refusals', () => {
  test('PT404 restaurant_not_found for an unknown restaurant', async () => {
    const error = await refusal(counts('987654', '2027-01-01', 2));
    expect([error.code, error.reason]).toEqual(['PT404', 'restaurant_not_found']);
  });

  test('PT422 party_too_large above the restaurant maximum', async () => {
    const r = await createRestaurant(db.pool, { maxGuests: 8 });
    const error = await refusal(counts(r.id, '2027-01-01', 9));
    expect([error.code, error.reason]).toEqual(['PT422', 'party_too_large']);
  });

  test.each([0, 21])('22023 invalid_guests for a party of %i', async (guests) => {
    const r = await createRestaurant(db.pool);
    const error = await refusal(counts(r.id, '2027-01-01', guests));
    expect([error.code, error.reason]).toEqual(['22023', 'invalid_guests']);
  });

  test('22023 when the day is missing', async () => {
    const r = await createRestaurant(db.pool);
    const error = await refusal(db.pool.query('select * from booking.available_table_counts($1, null, 2)', [r.id]));
    expect(error.code).toBe('22023');
  });
});
