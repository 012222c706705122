// The floors of `npm run bench`: the thinnest HTTP layers over the same SQL, with no
// authentication, no validation, no logging. A POST's JSON body goes straight into the
// benchmark's own `select booking.book_table(…)` and a GET's query string into
// `available_table_counts` (through the benchmark's own `query`, which keeps a connection after
// a refusal), and the rows go back as JSON. Two of them:
// - `node`: node:http with no framework. No API could do less per request, so its HTTP/SQL
//   ratio bounds what any HTTP layer reaches on the machine.
// - `express`: the same two handlers as Express 5 routes behind express.json(): what the
//   framework the API keeps (issue 10) costs before any middleware of ours.
// Child process of bench/run.ts: `node --import tsx bench/floor-server.ts <database url> <pool size> <node|express>`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pg from 'pg';
import { query } from './support';

const [url, size, kind] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: url, max: Number(size) });

async function availability(restaurant: string | undefined, date: unknown, guests: unknown): Promise<unknown> {
  const { rows } = await query(pool, 'select * from booking.available_table_counts($1, $2, $3)', [restaurant, date, guests]);
  return { success: true, data: rows };
}

/** The booking's status and answer: 201 and the row, or 409 and the SQLSTATE. */
async function book(restaurant: string | undefined, body: { date: string; guests: number }, idempotencyKey: unknown): Promise<[number, unknown]> {
  try {
    const { rows } = await query(pool, 'select booking.book_table($1, $2, $3, idempotency_key => $4) as data', [
      restaurant, body.date, body.guests, idempotencyKey,
    ]);
    return [201, { success: true, data: rows[0] }];
  } catch (error) {
    return [409, { code: (error as pg.DatabaseError).code }];
  }
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const restaurant = /^\/api\/restaurants\/(\d+)\//.exec(req.url ?? '')?.[1];
  if (req.method === 'GET') {
    const q = new URL(req.url ?? '', 'http://x').searchParams;
    return answer(res, 200, await availability(restaurant, q.get('date'), q.get('guests')));
  }
  let text = '';
  for await (const chunk of req) text += chunk;
  const [status, body] = await book(restaurant, JSON.parse(text) as { date: string; guests: number }, req.headers['idempotency-key']);
  answer(res, status, body);
}

function expressApp(): express.Express {
  const app = express();
  // As server/app.ts sets them: no ETag hash of every body, no X-Powered-By.
  app.set('etag', false);
  app.disable('x-powered-by');
  app.get('/api/restaurants/:restId/availability', async (req, res) => {
    res.json(await availability(req.params.restId, req.query.date, req.query.guests));
  });
  app.post('/api/restaurants/:restId/reservations', express.json(), async (req, res) => {
    const [status, body] = await book(req.params.restId, req.body as { date: string; guests: number }, req.get('idempotency-key'));
    res.status(status).json(body);
  });
  return app;
}

const server = kind === 'express' ? createServer(expressApp()) : createServer((req, res) => void handle(req, res).catch(() => answer(res, 500, {})));
server.listen(0, '127.0.0.1', () => console.log(`PORT ${(server.address() as AddressInfo).port}`));
process.once('SIGTERM', () => process.exit(0));
