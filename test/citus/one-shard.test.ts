// A reservation's or a waitlist entry's lifecycle stays on the restaurant's worker: each function
// names its row by (restaurant_id, id), so Citus routes the statement to the restaurant's shard
// alone and the call commits in one phase. By id alone (as these functions updated until
// migration 000013) the UPDATE was sent to every shard, on both workers, in a two-phase commit;
// and until migration 000014 looking for a place read the combinations of every shard. Seen as the coordinator sees it: with citus.log_remote_commands on,
// every command it sends to a worker arrives as a notice naming that worker.
import type pg from 'pg';
import { freshDatabase, testTarget, type TestDatabase } from '../support/cluster';
import { addCombination, createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { book, type Booking } from '../support/sql';

if (testTarget() !== 'citus') throw new Error('test/citus runs only with NORA_TEST_TARGET=citus (npm run test:citus)');

let db: TestDatabase;
let r: Restaurant;
let home: string;
let day: string;
const at = (time: string) => localInstant(db.pool, r.timezone, day, time);

interface RemoteCommand {
  node: string;
  command: string;
}

/** The commands the coordinator sends to the workers while `work` runs on one connection. */
async function remoteCommands(work: (client: pg.PoolClient) => Promise<unknown>): Promise<RemoteCommand[]> {
  const client = await db.pool.connect();
  const commands: RemoteCommand[] = [];
  const listener = (notice: { message?: string; detail?: string }) => {
    const server = /on server [^@\s]*@(\S+)/.exec(notice.detail ?? '');
    if (notice.message?.startsWith('issuing ') && server) commands.push({ node: server[1]!, command: notice.message.slice('issuing '.length) });
  };
  client.on('notice', listener);
  try {
    await client.query('set citus.log_remote_commands = on');
    await work(client);
    await client.query('reset citus.log_remote_commands');
  } finally {
    client.off('notice', listener);
    client.release();
  }
  return commands;
}

/** Nothing sent to another worker, no two-phase commit, and the row written on the home worker. */
function expectOnHomeWorker(commands: RemoteCommand[], write: RegExp): void {
  expect({
    elsewhere: commands.filter((c) => c.node !== home).map((c) => `${c.node}: ${c.command}`),
    twoPhase: commands.filter((c) => /^(PREPARE TRANSACTION|COMMIT PREPARED)\b/i.test(c.command)).map((c) => c.command),
    written: commands.some((c) => c.node === home && write.test(c.command)),
  }).toEqual({ elsewhere: [], twoPhase: [], written: true });
}

beforeAll(async () => {
  db = await freshDatabase();
  r = await createRestaurant(db.pool, { tables: [[2, 1], [2, 1], [4, 1]] });
  const { rows } = await db.pool.query<{ node: string }>(
    `select p.nodename || ':' || p.nodeport as node from pg_dist_shard_placement p
     where p.shardid = get_shard_id_for_distribution_column('booking.restaurants', $1::bigint)`,
    [r.id],
  );
  home = rows[0]!.node;
  const { rows: workers } = await db.pool.query<{ n: number }>('select count(*)::int as n from pg_dist_node where groupid <> 0 and isactive');
  expect(workers[0]!.n).toBe(2);
  day = await localDate(db.pool, r.timezone, 5);
});
afterAll(() => db.drop());

test('book_table, at a single table and at a combination, reads and writes only on the restaurant\'s worker, in one phase', async () => {
  const combination = await addCombination(db.pool, r.id, { name: 'T1+T2', tableIds: r.tableIds.slice(0, 2), minGuests: 3, capacity: 4 });
  // A day of its own: the other tests book day 5.
  const other = await localDate(db.pool, r.timezone, 6);
  const single = await localInstant(db.pool, r.timezone, other, '12:00');
  expectOnHomeWorker(
    await remoteCommands((c) => c.query('select booking.book_table($1, $2, 2)', [r.id, single])),
    /^INSERT INTO booking\.reservations_\d+/i,
  );
  const combined = await localInstant(db.pool, r.timezone, other, '20:30');
  expectOnHomeWorker(
    await remoteCommands((c) => c.query('select booking.book_table($1, $2, 4, combination_id => $3)', [r.id, combined, combination])),
    /^INSERT INTO booking\.reservations_\d+/i,
  );
});

test('cancel_reservation and set_reservation_status write only on the restaurant\'s worker, in one phase', async () => {
  const cancelled = await book(db.pool, { restaurantId: r.id, startsAt: await at('13:00'), guests: 2 });
  expectOnHomeWorker(
    await remoteCommands((c) => c.query('select booking.cancel_reservation($1, $2)', [r.id, cancelled.id])),
    /^UPDATE booking\.reservations_\d+ .*cancelled/i,
  );
  const seated = await book(db.pool, { restaurantId: r.id, startsAt: await at('14:00'), guests: 2 });
  expectOnHomeWorker(
    await remoteCommands((c) => c.query("select booking.set_reservation_status($1, $2, 'seated')", [r.id, seated.id])),
    /^UPDATE booking\.reservations_\d+ .*seated/i,
  );
  const { rows } = await db.pool.query<{ id: string; status: string }>(
    'select id, status from booking.reservations where restaurant_id = $1 and id = any ($2) order by id',
    [r.id, [cancelled.id, seated.id]],
  );
  expect(rows.map((row) => row.status)).toEqual(['cancelled', 'seated']);
});

test('confirm_hold and release_hold write only on the restaurant\'s worker, in one phase', async () => {
  const hold = async (time: string) =>
    (await db.pool.query<{ id: string }>('select id from booking.hold_table($1, $2, 2)', [r.id, await at(time)])).rows[0]!.id;
  const confirmed = await hold('15:00');
  expectOnHomeWorker(
    await remoteCommands((c) => c.query('select booking.confirm_hold($1, $2)', [r.id, confirmed])),
    /^UPDATE booking\.reservations_\d+ .*confirmed/i,
  );
  const released = await hold('16:00');
  expectOnHomeWorker(
    await remoteCommands((c) => c.query('select booking.release_hold($1, $2)', [r.id, released])),
    /^UPDATE booking\.reservations_\d+ .*released/i,
  );
});

test('leave_waitlist writes only on the restaurant\'s worker, in one phase', async () => {
  const { rows } = await db.pool.query<{ id: string }>(
    `insert into booking.waitlist (restaurant_id, phone, guests, earliest, latest) values ($1, '+34 600 000 000', 2, $2, $3) returning id`,
    [r.id, await at('19:00'), await at('19:30')],
  );
  expectOnHomeWorker(
    await remoteCommands((c) => c.query('select booking.leave_waitlist($1, $2)', [r.id, rows[0]!.id])),
    /^UPDATE booking\.waitlist_\d+ .*cancelled/i,
  );
});

test('an offer to the waitlist (join_waitlist, and offer_freed after a cancellation) writes only on the restaurant\'s worker, in one phase', async () => {
  // Something fits at once: join_waitlist offers it (a hold) and marks the entry offered.
  const early = await at('17:30');
  const joined = await remoteCommands((c) =>
    c.query("select booking.join_waitlist($1, 2, $2, $3, phone => '+34 600 000 001')", [r.id, early, early]),
  );
  expectOnHomeWorker(joined, /^UPDATE booking\.waitlist_\d+ .*offered/i);
  // Every table taken at 22:00; an entry waits; a cancellation frees a table and offer_freed offers it.
  const bookings: Booking[] = [];
  for (let i = 0; i < 3; i++) bookings.push(await book(db.pool, { restaurantId: r.id, startsAt: await at('22:00'), guests: 2 }));
  const { rows } = await db.pool.query<{ id: string; status: string }>(
    "select id, status from booking.join_waitlist($1, 2, $2, $3, phone => '+34 600 000 002')",
    [r.id, await at('22:00'), await at('22:00')],
  );
  expect(rows[0]!.status).toBe('waiting');
  expectOnHomeWorker(
    await remoteCommands((c) => c.query('select booking.cancel_reservation($1, $2)', [r.id, bookings[0]!.id])),
    /^UPDATE booking\.waitlist_\d+ .*offered/i,
  );
  const { rows: entry } = await db.pool.query<{ status: string }>('select status from booking.waitlist where restaurant_id = $1 and id = $2', [r.id, rows[0]!.id]);
  expect(entry[0]!.status).toBe('offered');
});
