// What the clients of a load run were told: every booking acknowledged (201), where it was moved
// by an acknowledged reschedule, which ones were cancelled, and how many writes got no answer at
// all (their outcome is unknown to the client). `npm run load:verify` compares it with the rows.

export interface AcknowledgedBooking {
  id: string;
  restaurantId: string;
  tableId: string;
  startsAt: string;
  idempotencyKey: string;
  cancelled: boolean;
  /** A later reschedule or cancel of it got no answer: its table, time or status are not known. */
  uncertain: boolean;
}

export interface LedgerData {
  bookings: AcknowledgedBooking[];
  /** Bookings sent that got no response (they may or may not exist). */
  unansweredBookings: number;
  /** Those of them whose request is known, so a client can replay its Idempotency-Key. */
  unanswered: UnansweredBooking[];
  /** Responses with a 5xx status, by status. */
  serverErrors: Record<string, number>;
}

export interface UnansweredBooking {
  restaurantId: string;
  idempotencyKey: string;
  body: unknown;
}

interface ReservationView {
  id: string;
  tableId: string;
  startsAt: string;
}

/** Reads the reservation out of a legacy `{success, data: {reservation, table}}` body. */
export function reservationFromBody(body: string): ReservationView | null {
  try {
    const parsed = JSON.parse(body) as { data?: Record<string, unknown> };
    const data = parsed.data ?? (parsed as Record<string, unknown>);
    const reservation = (data.reservation ?? data) as Record<string, unknown>;
    const table = data.table as Record<string, unknown> | undefined;
    const id = reservation.id;
    const tableId = reservation.table_id ?? reservation.tableId ?? table?.id;
    const startsAt = reservation.starts_at ?? reservation.startsAt ?? reservation.date;
    if (id == null || tableId == null || typeof startsAt !== 'string') return null;
    return { id: String(id), tableId: String(tableId), startsAt: new Date(startsAt).toISOString() };
  } catch {
    return null;
  }
}

export class Ledger {
  private readonly bookings = new Map<string, AcknowledgedBooking>();
  unansweredBookings = 0;
  readonly unanswered: UnansweredBooking[] = [];
  readonly serverErrors: Record<string, number> = {};
  /** Responses we could not read a reservation from although the status said success. */
  unreadable = 0;

  status(status: number): void {
    if (status >= 500) this.serverErrors[status] = (this.serverErrors[status] ?? 0) + 1;
  }

  /** Records a booking's answer; `request` is its body, kept when no answer came (for a replay). */
  booked(restaurantId: string, idempotencyKey: string, status: number, body: string, request?: unknown): AcknowledgedBooking | null {
    this.status(status);
    if (status === 0) {
      this.unansweredBookings += 1;
      if (request !== undefined) this.unanswered.push({ restaurantId, idempotencyKey, body: request });
    }
    if (status !== 201 && status !== 200) return null;
    const view = reservationFromBody(body);
    if (!view) {
      this.unreadable += 1;
      return null;
    }
    const existing = this.bookings.get(view.id);
    if (existing) return existing; // an idempotent replay of one we already know
    const booking = { ...view, restaurantId, idempotencyKey, cancelled: false, uncertain: false };
    this.bookings.set(view.id, booking);
    return booking;
  }

  cancelled(id: string, status: number): void {
    this.status(status);
    const booking = this.bookings.get(id);
    if (!booking) return;
    if (status === 200) booking.cancelled = true;
    else if (status === 0 || status >= 500) booking.uncertain = true;
  }

  rescheduled(id: string, status: number, body: string): void {
    this.status(status);
    const booking = this.bookings.get(id);
    if (!booking) return;
    if (status === 200) {
      const view = reservationFromBody(body);
      if (view) {
        booking.tableId = view.tableId;
        booking.startsAt = view.startsAt;
      } else {
        this.unreadable += 1;
        booking.uncertain = true;
      }
    } else if (status === 0 || status >= 500) {
      booking.uncertain = true;
    }
  }

  active(restaurantId?: string): AcknowledgedBooking[] {
    return [...this.bookings.values()].filter((b) => !b.cancelled && (!restaurantId || b.restaurantId === restaurantId));
  }

  all(): AcknowledgedBooking[] {
    return [...this.bookings.values()];
  }

  data(): LedgerData {
    return {
      bookings: this.all(),
      unansweredBookings: this.unansweredBookings,
      unanswered: [...this.unanswered],
      serverErrors: { ...this.serverErrors },
    };
  }
}
