// `npm run bench:webhooks` (not a test): webhook delivery latency under booking load. The API
// runs as `npm start` runs it (server/main.ts, the worker inside, default WORKER_* settings) on
// a fresh database (DATABASE_URL's server, or a throwaway embedded PostgreSQL); one endpoint on a
// local receiver (NODE_ENV=production with WEBHOOK_ALLOW_PRIVATE=true); bookings through POST /rpc/book_table at a constant rate, every fifth one
// cancelled. Latency is from the event's `timestamp` (written in the booking's transaction) to
// the receiver having the whole request. Every delivery's signature is verified, and every event
// must arrive exactly once. Settings: WEBHOOK_BENCH_RATE (40/s), WEBHOOK_BENCH_SECONDS (30).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { createBenchRestaurant, machine, madridInstant, openBenchDatabase } from './support';
import { startApiProcess } from '../load/server-process';

const rate = Number(process.env.WEBHOOK_BENCH_RATE ?? 40);
const seconds = Number(process.env.WEBHOOK_BENCH_SECONDS ?? 30);

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
  return { count: sorted.length, p50Ms: at(50), p95Ms: at(95), p99Ms: at(99), maxMs: at(100) };
}

async function main(): Promise<void> {
  const db = await openBenchDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const received: Array<{ id: string; latencyMs: number; verified: boolean }> = [];
  let verify: Webhook | undefined;
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const arrived = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      let verified = true;
      try {
        verify!.verify(body, req.headers as Record<string, string>);
      } catch {
        verified = false;
      }
      const { timestamp } = JSON.parse(body) as { timestamp: string };
      received.push({ id: String(req.headers['webhook-id']), latencyMs: arrived - Date.parse(timestamp.slice(0, 23) + 'Z'), verified });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  let api;
  try {
    const restaurantId = await createBenchRestaurant(pool, 'Webhook Bench', '12:00', '23:59');
    const key = (await pool.query<{ key: string }>('select booking.create_api_key($1, $2) as key', [restaurantId, 'bench'])).rows[0]!.key;
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    const endpoint = (await pool.query<{ secret: string }>('select secret from booking.add_webhook_endpoint($1, $2)', [restaurantId, url])).rows[0]!;
    verify = new Webhook(endpoint.secret);
    // The API runs with NODE_ENV=production; the receiver is on this machine, hence the flag.
    api = await startApiProcess({ databaseUrl: db.url, env: { RATE_LIMIT_MAX: '10000000', WEBHOOK_ALLOW_PRIVATE: 'true' } });
    const total = rate * seconds;
    const instants = await Promise.all(Array.from({ length: Math.ceil(total / 50) }, (_, d) => madridInstant(pool, d + 1, '20:00')));
    const call = (fn: string, body: object) =>
      fetch(`${api!.baseUrl}/rpc/${fn}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let expected = 0;
    let failures = 0;
    const started = Date.now();
    const inFlight: Promise<void>[] = [];
    for (let n = 0; n < total; n++) {
      const due = started + (n * 1000) / rate;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      inFlight.push(
        (async () => {
          const res = await call('book_table', { restaurant_id: Number(restaurantId), starts_at: instants[Math.floor(n / 50)], guests: 2 });
          if (res.status !== 200) return void failures++;
          expected++;
          const { id } = (await res.json()) as { id: number };
          if (n % 5 === 4) {
            const cancelled = await call('cancel_reservation', { restaurant_id: Number(restaurantId), reservation_id: id });
            if (cancelled.status === 200) expected++;
            else failures++;
          }
        })(),
      );
    }
    await Promise.all(inFlight);
    const deadline = Date.now() + 60_000;
    while (received.length < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const unique = new Set(received.map((r) => r.id)).size;
    const deliveries = (await pool.query('select status, count(*)::int as n, max(last_error) as last_error from booking.webhook_deliveries group by status')).rows;
    const result = {
      at: new Date().toISOString(),
      machine: machine(),
      postgres: db.serverVersion,
      rate,
      seconds,
      bookingFailures: failures,
      eventsExpected: expected,
      eventsReceived: received.length,
      uniqueEvents: unique,
      signaturesFailed: received.filter((r) => !r.verified).length,
      deliveries,
      latency: percentiles(received.map((r) => r.latencyMs)),
    };
    console.log(JSON.stringify(result, null, 2));
    const file = path.resolve(__dirname, '..', '.data', 'bench', 'webhooks.json');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify(result, null, 2));
    if (failures || unique !== expected || received.length !== expected || result.signaturesFailed) process.exitCode = 1;
  } finally {
    await api?.stop();
    receiver.close();
    await pool.end();
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
