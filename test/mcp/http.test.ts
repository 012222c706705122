// The tools over Streamable HTTP at /mcp, through the SDK's own client, against the real
// database: an assistant's conversation, refusals it can act on, and the same key, tenancy and
// exactness rules as /api.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import request from 'supertest';
import { apiKey, startTestApi, tenant, type ApiUnderTest, type Tenant } from '../api/support';
import { httpClient, refusalOf, resultOf } from './support';

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

const call = (client: Client, name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args }) as Promise<CallToolResult>;

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
  expect(refusal.details!.alternatives!.length).toBeGreaterThan(0);
  expect(result.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining(refusal.details!.alternatives![0]!.local_time) });
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
  const after = await t.db.pool.query('select count(*)::int as n from booking.reservations');
  expect(after.rows[0].n).toBe(before.rows[0].n);
});

test('a statement past its timeout is a tool error that reveals only a request id', async () => {
  const slow = await startTestApi({ db: t.db, env: { DB_STATEMENT_TIMEOUT_MS: '200' } });
  const client = await httpClient(slow.url, bistro.key);
  const locker = await t.db.pool.connect();
  try {
    await locker.query('begin; lock table booking.reservation_tables in access exclusive mode');
    const refusal = refusalOf(await call(client, 'find_availability', { restaurant_id: bistro.id, date: bistro.day, guests: 2 }));
    expect(refusal).toEqual({ code: 'timeout', message: 'The request took too long.', details: { request_id: expect.any(String) }, hint: expect.any(String) });
  } finally {
    await locker.query('rollback');
    locker.release();
    await client.close();
    await slow.close();
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
  const broken = await agent.post('/mcp').set('Authorization', `Bearer ${bistro.key}`).set('Content-Type', 'application/json').send('{"jsonrpc":').expect(400);
  expect(broken.body).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 }, id: null });
  const huge = await agent
    .post('/mcp')
    .set('Authorization', `Bearer ${bistro.key}`)
    .set('Content-Type', 'application/json')
    .send(JSON.stringify({ ...initialize, padding: 'x'.repeat(40_000) }))
    .expect(413);
  expect(huge.body).toMatchObject({ error: { code: -32600 } });
});

test('60 assistants racing through MCP for one slot with 4 fitting tables: exactly 4 book, the rest get alternatives', async () => {
  const storm = await tenant(t.db, { tables: [[4, 1], [4, 1], [4, 2], [6, 2], [2, 1]] });
  const date = await storm.at('20:00');
  const results = await Promise.all(
    Array.from({ length: 60 }, async (_v, i) => {
      const client = await httpClient(t.url, storm.key);
      try {
        return await call(client, 'book_table', { restaurant_id: storm.id, date, guests: 4, idempotency_key: `storm-${i}` });
      } finally {
        await client.close();
      }
    }),
  );
  const booked = results.filter((r) => !r.isError).map((r) => resultOf<Booking>(r));
  expect(booked).toHaveLength(4);
  expect(new Set(booked.map((b) => b.table.id)).size).toBe(4);
  const refusals = results.filter((r) => r.isError).map(refusalOf);
  expect(refusals).toHaveLength(56);
  for (const refusal of refusals) {
    expect(refusal.details?.reason).toBe('all_tables_taken');
    expect(refusal.details?.alternatives?.length).toBeGreaterThan(0);
  }
  const { rows } = await t.db.pool.query("select count(*)::int as n from booking.reservations where restaurant_id = $1 and status = 'confirmed'", [storm.id]);
  expect(rows[0].n).toBe(4);
});
