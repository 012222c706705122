// Calling the SQL API the way a DBA would, and reading its refusals.
import type pg from 'pg';

export interface Refusal {
  code: string;
  message: string;
  reason?: string;
  detail?: Record<string, unknown>;
  hint?: string;
}

/** The refusal a statement raises; fails the test when it succeeds instead. */
export async function refusal(work: Promise<unknown>): Promise<Refusal> {
  try {
    await work;
  } catch (error) {
    const e = error as pg.DatabaseError;
    let detail: Record<string, unknown> | undefined;
    try {
      detail = e.detail ? (JSON.parse(e.detail) as Record<string, unknown>) : undefined;
    } catch {
      detail = undefined;
    }
    return { code: e.code ?? 'none', message: e.message, reason: detail?.reason as string | undefined, detail, hint: e.hint };
  }
  throw new Error('expected the statement to be refused, but it succeeded');
}

export interface Booking {
  id: string;
  table_id: string;
  combination_id: string | null;
  starts_at: Date;
  ends_at: Date;
  guests: number;
  status: string;
  client_id: string | null;
  updated_at: Date;
}

export async function book(
  pool: pg.Pool | pg.PoolClient,
  args: {
    restaurantId: string;
    startsAt: string;
    guests: number;
    clientId?: string;
    tableId?: string;
    key?: string;
    notes?: string;
    combinationId?: string;
    area?: string;
  },
): Promise<Booking> {
  const { rows } = await pool.query<Booking>(
    `select * from booking.book_table(restaurant_id => $1, starts_at => $2, guests => $3, client_id => $4,
                                      table_id => $5, idempotency_key => $6, notes => $7, combination_id => $8, area => $9)`,
    [
      args.restaurantId,
      args.startsAt,
      args.guests,
      args.clientId ?? null,
      args.tableId ?? null,
      args.key ?? null,
      args.notes ?? null,
      args.combinationId ?? null,
      args.area ?? null,
    ],
  );
  return rows[0]!;
}
