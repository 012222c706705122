// Looking at a page as a person would: Debian's chromium, headless, returns the DOM after the
// page's scripts ran. .ci/run installs it; without it, tests that need it are skipped.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = '/usr/bin/chromium';

export const hasBrowser = existsSync(CHROMIUM);

/** Says, in the test output, that a browser test is skipped and why (never silently). */
export function browserTest(name: string, body: () => Promise<void>): void {
  if (hasBrowser) {
    test(name, body);
    return;
  }
  console.warn(`SKIPPED "${name}": ${CHROMIUM} is not installed (Debian's chromium package; .ci/run installs it as root).`);
  test.skip(`${name} (skipped: no ${CHROMIUM})`, body);
}

export function renderedDom(url: string): Promise<string> {
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
