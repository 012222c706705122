--! Previous: sha1:ead0bfeadb93220d97420b469158d16678e04f20
--! Hash: sha1:18fa564aaf6a2f470323689d5376396263a2be54
--! Message: SQL API functions

-- The SQL API: what DBAs call and what the HTTP server translates. Parameter names are the JSON
-- keys of the /rpc endpoints, so they carry no prefixes; `#variable_conflict use_column` makes
-- bare names mean columns and parameters are always qualified with the function name.

create function booking.available_table_counts(restaurant_id bigint, day date, guests integer)
  returns table (starts_at timestamptz, local_time text, tables_available integer)
  language plpgsql stable security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_restaurant booking.restaurants;
  v_stay interval;
  v_step interval;
  v_block interval;
begin
  perform booking_private.check_party(available_table_counts.guests);
  v_restaurant := booking_private.restaurant(available_table_counts.restaurant_id);
  if available_table_counts.day is null then
    perform booking_private.refuse('22023', 'day is required.', jsonb_build_object('reason', 'invalid_day', 'field', 'day'));
  end if;
  if available_table_counts.guests > v_restaurant.max_guests then
    perform booking_private.refuse('PT422', format('This restaurant takes parties of at most %s.', v_restaurant.max_guests),
      jsonb_build_object('reason', 'party_too_large', 'max_guests', v_restaurant.max_guests),
      'Suggest splitting the party or calling the restaurant.');
  end if;
  v_stay := make_interval(mins => booking_private.stay_minutes(v_restaurant, available_table_counts.guests));
  v_step := make_interval(mins => v_restaurant.slot_minutes);
  v_block := v_stay + make_interval(mins => v_restaurant.buffer_minutes);
  -- Slots step through real time from the (grid-aligned) opening instant, so a local time
  -- skipped by DST is no slot and a repeated one is two. The day's reservations are read once
  -- and counted per slot, rather than probing the overlap index once per slot and table.
  return query
  with slots as (
    select distinct s as slot
    from booking_private.service_periods(v_restaurant, available_table_counts.day, available_table_counts.day) p,
         generate_series(
           p.opens_at + make_interval(mins => (v_restaurant.slot_minutes - extract(minute from p.opens)::integer % v_restaurant.slot_minutes) % v_restaurant.slot_minutes),
           p.closes_at - v_stay,
           v_step) s
    where p.closure is null
      and s >= now() + make_interval(mins => v_restaurant.min_notice_minutes)
      and s <= now() + make_interval(days => v_restaurant.booking_horizon_days)
  ),
  fitting as (
    select t.id from booking.tables t
    where t.restaurant_id = v_restaurant.id and t.active
      and t.min_guests <= available_table_counts.guests and t.capacity >= available_table_counts.guests
  ),
  busy as materialized (
    select x.table_id, x.during from booking.reservations x
    where x.restaurant_id = v_restaurant.id and x.status in ('confirmed', 'seated')
      and x.table_id in (select f.id from fitting f)
      and x.during && tstzrange((select min(slot) from slots), (select max(slot) from slots) + v_block)
  )
  select s.slot,
         to_char(s.slot at time zone v_restaurant.timezone, 'HH24:MI'),
         ((select count(*) from fitting) - count(distinct b.table_id))::integer
  from slots s
  left join busy b on b.during && tstzrange(s.slot, s.slot + v_block)
  group by s.slot
  order by s.slot;
end;
$$;
comment on function booking.available_table_counts(bigint, date, integer) is $$Every bookable start time of a local day (service periods that open that day) with the number of free active tables that fit the party.
Slots follow the restaurant's grid from each opening time, leave room for the whole stay before closing, and respect the notice and horizon. Across DST, a local time that does not exist is not listed and one that happens twice is listed twice with distinct starts_at.
Errors: PT404 restaurant_not_found; PT422 party_too_large; 22023 invalid_guests.
Example: select * from booking.available_table_counts(1, '2026-12-12', 4);$$;

create function booking_private.no_table_error(p_restaurant booking.restaurants, p_day date, p_starts_at timestamptz, p_guests integer, p_table_id bigint)
  returns void
  language plpgsql stable
  as $$
declare
  v_alternatives jsonb;
begin
  select coalesce(jsonb_agg(jsonb_build_object('starts_at', a.starts_at, 'local_time', a.local_time, 'tables_available', a.tables_available)
                            order by abs(extract(epoch from a.starts_at - p_starts_at)), a.starts_at), '[]')
    into v_alternatives
    from (select * from booking.available_table_counts(p_restaurant.id, p_day, p_guests) c
          where c.tables_available > 0 and c.starts_at <> p_starts_at
          order by abs(extract(epoch from c.starts_at - p_starts_at)), c.starts_at
          limit 5) a;
  if p_table_id is not null then
    perform booking_private.refuse('PT409', 'That table is already booked at that time.',
      jsonb_build_object('reason', 'table_taken', 'alternatives', v_alternatives),
      'Book without table_id, or offer one of the alternatives.');
  end if;
  perform booking_private.refuse('PT409', format('No table for %s is free at that time.', p_guests),
    jsonb_build_object('reason', 'all_tables_taken', 'alternatives', v_alternatives),
    case when jsonb_array_length(v_alternatives) > 0 then 'Offer one of the alternatives: the nearest times that day with a free table.'
         else 'Nothing is free that day for this party; ask for another day.' end);
end;
$$;
comment on function booking_private.no_table_error(booking.restaurants, date, timestamptz, integer, bigint) is 'Raises PT409 (all_tables_taken or table_taken) with up to five alternatives: the nearest slots of the same service day that have a free fitting table.';

create function booking.book_table(
  restaurant_id bigint, starts_at timestamptz, guests integer,
  client_id bigint default null, table_id bigint default null,
  idempotency_key text default null, notes text default null
) returns booking.reservations
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_restaurant booking.restaurants;
  v_fingerprint text;
  v_row booking.reservations;
  v_day date;
  v_minutes integer;
  v_constraint text;
begin
  perform booking_private.check_party(book_table.guests);
  v_restaurant := booking_private.restaurant(book_table.restaurant_id);
  if book_table.idempotency_key is not null then
    v_fingerprint := md5(jsonb_build_array(extract(epoch from book_table.starts_at), book_table.guests, book_table.client_id,
                                           book_table.table_id, book_table.notes)::text);
    select * into v_row from booking.reservations r
      where r.restaurant_id = v_restaurant.id and r.idempotency_key = book_table.idempotency_key;
    if found then
      return booking_private.replay(v_row, v_fingerprint);
    end if;
  end if;
  perform booking_private.check_client(v_restaurant.id, book_table.client_id);
  v_minutes := booking_private.stay_minutes(v_restaurant, book_table.guests);
  v_day := booking_private.assert_bookable(v_restaurant, book_table.starts_at, book_table.guests, v_minutes);
  if book_table.table_id is not null then
    perform booking_private.check_table(v_restaurant.id, book_table.table_id, book_table.guests);
  end if;
  v_row.restaurant_id := v_restaurant.id;
  v_row.client_id := book_table.client_id;
  v_row.starts_at := book_table.starts_at;
  v_row.ends_at := book_table.starts_at + make_interval(mins => v_minutes);
  v_row.guests := book_table.guests;
  v_row.idempotency_key := book_table.idempotency_key;
  v_row.request_fingerprint := v_fingerprint;
  v_row.notes := book_table.notes;
  begin
    v_row := booking_private.seat(v_row, v_restaurant.buffer_minutes, book_table.table_id, null);
  exception when unique_violation then
    get stacked diagnostics v_constraint = constraint_name;
    if v_constraint <> 'reservations_idempotency_key' then
      raise;
    end if;
    -- A concurrent call with the same key committed first: this call is its replay.
    select * into v_row from booking.reservations r
      where r.restaurant_id = v_restaurant.id and r.idempotency_key = book_table.idempotency_key;
    return booking_private.replay(v_row, v_fingerprint);
  end;
  if v_row.id is not null then
    return v_row;
  end if;
  perform booking_private.no_table_error(v_restaurant, v_day, book_table.starts_at, book_table.guests, book_table.table_id);
  return null;
end;
$$;

create function booking_private.replay(p_row booking.reservations, p_fingerprint text) returns booking.reservations
  language plpgsql stable
  as $$
begin
  if p_row.request_fingerprint is distinct from p_fingerprint then
    perform booking_private.refuse('23505', 'This idempotency key was already used for a different booking.',
      jsonb_build_object('reason', 'idempotency_key_reused', 'reservation_id', p_row.id),
      'Use a new idempotency key for a new booking; reuse a key only to retry the very same request.');
  end if;
  return p_row;
end;
$$;
comment on function booking_private.replay(booking.reservations, text) is 'Returns the reservation a keyed booking made, or refuses (23505 idempotency_key_reused) when the key comes with other arguments.';

comment on function booking.book_table(bigint, timestamptz, integer, bigint, bigint, text, text) is $$Books a table: validates the request, takes the smallest free active table that fits the party (or table_id), and returns the reservation.
When another booker takes a table first it moves on to the next one, so under N concurrent requests for K free fitting tables exactly min(N, K) succeed. A call with an idempotency_key already used with the same arguments returns the original reservation.
Errors (detail is JSON with a "reason"): PT404 restaurant_not_found, client_not_found, table_not_found; PT422 in_past, too_soon, beyond_horizon, off_grid, closed, closure, ends_after_closing, party_too_large, no_table_fits, table_inactive, table_does_not_fit; PT409 all_tables_taken or table_taken (detail.alternatives lists the nearest free slots that day); 23505 idempotency_key_reused; 22023 invalid_guests.
Example: select * from booking.book_table(restaurant_id => 1, starts_at => '2026-12-12 20:00 Europe/Madrid', guests => 4, idempotency_key => 'call-42');$$;

create function booking.upsert_client(restaurant_id bigint, email text, name text default null, phone text default null)
  returns booking.clients
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_client booking.clients;
begin
  perform booking_private.restaurant(upsert_client.restaurant_id);
  insert into booking.clients as c (restaurant_id, email, name, phone)
    values (upsert_client.restaurant_id, btrim(upsert_client.email), nullif(btrim(upsert_client.name), ''), nullif(btrim(upsert_client.phone), ''))
    on conflict (restaurant_id, lower(email)) do update
      set name = coalesce(excluded.name, c.name), phone = coalesce(excluded.phone, c.phone)
    returning * into v_client;
  return v_client;
end;
$$;
comment on function booking.upsert_client(bigint, text, text, text) is $$Creates the restaurant's guest with this e-mail, or updates the one that has it (case-insensitively); never a duplicate. NULL name or phone keeps the stored value.
Errors: PT404 restaurant_not_found; 23514 invalid e-mail, name or phone; 23502 e-mail missing.
Example: select * from booking.upsert_client(1, 'ana@example.com', 'Ana García', '+34 600 000 000');$$;

create function booking.create_client(restaurant_id bigint, email text, name text default null, phone text default null, notes text default null)
  returns booking.clients
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_client booking.clients;
begin
  perform booking_private.restaurant(create_client.restaurant_id);
  insert into booking.clients (restaurant_id, email, name, phone, notes)
    values (create_client.restaurant_id, btrim(create_client.email), nullif(btrim(create_client.name), ''),
            nullif(btrim(create_client.phone), ''), create_client.notes)
    returning * into v_client;
  return v_client;
end;
$$;
comment on function booking.create_client(bigint, text, text, text, text) is $$Creates a guest of the restaurant.
Errors: PT404 restaurant_not_found; 23505 a guest with this e-mail exists (use upsert_client to merge); 23514 invalid e-mail, name or phone.
Example: select * from booking.create_client(1, 'ana@example.com', 'Ana García');$$;

create function booking.update_client(restaurant_id bigint, client_id bigint, email text default null, name text default null,
                                      phone text default null, notes text default null)
  returns booking.clients
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_client booking.clients;
begin
  perform booking_private.restaurant(update_client.restaurant_id);
  update booking.clients c
    set email = coalesce(btrim(update_client.email), c.email),
        name = coalesce(nullif(btrim(update_client.name), ''), c.name),
        phone = coalesce(nullif(btrim(update_client.phone), ''), c.phone),
        notes = coalesce(update_client.notes, c.notes)
    where c.restaurant_id = update_client.restaurant_id and c.id = update_client.client_id
    returning * into v_client;
  if not found then
    perform booking_private.check_client(update_client.restaurant_id, update_client.client_id);
  end if;
  return v_client;
end;
$$;
comment on function booking.update_client(bigint, bigint, text, text, text, text) is $$Changes a guest's e-mail, name, phone or notes; NULL arguments keep the stored values.
Errors: PT404 restaurant_not_found, client_not_found; 23505 another guest has this e-mail; 23514 invalid value.
Example: select * from booking.update_client(1, 7, phone => '+34 611 111 111');$$;

create function booking.delete_client(restaurant_id bigint, client_id bigint)
  returns text
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
begin
  perform booking_private.restaurant(delete_client.restaurant_id);
  perform booking_private.check_client(delete_client.restaurant_id, delete_client.client_id);
  if exists (select 1 from booking.reservations r where r.restaurant_id = delete_client.restaurant_id and r.client_id = delete_client.client_id) then
    -- The bookings stay (the restaurant's records and history need them); the person goes.
    update booking.clients c
      set name = null, phone = null, notes = null, email = format('anonymised-%s@invalid.example', c.id)
      where c.restaurant_id = delete_client.restaurant_id and c.id = delete_client.client_id;
    return 'anonymised';
  end if;
  delete from booking.clients c where c.restaurant_id = delete_client.restaurant_id and c.id = delete_client.client_id;
  return 'deleted';
end;
$$;
comment on function booking.delete_client(bigint, bigint) is $$Forgets a guest: deletes the row when the guest has no reservations, otherwise erases the personal data (name, e-mail, phone, notes) and keeps the bookings. Returns 'deleted' or 'anonymised'.
Errors: PT404 restaurant_not_found, client_not_found.
Example: select booking.delete_client(1, 7);$$;

create function booking_private.reservation_for_update(p_restaurant_id bigint, p_reservation_id bigint) returns booking.reservations
  language plpgsql volatile
  as $$
declare
  v_row booking.reservations;
begin
  select * into v_row from booking.reservations r
    where r.restaurant_id = p_restaurant_id and r.id = p_reservation_id
    for no key update;
  if not found then
    perform booking_private.refuse('PT404', format('Reservation %s not found.', coalesce(p_reservation_id::text, 'null')),
      jsonb_build_object('reason', 'reservation_not_found'));
  end if;
  return v_row;
end;
$$;
comment on function booking_private.reservation_for_update(bigint, bigint) is 'The reservation row, locked, or PT404 reservation_not_found.';

create function booking.cancel_reservation(restaurant_id bigint, reservation_id bigint)
  returns booking.reservations
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_row booking.reservations;
begin
  perform booking_private.restaurant(cancel_reservation.restaurant_id);
  v_row := booking_private.reservation_for_update(cancel_reservation.restaurant_id, cancel_reservation.reservation_id);
  if v_row.status = 'cancelled' then
    return v_row;
  end if;
  if v_row.status <> 'confirmed' then
    perform booking_private.refuse('PT409', format('A %s reservation cannot be cancelled.', replace(v_row.status, '_', '-')),
      jsonb_build_object('reason', 'not_cancellable', 'status', v_row.status));
  end if;
  update booking.reservations r set status = 'cancelled' where r.id = v_row.id returning * into v_row;
  return v_row;
end;
$$;
comment on function booking.cancel_reservation(bigint, bigint) is $$Cancels a confirmed reservation and frees its table; cancelling a cancelled one returns it unchanged.
Errors: PT404 restaurant_not_found, reservation_not_found; PT409 not_cancellable (seated, completed or no-show).
Example: select * from booking.cancel_reservation(1, 42);$$;

create function booking.reschedule_reservation(restaurant_id bigint, reservation_id bigint, starts_at timestamptz default null,
                                               guests integer default null, table_id bigint default null)
  returns booking.reservations
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_restaurant booking.restaurants;
  v_row booking.reservations;
  v_starts_at timestamptz;
  v_guests integer;
  v_day date;
  v_minutes integer;
begin
  v_restaurant := booking_private.restaurant(reschedule_reservation.restaurant_id);
  v_row := booking_private.reservation_for_update(v_restaurant.id, reschedule_reservation.reservation_id);
  if v_row.status <> 'confirmed' then
    perform booking_private.refuse('PT409', format('A %s reservation cannot be moved.', replace(v_row.status, '_', '-')),
      jsonb_build_object('reason', 'not_movable', 'status', v_row.status), 'Book a new table instead.');
  end if;
  v_starts_at := coalesce(reschedule_reservation.starts_at, v_row.starts_at);
  v_guests := coalesce(reschedule_reservation.guests, v_row.guests);
  perform booking_private.check_party(v_guests);
  v_minutes := booking_private.stay_minutes(v_restaurant, v_guests);
  v_day := booking_private.assert_bookable(v_restaurant, v_starts_at, v_guests, v_minutes);
  if reschedule_reservation.table_id is not null then
    perform booking_private.check_table(v_restaurant.id, reschedule_reservation.table_id, v_guests);
  end if;
  v_row.starts_at := v_starts_at;
  v_row.ends_at := v_starts_at + make_interval(mins => v_minutes);
  v_row.guests := v_guests;
  v_row := booking_private.seat(v_row, v_restaurant.buffer_minutes, reschedule_reservation.table_id, v_row.table_id);
  if v_row.id is not null then
    return v_row;
  end if;
  perform booking_private.no_table_error(v_restaurant, v_day, v_starts_at, v_guests, reschedule_reservation.table_id);
  return null;
end;
$$;
comment on function booking.reschedule_reservation(bigint, bigint, timestamptz, integer, bigint) is $$Moves a confirmed reservation to another time, party size or table under the same rules as book_table, keeping its table when that one is still free. Atomic: when the move is refused, the reservation stays as it was.
Errors: PT404 restaurant_not_found, reservation_not_found, table_not_found; PT409 not_movable, all_tables_taken, table_taken (with alternatives); PT422 as book_table; 22023 invalid_guests.
Example: select * from booking.reschedule_reservation(1, 42, starts_at => '2026-12-12 21:00 Europe/Madrid');$$;

create function booking.set_reservation_status(restaurant_id bigint, reservation_id bigint, status text)
  returns booking.reservations
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_row booking.reservations;
begin
  perform booking_private.restaurant(set_reservation_status.restaurant_id);
  v_row := booking_private.reservation_for_update(set_reservation_status.restaurant_id, set_reservation_status.reservation_id);
  if v_row.status = set_reservation_status.status then
    return v_row;
  end if;
  if (v_row.status, set_reservation_status.status) not in
     (('confirmed', 'seated'), ('confirmed', 'no_show'), ('confirmed', 'cancelled'), ('seated', 'completed')) then
    perform booking_private.refuse('PT409', format('A %s reservation cannot become %s.', v_row.status, coalesce(set_reservation_status.status, 'null')),
      jsonb_build_object('reason', 'invalid_transition', 'from', v_row.status, 'to', set_reservation_status.status),
      'Allowed: confirmed to seated, no_show or cancelled; seated to completed.');
  end if;
  update booking.reservations r set status = set_reservation_status.status where r.id = v_row.id returning * into v_row;
  return v_row;
end;
$$;
comment on function booking.set_reservation_status(bigint, bigint, text) is $$Records what happened at the door: confirmed to seated, no_show or cancelled; seated to completed. Setting the current status again changes nothing.
Errors: PT404 restaurant_not_found, reservation_not_found; PT409 invalid_transition.
Example: select * from booking.set_reservation_status(1, 42, 'seated');$$;
