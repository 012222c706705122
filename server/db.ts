// The one module that talks to PostgreSQL: the API role's pool, the transaction helper that
// records the channel and key label for reservation_events, and every statement the routes run.
// The statements build the response JSON in SQL, so TypeScript never reshapes rows.
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config';
import { isRetryable } from './errors';
import { webhookQueries } from './webhooks/queries';

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

  async read<T = Json>(sql: string, params: unknown[]): Promise<T[]> {
    return this.withClient(async (client) => (await client.query(this.statement(sql, params))).rows as T[]);
  }

  /**
   * Runs `work` in a transaction that tells the history trigger who acts, retrying it when
   * PostgreSQL reports a serialization failure or deadlock.
   */
  async transaction<T>(actor: Actor, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.withClient(async (client) => {
          // One round trip for both: a simple-protocol query takes no parameters, hence the
          // escaped literals.
          await client.query(
            `begin; select set_config('nora.channel', ${client.escapeLiteral(actor.channel)}, true), ` +
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

const reservationFields = (r: string, start: 'starts_at' | 'date') => `
  'id', ${r}.id, 'restaurant_id', ${r}.restaurant_id, 'table_id', ${r}.table_id, 'combination_id', ${r}.combination_id,
  'tables', booking.held_tables(${r}.restaurant_id, ${r}.id), 'client_id', ${r}.client_id,
  '${start}', ${r}.starts_at, 'ends_at', ${r}.ends_at, 'guests', ${r}.guests, 'status', ${r}.status,
  'hold_expires_at', ${r}.hold_expires_at, 'notes', ${r}.notes, 'created_at', ${r}.created_at, 'updated_at', ${r}.updated_at`;
// The /rpc shape lives in SQL (webhooks carry the same document).
const rpcReservation = (r: string) => `booking.reservation_document(${r})`;
const legacyReservation = (r: string) => `json_build_object(${reservationFields(r, 'date')})`;
const legacyBooking = (r: string) => `
  select json_build_object('reservation', ${legacyReservation('r')},
                           'table', json_build_object('id', t.id, 'name', t.name, 'capacity', t.capacity)) as data
  from ${r} r join booking.tables t on t.restaurant_id = r.restaurant_id and t.id = r.table_id`;
const clientJson = (c: string) => `json_build_object('id', ${c}.id, 'restaurant_id', ${c}.restaurant_id, 'email', ${c}.email,
  'name', ${c}.name, 'phone', ${c}.phone, 'notes', ${c}.notes, 'created_at', ${c}.created_at, 'updated_at', ${c}.updated_at)`;

const entryJson = (w: string) => `json_build_object('id', ${w}.id, 'restaurant_id', ${w}.restaurant_id, 'client_id', ${w}.client_id,
  'name', ${w}.name, 'phone', ${w}.phone, 'email', ${w}.email, 'guests', ${w}.guests, 'earliest', ${w}.earliest, 'latest', ${w}.latest,
  'status', ${w}.status, 'reservation_id', ${w}.reservation_id, 'created_at', ${w}.created_at, 'updated_at', ${w}.updated_at)`;

// The contract's maxItems of the reservation, history and waitlist lists: a response never grows without bound.
const MAX_LISTED = 1000;
// booking.hold_table's default hold_minutes, for callers that leave it out.
const DEFAULT_HOLD_MINUTES = 5;

type ClientInput = { email: string; name?: string; phone?: string };
type WaitlistRequest = {
  guests: number;
  earliest: string;
  latest: string;
  client_id?: number | null;
  name?: string | null;
  phone?: string | null;
  email?: string | null;
};

/** The routes' statements; each returns the JSON a route sends, or null when nothing matched. */
export function queries(db: Database) {
  const one = async (sql: string, params: unknown[]): Promise<Json | null> =>
    ((await db.read<{ data: Json | null }>(sql, params))[0]?.data ?? null);
  const change = async (actor: Actor, fn: string, args: [number, ...unknown[]], shape: (called: string) => string): Promise<Json> =>
    (await db.call<{ data: Json }>(actor, fn, args, shape)).data;
  const reservationAs = (json: (r: string) => string) => (called: string) => `select ${json('r')} as data from ${called} r`;
  const clientAs = (called: string) => `select ${clientJson('c')} as data from ${called} c`;
  const entryAs = (called: string) => `select ${entryJson('w')} as data from ${called} w`;
  const legacyEntryAs = (called: string) => `select json_build_object('entry', ${entryJson('w')}) as data from ${called} w`;
  const join = (actor: Actor, restaurantId: number, w: WaitlistRequest, shape: (called: string) => string) =>
    change(actor, 'join_waitlist', [
      restaurantId,
      w.guests,
      w.earliest,
      w.latest,
      w.client_id ?? null,
      w.name ?? null,
      w.phone ?? null,
      w.email ?? null,
    ], shape);
  /**
   * Upserts `client` and calls `fn` with the arguments built from the guest's id, in one
   * transaction: a refused call leaves no new guest.
   */
  const withUpsertedClient = (actor: Actor, restaurantId: number, client: ClientInput, fn: string, args: (clientId: number) => unknown[], shape: (called: string) => string) =>
    db.transaction(actor, async (tx) => {
      const upserted = await tx.query<{ id: string }>('select id from booking.upsert_client($1, $2, $3, $4)', [
        restaurantId,
        client.email,
        client.name ?? null,
        client.phone ?? null,
      ]);
      const values = args(Number(upserted.rows[0]!.id));
      const placeholders = values.map((_, i) => `$${i + 1}`).join(', ');
      const { rows } = await tx.query<{ data: Json }>(`with r as (select * from booking.${fn}(${placeholders})) ${shape('r')}`, values);
      return rows[0]!.data;
    });

  return {
    async resolveApiKey(key: string): Promise<ApiKeyScope | null> {
      const rows = await db.read<{ key_id: string; restaurant_id: string | null; label: string }>(
        'select key_id, restaurant_id, label from booking.resolve_api_key($1)',
        [key],
      );
      const row = rows[0];
      return row ? { keyId: Number(row.key_id), restaurantId: row.restaurant_id === null ? null : Number(row.restaurant_id), label: row.label } : null;
    },

    availability: (restaurantId: number, day: string, guests: number, time: string | null, area: string | null) =>
      one(
        `select json_build_object(
           'availableSlots', coalesce(json_agg(local_time order by starts_at) filter (where tables_available > 0), '[]'),
           'tablesAvailable', coalesce(case when $4::text is null then max(tables_available)
                                            else max(tables_available) filter (where local_time = $4) end, 0),
           'slots', coalesce(json_agg(json_build_object('time', local_time, 'startsAt', starts_at, 'tablesAvailable', tables_available)
                                      order by starts_at), '[]')) as data
         from booking.available_table_counts($1, $2, $3, $5)`,
        [restaurantId, day, guests, time, area],
      ),

    tableCounts: (restaurantId: number, day: string, guests: number, area: string | null) =>
      one(
        `select coalesce(json_agg(json_build_object('starts_at', starts_at, 'local_time', local_time, 'tables_available', tables_available)
                                  order by starts_at), '[]') as data
         from booking.available_table_counts($1, $2, $3, $4)`,
        [restaurantId, day, guests, area],
      ),

    async bookLegacy(
      actor: Actor,
      restaurantId: number,
      booking: { date: string; guests: number; client_id?: number; table_id?: number; combination_id?: number; area?: string; notes?: string },
      client: { email: string; name?: string; phone?: string } | undefined,
      idempotencyKey: string | null,
    ): Promise<Json> {
      const args = (clientId: number | null): [number, ...unknown[]] => [
        restaurantId, booking.date, booking.guests, clientId, booking.table_id ?? null, idempotencyKey, booking.notes ?? null,
        booking.combination_id ?? null, booking.area ?? null,
      ];
      if (!client) return change(actor, 'book_table', args(booking.client_id ?? null), legacyBooking);
      // The guest and the booking in one transaction: a refused booking leaves no new guest.
      return withUpsertedClient(actor, restaurantId, client, 'book_table', args, legacyBooking);
    },

    holdLegacy: async (
      actor: Actor,
      restaurantId: number,
      hold: { date: string; guests: number; hold_minutes?: number; table_id?: number; area?: string },
      idempotencyKey: string | null,
    ) =>
      change(actor, 'hold_table', [
        restaurantId,
        hold.date,
        hold.guests,
        hold.hold_minutes ?? DEFAULT_HOLD_MINUTES,
        hold.table_id ?? null,
        hold.area ?? null,
        idempotencyKey,
      ], legacyBooking),

    async confirmHoldLegacy(
      actor: Actor,
      restaurantId: number,
      id: number,
      confirm: { client_id?: number; notes?: string },
      client: ClientInput | undefined,
    ): Promise<Json> {
      const args = (clientId: number | null): [number, ...unknown[]] => [restaurantId, id, clientId, confirm.notes ?? null];
      if (!client) return change(actor, 'confirm_hold', args(confirm.client_id ?? null), legacyBooking);
      // The guest and the confirmation in one transaction: a refused confirmation leaves no new guest.
      return withUpsertedClient(actor, restaurantId, client, 'confirm_hold', args, legacyBooking);
    },

    releaseHoldLegacy: async (actor: Actor, restaurantId: number, id: number) =>
      change(actor, 'release_hold', [restaurantId, id], legacyBooking),

    rescheduleLegacy: async (
      actor: Actor,
      restaurantId: number,
      id: number,
      move: { date?: string; guests?: number; table_id?: number; combination_id?: number; area?: string },
    ) =>
      change(actor, 'reschedule_reservation', [
        restaurantId,
        id,
        move.date ?? null,
        move.guests ?? null,
        move.table_id ?? null,
        move.combination_id ?? null,
        move.area ?? null,
      ], legacyBooking),

    cancelLegacy: async (actor: Actor, restaurantId: number, id: number) =>
      change(actor, 'cancel_reservation', [restaurantId, id], legacyBooking),

    setStatusLegacy: async (actor: Actor, restaurantId: number, id: number, status: string) =>
      change(actor, 'set_reservation_status', [restaurantId, id, status], legacyBooking),

    rpcSetReservationStatus: async (actor: Actor, a: { restaurant_id: number; reservation_id: number; status: string }) =>
      change(actor, 'set_reservation_status', [a.restaurant_id, a.reservation_id, a.status], reservationAs(rpcReservation)),

    reservation: (restaurantId: number, id: number) =>
      one(`with r as (select * from booking.reservations where restaurant_id = $1 and id = $2) ${legacyBooking('r')}`, [restaurantId, id]),

    reservationsOfDay: (restaurantId: number, day: string, status: string | null, clientId: number | null) =>
      one(
        `select json_build_object('reservations', coalesce((
                  select json_agg(${legacyReservation('x')} order by x.starts_at, x.id)
                  from (select * from booking.reservations x
                        where x.restaurant_id = r.id
                          and x.starts_at >= $2::date::timestamp at time zone r.timezone
                          and x.starts_at < ($2::date + 1)::timestamp at time zone r.timezone
                          and ($3::text is null or x.status = $3)
                          and ($4::bigint is null or x.client_id = $4)
                        order by x.starts_at, x.id
                        limit ${MAX_LISTED}) x), '[]')) as data
         from booking.restaurants r
         where r.id = $1`,
        [restaurantId, day, status, clientId],
      ),

    history: (restaurantId: number, id: number) =>
      one(
        // The latest events, oldest first; channel and actor are whatever a DBA's session set, so
        // they are cut to the contract's bounds.
        `select json_build_object('events', coalesce((
                  select json_agg(json_build_object(
                    'id', e.id, 'reservation_id', e.reservation_id, 'at', e.at, 'action', e.action,
                    'old_status', e.old_status, 'new_status', e.new_status, 'old_starts_at', e.old_starts_at,
                    'new_starts_at', e.new_starts_at, 'old_table_id', e.old_table_id, 'new_table_id', e.new_table_id,
                    'old_guests', e.old_guests, 'new_guests', e.new_guests, 'channel', left(e.channel, 64), 'actor', left(e.actor, 100))
                    order by e.at, e.id)
                  from (select * from booking.reservation_events e
                        where e.restaurant_id = r.restaurant_id and e.reservation_id = r.id
                        order by e.at desc, e.id desc
                        limit ${MAX_LISTED}) e), '[]')) as data
         from booking.reservations r
         where r.restaurant_id = $1 and r.id = $2`,
        [restaurantId, id],
      ),

    // Keyset pagination on id: stable while guests are added, and one index range per page.
    clientsPage: (restaurantId: number, search: string | null, limit: number, after: number | null) =>
      one(
        `with p as (select '%' || replace(replace(replace($2::text, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%' as pattern),
         page as (
           select c.* from booking.clients c, p
           where c.restaurant_id = $1
             and ($3::bigint is null or c.id > $3)
             and ($2::text is null or c.email ilike p.pattern or c.name ilike p.pattern or c.phone ilike p.pattern)
           order by c.id
           limit $4::int + 1
         ),
         shown as (select * from page order by id limit $4::int)
         select json_build_object(
           'clients', coalesce((select json_agg(${clientJson('shown')} order by shown.id) from shown), '[]'),
           'next_cursor', case when (select count(*) from page) > $4::int then (select max(id) from shown)::text end) as data
         where exists (select 1 from booking.restaurants where id = $1)`,
        [restaurantId, search, after, limit],
      ),

    client: (restaurantId: number, id: number) =>
      one(`select ${clientJson('c')} as data from booking.clients c where c.restaurant_id = $1 and c.id = $2`, [restaurantId, id]),

    clientReservations: (restaurantId: number, id: number) =>
      one(
        `select json_build_object('reservations', coalesce((
                  select json_agg(${legacyReservation('x')} order by x.starts_at desc, x.id desc)
                  from (select * from booking.reservations x
                        where x.restaurant_id = c.restaurant_id and x.client_id = c.id
                        order by x.starts_at desc, x.id desc
                        limit ${MAX_LISTED}) x), '[]')) as data
         from booking.clients c
         where c.restaurant_id = $1 and c.id = $2`,
        [restaurantId, id],
      ),

    createClient: async (actor: Actor, restaurantId: number, c: { email: string; name?: string; phone?: string; notes?: string }) =>
      change(actor, 'create_client', [
        restaurantId,
        c.email,
        c.name ?? null,
        c.phone ?? null,
        c.notes ?? null,
      ], clientAs),

    updateClient: async (actor: Actor, restaurantId: number, id: number, c: { email?: string; name?: string; phone?: string; notes?: string }) =>
      change(actor, 'update_client', [
        restaurantId,
        id,
        c.email ?? null,
        c.name ?? null,
        c.phone ?? null,
        c.notes ?? null,
      ], clientAs),

    deleteClient: async (actor: Actor, restaurantId: number, id: number) =>
      (await db.call<{ outcome: string }>(actor, 'delete_client', [restaurantId, id], (called) => `select delete_client as outcome from ${called}`)).outcome,

    rpcBookTable: async (
      actor: Actor,
      a: {
        restaurant_id: number;
        starts_at: string;
        guests: number;
        client_id?: number | null;
        table_id?: number | null;
        notes?: string | null;
        combination_id?: number | null;
        area?: string | null;
      },
      idempotencyKey: string | null,
    ) =>
      change(actor, 'book_table', [
        a.restaurant_id,
        a.starts_at,
        a.guests,
        a.client_id ?? null,
        a.table_id ?? null,
        idempotencyKey,
        a.notes ?? null,
        a.combination_id ?? null,
        a.area ?? null,
      ], reservationAs(rpcReservation)),

    rpcUpsertClient: async (actor: Actor, a: { restaurant_id: number; email: string; name?: string | null; phone?: string | null }) =>
      change(actor, 'upsert_client', [
        a.restaurant_id,
        a.email,
        a.name ?? null,
        a.phone ?? null,
      ], clientAs),

    rpcCancelReservation: async (actor: Actor, a: { restaurant_id: number; reservation_id: number }) =>
      change(actor, 'cancel_reservation', [a.restaurant_id, a.reservation_id], reservationAs(rpcReservation)),

    rpcRescheduleReservation: async (
      actor: Actor,
      a: {
        restaurant_id: number;
        reservation_id: number;
        starts_at?: string | null;
        guests?: number | null;
        table_id?: number | null;
        combination_id?: number | null;
        area?: string | null;
      },
    ) =>
      change(
        actor,
        'reschedule_reservation',
        [a.restaurant_id, a.reservation_id, a.starts_at ?? null, a.guests ?? null, a.table_id ?? null, a.combination_id ?? null, a.area ?? null],
        reservationAs(rpcReservation),
      ),

    rpcHoldTable: async (
      actor: Actor,
      a: {
        restaurant_id: number;
        starts_at: string;
        guests: number;
        hold_minutes?: number;
        table_id?: number | null;
        area?: string | null;
      },
      idempotencyKey: string | null,
    ) =>
      change(actor, 'hold_table', [
        a.restaurant_id,
        a.starts_at,
        a.guests,
        a.hold_minutes ?? DEFAULT_HOLD_MINUTES,
        a.table_id ?? null,
        a.area ?? null,
        idempotencyKey,
      ], reservationAs(rpcReservation)),

    rpcConfirmHold: async (actor: Actor, a: { restaurant_id: number; reservation_id: number; client_id?: number | null; notes?: string | null }) =>
      change(actor, 'confirm_hold', [a.restaurant_id, a.reservation_id, a.client_id ?? null, a.notes ?? null], reservationAs(rpcReservation)),

    rpcReleaseHold: async (actor: Actor, a: { restaurant_id: number; reservation_id: number }) =>
      change(actor, 'release_hold', [a.restaurant_id, a.reservation_id], reservationAs(rpcReservation)),

    joinWaitlist: async (actor: Actor, restaurantId: number, w: WaitlistRequest) => join(actor, restaurantId, w, legacyEntryAs),

    leaveWaitlist: async (actor: Actor, restaurantId: number, id: number) => change(actor, 'leave_waitlist', [restaurantId, id], legacyEntryAs),

    waitlistEntry: (restaurantId: number, id: number) =>
      one(`select json_build_object('entry', ${entryJson('w')}) as data from booking.waitlist w where w.restaurant_id = $1 and w.id = $2`, [restaurantId, id]),

    waitlist: (restaurantId: number, status: string | null) =>
      one(
        // The latest entries, in queue order (oldest first, the order offers are made in).
        `select json_build_object('entries', coalesce((
                  select json_agg(${entryJson('w')} order by w.created_at, w.id)
                  from (select * from booking.waitlist w
                        where w.restaurant_id = r.id and ($2::text is null or w.status = $2)
                        order by w.created_at desc, w.id desc
                        limit ${MAX_LISTED}) w), '[]')) as data
         from booking.restaurants r
         where r.id = $1`,
        [restaurantId, status],
      ),

    rpcJoinWaitlist: async (actor: Actor, a: { restaurant_id: number } & WaitlistRequest) => join(actor, a.restaurant_id, a, entryAs),

    rpcLeaveWaitlist: async (actor: Actor, a: { restaurant_id: number; waitlist_id: number }) =>
      change(actor, 'leave_waitlist', [a.restaurant_id, a.waitlist_id], entryAs),
    ...webhookQueries(db),

    async appliedMigrations(): Promise<string[]> {
      const rows = await db.read<{ filename: string }>('select filename from graphile_migrate.migrations order by filename', []);
      return rows.map((row) => row.filename);
    },
  };
}

export type Queries = ReturnType<typeof queries>;
