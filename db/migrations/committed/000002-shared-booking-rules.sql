--! Previous: sha1:e7d9ddbe57bad9da55291a190a871fdae07993a5
--! Hash: sha1:ead0bfeadb93220d97420b469158d16678e04f20
--! Message: Shared booking rules

-- Booking rules shared by every function: refusals with a stable SQLSTATE, stay length,
-- service periods, the bookability check and the table picker.

create function booking_private.refuse(p_code text, p_message text, p_detail jsonb, p_hint text default null) returns void
  language plpgsql volatile
  as $$
begin
  raise exception using errcode = p_code, message = p_message, detail = p_detail::text, hint = coalesce(p_hint, '');
end;
$$;
comment on function booking_private.refuse(text, text, jsonb, text) is 'Raises a refusal: SQLSTATE p_code (PTnnn maps to HTTP nnn), a human message, a JSON detail whose "reason" is a stable machine-readable word, and a hint saying what to do next.';

create function booking_private.check_party(p_guests integer) returns void
  language plpgsql immutable
  as $$
begin
  if p_guests is null or p_guests < 1 or p_guests > 20 then
    perform booking_private.refuse('22023', format('guests must be between 1 and 20 (got %s).', coalesce(p_guests::text, 'null')),
      jsonb_build_object('reason', 'invalid_guests', 'field', 'guests'), 'Ask how many people will come, between 1 and 20.');
  end if;
end;
$$;
comment on function booking_private.check_party(integer) is 'Refuses a party size outside 1..20 with 22023 (invalid_parameter_value).';

create function booking_private.restaurant(p_restaurant_id bigint) returns booking.restaurants
  language plpgsql stable
  as $$
declare
  v_restaurant booking.restaurants;
begin
  select * into v_restaurant from booking.restaurants where id = p_restaurant_id;
  if not found then
    perform booking_private.refuse('PT404', format('Restaurant %s not found.', coalesce(p_restaurant_id::text, 'null')),
      jsonb_build_object('reason', 'restaurant_not_found'));
  end if;
  return v_restaurant;
end;
$$;
comment on function booking_private.restaurant(bigint) is 'The restaurant row, or PT404 restaurant_not_found.';

create function booking_private.stay_minutes(p_restaurant booking.restaurants, p_guests integer) returns integer
  language sql stable
  as $$
  select coalesce(
    (select tt.minutes from booking.turn_times tt
      where tt.restaurant_id = p_restaurant.id and tt.max_guests >= p_guests
      order by tt.max_guests limit 1),
    p_restaurant.reservation_minutes)
$$;
comment on function booking_private.stay_minutes(booking.restaurants, integer) is 'How long a party of p_guests stays: the turn_times row with the smallest max_guests >= p_guests, else reservation_minutes.';

create function booking_private.service_periods(p_restaurant booking.restaurants, p_first date, p_last date)
  returns table (day date, opens time, opens_at timestamptz, closes_at timestamptz, closure text)
  language sql stable
  as $$
  select d::date,
         oh.opens,
         (d::date + oh.opens) at time zone p_restaurant.timezone,
         (d::date + oh.closes + case when oh.closes <= oh.opens then interval '1 day' else interval '0' end) at time zone p_restaurant.timezone,
         (select coalesce(c.reason, 'closed') from booking.closures c where c.restaurant_id = p_restaurant.id and c.day = d::date)
  from generate_series(p_first, p_last, interval '1 day') d
  join booking.opening_hours oh on oh.restaurant_id = p_restaurant.id and oh.weekday = extract(isodow from d)
$$;
comment on function booking_private.service_periods(booking.restaurants, date, date) is 'Service periods opening on the local days p_first..p_last as real instants (a period past midnight closes the next day); closure is the closure reason when that day is closed, else null.';

create function booking_private.assert_bookable(p_restaurant booking.restaurants, p_starts_at timestamptz, p_guests integer, p_minutes integer)
  returns date
  language plpgsql stable
  as $$
declare
  v_local timestamp := p_starts_at at time zone p_restaurant.timezone;
  v_period record;
  v_largest integer;
begin
  if p_starts_at is null then
    perform booking_private.refuse('22023', 'starts_at is required.', jsonb_build_object('reason', 'invalid_starts_at', 'field', 'starts_at'));
  end if;
  if p_guests > p_restaurant.max_guests then
    perform booking_private.refuse('PT422', format('This restaurant takes parties of at most %s.', p_restaurant.max_guests),
      jsonb_build_object('reason', 'party_too_large', 'max_guests', p_restaurant.max_guests),
      'Suggest splitting the party or calling the restaurant.');
  end if;
  select max(t.capacity) into v_largest from booking.tables t
    where t.restaurant_id = p_restaurant.id and t.active and t.min_guests <= p_guests;
  if v_largest is null or v_largest < p_guests then
    perform booking_private.refuse('PT422', format('No table here seats a party of %s.', p_guests),
      jsonb_build_object('reason', 'no_table_fits', 'largest_table', v_largest),
      'Suggest splitting the party or calling the restaurant.');
  end if;
  if p_starts_at < now() then
    perform booking_private.refuse('PT422', 'That time is in the past.', jsonb_build_object('reason', 'in_past'),
      'Ask for a time later than now.');
  end if;
  if p_starts_at > now() + make_interval(days => p_restaurant.booking_horizon_days) then
    perform booking_private.refuse('PT422', format('Bookings open %s days ahead at most.', p_restaurant.booking_horizon_days),
      jsonb_build_object('reason', 'beyond_horizon', 'horizon_days', p_restaurant.booking_horizon_days),
      'Ask for an earlier date.');
  end if;
  if date_trunc('minute', v_local) <> v_local or extract(minute from v_local)::integer % p_restaurant.slot_minutes <> 0 then
    perform booking_private.refuse('PT422', format('Bookings start every %s minutes on the local clock.', p_restaurant.slot_minutes),
      jsonb_build_object('reason', 'off_grid', 'slot_minutes', p_restaurant.slot_minutes),
      'Round the time to the slot grid, for example 20:00 or 20:15.');
  end if;
  select * into v_period
    from booking_private.service_periods(p_restaurant, v_local::date - 1, v_local::date) p
    where p.opens_at <= p_starts_at and p_starts_at < p.closes_at
    order by p.closure nulls first, p.opens_at desc
    limit 1;
  if not found then
    perform booking_private.refuse('PT422', 'The restaurant is closed at that time.', jsonb_build_object('reason', 'closed'),
      'Call available_table_counts for that day to see the bookable times.');
  end if;
  if v_period.closure is not null then
    perform booking_private.refuse('PT422', format('The restaurant is closed on %s (%s).', v_period.day, v_period.closure),
      jsonb_build_object('reason', 'closure', 'day', v_period.day, 'closure', v_period.closure),
      'Ask for another day.');
  end if;
  if p_starts_at + make_interval(mins => p_minutes) > v_period.closes_at then
    perform booking_private.refuse('PT422', format('A stay of %s minutes starting then would end after closing time.', p_minutes),
      jsonb_build_object('reason', 'ends_after_closing', 'closes_at', v_period.closes_at, 'stay_minutes', p_minutes),
      'Offer an earlier start in the same service.');
  end if;
  if p_starts_at < now() + make_interval(mins => p_restaurant.min_notice_minutes) then
    perform booking_private.refuse('PT422', format('Bookings need %s minutes of notice.', p_restaurant.min_notice_minutes),
      jsonb_build_object('reason', 'too_soon', 'min_notice_minutes', p_restaurant.min_notice_minutes),
      'Offer a later time.');
  end if;
  return v_period.day;
end;
$$;
comment on function booking_private.assert_bookable(booking.restaurants, timestamptz, integer, integer) is 'Refuses (PT422 with a reason) a start that is in the past, too soon, beyond the horizon, off the local slot grid, outside an opening period, on a closure day or whose stay ends after closing, and a party no active table can seat. Returns the local day the service period opened.';

create function booking_private.next_free_table(
  p_restaurant_id bigint, p_guests integer, p_during tstzrange, p_tried bigint[],
  p_wait boolean, p_only bigint default null, p_prefer bigint default null, p_ignore bigint default null
) returns bigint
  language plpgsql volatile
  as $$
declare
  v_unavailable bigint[];
  v_table bigint;
begin
  -- The tables taken at that time, read once (one index range scan) rather than probed table by
  -- table: on a busy evening most tables are taken and probing costs a scan each.
  v_unavailable := p_tried || array(
    select x.table_id from booking.reservations x
    where x.restaurant_id = p_restaurant_id and x.status in ('confirmed', 'seated')
      and x.during && p_during and x.id is distinct from p_ignore);
  -- The row lock makes racers for one slot spread over the fitting tables instead of queueing
  -- behind each other's uncommitted inserts (and deadlocking in the exclusion index). NO KEY
  -- UPDATE does not conflict with the KEY SHARE lock foreign-key checks take on the same row.
  if p_wait then
    select t.id into v_table from booking.tables t
      where t.restaurant_id = p_restaurant_id and t.active and t.min_guests <= p_guests and t.capacity >= p_guests
        and (p_only is null or t.id = p_only) and t.id <> all (v_unavailable)
      order by t.id is not distinct from p_prefer desc, t.capacity, t.id
      limit 1
      for no key update of t;
  else
    select t.id into v_table from booking.tables t
      where t.restaurant_id = p_restaurant_id and t.active and t.min_guests <= p_guests and t.capacity >= p_guests
        and (p_only is null or t.id = p_only) and t.id <> all (v_unavailable)
      order by t.id is not distinct from p_prefer desc, t.capacity, t.id
      limit 1
      for no key update of t skip locked;
  end if;
  return v_table;
end;
$$;
comment on function booking_private.next_free_table(bigint, integer, tstzrange, bigint[], boolean, bigint, bigint, bigint) is 'The smallest active table fitting the party with no active reservation overlapping p_during (p_prefer first, only p_only when given), locked FOR NO KEY UPDATE. Without p_wait, tables other bookers hold are skipped; with it, waits for them. Null when none.';

create function booking_private.seat(p_row booking.reservations, p_buffer_minutes integer, p_only bigint, p_prefer bigint)
  returns booking.reservations
  language plpgsql volatile
  as $$
declare
  v_during tstzrange := tstzrange(p_row.starts_at, p_row.ends_at + make_interval(mins => p_buffer_minutes), '[)');
  v_table bigint;
  v_tried bigint[] := '{}';
  v_wait boolean := false;
  v_deadlocks integer := 0;
  v_row booking.reservations;
begin
  loop
    v_table := null;
    begin
      v_table := booking_private.next_free_table(p_row.restaurant_id, p_row.guests, v_during, v_tried, v_wait, p_only, p_prefer, p_row.id);
      if v_table is null then
        exit when v_wait;
        -- Every free table was held by another booker: now wait for them, so that nobody is
        -- refused while a table may still turn out free.
        v_wait := true;
        continue;
      end if;
      if p_row.id is null then
        insert into booking.reservations (restaurant_id, table_id, client_id, starts_at, ends_at, guests, idempotency_key, request_fingerprint, notes)
          values (p_row.restaurant_id, v_table, p_row.client_id, p_row.starts_at, p_row.ends_at, p_row.guests,
                  p_row.idempotency_key, p_row.request_fingerprint, p_row.notes)
          returning * into v_row;
      else
        update booking.reservations r
          set starts_at = p_row.starts_at, ends_at = p_row.ends_at, guests = p_row.guests, table_id = v_table
          where r.id = p_row.id
          returning * into v_row;
      end if;
      return v_row;
    exception
      -- Another booker took the table first: try the next one.
      when exclusion_violation then
        v_tried := v_tried || v_table;
      when deadlock_detected then
        v_deadlocks := v_deadlocks + 1;
        if v_deadlocks > 5 then
          raise;
        end if;
    end;
  end loop;
  return null;
end;
$$;
comment on function booking_private.seat(booking.reservations, integer, bigint, bigint) is 'Writes p_row (inserted when its id is null, else moved) on the best free table from next_free_table, moving on to the next table when another booker wins the race for one. Returns the written row, or null when no table is free.';

create function booking_private.check_table(p_restaurant_id bigint, p_table_id bigint, p_guests integer) returns void
  language plpgsql stable
  as $$
declare
  v_table booking.tables;
begin
  select * into v_table from booking.tables t where t.restaurant_id = p_restaurant_id and t.id = p_table_id;
  if not found then
    perform booking_private.refuse('PT404', format('Table %s not found.', p_table_id), jsonb_build_object('reason', 'table_not_found'));
  end if;
  if not v_table.active then
    perform booking_private.refuse('PT422', format('Table %s is not in service.', v_table.name), jsonb_build_object('reason', 'table_inactive'),
      'Book without table_id to get the best free table.');
  end if;
  if p_guests not between v_table.min_guests and v_table.capacity then
    perform booking_private.refuse('PT422', format('Table %s seats %s to %s guests.', v_table.name, v_table.min_guests, v_table.capacity),
      jsonb_build_object('reason', 'table_does_not_fit', 'min_guests', v_table.min_guests, 'capacity', v_table.capacity),
      'Book without table_id to get the best free table.');
  end if;
end;
$$;
comment on function booking_private.check_table(bigint, bigint, integer) is 'Refuses a requested table that does not exist in the restaurant (PT404), is inactive or does not fit the party (PT422).';

create function booking_private.check_client(p_restaurant_id bigint, p_client_id bigint) returns void
  language plpgsql stable
  as $$
begin
  if p_client_id is not null and not exists (select 1 from booking.clients c where c.restaurant_id = p_restaurant_id and c.id = p_client_id) then
    perform booking_private.refuse('PT404', format('Client %s not found.', p_client_id), jsonb_build_object('reason', 'client_not_found'),
      'Create the client with upsert_client first, or book without client_id.');
  end if;
end;
$$;
comment on function booking_private.check_client(bigint, bigint) is 'Refuses (PT404 client_not_found) a client id that is not one of this restaurant''s guests.';
