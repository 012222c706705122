--! Previous: -
--! Hash: sha1:e7d9ddbe57bad9da55291a190a871fdae07993a5
--! Message: Schema, tables and constraints

-- Schema, tables and the constraints that make the booking rules impossible to break,
-- whoever writes the row (the API, a DBA in psql, a script).

create extension if not exists btree_gist;

create schema booking;
comment on schema booking is 'Restaurant table reservations: tables, guests, bookings and the functions that change them.';
create schema booking_private;
comment on schema booking_private is 'Secrets and internal helpers of the booking schema; never exposed to the API role.';

-- Functions are not callable by PUBLIC unless granted explicitly (the API role gets a short list).
alter default privileges revoke execute on functions from public;

create function booking_private.is_valid_timezone(tz text) returns boolean
  language sql stable parallel safe
  as $$ select exists (select 1 from pg_catalog.pg_timezone_names where name = tz) $$;
comment on function booking_private.is_valid_timezone(text) is 'True when tz is an IANA time zone name known to this server (abbreviations and POSIX strings are refused).';

create function booking_private.touch_updated_at() returns trigger
  language plpgsql volatile
  as $$
begin
  new.updated_at := now();
  return new;
end;
$$;
comment on function booking_private.touch_updated_at() is 'Trigger: keeps updated_at current on every update.';

create table booking.restaurants (
  id bigint generated always as identity primary key,
  name text not null check (length(btrim(name)) between 1 and 200),
  timezone text not null check (booking_private.is_valid_timezone(timezone)),
  slot_minutes integer not null default 15 check (slot_minutes between 5 and 60 and 60 % slot_minutes = 0),
  reservation_minutes integer not null default 90 check (reservation_minutes between 15 and 720),
  buffer_minutes integer not null default 15 check (buffer_minutes between 0 and 240),
  max_guests integer not null default 20 check (max_guests between 1 and 20),
  min_notice_minutes integer not null default 0 check (min_notice_minutes between 0 and 43200),
  booking_horizon_days integer not null default 90 check (booking_horizon_days between 1 and 730),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table booking.restaurants is 'A restaurant and its booking policy. Every other booking table hangs off restaurant_id.';
comment on column booking.restaurants.timezone is 'IANA time zone name; opening hours and the slot grid are local to it.';
comment on column booking.restaurants.slot_minutes is 'Grid of start times in local time (a divisor of 60).';
comment on column booking.restaurants.reservation_minutes is 'Default length of a stay, when no turn_times row covers the party size.';
comment on column booking.restaurants.buffer_minutes is 'Cleaning gap after a stay during which the table stays blocked.';
comment on column booking.restaurants.max_guests is 'Largest party the restaurant accepts (at most 20).';
comment on column booking.restaurants.min_notice_minutes is 'How long before the start a booking must be made.';
comment on column booking.restaurants.booking_horizon_days is 'How far ahead bookings are accepted.';
create trigger _100_touch before update on booking.restaurants
  for each row execute function booking_private.touch_updated_at();

create table booking.opening_hours (
  id bigint generated always as identity primary key,
  restaurant_id bigint not null references booking.restaurants on delete cascade,
  weekday smallint not null check (weekday between 1 and 7),
  opens time not null,
  closes time not null,
  unique (restaurant_id, weekday, opens)
);
comment on table booking.opening_hours is 'Service periods in local time. ISO weekday (Monday = 1); several periods a day; closes <= opens means the period runs past midnight and belongs to the day it opened.';
create index on booking.opening_hours (restaurant_id, weekday);

create table booking.closures (
  restaurant_id bigint not null references booking.restaurants on delete cascade,
  day date not null,
  reason text check (length(reason) <= 500),
  primary key (restaurant_id, day)
);
comment on table booking.closures is 'Whole local days closed (holidays, private events). Periods that open on such a day are not bookable.';

create table booking.turn_times (
  restaurant_id bigint not null references booking.restaurants on delete cascade,
  max_guests integer not null check (max_guests between 1 and 20),
  minutes integer not null check (minutes between 15 and 720),
  primary key (restaurant_id, max_guests)
);
comment on table booking.turn_times is 'Optional stay length by party size: a party uses the row with the smallest max_guests >= its size; without one, restaurants.reservation_minutes applies.';

create table booking.tables (
  id bigint generated always as identity primary key,
  restaurant_id bigint not null references booking.restaurants on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 100),
  capacity integer not null check (capacity <= 20),
  min_guests integer not null default 1,
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (restaurant_id, name),
  unique (restaurant_id, id),
  check (capacity >= min_guests and min_guests >= 1)
);
comment on table booking.tables is 'Tables of a restaurant. A party of n fits when min_guests <= n <= capacity; inactive tables are never offered.';
create trigger _100_touch before update on booking.tables
  for each row execute function booking_private.touch_updated_at();

create domain booking.email as text
  check (
    length(value) <= 254
    and value ~ '^[A-Za-z0-9.!#$%&''*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$'
  );
comment on domain booking.email is 'An ASCII e-mail address (local@domain.tld), at most 254 characters.';

create table booking.clients (
  id bigint generated always as identity primary key,
  restaurant_id bigint not null references booking.restaurants on delete cascade,
  name text check (length(btrim(name)) between 1 and 200),
  email booking.email not null,
  phone text check (phone ~ '^\+?[0-9][0-9 ().-]{2,30}$'),
  notes text check (length(notes) <= 2000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (restaurant_id, id)
);
comment on table booking.clients is 'Guests of one restaurant. A restaurant never sees another''s guests; the e-mail is unique per restaurant, case-insensitively.';
create unique index clients_restaurant_email_key on booking.clients (restaurant_id, lower(email));
create trigger _100_touch before update on booking.clients
  for each row execute function booking_private.touch_updated_at();

create table booking.reservations (
  id bigint generated always as identity primary key,
  restaurant_id bigint not null references booking.restaurants on delete cascade,
  table_id bigint not null,
  client_id bigint,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  guests integer not null check (guests between 1 and 20),
  during tstzrange not null,
  status text not null default 'confirmed'
    check (status in ('confirmed', 'seated', 'completed', 'cancelled', 'no_show')),
  idempotency_key text check (length(idempotency_key) between 1 and 255),
  request_fingerprint text,
  notes text check (length(notes) <= 2000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (restaurant_id, id),
  constraint reservations_idempotency_key unique (restaurant_id, idempotency_key),
  foreign key (restaurant_id, table_id) references booking.tables (restaurant_id, id),
  foreign key (restaurant_id, client_id) references booking.clients (restaurant_id, id),
  check (ends_at > starts_at),
  check (not isempty(during) and lower(during) = starts_at and upper(during) >= ends_at),
  constraint reservations_no_overlap exclude using gist (
    restaurant_id with =, table_id with =, during with &&
  ) where (status in ('confirmed', 'seated'))
);
comment on table booking.reservations is 'Bookings. Two active (confirmed or seated) bookings of one table never overlap, buffer included: the exclusion constraint reservations_no_overlap guarantees it at commit.';
comment on column booking.reservations.starts_at is 'Start of the stay (the legacy API calls it date).';
comment on column booking.reservations.during is '[starts_at, ends_at + restaurant buffer): the time the table is blocked; set by trigger.';
comment on column booking.reservations.request_fingerprint is 'Hash of the arguments a keyed booking was made with, to tell a replay from a reused key.';
create index reservations_client_id_idx on booking.reservations (client_id);
create index reservations_day_idx on booking.reservations (restaurant_id, starts_at);

-- The buffer lives on the restaurant, so `during` is derived here rather than as a generated
-- column; doing it in a trigger means a raw INSERT by a DBA is guarded exactly like the API.
create function booking_private.reservation_defaults() returns trigger
  language plpgsql volatile
  as $$
declare
  v_restaurant booking.restaurants;
begin
  select * into v_restaurant from booking.restaurants where id = new.restaurant_id;
  if found then
    if new.guests > v_restaurant.max_guests then
      raise exception 'A party of % is larger than this restaurant accepts (at most %).', new.guests, v_restaurant.max_guests
        using errcode = 'check_violation', constraint = 'reservations_guests_max';
    end if;
    if new.ends_at <= new.starts_at then
      raise exception 'A reservation must end after it starts.'
        using errcode = 'check_violation', constraint = 'reservations_ends_after_start';
    end if;
    if new.starts_at is not null and new.ends_at is not null then
      new.during := tstzrange(new.starts_at, new.ends_at + make_interval(mins => v_restaurant.buffer_minutes), '[)');
    end if;
  end if;
  return new;
end;
$$;
comment on function booking_private.reservation_defaults() is 'Trigger: derives during from starts_at, ends_at and the restaurant buffer; refuses parties above the restaurant''s max_guests (23514).';
create trigger _200_defaults before insert or update of restaurant_id, starts_at, ends_at, guests, during on booking.reservations
  for each row execute function booking_private.reservation_defaults();
create trigger _100_touch before update on booking.reservations
  for each row execute function booking_private.touch_updated_at();

create table booking.reservation_events (
  id bigint generated always as identity primary key,
  restaurant_id bigint not null,
  reservation_id bigint not null,
  at timestamptz not null default clock_timestamp(),
  action text not null check (action in ('created', 'moved', 'updated', 'cancelled', 'seated', 'completed', 'no_show', 'confirmed')),
  old_status text,
  new_status text,
  old_starts_at timestamptz,
  new_starts_at timestamptz,
  old_table_id bigint,
  new_table_id bigint,
  old_guests integer,
  new_guests integer,
  channel text not null,
  actor text,
  foreign key (restaurant_id, reservation_id) references booking.reservations (restaurant_id, id) on delete cascade
);
comment on table booking.reservation_events is 'Append-only history of every reservation, written by trigger: what changed, when, through which channel (api, rpc, sql) and by which API key label.';
create index reservation_events_reservation_idx on booking.reservation_events (reservation_id, at);

create function booking_private.forbid_change() returns trigger
  language plpgsql volatile
  as $$
begin
  raise exception 'reservation_events is append-only'
    using errcode = 'insufficient_privilege', hint = 'History rows are never changed; write a new event instead.';
end;
$$;
comment on function booking_private.forbid_change() is 'Trigger: refuses updates of append-only tables.';
create trigger _100_append_only before update on booking.reservation_events
  for each row execute function booking_private.forbid_change();

create function booking_private.record_reservation_event() returns trigger
  language plpgsql volatile
  as $$
declare
  v_action text;
begin
  if tg_op = 'INSERT' then
    v_action := 'created';
  elsif new.status is distinct from old.status then
    v_action := case new.status when 'confirmed' then 'confirmed' else new.status end;
  elsif (new.starts_at, new.ends_at, new.table_id, new.guests) is distinct from (old.starts_at, old.ends_at, old.table_id, old.guests) then
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
comment on function booking_private.record_reservation_event() is 'Trigger: appends a reservation_events row for each meaningful change. Channel and actor come from the transaction settings nora.channel and nora.actor (sql when unset).';
create trigger _900_history after insert or update on booking.reservations
  for each row execute function booking_private.record_reservation_event();
