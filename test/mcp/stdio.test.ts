// The tools over stdio, as a desktop host runs them: the entry point of `npm run mcp` as a child
// process with NORA_API_KEY and DATABASE_URL, driven by the SDK's own client.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { tenant, type Tenant } from '../api/support';
import { refusalOf, resultOf, stdioClient } from './support';

type Booking = { reservation: { id: number; date: string; status: string }; table: { id: number } };

let db: TestDatabase;
let bistro: Tenant;
let other: Tenant;
let mcp: Client;
beforeAll(async () => {
  db = await freshDatabase();
  bistro = await tenant(db, { tables: [[2, 1], [4, 1]] });
  other = await tenant(db, { name: 'Other Kitchen' });
  mcp = await stdioClient({ DATABASE_URL: db.url, NORA_API_KEY: bistro.key });
});
afterAll(async () => {
  await mcp.close();
  await db.drop();
});

const call = (name: string, args: Record<string, unknown>) => mcp.callTool({ name, arguments: args }) as Promise<CallToolResult>;

test('the host learns the tools and which restaurant the key acts for', async () => {
  const { tools } = await mcp.listTools();
  expect(tools.map((tool) => tool.name)).toContain('book_table');
  expect(mcp.getInstructions()).toContain(`restaurant ${bistro.id}`);
});

test('availability, booking, moving and cancelling over stdio, recorded as the mcp channel', async () => {
  const day = resultOf<{ availableSlots: string[] }>(await call('find_availability', { restaurant_id: bistro.id, date: bistro.day, guests: 2 }));
  expect(day.availableSlots).toContain('20:00');
  const { reservation } = resultOf<Booking>(await call('book_table', { restaurant_id: bistro.id, date: await bistro.at('20:00'), guests: 2, idempotency_key: 'desk-1' }));
  const moved = resultOf<Booking>(await call('reschedule_reservation', { restaurant_id: bistro.id, reservation_id: reservation.id, date: await bistro.at('20:30') }));
  expect(new Date(moved.reservation.date).toISOString()).toBe(await bistro.at('20:30'));
  resultOf(await call('cancel_reservation', { restaurant_id: bistro.id, reservation_id: reservation.id }));
  const { rows } = await db.pool.query<{ action: string; channel: string }>(
    'select action, channel from booking.reservation_events where reservation_id = $1 order by id',
    [reservation.id],
  );
  expect(rows).toEqual([
    { action: 'created', channel: 'mcp' },
    { action: 'moved', channel: 'mcp' },
    { action: 'cancelled', channel: 'mcp' },
  ]);
});

test("the key's restaurant is the only one it may act for, and a bad argument is named", async () => {
  expect(refusalOf(await call('book_table', { restaurant_id: other.id, date: await other.at('20:00'), guests: 2 }))).toMatchObject({ code: 'forbidden' });
  expect(refusalOf(await call('find_availability', { restaurant_id: bistro.id, date: bistro.day, guests: 0 })).message).toBe('guests must be >= 1');
});

test('without a usable key the stdio server does not start, and says why on stderr', () => {
  const entry = path.resolve(__dirname, '..', '..', 'server', 'mcp', 'main.ts');
  for (const [key, why] of [
    ['nora_unknown', 'NORA_API_KEY is unknown or revoked'],
    [undefined, 'NORA_API_KEY is not set'],
  ] as const) {
    const env = { PATH: process.env.PATH ?? '', DATABASE_URL: db.url, LOG_LEVEL: 'silent', ...(key ? { NORA_API_KEY: key } : {}) };
    const run = spawnSync(process.execPath, ['--import', 'tsx', entry], { env, input: '', encoding: 'utf8', timeout: 30_000 });
    expect([run.status, run.stdout, run.stderr.trim()]).toEqual([1, '', expect.stringContaining(why)]);
  }
});
