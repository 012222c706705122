--! Previous: sha1:86198e7e3eb59491ce321c58010dafdf3f404561
--! Hash: sha1:69c68bcf77fd358ab4a69f1223ee5f03142bd33e
--! Message: Seating: areas, table combinations, pacing, per-table guard

-- Seating the way a dining room works: areas, tables joined into combinations, the tables each
-- reservation holds (guarded per table by the exclusion rule, for any writer), pacing of covers
-- per slot, and a lock scoped to a table *and the time its stay covers*, so bookers of unrelated
-- times of the same table never block or displace each other.
--
-- Re-runnable while it is current.sql (graphile-migrate watch): everything it creates is dropped
-- first.

drop function if exists booking.book_table(bigint, timestamptz, integer, bigint, bigint, text, text, bigint, text);
drop function if exists booking.reschedule_reservation(bigint, bigint, timestamptz, integer, bigint, bigint, text);
drop function if exists booking.available_table_counts(bigint, date, integer, text);
drop function if exists booking.held_tables(bigint, bigint);
drop function if exists booking_private.seat(booking.reservations, booking.restaurants, text, bigint, bigint, bigint, bigint);
drop function if exists booking_private.seating_candidates(bigint, integer, text, bigint[], bigint[], bigint[], bigint, bigint, bigint, bigint);
drop function if exists booking_private.lock_tables(bigint[], tstzrange, integer, boolean);
drop function if exists booking_private.assert_bookable(booking.restaurants, timestamptz, integer, integer, text);
drop function if exists booking_private.check_area(bigint, text);
drop function if exists booking_private.check_combination(bigint, bigint, integer, text);
drop function if exists booking_private.usable_combinations(bigint, integer, text);
drop function if exists booking_private.free_combinations(jsonb, bigint[]);
drop function if exists booking_private.pacing_cap(booking.restaurants, timestamptz);
drop function if exists booking_private.booked_covers(bigint, timestamptz, integer, bigint);
drop function if exists booking_private.check_pacing(booking.restaurants, date, timestamptz, integer, bigint, text);
drop function if exists booking_private.alternatives(booking.restaurants, date, timestamptz, integer, text);
drop function if exists booking_private.refuse_unseated(booking.restaurants, date, timestamptz, integer, bigint, bigint, text);
drop table if exists booking.reservation_tables, booking.pacing_limits, booking.table_combination_members cascade;
alter table booking.reservations drop column if exists combination_id cascade;
drop table if exists booking.table_combinations cascade;
drop function if exists booking_private.sync_reservation_tables();
drop function if exists booking_private.reservation_combination();
drop function if exists booking_private.check_combination_size();
drop function if exists booking_private.only_by_trigger();
alter table booking.opening_hours drop constraint if exists opening_hours_no_overlap;
drop function if exists booking_private.period_minutes(time, time);
alter table booking.tables drop column if exists area;

--------------------------------------------------------------------------------------------------
-- Opening periods of one weekday never overlap.

create function booking_private.period_minutes(p_opens time, p_closes time) returns int4range
  language sql immutable parallel safe
  as $$
  select int4range((extract(epoch from p_opens) / 60)::integer,
                   (extract(epoch from p_closes) / 60)::integer + case when p_closes <= p_opens then 1440 else 0 end)
$$;
comment on function booking_private.period_minutes(time, time) is 'An opening period as minutes after the start of its weekday; a period past midnight ends after 1440.';

alter table booking.opening_hours add constraint opening_hours_no_overlap
  exclude using gist (restaurant_id with =, weekday with =, (booking_private.period_minutes(opens, closes)) with &&);

--------------------------------------------------------------------------------------------------
-- Areas.

alter table booking.tables add column area text
  constraint tables_area_check check (area ~ '^[a-z0-9][a-z0-9_-]{0,49}$');
comment on column booking.tables.area is 'Where the table stands (e.g. inside, terrace, bar): a lower-case word of at most 50 characters; null = no area. Bookings and availability may ask for one area.';

--------------------------------------------------------------------------------------------------
-- Combinations: tables pushed together for a larger party.

create table booking.table_combinations (
  id bigint generated always as identity primary key,
  restaurant_id bigint not null references booking.restaurants on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 100),
  min_guests integer not null default 1,
  capacity integer not null check (capacity <= 20),
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (restaurant_id, name),
  unique (restaurant_id, id),
  check (capacity >= min_guests and min_guests >= 1)
);
comment on table booking.table_combinations is 'Tables a restaurant pushes together for one party. capacity is set by the DBA (joined tables lose seats at the join), at most 20; a party of n fits when min_guests <= n <= capacity. A combination is offered only when it is active and every member table is active.';
create trigger _100_touch before update on booking.table_combinations
  for each row execute function booking_private.touch_updated_at();

create table booking.table_combination_members (
  restaurant_id bigint not null,
  combination_id bigint not null,
  table_id bigint not null,
  primary key (restaurant_id, combination_id, table_id),
  foreign key (restaurant_id, combination_id) references booking.table_combinations (restaurant_id, id) on delete cascade,
  foreign key (restaurant_id, table_id) references booking.tables (restaurant_id, id) on delete cascade
);
comment on table booking.table_combination_members is 'The tables of a combination (at least two, all of the combination''s restaurant: the composite foreign keys see to it).';
create index table_combination_members_table_idx on booking.table_combination_members (restaurant_id, table_id);

create function booking_private.check_combination_size() returns trigger
  language plpgsql volatile
  as $$
declare
  v_restaurant_id bigint;
  v_combination_id bigint;
begin
  if tg_table_name = 'table_combinations' then
    v_restaurant_id := new.restaurant_id;
    v_combination_id := new.id;
  else
    v_restaurant_id := old.restaurant_id;
    v_combination_id := old.combination_id;
  end if;
  if exists (select 1 from booking.table_combinations c where c.restaurant_id = v_restaurant_id and c.id = v_combination_id)
     and (select count(*) from booking.table_combination_members m
           where m.restaurant_id = v_restaurant_id and m.combination_id = v_combination_id) < 2 then
    raise exception 'Combination % must join at least two tables.', v_combination_id
      using errcode = 'check_violation', constraint = 'table_combinations_min_members',
            hint = 'Insert the combination and its member tables in one transaction.';
  end if;
  return null;
end;
$$;
comment on function booking_private.check_combination_size() is 'Constraint trigger, checked at commit: a combination joins at least two tables (23514).';
-- Deferred to commit, so a combination and its members can be written in either order.
create constraint trigger _100_min_members after insert on booking.table_combinations
  deferrable initially deferred for each row execute function booking_private.check_combination_size();
create constraint trigger _100_min_members after update or delete on booking.table_combination_members
  deferrable initially deferred for each row execute function booking_private.check_combination_size();

alter table booking.reservations add column combination_id bigint,
  add constraint reservations_combination_fkey foreign key (restaurant_id, combination_id)
    references booking.table_combinations (restaurant_id, id);
comment on column booking.reservations.combination_id is 'The combination the party sits at (null for a single table); table_id is then its first member table.';
comment on column booking.reservations.table_id is 'The table the party sits at; for a combination, its first member (booking.reservation_tables lists every table held).';
create index reservations_combination_idx on booking.reservations (restaurant_id, combination_id) where combination_id is not null;

create function booking_private.reservation_combination() returns trigger
  language plpgsql volatile
  as $$
declare
  v_first bigint;
begin
  if new.combination_id is not null then
    select min(m.table_id) into v_first from booking.table_combination_members m
      where m.restaurant_id = new.restaurant_id and m.combination_id = new.combination_id;
    new.table_id := coalesce(new.table_id, v_first);
    if new.table_id is distinct from v_first
       and not exists (select 1 from booking.table_combination_members m
                        where m.restaurant_id = new.restaurant_id and m.combination_id = new.combination_id and m.table_id = new.table_id) then
      raise exception 'Table % is not part of combination %.', new.table_id, new.combination_id
        using errcode = 'check_violation', constraint = 'reservations_table_in_combination';
    end if;
  end if;
  return new;
end;
$$;
comment on function booking_private.reservation_combination() is 'Trigger: a reservation at a combination has table_id null (set to the first member) or one of the combination''s tables (else 23514).';
create trigger _150_combination before insert or update of table_id, combination_id on booking.reservations
  for each row execute function booking_private.reservation_combination();

--------------------------------------------------------------------------------------------------
-- The tables each reservation holds: the per-table guard.

create table booking.reservation_tables (
  restaurant_id bigint not null,
  reservation_id bigint not null,
  table_id bigint not null,
  during tstzrange not null check (not isempty(during)),
  active boolean not null,
  primary key (restaurant_id, reservation_id, table_id),
  foreign key (restaurant_id, reservation_id) references booking.reservations (restaurant_id, id) on delete cascade,
  foreign key (restaurant_id, table_id) references booking.tables (restaurant_id, id),
  constraint reservation_tables_no_overlap exclude using gist (
    restaurant_id with =, table_id with =, during with &&
  ) where (active)
);
comment on table booking.reservation_tables is 'Every table a reservation holds (one row for a single table, one per member for a combination), kept by trigger from booking.reservations: never written by hand. Two active rows of one table never overlap, buffer included: the exclusion constraint reservation_tables_no_overlap guarantees it at commit, for any writer.';
comment on column booking.reservation_tables.active is 'The reservation is confirmed or seated: only active rows block the table.';

-- The per-table rule replaces the one on reservations.table_id: a combination holds more tables
-- than table_id names, and one guard is cheaper to keep than two.
alter table booking.reservations drop constraint if exists reservations_no_overlap;

insert into booking.reservation_tables (restaurant_id, reservation_id, table_id, during, active)
  select r.restaurant_id, r.id, r.table_id, r.during, r.status in ('confirmed', 'seated') from booking.reservations r;

create function booking_private.sync_reservation_tables() returns trigger
  language plpgsql volatile
  as $$
declare
  v_active boolean := new.status in ('confirmed', 'seated');
begin
  if tg_op = 'UPDATE' and (new.table_id, new.combination_id) is not distinct from (old.table_id, old.combination_id) then
    if (new.during, new.status) is distinct from (old.during, old.status) then
      update booking.reservation_tables rt set during = new.during, active = v_active
        where rt.restaurant_id = new.restaurant_id and rt.reservation_id = new.id;
    end if;
    return null;
  end if;
  if tg_op = 'UPDATE' then
    delete from booking.reservation_tables rt where rt.restaurant_id = old.restaurant_id and rt.reservation_id = old.id;
  end if;
  -- Members in table order, so two bookers of overlapping combinations wait for each other in
  -- one order and never deadlock in the exclusion index.
  insert into booking.reservation_tables (restaurant_id, reservation_id, table_id, during, active)
    select new.restaurant_id, new.id, t.table_id, new.during, v_active
    from (select new.table_id as table_id where new.combination_id is null
          union all
          select m.table_id from booking.table_combination_members m
           where m.restaurant_id = new.restaurant_id and m.combination_id = new.combination_id) t
    order by t.table_id;
  return null;
end;
$$;
comment on function booking_private.sync_reservation_tables() is 'Trigger: keeps booking.reservation_tables equal to the tables each reservation holds, with its blocked time and whether it is active.';
-- starts_at and ends_at are listed because a column a BEFORE trigger changes (during) does not
-- fire an UPDATE OF trigger by itself.
create trigger _500_tables after insert or update of restaurant_id, table_id, combination_id, starts_at, ends_at, during, status
  on booking.reservations
  for each row execute function booking_private.sync_reservation_tables();

create function booking_private.only_by_trigger() returns trigger
  language plpgsql volatile
  as $$
begin
  -- Depth 1 is a statement on this table itself; the reservations trigger and cascades run deeper.
  if pg_trigger_depth() < 2 then
    raise exception '% is kept by trigger from booking.reservations.', tg_table_name
      using errcode = 'insufficient_privilege', hint = 'Write booking.reservations (table_id, combination_id, status) instead.';
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end;
$$;
comment on function booking_private.only_by_trigger() is 'Trigger: refuses direct writes to a table that another table''s trigger keeps (42501).';
create trigger _100_only_by_trigger before insert or update or delete on booking.reservation_tables
  for each row execute function booking_private.only_by_trigger();

-- History: moving to another combination is a move.
create or replace function booking_private.record_reservation_event() returns trigger
  language plpgsql volatile
  as $$
declare
  v_action text;
begin
  if tg_op = 'INSERT' then
    v_action := 'created';
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

--------------------------------------------------------------------------------------------------
-- Pacing.

create table booking.pacing_limits (
  id bigint generated always as identity primary key,
  restaurant_id bigint not null references booking.restaurants on delete cascade,
  weekday smallint check (weekday between 1 and 7),
  opens time not null,
  closes time not null,
  max_covers integer not null check (max_covers between 1 and 10000),
  unique (restaurant_id, id),
  check (closes > opens)
);
comment on table booking.pacing_limits is 'How many covers the kitchen can start per slot: the guests of active reservations starting in one slot whose local start time is in [opens, closes) on weekday (ISO, null = every day) never add up to more than max_covers. Where several rows apply, the smallest wins. A window past midnight is two rows (closes may be 24:00).';
create index pacing_limits_restaurant_idx on booking.pacing_limits (restaurant_id);

create function booking_private.pacing_cap(p_restaurant booking.restaurants, p_slot timestamptz) returns integer
  language sql stable
  as $$
  select min(pl.max_covers) from booking.pacing_limits pl
  where pl.restaurant_id = p_restaurant.id
    and (pl.weekday is null or pl.weekday = extract(isodow from p_slot at time zone p_restaurant.timezone))
    and pl.opens <= (p_slot at time zone p_restaurant.timezone)::time
    and (p_slot at time zone p_restaurant.timezone)::time < pl.closes
$$;
comment on function booking_private.pacing_cap(booking.restaurants, timestamptz) is 'The most covers that may start in the slot beginning at p_slot; null when no pacing limit applies.';

create function booking_private.booked_covers(p_restaurant_id bigint, p_slot timestamptz, p_slot_minutes integer, p_ignore bigint)
  returns integer
  language sql stable
  as $$
  select coalesce(sum(x.guests), 0)::integer from booking.reservations x
  where x.restaurant_id = p_restaurant_id and x.status in ('confirmed', 'seated')
    and x.starts_at >= p_slot and x.starts_at < p_slot + make_interval(mins => p_slot_minutes)
    and x.id is distinct from p_ignore
$$;
comment on function booking_private.booked_covers(bigint, timestamptz, integer, bigint) is 'Guests of the active reservations starting in the slot beginning at p_slot (p_ignore left out).';

--------------------------------------------------------------------------------------------------
-- Areas and combinations as the booking functions see them.

create function booking_private.check_area(p_restaurant_id bigint, p_area text) returns text
  language plpgsql stable
  as $$
declare
  v_area text := lower(btrim(p_area));
  v_areas jsonb;
begin
  if p_area is null or exists (select 1 from booking.tables t where t.restaurant_id = p_restaurant_id and t.area = v_area) then
    return v_area;
  end if;
  select coalesce(jsonb_agg(distinct t.area), '[]') into v_areas
    from booking.tables t where t.restaurant_id = p_restaurant_id and t.area is not null;
  perform booking_private.refuse('PT422', format('This restaurant has no area %s.', quote_literal(p_area)),
    jsonb_build_object('reason', 'unknown_area', 'field', 'area', 'areas', v_areas),
    case when jsonb_array_length(v_areas) = 0 then 'This restaurant has no areas; ask without one.'
         else format('Ask for one of: %s.', (select string_agg(a, ', ') from jsonb_array_elements_text(v_areas) a)) end);
end;
$$;
comment on function booking_private.check_area(bigint, text) is 'The area a booking asks for, lower-cased, or PT422 unknown_area listing the restaurant''s areas; null stays null.';

create function booking_private.check_combination(p_restaurant_id bigint, p_combination_id bigint, p_guests integer, p_area text) returns void
  language plpgsql stable
  as $$
declare
  v_combination booking.table_combinations;
begin
  select * into v_combination from booking.table_combinations c where c.restaurant_id = p_restaurant_id and c.id = p_combination_id;
  if not found then
    perform booking_private.refuse('PT404', format('Combination %s not found.', p_combination_id), jsonb_build_object('reason', 'combination_not_found'));
  end if;
  if not v_combination.active or exists (
       select 1 from booking.table_combination_members m join booking.tables t on t.restaurant_id = m.restaurant_id and t.id = m.table_id
        where m.restaurant_id = p_restaurant_id and m.combination_id = p_combination_id and not t.active) then
    perform booking_private.refuse('PT422', format('Combination %s is not in service.', v_combination.name),
      jsonb_build_object('reason', 'combination_inactive'), 'Book without combination_id to get the best free table.');
  end if;
  if p_guests not between v_combination.min_guests and v_combination.capacity then
    perform booking_private.refuse('PT422', format('Combination %s seats %s to %s guests.', v_combination.name, v_combination.min_guests, v_combination.capacity),
      jsonb_build_object('reason', 'combination_does_not_fit', 'min_guests', v_combination.min_guests, 'capacity', v_combination.capacity),
      'Book without combination_id to get the best free table.');
  end if;
  if p_area is not null and exists (
       select 1 from booking.table_combination_members m join booking.tables t on t.restaurant_id = m.restaurant_id and t.id = m.table_id
        where m.restaurant_id = p_restaurant_id and m.combination_id = p_combination_id and t.area is distinct from p_area) then
    perform booking_private.refuse('PT422', format('Combination %s is not in area %s.', v_combination.name, p_area),
      jsonb_build_object('reason', 'not_in_area', 'area', p_area), 'Ask without area, or without combination_id.');
  end if;
end;
$$;
comment on function booking_private.check_combination(bigint, bigint, integer, text) is 'Refuses a requested combination that does not exist in the restaurant (PT404), is inactive or has an inactive member, does not fit the party, or lies outside the requested area (PT422).';

-- The table check gains the area: a requested table outside it is refused.
create or replace function booking_private.check_table(p_restaurant_id bigint, p_table_id bigint, p_guests integer) returns void
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

create function booking_private.usable_combinations(p_restaurant_id bigint, p_guests integer, p_area text) returns jsonb
  language sql stable
  as $$
  -- A combination holding a table that seats the party alone is never reached by sequential
  -- bookings: book_table gives every such table away before it tries a combination.
  select jsonb_agg(m.tables order by c.capacity, cardinality(m.tables), c.id)
  from booking.table_combinations c
  cross join lateral (
    select array_agg(cm.table_id order by cm.table_id) as tables,
           bool_and(t.active and (p_area is null or t.area = p_area)) as usable,
           bool_or(t.min_guests <= p_guests and t.capacity >= p_guests) as holds_fitting_table
    from booking.table_combination_members cm
    join booking.tables t on t.restaurant_id = cm.restaurant_id and t.id = cm.table_id
    where cm.restaurant_id = c.restaurant_id and cm.combination_id = c.id) m
  where c.restaurant_id = p_restaurant_id and c.active and c.min_guests <= p_guests and c.capacity >= p_guests
    and m.usable and not m.holds_fitting_table
$$;
comment on function booking_private.usable_combinations(bigint, integer, text) is 'The member tables of each combination book_table could seat the party at once no single table is left, in the order it tries them; null when none.';

create function booking_private.free_combinations(p_combinations jsonb, p_busy bigint[]) returns integer
  language plpgsql immutable
  as $$
declare
  v_used bigint[] := coalesce(p_busy, '{}');
  v_tables bigint[];
  v_count integer := 0;
  v_members jsonb;
begin
  -- The combinations booked one after another, in book_table's order: each takes its tables.
  for v_members in select value from jsonb_array_elements(p_combinations) loop
    v_tables := array(select jsonb_array_elements_text(v_members)::bigint);
    if not (v_tables && v_used) then
      v_count := v_count + 1;
      v_used := v_used || v_tables;
    end if;
  end loop;
  return v_count;
end;
$$;
comment on function booking_private.free_combinations(jsonb, bigint[]) is 'How many of the combinations (member arrays, in booking order) sequential bookings would seat when the tables p_busy are taken.';

--------------------------------------------------------------------------------------------------
-- Availability.

drop function if exists booking.available_table_counts(bigint, date, integer);
create function booking.available_table_counts(restaurant_id bigint, day date, guests integer, area text default null)
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
comment on function booking.available_table_counts(bigint, date, integer, text) is $$Every bookable start time of a local day (service periods that open that day) with tables_available: how many more parties of that size book_table would seat at that start, one after another.
That counts the free active tables that fit the party, then the combinations book_table would still seat once those are gone (a combination whose member is taken does not count, and two sharing a table count once), capped by the covers the restaurant's pacing limit leaves at that slot. With area, only tables (and combinations whose members all are) in that area.
Slots follow the restaurant's grid from each opening time, leave room for the whole stay before closing, and respect the notice and horizon. Across DST, a local time that does not exist is not listed and one that happens twice is listed twice with distinct starts_at.
Errors: PT404 restaurant_not_found; PT422 party_too_large, unknown_area (detail.areas lists the restaurant's areas); 22023 invalid_guests.
Example: select * from booking.available_table_counts(1, '2026-12-12', 4, area => 'terrace');$$;

--------------------------------------------------------------------------------------------------
-- Refusals.

drop function if exists booking_private.no_table_error(booking.restaurants, date, timestamptz, integer, bigint);

create function booking_private.alternatives(p_restaurant booking.restaurants, p_day date, p_starts_at timestamptz, p_guests integer, p_area text)
  returns jsonb
  language sql stable
  as $$
  select coalesce(jsonb_agg(jsonb_build_object('starts_at', a.starts_at, 'local_time', a.local_time, 'tables_available', a.tables_available)
                            order by abs(extract(epoch from a.starts_at - p_starts_at)), a.starts_at), '[]')
  from (select * from booking.available_table_counts(p_restaurant.id, p_day, p_guests, p_area) c
        where c.tables_available > 0 and c.starts_at <> p_starts_at
        order by abs(extract(epoch from c.starts_at - p_starts_at)), c.starts_at
        limit 5) a
$$;
comment on function booking_private.alternatives(booking.restaurants, date, timestamptz, integer, text) is 'Up to five slots of the service day nearest to p_starts_at where the party can be booked (a table free and the covers within pacing), nearest first.';

create function booking_private.refuse_unseated(p_restaurant booking.restaurants, p_day date, p_starts_at timestamptz, p_guests integer,
                                                p_table_id bigint, p_combination_id bigint, p_area text)
  returns void
  language plpgsql stable
  as $$
declare
  v_alternatives jsonb := booking_private.alternatives(p_restaurant, p_day, p_starts_at, p_guests, p_area);
  v_hint text := case when jsonb_array_length(v_alternatives) > 0 then 'Offer one of the alternatives: the nearest times that day with a free table.'
                      else 'Nothing is free that day for this party; ask for another day.' end;
begin
  if p_table_id is not null then
    perform booking_private.refuse('PT409', 'That table is already booked at that time.',
      jsonb_build_object('reason', 'table_taken', 'alternatives', v_alternatives),
      'Book without table_id, or offer one of the alternatives.');
  end if;
  if p_combination_id is not null then
    perform booking_private.refuse('PT409', 'A table of that combination is already booked at that time.',
      jsonb_build_object('reason', 'combination_taken', 'alternatives', v_alternatives),
      'Book without combination_id, or offer one of the alternatives.');
  end if;
  if p_area is not null then
    perform booking_private.refuse('PT409', format('No table for %s is free in area %s at that time.', p_guests, p_area),
      jsonb_build_object('reason', 'all_tables_taken', 'area', p_area, 'alternatives', v_alternatives),
      v_hint || ' Other areas may have a table: ask without area.');
  end if;
  perform booking_private.refuse('PT409', format('No table for %s is free at that time.', p_guests),
    jsonb_build_object('reason', 'all_tables_taken', 'alternatives', v_alternatives), v_hint);
end;
$$;
comment on function booking_private.refuse_unseated(booking.restaurants, date, timestamptz, integer, bigint, bigint, text) is 'Raises PT409 (table_taken, combination_taken or all_tables_taken, naming the area when one was asked for) with up to five alternatives.';

create function booking_private.check_pacing(p_restaurant booking.restaurants, p_day date, p_starts_at timestamptz, p_guests integer,
                                             p_ignore bigint, p_area text)
  returns void
  language plpgsql volatile
  as $$
declare
  v_cap integer := booking_private.pacing_cap(p_restaurant, p_starts_at);
  v_booked integer;
begin
  if v_cap is null then
    return;
  end if;
  -- Bookers of one restaurant and slot take turns here, so the covers read next include every
  -- committed competitor (each statement of a volatile function sees a fresh snapshot). Bookers
  -- of other slots, or of restaurants without pacing, never wait for this lock.
  perform pg_advisory_xact_lock(hashtextextended(format('nora.pacing %s %s', p_restaurant.id, extract(epoch from p_starts_at)), 0));
  v_booked := booking_private.booked_covers(p_restaurant.id, p_starts_at, p_restaurant.slot_minutes, p_ignore);
  if v_booked + p_guests > v_cap then
    perform booking_private.refuse('PT409', format('The kitchen takes at most %s covers starting then; %s are booked.', v_cap, v_booked),
      jsonb_build_object('reason', 'pacing_limit', 'max_covers', v_cap, 'booked_covers', v_booked,
                         'alternatives', booking_private.alternatives(p_restaurant, p_day, p_starts_at, p_guests, p_area)),
      'Offer one of the alternatives: the nearest times that day where a table and the covers fit.');
  end if;
end;
$$;
comment on function booking_private.check_pacing(booking.restaurants, date, timestamptz, integer, bigint, text) is 'Refuses (PT409 pacing_limit, with alternatives) a party whose covers would take the slot starting at p_starts_at past its pacing limit; waits for the other bookers of that slot first.';

create function booking_private.assert_bookable(p_restaurant booking.restaurants, p_starts_at timestamptz, p_guests integer, p_minutes integer, p_area text)
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
  -- The largest single table or combination (whole and in service) that takes a party this big.
  select max(x.capacity) into v_largest from (
    select t.capacity from booking.tables t
      where t.restaurant_id = p_restaurant.id and t.active and t.min_guests <= p_guests and (p_area is null or t.area = p_area)
    union all
    select c.capacity from booking.table_combinations c
      where c.restaurant_id = p_restaurant.id and c.active and c.min_guests <= p_guests
        and not exists (select 1 from booking.table_combination_members m join booking.tables t on t.restaurant_id = m.restaurant_id and t.id = m.table_id
                         where m.restaurant_id = c.restaurant_id and m.combination_id = c.id
                           and not (t.active and (p_area is null or t.area = p_area)))) x;
  if v_largest is null or v_largest < p_guests then
    perform booking_private.refuse('PT422',
      case when p_area is null then format('No table here seats a party of %s.', p_guests)
           else format('No table in area %s seats a party of %s.', p_area, p_guests) end,
      jsonb_build_object('reason', 'no_table_fits', 'largest_table', v_largest)
        || case when p_area is null then '{}' else jsonb_build_object('area', p_area) end,
      case when p_area is null then 'Suggest splitting the party or calling the restaurant.'
           else 'Ask without area: another part of the restaurant may seat the party.' end);
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
comment on function booking_private.assert_bookable(booking.restaurants, timestamptz, integer, integer, text) is 'Refuses (PT422 with a reason) a start that is in the past, too soon, beyond the horizon, off the local slot grid, outside an opening period, on a closure day or whose stay ends after closing, and a party no active table or combination (in p_area, when given) can seat. Returns the local day the service period opened.';
drop function if exists booking_private.assert_bookable(booking.restaurants, timestamptz, integer, integer);

--------------------------------------------------------------------------------------------------
-- Seating.

drop function if exists booking_private.seat(booking.reservations, integer, bigint, bigint);
drop function if exists booking_private.next_free_table(bigint, integer, tstzrange, bigint[], boolean, bigint, bigint, bigint);

create function booking_private.seating_candidates(
  p_restaurant_id bigint, p_guests integer, p_area text, p_busy bigint[], p_tried_tables bigint[], p_tried_combinations bigint[],
  p_only_table bigint, p_only_combination bigint, p_prefer_table bigint, p_prefer_combination bigint
) returns table (combination_id bigint, tables bigint[])
  language sql stable
  as $$
  select x.combination_id, x.tables from (
    select null::bigint as combination_id, array[t.id] as tables, t.id is not distinct from p_prefer_table as preferred,
           0 as kind, t.capacity, 1 as size, t.id
    from booking.tables t
    where t.restaurant_id = p_restaurant_id and t.active and t.min_guests <= p_guests and t.capacity >= p_guests
      and (p_area is null or t.area = p_area)
      and p_only_combination is null and (p_only_table is null or t.id = p_only_table)
      and t.id <> all (p_busy) and t.id <> all (p_tried_tables)
    union all
    select c.id, m.tables, c.id is not distinct from p_prefer_combination, 1, c.capacity, cardinality(m.tables), c.id
    from booking.table_combinations c
    cross join lateral (
      select array_agg(cm.table_id order by cm.table_id) as tables,
             bool_and(t.active and (p_area is null or t.area = p_area)) as usable
      from booking.table_combination_members cm
      join booking.tables t on t.restaurant_id = cm.restaurant_id and t.id = cm.table_id
      where cm.restaurant_id = c.restaurant_id and cm.combination_id = c.id) m
    where c.restaurant_id = p_restaurant_id and c.active and c.min_guests <= p_guests and c.capacity >= p_guests
      and m.usable and p_only_table is null and (p_only_combination is null or c.id = p_only_combination)
      and not (m.tables && p_busy) and c.id <> all (p_tried_combinations)
  ) x
  order by x.preferred desc, x.kind, x.capacity, x.size, x.id
$$;
comment on function booking_private.seating_candidates(bigint, integer, text, bigint[], bigint[], bigint[], bigint, bigint, bigint, bigint) is 'Where a party could sit, best first: the preferred table or combination, then the smallest fitting single tables, then the smallest fitting combinations (capacity, then fewest tables); none holding a table in p_busy.';

create function booking_private.lock_tables(p_tables bigint[], p_during tstzrange, p_bucket_minutes integer, p_wait boolean) returns void
  language plpgsql volatile
  as $$
declare
  v_first integer := floor(extract(epoch from lower(p_during)) / 60 / p_bucket_minutes)::integer;
  v_last integer := ceil(extract(epoch from upper(p_during)) / 60 / p_bucket_minutes)::integer - 1;
  v_lock record;
begin
  -- One lock per table and time bucket the stay (with its buffer) covers. Starts lie on the
  -- bucket grid, so two stays share a bucket exactly when they overlap: bookers of overlapping
  -- times of one table meet here, and spread over the tables instead of queueing (or
  -- deadlocking: two conflicting inserts into an exclusion index each wait for the other),
  -- while bookers of other times never see each other's locks (a table row lock covered all
  -- times, and pushed a dinner booker to a bigger table while a lunch booker held the small
  -- one). Transaction-level: it works through PgBouncer in transaction mode, and a failed
  -- attempt's subtransaction releases what it took.
  if p_wait then
    -- Table, then bucket order: waiters never deadlock among themselves.
    for v_lock in select t, b from unnest(p_tables) t, generate_series(v_first, v_last) b order by t, b loop
      perform pg_advisory_xact_lock((v_lock.t % 2147483647)::integer, v_lock.b);
    end loop;
  elsif not (select bool_and(pg_try_advisory_xact_lock((t % 2147483647)::integer, b))
             from unnest(p_tables) t, generate_series(v_first, v_last) b) then
    raise exception 'A table is being booked for an overlapping time by another transaction.' using errcode = 'lock_not_available';
  end if;
end;
$$;
comment on function booking_private.lock_tables(bigint[], tstzrange, integer, boolean) is 'Takes the transaction-level advisory locks of each table for every p_bucket_minutes bucket p_during covers; without p_wait, raises 55P03 at once when another booker holds one.';

create function booking_private.seat(
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
  v_tried_tables bigint[] := '{}';
  v_tried_combinations bigint[] := '{}';
  v_wait boolean := false;
  v_skipped boolean;
  v_seen boolean;
  v_deadlocks integer := 0;
  v_candidate record;
  v_row booking.reservations;
begin
  loop
    -- The tables held at that time, read once (one index range scan) rather than probed table
    -- by table: on a busy evening most tables are taken and probing costs a scan each.
    v_busy := array(
      select rt.table_id from booking.reservation_tables rt
      where rt.restaurant_id = p_row.restaurant_id and rt.active and rt.during && v_during
        and rt.reservation_id is distinct from p_row.id);
    v_skipped := false;
    v_seen := false;
    for v_candidate in
      select * from booking_private.seating_candidates(p_row.restaurant_id, p_row.guests, p_area, v_busy, v_tried_tables, v_tried_combinations,
                                                       p_only_table, p_only_combination, p_prefer_table, p_prefer_combination)
    loop
      v_seen := true;
      begin
        perform booking_private.lock_tables(v_candidate.tables, v_during, v_bucket, v_wait);
        if p_row.id is null then
          insert into booking.reservations (restaurant_id, table_id, combination_id, client_id, starts_at, ends_at, guests,
                                            idempotency_key, request_fingerprint, notes)
            values (p_row.restaurant_id, v_candidate.tables[1], v_candidate.combination_id, p_row.client_id, p_row.starts_at, p_row.ends_at,
                    p_row.guests, p_row.idempotency_key, p_row.request_fingerprint, p_row.notes)
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
comment on function booking_private.seat(booking.reservations, booking.restaurants, text, bigint, bigint, bigint, bigint) is 'Writes p_row (inserted when its id is null, else moved) on the best place seating_candidates offers, skipping places other bookers of overlapping times are taking, moving on when another booker wins a table, and waiting for the skipped ones only when nothing else is free. Returns the written row, or null when nothing is free.';

--------------------------------------------------------------------------------------------------
-- The SQL API.

drop function if exists booking.book_table(bigint, timestamptz, integer, bigint, bigint, text, text);
create function booking.book_table(
  restaurant_id bigint, starts_at timestamptz, guests integer,
  client_id bigint default null, table_id bigint default null,
  idempotency_key text default null, notes text default null,
  combination_id bigint default null, area text default null
) returns booking.reservations
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
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
  perform booking_private.check_party(book_table.guests);
  v_restaurant := booking_private.restaurant(book_table.restaurant_id);
  if book_table.idempotency_key is not null then
    v_arguments := jsonb_build_array(extract(epoch from book_table.starts_at), book_table.guests, book_table.client_id,
                                     book_table.table_id, book_table.notes);
    -- Keys used before combinations and areas existed keep their fingerprint.
    if book_table.combination_id is not null or book_table.area is not null then
      v_arguments := v_arguments || jsonb_build_array(book_table.combination_id, lower(btrim(book_table.area)));
    end if;
    v_fingerprint := md5(v_arguments::text);
    select * into v_row from booking.reservations r
      where r.restaurant_id = v_restaurant.id and r.idempotency_key = book_table.idempotency_key;
    if found then
      return booking_private.replay(v_row, v_fingerprint);
    end if;
  end if;
  if book_table.table_id is not null and book_table.combination_id is not null then
    perform booking_private.refuse('22023', 'Ask for a table_id or a combination_id, not both.',
      jsonb_build_object('reason', 'table_and_combination', 'field', 'combination_id'));
  end if;
  v_area := booking_private.check_area(v_restaurant.id, book_table.area);
  perform booking_private.check_client(v_restaurant.id, book_table.client_id);
  v_minutes := booking_private.stay_minutes(v_restaurant, book_table.guests);
  v_day := booking_private.assert_bookable(v_restaurant, book_table.starts_at, book_table.guests, v_minutes, v_area);
  if book_table.table_id is not null then
    perform booking_private.check_table(v_restaurant.id, book_table.table_id, book_table.guests);
    if v_area is not null and not exists (select 1 from booking.tables t where t.restaurant_id = v_restaurant.id and t.id = book_table.table_id and t.area = v_area) then
      perform booking_private.refuse('PT422', format('Table %s is not in area %s.', book_table.table_id, v_area),
        jsonb_build_object('reason', 'not_in_area', 'area', v_area), 'Ask without area, or without table_id.');
    end if;
  end if;
  if book_table.combination_id is not null then
    perform booking_private.check_combination(v_restaurant.id, book_table.combination_id, book_table.guests, v_area);
  end if;
  perform booking_private.check_pacing(v_restaurant, v_day, book_table.starts_at, book_table.guests, null, v_area);
  v_row.restaurant_id := v_restaurant.id;
  v_row.client_id := book_table.client_id;
  v_row.starts_at := book_table.starts_at;
  v_row.ends_at := book_table.starts_at + make_interval(mins => v_minutes);
  v_row.guests := book_table.guests;
  v_row.idempotency_key := book_table.idempotency_key;
  v_row.request_fingerprint := v_fingerprint;
  v_row.notes := book_table.notes;
  begin
    v_row := booking_private.seat(v_row, v_restaurant, v_area, book_table.table_id, book_table.combination_id, null, null);
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
  perform booking_private.refuse_unseated(v_restaurant, v_day, book_table.starts_at, book_table.guests,
                                          book_table.table_id, book_table.combination_id, v_area);
  return null;
end;
$$;
comment on function booking.book_table(bigint, timestamptz, integer, bigint, bigint, text, text, bigint, text) is $$Books a table: validates the request, seats the party at the smallest free active table that fits (or table_id); only when no single table is free, at the smallest free combination (capacity, then fewest tables; or combination_id). With area, only tables in that area. Returns the reservation; booking.reservation_tables lists every table it holds.
When another booker takes a table first it moves on to the next one, so under N concurrent requests for K free fitting places exactly min(N, K) succeed; bookers of other times never displace it. Where a pacing limit applies, the covers starting in the slot stay within it. A call with an idempotency_key already used with the same arguments returns the original reservation.
Errors (detail is JSON with a "reason"): PT404 restaurant_not_found, client_not_found, table_not_found, combination_not_found; PT422 in_past, too_soon, beyond_horizon, off_grid, closed, closure, ends_after_closing, party_too_large, no_table_fits, table_inactive, table_does_not_fit, combination_inactive, combination_does_not_fit, not_in_area, unknown_area; PT409 all_tables_taken, table_taken, combination_taken or pacing_limit (detail.alternatives lists the nearest slots that day where the party can be booked); 23505 idempotency_key_reused; 22023 invalid_guests, table_and_combination.
Example: select * from booking.book_table(restaurant_id => 1, starts_at => '2026-12-12 20:00 Europe/Madrid', guests => 4, area => 'terrace', idempotency_key => 'call-42');$$;

drop function if exists booking.reschedule_reservation(bigint, bigint, timestamptz, integer, bigint);
create function booking.reschedule_reservation(restaurant_id bigint, reservation_id bigint, starts_at timestamptz default null,
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
  v_row.starts_at := v_starts_at;
  v_row.ends_at := v_starts_at + make_interval(mins => v_minutes);
  v_row.guests := v_guests;
  -- Keep the party where it sits when that place is still free (and in the area asked for).
  v_row := booking_private.seat(v_row, v_restaurant, v_area, reschedule_reservation.table_id, reschedule_reservation.combination_id,
                                case when v_row.combination_id is null then v_row.table_id end, v_row.combination_id);
  if v_row.id is not null then
    return v_row;
  end if;
  perform booking_private.refuse_unseated(v_restaurant, v_day, v_starts_at, v_guests,
                                          reschedule_reservation.table_id, reschedule_reservation.combination_id, v_area);
  return null;
end;
$$;
comment on function booking.reschedule_reservation(bigint, bigint, timestamptz, integer, bigint, bigint, text) is $$Moves a confirmed reservation to another time, party size, table, combination or area under the same rules as book_table (pacing included), keeping its table or combination when that one is still free and fits. Atomic: when the move is refused, the reservation stays as it was.
Errors: PT404 restaurant_not_found, reservation_not_found, table_not_found, combination_not_found; PT409 not_movable, all_tables_taken, table_taken, combination_taken, pacing_limit (with alternatives); PT422 as book_table; 22023 invalid_guests, table_and_combination.
Example: select * from booking.reschedule_reservation(1, 42, starts_at => '2026-12-12 21:00 Europe/Madrid');$$;

--------------------------------------------------------------------------------------------------
-- What a reservation holds, as the API shows it.

create function booking.held_tables(restaurant_id bigint, reservation_id bigint) returns json
  -- Volatile on purpose: a statement that books and answers in one go (a CTE calling book_table)
  -- must see the rows the booking just wrote; a stable function would read the statement's
  -- starting snapshot and find none.
  language sql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
  select coalesce(json_agg(json_build_object('id', t.id, 'name', t.name, 'capacity', t.capacity) order by t.id), '[]')
  from booking.reservation_tables rt
  join booking.tables t on t.restaurant_id = rt.restaurant_id and t.id = rt.table_id
  where rt.restaurant_id = held_tables.restaurant_id and rt.reservation_id = held_tables.reservation_id
$$;
comment on function booking.held_tables(bigint, bigint) is $$The tables a reservation holds (one, or every member of its combination) as a JSON array of {id, name, capacity}, in table order.
Example: select booking.held_tables(1, 42);$$;

--------------------------------------------------------------------------------------------------
-- The API role: the new signatures, and the held tables it lists.

grant execute on function
  booking.available_table_counts(bigint, date, integer, text),
  booking.book_table(bigint, timestamptz, integer, bigint, bigint, text, text, bigint, text),
  booking.reschedule_reservation(bigint, bigint, timestamptz, integer, bigint, bigint, text),
  booking.held_tables(bigint, bigint)
  to :DATABASE_API_ROLE;
