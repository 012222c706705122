// What the clients of a load run were told: every booking acknowledged (201), where it was moved
// by an acknowledged reschedule, which ones were cancelled, every hold acknowledged and how it
// ended for the client (confirmed, released, refused as lapsed, or left to lapse), the waitlist
// entries it was given, and how many writes got no answer at all (their outcome is unknown to the
// client). `npm run load:verify` compares it with the rows.
//
// A confirmed hold is an acknowledged booking (the 200 of its confirmation carries the table and
// time it keeps), recorded among the bookings too, so every booking check covers it. Waitlist
// offers are holds the database makes by itself: no client booked them, so they are not here.

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

/** How a hold ended, as far as its client knows. */
export type HoldEnd = 'confirmed' | 'released' | 'expired';

export interface AcknowledgedHold {
  id: string;
  restaurantId: string;
  tableId: string;
  startsAt: string;
  idempotencyKey: string;
  /** hold_expires_at of the 201 (the database's clock). */
  holdExpiresAt: string;
  /** What the client meant to do with it (scenario `holds.outcomes`). */
  intent: 'confirm' | 'release' | 'lapse';
  /**
   * What the client was told it became: confirmed (200 on confirm), released (200 on release:
   * the status of its answer), expired (409 hold_expired on confirm, or a hold left to lapse,
   * which must be expired once its hold_expires_at has passed and the sweep ran), or what a 409
   * not_held said it was. Null while only the 201 is known.
   */
  end: HoldEnd | null;
  /** The confirmation or release got no answer: it may or may not have happened. */
  uncertain: boolean;
}

export interface AcknowledgedWaitlistEntry {
  id: string;
  restaurantId: string;
  /** The status of the 201: waiting, or offered (reservationId is then the offered hold). */
  status: string;
  reservationId: string | null;
}

export interface LedgerData {
  bookings: AcknowledgedBooking[];
  /** Holds acknowledged with 201 (absent in records of runs before holds). */
  holds?: AcknowledgedHold[];
  /** Waitlist entries acknowledged with 201. */
  waitlist?: AcknowledgedWaitlistEntry[];
  /** Holds sent that got no response: such a row may exist, held, and lapses by itself. */
  unansweredHolds?: number;
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
  status?: string;
  holdExpiresAt?: string;
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
    const view: ReservationView = { id: String(id), tableId: String(tableId), startsAt: new Date(startsAt).toISOString() };
    if (typeof reservation.status === 'string') view.status = reservation.status;
    if (typeof reservation.hold_expires_at === 'string') view.holdExpiresAt = new Date(reservation.hold_expires_at).toISOString();
    return view;
  } catch {
    return null;
  }
}

/** The `details` of a legacy error body (`{success: false, error: {details}}`). */
function errorDetails(body: string): Record<string, unknown> | null {
  try {
    const parsed = JSON.parse(body) as { error?: { details?: Record<string, unknown> } };
    return parsed.error?.details ?? null;
  } catch {
    return null;
  }
}

export class Ledger {
  private readonly bookings = new Map<string, AcknowledgedBooking>();
  private readonly holds = new Map<string, AcknowledgedHold>();
  private readonly waitlist: AcknowledgedWaitlistEntry[] = [];
  unansweredBookings = 0;
  unansweredHolds = 0;
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
    const booking = { id: view.id, tableId: view.tableId, startsAt: view.startsAt, restaurantId, idempotencyKey, cancelled: false, uncertain: false };
    this.bookings.set(view.id, booking);
    return booking;
  }

  /** Records a hold's answer (201: held until hold_expires_at). Unanswered holds are only counted: nobody replays them. */
  held(restaurantId: string, idempotencyKey: string, status: number, body: string, intent: AcknowledgedHold['intent']): AcknowledgedHold | null {
    this.status(status);
    if (status === 0) this.unansweredHolds += 1;
    if (status !== 201) return null;
    const view = reservationFromBody(body);
    if (!view?.holdExpiresAt) {
      this.unreadable += 1;
      return null;
    }
    const existing = this.holds.get(view.id);
    if (existing) return existing;
    const hold: AcknowledgedHold = {
      id: view.id,
      tableId: view.tableId,
      startsAt: view.startsAt,
      holdExpiresAt: view.holdExpiresAt,
      restaurantId,
      idempotencyKey,
      intent,
      end: intent === 'lapse' ? 'expired' : null,
      uncertain: false,
    };
    this.holds.set(view.id, hold);
    return hold;
  }

  /**
   * Records a confirmation's answer. 200: the hold is an acknowledged booking at the table and
   * time of the answer (returned, to cancel or reschedule later). 409 hold_expired: it lapsed,
   * nothing was booked. Another 409 (not_held) says what the hold is instead.
   */
  confirmed(id: string, status: number, body: string): AcknowledgedBooking | null {
    this.status(status);
    const hold = this.holds.get(id);
    if (!hold) return null;
    if (status === 200) {
      const view = reservationFromBody(body);
      if (!view) {
        this.unreadable += 1;
        hold.uncertain = true;
        return null;
      }
      hold.end = 'confirmed';
      const booking: AcknowledgedBooking = {
        id: view.id,
        tableId: view.tableId,
        startsAt: view.startsAt,
        restaurantId: hold.restaurantId,
        idempotencyKey: hold.idempotencyKey,
        cancelled: false,
        uncertain: false,
      };
      this.bookings.set(view.id, booking);
      return booking;
    }
    if (status === 409) {
      const details = errorDetails(body);
      if (details?.reason === 'hold_expired') hold.end = 'expired';
      else if (details?.status === 'released' || details?.status === 'expired') hold.end = details.status;
      else hold.uncertain = true;
    } else {
      hold.uncertain = true; // no answer, a 5xx, or a status no confirmation should get
    }
    return null;
  }

  /** Records a release's answer: 200 carries what the hold is now (released, or expired when it had lapsed). */
  released(id: string, status: number, body: string): void {
    this.status(status);
    const hold = this.holds.get(id);
    if (!hold) return;
    const told = status === 200 ? reservationFromBody(body)?.status : undefined;
    if (told === 'released' || told === 'expired') hold.end = told;
    else hold.uncertain = true;
  }

  /** Records a waitlist join's answer (201 `{entry}`). */
  waited(restaurantId: string, status: number, body: string): AcknowledgedWaitlistEntry | null {
    this.status(status);
    if (status !== 201) return null;
    try {
      const parsed = JSON.parse(body) as { data?: { entry?: Record<string, unknown> } };
      const entry = parsed.data?.entry;
      if (entry?.id == null || typeof entry.status !== 'string') throw new Error('no entry');
      const acknowledged = {
        id: String(entry.id),
        restaurantId,
        status: entry.status,
        reservationId: entry.reservation_id == null ? null : String(entry.reservation_id),
      };
      this.waitlist.push(acknowledged);
      return acknowledged;
    } catch {
      this.unreadable += 1;
      return null;
    }
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

  allHolds(): AcknowledgedHold[] {
    return [...this.holds.values()];
  }

  data(): LedgerData {
    return {
      bookings: this.all(),
      holds: this.allHolds(),
      waitlist: [...this.waitlist],
      unansweredHolds: this.unansweredHolds,
      unansweredBookings: this.unansweredBookings,
      unanswered: [...this.unanswered],
      serverErrors: { ...this.serverErrors },
    };
  }
}
