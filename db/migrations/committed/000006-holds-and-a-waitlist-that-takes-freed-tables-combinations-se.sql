--! Previous: sha1:69c68bcf77fd358ab4a69f1223ee5f03142bd33e
--! Hash: sha1:f34c2e379aaedc53f4e3c36c2672728aacf1525e
--! Message: Holds and a waitlist that takes freed tables; combinations seated in turn

-- Holds and a waitlist. The assistant holds a table while the guest decides (a hold blocks its
-- tables like a booking, for every writer, and lapses by itself: once past hold_expires_at it
-- blocks nothing, even before the sweep marks it expired), and a guest told "we are full" can
-- wait: when a table frees, the oldest waiting entry that now fits gets a hold on it in the same
-- transaction.
--
-- Re-runnable while it is current.sql: what it creates is dropped first; what it replaces is
-- created with `create or replace`.

drop function if exists booking.hold_table(bigint, timestamptz, integer, integer, bigint, text, text);
drop function if exists booking.confirm_hold(bigint, bigint, bigint, text);
drop function if exists booking.release_hold(bigint, bigint);
drop function if exists booking.expire_holds();
drop function if exists booking.join_waitlist(bigint, integer, timestamptz, timestamptz, bigint, text, text, text);
drop function if exists booking.leave_waitlist(bigint, bigint);
drop function if exists booking_private.place(bigint, timestamptz, integer, bigint, bigint, text, text, bigint, text, integer);
drop function if exists booking_private.expire_holds_on(bigint, bigint[], tstzrange);
drop function if exists booking_private.lapse(bigint[]);
drop function if exists booking_private.offer_freed(bigint, tstzrange, bigint);
drop function if exists booking_private.hold_for(booking.restaurants, booking.waitlist, timestamptz, timestamptz);
drop table if exists booking.waitlist;
alter table booking.restaurants drop column if exists waitlist_offer_minutes;
alter table booking.reservation_tables drop column if exists hold_expires_at;
alter table booking.reservations drop constraint if exists reservations_hold_expiry;
alter table booking.reservations drop column if exists hold_expires_at cascade;

--------------------------------------------------------------------------------------------------
-- Holds in the reservation rows.

alter table booking.reservations drop constraint reservations_status_check;
alter table booking.reservations add constraint reservations_status_check
  check (status in ('held', 'confirmed', 'seated', 'completed', 'cancelled', 'no_show', 'released', 'expired'));
alter table booking.reservations add column hold_expires_at timestamptz,
  add constraint reservations_hold_expiry check (
    case when status = 'held' then hold_expires_at is not null
         when status in ('confirmed', 'seated') then hold_expires_at is null
         else true end);
comment on column booking.reservations.status is 'held (a hold, blocking its tables until hold_expires_at), confirmed, seated, completed, cancelled, no_show; a hold ends confirmed, released or expired. held, confirmed and seated block the tables.';
comment on column booking.reservations.hold_expires_at is 'When a hold lapses or lapsed (set while held, kept once released or expired, null for a booking). A lapsed hold blocks nothing, even before it is marked expired.';
create index reservations_holds_idx on booking.reservations (hold_expires_at) where status = 'held';

alter table booking.reservation_events drop constraint reservation_events_action_check;
alter table booking.reservation_events add constraint reservation_events_action_check
  check (action in ('created', 'moved', 'updated', 'cancelled', 'seated', 'completed', 'no_show', 'confirmed', 'held', 'released', 'expired'));

alter table booking.reservation_tables add column hold_expires_at timestamptz;
comment on column booking.reservation_tables.hold_expires_at is 'The hold''s lapse (null for a booking): a row past it blocks nothing for availability and booking, though the exclusion rule keeps it until the hold is marked expired.';
comment on column booking.reservation_tables.active is 'The reservation is held, confirmed or seated: only active rows block the table.';

create or replace function booking_private.sync_reservation_tables() returns trigger
  language plpgsql volatile
  as $$
declare
  v_active boolean := new.status in ('held', 'confirmed', 'seated');
begin
  if tg_op = 'UPDATE' and (new.table_id, new.combination_id) is not distinct from (old.table_id, old.combination_id) then
    if (new.during, new.status, new.hold_expires_at) is distinct from (old.during, old.status, old.hold_expires_at) then
      update booking.reservation_tables rt set during = new.during, active = v_active, hold_expires_at = new.hold_expires_at
        where rt.restaurant_id = new.restaurant_id and rt.reservation_id = new.id;
    end if;
    return null;
  end if;
  if tg_op = 'UPDATE' then
    delete from booking.reservation_tables rt where rt.restaurant_id = old.restaurant_id and rt.reservation_id = old.id;
  end if;
  -- Members in table order, so two bookers of overlapping combinations wait for each other in
  -- one order and never deadlock in the exclusion index.
  insert into booking.reservation_tables (restaurant_id, reservation_id, table_id, during, active, hold_expires_at)
    select new.restaurant_id, new.id, t.table_id, new.during, v_active, new.hold_expires_at
    from (select new.table_id as table_id where new.combination_id is null
          union all
          select m.table_id from booking.table_combination_members m
           where m.restaurant_id = new.restaurant_id and m.combination_id = new.combination_id) t
    order by t.table_id;
  return null;
end;
$$;
drop trigger if exists _500_tables on booking.reservations;
create trigger _500_tables after insert or update of restaurant_id, table_id, combination_id, starts_at, ends_at, during, status, hold_expires_at
  on booking.reservations
  for each row execute function booking_private.sync_reservation_tables();

create or replace function booking_private.record_reservation_event() returns trigger
  language plpgsql volatile
  as $$
declare
  v_action text;
begin
  if tg_op = 'INSERT' then
    v_action := case when new.status = 'held' then 'held' else 'created' end;
  elsif new.status is distinct from old.status then
    v_action := case new.status when 'confirmed' then 'confirmed' else new.status end;
  elsif (new.starts_at, new.ends_at, new.table_id, new.combination_id, new.guests)
        is distinct from (old.starts_at, old.ends_at, old.table_id, old.combination_id, old.guests) then
    v_action := 'moved';
  elsif new.notes is distinct from old.notes or new.client_id is distinct from old.client_id then
    v_action := 'updated';
  else
    return null;
  end if;
  insert into booking.reservation_events (
    restaurant_id, reservation_id, action,
    old_status, new_status, old_starts_at, new_starts_at,
    old_table_id, new_table_id, old_guests, new_guests,
    channel, actor
  ) values (
    new.restaurant_id, new.id, v_action,
    case when tg_op = 'UPDATE' then old.status end, new.status,
    case when tg_op = 'UPDATE' then old.starts_at end, new.starts_at,
    case when tg_op = 'UPDATE' then old.table_id end, new.table_id,
    case when tg_op = 'UPDATE' then old.guests end, new.guests,
    coalesce(nullif(current_setting('nora.channel', true), ''), 'sql'),
    nullif(current_setting('nora.actor', true), '')
  );
  return null;
end;
$$;

-- A live hold's covers count toward pacing like a booking's.
create or replace function booking_private.booked_covers(p_restaurant_id bigint, p_slot timestamptz, p_slot_minutes integer, p_ignore bigint)
  returns integer
  language sql stable
  as $$
  select coalesce(sum(x.guests), 0)::integer from booking.reservations x
  where x.restaurant_id = p_restaurant_id
    and (x.status in ('confirmed', 'seated') or (x.status = 'held' and x.hold_expires_at > now()))
    and x.starts_at >= p_slot and x.starts_at < p_slot + make_interval(mins => p_slot_minutes)
    and x.id is distinct from p_ignore
$$;

--------------------------------------------------------------------------------------------------
-- The waitlist.

alter table booking.restaurants add column waitlist_offer_minutes integer not null default 15
  check (waitlist_offer_minutes between 1 and 120);
comment on column booking.restaurants.waitlist_offer_minutes is 'How long a waitlist guest''s offer (a hold on a freed table) lasts.';

create table booking.waitlist (
  id bigint generated always as identity primary key,
  restaurant_id bigint not null references booking.restaurants on delete cascade,
  client_id bigint,
  name text check (length(btrim(name)) between 1 and 200),
  phone text check (phone ~ '^\+?[0-9][0-9 ().-]{2,30}$'),
  email booking.email,
  guests integer not null check (guests between 1 and 20),
  earliest timestamptz not null,
  latest timestamptz not null,
  status text not null default 'waiting' check (status in ('waiting', 'offered', 'booked', 'expired', 'cancelled')),
  reservation_id bigint,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (restaurant_id, id),
  foreign key (restaurant_id, client_id) references booking.clients (restaurant_id, id),
  foreign key (restaurant_id, reservation_id) references booking.reservations (restaurant_id, id),
  check (latest >= earliest),
  check ((status in ('offered', 'booked')) = (reservation_id is not null)),
  check (client_id is not null or phone is not null or email is not null)
);
comment on table booking.waitlist is 'Guests waiting for a table between earliest and latest (the start they would accept). waiting → offered (reservation_id: a hold on a freed table) → booked when the hold is confirmed; a lapsed or released offer returns to waiting; expired once latest has passed; cancelled when the guest leaves.';
create index waitlist_waiting_idx on booking.waitlist (restaurant_id, created_at, id) where status = 'waiting';
create index waitlist_reservation_idx on booking.waitlist (restaurant_id, reservation_id) where reservation_id is not null;
create trigger _100_touch before update on booking.waitlist
  for each row execute function booking_private.touch_updated_at();

--------------------------------------------------------------------------------------------------
-- Lapsing, offering.

create function booking_private.expire_holds_on(p_restaurant_id bigint, p_tables bigint[], p_during tstzrange) returns void
  language sql volatile
  as $$
  with lapsed as (
    update booking.reservations r set status = 'expired'
    where r.restaurant_id = p_restaurant_id and r.status = 'held' and r.hold_expires_at <= now()
      and r.id in (select rt.reservation_id from booking.reservation_tables rt
                   where rt.restaurant_id = p_restaurant_id and rt.active and rt.table_id = any (p_tables)
                     and rt.during && p_during and rt.hold_expires_at <= now())
    returning r.id)
  update booking.waitlist w set status = 'waiting', reservation_id = null
  where w.restaurant_id = p_restaurant_id and w.status = 'offered' and w.reservation_id in (select l.id from lapsed l)
$$;
comment on function booking_private.expire_holds_on(bigint, bigint[], tstzrange) is 'Marks expired the lapsed holds on p_tables overlapping p_during (a booker is about to take those tables), and returns their waitlist offers to waiting.';

create function booking_private.hold_for(p_restaurant booking.restaurants, p_entry booking.waitlist, p_from timestamptz, p_to timestamptz)
  returns booking.reservations
  language plpgsql volatile
  as $$
declare
  v_from timestamptz := greatest(p_entry.earliest, p_from, now());
  v_to timestamptz := least(p_entry.latest, p_to);
  v_start timestamptz;
  v_hold booking.reservations;
begin
  -- The earliest start between v_from and v_to (inside the entry's window) where the party can
  -- be booked now, as available_table_counts sees it (service periods of the day before may run
  -- past midnight).
  for v_start in
    select c.starts_at
    from generate_series((v_from at time zone p_restaurant.timezone)::date - 1,
                         (v_to at time zone p_restaurant.timezone)::date, interval '1 day') d,
         booking.available_table_counts(p_restaurant.id, d::date, p_entry.guests) c
    where c.tables_available > 0 and c.starts_at between v_from and v_to
    order by c.starts_at
  loop
    begin
      return booking_private.place(p_restaurant.id, v_start, p_entry.guests, p_entry.client_id, null, null, null, null, null,
                                   p_restaurant.waitlist_offer_minutes);
    exception when sqlstate 'PT409' or sqlstate 'PT422' then
      -- Taken by a concurrent booker since it was counted, or no longer bookable (the notice
      -- passed meanwhile): the next start. A refusal never aborts the freeing transaction.
      null;
    end;
  end loop;
  return v_hold;
end;
$$;
comment on function booking_private.hold_for(booking.restaurants, booking.waitlist, timestamptz, timestamptz) is 'A hold of waitlist_offer_minutes at the earliest start between p_from and p_to, inside the entry''s window, where its party can be booked; an empty row when there is none.';

create function booking_private.offer_freed(p_restaurant_id bigint, p_freed tstzrange, p_skip bigint) returns void
  language plpgsql volatile
  as $$
declare
  v_restaurant booking.restaurants;
  v_entry booking.waitlist;
  v_hold booking.reservations;
begin
  select * into v_restaurant from booking.restaurants where id = p_restaurant_id;
  -- Oldest first, each entry locked: two transactions freeing tables at once offer to entries
  -- one after the other (the second sees the first's offer once it commits), so no entry gets
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
      update booking.waitlist w set status = 'offered', reservation_id = v_hold.id where w.id = v_entry.id;
    end if;
  end loop;
end;
$$;
comment on function booking_private.offer_freed(bigint, tstzrange, bigint) is 'After tables free up around p_freed: every waiting entry whose window could use that time, oldest first, gets a hold (an offer) where its party now fits. p_skip (the entry whose offer just lapsed) waits for the next round.';

--------------------------------------------------------------------------------------------------
-- Holds.

create function booking.hold_table(restaurant_id bigint, starts_at timestamptz, guests integer, hold_minutes integer default 5,
                                   table_id bigint default null, area text default null, idempotency_key text default null)
  returns booking.reservations
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
begin
  if hold_table.hold_minutes is null or hold_table.hold_minutes not between 1 and 30 then
    perform booking_private.refuse('22023', format('hold_minutes must be between 1 and 30 (got %s).', coalesce(hold_table.hold_minutes::text, 'null')),
      jsonb_build_object('reason', 'invalid_hold_minutes', 'field', 'hold_minutes'), 'Hold a table for 1 to 30 minutes.');
  end if;
  return booking_private.place(hold_table.restaurant_id, hold_table.starts_at, hold_table.guests, null, hold_table.table_id,
                               hold_table.idempotency_key, null, null, hold_table.area, hold_table.hold_minutes);
end;
$$;
comment on function booking.hold_table(bigint, timestamptz, integer, integer, bigint, text, text) is $$Holds a table while the guest decides: the same validation, table choice, pacing and refusals as book_table, but the row has status held and lapses at hold_expires_at (now + hold_minutes, 1 to 30). A live hold blocks its tables like a booking, for every writer, and counts as taken in available_table_counts; a lapsed one blocks nothing (book_table and hold_table take its table and mark it expired).
Confirm it with confirm_hold, free it with release_hold.
Errors: as book_table; 22023 invalid_hold_minutes.
Example: select * from booking.hold_table(1, '2026-12-12 20:00 Europe/Madrid', 4, hold_minutes => 10);$$;

create function booking.confirm_hold(restaurant_id bigint, reservation_id bigint, client_id bigint default null, notes text default null)
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
    where r.id = v_row.id
    returning * into v_row;
  update booking.waitlist w set status = 'booked'
    where w.restaurant_id = v_restaurant.id and w.reservation_id = v_row.id and w.status = 'offered';
  return v_row;
end;
$$;
comment on function booking.confirm_hold(bigint, bigint, bigint, text) is $$Turns a live hold into a confirmed reservation: the same row, table and time, with the guest (client_id) and notes when given. A waitlist offer so confirmed marks the entry booked. Confirming again returns the reservation.
Errors: PT404 restaurant_not_found, reservation_not_found, client_not_found; PT409 hold_expired (the hold lapsed; detail.alternatives lists the times that day where the party can be booked, its own time included when still free), not_held.
Example: select * from booking.confirm_hold(1, 42, client_id => 7);$$;

create function booking.release_hold(restaurant_id bigint, reservation_id bigint)
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
  update booking.reservations r set status = 'released' where r.id = v_row.id returning * into v_row;
  update booking.waitlist w set status = 'waiting', reservation_id = null
    where w.restaurant_id = v_row.restaurant_id and w.reservation_id = v_row.id and w.status = 'offered'
    returning w.id into v_entry;
  perform booking_private.offer_freed(v_row.restaurant_id, v_row.during, v_entry);
  return v_row;
end;
$$;
comment on function booking.release_hold(bigint, bigint) is $$Frees a hold's tables at once (status released); the waitlist may be offered them in the same transaction. A waitlist offer so declined returns its entry to waiting. Releasing a released or expired hold returns it unchanged.
Errors: PT404 restaurant_not_found, reservation_not_found; PT409 not_held (a confirmed reservation: cancel it instead).
Example: select * from booking.release_hold(1, 42);$$;

create function booking.expire_holds() returns integer
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
declare
  v_hold booking.reservations;
  v_entry bigint;
  v_count integer := 0;
begin
  update booking.waitlist w set status = 'expired' where w.status = 'waiting' and w.latest < now();
  -- A hold being confirmed or released right now is locked: that transaction decides it.
  for v_hold in
    select * from booking.reservations r where r.status = 'held' and r.hold_expires_at <= now()
    order by r.hold_expires_at, r.id
    for update skip locked
  loop
    update booking.reservations r set status = 'expired' where r.id = v_hold.id;
    v_entry := null;
    update booking.waitlist w set status = 'waiting', reservation_id = null
      where w.restaurant_id = v_hold.restaurant_id and w.reservation_id = v_hold.id and w.status = 'offered'
      returning w.id into v_entry;
    perform booking_private.offer_freed(v_hold.restaurant_id, v_hold.during, v_entry);
    v_count := v_count + 1;
  end loop;
  return v_count;
end;
$$;
comment on function booking.expire_holds() is $$The periodic sweep: marks lapsed holds expired (their waitlist entries return to waiting, and the freed tables are offered to the next entries) and waiting entries whose window has passed expired. Returns how many holds it expired. Availability and booking never wait for it: a lapsed hold blocks nothing already.
Example: select booking.expire_holds();$$;

--------------------------------------------------------------------------------------------------
-- The waitlist's SQL API.

create function booking.join_waitlist(restaurant_id bigint, guests integer, earliest timestamptz, latest timestamptz,
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
    update booking.waitlist w set status = 'offered', reservation_id = v_hold.id where w.id = v_entry.id returning * into v_entry;
  end if;
  return v_entry;
end;
$$;
comment on function booking.join_waitlist(bigint, integer, timestamptz, timestamptz, bigint, text, text, text) is $$Puts a party on the waitlist for a start between earliest and latest. When a table frees (a cancellation, a released or lapsed hold, a move, a no-show), the oldest waiting entry that now fits gets a hold of restaurants.waitlist_offer_minutes on it in the same transaction (status offered, reservation_id the hold): confirm it with confirm_hold. When something fits already, the entry is offered at once.
Errors: PT404 restaurant_not_found, client_not_found; PT422 party_too_large, in_past; 22023 invalid_guests, invalid_window (reversed, or longer than 7 days), contact_required; 23514 invalid name, phone or e-mail.
Example: select * from booking.join_waitlist(1, 4, '2026-12-12 20:00 Europe/Madrid', '2026-12-12 21:30 Europe/Madrid', phone => '+34 600 000 000');$$;

create function booking.leave_waitlist(restaurant_id bigint, waitlist_id bigint)
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
  update booking.waitlist w set status = 'cancelled', reservation_id = null where w.id = v_entry.id returning * into v_entry;
  if v_hold.id is not null then
    perform booking_private.offer_freed(v_hold.restaurant_id, v_hold.during, v_entry.id);
  end if;
  return v_entry;
end;
$$;
comment on function booking.leave_waitlist(bigint, bigint) is $$Takes a party off the waitlist (status cancelled); an offer it held is released and offered to the next entry. Leaving again, or after being booked or expired, returns the entry unchanged.
Errors: PT404 restaurant_not_found, waitlist_entry_not_found.
Example: select * from booking.leave_waitlist(1, 3);$$;

--------------------------------------------------------------------------------------------------
-- Freed tables go to the waitlist: cancel, no-show, move.

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
  update booking.reservations r set status = 'cancelled' where r.id = v_row.id returning * into v_row;
  perform booking_private.offer_freed(v_row.restaurant_id, v_row.during, null);
  return v_row;
end;
$$;

create or replace function booking.set_reservation_status(restaurant_id bigint, reservation_id bigint, status text)
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
  if v_row.status in ('no_show', 'cancelled') then
    perform booking_private.offer_freed(v_row.restaurant_id, v_row.during, null);
  end if;
  return v_row;
end;
$$;

create or replace function booking_private.lock_tables(p_tables bigint[], p_during tstzrange, p_bucket_minutes integer, p_wait boolean) returns void
  language plpgsql volatile
  as $$
declare
  v_first integer := floor(extract(epoch from lower(p_during)) / 60 / p_bucket_minutes)::integer;
  v_last integer := ceil(extract(epoch from upper(p_during)) / 60 / p_bucket_minutes)::integer - 1;
  v_table bigint;
  v_bucket integer;
begin
  -- One lock per table and time bucket the stay (with its buffer) covers. Starts lie on the
  -- bucket grid, so two stays share a bucket exactly when they overlap: bookers of overlapping
  -- times of one table meet here, and spread over the tables instead of queueing (or
  -- deadlocking: two conflicting inserts into an exclusion index each wait for the other),
  -- while bookers of other times never see each other's locks (a table row lock covered all
  -- times, and pushed a dinner booker to a bigger table while a lunch booker held the small
  -- one). Transaction-level: it works through PgBouncer in transaction mode, and a failed
  -- attempt's subtransaction releases what it took. Always in table, then bucket order, and
  -- without waiting stop at the first lock held elsewhere: waiters never deadlock among
  -- themselves, and a booker giving up holds the fewest locks another booker could trip on.
  foreach v_table in array (select array_agg(t order by t) from unnest(p_tables) t) loop
    for v_bucket in v_first .. v_last loop
      if p_wait then
        perform pg_advisory_xact_lock((v_table % 2147483647)::integer, v_bucket);
      elsif not pg_try_advisory_xact_lock((v_table % 2147483647)::integer, v_bucket) then
        raise exception 'Table % is being booked for an overlapping time by another transaction.', v_table using errcode = 'lock_not_available';
      end if;
    end loop;
  end loop;
end;
$$;

--------------------------------------------------------------------------------------------------
-- Booking and holding share one body; seating skips lapsed holds, and expires one whose tables
-- it takes; availability counts lapsed holds as free.

create function booking_private.place(
  p_restaurant_id bigint, p_starts_at timestamptz, p_guests integer, p_client_id bigint, p_table_id bigint,
  p_idempotency_key text, p_notes text, p_combination_id bigint, p_area text, p_hold_minutes integer
) returns booking.reservations
  language plpgsql volatile
  as $$
declare
  v_restaurant booking.restaurants;
  v_area text;
  v_arguments jsonb;
  v_fingerprint text;
  v_row booking.reservations;
  v_day date;
  v_minutes integer;
  v_constraint text;
begin
  perform booking_private.check_party(p_guests);
  v_restaurant := booking_private.restaurant(p_restaurant_id);
  if p_idempotency_key is not null then
    v_arguments := jsonb_build_array(extract(epoch from p_starts_at), p_guests, p_client_id,
                                     p_table_id, p_notes);
    -- Keys used before combinations and areas existed keep their fingerprint.
    if p_combination_id is not null or p_area is not null then
      v_arguments := v_arguments || jsonb_build_array(p_combination_id, lower(btrim(p_area)));
    end if;
    if p_hold_minutes is not null then
      v_arguments := v_arguments || jsonb_build_array('hold', p_hold_minutes);
    end if;
    v_fingerprint := md5(v_arguments::text);
    select * into v_row from booking.reservations r
      where r.restaurant_id = v_restaurant.id and r.idempotency_key = p_idempotency_key;
    if found then
      return booking_private.replay(v_row, v_fingerprint);
    end if;
  end if;
  if p_table_id is not null and p_combination_id is not null then
    perform booking_private.refuse('22023', 'Ask for a table_id or a combination_id, not both.',
      jsonb_build_object('reason', 'table_and_combination', 'field', 'combination_id'));
  end if;
  v_area := booking_private.check_area(v_restaurant.id, p_area);
  perform booking_private.check_client(v_restaurant.id, p_client_id);
  v_minutes := booking_private.stay_minutes(v_restaurant, p_guests);
  v_day := booking_private.assert_bookable(v_restaurant, p_starts_at, p_guests, v_minutes, v_area);
  if p_table_id is not null then
    perform booking_private.check_table(v_restaurant.id, p_table_id, p_guests);
    if v_area is not null and not exists (select 1 from booking.tables t where t.restaurant_id = v_restaurant.id and t.id = p_table_id and t.area = v_area) then
      perform booking_private.refuse('PT422', format('Table %s is not in area %s.', p_table_id, v_area),
        jsonb_build_object('reason', 'not_in_area', 'area', v_area), 'Ask without area, or without table_id.');
    end if;
  end if;
  if p_combination_id is not null then
    perform booking_private.check_combination(v_restaurant.id, p_combination_id, p_guests, v_area);
  end if;
  perform booking_private.check_pacing(v_restaurant, v_day, p_starts_at, p_guests, null, v_area);
  v_row.restaurant_id := v_restaurant.id;
  v_row.client_id := p_client_id;
  v_row.starts_at := p_starts_at;
  v_row.ends_at := p_starts_at + make_interval(mins => v_minutes);
  v_row.guests := p_guests;
  v_row.idempotency_key := p_idempotency_key;
  v_row.request_fingerprint := v_fingerprint;
  v_row.notes := p_notes;
  if p_hold_minutes is not null then
    v_row.status := 'held';
    v_row.hold_expires_at := now() + make_interval(mins => p_hold_minutes);
  end if;
  begin
    v_row := booking_private.seat(v_row, v_restaurant, v_area, p_table_id, p_combination_id, null, null);
  exception when unique_violation then
    get stacked diagnostics v_constraint = constraint_name;
    if v_constraint <> 'reservations_idempotency_key' then
      raise;
    end if;
    -- A concurrent call with the same key committed first: this call is its replay.
    select * into v_row from booking.reservations r
      where r.restaurant_id = v_restaurant.id and r.idempotency_key = p_idempotency_key;
    return booking_private.replay(v_row, v_fingerprint);
  end;
  if v_row.id is not null then
    return v_row;
  end if;
  perform booking_private.refuse_unseated(v_restaurant, v_day, p_starts_at, p_guests,
                                          p_table_id, p_combination_id, v_area);
  return null;
end;
$$;
comment on function booking_private.place(bigint, timestamptz, integer, bigint, bigint, text, text, bigint, text, integer) is 'book_table and hold_table: validates, seats the party and returns the row; with p_hold_minutes, the row is a hold (status held) that lapses then.';

create or replace function booking.book_table(
  restaurant_id bigint, starts_at timestamptz, guests integer,
  client_id bigint default null, table_id bigint default null,
  idempotency_key text default null, notes text default null,
  combination_id bigint default null, area text default null
) returns booking.reservations
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
begin
  return booking_private.place(book_table.restaurant_id, book_table.starts_at, book_table.guests, book_table.client_id,
                               book_table.table_id, book_table.idempotency_key, book_table.notes, book_table.combination_id,
                               book_table.area, null);
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
    v_busy := array(
      select rt.table_id from booking.reservation_tables rt
      where rt.restaurant_id = p_row.restaurant_id and rt.active and rt.during && v_during
        and (rt.hold_expires_at is null or rt.hold_expires_at > now())
        and rt.reservation_id is distinct from p_row.id);
    v_lapsed := array(
      select rt.table_id from booking.reservation_tables rt
      where rt.restaurant_id = p_row.restaurant_id and rt.active and rt.during && v_during and rt.hold_expires_at <= now());
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

create or replace function booking.available_table_counts(restaurant_id bigint, day date, guests integer, area text default null)
  returns table (starts_at timestamptz, local_time text, tables_available integer)
  language plpgsql stable security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_restaurant booking.restaurants;
  v_area text;
  v_stay interval;
  v_step interval;
  v_block interval;
  v_combinations jsonb;
  v_paced boolean;
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
  v_area := booking_private.check_area(v_restaurant.id, available_table_counts.area);
  v_stay := make_interval(mins => booking_private.stay_minutes(v_restaurant, available_table_counts.guests));
  v_step := make_interval(mins => v_restaurant.slot_minutes);
  v_block := v_stay + make_interval(mins => v_restaurant.buffer_minutes);
  v_combinations := booking_private.usable_combinations(v_restaurant.id, available_table_counts.guests, v_area);
  v_paced := exists (select 1 from booking.pacing_limits pl where pl.restaurant_id = v_restaurant.id);
  -- Slots step through real time from the (grid-aligned) opening instant, so a local time
  -- skipped by DST is no slot and a repeated one is two. The day's held tables are read once
  -- and counted per slot, rather than probing the overlap index once per slot and table. Per
  -- slot: the free fitting single tables, then the combinations sequential bookings would still
  -- seat, capped by the covers pacing leaves for parties of this size.
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
      and (v_area is null or t.area = v_area)
  ),
  busy as materialized (
    select rt.table_id, rt.during, rt.table_id in (select f.id from fitting f) as fits
    from booking.reservation_tables rt
    where rt.restaurant_id = v_restaurant.id and rt.active
      and (rt.hold_expires_at is null or rt.hold_expires_at > now())
      and (v_combinations is not null or rt.table_id in (select f.id from fitting f))
      and rt.during && tstzrange((select min(slot) from slots), (select max(slot) from slots) + v_block)
  ),
  counted as (
    select s.slot,
           (select count(*) from fitting) - count(distinct b.table_id) filter (where b.fits) as singles,
           case when v_combinations is not null
                then booking_private.free_combinations(v_combinations, array_agg(b.table_id) filter (where b.table_id is not null))
                else 0 end as combinations
    from slots s
    left join busy b on b.during && tstzrange(s.slot, s.slot + v_block)
    group by s.slot
  )
  select c.slot,
         to_char(c.slot at time zone v_restaurant.timezone, 'HH24:MI'),
         least(c.singles + c.combinations,
               -- null (no cap) where no pacing limit covers the slot: least() ignores it.
               case when v_paced then
                 (select greatest(p.cap - booking_private.booked_covers(v_restaurant.id, c.slot, v_restaurant.slot_minutes, null), 0)
                         / available_table_counts.guests
                  from (select booking_private.pacing_cap(v_restaurant, c.slot) as cap) p
                  where p.cap is not null) end)::integer
  from counted c
  order by c.slot;
end;
$$;

create or replace function booking.reschedule_reservation(restaurant_id bigint, reservation_id bigint, starts_at timestamptz default null,
                                               guests integer default null, table_id bigint default null,
                                               combination_id bigint default null, area text default null)
  returns booking.reservations
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_restaurant booking.restaurants;
  v_area text;
  v_row booking.reservations;
  v_old booking.reservations;
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
  if reschedule_reservation.table_id is not null and reschedule_reservation.combination_id is not null then
    perform booking_private.refuse('22023', 'Ask for a table_id or a combination_id, not both.',
      jsonb_build_object('reason', 'table_and_combination', 'field', 'combination_id'));
  end if;
  v_area := booking_private.check_area(v_restaurant.id, reschedule_reservation.area);
  v_starts_at := coalesce(reschedule_reservation.starts_at, v_row.starts_at);
  v_guests := coalesce(reschedule_reservation.guests, v_row.guests);
  perform booking_private.check_party(v_guests);
  v_minutes := booking_private.stay_minutes(v_restaurant, v_guests);
  v_day := booking_private.assert_bookable(v_restaurant, v_starts_at, v_guests, v_minutes, v_area);
  if reschedule_reservation.table_id is not null then
    perform booking_private.check_table(v_restaurant.id, reschedule_reservation.table_id, v_guests);
    if v_area is not null and not exists (select 1 from booking.tables t where t.restaurant_id = v_restaurant.id and t.id = reschedule_reservation.table_id and t.area = v_area) then
      perform booking_private.refuse('PT422', format('Table %s is not in area %s.', reschedule_reservation.table_id, v_area),
        jsonb_build_object('reason', 'not_in_area', 'area', v_area), 'Ask without area, or without table_id.');
    end if;
  end if;
  if reschedule_reservation.combination_id is not null then
    perform booking_private.check_combination(v_restaurant.id, reschedule_reservation.combination_id, v_guests, v_area);
  end if;
  perform booking_private.check_pacing(v_restaurant, v_day, v_starts_at, v_guests, v_row.id, v_area);
  v_old := v_row;
  v_row.starts_at := v_starts_at;
  v_row.ends_at := v_starts_at + make_interval(mins => v_minutes);
  v_row.guests := v_guests;
  -- Keep the party where it sits when that place is still free (and in the area asked for).
  v_row := booking_private.seat(v_row, v_restaurant, v_area, reschedule_reservation.table_id, reschedule_reservation.combination_id,
                                case when v_row.combination_id is null then v_row.table_id end, v_row.combination_id);
  if v_row.id is not null then
    if (v_row.during, v_row.table_id, v_row.combination_id) is distinct from (v_old.during, v_old.table_id, v_old.combination_id) then
      perform booking_private.offer_freed(v_row.restaurant_id, v_old.during, null);
    end if;
    return v_row;
  end if;
  perform booking_private.refuse_unseated(v_restaurant, v_day, v_starts_at, v_guests,
                                          reschedule_reservation.table_id, reschedule_reservation.combination_id, v_area);
  return null;
end;
$$;

--------------------------------------------------------------------------------------------------
-- The API role.

grant select on booking.waitlist to :DATABASE_API_ROLE;
grant execute on function
  booking.hold_table(bigint, timestamptz, integer, integer, bigint, text, text),
  booking.confirm_hold(bigint, bigint, bigint, text),
  booking.release_hold(bigint, bigint),
  booking.join_waitlist(bigint, integer, timestamptz, timestamptz, bigint, text, text, text),
  booking.leave_waitlist(bigint, bigint)
  to :DATABASE_API_ROLE;
