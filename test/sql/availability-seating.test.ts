// booking.available_table_counts with combinations, areas, inactive tables and pacing: it counts
// exactly how many more parties book_table would seat at each start, one after another.
import fc from 'fast-check';
import pg from 'pg';
import { connections, freshDatabase, testTarget, type TestDatabase } from '../support/cluster';
import { addCombination, createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { refusal } from '../support/sql';

let db: TestDatabase;

beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(() => db.drop());

const MINUTE = 60_000;

interface Slot {
  starts_at: Date;
  local_time: string;
  tables_available: number;
}

async function counts(restaurantId: string, day: string, guests: number, area: string | null = null): Promise<Slot[]> {
  const { rows } = await db.pool.query<Slot>('select * from booking.available_table_counts($1, $2, $3, area => $4)', [
    restaurantId,
    day,
    guests,
    area,
  ]);
  return rows;
}

async function countAt(restaurantId: string, day: string, startsAt: string, guests: number, area: string | null = null): Promise<number> {
  const slot = (await counts(restaurantId, day, guests, area)).find((s) => s.starts_at.toISOString() === startsAt);
  if (!slot) throw new Error(`no slot at ${startsAt}`);
  return slot.tables_available;
}

function bookTable(on: pg.Pool | pg.PoolClient, restaurantId: string, startsAt: string, guests: number, extra: { area?: string; combinationId?: string } = {}) {
  return on.query<{ id: string; table_id: string; combination_id: string | null }>(
    'select * from booking.book_table(restaurant_id => $1, starts_at => $2, guests => $3, combination_id => $4, area => $5)',
    [restaurantId, startsAt, guests, extra.combinationId ?? null, extra.area ?? null],
  );
}

const combine = (restaurantId: string, name: string, tableIds: string[], minGuests: number, capacity: number, active = true) =>
  addCombination(db.pool, restaurantId, { name, tableIds, minGuests, capacity, active });

/** How many times book_table seats the party at that start, one call after another, before it refuses; rolled back. */
async function bookUntilRefused(restaurantId: string, startsAt: string, guests: number, area: string | null) {
  const client = await db.pool.connect();
  let booked = 0;
  try {
    await client.query('begin');
    for (;;) {
      try {
        await bookTable(client, restaurantId, startsAt, guests, { area: area ?? undefined });
        booked += 1;
        if (booked > 40) throw new Error('book_table never refused');
      } catch (error) {
        const failure = await refusal(Promise.reject(error));
        if (!failure.code.startsWith('PT')) throw error;
        return { booked, code: failure.code, reason: failure.reason };
      }
    }
  } finally {
    await client.query('rollback');
    client.release();
  }
}

describe('counts agree with brute force over tables, combinations, areas and pacing', () => {
  // [capacity, min_guests, area]
  const tables: Array<[number, number, string]> = [
    [2, 1, 'inside'], // 0
    [2, 1, 'inside'], // 1
    [4, 2, 'inside'], // 2
    [4, 1, 'inside'], // 3
    [6, 3, 'terrace'], // 4
    [6, 2, 'terrace'], // 5
    [8, 4, 'terrace'], // 6
    [2, 1, 'terrace'], // 7
  ];
  // Members (table indexes), min_guests, capacity, active.
  const combinationSpecs: Array<{ members: number[]; min: number; capacity: number; active: boolean }> = [
    { members: [0, 1], min: 3, capacity: 4, active: true }, // two two-tops, for 3-4
    { members: [1, 2], min: 3, capacity: 6, active: true }, // shares table 1 with the first; table 2 seats 3-4 alone
    { members: [2, 3], min: 5, capacity: 8, active: true }, // shares table 2 with the second
    { members: [4, 5], min: 7, capacity: 12, active: true }, // the terrace's large one
    { members: [0, 1, 7], min: 4, capacity: 6, active: true }, // three tables, across both areas
    { members: [5, 6], min: 9, capacity: 14, active: false }, // out of service
    { members: [3, 4], min: 6, capacity: 10, active: true }, // across both areas; table 4 seats 6 alone
    { members: [4, 6], min: 9, capacity: 12, active: true }, // shares table 4 with the terrace's large one
  ];
  const BUFFER = 7;
  const stay = (guests: number) => (guests <= 2 ? 61 : 91);
  let r: Restaurant;
  let day: string;
  let isoWeekday: number;
  let combinationIds: string[];
  // Combinations in book_table's order: capacity, then fewest tables, then id.
  let combinationOrder: number[];

  beforeAll(async () => {
    r = await createRestaurant(db.pool, {
      timezone: 'UTC',
      reservationMinutes: 91,
      bufferMinutes: BUFFER,
      tables: tables.map(([capacity, min]): [number, number] => [capacity, min]),
      hours: [1, 2, 3, 4, 5, 6, 7].map((d): [number, string, string] => [d, '12:00', '23:00']),
    });
    for (const [i, [, , area]] of tables.entries()) {
      await db.pool.query('update booking.tables set area = $2 where id = $1', [r.tableIds[i], area]);
    }
    await db.pool.query('insert into booking.turn_times (restaurant_id, max_guests, minutes) values ($1, 2, 61)', [r.id]);
    combinationIds = [];
    for (const [i, c] of combinationSpecs.entries()) {
      combinationIds.push(await combine(r.id, `C${i + 1}`, c.members.map((m) => r.tableIds[m]!), c.min, c.capacity, c.active));
    }
    combinationOrder = combinationSpecs
      .map((_, i) => i)
      .sort((a, b) => {
        const [x, y] = [combinationSpecs[a]!, combinationSpecs[b]!];
        return x.capacity - y.capacity || x.members.length - y.members.length || Number(combinationIds[a]) - Number(combinationIds[b]);
      });
    day = await localDate(db.pool, 'UTC', 3);
    isoWeekday = ((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;
  });

  const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

  test('for random reservations, inactive tables, pacing limits, areas, slot sizes and party sizes (fixed seed), and book_table seats exactly that many', async () => {
    const reservation = fc.record({
      // A single table (0-7) or a combination (8-15).
      target: fc.nat(tables.length + combinationSpecs.length - 1),
      // Off the slot grid too: any 5 minutes from 11:00 to 22:55.
      start: fc.nat(143),
      minutes: fc.integer({ min: 20, max: 150 }),
      guests: fc.integer({ min: 1, max: 8 }),
      status: fc.constantFrom('confirmed', 'confirmed', 'confirmed', 'seated', 'cancelled', 'completed', 'no_show'),
    });
    const limit = fc.record({
      weekday: fc.constantFrom('every day', 'that day', 'another day'),
      opens: fc.integer({ min: 0, max: 40 }),
      length: fc.integer({ min: 3, max: 60 }),
      maxCovers: fc.integer({ min: 1, max: 16 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(reservation, { minLength: 10, maxLength: 40 }),
        fc.subarray([0, 1, 2, 3, 4, 5, 6, 7], { maxLength: 2 }),
        fc.option(fc.array(limit, { minLength: 1, maxLength: 2 }), { freq: 2 }),
        fc.constantFrom(null, null, 'inside', 'terrace'),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.nat(1000), { minLength: 3, maxLength: 3 }),
        fc.constantFrom(10, 15, 20, 30),
        async (reservations, inactive, limits, area, guests, probes, slot) => {
          await db.pool.query('update booking.restaurants set slot_minutes = $2 where id = $1', [r.id, slot]);
          await db.pool.query('delete from booking.reservations where restaurant_id = $1', [r.id]);
          await db.pool.query('delete from booking.pacing_limits where restaurant_id = $1', [r.id]);
          await db.pool.query('update booking.tables set active = not (id = any($2)) where restaurant_id = $1', [
            r.id,
            inactive.map((i) => r.tableIds[i]),
          ]);
          const active = tables.map((_, i) => !inactive.includes(i));
          // Pacing windows: [opens, closes) in minutes of the local day; closes may be off the grid.
          const windows = (limits ?? []).map((l) => {
            const opens = 12 * 60 + 15 * l.opens;
            const closes = Math.min(opens + 5 * l.length, 23 * 60 + 59);
            const weekday = l.weekday === 'every day' ? null : l.weekday === 'that day' ? isoWeekday : (isoWeekday % 7) + 1;
            return { weekday, opens, closes, maxCovers: l.maxCovers };
          });
          for (const w of windows) {
            await db.pool.query('insert into booking.pacing_limits (restaurant_id, weekday, opens, closes, max_covers) values ($1, $2, $3, $4, $5)', [
              r.id,
              w.weekday,
              hhmm(w.opens),
              hhmm(w.closes),
              w.maxCovers,
            ]);
          }
          // Raw writes, as a DBA would; the ones the per-table guard refuses are left out.
          const base = Date.parse(`${day}T11:00:00Z`);
          const stored: Array<{ held: number[]; from: number; blockedUntil: number; guests: number }> = [];
          for (const b of reservations) {
            const from = base + b.start * 5 * MINUTE;
            const to = from + b.minutes * MINUTE;
            const single = b.target < tables.length;
            const held = single ? [b.target] : combinationSpecs[b.target - tables.length]!.members;
            const written = await db.pool
              .query(
                `insert into booking.reservations (restaurant_id, table_id, combination_id, starts_at, ends_at, guests, status)
                 values ($1, $2, $3, $4, $5, $6, $7)`,
                [
                  r.id,
                  single ? r.tableIds[b.target] : null,
                  single ? null : combinationIds[b.target - tables.length],
                  new Date(from),
                  new Date(to),
                  b.guests,
                  b.status,
                ],
              )
              .then(
                () => true,
                (error: { code?: string }) => {
                  if (error.code !== '23P01') throw error;
                  return false;
                },
              );
            if (written && (b.status === 'confirmed' || b.status === 'seated')) {
              stored.push({ held, from, blockedUntil: to + BUFFER * MINUTE, guests: b.guests });
            }
          }

          const inArea = (i: number) => area === null || tables[i]![2] === area;
          const fits = (i: number) => active[i]! && inArea(i) && tables[i]![1] <= guests && guests <= tables[i]![0];
          const usable = (c: (typeof combinationSpecs)[number]) =>
            c.active && c.min <= guests && guests <= c.capacity && c.members.every((m) => active[m]! && inArea(m));
          const seatable = tables.some((_, i) => fits(i)) || combinationSpecs.some(usable);
          const open = Date.parse(`${day}T12:00:00Z`);
          const close = Date.parse(`${day}T23:00:00Z`);
          const expected: Array<{ at: string; count: number; pacing: { cap: number; booked: number } | null }> = [];
          for (let t = open; t + stay(guests) * MINUTE <= close; t += slot * MINUTE) {
            const blockEnd = t + (stay(guests) + BUFFER) * MINUTE;
            const taken = new Set(stored.filter((s) => s.from < blockEnd && t < s.blockedUntil).flatMap((s) => s.held));
            // Sequential bookings: every free fitting single table first, then the combinations in order.
            let seated = 0;
            for (const i of tables.keys()) {
              if (fits(i) && !taken.has(i)) {
                seated += 1;
                taken.add(i);
              }
            }
            for (const ci of combinationOrder) {
              const c = combinationSpecs[ci]!;
              if (usable(c) && c.members.every((m) => !taken.has(m))) {
                seated += 1;
                c.members.forEach((m) => taken.add(m));
              }
            }
            const minuteOfDay = (t - Date.parse(`${day}T00:00:00Z`)) / MINUTE;
            const caps = windows
              .filter((w) => (w.weekday === null || w.weekday === isoWeekday) && w.opens <= minuteOfDay && minuteOfDay < w.closes)
              .map((w) => w.maxCovers);
            let pacing: { cap: number; booked: number } | null = null;
            if (caps.length > 0) {
              const booked = stored.filter((s) => t <= s.from && s.from < t + slot * MINUTE).reduce((sum, s) => sum + s.guests, 0);
              pacing = { cap: Math.min(...caps), booked };
              seated = Math.min(seated, Math.floor(Math.max(pacing.cap - booked, 0) / guests));
            }
            expected.push({ at: new Date(t).toISOString(), count: seated, pacing });
          }

          const actual = await counts(r.id, day, guests, area);
          expect(actual.map((s) => [s.starts_at.toISOString(), s.tables_available])).toEqual(expected.map((e) => [e.at, e.count]));

          // The promise itself: at a few starts, book_table seats exactly that many parties, then refuses.
          for (const probe of probes) {
            const slot = expected[probe % expected.length]!;
            const outcome = await bookUntilRefused(r.id, slot.at, guests, area);
            const pacedOut = slot.pacing !== null && slot.pacing.booked + (slot.count + 1) * guests > slot.pacing.cap;
            expect(outcome).toEqual({
              booked: slot.count,
              code: seatable ? 'PT409' : 'PT422',
              reason: !seatable ? 'no_table_fits' : pacedOut ? 'pacing_limit' : 'all_tables_taken',
            });
          }
        },
      ),
      { seed: 20261125, numRuns: 25 },
    );
  });
});

describe('combinations, inactive tables and areas', () => {
  // T1-T2 two-tops inside; T3-T4 four-tops and T5 a six-top (for 3 to 6) on the terrace.
  let r: Restaurant;
  let day: string;
  let startsAt: string;
  let c12: string;
  let c23: string;
  let c34: string;

  beforeAll(async () => {
    r = await createRestaurant(db.pool, {
      timezone: 'UTC',
      tables: [[2, 1], [2, 1], [4, 1], [4, 1], [6, 3]],
      hours: [1, 2, 3, 4, 5, 6, 7].map((d): [number, string, string] => [d, '12:00', '23:00']),
    });
    const [t1, t2, t3, t4, t5] = r.tableIds as [string, string, string, string, string];
    await db.pool.query("update booking.tables set area = case when id = any($1) then 'inside' else 'terrace' end where restaurant_id = $2", [
      [t1, t2],
      r.id,
    ]);
    c12 = await combine(r.id, 'T1+T2', [t1, t2], 3, 4);
    c23 = await combine(r.id, 'T2+T3', [t2, t3], 5, 6);
    c34 = await combine(r.id, 'T3+T4', [t3, t4], 4, 8);
    await combine(r.id, 'T4+T5', [t4, t5], 7, 10);
    day = await localDate(db.pool, 'UTC', 3);
    startsAt = await localInstant(db.pool, 'UTC', day, '20:00');
  });
  beforeEach(async () => {
    await db.pool.query('delete from booking.reservations where restaurant_id = $1', [r.id]);
    await db.pool.query('update booking.tables set active = true where restaurant_id = $1', [r.id]);
  });

  test('a combination whose member is taken does not count, and two combinations sharing a table count once', async () => {
    // A party of 5: no single table but T5 (min 3, six seats); combinations T2+T3 and T3+T4 share T3.
    expect(await countAt(r.id, day, startsAt, 5)).toBe(2);
    await db.pool.query(
      `insert into booking.reservations (restaurant_id, table_id, starts_at, ends_at, guests) values ($1, $2, $3, $3::timestamptz + interval '1 hour', 2)`,
      [r.id, r.tableIds[0], startsAt],
    );
    expect(await countAt(r.id, day, startsAt, 5)).toBe(2);
    await db.pool.query(
      `insert into booking.reservations (restaurant_id, table_id, starts_at, ends_at, guests) values ($1, $2, $3, $3::timestamptz + interval '1 hour', 2)`,
      [r.id, r.tableIds[2], startsAt],
    );
    expect(await countAt(r.id, day, startsAt, 5)).toBe(1);
    const booked = await bookTable(db.pool, r.id, startsAt, 5);
    expect(booked.rows[0]!.combination_id).toBeNull();
    expect(booked.rows[0]!.table_id).toBe(r.tableIds[4]);
    expect(await countAt(r.id, day, startsAt, 5)).toBe(0);
    expect((await refusal(bookTable(db.pool, r.id, startsAt, 5))).reason).toBe('all_tables_taken');
  });

  test('a combination holding a table that seats the party alone is never counted, nor reached by book_table', async () => {
    // A party of 4: T3, T4 and T5 alone, then T1+T2; T3+T4 fits too, but its tables are given away first.
    expect(await countAt(r.id, day, startsAt, 4)).toBe(4);
    const seats: Array<string | null> = [];
    for (let i = 0; i < 4; i += 1) seats.push((await bookTable(db.pool, r.id, startsAt, 4)).rows[0]!.combination_id);
    expect(seats).toEqual([null, null, null, c12]);
    expect((await refusal(bookTable(db.pool, r.id, startsAt, 4))).reason).toBe('all_tables_taken');
  });

  test('inactive tables never count, and neither does a combination with an inactive member', async () => {
    await db.pool.query('update booking.tables set active = false where id = any($1)', [[r.tableIds[0], r.tableIds[4]]]);
    // A party of 5: T5 and T1+T2 are out; T2+T3 or T3+T4 (sharing T3) once.
    expect(await countAt(r.id, day, startsAt, 5)).toBe(1);
    expect((await bookTable(db.pool, r.id, startsAt, 5)).rows[0]!.combination_id).toBe(c23);
    expect(await countAt(r.id, day, startsAt, 5)).toBe(0);
    // A party of 2: T2, T3 and T4 (T1 is out, T5 seats 3 or more); T2+T3 holds two of them.
    expect(await countAt(r.id, day, startsAt, 2)).toBe(1);
    await db.pool.query('delete from booking.reservations where restaurant_id = $1', [r.id]);
    expect(await countAt(r.id, day, startsAt, 2)).toBe(3);
  });

  test('with an area, counts only the tables and combinations all in it, and book_table seats the party there', async () => {
    expect(await countAt(r.id, day, startsAt, 2, 'inside')).toBe(2);
    expect(await countAt(r.id, day, startsAt, 2, 'terrace')).toBe(2);
    expect(await countAt(r.id, day, startsAt, 5, 'inside')).toBe(0);
    // Terrace for 5: T5, then T3+T4 (T2+T3 crosses areas).
    expect(await countAt(r.id, day, startsAt, 5, 'terrace')).toBe(2);
    expect(await countAt(r.id, day, startsAt, 5)).toBe(2);
    const first = await bookTable(db.pool, r.id, startsAt, 5, { area: 'terrace' });
    const second = await bookTable(db.pool, r.id, startsAt, 5, { area: 'terrace' });
    expect([first.rows[0]!.table_id, second.rows[0]!.combination_id]).toEqual([r.tableIds[4], c34]);
    const refused = await refusal(bookTable(db.pool, r.id, startsAt, 5, { area: 'terrace' }));
    expect([refused.code, refused.reason, refused.detail?.area]).toEqual(['PT409', 'all_tables_taken', 'terrace']);
    const inside = await bookTable(db.pool, r.id, startsAt, 2, { area: 'Inside ' });
    expect(inside.rows[0]!.table_id).toBe(r.tableIds[0]);
    expect(await countAt(r.id, day, startsAt, 2, 'inside')).toBe(1);
    expect(await countAt(r.id, day, startsAt, 2, 'terrace')).toBe(0);
  });

  test('an unknown area is refused with PT422 unknown_area listing the areas', async () => {
    for (const work of [() => counts(r.id, day, 2, 'garden'), () => bookTable(db.pool, r.id, startsAt, 2, { area: 'garden' })]) {
      const error = await refusal(work());
      expect([error.code, error.reason, error.detail?.areas]).toEqual(['PT422', 'unknown_area', ['inside', 'terrace']]);
    }
  });
});

describe('under concurrency', () => {
  const RACERS = 12;
  // 100 rounds on one PostgreSQL; on a Citus cluster a round takes over a second on two cores
  // (every statement of book_table goes from the coordinator to a worker), so 25 rounds there,
  // to stay within the test timeout (README, Citus).
  const ROUNDS = testTarget() === 'citus' ? 25 : 100;
  let clients: pg.Client[];

  beforeAll(async () => {
    clients = await connections(db.url, RACERS);
  });
  afterAll(() => Promise.all(clients.map((client) => client.end())));

  test(`${RACERS} parallel parties of 4 where chained combinations seat 4 get exactly 4 bookings, round after round`, async () => {
    // Eight two-tops in a row, each pair of neighbours joinable for 3-4: booked one after
    // another, T1+T2, T3+T4, T5+T6 and T7+T8. Racers that both give up T1+T2 (each holding part
    // of its locks) and then take T2+T3 seat only 3. Long stays take many time-bucket locks per
    // attempt and so widen that window.
    const r = await createRestaurant(db.pool, {
      timezone: 'UTC',
      reservationMinutes: 400,
      tables: Array.from({ length: 8 }, (): [number, number] => [2, 1]),
      hours: [1, 2, 3, 4, 5, 6, 7].map((d): [number, string, string] => [d, '08:00', '23:59']),
    });
    for (let i = 0; i < 7; i += 1) await combine(r.id, `T${i + 1}+T${i + 2}`, [r.tableIds[i]!, r.tableIds[i + 1]!], 3, 4);
    const day = await localDate(db.pool, 'UTC', 3);
    const startsAt = await localInstant(db.pool, 'UTC', day, '10:00');
    const rounds: string[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      await db.pool.query('delete from booking.reservations where restaurant_id = $1', [r.id]);
      const promised = await countAt(r.id, day, startsAt, 4);
      const outcomes = await Promise.all(
        clients.map((client) =>
          client.query('select * from booking.book_table($1, $2, 4)', [r.id, startsAt]).then(
            () => 'booked',
            async (error: unknown) => {
              const failure = await refusal(Promise.reject(error));
              return `${failure.code} ${failure.reason}`;
            },
          ),
        ),
      );
      const booked = outcomes.filter((o) => o === 'booked').length;
      rounds.push(`${promised} promised, ${booked} booked, others ${[...new Set(outcomes.filter((o) => o !== 'booked'))].join()}`);
    }
    expect(rounds.filter((round) => round !== '4 promised, 4 booked, others PT409 all_tables_taken')).toEqual([]);
  });
});
