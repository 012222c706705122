// The README's curl examples, run as written (by bash and curl) against a live server on a
// fresh database with the demo restaurant, so they stay true.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { seedDemo } from '../../db/seed';
import { loadConfig } from '../../config';
import { createLogger } from '../../server/logger';
import { startApi, type RunningApi } from '../../server/server';

const readme = readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## HTTP API'), readme.indexOf('\n## ', readme.indexOf('## HTTP API') + 1));
const script = /```sh\n([\s\S]*?)```/.exec(section)![1]!.replace(/\\\n\s*/g, '');
const lines = script.split('\n').map((line) => line.trim());
const preamble = lines.filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line) && !/^(API|KEY)=/.test(line));
const examples = lines
  .filter((line) => line.startsWith('curl '))
  .map((line) => {
    const [command, expected] = line.split(/\s+# → /);
    return { command: command!.trim(), status: parseInt(expected!, 10) };
  });

let db: TestDatabase;
let api: RunningApi;
let key: string;
beforeAll(async () => {
  db = await freshDatabase();
  key = (await seedDemo(db.url))!.apiKey;
  api = await startApi(loadConfig({ DATABASE_URL: db.url, PORT: '0', LOG_LEVEL: 'silent' }), createLogger('silent'));
});
afterAll(async () => {
  await api.close();
  await db.drop();
});

test('the README has a curl example for every route of openapi.yaml', () => {
  const spec = readFileSync(path.resolve(__dirname, '..', '..', 'openapi.yaml'), 'utf8');
  const routes = [...spec.matchAll(/^ {2}(\/\S+):$/gm)].map((m) => m[1]!.replace(/\{[^}]+\}/g, '[^/?"]+'));
  for (const route of routes) {
    expect(examples.some((e) => new RegExp(`\\$API${route}(["?\\s]|$)`).test(e.command))).toBe(true);
  }
  expect(examples.length).toBeGreaterThan(25);
});

test('every README curl example answers the status it documents', async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'nora-readme-'));
  const body = examples.map((e, i) => `${e.command} -o ${out}/${i}.json -w '%{http_code}\\n'`).join('\n');
  // Asynchronously: the server answering curl runs in this very process.
  const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', `API=${api.url}\nKEY=${key}\n${preamble.join('\n')}\n${body}`]);
  const statuses = stdout
    .trim()
    .split('\n')
    .map(Number);
  const report = examples.map((e, i) => `${statuses[i]} ${e.command}\n    ${readFileSync(`${out}/${i}.json`, 'utf8').slice(0, 300)}`);
  expect(statuses.map((s, i) => (s === examples[i]!.status ? 'ok' : report[i]))).toEqual(examples.map(() => 'ok'));
});
