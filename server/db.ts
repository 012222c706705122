// The API's way into PostgreSQL: the API role's pool, the transaction helper that records the
// channel and key label for reservation_events, and the statements the routes run, one module
// per capability in server/queries/ (the JSON is built in SQL: TypeScript never reshapes rows).
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { isRetryable } from './errors';
import { availabilityQueries } from './queries/availability';
import { clientQueries } from './queries/clients';
import { holdQueries } from './queries/holds';
import { keyQueries } from './queries/keys';
import { reservationQueries } from './queries/reservations';
import { waitlistQueries } from './queries/waitlist';
import { webhookQueries } from './queries/webhooks';

export interface Actor {
  channel: 'api' | 'rpc' | 'mcp';
  label: string;
}

export type Json = Record<string, unknown>;

export interface DatabaseOptions {
  /** Connection string; the pool switches to `role` on connect unless it is null. */
  url: string;
  role: string | null;
  pool: Config['pool'];
  logger: Logger;
}

export function apiDatabaseOptions(config: Config, ownerUrl: string | undefined, logger: Logger): DatabaseOptions {
  const url = config.apiDatabaseUrl ?? ownerUrl ?? config.databaseUrl;
  if (!url) throw new Error('no database to connect to: set DATABASE_URL or API_DATABASE_URL');
  return { url, role: config.apiDatabaseUrl ? null : config.apiRole, pool: config.pool, logger };
}

/**
 * The connection that LISTENs for API key changes: DATABASE_LISTEN_URL when set (needed when the
 * pool goes through PgBouncer in transaction mode), else the pool's own server and role.
 */
export function listenDatabaseOptions(config: Config, ownerUrl: string | undefined): { url: string; role: string | null } {
  if (config.listenDatabaseUrl) return { url: config.listenDatabaseUrl, role: null };
  const url = config.apiDatabaseUrl ?? ownerUrl ?? config.databaseUrl;
  if (!url) throw new Error('no database to connect to: set DATABASE_URL or API_DATABASE_URL');
  return { url, role: config.apiDatabaseUrl ? null : config.apiRole };
}

export class Database {
  readonly pool: pg.Pool;
  private readonly retries: number;
  private readonly logger: Logger;
  /** Statement names by SQL text, when statements are prepared (DB_PREPARED_STATEMENTS). */
  private readonly names: Map<string, string> | null;
  /** Whether the server is a Citus coordinator; asked once, on the first write. */
  private citus: Promise<boolean> | null = null;

  constructor(options: DatabaseOptions) {
    // Startup options apply before the first statement: every connection runs as the API role,
    // and timestamps come out in UTC whatever the server's default.
    const startup = ['-c TimeZone=UTC'];
    if (options.role) startup.push(`-c role=${options.role}`);
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.pool.size,
      connectionTimeoutMillis: options.pool.connectionTimeoutMs,
      statement_timeout: options.pool.statementTimeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: 'nora-api',
      options: startup.join(' '),
    });
    this.retries = options.pool.retries;
    this.logger = options.logger;
    this.names = options.pool.preparedStatements ? new Map() : null;
    // An idle connection that dies (server restart) must not crash the process.
    this.pool.on('error', (error) => this.logger.warn({ err: error }, 'idle database connection failed'));
  }

  /** One statement on a pooled connection; the connection's own errors are logged, not thrown. */
  private async withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const onError = (error: Error) => this.logger.warn({ err: error }, 'database connection failed while in use');
    client.on('error', onError);
    let broken: Error | undefined;
    try {
      return await work(client);
    } catch (error) {
      if (!(error as { code?: unknown }).code) broken = error as Error;
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  /**
   * Every statement the server runs is one of a few fixed texts, so each is prepared once per
   * connection under a name: PostgreSQL then parses and plans it once, not on every call.
   */
  private statement(sql: string, params: unknown[]): pg.QueryConfig {
    if (!this.names) return { text: sql, values: params };
    let name = this.names.get(sql);
    if (!name) this.names.set(sql, (name = `nora_${this.names.size + 1}`));
    return { name, text: sql, values: params };
  }

  /**
   * On a Citus coordinator the history trigger runs on the worker holding the restaurant's
   * shard, which sees the acting channel and actor only when they are set with SET LOCAL (what
   * citus.propagate_set_commands = 'local', set by db:distribute, sends along); set_config is
   * not propagated. One PostgreSQL keeps the one-statement set_config.
   */
  isCitus(): Promise<boolean> {
    this.citus ??= this.withClient(async (client) =>
      (await client.query<{ yes: boolean }>("select exists (select 1 from pg_extension where extname = 'citus') as yes")).rows[0]!.yes,
    ).catch((error: unknown) => {
      this.citus = null;
      throw error;
    });
    return this.citus;
  }

  /**
   * On Citus a statement run as the API role may not read a restaurant's shards after a SECURITY
   * DEFINER function wrote them in the same transaction ("cannot perform query on placements that
   * were modified in this transaction by a different user": the function's shard connections are
   * its owner's). So there a write is called first, its rows returned as JSON and committed, and
   * the answer is shaped from those rows by a second statement (`shapeRows`). The composite type
   * each function returns, by name, for that second statement.
   */
  private readonly rowTypes = new Map<string, Promise<string | null>>();

  private rowType(fn: string): Promise<string | null> {
    let type = this.rowTypes.get(fn);
    if (!type) {
      type = this.read<{ type: string; composite: boolean }>(
        `select format_type(p.prorettype, null) as type, t.typtype = 'c' as composite
         from pg_proc p join pg_type t on t.oid = p.prorettype where p.oid = $1::regproc`,
        [`booking.${fn}`],
      ).then((rows) => (rows[0]?.composite ? rows[0].type : null));
      type.catch(() => this.rowTypes.delete(fn));
      this.rowTypes.set(fn, type);
    }
    return type;
  }

  /** Citus: the rows `called` returned (JSON, see rowType), shaped into the one-row answer. */
  async shapeRows<T = Json>(fn: string, rows: unknown, shape: (called: string) => string): Promise<T> {
    const type = await this.rowType(fn);
    if (!type) throw new Error(`booking.${fn} does not return a composite type`);
    const sql = `with called as (select * from jsonb_populate_recordset(null::${type}, $1::jsonb)) ${shape('called')}`;
    return (await this.read<T>(sql, [JSON.stringify(rows)]))[0]!;
  }

  /** Citus: the SQL that calls `fn` with `count` parameters and returns its rows as one JSON array. */
  rowsOf(fn: string, count: number): string {
    const placeholders = Array.from({ length: count }, (_, i) => `$${i + 1}`).join(', ');
    return `select coalesce(jsonb_agg(to_jsonb(c)), '[]'::jsonb) as rows from booking.${fn}(${placeholders}) c`;
  }

  private static setLocal(client: pg.PoolClient, actor: Actor): string {
    return `set local nora.channel = ${client.escapeLiteral(actor.channel)}; set local nora.actor = ${client.escapeLiteral(actor.label)}`;
  }

  async read<T = Json>(sql: string, params: unknown[]): Promise<T[]> {
    return this.withClient(async (client) => (await client.query(this.statement(sql, params))).rows as T[]);
  }

  /**
   * Runs `work` in a transaction that tells the history trigger who acts, retrying it when
   * PostgreSQL reports a serialization failure or deadlock.
   */
  async transaction<T>(actor: Actor, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const citus = await this.isCitus();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.withClient(async (client) => {
          // One round trip for both: a simple-protocol query takes no parameters, hence the
          // escaped literals.
          await client.query(
            citus
              ? `begin; ${Database.setLocal(client, actor)}`
              : `begin; select set_config('nora.channel', ${client.escapeLiteral(actor.channel)}, true), ` +
                  `set_config('nora.actor', ${client.escapeLiteral(actor.label)}, true)`,
          );
          try {
            const result = await work(client);
            await client.query('commit');
            return result;
          } catch (error) {
            await client.query('rollback').catch(() => undefined);
            throw error;
          }
        });
      } catch (error) {
        if (!isRetryable(error) || attempt >= this.retries) throw error;
      }
    }
  }

  /**
   * Calls one booking function as `actor` in a single statement, hence a single round trip and
   * its own transaction. The history trigger's transaction-local settings are made in the
   * `acting` CTE, and the function's first argument (the restaurant id) is read from it: a
   * function's arguments are computed before it runs, so the settings are in place when it
   * writes. `shape` turns the CTE `called` (the function's result) into the one-row answer.
   */
  async call<T = Json>(actor: Actor, fn: string, args: [restaurantId: number, ...rest: unknown[]], shape: (called: string) => string): Promise<T> {
    if ((await this.isCitus()) && (await this.rowType(fn))) {
      // On Citus: the call in a transaction that sets the actor with SET LOCAL (see isCitus),
      // then the answer shaped from the rows it returned (see rowType).
      const rows = await this.transaction(actor, async (tx) => (await tx.query<{ rows: unknown }>(this.statement(this.rowsOf(fn, args.length), args))).rows[0]!.rows);
      return this.shapeRows<T>(fn, rows, shape);
    }
    const rest = args.slice(1).map((_, i) => `, $${i + 4}`).join('');
    const sql = `with acting as materialized (
                   select $1::bigint as restaurant_id, set_config('nora.channel', $2, true), set_config('nora.actor', $3, true)),
                 called as (select * from booking.${fn}((select restaurant_id from acting)${rest}))
                 ${shape('called')}`;
    const params = [args[0], actor.channel, actor.label, ...args.slice(1)];
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.read<T>(sql, params))[0]!;
      } catch (error) {
        if (!isRetryable(error) || attempt >= this.retries) throw error;
      }
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

export interface ApiKeyScope {
  keyId: number;
  restaurantId: number | null;
  label: string;
}

/** The routes' statements; each returns the JSON a route sends, or null when nothing matched. */
export function queries(db: Database) {
  return {
    ...keyQueries(db),
    ...availabilityQueries(db),
    ...reservationQueries(db),
    ...holdQueries(db),
    ...waitlistQueries(db),
    ...clientQueries(db),
    ...webhookQueries(db),

    async appliedMigrations(): Promise<string[]> {
      const rows = await db.read<{ filename: string }>('select filename from graphile_migrate.migrations order by filename', []);
      return rows.map((row) => row.filename);
    },
  };
}

export type Queries = ReturnType<typeof queries>;
