// /docs as a person sees it: headless Chromium loads the page, swagger-ui runs and lists every
// path of openapi.yaml. Needs Debian's chromium (.ci/run installs it); on a machine without it
// the test is skipped.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { specPath } from '../../server/openapi';
import { startTestApi, type ApiUnderTest } from './support';

const CHROMIUM = '/usr/bin/chromium';
const withBrowser = existsSync(CHROMIUM) ? test : test.skip;

let db: TestDatabase;
let t: ApiUnderTest;
beforeAll(async () => {
  db = await freshDatabase();
  t = await startTestApi({ db });
});
afterAll(async () => {
  await t.close();
  await db.drop();
});

function renderedDom(url: string): Promise<string> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'nora-chromium-'));
  // The flags keep Chromium from reaching for the network, which these machines do not have.
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--virtual-time-budget=10000', '--dump-dom', url];
  return new Promise<string>((resolve, reject) => {
    execFile(CHROMIUM, flags, { timeout: 60_000, maxBuffer: 50 * 1024 * 1024 }, (error, stdout) => {
      rmSync(profile, { recursive: true, force: true });
      if (error) reject(error);
      else resolve(stdout);
    });
  });
}

withBrowser('/docs renders every path of openapi.yaml in headless Chromium', async () => {
  const dom = await renderedDom(`${t.url}/docs/`);
  const spec = YAML.parse(readFileSync(specPath, 'utf8')) as { info: { title: string }; paths: Record<string, unknown> };
  expect(dom).toContain(spec.info.title);
  const missing = Object.keys(spec.paths).filter((p) => !dom.includes(`data-path="${p}"`));
  expect(missing).toEqual([]);
});
