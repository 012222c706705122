// `npm run load:verify`: the invariants of DESIGN §7 checked in SQL after a load run, against
// the database and the run record the driver left. Exits non-zero when any fails.
//
// Holds end by themselves: a hold the clients left to lapse (hold_minutes 1) may still be live
// when the run ends. Verify waits until the last of them has lapsed (at most lapseHoldMinutes
// after the run, by the database's clock), then runs the sweep as the worker would
// (`booking.expire_holds()`), and checks in the same transaction, so one `now()` decides what
// is live. Waiting rather than accepting live holds keeps the check strict for every hold of
// the run (those of its last minute are most of them in a 90 s run), and rather than having the
// driver stop making such holds a minute before the end, it keeps the traffic the same from
// start to finish (and a short LOAD_DURATION_SECONDS run still has some).
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { reopenLoadDatabase } from './database';
import type { AcknowledgedHold, LedgerData } from './ledger';
import { readRunRecord, runRecordFile, type RunRecord } from './run-record';
import { runCommand } from './cli';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * Pairs of active reservations holding one table at overlapping times (with buffer): must be
 * none. Active includes holds (status held), live or lapsed but not yet marked expired: both are
 * active rows of booking.reservation_tables (a booker taking a lapsed hold's table marks it
 * expired first). The tables held are derived from table_id and the combination's members, not
 * read from booking.reservation_tables, so a fault in the trigger that keeps that table is
 * caught too.
 */
export async function overlappingPairs(client: pg.ClientBase | pg.Pool): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `with held as (
       select r.id, r.restaurant_id, coalesce(m.table_id, r.table_id) as table_id, r.during
       from booking.reservations r
       left join booking.table_combination_members m on m.restaurant_id = r.restaurant_id and m.combination_id = r.combination_id
       where r.status in ('held', 'confirmed', 'seated'))
     select count(*)::int as n
     from held a
     join held b on b.restaurant_id = a.restaurant_id and b.table_id = a.table_id and b.id > a.id and b.during && a.during`,
  );
  return rows[0]!.n;
}

/** Acknowledged bookings missing from the database, or found at another table, time or status. */
export async function ledgerMismatches(client: pg.ClientBase | pg.Pool, ledger: LedgerData): Promise<string[]> {
  const known = ledger.bookings.filter((b) => !b.uncertain);
  if (known.length === 0) return [];
  const { rows } = await client.query<{ id: string; restaurant_id: string; table_id: string; starts_at: Date; status: string }>(
    'select id, restaurant_id, table_id, starts_at, status from booking.reservations where id = any($1::bigint[])',
    [known.map((b) => b.id)],
  );
  const byId = new Map(rows.map((r) => [String(r.id), r]));
  const problems: string[] = [];
  for (const booking of known) {
    const row = byId.get(booking.id);
    const wanted = booking.cancelled ? 'cancelled' : 'confirmed';
    if (!row) problems.push(`reservation ${booking.id} (acknowledged with 201) does not exist`);
    else if (String(row.restaurant_id) !== booking.restaurantId) problems.push(`reservation ${booking.id} belongs to restaurant ${row.restaurant_id}`);
    else if (String(row.table_id) !== booking.tableId) problems.push(`reservation ${booking.id} is at table ${row.table_id}, the client was told ${booking.tableId}`);
    else if (row.starts_at.toISOString() !== booking.startsAt) problems.push(`reservation ${booking.id} starts ${row.starts_at.toISOString()}, the client was told ${booking.startsAt}`);
    else if (row.status !== wanted) problems.push(`reservation ${booking.id} is ${row.status}, the client was told ${wanted}`);
  }
  return problems;
}

/**
 * What each acknowledged hold must be now: the end its client was told (a confirmed one, what
 * its booking became since: confirmed, or cancelled by the client), expired for one left to
 * lapse; null when the client cannot know (its confirmation or release got no answer).
 */
function holdEndsWanted(hold: AcknowledgedHold, ledger: LedgerData): string[] | null {
  if (hold.uncertain) return null;
  if (hold.end === 'confirmed') {
    const booking = ledger.bookings.find((b) => b.id === hold.id);
    if (!booking || booking.uncertain) return ['confirmed', 'cancelled'];
    return [booking.cancelled ? 'cancelled' : 'confirmed'];
  }
  return hold.end ? [hold.end] : ['confirmed', 'released', 'expired'];
}

/**
 * Acknowledged holds that did not end as their clients were told: every one must be confirmed,
 * released or expired (after the sweep), never still held. Run after `booking.expire_holds()`.
 */
export async function holdMismatches(client: pg.ClientBase | pg.Pool, ledger: LedgerData): Promise<string[]> {
  const holds = (ledger.holds ?? []).map((hold) => ({ hold, wanted: holdEndsWanted(hold, ledger) })).filter((h) => h.wanted);
  if (holds.length === 0) return [];
  const { rows } = await client.query<{ id: string; restaurant_id: string; status: string; hold_expires_at: Date | null }>(
    'select id::text, restaurant_id::text, status, hold_expires_at from booking.reservations where id = any($1::bigint[])',
    [holds.map((h) => h.hold.id)],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  const problems: string[] = [];
  for (const { hold, wanted } of holds) {
    const row = byId.get(hold.id);
    const told = hold.intent === 'lapse' ? 'left it to lapse' : `was told ${wanted!.join(' or ')}`;
    if (!row) problems.push(`hold ${hold.id} (acknowledged with 201) does not exist`);
    else if (row.restaurant_id !== hold.restaurantId) problems.push(`hold ${hold.id} belongs to restaurant ${row.restaurant_id}`);
    else if (!wanted!.includes(row.status)) {
      const until = row.status === 'held' && row.hold_expires_at ? ` until ${row.hold_expires_at.toISOString()}` : '';
      problems.push(`hold ${hold.id} is ${row.status}${until}, the client ${told}`);
    }
  }
  return problems;
}

/** Offered waitlist entries whose reservation is neither a live hold nor confirmed (uses the transaction's now()). */
export async function offersWithoutLiveHold(client: pg.ClientBase | pg.Pool): Promise<string[]> {
  const { rows } = await client.query<{ id: string; reservation_id: string | null; status: string | null; hold_expires_at: Date | null }>(
    `select w.id::text, w.reservation_id::text, r.status, r.hold_expires_at
     from booking.waitlist w
     left join booking.reservations r on r.restaurant_id = w.restaurant_id and r.id = w.reservation_id
     where w.status = 'offered'
       and not coalesce(r.status = 'confirmed' or (r.status = 'held' and r.hold_expires_at > now()), false)
     order by w.id`,
  );
  return rows.map((r) =>
    r.status === null
      ? `waitlist entry ${r.id} is offered reservation ${r.reservation_id ?? 'none'}, which does not exist`
      : `waitlist entry ${r.id} is offered reservation ${r.reservation_id}, which is ${r.status}${r.status === 'held' ? ` (lapsed at ${r.hold_expires_at?.toISOString()})` : ''}`,
  );
}

/** Acknowledged waitlist entries missing from their restaurant's waitlist. */
export async function missingWaitlistEntries(client: pg.ClientBase | pg.Pool, ledger: LedgerData): Promise<string[]> {
  const entries = ledger.waitlist ?? [];
  if (entries.length === 0) return [];
  const { rows } = await client.query<{ id: string; restaurant_id: string }>(
    'select id::text, restaurant_id::text from booking.waitlist where id = any($1::bigint[])',
    [entries.map((e) => e.id)],
  );
  const byId = new Map(rows.map((r) => [r.id, r.restaurant_id]));
  return entries
    .filter((e) => byId.get(e.id) !== e.restaurantId)
    .map((e) => `waitlist entry ${e.id} (acknowledged with 201) is not on restaurant ${e.restaurantId}'s waitlist`);
}

/**
 * How long until the last hold the clients left to lapse has lapsed, by the database's clock (0
 * when all have, or are no longer held). Its hold_expires_at is the one the client was told.
 */
export async function msUntilLapsed(client: pg.ClientBase | pg.Pool, ledger: LedgerData): Promise<number> {
  const lapsing = (ledger.holds ?? []).filter((h) => h.intent === 'lapse' && !h.uncertain);
  if (lapsing.length === 0) return 0;
  const { rows } = await client.query<{ ms: number | null }>(
    `select (extract(epoch from max(h.told) - clock_timestamp()) * 1000)::float8 as ms
     from unnest($1::bigint[], $2::timestamptz[]) h (id, told)
     join booking.reservations r on r.id = h.id
     where r.status = 'held'`,
    [lapsing.map((h) => h.id), lapsing.map((h) => h.holdExpiresAt)],
  );
  return Math.max(0, rows[0]?.ms ?? 0);
}

/**
 * Confirmed and seated rows of a restaurant. Holds, live or not, are not counted: waitlist offers
 * are holds the database makes by itself (no client booked them), and a hold a client confirmed
 * is confirmed. Nobody in a run confirms an offer, so every confirmed row is one a client
 * acknowledged: a booking or a confirmed hold.
 */
export async function activeCount(client: pg.ClientBase | pg.Pool, restaurantId: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    "select count(*)::int as n from booking.reservations where restaurant_id = $1 and status in ('confirmed', 'seated')",
    [restaurantId],
  );
  return rows[0]!.n;
}

export interface VerifyOptions {
  /** Told before waiting for the holds left to lapse (ms to wait). */
  onWait?: (ms: number) => void;
}

export async function verifyRun(databaseUrl: string, record: RunRecord, options: VerifyOptions = {}): Promise<Check[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const checks: Check[] = [];
    const wait = await msUntilLapsed(client, record.ledger);
    if (wait > 0) {
      options.onWait?.(wait);
      await sleep(wait + 50);
    }
    // The sweep and every check in one transaction: now() is the same for all of them.
    await client.query('begin');
    const swept = await client.query<{ n: number }>('select booking.expire_holds() as n');
    const overlaps = await overlappingPairs(client);
    checks.push({
      name: 'no overlapping active reservations or holds on any table',
      ok: overlaps === 0,
      detail: `${overlaps} overlapping pairs`,
    });

    const { ledger, target } = record;
    for (const slot of record.stormSlots ?? []) {
      const { rows } = await client.query<{ booked: number; fitting: number }>(
        `select (select count(*)::int from booking.reservations
                  where restaurant_id = $1 and starts_at = $2 and status in ('confirmed', 'seated')) as booked,
                (select count(*)::int from booking.tables
                  where restaurant_id = $1 and active and min_guests <= $3 and capacity >= $3) as fitting`,
        [target.storm.id, slot.startsAt, target.storm.guests],
      );
      const { booked, fitting } = rows[0]!;
      const expected = Math.min(slot.requests, fitting);
      checks.push({
        name: `storm ${slot.startsAt}: bookings = min(requests, fitting tables)`,
        ok: booked === expected && (slot.acknowledged === expected || ledger.unansweredBookings > 0),
        detail: `${booked} rows, ${slot.acknowledged} acknowledged, min(${slot.requests}, ${fitting}) = ${expected}`,
      });
    }

    const mismatches = await ledgerMismatches(client, ledger);
    checks.push({
      name: 'every acknowledged booking exists with the table, time and status the client was told',
      ok: mismatches.length === 0,
      detail: mismatches.length ? mismatches.slice(0, 5).join('; ') : `${ledger.bookings.length} bookings checked`,
    });

    const holds = ledger.holds ?? [];
    const holdProblems = await holdMismatches(client, ledger);
    const unknown = holds.filter((h) => h.uncertain).length;
    checks.push({
      name: 'every hold a client acknowledged ended confirmed, released or expired, as the client was told',
      ok: holdProblems.length === 0,
      detail: holdProblems.length
        ? holdProblems.slice(0, 5).join('; ')
        : `${holds.length - unknown} holds checked (${['confirmed', 'released', 'expired'].map((end) => `${holds.filter((h) => h.end === end).length} ${end}`).join(', ')})` +
          `${unknown ? `, ${unknown} with an unanswered confirmation or release` : ''}; the sweep expired ${swept.rows[0]!.n}`,
    });

    const offers = await offersWithoutLiveHold(client);
    const { rows: queue } = await client.query<{ status: string; n: number }>('select status, count(*)::int as n from booking.waitlist group by status order by status');
    checks.push({
      name: 'every offered waitlist entry has a live or confirmed hold',
      ok: offers.length === 0,
      detail: offers.length ? offers.slice(0, 5).join('; ') : `waitlist: ${queue.map((q) => `${q.n} ${q.status}`).join(', ') || 'empty'}`,
    });

    const missingEntries = await missingWaitlistEntries(client, ledger);
    checks.push({
      name: 'every waitlist entry a client was told about exists',
      ok: missingEntries.length === 0,
      detail: missingEntries.length ? missingEntries.slice(0, 5).join('; ') : `${(ledger.waitlist ?? []).length} entries checked`,
    });

    for (const restaurant of [target.storm, target.mixed]) {
      const active = await activeCount(client, restaurant.id);
      const acknowledged = ledger.bookings.filter((b) => b.restaurantId === restaurant.id && !b.cancelled).length;
      // A confirmation that got no answer may have confirmed its hold: one more row, maybe.
      const unsureHolds = holds.filter((h) => h.restaurantId === restaurant.id && h.uncertain && h.intent === 'confirm').length;
      const unsure = ledger.bookings.filter((b) => b.restaurantId === restaurant.id && b.uncertain).length;
      const slack = ledger.unansweredBookings + unsure + unsureHolds;
      checks.push({
        name: `restaurant ${restaurant.id}: active rows = acknowledged bookings - cancelled`,
        ok: slack === 0 ? active === acknowledged : active >= acknowledged - unsure && active <= acknowledged + slack,
        detail: `${active} active rows, ${acknowledged} acknowledged and not cancelled${slack ? `, ${slack} outcomes unknown to the clients` : ''}`,
      });
    }

    const errors = Object.entries(ledger.serverErrors);
    checks.push({
      name: 'no 5xx responses',
      ok: errors.length === 0,
      detail: errors.length ? errors.map(([status, n]) => `${status}×${n}`).join(' ') : 'none',
    });
    await client.query('commit');
    return checks;
  } finally {
    await client.end();
  }
}

export function printChecks(checks: Check[]): boolean {
  for (const check of checks) console.log(`  ${check.ok ? '✓' : '✗'} ${check.name} (${check.detail})`);
  return checks.every((c) => c.ok);
}

async function main(): Promise<number> {
  const record = await readRunRecord().catch(() => {
    throw new Error(`no run record at ${runRecordFile}: run \`npm run load\` first`);
  });
  const db = await reopenLoadDatabase(record.database);
  try {
    console.log(`Invariants after the load run of ${record.finishedAt}:`);
    const onWait = (ms: number) => console.log(`  waiting ${(ms / 1000).toFixed(1)}s until the last hold the clients left to lapse has lapsed`);
    const ok = printChecks(await verifyRun(db.url, record, { onWait }));
    console.log(ok ? '  all invariants hold' : '  INVARIANTS VIOLATED');
    return ok ? 0 : 1;
  } finally {
    await db.close();
  }
}

if (require.main === module) runCommand(main);
