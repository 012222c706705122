// The SQL defects `npm run mutate:sql` plants, one at a time, on top of the migrated template:
// each a mistake a plausible change to db/migrations could make. An edit rewrites the live
// definition of one function (found by its signature), replacing text that must occur exactly
// once, so a defect whose target has changed fails loudly instead of planting nothing.

export interface FunctionEdit {
  fn: string;
  from: string;
  to: string;
}

export interface Defect {
  name: string;
  /** Run in order on the template: an ALTER statement, or a rewrite of a function. */
  steps: Array<string | FunctionEdit>;
  /** HTTP test files that should catch it too, beside the SQL suite. */
  http?: string[];
}

const seat = 'booking_private.seat(booking.reservations, booking.restaurants, text, bigint, bigint, bigint, bigint)';
const counts = 'booking.available_table_counts(bigint, date, integer, text)';
const candidates = 'booking_private.seating_candidates(bigint, integer, text, bigint[], bigint[], bigint[], bigint, bigint, bigint, bigint)';
const place = 'booking_private.place(bigint, timestamptz, integer, bigint, bigint, text, text, bigint, text, integer)';

export const defects: Defect[] = [
  {
    name: 'no exclusion constraint',
    steps: ['alter table booking.reservation_tables drop constraint reservation_tables_no_overlap'],
    http: ['test/api/race-proof.test.ts'],
  },
  {
    name: 'no buffer after a stay',
    steps: [
      { fn: 'booking_private.reservation_defaults()', from: 'new.ends_at + make_interval(mins => v_restaurant.buffer_minutes)', to: 'new.ends_at' },
      { fn: seat, from: 'p_row.ends_at + make_interval(mins => p_restaurant.buffer_minutes)', to: 'p_row.ends_at' },
      { fn: counts, from: 'v_block := v_stay + make_interval(mins => v_restaurant.buffer_minutes);', to: 'v_block := v_stay;' },
    ],
  },
  {
    name: 'book_table picks the largest table',
    steps: [{ fn: candidates, from: 'x.kind, x.capacity, x.size', to: 'x.kind, x.capacity desc, x.size' }],
  },
  {
    name: 'no retry after a lost lock race',
    steps: [{ fn: seat, from: 'if v_skipped then\n      v_wait := true;\n    end if;', to: 'exit when v_skipped;' }],
    http: ['test/api/race-proof.test.ts'],
  },
  {
    name: 'no retry after a lost insert race (23P01 escapes)',
    steps: [{ fn: seat, from: 'when exclusion_violation then\n', to: 'when exclusion_violation then\n          raise;\n' }],
    http: ['test/api/race-proof.test.ts'],
  },
  {
    name: 'case-sensitive e-mail upsert',
    steps: [
      'drop index booking.clients_restaurant_email_key',
      'create unique index clients_restaurant_email_key on booking.clients (restaurant_id, email)',
      { fn: 'booking.upsert_client(bigint, text, text, text)', from: 'on conflict (restaurant_id, lower(email))', to: 'on conflict (restaurant_id, email)' },
    ],
  },
  {
    // Without ICU's root collation, lower() folds only ASCII in a C-locale database: Ü stays Ü.
    name: 'e-mail case folded for ASCII only',
    steps: ['alter table booking.clients alter column email type booking.email collate "C"'],
  },
  {
    name: 'a replay books again',
    steps: [
      'alter table booking.reservations drop constraint reservations_idempotency_key',
      { fn: place, from: 'if found then\n      return booking_private.replay(v_row, v_fingerprint);\n    end if;', to: '' },
    ],
  },
  {
    name: 'a replay ignores changed arguments',
    steps: [{ fn: 'booking_private.replay(booking.reservations, text)', from: 'if p_row.request_fingerprint is distinct from p_fingerprint then', to: 'if false then' }],
  },
  {
    name: "tenancy: another restaurant's client",
    steps: [{ fn: 'booking_private.check_client(bigint, bigint)', from: 'c.restaurant_id = p_restaurant_id and ', to: '' }],
    http: ['test/api/tenancy.test.ts'],
  },
  {
    name: "tenancy: another restaurant's table",
    steps: [{ fn: 'booking_private.check_table(bigint, bigint, integer)', from: 't.restaurant_id = p_restaurant_id and ', to: '' }],
    http: ['test/api/tenancy.test.ts'],
  },
  {
    name: "tenancy: another restaurant's reservation",
    steps: [{ fn: 'booking_private.reservation_for_update(bigint, bigint)', from: 'r.restaurant_id = p_restaurant_id and ', to: '' }],
    http: ['test/api/tenancy.test.ts'],
  },
  {
    name: 'counted slots start one minute late',
    steps: [{ fn: counts, from: 'tstzrange(s.slot, s.slot + v_block)', to: "tstzrange(s.slot + interval '1 minute', s.slot + v_block)" }],
  },
  {
    name: 'counts include inactive tables',
    steps: [{ fn: counts, from: 'where t.restaurant_id = v_restaurant.id and t.active\n', to: 'where t.restaurant_id = v_restaurant.id\n' }],
  },
  {
    name: 'book_table seats at inactive tables',
    steps: [{ fn: candidates, from: 'where t.restaurant_id = p_restaurant_id and t.active and', to: 'where t.restaurant_id = p_restaurant_id and' }],
  },
  {
    name: 'counts ignore DST (the offset at midnight all day)',
    steps: [
      {
        fn: counts,
        from: 'p.opens_at + make_interval',
        to: "(p.day::timestamp at time zone v_restaurant.timezone) + (p.opens - time '00:00') + make_interval",
      },
    ],
  },
];
