// Jest setup file of the citus target (jest.citus.config.js): the tests listed in
// exclusions.ts are declared skipped, loudly; everything else runs as written.
import path from 'node:path';
import { CITUS_EXCLUSIONS } from './exclusions';

const file = path.relative(path.join(__dirname, '..'), expect.getState().testPath ?? '').split(path.sep).join('/');
const excluded = CITUS_EXCLUSIONS[file] ?? {};
const matched = new Set<string>();
const names: string[] = [];

type Describe = jest.Describe;
const realDescribe = global.describe;
const wrappedDescribe = ((name: string, fn: () => void) =>
  realDescribe(name, () => {
    names.push(name);
    try {
      fn();
    } finally {
      names.pop();
    }
  })) as Describe;
Object.assign(wrappedDescribe, realDescribe);
global.describe = wrappedDescribe;

function wrapTest(real: jest.It): jest.It {
  const wrapped = ((name: string, fn?: jest.ProvidesCallback, timeout?: number) => {
    const full = [...names, name].join(' ');
    const reason = excluded[full];
    if (reason === undefined) return real(name, fn, timeout);
    matched.add(full);
    process.stderr.write(`\n*** Citus exclusion (test/citus/exclusions.ts), not run: ${file} › ${full}\n    because ${reason}\n`);
    return real.skip(name, fn, timeout);
  }) as jest.It;
  Object.assign(wrapped, real);
  return wrapped;
}
global.test = wrapTest(global.test);
global.it = wrapTest(global.it);

afterAll(() => {
  const stale = Object.keys(excluded).filter((name) => !matched.has(name));
  if (stale.length > 0) {
    throw new Error(`test/citus/exclusions.ts names tests that ${file} does not have (remove or rename them): ${stale.join('; ')}`);
  }
});
