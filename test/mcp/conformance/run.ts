// `npm run mcp:conformance`: the official MCP conformance suite (@modelcontextprotocol/conformance)
// against /mcp of the real API, on a throwaway database with Demo Bistro seeded (embedded
// PostgreSQL, or DATABASE_URL's server). The suite's client sends no Authorization header, so it
// talks to a local pass-through that adds the demo key: every request still goes through the
// API's key check and rate limit. Scenarios a tools-only server has nothing to offer for are
// listed, each with why, in expected-failures.yaml; the run fails on any other failure, and on a
// listed scenario that passes.
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createDatabase, dropDatabase, makeTemporaryDataDir, startEmbedded, withDatabase, type RunningPostgres } from '../../../db/postgres';
import { migrateDatabase } from '../../../db/migrate';
import { seedDemo } from '../../../db/seed';
import { loadConfig } from '../../../config';
import { createLogger } from '../../../server/logger';
import { startApi } from '../../../server/server';

const root = path.resolve(__dirname, '..', '..', '..');
const cli = path.join(root, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
const baseline = path.join(__dirname, 'expected-failures.yaml');

/** The suite needs Node 22 (fs.globSync); on an older Node it runs on Node 22 from the npm registry. */
function node22(): [string, ...string[]] {
  const major = Number(process.versions.node.split('.')[0]);
  return major >= 22 ? [process.execPath] : ['npx', '--yes', '--package=node@22', '--', 'node'];
}

function passThrough(target: string, key: string): Promise<http.Server> {
  const upstream = new URL(target);
  const proxy = http.createServer((req, res) => {
    const headers = { ...req.headers, authorization: `Bearer ${key}` };
    const forwarded = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forwarded.on('error', () => res.writeHead(502).end());
    req.pipe(forwarded);
  });
  return new Promise((resolve) => proxy.listen(0, '127.0.0.1', () => resolve(proxy)));
}

function run(command: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: root, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<number> {
  const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '100000' });
  let embedded: RunningPostgres | undefined;
  const adminUrl = config.databaseUrl ? withDatabase(config.databaseUrl, 'postgres') : (embedded = await startEmbedded({ dataDir: await makeTemporaryDataDir(), persistent: false, fast: true })).adminUrl;
  const name = `nora_conformance_${process.pid}`;
  try {
    await createDatabase(adminUrl, name);
    const url = withDatabase(adminUrl, name);
    await migrateDatabase({ databaseUrl: url, apiRole: config.apiRole });
    const { apiKey } = (await seedDemo(url))!;
    const api = await startApi(config, createLogger('silent'), url);
    const proxy = await passThrough(api.url, apiKey);
    try {
      const mcpUrl = `http://localhost:${(proxy.address() as AddressInfo).port}/mcp`;
      console.log(`MCP conformance against ${api.url}/mcp (through ${mcpUrl}, adding the demo key)`);
      return await run([...node22(), cli, 'server', '--url', mcpUrl, '--expected-failures', baseline]);
    } finally {
      proxy.close();
      await api.close();
    }
  } finally {
    await dropDatabase(adminUrl, name);
    await embedded?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
