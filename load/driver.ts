// `npm run load`: the scenarios of load/scenarios.json against the real API. Without LOAD_URL it
// starts everything itself: a fresh `nora_load` database (embedded PostgreSQL in .data/load, or
// on DATABASE_URL's server), the restaurants of the scenarios, and `server/main.ts` as a child
// process. Prints a k6-like summary and exits non-zero when a threshold fails. Then run
// `npm run load:verify` for the invariants in the database.
//   LOAD_URL=http://127.0.0.1:3000 DATABASE_URL=<that API's database> npm run load
//   LOAD_SCENARIOS=storm|mixed, LOAD_DURATION_SECONDS=<mixed duration> to shorten a local try.
import { openFreshLoadDatabase } from './database';
import { Ledger } from './ledger';
import { printScenario } from './metrics';
import { prepareTarget, scenarios, writeTarget } from './prepare';
import { writeRunRecord, runRecordFile } from './run-record';
import { runMixed, runStorm, warmUp } from './runners';
import { startApiProcess, type ApiProcess } from './server-process';
import { runCommand } from './cli';

/** Settings the driver gives the API it starts: the load must not be throttled by the per-key limit. */
export const loadServerEnv: NodeJS.ProcessEnv = {
  RATE_LIMIT_MAX: '1000000',
  LOG_LEVEL: 'warn',
};

async function main(): Promise<number> {
  const only = process.env.LOAD_SCENARIOS?.split(',').map((s) => s.trim());
  const wanted = (name: string) => !only || only.includes(name);
  const duration = process.env.LOAD_DURATION_SECONDS ? Number(process.env.LOAD_DURATION_SECONDS) : undefined;
  if (duration !== undefined && !(duration > 0 && duration <= 3600)) throw new Error('LOAD_DURATION_SECONDS must be in 1..3600');

  const db = await openFreshLoadDatabase();
  let api: ApiProcess | null = null;
  try {
    const target = await prepareTarget(db.url);
    await writeTarget(target);
    let baseUrl = process.env.LOAD_URL?.replace(/\/$/, '');
    if (baseUrl) {
      const host = new URL(baseUrl).hostname;
      if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) throw new Error('LOAD_URL must point at this machine (127.0.0.1)');
    } else {
      api = await startApiProcess({ databaseUrl: db.url, env: loadServerEnv });
      baseUrl = api.baseUrl;
    }
    console.log(`Load against ${baseUrl} (scenarios: load/scenarios.json)`);
    await warmUp(baseUrl, target);

    const ledger = new Ledger();
    let passed = true;
    let stormSlots;
    if (wanted('storm')) {
      const storm = await runStorm(baseUrl, scenarios, target, ledger);
      stormSlots = storm.slots;
      const perSlot = storm.slots.map((s) => `${s.startsAt}: ${s.acknowledged}/${s.requests}`).join(', ');
      passed = printScenario('storm (autocannon)', `${scenarios.storm.description}\n    201s per slot: ${perSlot}`, storm.metrics, storm.thresholds) && passed;
    }
    if (wanted('mixed')) {
      const mixed = await runMixed(baseUrl, scenarios, target, ledger, { durationSeconds: duration });
      const rate = scenarios.mixed.ratePerSecond;
      passed = printScenario(`mixed (constant arrival rate ${rate}/s)`, scenarios.mixed.description, mixed.metrics, mixed.thresholds) && passed;
    }
    if (ledger.unreadable) {
      console.log(`\n  ✗ ${ledger.unreadable} success responses without a readable reservation`);
      passed = false;
    }
    await writeRunRecord({ finishedAt: new Date().toISOString(), database: db.location, target, stormSlots, ledger: ledger.data() });
    console.log(`\n  thresholds: ${passed ? 'all passed' : 'FAILED'}; run record for \`npm run load:verify\`: ${runRecordFile}`);
    return passed ? 0 : 1;
  } finally {
    await api?.stop();
    await db.close();
  }
}

if (require.main === module) runCommand(main);
