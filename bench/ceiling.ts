// `npm run bench:ceiling`: how fast this machine can answer the benchmark's requests with no
// database at all, so `npm run bench` can be read against a limit. Three servers, each in a child
// process of its own, each driven by autocannon with N connections for S seconds:
//   (a) node:http answering a canned JSON body (the floor: HTTP parsing and socket writes only);
//   (b) Express with nothing but a JSON parser and the canned answer;
//   (c) the API's own app (server/app.ts: headers, request ids and logs, authentication, the
//       per-key limit, the contract's validation, the routes) with queries that answer canned
//       data instead of asking PostgreSQL.
// Prints requests/s and the server's CPU per request (Linux's accounting) for POST /reservations
// and GET /availability.   BENCH_CONNECTIONS=8 BENCH_SECONDS=8 npm run bench:ceiling
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import autocannon from 'autocannon';
import express from 'express';
import { cpuMsOfTree, machine, startServerProcess } from './support';
import { createApp } from '../server/app';
import { loadConfig } from '../config';
import { createLogger } from '../server/logger';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const KEY = 'nora_ceiling';

const reservation = {
  id: 1, restaurant_id: 1, table_id: 3, combination_id: null, tables: [3], client_id: null, date: '2026-12-12T19:00:00.000Z',
  ends_at: '2026-12-12T21:00:00.000Z', guests: 2, status: 'confirmed', notes: null, created_at: '2026-11-25T12:00:00.000Z', updated_at: '2026-11-25T12:00:00.000Z',
};
const booked = { reservation, table: { id: 3, name: 'T3', capacity: 4 } };
const slots = Array.from({ length: 38 }, (_, i) => {
  const time = `${12 + Math.floor(i / 4)}:${String((i % 4) * 15).padStart(2, '0')}`;
  return { time, startsAt: `2026-12-12T${String(11 + Math.floor(i / 4)).padStart(2, '0')}:${time.slice(-2)}:00+00:00`, tablesAvailable: 3 };
});
const availability = { availableSlots: slots.map((s) => s.time), tablesAvailable: 3, slots };

async function serve(kind: string): Promise<Server> {
  if (kind === 'node') {
    return createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const body = JSON.stringify({ success: true, data: req.method === 'POST' ? booked : availability });
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
  }
  if (kind === 'express') {
    const app = express();
    app.use(express.json());
    app.post('/api/restaurants/:restId/reservations', (_req, res) => void res.status(201).json({ success: true, data: booked }));
    app.get('/api/restaurants/:restId/availability', (_req, res) => void res.json({ success: true, data: availability }));
    return createServer(app);
  }
  const canned = {
    resolveApiKey: async (key: string) => (key === KEY ? { keyId: 1, restaurantId: 1, label: 'ceiling' } : null),
    bookLegacy: async () => booked,
    availability: async () => availability,
  };
  const app = createApp({
    config: loadConfig({ RATE_LIMIT_MAX: '10000000', LOG_LEVEL: 'warn' }),
    queries: canned as never,
    logger: createLogger('warn'),
    committedMigrations: [],
  });
  return createServer(app);
}

/** Child mode: serve, print the port, run until killed. */
async function child(kind: string): Promise<void> {
  const server = await serve(kind);
  server.listen(0, '127.0.0.1', () => console.log(`PORT ${(server.address() as AddressInfo).port}`));
  // An orderly exit, so `node --cpu-prof` writes its profile.
  process.once('SIGTERM', () => process.exit(0));
}

async function measure(kind: string): Promise<string[]> {
  const { baseUrl, child: proc } = await startServerProcess(__filename, [kind], path.resolve(__dirname, '..'));
  const lines: string[] = [];
  try {
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    for (const [what, request] of [
      ['POST /reservations', { method: 'POST' as const, path: '/api/restaurants/1/reservations', headers, body: JSON.stringify({ date: '2026-12-12T19:00:00Z', guests: 2 }) }],
      ['GET /availability', { method: 'GET' as const, path: '/api/restaurants/1/availability?date=2026-12-12&guests=4', headers }],
    ] as const) {
      // Warm-up: the validator compiles an operation's schemas on its first request, and the JIT needs a moment.
      await autocannon({ url: baseUrl, connections: CONNECTIONS, duration: 3, requests: [request] });
      const before = cpuMsOfTree(proc.pid!);
      const result = await autocannon({ url: baseUrl, connections: CONNECTIONS, duration: SECONDS, requests: [request] });
      const cpu = (cpuMsOfTree(proc.pid!) - before) / Math.max(1, result.requests.total);
      lines.push(
        `  ${what.padEnd(20)} ${result.requests.average.toFixed(0).padStart(6)}/s  p99 ${String(result.latency.p99).padStart(4)} ms  ` +
          `server CPU ${cpu.toFixed(3)} ms/request  (${result.non2xx} non-2xx)`,
      );
    }
  } finally {
    proc.kill('SIGTERM');
  }
  return lines;
}

async function main(): Promise<void> {
  const m = machine();
  const out = [`ceiling without a database: ${m.cpus} cores (${m.cpu}), Node ${m.node}, N = ${CONNECTIONS}, ${SECONDS} s each`];
  for (const [kind, title] of [
    ['node', '(a) node:http, canned JSON'],
    ['express', '(b) Express + JSON parser, canned JSON'],
    ['app', '(c) the API app, canned queries (every middleware, no database)'],
  ] as const) {
    out.push(title, ...(await measure(kind)));
  }
  console.log(out.join('\n'));
}

const kind = process.argv[2];
(kind ? child(kind) : main()).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
