// `npm run mutate:sql [name…]`: plants each defect of test/mutation/defects.ts (or the named
// ones) in its own test run, runs the SQL suite (and the HTTP files the defect lists) and
// reports which tests caught it. Every defect must be caught by at least two tests: one guard
// alone is a single point of proof. Exits non-zero when one is not.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { TEST_ENV } from '../support/cluster';
import { defects } from './defects';

const REQUIRED = 2;

interface JestReport {
  testResults: Array<{ name: string; message: string; assertionResults: Array<{ fullName: string; status: string }> }>;
}

/** The tests that failed with the defect planted; a file that failed to run counts once. */
function caughtBy(name: string, http: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'nora-mutate-sql-'));
  try {
    const output = join(dir, 'report.json');
    spawnSync('npx', ['jest', '--coverage=false', '--json', `--outputFile=${output}`, 'test/sql', ...http], {
      env: { ...process.env, [TEST_ENV.defect]: name },
      stdio: 'ignore',
    });
    const report = JSON.parse(readFileSync(output, 'utf8')) as JestReport;
    return report.testResults.flatMap((file) => {
      const failed = file.assertionResults.filter((a) => a.status === 'failed').map((a) => `${relative(process.cwd(), file.name)} › ${a.fullName}`);
      return failed.length === 0 && file.message ? [`${relative(process.cwd(), file.name)} (failed to run)`] : failed;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !defects.some((d) => d.name === name));
if (unknown.length > 0) throw new Error(`unknown defect(s) ${JSON.stringify(unknown)}; known: ${defects.map((d) => d.name).join('; ')}`);
const chosen = wanted.length > 0 ? defects.filter((d) => wanted.includes(d.name)) : defects;
const rows: string[] = ['| defect | tests that caught it | in |', '| --- | --- | --- |'];
let weak = 0;
for (const defect of chosen) {
  const started = Date.now();
  const tests = caughtBy(defect.name, defect.http ?? []);
  if (tests.length < REQUIRED) weak += 1;
  process.stderr.write(`${defect.name}: caught by ${tests.length} in ${Math.round((Date.now() - started) / 1000)} s\n${tests.map((t) => `  ${t}\n`).join('')}`);
  const files = new Map<string, number>();
  for (const file of tests.map((test) => test.split(' ')[0]!)) files.set(file, (files.get(file) ?? 0) + 1);
  const where = [...files].map(([file, n]) => (n > 1 ? `${file} (${n})` : file)).join(', ');
  rows.push(`| ${defect.name} | ${tests.length || 'none: survived'} | ${where} |`);
}
process.stdout.write(`${rows.join('\n')}\n`);
if (weak > 0) {
  process.stderr.write(`${weak} defect(s) caught by fewer than ${REQUIRED} tests\n`);
  process.exit(1);
}
