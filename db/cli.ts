// `npm run db:migrate | db:seed | db:reset`: the same database `npm start` uses (DATABASE_URL,
// or the embedded one in DATA_DIR).
import { loadConfig } from '../config';
import { openDatabase, openMigratedDatabase, type OpenDatabase } from './setup';
import { databaseName, dropDatabase, createDatabase } from './postgres';
import { seedDemo, rememberDemoKey } from './seed';
import { migrateDatabase } from './migrate';

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
  } else {
    throw new Error('usage: tsx db/cli.ts migrate|seed|reset');
  }
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
