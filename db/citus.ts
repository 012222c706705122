// Citus chores shared by `npm run citus:local`, `npm run db:distribute`, the distributed test
// suite and the benchmark: a database that exists on the coordinator and on every worker with the
// extension and the workers registered (Citus keeps its metadata per database), and the clone of
// such a database for a test file. Nothing here needs Citus unless it is called.
import pg from 'pg';
import { withAdmin as withClient, withDatabase } from './postgres';

export interface CitusNode {
  host: string;
  port: number;
}

function nodeUrl(coordinatorUrl: string, node: CitusNode, database: string): string {
  const url = new URL(withDatabase(coordinatorUrl, database));
  url.hostname = node.host;
  url.port = String(node.port);
  return url.toString();
}

/** Does the server at `url` have the citus extension in that database? */
export async function isCitus(url: string): Promise<boolean> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ yes: boolean }>("select exists (select 1 from pg_extension where extname = 'citus') as yes");
    return rows[0]!.yes;
  });
}

/** The active workers registered in the database at `url`. */
export async function citusWorkers(url: string): Promise<CitusNode[]> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ nodename: string; nodeport: number }>(
      "select nodename, nodeport from pg_dist_node where groupid <> 0 and noderole = 'primary' and isactive order by nodeid",
    );
    return rows.map((row) => ({ host: row.nodename, port: row.nodeport }));
  });
}

/**
 * Creates `name` on the coordinator of `adminUrl` and on each worker registered in the
 * coordinator's maintenance database, with the extension in each, and registers the workers in
 * it (the coordinator at `coordinatorHost`). The new database can then be migrated and
 * distributed.
 */
export async function createCitusDatabase(adminUrl: string, name: string, coordinatorHost = '127.0.0.1'): Promise<void> {
  const workers = await citusWorkers(adminUrl);
  if (workers.length === 0) throw new Error(`no Citus workers registered at ${new URL(adminUrl).host} (citus_add_node in its postgres database)`);
  const coordinatorPort = Number(new URL(adminUrl).port || 5432);
  for (const url of [adminUrl, ...workers.map((worker) => nodeUrl(adminUrl, worker, 'postgres'))]) {
    await withClient(url, (client) => client.query(`create database ${pg.escapeIdentifier(name)}`));
    await withClient(withDatabase(url, name), (client) => client.query('create extension citus'));
  }
  await withClient(withDatabase(adminUrl, name), async (client) => {
    await client.query('select citus_set_coordinator_host($1, $2)', [coordinatorHost, coordinatorPort]);
    for (const worker of workers) await client.query('select citus_add_node($1, $2)', [worker.host, worker.port]);
  });
}

// CREATE DATABASE … TEMPLATE refuses a source anyone is connected to, and Citus's maintenance
// daemon stays connected to every database that has the extension. A template that takes no
// connections keeps it away once its daemon is stopped.
async function quiesce(url: string, name: string): Promise<void> {
  await withClient(url, async (client) => {
    const { rows: open } = await client.query<{ yes: boolean }>('select datallowconn as yes from pg_database where datname = $1', [name]);
    if (open[0]?.yes) await client.query(`alter database ${pg.escapeIdentifier(name)} allow_connections false`);
    for (let attempt = 0; attempt < 100; attempt++) {
      const { rows } = await client.query<{ n: number }>(
        'select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
        [name],
      );
      if (rows[0]!.n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
}

/**
 * Copies a distributed database: the same CREATE DATABASE … TEMPLATE on the coordinator and on
 * every worker, so the coordinator's metadata and the workers' shards stay in step (the shards
 * keep their names, the nodes their addresses). Each test file gets one in a second or two.
 */
export async function cloneCitusDatabase(adminUrl: string, template: string, name: string): Promise<void> {
  const workers = await citusWorkers(adminUrl);
  const nodes = [adminUrl, ...workers.map((worker) => nodeUrl(adminUrl, worker, 'postgres'))];
  // Test files clone one template at the same time. Two sessions turning its connections off at
  // once update the same catalog row, and one fails ("tuple concurrently updated", XX000): so
  // cloners take turns at this step, under a lock held on the coordinator for every node.
  await withClient(adminUrl, async (lock) => {
    await lock.query("select pg_advisory_lock(hashtext('nora clone ' || $1))", [template]);
    try {
      for (const url of nodes) await quiesce(url, template);
    } finally {
      await lock.query("select pg_advisory_unlock(hashtext('nora clone ' || $1))", [template]);
    }
  });
  for (const url of nodes) {
    await withClient(url, async (client) => {
      await client.query(`create database ${pg.escapeIdentifier(name)} template ${pg.escapeIdentifier(template)}`);
      // A copy does not inherit the template's ALTER DATABASE … SET settings (db:distribute's).
      const { rows } = await client.query<{ setting: string }>(
        `select unnest(s.setconfig) as setting from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase
         where d.datname = $1 and s.setrole = 0`,
        [template],
      );
      for (const { setting } of rows) {
        const at = setting.indexOf('=');
        await client.query(`alter database ${pg.escapeIdentifier(name)} set ${setting.slice(0, at)} = ${client.escapeLiteral(setting.slice(at + 1))}`);
      }
    });
  }
}

/** Drops a database on the coordinator and on each worker of the coordinator's maintenance database. */
export async function dropCitusDatabase(adminUrl: string, name: string): Promise<void> {
  const workers = await citusWorkers(adminUrl);
  for (const url of [adminUrl, ...workers.map((worker) => nodeUrl(adminUrl, worker, 'postgres'))]) {
    // WITH (FORCE) ends client backends, not a background worker that is just connecting to the
    // database (Citus's maintenance daemon, seen in the test suite): "being accessed by other
    // users" (55006) is tried again for a few seconds.
    for (let attempt = 1; ; attempt++) {
      try {
        await withClient(url, (client) => client.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`));
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== '55006' || attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }
}
