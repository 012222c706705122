// Seeds the demo restaurant and makes an API key for it. The key is only shown once by the
// database, so for the local embedded setup it is also kept in DATA_DIR to print on each start.
import { readFileSync, promises as fs } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const seedSql = readFileSync(path.join(__dirname, 'seed.sql'), 'utf8');

export interface Seeded {
  restaurantId: string;
  apiKey: string;
}

/** Creates Demo Bistro and a key for it; null when it already exists. */
export async function seedDemo(databaseUrl: string): Promise<Seeded | null> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('begin');
    const { rows } = await client.query<{ id: string }>(seedSql);
    const restaurantId = rows[0]?.id;
    if (!restaurantId) {
      await client.query('rollback');
      return null;
    }
    const key = await client.query<{ key: string }>("select booking.create_api_key($1, 'demo') as key", [restaurantId]);
    await client.query('commit');
    return { restaurantId, apiKey: key.rows[0]!.key };
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    await client.end();
  }
}

const keyFile = (dataDir: string) => path.join(dataDir, 'demo-api-key');

export async function rememberDemoKey(dataDir: string, key: string): Promise<void> {
  await fs.mkdir(dataDir, { recursive: true });
  await fs.writeFile(keyFile(dataDir), `${key}\n`, { mode: 0o600 });
}

export async function rememberedDemoKey(dataDir: string): Promise<string | null> {
  return fs.readFile(keyFile(dataDir), 'utf8').then(
    (text) => text.trim() || null,
    () => null,
  );
}
