// Pacing: the covers of active reservations starting in one slot of a paced window never pass
// its max_covers, for book_table and reschedule_reservation, under real concurrency too; and
// available_table_counts shows what pacing leaves.
import pg from 'pg';
import { connections, freshDatabase, type TestDatabase } from '../support/cluster';
import { createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { book, refusal, type Booking } from '../support/sql';

let db: TestDatabase;
let day: string;
let weekday: number;

beforeAll(async () => {
  db = await freshDatabase();
  day = await localDate(db.pool, 'UTC', 4);
  const { rows } = await db.pool.query<{ d: number }>('select extract(isodow from $1::date)::int as d', [day]);
  weekday = rows[0]!.d;
});
afterAll(() => db.drop());

interface Alternative {
  starts_at: string;
  local_time: string;
  tables_available: number;
}

const fourTops = (n: number) => Array.from({ length: n }, (): [number, number] => [4, 1]);

/** A UTC restaurant open 12:00-23:59 with the given limits; by default fourteen tables of four (plenty for any storm). */
async function pacedRestaurant(limits: Array<[number | null, string, string, number]>, tables = fourTops(14)): Promise<Restaurant> {
  const r = await createRestaurant(db.pool, { timezone: 'UTC', tables });
  for (const [limitWeekday, opens, closes, maxCovers] of limits) {
    await db.pool.query('insert into booking.pacing_limits (restaurant_id, weekday, opens, closes, max_covers) values ($1, $2, $3, $4, $5)', [
      r.id,
      limitWeekday,
      opens,
      closes,
      maxCovers,
    ]);
  }
  return r;
}

const at = (r: Restaurant, time: string, onDay = day) => localInstant(db.pool, r.timezone, onDay, time);

async function covers(r: Restaurant, startsAt: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    "select coalesce(sum(guests), 0)::int as n from booking.reservations where restaurant_id = $1 and starts_at = $2 and status in ('confirmed', 'seated')",
    [r.id, startsAt],
  );
  return rows[0]!.n;
}

async function available(r: Restaurant, guests: number, onDay = day): Promise<Map<string, number>> {
  const { rows } = await db.pool.query<{ local_time: string; tables_available: number }>(
    'select local_time, tables_available from booking.available_table_counts($1, $2, $3)',
    [r.id, onDay, guests],
  );
  return new Map(rows.map((row) => [row.local_time, row.tables_available]));
}

function reschedule(r: Restaurant, reservationId: string, args: { startsAt?: string; guests?: number }, on: pg.Pool | pg.Client = db.pool) {
  return on.query<Booking>('select * from booking.reschedule_reservation(restaurant_id => $1, reservation_id => $2, starts_at => $3, guests => $4)', [
    r.id,
    reservationId,
    args.startsAt ?? null,
    args.guests ?? null,
  ]);
}

/** The alternatives are the (at most five) slots of the day nearest to the refused one where a party of `guests` can still be booked. */
async function expectUsefulAlternatives(r: Restaurant, alternatives: Alternative[], refusedAt: string, guests: number) {
  const { rows } = await db.pool.query<{ starts_at: Date; local_time: string; tables_available: number }>(
    'select * from booking.available_table_counts($1, $2, $3) where tables_available > 0 and starts_at <> $4',
    [r.id, day, guests, refusedAt],
  );
  const distance = (slot: Date) => Math.abs(slot.getTime() - Date.parse(refusedAt));
  const nearest = rows.sort((a, b) => distance(a.starts_at) - distance(b.starts_at) || a.starts_at.getTime() - b.starts_at.getTime()).slice(0, 5);
  expect(nearest.length).toBeGreaterThan(0);
  expect(alternatives.map((alternative) => [new Date(alternative.starts_at).toISOString(), alternative.local_time, alternative.tables_available])).toEqual(
    nearest.map((slot) => [slot.starts_at.toISOString(), slot.local_time, slot.tables_available]),
  );
}

describe('book_table', () => {
  test('books up to max_covers in a paced slot and refuses the party that would pass it with PT409 pacing_limit and alternatives', async () => {
    const r = await pacedRestaurant([[null, '19:00', '21:00', 10]]);
    const startsAt = await at(r, '20:00');
    await book(db.pool, { restaurantId: r.id, startsAt, guests: 4 });
    await book(db.pool, { restaurantId: r.id, startsAt, guests: 4 });
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt, guests: 4 }));
    expect([error.code, error.reason, error.detail?.max_covers, error.detail?.booked_covers]).toEqual(['PT409', 'pacing_limit', 10, 8]);
    await expectUsefulAlternatives(r, error.detail?.alternatives as Alternative[], startsAt, 4);
    await book(db.pool, { restaurantId: r.id, startsAt, guests: 2 });
    expect(await covers(r, startsAt)).toBe(10);
  });

  test('counts the guests of every reservation starting inside the slot, not only at its first minute', async () => {
    const r = await pacedRestaurant([[null, '19:00', '21:00', 10]]);
    // A DBA's raw write at 20:05 starts in the 20:00 slot.
    await db.pool.query(
      `insert into booking.reservations (restaurant_id, table_id, starts_at, ends_at, guests)
       values ($1, $2, $3::timestamptz + interval '5 minutes', $3::timestamptz + interval '95 minutes', 4)`,
      [r.id, r.tableIds[0], await at(r, '20:00')],
    );
    await book(db.pool, { restaurantId: r.id, startsAt: await at(r, '20:00'), guests: 4 });
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at(r, '20:00'), guests: 4 }));
    expect([error.code, error.reason, error.detail?.booked_covers]).toEqual(['PT409', 'pacing_limit', 8]);
    await book(db.pool, { restaurantId: r.id, startsAt: await at(r, '20:00'), guests: 2 });
    await book(db.pool, { restaurantId: r.id, startsAt: await at(r, '20:15'), guests: 4 });
  });

  test('uses the smallest max_covers where several rows apply', async () => {
    const r = await pacedRestaurant([
      [null, '12:00', '23:00', 12],
      [null, '19:30', '20:30', 5],
      [weekday, '19:00', '22:00', 8],
    ]);
    await book(db.pool, { restaurantId: r.id, startsAt: await at(r, '20:00'), guests: 4 });
    let error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at(r, '20:00'), guests: 2 }));
    expect([error.code, error.reason, error.detail?.max_covers]).toEqual(['PT409', 'pacing_limit', 5]);
    for (const [time, cap] of [['21:00', 8], ['18:00', 12]] as const) {
      while ((await covers(r, await at(r, time))) + 4 <= cap) await book(db.pool, { restaurantId: r.id, startsAt: await at(r, time), guests: 4 });
      error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at(r, time), guests: 1 }));
      expect([error.code, error.reason, error.detail?.max_covers]).toEqual(['PT409', 'pacing_limit', cap]);
    }
  });

  test('applies a weekday-specific row only on that weekday', async () => {
    const r = await pacedRestaurant([[weekday, '19:00', '21:00', 3]]);
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at(r, '20:00'), guests: 4 }));
    expect([error.code, error.reason, error.detail?.max_covers]).toEqual(['PT409', 'pacing_limit', 3]);
    for (const other of [1, 2, 3, 4, 5, 6]) {
      const otherDay = await localDate(db.pool, 'UTC', 4 + other);
      const startsAt = await at(r, '20:00', otherDay);
      for (let i = 0; i < 3; i += 1) await book(db.pool, { restaurantId: r.id, startsAt, guests: 4 });
      expect(await covers(r, startsAt)).toBe(12);
    }
  });

  test('does not pace a slot outside every window (closes is exclusive)', async () => {
    const r = await pacedRestaurant([[null, '19:00', '21:00', 2]]);
    for (const time of ['18:45', '21:00', '21:15']) {
      const startsAt = await at(r, time);
      for (let i = 0; i < 3; i += 1) await book(db.pool, { restaurantId: r.id, startsAt, guests: 4 });
      expect(await covers(r, startsAt)).toBe(12);
    }
  });

  test('offers the nearest slots outside the paced window as alternatives', async () => {
    const r = await pacedRestaurant([[null, '20:00', '20:15', 4]]);
    await book(db.pool, { restaurantId: r.id, startsAt: await at(r, '20:00'), guests: 4 });
    const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at(r, '20:00'), guests: 2 }));
    expect([error.code, error.reason]).toEqual(['PT409', 'pacing_limit']);
    const alternatives = error.detail?.alternatives as Alternative[];
    expect(alternatives.slice(0, 2).map((alternative) => alternative.local_time)).toEqual(['19:45', '20:15']);
    await expectUsefulAlternatives(r, alternatives, await at(r, '20:00'), 2);
  });

  test('paces a night service across midnight with a window closing at 24:00 and one opening at 00:00', async () => {
    const r = await createRestaurant(db.pool, {
      timezone: 'UTC',
      tables: fourTops(10),
      hours: [1, 2, 3, 4, 5, 6, 7].map((d): [number, string, string] => [d, '18:00', '03:00']),
    });
    await db.pool.query(
      "insert into booking.pacing_limits (restaurant_id, opens, closes, max_covers) values ($1, '22:00', '24:00', 4), ($1, '00:00', '01:00', 6)",
      [r.id],
    );
    const nextDay = await localDate(db.pool, 'UTC', 5);
    for (const [startsAt, cap] of [[await at(r, '23:45'), 4], [await at(r, '00:30', nextDay), 6]] as const) {
      while ((await covers(r, startsAt)) + 2 <= cap) await book(db.pool, { restaurantId: r.id, startsAt, guests: 2 });
      const error = await refusal(book(db.pool, { restaurantId: r.id, startsAt, guests: 1 }));
      expect([error.code, error.reason, error.detail?.max_covers]).toEqual(['PT409', 'pacing_limit', cap]);
    }
    const counts = await available(r, 1);
    expect([counts.get('23:45'), counts.get('00:30')]).toEqual([0, 0]);
    const late = await at(r, '01:00', nextDay);
    for (let i = 0; i < 4; i += 1) await book(db.pool, { restaurantId: r.id, startsAt: late, guests: 4 });
    expect(await covers(r, late)).toBe(16);
  });

  test('frees the covers of a cancelled reservation; seated ones keep counting, completed and no-show ones do not', async () => {
    const r = await pacedRestaurant([[null, '19:00', '21:00', 6]]);
    const startsAt = await at(r, '20:00');
    const first = await book(db.pool, { restaurantId: r.id, startsAt, guests: 3 });
    const second = await book(db.pool, { restaurantId: r.id, startsAt, guests: 3 });
    expect((await refusal(book(db.pool, { restaurantId: r.id, startsAt, guests: 1 }))).reason).toBe('pacing_limit');
    await db.pool.query('select booking.cancel_reservation($1, $2)', [r.id, first.id]);
    await book(db.pool, { restaurantId: r.id, startsAt, guests: 3 });
    // Status changes made directly by a DBA: seated still holds its covers, no_show frees them.
    await db.pool.query("update booking.reservations set status = 'seated' where id = $1", [second.id]);
    expect((await refusal(book(db.pool, { restaurantId: r.id, startsAt, guests: 1 }))).reason).toBe('pacing_limit');
    await db.pool.query("update booking.reservations set status = 'no_show' where id = $1", [second.id]);
    await book(db.pool, { restaurantId: r.id, startsAt, guests: 3 });
    expect(await covers(r, startsAt)).toBe(6);
  });

  test('leaves the other slots of a window unaffected by a full one', async () => {
    const r = await pacedRestaurant([[null, '19:00', '21:00', 4]]);
    await book(db.pool, { restaurantId: r.id, startsAt: await at(r, '20:00'), guests: 4 });
    expect((await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at(r, '20:00'), guests: 1 }))).reason).toBe('pacing_limit');
    for (const time of ['19:45', '20:15', '20:30']) {
      await book(db.pool, { restaurantId: r.id, startsAt: await at(r, time), guests: 4 });
    }
  });
});

describe('reschedule_reservation', () => {
  test('into a full slot is refused with PT409 pacing_limit and leaves the reservation unchanged', async () => {
    const r = await pacedRestaurant([[null, '19:00', '21:00', 6]]);
    await book(db.pool, { restaurantId: r.id, startsAt: await at(r, '20:00'), guests: 4 });
    const moving = await book(db.pool, { restaurantId: r.id, startsAt: await at(r, '19:00'), guests: 3 });
    const error = await refusal(reschedule(r, moving.id, { startsAt: await at(r, '20:00') }));
    expect([error.code, error.reason, error.detail?.booked_covers]).toEqual(['PT409', 'pacing_limit', 4]);
    await expectUsefulAlternatives(r, error.detail?.alternatives as Alternative[], await at(r, '20:00'), 3);
    const { rows } = await db.pool.query<Booking>('select * from booking.reservations where id = $1', [moving.id]);
    expect(rows[0]).toEqual(moving);
    // Two guests still fit there.
    const moved = await reschedule(r, moving.id, { startsAt: await at(r, '20:00'), guests: 2 });
    expect(moved.rows[0]!.starts_at.toISOString()).toBe(await at(r, '20:00'));
    expect(await covers(r, await at(r, '20:00'))).toBe(6);
  });

  test("changing the party size within the same slot does not count the reservation's own covers twice", async () => {
    const r = await pacedRestaurant([[null, '19:00', '21:00', 10]], [[10, 1], [10, 1], [4, 1]]);
    const startsAt = await at(r, '20:00');
    const party = await book(db.pool, { restaurantId: r.id, startsAt, guests: 6 });
    await reschedule(r, party.id, { guests: 8 });
    await book(db.pool, { restaurantId: r.id, startsAt, guests: 2 });
    expect(await covers(r, startsAt)).toBe(10);
    const error = await refusal(reschedule(r, party.id, { guests: 9 }));
    expect([error.code, error.reason, error.detail?.booked_covers]).toEqual(['PT409', 'pacing_limit', 2]);
    await reschedule(r, party.id, { startsAt, guests: 4 });
    expect(await covers(r, startsAt)).toBe(6);
  });
});

describe('available_table_counts', () => {
  test('shows min(free tables, floor(remaining covers / guests)) in a paced slot, 0 when fewer covers remain than the party', async () => {
    const r = await pacedRestaurant([[null, '12:00', '23:59', 10]], fourTops(4));
    const startsAt = await at(r, '20:00');
    expect((await available(r, 2)).get('20:00')).toBe(4);
    expect((await available(r, 3)).get('20:00')).toBe(3);
    await book(db.pool, { restaurantId: r.id, startsAt, guests: 4 });
    expect((await available(r, 1)).get('20:00')).toBe(3);
    expect((await available(r, 2)).get('20:00')).toBe(3);
    expect((await available(r, 4)).get('20:00')).toBe(1);
    await book(db.pool, { restaurantId: r.id, startsAt, guests: 3 });
    expect((await available(r, 4)).get('20:00')).toBe(0);
    expect((await available(r, 3)).get('20:00')).toBe(1);
    expect((await available(r, 1)).get('20:00')).toBe(2);
    // An earlier slot clear of those stays has every table and its own covers.
    expect((await available(r, 2)).get('18:15')).toBe(4);
  });

  test('does not cap a slot outside every pacing window', async () => {
    const r = await pacedRestaurant([[null, '19:00', '21:00', 2]], fourTops(4));
    const counts = await available(r, 4);
    expect([counts.get('18:45'), counts.get('19:00'), counts.get('20:45'), counts.get('21:00')]).toEqual([4, 0, 0, 4]);
    const other = await available(r, 4, await localDate(db.pool, 'UTC', 5));
    expect(other.get('20:00')).toBe(0);
    const weekdayOnly = await pacedRestaurant([[weekday, '19:00', '21:00', 2]], fourTops(4));
    expect((await available(weekdayOnly, 4, await localDate(db.pool, 'UTC', 5))).get('20:00')).toBe(4);
  });
});

describe('under concurrency', () => {
  const RACERS = 12;
  let clients: pg.Client[];

  beforeAll(async () => {
    clients = await connections(db.url, RACERS);
  });
  afterAll(() => Promise.all(clients.map((client) => client.end())));

  type Outcome = { ok: true } | { ok: false; code: string; reason?: string; alternatives?: Alternative[] };

  async function outcome(work: Promise<unknown>): Promise<Outcome> {
    try {
      await work;
      return { ok: true };
    } catch (error) {
      const failure = await refusal(Promise.reject(error));
      return { ok: false, code: failure.code, reason: failure.reason, alternatives: failure.detail?.alternatives as Alternative[] | undefined };
    }
  }

  test(`${RACERS} parallel parties of 2 at a slot capped at 10 covers with free tables for all: exactly 5 booked, 7 refused with pacing_limit and alternatives`, async () => {
    const r = await pacedRestaurant([[null, '19:00', '21:00', 10]]);
    const startsAt = await at(r, '20:00');
    const outcomes = await Promise.all(
      clients.map((client) => outcome(client.query('select * from booking.book_table($1, $2, 2)', [r.id, startsAt]))),
    );
    expect(outcomes.filter((o) => o.ok)).toHaveLength(5);
    const refused = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
    expect(refused.map((o) => `${o.code} ${o.reason}`)).toEqual(Array(7).fill('PT409 pacing_limit'));
    for (const o of refused) await expectUsefulAlternatives(r, o.alternatives!, startsAt, 2);
    expect(await covers(r, startsAt)).toBe(10);
    expect((await available(r, 2)).get('20:00')).toBe(0);
    expect((await available(r, 1)).get('20:00')).toBe(0);
  });

  test(`${RACERS} parallel moves and bookings into a slot capped at 10 covers: exactly 5 succeed and the refused moves stay put`, async () => {
    const r = await pacedRestaurant([[null, '19:00', '21:00', 10]]);
    const startsAt = await at(r, '20:00');
    const earlier = await at(r, '17:00');
    const movers: Booking[] = [];
    for (let i = 0; i < RACERS / 2; i += 1) movers.push(await book(db.pool, { restaurantId: r.id, startsAt: earlier, guests: 2 }));
    const outcomes = await Promise.all(
      clients.map((client, i) =>
        outcome(
          i % 2 === 0
            ? reschedule(r, movers[i / 2]!.id, { startsAt }, client)
            : client.query('select * from booking.book_table($1, $2, 2)', [r.id, startsAt]),
        ),
      ),
    );
    expect(outcomes.filter((o) => o.ok)).toHaveLength(5);
    expect(outcomes.filter((o) => !o.ok).map((o) => `${(o as { code: string }).code} ${(o as { reason?: string }).reason}`)).toEqual(
      Array(7).fill('PT409 pacing_limit'),
    );
    expect(await covers(r, startsAt)).toBe(10);
    const { rows } = await db.pool.query<{ id: string; starts_at: Date }>('select id, starts_at from booking.reservations where id = any($1)', [
      movers.map((m) => m.id),
    ]);
    for (const [i, mover] of movers.entries()) {
      const now = rows.find((row) => row.id === mover.id)!;
      expect(now.starts_at.toISOString()).toBe(outcomes[2 * i]!.ok ? startsAt : earlier);
    }
  });
});
