// `npm run db:migrate | db:seed | db:reset`: the same database `npm start` uses (DATABASE_URL,
// or the embedded one in DATA_DIR).
import { loadConfig } from '../config';
import { openDatabase, openMigratedDatabase, type OpenDatabase } from './setup';
import { databaseName, dropDatabase, createDatabase } from './postgres';
import { seedDemo, rememberDemoKey } from './seed';
import { migrateDatabase } from './migrate';
import { distributeDatabase } from './distribute';

async function seed(db: OpenDatabase, dataDir: string): Promise<void> {
  const seeded = await seedDemo(db.url);
  if (!seeded) {
    console.log('Demo Bistro already exists; nothing seeded.');
    return;
  }
  if (db.embedded) await rememberDemoKey(dataDir, seeded.apiKey);
  console.log(`Seeded Demo Bistro (restaurant ${seeded.restaurantId}).`);
  console.log(`API key (shown once): ${seeded.apiKey}`);
}

async function main(command: string | undefined): Promise<void> {
  const config = loadConfig();
  if (command === 'migrate') {
    const db = await openMigratedDatabase(config, true);
    await db.close();
  } else if (command === 'seed') {
    const db = await openMigratedDatabase(config);
    try {
      await seed(db, config.dataDir);
    } finally {
      await db.close();
    }
  } else if (command === 'reset') {
    const db = await openDatabase(config);
    try {
      const name = databaseName(db.url);
      await dropDatabase(db.adminUrl, name);
      await createDatabase(db.adminUrl, name);
      console.log(`Recreated database ${name}.`);
      await migrateDatabase({ databaseUrl: db.url, apiRole: config.apiRole, verbose: true });
      await seed(db, config.dataDir);
    } finally {
      await db.close();
    }
  } else if (command === 'distribute') {
    if (!config.databaseUrl) throw new Error('db:distribute needs DATABASE_URL at a Citus coordinator (npm run citus:local prints one)');
    const db = await openMigratedDatabase(config, true);
    try {
      const done = await distributeDatabase(db.url, config.apiRole);
      const changed = done.tables.length + done.referenceTables.length + done.functions + done.delegated.length;
      if (changed === 0) console.log('Already distributed; nothing to do.');
      for (const table of done.tables) console.log(`distributed by restaurant: ${table}`);
      for (const table of done.referenceTables) console.log(`reference table: ${table}`);
      if (done.functions) console.log(`functions propagated to the workers: ${done.functions}`);
      for (const fn of done.delegated) console.log(`delegated to the restaurant's worker: ${fn}`);
    } finally {
      await db.close();
    }
  } else {
    throw new Error('usage: tsx db/cli.ts migrate|seed|reset|distribute');
  }
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
