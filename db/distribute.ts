// `npm run db:distribute`: distributes the migrated schema on a Citus coordinator (DATABASE_URL,
// the database created on every node with the citus extension and the workers added). Safe to
// run again: what is already distributed is left alone, so a second run does nothing, and a run
// after a new migration distributes only what the migration added. The choices are explained in
// README ("Citus"); in short:
//
// - Every tenant table is hash-distributed by restaurant_id (booking.restaurants by id), all in
//   one colocation group: a restaurant's rows of every table sit in shards on the same worker,
//   so its foreign keys, its exclusion constraints and its triggers are checked there, locally.
// - booking_private.api_keys is a reference table (a copy on every node): a key is found by its
//   hash, without a restaurant, and admin keys have none.
// - graphile-worker's and graphile-migrate's tables stay on the coordinator.
// - Every function of the two schemas is propagated to the workers (the triggers run there), and
//   delegation of the hot ones to the restaurant's worker is prepared but off (see
//   DELEGATED_FUNCTIONS for why).
// - citus.enable_unsafe_triggers is set on the database: Citus refuses to distribute a table
//   with triggers, and to create one on a distributed table, without it. Every trigger here
//   touches only rows of its own restaurant (colocated shards on the same worker), the case
//   where the "unsafe" visibility and deadlock issues do not arise.
// - The API role may log in: Citus runs a statement's shard queries on the workers as the role
//   that issued it, also after SET ROLE (how the API enters it without API_DATABASE_URL), so
//   that role must be able to connect to every worker (with a password in pg_dist_authinfo or
//   the nodes' authentication rules where they ask for one). Its privileges do not change.
// - citus.propagate_set_commands = 'local' is set on the database: a SET LOCAL in a transaction
//   block reaches the workers, where the history trigger reads nora.channel and nora.actor.
import pg from 'pg';

export const TENANT_TABLES = [
  'booking.restaurants',
  'booking.tables',
  'booking.clients',
  'booking.table_combinations',
  'booking.table_combination_members',
  'booking.opening_hours',
  'booking.closures',
  'booking.turn_times',
  'booking.pacing_limits',
  'booking.reservations',
  'booking.reservation_tables',
  'booking.reservation_events',
  'booking.waitlist',
  'booking.webhook_endpoints',
  'booking_private.webhook_secrets',
  'booking.webhook_events',
  'booking.webhook_deliveries',
] as const;

export const REFERENCE_TABLES = ['booking_private.api_keys'] as const;

/**
 * Functions that run whole on the worker holding the restaurant (their first argument). None, on
 * purpose. Delegated (tried on Citus 13.2.2), book_table and available_table_counts do run on the
 * worker now that citus.allow_nested_distributed_execution is on everywhere and their SQL helpers
 * are PL/pgSQL (the earlier "cannot execute a distributed query from a query on a shard" on
 * service_periods is gone), but they were slower (bench:sql, BENCH_TARGET=citus: book_table 35 /
 * 64 / 31 calls/s at 1 / 8 / 32 connections became 23 / 38 / 33; availability 15 ms became 33 ms):
 * inside them some statements are still not confined to the restaurant's shards (the
 * combinations of seating_candidates are collected from every shard, on both workers), so a
 * delegated call still crosses nodes, from the worker. Citus also does not push a call down
 * inside a transaction block, which is how the API calls them on Citus. And book_table alone
 * delegated would take its advisory locks (pacing, combinations, tables) on the worker while
 * reschedule, holds and the waitlist take theirs on the coordinator: they would stop serialising
 * each other. A name added here is delegated by the next db:distribute.
 */
export const DELEGATED_FUNCTIONS: readonly string[] = [];

/**
 * SQL-language functions of ours that read tables, rewritten as PL/pgSQL with the same body,
 * arguments, result, volatility, security, settings and comment. Citus cannot plan the
 * parameterised statements of an SQL function over distributed tables ("could not create
 * distributed plan", "parameterized queries for SQL functions referencing distributed tables
 * are not supported"), also for the set-returning ones PostgreSQL would inline (Citus plans the
 * calling statement before PostgreSQL inlines them). Same results; done here, on Citus only, so
 * that one PostgreSQL keeps them in SQL and inlined (measured with npm run bench:sql: the
 * rewrite costs one PostgreSQL up to 40% on availability with combinations and pacing).
 * Idempotent (a PL/pgSQL function is not selected again); run again by every db:distribute, so a
 * later migration that replaces one of them in SQL is rewritten by the next run.
 * `#variable_conflict use_column` keeps SQL's rule that column names win over parameter names.
 */
export const PLPGSQL_REWRITE = `
do $$
declare
  v_fn record;
  v_def text;
  v_body text;
  v_head text;
begin
  for v_fn in
    select p.oid, p.proname, p.prosrc, p.proretset, p.prorettype
    from pg_proc p join pg_language l on l.oid = p.prolang
    where l.lanname = 'sql' and p.prokind = 'f'
      and p.pronamespace in ('booking'::regnamespace, 'booking_private'::regnamespace)
      and p.prosrc ~ '(booking|booking_private)\\.[a-z_]+'
  loop
    v_body := regexp_replace(v_fn.prosrc, '[\\s;]+$', '');
    if v_fn.proname = 'revoke_api_key' then
      v_body := E'declare\\n  v_done boolean;\\nbegin\\n' || v_body || E'\\n  into v_done;\\n  return v_done;\\nend;';
    elsif v_fn.proretset then
      v_body := E'begin\\n  return query\\n' || v_body || E';\\nend;';
    elsif v_fn.prorettype = 'void'::regtype then
      v_body := E'begin\\n' || v_body || E';\\nend;';
    else
      v_body := E'begin\\n  return (\\n' || v_body || E');\\nend;';
    end if;
    v_body := E'\\n#variable_conflict use_column\\n' || v_body || E'\\n';
    v_def := pg_get_functiondef(v_fn.oid);
    v_head := substring(v_def from '^(.*?)\\nAS ');
    v_head := regexp_replace(v_head, '\\n LANGUAGE sql(\\n|$)', E'\\n LANGUAGE plpgsql\\\\1');
    execute v_head || E'\\nAS ' || quote_literal(v_body);
  end loop;
end;
$$;
`;

export interface DistributeReport {
  tables: string[];
  referenceTables: string[];
  functions: number;
  delegated: string[];
}

export async function distributeDatabase(url: string, apiRole: string): Promise<DistributeReport> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  const report: DistributeReport = { tables: [], referenceTables: [], functions: 0, delegated: [] };
  try {
    const { rows: citus } = await client.query<{ yes: boolean }>("select exists (select 1 from pg_extension where extname = 'citus') as yes");
    if (!citus[0]!.yes) throw new Error('no citus extension in this database: db:distribute needs a Citus coordinator (see README, Citus)');
    const { rows: workers } = await client.query<{ n: number }>("select count(*)::int as n from pg_dist_node where groupid <> 0 and isactive");
    if (workers[0]!.n === 0) throw new Error('no workers registered in this database (select citus_add_node(host, port) first)');
    const { rows: database } = await client.query<{ name: string }>('select current_database() as name');
    const name = client.escapeIdentifier(database[0]!.name);
    await client.query(`alter database ${name} set citus.enable_unsafe_triggers = on`);
    await client.query(`alter database ${name} set citus.propagate_set_commands = 'local'`);
    // On every node: a statement Citus sends whole to a restaurant's shard (availability's one
    // query, a trigger's) calls our functions there, and they read other tables of the same
    // restaurant; Citus refuses such a nested query on a shard unless this is on. Every one of
    // them reads only the restaurant's own, colocated shards, on that same worker.
    const nested = `alter database ${name} set citus.allow_nested_distributed_execution = on`;
    await client.query(nested);
    await client.query('select run_command_on_workers($1)', [nested]);
    await client.query('set citus.enable_unsafe_triggers = on');
    await client.query(`alter role ${client.escapeIdentifier(apiRole)} login`);
    // One transaction: the tables that reference each other are distributed together.
    await client.query('begin');
    await client.query("set local citus.multi_shard_modify_mode = 'sequential'");
    const distributed = async (table: string) =>
      (await client.query('select 1 from pg_dist_partition where logicalrelid = $1::regclass', [table])).rowCount! > 0;
    for (const table of REFERENCE_TABLES) {
      if (await distributed(table)) continue;
      await client.query('select create_reference_table($1)', [table]);
      report.referenceTables.push(table);
    }
    for (const table of TENANT_TABLES) {
      if (await distributed(table)) continue;
      if (table === 'booking.restaurants') {
        await client.query("select create_distributed_table($1, 'id')", [table]);
      } else {
        await client.query("select create_distributed_table($1, 'restaurant_id', colocate_with => 'booking.restaurants')", [table]);
      }
      report.tables.push(table);
    }
    await client.query('commit');
    await client.query(PLPGSQL_REWRITE);
    // Every function of ours, on every node (the triggers and the delegated functions call them
    // there); later CREATE OR REPLACE of a propagated function is propagated by Citus itself.
    const { rows: functions } = await client.query<{ fn: string; name: string; distributed: boolean; delegated: boolean }>(
      `select p.oid::regprocedure::text as fn, n.nspname || '.' || p.proname as name,
              d.objid is not null as distributed, d.distribution_argument_index is not null as delegated
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       left join pg_catalog.pg_dist_object d on d.classid = 'pg_proc'::regclass and d.objid = p.oid
       where n.nspname in ('booking', 'booking_private') and p.prokind = 'f'
       order by 1`,
    );
    for (const fn of functions) {
      if (DELEGATED_FUNCTIONS.includes(fn.name)) {
        if (fn.delegated) continue;
        await client.query(
          "select create_distributed_function($1, 'restaurant_id', colocate_with => 'booking.restaurants')",
          [fn.fn],
        );
        report.delegated.push(fn.fn);
      } else if (!fn.distributed) {
        await client.query('select create_distributed_function($1)', [fn.fn]);
        report.functions++;
      }
    }
    return report;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
