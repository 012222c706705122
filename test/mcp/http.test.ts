// The tools over Streamable HTTP at /mcp, through the SDK's own client, against the real
// database: an assistant's conversation, refusals it can act on, and the same key, tenancy and
// exactness rules as /api.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import request from 'supertest';
import { apiKey, startTestApi, tenant, type ApiUnderTest, type Tenant } from '../api/support';
import { version } from '../../package.json';
import { callTool as call, httpClient, refusalOf, resultOf } from './support';

type Booking = { reservation: { id: number; date: string; guests: number; status: string; client_id: number | null; table_id: number }; table: { id: number; name: string } };

let t: ApiUnderTest;
let bistro: Tenant;
let mcp: Client;
beforeAll(async () => {
  t = await startTestApi({ env: { DB_POOL_SIZE: '20', RATE_LIMIT_MAX: '100000' } });
  bistro = await tenant(t.db, { tables: [[2, 1], [4, 1], [4, 1]] });
  mcp = await httpClient(t.url, bistro.key);
});
afterAll(async () => {
  await mcp.close();
  await t.close();
});

test('an assistant finds a time, books it with the guest, moves it, reads its history and cancels it', async () => {
  const availability = resultOf<{ availableSlots: string[] }>(await call(mcp, 'find_availability', { restaurant_id: bistro.id, date: bistro.day, guests: 4, time: '20:00' }));
  expect(availability.availableSlots).toContain('20:00');

  const booking = { restaurant_id: bistro.id, date: await bistro.at('20:00'), guests: 4, client: { name: 'Ana', email: 'ana@example.com' }, idempotency_key: 'turn-1' };
  const booked = await call(mcp, 'book_table', booking);
  const { reservation, table } = resultOf<Booking>(booked);
  expect(reservation).toMatchObject({ guests: 4, status: 'confirmed' });
  expect(booked.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining(`Booked reservation ${reservation.id}`) });
  const replay = resultOf<Booking>(await call(mcp, 'book_table', booking));
  expect(replay.reservation.id).toBe(reservation.id);
  const reused = refusalOf(await call(mcp, 'book_table', { ...booking, guests: 3 }));
  expect(reused).toMatchObject({ code: '23505', details: { reason: 'idempotency_key_reused' } });

  const moved = resultOf<Booking>(await call(mcp, 'reschedule_reservation', { restaurant_id: bistro.id, reservation_id: reservation.id, date: await bistro.at('21:00') }));
  expect(new Date(moved.reservation.date).toISOString()).toBe(await bistro.at('21:00'));
  expect(moved.table.id).toBe(table.id);

  const guest = resultOf<{ id: number }>(await call(mcp, 'find_or_create_client', { restaurant_id: bistro.id, email: 'ANA@example.com' }));
  expect(guest.id).toBe(reservation.client_id);
  const day = resultOf<{ reservations: Array<{ id: number }> }>(await call(mcp, 'list_reservations', { restaurant_id: bistro.id, date: bistro.day, client_id: guest.id }));
  expect(day.reservations.map((r) => r.id)).toEqual([reservation.id]);

  const cancelled = resultOf<Booking>(await call(mcp, 'cancel_reservation', { restaurant_id: bistro.id, reservation_id: reservation.id }));
  expect(cancelled.reservation.status).toBe('cancelled');
  const read = resultOf<Booking & { events: Array<{ action: string; channel: string; actor: string }> }>(
    await call(mcp, 'get_reservation', { restaurant_id: bistro.id, reservation_id: reservation.id }),
  );
  expect(read.reservation.status).toBe('cancelled');
  expect(read.events.map((e) => [e.action, e.channel, e.actor])).toEqual([
    ['created', 'mcp', 'assistant'],
    ['moved', 'mcp', 'assistant'],
    ['cancelled', 'mcp', 'assistant'],
  ]);
});

test('every tool answers with one line for the conversation, then its result as JSON', async () => {
  const place = await tenant(t.db, { tables: [[4, 1]] });
  const client = await httpClient(t.url, place.key);
  const lines: string[] = [];
  const answer = async <T,>(name: string, args: Record<string, unknown>): Promise<T> => {
    const result = await call(client, name, { restaurant_id: place.id, ...args });
    expect(result.content[1]).toEqual({ type: 'text', text: JSON.stringify(result.structuredContent) });
    lines.push((result.content[0] as { text: string }).text);
    return resultOf<T>(result);
  };
  const said = ({ reservation, table }: Booking) =>
    `reservation ${reservation.id}: ${reservation.guests} guests at table ${table.name} from ${reservation.date} (${reservation.status})`;
  try {
    const { availableSlots } = await answer<{ availableSlots: string[] }>('find_availability', { date: place.day, guests: 4 });
    expect(availableSlots.length).toBeGreaterThan(1);
    await answer('find_availability', { date: place.day, guests: 6 });
    const guest = await answer<{ id: number }>('find_or_create_client', { email: 'nameless@example.com' });
    const named = await answer<{ id: number }>('find_or_create_client', { email: 'rosa@example.com', name: 'Rosa' });
    await answer('list_reservations', { date: place.day });
    const booked = await answer<Booking>('book_table', { date: await place.at('20:00'), guests: 4, client_id: guest.id });
    await answer('list_reservations', { date: place.day });
    const moved = await answer<Booking>('reschedule_reservation', { reservation_id: booked.reservation.id, guests: 3 });
    const read = await answer<Booking>('get_reservation', { reservation_id: booked.reservation.id });
    const seated = await answer<Booking>('set_reservation_status', { reservation_id: booked.reservation.id, status: 'seated' });
    const second = await answer<Booking>('book_table', { date: await place.at('13:00'), guests: 2 });
    await answer('list_reservations', { date: place.day });
    const cancelled = await answer<Booking>('cancel_reservation', { reservation_id: second.reservation.id });
    expect(lines).toEqual([
      `Free start times for 4 on ${place.day}: ${availableSlots.join(', ')}.`,
      `No free time for 6 on ${place.day}.`,
      `Guest ${guest.id}: (no name) <nameless@example.com>.`,
      `Guest ${named.id}: Rosa <rosa@example.com>.`,
      `0 reservations on ${place.day}.`,
      `Booked ${said(booked)}.`,
      `1 reservation on ${place.day}.`,
      `Moved ${said(moved)}.`,
      `Read ${said(read)}; 2 events in its history.`,
      `Recorded ${said(seated)}.`,
      `Booked ${said(second)}.`,
      `2 reservations on ${place.day}.`,
      `Cancelled ${said(cancelled)}.`,
    ]);
    expect([moved.reservation.guests, seated.reservation.status, cancelled.reservation.status]).toEqual([3, 'seated', 'cancelled']);
  } finally {
    await client.close();
  }
});

test('set_reservation_status records the door, and a transition the rules forbid is refused with its reason', async () => {
  const { reservation } = resultOf<Booking>(await call(mcp, 'book_table', { restaurant_id: bistro.id, date: await bistro.at('13:00'), guests: 2 }));
  const seated = resultOf<Booking>(await call(mcp, 'set_reservation_status', { restaurant_id: bistro.id, reservation_id: reservation.id, status: 'seated' }));
  expect(seated.reservation.status).toBe('seated');
  const refusal = refusalOf(await call(mcp, 'cancel_reservation', { restaurant_id: bistro.id, reservation_id: reservation.id }));
  expect(refusal).toMatchObject({ code: 'PT409', details: { reason: 'not_cancellable' } });
});

test('a taken slot is a tool error with the contract code, reason, hint and the alternatives to offer', async () => {
  const full = await tenant(t.db, { tables: [[2, 1]] });
  const client = await httpClient(t.url, full.key);
  const date = await full.at('20:00');
  resultOf(await call(client, 'book_table', { restaurant_id: full.id, date, guests: 2 }));
  const result = await call(client, 'book_table', { restaurant_id: full.id, date, guests: 2 });
  const refusal = refusalOf(result);
  expect(refusal).toMatchObject({ code: 'PT409', details: { reason: 'all_tables_taken' }, hint: expect.any(String) });
  const alternatives = refusal.details!.alternatives!;
  expect(alternatives.length).toBeGreaterThan(1);
  const offered = alternatives.map((a) => `${a.local_time} (${a.tables_available} tables)`).join(', ');
  expect(result.content).toEqual([
    { type: 'text', text: `Refused (PT409 all_tables_taken): ${refusal.message} Free instead: ${offered}. ${refusal.hint}` },
    { type: 'text', text: JSON.stringify(refusal) },
  ]);
  await client.close();
});

test('a restaurant key cannot read or book for another restaurant, nor reach its reservations by id', async () => {
  const other = await tenant(t.db, { name: 'Other Kitchen' });
  const { rows } = await t.db.pool.query<{ id: string }>('select id from booking.book_table($1, $2, 2)', [other.id, await other.at('20:00')]);
  const theirs = Number(rows[0]!.id);
  for (const [name, args] of [
    ['find_availability', { restaurant_id: other.id, date: other.day, guests: 2 }],
    ['book_table', { restaurant_id: other.id, date: await other.at('21:00'), guests: 2 }],
    ['list_reservations', { restaurant_id: other.id, date: other.day }],
    ['get_reservation', { restaurant_id: other.id, reservation_id: theirs }],
    ['find_or_create_client', { restaurant_id: other.id, email: 'spy@example.com' }],
    ['cancel_reservation', { restaurant_id: other.id, reservation_id: theirs }],
  ] as const) {
    expect([name, refusalOf(await call(mcp, name, args))]).toEqual([name, expect.objectContaining({ code: 'forbidden', details: { reason: 'other_restaurant' } })]);
  }
  const byId = refusalOf(await call(mcp, 'get_reservation', { restaurant_id: bistro.id, reservation_id: theirs }));
  expect(byId).toMatchObject({ code: 'PT404', details: { reason: 'reservation_not_found' } });
  const { rows: after } = await t.db.pool.query("select count(*)::int as n from booking.reservations where restaurant_id = $1 and status = 'confirmed'", [other.id]);
  expect(after[0].n).toBe(1);
});

test('an admin key may act for any restaurant', async () => {
  const admin = await httpClient(t.url, await apiKey(t.db, null, 'operator'));
  resultOf(await call(admin, 'find_availability', { restaurant_id: bistro.id, date: bistro.day, guests: 2 }));
  await admin.close();
});

test("the server's instructions name the key's restaurant, or ask which one when the key may act for any", async () => {
  const admin = await httpClient(t.url, await apiKey(t.db, null, 'operator'));
  const how =
    'Check find_availability before booking, book with book_table (with an idempotency_key), and when a booking is refused ' +
    'because the slot is taken, offer the alternatives the refusal lists.';
  expect([mcp.getInstructions(), admin.getInstructions()]).toEqual([
    `Books tables at a restaurant. This API key acts for restaurant ${bistro.id}: pass restaurant_id ${bistro.id} to every tool. ${how}`,
    `Books tables at a restaurant. This API key may act for any restaurant: ask which one and pass its id as restaurant_id. ${how}`,
  ]);
  expect(mcp.getServerVersion()).toEqual({ name: 'nora-reservations', version });
  await admin.close();
});

test('a bad argument is a tool error naming it, and changes nothing', async () => {
  const before = await t.db.pool.query('select count(*)::int as n from booking.reservations');
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['book_table', { restaurant_id: bistro.id, date: await bistro.at('20:00'), guests: 50 }, 'guests must be <= 20'],
    ['book_table', { restaurant_id: bistro.id, date: `${bistro.day}T20:00:00`, guests: 2 }, 'date must match format "date-time"'],
    ['book_table', { restaurant_id: bistro.id, guests: 2 }, 'date is required'],
    ['book_table', { restaurant_id: bistro.id, date: await bistro.at('20:00'), guests: 2, party: 'big' }, 'party is not an argument of this tool'],
    ['book_table', { restaurant_id: bistro.id, date: await bistro.at('20:00'), guests: 2, client: { email: 'not-an-email' } }, 'client/email must match format "idn-email"'],
    ['book_table', { restaurant_id: bistro.id, date: await bistro.at('20:00'), guests: 2, client_id: 1, client: { email: 'a@example.com' } }, 'give only one of client, client_id'],
    ['find_availability', { restaurant_id: bistro.id, date: '2026-02-30', guests: 2 }, 'date must match format "date"'],
    ['reschedule_reservation', { restaurant_id: bistro.id, reservation_id: 1 }, 'give at least one of date, guests, table_id, combination_id, area'],
    ['set_reservation_status', { restaurant_id: bistro.id, reservation_id: 1, status: 'eaten' }, 'status must be equal to one of the allowed values'],
    ['get_reservation', { restaurant_id: '1', reservation_id: 1 }, 'restaurant_id must be integer'],
  ];
  for (const [name, args, message] of cases) {
    const refusal = refusalOf(await call(mcp, name, args));
    expect([name, refusal.code, refusal.message]).toEqual([name, 'invalid_request', message]);
  }
  const all = await call(mcp, 'book_table', { restaurant_id: bistro.id, guests: 50, party: 'big' });
  expect(refusalOf(all)).toEqual({
    code: 'invalid_request',
    message: 'date is required',
    details: {
      reason: 'invalid_request',
      errors: [
        { path: 'date', message: 'is required' },
        { path: 'party', message: 'is not an argument of this tool' },
        { path: 'guests', message: 'must be <= 20' },
      ],
    },
    hint: 'Fix the named argument and call the tool again.',
  });
  expect(all.content[0]).toEqual({ type: 'text', text: 'Refused (invalid_request invalid_request): date is required Fix the named argument and call the tool again.' });
  const after = await t.db.pool.query('select count(*)::int as n from booking.reservations');
  expect(after.rows[0].n).toBe(before.rows[0].n);
});

/** [tool, SQLSTATE] of each "tool call failed" line an API logged. */
const toolFailures = (logged: string[]) =>
  logged
    .map((line) => JSON.parse(line) as { msg: string; tool?: string; err?: { code?: string } })
    .filter((line) => line.msg === 'tool call failed')
    .map((line) => [line.tool, line.err?.code]);

test('a statement past its timeout is a tool error that reveals only a request id', async () => {
  const logged: string[] = [];
  const slow = await startTestApi({ db: t.db, env: { DB_STATEMENT_TIMEOUT_MS: '200' }, log: { write: (line: string) => void logged.push(line) } });
  const client = await httpClient(slow.url, bistro.key);
  const locker = await t.db.pool.connect();
  try {
    await locker.query('begin; lock table booking.reservation_tables in access exclusive mode');
    const refused = await call(client, 'find_availability', { restaurant_id: bistro.id, date: bistro.day, guests: 2 });
    const refusal = refusalOf(refused);
    expect(refusal).toEqual({ code: 'timeout', message: 'The request took too long.', details: { request_id: expect.any(String) }, hint: expect.any(String) });
    expect(refused.content[0]).toEqual({ type: 'text', text: `Refused (timeout): The request took too long. ${refusal.hint}` });
    // Only the server's failures are logged as errors, with the tool and the cause; a refusal by the rules is not.
    refusalOf(await call(client, 'get_reservation', { restaurant_id: bistro.id, reservation_id: 999999999 }));
    expect(toolFailures(logged)).toEqual([['find_availability', '57014']]);
  } finally {
    await locker.query('rollback');
    locker.release();
    await client.close();
    await slow.close();
  }
});

test('a failure on our side is a tool error that reveals only a request id, and is logged with the tool', async () => {
  const logged: string[] = [];
  const ours = await startTestApi({ db: t.db, log: { write: (line: string) => void logged.push(line) } });
  const client = await httpClient(ours.url, bistro.key);
  // The function the tool calls is gone (a migration half applied, say): PostgreSQL's 42883, which no rule of ours explains.
  const rename = (from: string, to: string) =>
    t.db.pool.query(`do $$ declare f regprocedure; begin
       for f in select oid::regprocedure from pg_proc where proname = '${from}' and pronamespace = 'booking'::regnamespace loop
         execute format('alter function %s rename to ${to}', f);
       end loop; end $$`);
  await rename('available_table_counts', 'available_table_counts_away');
  try {
    const refusal = refusalOf(await call(client, 'find_availability', { restaurant_id: bistro.id, date: bistro.day, guests: 2 }));
    expect(refusal).toEqual({ code: 'internal_error', message: 'Something went wrong on our side.', details: { request_id: expect.any(String) }, hint: expect.any(String) });
    expect(toolFailures(logged)).toEqual([['find_availability', '42883']]);
  } finally {
    await rename('available_table_counts_away', 'available_table_counts');
    await client.close();
    await ours.close();
  }
});

test("/mcp counts against the key's rate limit like /api", async () => {
  const limited = await startTestApi({ db: t.db, env: { RATE_LIMIT_MAX: '6' } });
  const client = await httpClient(limited.url, bistro.key);
  try {
    // Connecting takes a few of the six requests; the calls use up the rest.
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) outcomes.push(await client.listTools().then(() => 'ok', (error: Error) => error.message));
    expect(outcomes[0]).toBe('ok');
    expect(outcomes[5]).toMatch(/"code":"rate_limited"/);
  } finally {
    await client.close();
    await limited.close();
  }
});

test('an unknown tool is a protocol error', async () => {
  await expect(call(mcp, 'drop_tables', {})).rejects.toThrow('MCP error -32602: Unknown tool drop_tables; list the tools to see their names.');
});

test('/mcp wants a valid key, answers POST only, and a broken body is a JSON-RPC parse error', async () => {
  const agent = request(t.server);
  const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
  const noKey = await agent.post('/mcp').set('Accept', 'application/json, text/event-stream').send(initialize).expect(401);
  expect(noKey.headers['www-authenticate']).toBe('Bearer');
  await agent.post('/mcp').set('Authorization', 'Bearer nora_wrong').send(initialize).expect(401);
  const get = await agent.get('/mcp').set('Authorization', `Bearer ${bistro.key}`).expect(405);
  expect(get.headers.allow).toBe('POST');
  expect(get.body).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: POST JSON-RPC messages to /mcp.' }, id: null });
  const broken = await agent.post('/mcp').set('Authorization', `Bearer ${bistro.key}`).set('Content-Type', 'application/json').send('{"jsonrpc":').expect(400);
  expect(broken.body).toEqual({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error: the body is not valid JSON.' }, id: null });
  // One JSON answer, not an event stream: a call has one result.
  const started = await agent.post('/mcp').set('Authorization', `Bearer ${bistro.key}`).set('Accept', 'application/json, text/event-stream').send(initialize).expect(200);
  expect(started.headers['content-type']).toMatch(/^application\/json/);
  expect(started.body).toMatchObject({ jsonrpc: '2.0', id: 1, result: { serverInfo: { name: 'nora-reservations' } } });
  const huge = await agent
    .post('/mcp')
    .set('Authorization', `Bearer ${bistro.key}`)
    .set('Content-Type', 'application/json')
    .send(JSON.stringify({ ...initialize, padding: 'x'.repeat(40_000) }))
    .expect(413);
  expect(huge.body).toEqual({ jsonrpc: '2.0', error: { code: -32600, message: 'The body is too large.' }, id: null });
  // Any other refusal of the body is the API's own.
  const latin = await agent.post('/mcp').set('Authorization', `Bearer ${bistro.key}`).set('Content-Type', 'application/json; charset=latin-9').send('{}').expect(415);
  expect(latin.body).toMatchObject({ code: expect.any(String), message: expect.any(String) });
});
