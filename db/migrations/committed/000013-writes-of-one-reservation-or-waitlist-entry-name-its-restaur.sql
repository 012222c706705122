--! Previous: sha1:3b4c51e68cb346ba863a0599ae54b0be4573f4cf
--! Hash: sha1:6487c6e268d31d82759297310021f4aecf473059
--! Message: Writes of one reservation or waitlist entry name its restaurant, so on Citus they reach one shard in a one-phase commit

-- On Citus, the last writes that named their row by id alone name its restaurant too.
--
-- cancel_reservation, set_reservation_status, confirm_hold, release_hold, join_waitlist,
-- leave_waitlist and offer_freed lock (or insert) their row by (restaurant_id, id), then updated
-- it by id alone: Citus cannot route such an UPDATE of a table distributed by restaurant_id, so
-- it sent it to every shard, on every worker, in a two-phase commit, on every call. Each now
-- updates by (restaurant_id, id) and stays on the restaurant's shard (test/citus/one-shard).
-- On one PostgreSQL the same row is updated, found by its (restaurant_id, id) key.
--
-- Each function is its latest definition (000006, set_reservation_status 000008) with only that
-- WHERE changed (and, in offer_freed, a comment reworded without an apostrophe: none inside a
-- function body of current.sql, for graphile-migrate's minifier). CREATE OR REPLACE keeps the
-- signatures, grants and comments. Re-runnable.

-- cancel_reservation, as in 000006, updating by (restaurant_id, id).
create or replace function booking.cancel_reservation(restaurant_id bigint, reservation_id bigint)
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
      jsonb_build_object('reason', 'not_cancellable', 'status', v_row.status),
      case when v_row.status = 'held' then 'Release a hold with release_hold.' end);
  end if;
  update booking.reservations r set status = 'cancelled' where r.restaurant_id = v_row.restaurant_id and r.id = v_row.id returning * into v_row;
  perform booking_private.offer_freed(v_row.restaurant_id, v_row.during, null);
  return v_row;
end;
$$;

-- set_reservation_status, as in 000008, updating by (restaurant_id, id).
create or replace function booking.set_reservation_status(restaurant_id bigint, reservation_id bigint, status text)
  returns booking.reservations
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_row booking.reservations;
  v_allowed text[];
begin
  perform booking_private.restaurant(set_reservation_status.restaurant_id);
  v_row := booking_private.reservation_for_update(set_reservation_status.restaurant_id, set_reservation_status.reservation_id);
  if v_row.status = set_reservation_status.status then
    return v_row;
  end if;
  select coalesce(array_agg(t.next order by t.ord), '{}') into v_allowed
  from (values (1, 'confirmed', 'seated'), (2, 'confirmed', 'no_show'), (3, 'confirmed', 'cancelled'), (4, 'seated', 'completed')) t(ord, current, next)
  where t.current = v_row.status;
  if set_reservation_status.status is null or not set_reservation_status.status = any (v_allowed) then
    perform booking_private.refuse('PT409', format('A %s reservation cannot become %s.', v_row.status, coalesce(set_reservation_status.status, 'null')),
      jsonb_build_object('reason', 'invalid_transition', 'from', v_row.status, 'to', set_reservation_status.status,
                         'current_status', v_row.status, 'allowed', to_jsonb(v_allowed)),
      case when v_row.status = 'held' then 'A hold is confirmed with confirm_hold or released with release_hold.'
           when cardinality(v_allowed) = 0 then format('A %s reservation is final: nothing can follow.', v_row.status)
           else format('Allowed from %s: %s.', v_row.status, array_to_string(v_allowed, ', ')) end);
  end if;
  update booking.reservations r set status = set_reservation_status.status where r.restaurant_id = v_row.restaurant_id and r.id = v_row.id returning * into v_row;
  -- A no-show or a cancellation frees the table: the waitlist may take it in this transaction.
  if v_row.status in ('no_show', 'cancelled') then
    perform booking_private.offer_freed(v_row.restaurant_id, v_row.during, null);
  end if;
  return v_row;
end;
$$;

-- confirm_hold, as in 000006, updating by (restaurant_id, id).
create or replace function booking.confirm_hold(restaurant_id bigint, reservation_id bigint, client_id bigint default null, notes text default null)
  returns booking.reservations
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_restaurant booking.restaurants;
  v_row booking.reservations;
begin
  v_restaurant := booking_private.restaurant(confirm_hold.restaurant_id);
  v_row := booking_private.reservation_for_update(v_restaurant.id, confirm_hold.reservation_id);
  if v_row.status = 'expired' or (v_row.status = 'held' and v_row.hold_expires_at <= now()) then
    perform booking_private.refuse('PT409', 'The hold has lapsed; its table may have been taken since.',
      jsonb_build_object('reason', 'hold_expired', 'expired_at', v_row.hold_expires_at,
                         'alternatives', booking_private.alternatives(v_restaurant, (v_row.starts_at at time zone v_restaurant.timezone)::date,
                                                                      v_row.starts_at - interval '1 microsecond', v_row.guests, null)),
      'Book again with book_table, at the same time if it is among the alternatives, or at one of them.');
  end if;
  if v_row.status = 'confirmed' and v_row.notes is not distinct from coalesce(confirm_hold.notes, v_row.notes)
     and v_row.client_id is not distinct from coalesce(confirm_hold.client_id, v_row.client_id)
     and exists (select 1 from booking.reservation_events e
                  where e.restaurant_id = v_row.restaurant_id and e.reservation_id = v_row.id and e.action = 'held') then
    -- A retried confirmation.
    return v_row;
  end if;
  if v_row.status <> 'held' then
    perform booking_private.refuse('PT409', format('Reservation %s is %s, not a hold.', v_row.id, v_row.status),
      jsonb_build_object('reason', 'not_held', 'status', v_row.status), 'Only a live hold can be confirmed.');
  end if;
  perform booking_private.check_client(v_restaurant.id, confirm_hold.client_id);
  update booking.reservations r
    set status = 'confirmed', hold_expires_at = null,
        client_id = coalesce(confirm_hold.client_id, r.client_id), notes = coalesce(confirm_hold.notes, r.notes)
    where r.restaurant_id = v_row.restaurant_id and r.id = v_row.id
    returning * into v_row;
  update booking.waitlist w set status = 'booked'
    where w.restaurant_id = v_restaurant.id and w.reservation_id = v_row.id and w.status = 'offered';
  return v_row;
end;
$$;

-- release_hold, as in 000006, updating by (restaurant_id, id).
create or replace function booking.release_hold(restaurant_id bigint, reservation_id bigint)
  returns booking.reservations
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_row booking.reservations;
  v_entry bigint;
begin
  perform booking_private.restaurant(release_hold.restaurant_id);
  v_row := booking_private.reservation_for_update(release_hold.restaurant_id, release_hold.reservation_id);
  if v_row.status in ('released', 'expired') then
    return v_row;
  end if;
  if v_row.status <> 'held' then
    perform booking_private.refuse('PT409', format('Reservation %s is %s, not a hold.', v_row.id, v_row.status),
      jsonb_build_object('reason', 'not_held', 'status', v_row.status), 'Cancel a confirmed reservation with cancel_reservation.');
  end if;
  update booking.reservations r set status = 'released' where r.restaurant_id = v_row.restaurant_id and r.id = v_row.id returning * into v_row;
  update booking.waitlist w set status = 'waiting', reservation_id = null
    where w.restaurant_id = v_row.restaurant_id and w.reservation_id = v_row.id and w.status = 'offered'
    returning w.id into v_entry;
  perform booking_private.offer_freed(v_row.restaurant_id, v_row.during, v_entry);
  return v_row;
end;
$$;

-- join_waitlist, as in 000006, updating by (restaurant_id, id).
create or replace function booking.join_waitlist(restaurant_id bigint, guests integer, earliest timestamptz, latest timestamptz,
                                      client_id bigint default null, name text default null, phone text default null,
                                      email text default null)
  returns booking.waitlist
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_restaurant booking.restaurants;
  v_entry booking.waitlist;
  v_hold booking.reservations;
begin
  perform booking_private.check_party(join_waitlist.guests);
  v_restaurant := booking_private.restaurant(join_waitlist.restaurant_id);
  if join_waitlist.guests > v_restaurant.max_guests then
    perform booking_private.refuse('PT422', format('This restaurant takes parties of at most %s.', v_restaurant.max_guests),
      jsonb_build_object('reason', 'party_too_large', 'max_guests', v_restaurant.max_guests),
      'Suggest splitting the party or calling the restaurant.');
  end if;
  if join_waitlist.earliest is null or join_waitlist.latest is null or join_waitlist.latest < join_waitlist.earliest then
    perform booking_private.refuse('22023', 'earliest and latest are required, earliest first.',
      jsonb_build_object('reason', 'invalid_window', 'field', 'latest'), 'Give the earliest and the latest start the guest would accept.');
  end if;
  if join_waitlist.latest - join_waitlist.earliest > interval '7 days' then
    perform booking_private.refuse('22023', 'latest must be at most 7 days after earliest.',
      jsonb_build_object('reason', 'invalid_window', 'field', 'latest'), 'Ask for the days the guest really could come, a week at most.');
  end if;
  if join_waitlist.latest < now() then
    perform booking_private.refuse('PT422', 'That window is in the past.', jsonb_build_object('reason', 'in_past'),
      'Ask for a window later than now.');
  end if;
  if join_waitlist.client_id is null and nullif(btrim(join_waitlist.phone), '') is null and nullif(btrim(join_waitlist.email), '') is null then
    perform booking_private.refuse('22023', 'A waiting guest needs a client_id, a phone or an e-mail.',
      jsonb_build_object('reason', 'contact_required', 'field', 'phone'), 'Ask how the restaurant can reach the guest.');
  end if;
  perform booking_private.check_client(v_restaurant.id, join_waitlist.client_id);
  insert into booking.waitlist (restaurant_id, client_id, name, phone, email, guests, earliest, latest)
    values (v_restaurant.id, join_waitlist.client_id, nullif(btrim(join_waitlist.name), ''), nullif(btrim(join_waitlist.phone), ''),
            nullif(btrim(join_waitlist.email), ''), join_waitlist.guests, join_waitlist.earliest, join_waitlist.latest)
    returning * into v_entry;
  -- Something may already fit: offer it now rather than at the next cancellation.
  v_hold := booking_private.hold_for(v_restaurant, v_entry, v_entry.earliest, v_entry.latest);
  if v_hold.id is not null then
    update booking.waitlist w set status = 'offered', reservation_id = v_hold.id
      where w.restaurant_id = v_entry.restaurant_id and w.id = v_entry.id returning * into v_entry;
  end if;
  return v_entry;
end;
$$;

-- leave_waitlist, as in 000006, updating by (restaurant_id, id).
create or replace function booking.leave_waitlist(restaurant_id bigint, waitlist_id bigint)
  returns booking.waitlist
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_entry booking.waitlist;
  v_hold booking.reservations;
begin
  perform booking_private.restaurant(leave_waitlist.restaurant_id);
  select * into v_entry from booking.waitlist w
    where w.restaurant_id = leave_waitlist.restaurant_id and w.id = leave_waitlist.waitlist_id
    for update;
  if not found then
    perform booking_private.refuse('PT404', format('Waitlist entry %s not found.', coalesce(leave_waitlist.waitlist_id::text, 'null')),
      jsonb_build_object('reason', 'waitlist_entry_not_found'));
  end if;
  if v_entry.status not in ('waiting', 'offered') then
    return v_entry;
  end if;
  if v_entry.status = 'offered' then
    update booking.reservations r set status = 'released'
      where r.restaurant_id = v_entry.restaurant_id and r.id = v_entry.reservation_id and r.status = 'held'
      returning * into v_hold;
  end if;
  update booking.waitlist w set status = 'cancelled', reservation_id = null
    where w.restaurant_id = v_entry.restaurant_id and w.id = v_entry.id returning * into v_entry;
  if v_hold.id is not null then
    perform booking_private.offer_freed(v_hold.restaurant_id, v_hold.during, v_entry.id);
  end if;
  return v_entry;
end;
$$;

-- offer_freed, as in 000006, updating by (restaurant_id, id).
create or replace function booking_private.offer_freed(p_restaurant_id bigint, p_freed tstzrange, p_skip bigint) returns void
  language plpgsql volatile
  as $$
declare
  v_restaurant booking.restaurants;
  v_entry booking.waitlist;
  v_hold booking.reservations;
begin
  select * into v_restaurant from booking.restaurants where id = p_restaurant_id;
  -- Oldest first, each entry locked: two transactions freeing tables at once offer to entries
  -- one after the other (the second sees the offer of the first once it commits), so no entry gets
  -- two offers and none is passed over.
  for v_entry in
    select * from booking.waitlist w
    where w.restaurant_id = p_restaurant_id and w.status = 'waiting' and w.id is distinct from p_skip
      and w.latest >= now() and w.earliest < upper(p_freed)
      and w.latest + make_interval(mins => booking_private.stay_minutes(v_restaurant, w.guests) + v_restaurant.buffer_minutes) > lower(p_freed)
    order by w.created_at, w.id
    for update
  loop
    -- Only starts whose stay could use the freed time: the rest of the window was full before.
    v_hold := booking_private.hold_for(v_restaurant, v_entry,
                                       lower(p_freed) - make_interval(mins => booking_private.stay_minutes(v_restaurant, v_entry.guests) + v_restaurant.buffer_minutes),
                                       upper(p_freed));
    if v_hold.id is not null then
      update booking.waitlist w set status = 'offered', reservation_id = v_hold.id
        where w.restaurant_id = v_entry.restaurant_id and w.id = v_entry.id;
    end if;
  end loop;
end;
$$;
