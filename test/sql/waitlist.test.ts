// The waitlist, called as a DBA or the API would: a freed table goes to the oldest waiting
// entry that fits, as a hold, in the same transaction; offers lapse to the next entry; and
// racing cancellations and bookings never offer one table twice nor leave one unoffered.
import pg from 'pg';
import { connections, freshDatabase, type TestDatabase } from '../support/cluster';
import { createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { book, refusal } from '../support/sql';
import { overlappingPairs } from '../../load/verify';

let db: TestDatabase;
let r: Restaurant;
let day: string;
const at = (time: string) => localInstant(db.pool, r.timezone, day, time);

beforeAll(async () => {
  db = await freshDatabase();
  // Two two-tops only: easy to fill.
  r = await createRestaurant(db.pool, { tables: [[2, 1], [2, 1]] });
  day = await localDate(db.pool, r.timezone, 3);
});
afterAll(() => db.drop());
beforeEach(async () => {
  await db.pool.query('delete from booking.waitlist');
  await db.pool.query('delete from booking.reservations');
});

interface Entry {
  id: string;
  status: string;
  reservation_id: string | null;
}

async function join(from: string, to: string, guests = 2, phone = '+34 600 000 000'): Promise<Entry> {
  const { rows } = await db.pool.query<Entry>('select * from booking.join_waitlist($1, $2, $3, $4, phone => $5)', [r.id, guests, await at(from), await at(to), phone]);
  return rows[0]!;
}

async function entry(id: string): Promise<Entry> {
  return (await db.pool.query<Entry>('select * from booking.waitlist where id = $1', [id])).rows[0]!;
}

async function reservation(id: string | null): Promise<{ status: string; table_id: string; starts_at: Date; hold_expires_at: Date | null }> {
  return (await db.pool.query('select * from booking.reservations where id = $1', [id])).rows[0];
}

async function fill(time: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) ids.push((await book(db.pool, { restaurantId: r.id, startsAt: await at(time), guests: 2 })).id);
  return ids;
}

const cancel = (id: string) => db.pool.query('select * from booking.cancel_reservation($1, $2)', [r.id, id]);

describe('joining', () => {
  test('waits while nothing fits in the window', async () => {
    await fill('20:00');
    expect(await join('20:00', '20:30')).toMatchObject({ status: 'waiting', reservation_id: null });
  });

  test('is offered at once when something fits already: a hold of waitlist_offer_minutes at the earliest start', async () => {
    await fill('20:00');
    const joined = await join('20:00', '22:00');
    expect(joined.status).toBe('offered');
    const hold = await reservation(joined.reservation_id);
    expect(hold.status).toBe('held');
    expect(hold.starts_at.toISOString()).toBe(await at('21:45'));
    const { rows } = await db.pool.query("select $1::timestamptz - now() between interval '14 minutes 59 seconds' and interval '15 minutes' as ok", [
      hold.hold_expires_at,
    ]);
    expect(rows[0].ok).toBe(true);
  });

  test.each([
    ['latest before earliest', '22023', 'invalid_window', () => db.pool.query("select booking.join_waitlist($1, 2, now() + interval '2 days', now() + interval '1 day', phone => '+34 600')", [r.id])],
    ['a window in the past', 'PT422', 'in_past', () => db.pool.query("select booking.join_waitlist($1, 2, now() - interval '2 hours', now() - interval '1 hour', phone => '+34 600')", [r.id])],
    ['no way to reach the guest', '22023', 'contact_required', () => db.pool.query("select booking.join_waitlist($1, 2, now(), now() + interval '1 day', name => 'Ana')", [r.id])],
    ['an unknown guest', 'PT404', 'client_not_found', () => db.pool.query("select booking.join_waitlist($1, 2, now(), now() + interval '1 day', client_id => 999999)", [r.id])],
    ['a party of 21', '22023', 'invalid_guests', () => db.pool.query("select booking.join_waitlist($1, 21, now(), now() + interval '1 day', phone => '+34 600')", [r.id])],
  ])('refuses %s', async (_what, code, reason, call) => {
    const error = await refusal(call());
    expect([error.code, error.reason]).toEqual([code, reason]);
  });
});

describe('a freed table', () => {
  test('goes to the oldest waiting entry that fits, in the cancelling transaction, and is never shown free while offered', async () => {
    const [first] = await fill('20:00');
    await fill('22:00');
    const tooBig = await join('20:00', '20:30', 3);
    const outside = await join('22:00', '22:30');
    const older = await join('19:45', '20:15');
    const younger = await join('20:00', '20:15');
    await cancel(first!);
    expect((await entry(older.id)).status).toBe('offered');
    expect((await entry(younger.id)).status).toBe('waiting');
    expect((await entry(tooBig.id)).status).toBe('waiting');
    expect((await entry(outside.id)).status).toBe('waiting');
    // The earliest start of its window where it now fits.
    const hold = await reservation((await entry(older.id)).reservation_id);
    expect(hold.starts_at.toISOString()).toBe(await at('19:45'));
    const { rows } = await db.pool.query("select tables_available from booking.available_table_counts($1, $2, 2) where local_time = '20:00'", [r.id, day]);
    expect(rows[0].tables_available).toBe(0);
  });

  test('confirmed, marks the entry booked', async () => {
    const [first] = await fill('20:00');
    const waiting = await join('20:00', '20:00');
    await cancel(first!);
    const offered = await entry(waiting.id);
    await db.pool.query('select booking.confirm_hold($1, $2)', [r.id, offered.reservation_id]);
    expect(await entry(waiting.id)).toMatchObject({ status: 'booked', reservation_id: offered.reservation_id });
  });

  test('also comes from a no-show, a released hold and a move away', async () => {
    const [first, second] = await fill('20:00');
    const a = await join('20:00', '20:00');
    const b = await join('20:00', '20:00');
    const c = await join('20:00', '20:00');
    await db.pool.query("select booking.set_reservation_status($1, $2, 'no_show')", [r.id, first]);
    expect((await entry(a.id)).status).toBe('offered');
    await db.pool.query('select booking.reschedule_reservation($1, $2, starts_at => $3)', [r.id, second, await at('22:15')]);
    expect((await entry(b.id)).status).toBe('offered');
    // a declines: its hold is released, a waits again, and c (not a) gets the table.
    await db.pool.query('select booking.release_hold($1, $2)', [r.id, (await entry(a.id)).reservation_id]);
    expect((await entry(a.id)).status).toBe('waiting');
    expect((await entry(c.id)).status).toBe('offered');
  });

  test('offered and lapsed, returns the entry to waiting and goes to the next entry at the sweep', async () => {
    const [first] = await fill('20:00');
    const a = await join('20:00', '20:00');
    const b = await join('20:00', '20:00');
    await cancel(first!);
    const offer = (await entry(a.id)).reservation_id;
    await db.pool.query("update booking.reservations set hold_expires_at = now() - interval '1 second' where id = $1", [offer]);
    await db.pool.query('select booking.expire_holds()');
    expect(await reservation(offer)).toMatchObject({ status: 'expired' });
    expect((await entry(a.id)).status).toBe('waiting');
    expect((await entry(b.id)).status).toBe('offered');
  });

  test('offered to an entry that leaves, goes to the next one', async () => {
    const [first] = await fill('20:00');
    const a = await join('20:00', '20:00');
    const b = await join('20:00', '20:00');
    await cancel(first!);
    const offer = (await entry(a.id)).reservation_id;
    const { rows } = await db.pool.query('select * from booking.leave_waitlist($1, $2)', [r.id, a.id]);
    expect(rows[0]).toMatchObject({ status: 'cancelled', reservation_id: null });
    expect((await reservation(offer)).status).toBe('released');
    expect((await entry(b.id)).status).toBe('offered');
    const again = await db.pool.query('select * from booking.leave_waitlist($1, $2)', [r.id, a.id]);
    expect(again.rows[0].updated_at).toEqual(rows[0].updated_at);
    expect((await refusal(db.pool.query('select booking.leave_waitlist($1, 999999)', [r.id]))).reason).toBe('waitlist_entry_not_found');
  });

  test('the sweep expires entries whose window has passed', async () => {
    await fill('20:00');
    const waiting = await join('20:00', '20:00');
    await db.pool.query("update booking.waitlist set earliest = now() - interval '2 hours', latest = now() - interval '1 hour' where id = $1", [waiting.id]);
    await db.pool.query('select booking.expire_holds()');
    expect((await entry(waiting.id)).status).toBe('expired');
  });
});

describe('racing', () => {
  test('two cancellations and a booking never offer one table twice nor leave a freed table unoffered, 20 times over', async () => {
    const racers = await connections(db.url, 3);
    try {
      const problems: string[] = [];
      for (let round = 0; round < 20; round++) {
        await db.pool.query('delete from booking.waitlist');
        await db.pool.query('delete from booking.reservations');
        const [first, second] = await fill('20:00');
        const older = await join('20:00', '20:00');
        const younger = await join('20:00', '20:00');
        const startsAt = await at('20:00');
        const [, , booking] = await Promise.all([
          racers[0]!.query('select booking.cancel_reservation($1, $2)', [r.id, first]),
          racers[1]!.query('select booking.cancel_reservation($1, $2)', [r.id, second]),
          racers[2]!.query('select id from booking.book_table($1, $2, 2)', [r.id, startsAt]).then(
            () => 'booked',
            (error: pg.DatabaseError) => error.code,
          ),
        ]);
        const { rows } = await db.pool.query<{ active: number; holds: number }>(
          `select count(*) filter (where status in ('confirmed', 'held'))::int as active,
                  count(*) filter (where status = 'held')::int as holds
             from booking.reservations where starts_at = $1`,
          [startsAt],
        );
        const entries = [await entry(older.id), await entry(younger.id)];
        const offered = entries.filter((e) => e.status === 'offered');
        const expected = booking === 'booked' ? 1 : 2;
        if (rows[0]!.active !== 2) problems.push(`round ${round}: ${rows[0]!.active} of 2 tables taken (booking: ${booking})`);
        if (offered.length !== expected || rows[0]!.holds !== expected) problems.push(`round ${round}: ${offered.length} offers, ${rows[0]!.holds} holds, expected ${expected}`);
        if (entries[0]!.status !== 'offered') problems.push(`round ${round}: the older entry was passed over`);
        if (new Set(offered.map((e) => e.reservation_id)).size !== offered.length) problems.push(`round ${round}: one hold offered twice`);
        if ((await overlappingPairs(db.pool)) !== 0) problems.push(`round ${round}: overlap`);
      }
      expect(problems).toEqual([]);
    } finally {
      await Promise.all(racers.map((client) => client.end()));
    }
  });
});
