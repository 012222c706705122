// `npm run profile`: where the API process spends its CPU under the benchmark's load. Starts
// `server/main.ts` with `node --cpu-prof` on a fresh bench database, books on distinct slots
// through POST /reservations and asks for availability (autocannon, N connections, S seconds
// each), stops it gracefully (the profile is written at exit), then prints self time by package
// and the top functions. The .cpuprofile (open it in Chrome DevTools or speedscope) and the
// summary are kept in .data/profile/.
//   PROFILE_CONNECTIONS=8 PROFILE_SECONDS=10 npm run profile
// Set PROFILE_ENV='{"API_WORKERS":"1"}' to pass settings to the API.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import pg from 'pg';
import { createBenchRestaurant, openBenchDatabase } from './support';
import { startApiProcess } from '../load/server-process';

const CONNECTIONS = Number(process.env.PROFILE_CONNECTIONS ?? 8);
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10);
const TOP = 30;
const root = path.resolve(__dirname, '..');
const out = path.join(root, '.data', 'profile');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** node_modules/<package>, node:<module>, ours (server/, db/), or V8's own entries. */
export function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').replace(/\/.*$/, '');
  const local = /\/(server|db|load|bench)\//.exec(url);
  return local ? `ours: ${local[1]}/` : url;
}

/** Self time of the samples in the last `windowMs` of the profile (the load, not the start-up). */
export function summarize(profile: CpuProfile, windowMs: number): { totalMs: number; byPackage: Array<[string, number]>; byFunction: Array<[string, number]> } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  const end = profile.timeDeltas.reduce((sum, delta) => sum + delta, 0);
  let at = 0;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at >= end - windowMs * 1000) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const packages = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of self) {
    const { callFrame } = byId.get(id)!;
    if (callFrame.functionName === '(idle)') continue;
    total += micros;
    const pkg = packageOf(callFrame.url, callFrame.functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros);
    const name = `${callFrame.functionName || '(anonymous)'} ${path.relative(root, callFrame.url.replace(/^file:\/\//, '')) || callFrame.url}:${callFrame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + micros);
  }
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / 1000] as [string, number]);
  return { totalMs: total / 1000, byPackage: sorted(packages), byFunction: sorted(functions).slice(0, TOP) };
}

async function main(): Promise<void> {
  await fs.rm(out, { recursive: true, force: true });
  await fs.mkdir(out, { recursive: true });
  const db = await openBenchDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const extra = JSON.parse(process.env.PROFILE_ENV ?? '{}') as Record<string, string>;
  const api = await startApiProcess({
    databaseUrl: db.url,
    env: { DB_POOL_SIZE: String(CONNECTIONS), RATE_LIMIT_MAX: '10000000', LOG_LEVEL: 'warn', ...extra },
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', out],
  });
  const lines: string[] = [];
  try {
    const restaurant = await createBenchRestaurant(pool, 'profile', '00:00', '00:00');
    const key = (await pool.query<{ key: string }>("select booking.create_api_key($1, 'profile') as key", [restaurant])).rows[0]!.key;
    const { rows } = await pool.query<{ at: Date }>(
      `select ((now() at time zone 'Europe/Madrid')::date + 1 + i / 6 + make_interval(hours => 4 * (i % 6))) at time zone 'Europe/Madrid' as at
         from generate_series(0, 4379) i`,
    );
    // Six starts a day within the 730-day horizon; past 4380 bookings a start takes another table.
    let n = 0;
    for (const [what, request] of [
      [
        'POST /reservations',
        {
          method: 'POST' as const,
          path: `/api/restaurants/${restaurant}/reservations`,
          setupRequest: (req: Record<string, unknown>) => ({
            ...req,
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
            body: JSON.stringify({ date: rows[n++ % rows.length]!.at.toISOString(), guests: 2 }),
          }),
        },
      ],
      [
        'GET /availability',
        { method: 'GET' as const, path: `/api/restaurants/${restaurant}/availability?date=${rows[0]!.at.toISOString().slice(0, 10)}&guests=4`, headers: { authorization: `Bearer ${key}` } },
      ],
    ] as const) {
      const result = await autocannon({ url: api.baseUrl, connections: CONNECTIONS, duration: SECONDS, requests: [request as autocannon.Request] });
      lines.push(`${what}: ${result.requests.average.toFixed(0)} req/s, ${result.non2xx} non-2xx, p99 ${result.latency.p99} ms`);
    }
  } finally {
    await api.stop();
    await pool.end();
    await db.close();
  }
  const file = (await fs.readdir(out)).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${out}: did the API exit cleanly?`);
  // The load and the graceful stop after it; the start-up (module loading) is left out.
  const summary = summarize(JSON.parse(await fs.readFile(path.join(out, file), 'utf8')) as CpuProfile, (2 * SECONDS + 1) * 1000);
  const pct = (ms: number) => `${((100 * ms) / summary.totalMs).toFixed(1).padStart(5)}%`;
  lines.push(`\nAPI process CPU (not idle): ${(summary.totalMs / 1000).toFixed(1)} s over ${2 * SECONDS} s of load, N = ${CONNECTIONS}`);
  lines.push('\nself time by package:');
  for (const [name, ms] of summary.byPackage.slice(0, 20)) lines.push(`  ${pct(ms)}  ${name}`);
  lines.push(`\ntop ${TOP} functions by self time:`);
  for (const [name, ms] of summary.byFunction) lines.push(`  ${pct(ms)}  ${name}`);
  const text = lines.join('\n');
  console.log(text);
  await fs.writeFile(path.join(out, 'summary.txt'), `${text}\n`);
  console.log(`\nprofile: ${path.relative(process.cwd(), path.join(out, file))}`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
