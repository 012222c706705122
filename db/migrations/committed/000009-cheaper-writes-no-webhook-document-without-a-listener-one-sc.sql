--! Previous: sha1:91eba3f209bdcd11b7b9c9199ef1987ce86bdad7
--! Hash: sha1:ee76bc70d433c2eea5fcfecb3f8f495c45f9ecc3
--! Message: Cheaper writes: no webhook document without a listener; one scan for held and lapsed tables

-- Cheaper writes: the webhook triggers build no document for a restaurant nobody listens to
-- (most of them), and seating reads the held tables and the lapsed holds in one scan.

create or replace function booking_private.reservation_webhook_event() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
declare
  v_type text;
begin
  -- Most restaurants have no endpoint: then the document is not even built.
  if not exists (select 1 from booking.webhook_endpoints e where e.restaurant_id = new.restaurant_id and e.disabled_at is null) then
    return null;
  end if;
  if tg_op = 'INSERT' then
    v_type := case new.status when 'held' then 'hold.created' else 'reservation.created' end;
  elsif new.status is distinct from old.status then
    v_type := case
      -- A confirmed hold is a new booking for whoever keeps the book; a released one is nothing.
      when old.status = 'held' and new.status = 'confirmed' then 'reservation.created'
      when new.status = 'expired' then 'hold.expired'
      when new.status = 'released' then null
      when new.status = 'cancelled' then 'reservation.cancelled'
      else 'reservation.status_changed' end;
  elsif new.status <> 'held'
        and (new.starts_at, new.ends_at, new.table_id, new.combination_id, new.guests, new.notes, new.client_id)
            is distinct from (old.starts_at, old.ends_at, old.table_id, old.combination_id, old.guests, old.notes, old.client_id) then
    v_type := 'reservation.updated';
  end if;
  if v_type is not null then
    perform booking_private.emit_event(new.restaurant_id, v_type, booking.reservation_document(new));
  end if;
  return null;
end;
$$;

create or replace function booking_private.waitlist_webhook_event() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
begin
  if new.status = 'offered' and (tg_op = 'INSERT' or old.status <> 'offered' or old.reservation_id is distinct from new.reservation_id)
     and exists (select 1 from booking.webhook_endpoints e where e.restaurant_id = new.restaurant_id and e.disabled_at is null) then
    perform booking_private.emit_event(new.restaurant_id, 'waitlist.offered', booking.waitlist_document(new));
  end if;
  return null;
end;
$$;

create or replace function booking_private.seat(
  p_row booking.reservations, p_restaurant booking.restaurants, p_area text,
  p_only_table bigint, p_only_combination bigint, p_prefer_table bigint, p_prefer_combination bigint
) returns booking.reservations
  language plpgsql volatile
  as $$
declare
  v_during tstzrange := tstzrange(p_row.starts_at, p_row.ends_at + make_interval(mins => p_restaurant.buffer_minutes), '[)');
  -- Local starts lie on the slot grid, and every zone's offset is a multiple of 15 minutes.
  v_bucket integer := gcd(p_restaurant.slot_minutes, 15);
  v_busy bigint[];
  v_lapsed bigint[];
  v_tried_tables bigint[] := '{}';
  v_tried_combinations bigint[] := '{}';
  v_wait boolean := false;
  v_skipped boolean;
  v_seen boolean;
  v_deadlocks integer := 0;
  v_gated boolean := false;
  v_candidate record;
  v_row booking.reservations;
begin
  loop
    -- The tables held at that time, read once (one index range scan) rather than probed table
    -- by table: on a busy evening most tables are taken and probing costs a scan each.
    -- Lapsed holds in the same scan: they block nothing, but must be marked expired before
    -- their tables are taken.
    select coalesce(array_agg(rt.table_id) filter (where rt.hold_expires_at is null or rt.hold_expires_at > now()), '{}'),
           coalesce(array_agg(rt.table_id) filter (where rt.hold_expires_at <= now()), '{}')
      into v_busy, v_lapsed
      from booking.reservation_tables rt
      where rt.restaurant_id = p_row.restaurant_id and rt.active and rt.during && v_during
        and rt.reservation_id is distinct from p_row.id;
    v_skipped := false;
    v_seen := false;
    for v_candidate in
      select * from booking_private.seating_candidates(p_row.restaurant_id, p_row.guests, p_area, v_busy, v_tried_tables, v_tried_combinations,
                                                       p_only_table, p_only_combination, p_prefer_table, p_prefer_combination)
    loop
      v_seen := true;
      if v_candidate.combination_id is not null and not v_gated then
        -- Bookers of combinations at one start take turns: each takes all its tables or none
        -- before the next looks, so racers seat as many parties as one after another would
        -- (two racers each holding part of one combination's tables could both give it up and
        -- split its neighbours instead). Single tables never wait here.
        perform pg_advisory_xact_lock(hashtextextended(format('nora.combinations %s %s', p_row.restaurant_id, extract(epoch from p_row.starts_at)), 0));
        v_gated := true;
      end if;
      begin
        perform booking_private.lock_tables(v_candidate.tables, v_during, v_bucket, v_wait);
        -- A lapsed hold on these tables blocks nothing any more: mark it expired, so the
        -- exclusion rule (which cannot see the clock) lets this booking in.
        if v_candidate.tables && v_lapsed then
          perform booking_private.expire_holds_on(p_row.restaurant_id, v_candidate.tables, v_during);
        end if;
        if p_row.id is null then
          insert into booking.reservations (restaurant_id, table_id, combination_id, client_id, starts_at, ends_at, guests,
                                            status, hold_expires_at, idempotency_key, request_fingerprint, notes)
            values (p_row.restaurant_id, v_candidate.tables[1], v_candidate.combination_id, p_row.client_id, p_row.starts_at, p_row.ends_at,
                    p_row.guests, coalesce(p_row.status, 'confirmed'), p_row.hold_expires_at,
                    p_row.idempotency_key, p_row.request_fingerprint, p_row.notes)
            returning * into v_row;
        else
          update booking.reservations r
            set starts_at = p_row.starts_at, ends_at = p_row.ends_at, guests = p_row.guests,
                table_id = v_candidate.tables[1], combination_id = v_candidate.combination_id
            where r.id = p_row.id
            returning * into v_row;
        end if;
        return v_row;
      exception
        -- Another booker of an overlapping time is taking it: try the next one.
        when lock_not_available then
          v_skipped := true;
        -- Another booker took a table first (committed): try the next one.
        when exclusion_violation then
          if v_candidate.combination_id is null then
            v_tried_tables := v_tried_tables || v_candidate.tables[1];
          else
            v_tried_combinations := v_tried_combinations || v_candidate.combination_id;
          end if;
        when deadlock_detected then
          v_deadlocks := v_deadlocks + 1;
          if v_deadlocks > 5 then
            raise;
          end if;
      end;
    end loop;
    exit when not v_seen;
    -- Every free table was being taken by other bookers of overlapping times: now wait for them, so
    -- that nobody is refused while a table may still turn out free.
    if v_skipped then
      v_wait := true;
    end if;
  end loop;
  return null;
end;
$$;
