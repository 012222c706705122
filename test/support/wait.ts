// Waiting for something that happens elsewhere (a log line, a notification, a process): poll,
// with a bound, and let the test assert what it then sees.
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds or `ms` have passed; answers whether it held. */
export async function waitUntil(check: () => Promise<boolean> | boolean, ms = 10_000, every = 20): Promise<boolean> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started >= ms) return false;
    await sleep(every);
  }
  return true;
}
