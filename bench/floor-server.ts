// The floor of `npm run bench`: the thinnest HTTP layer over the same SQL. node:http with no
// framework, no authentication, no validation, no logging: a POST's JSON body goes straight into
// the benchmark's own `select booking.book_table(…)` and a GET's query string into
// `available_table_counts` (through the benchmark's own `query`, which keeps a connection after
// a refusal), and the rows go back as JSON. No API could do less per request, so
// its HTTP/SQL ratio bounds what any HTTP layer reaches on the machine (bench/run.ts prints it).
// Child process of bench/run.ts: `node --import tsx bench/floor-server.ts <database url> <pool size>`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { query } from './support';

const [url, size] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: url, max: Number(size) });

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const restaurant = /^\/api\/restaurants\/(\d+)\//.exec(req.url ?? '')?.[1];
  if (req.method === 'GET') {
    const q = new URL(req.url ?? '', 'http://x').searchParams;
    const { rows } = await query(pool, 'select * from booking.available_table_counts($1, $2, $3)', [restaurant, q.get('date'), q.get('guests')]);
    return answer(res, 200, { success: true, data: rows });
  }
  let text = '';
  for await (const chunk of req) text += chunk;
  const body = JSON.parse(text) as { date: string; guests: number };
  try {
    const { rows } = await query(pool, 'select booking.book_table($1, $2, $3, idempotency_key => $4) as data', [
      restaurant, body.date, body.guests, req.headers['idempotency-key'],
    ]);
    answer(res, 201, { success: true, data: rows[0] });
  } catch (error) {
    answer(res, 409, { code: (error as pg.DatabaseError).code });
  }
}

const server = createServer((req, res) => void handle(req, res).catch(() => answer(res, 500, {})));
server.listen(0, '127.0.0.1', () => console.log(`PORT ${(server.address() as AddressInfo).port}`));
process.once('SIGTERM', () => process.exit(0));
