// `npm run load:verify`: the invariants of DESIGN §7 checked in SQL after a load run, against
// the database and the run record the driver left. Exits non-zero when any fails.
import pg from 'pg';
import { reopenLoadDatabase } from './database';
import type { LedgerData } from './ledger';
import { readRunRecord, runRecordFile, type RunRecord } from './run-record';
import { runCommand } from './cli';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * Pairs of active reservations holding one table at overlapping times (with buffer): must be
 * none. The tables held are derived from table_id and the combination's members, not read from
 * booking.reservation_tables, so a fault in the trigger that keeps that table is caught too.
 */
export async function overlappingPairs(client: pg.ClientBase | pg.Pool): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `with held as (
       select r.id, r.restaurant_id, coalesce(m.table_id, r.table_id) as table_id, r.during
       from booking.reservations r
       left join booking.table_combination_members m on m.restaurant_id = r.restaurant_id and m.combination_id = r.combination_id
       where r.status in ('confirmed', 'seated'))
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

export async function activeCount(client: pg.ClientBase | pg.Pool, restaurantId: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    "select count(*)::int as n from booking.reservations where restaurant_id = $1 and status in ('confirmed', 'seated')",
    [restaurantId],
  );
  return rows[0]!.n;
}

export async function verifyRun(databaseUrl: string, record: RunRecord): Promise<Check[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const checks: Check[] = [];
    const overlaps = await overlappingPairs(client);
    checks.push({ name: 'no overlapping active reservations on any table', ok: overlaps === 0, detail: `${overlaps} overlapping pairs` });

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

    for (const restaurant of [target.storm, target.mixed]) {
      const active = await activeCount(client, restaurant.id);
      const acknowledged = ledger.bookings.filter((b) => b.restaurantId === restaurant.id && !b.cancelled).length;
      const unsure = ledger.bookings.filter((b) => b.restaurantId === restaurant.id && b.uncertain).length;
      const slack = ledger.unansweredBookings + unsure;
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
    const ok = printChecks(await verifyRun(db.url, record));
    console.log(ok ? '  all invariants hold' : '  INVARIANTS VIOLATED');
    return ok ? 0 : 1;
  } finally {
    await db.close();
  }
}

if (require.main === module) runCommand(main);
