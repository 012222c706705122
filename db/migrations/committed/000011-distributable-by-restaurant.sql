--! Previous: sha1:0c23696b53b9ab184e92db9def18f8fe5987cb8c
--! Hash: sha1:75a894000dccf8d9fed101e9f226727c588a001e
--! Message: Distributable by restaurant

-- Distributable by restaurant: the changes Citus needs to distribute the schema by restaurant_id
-- (`npm run db:distribute`), made here so that one PostgreSQL and a Citus cluster run the same
-- schema. On one PostgreSQL nothing changes in behaviour:
--
-- 1. Every key of a tenant table includes restaurant_id (Citus enforces uniqueness per shard, so
--    a primary key must contain the distribution column). Tables that already had a unique
--    (restaurant_id, id), which the composite foreign keys reference, keep it as their key: the
--    primary key on id alone goes, and the unique index becomes the replica identity (what
--    logical replication, and so Citus's shard moves, use to find a row). The others get a
--    primary key (restaurant_id, id). Ids still come from one identity sequence per table on one
--    PostgreSQL, so they stay unique on their own.
--    Some statements find a row by id alone (the worker's webhook delivery, a reservation updated
--    by id after it was locked with its restaurant): a plain index on id keeps them an index
--    probe on one PostgreSQL (on Citus they are a query on every shard; see README, Citus).
-- 2. A webhook delivery refers to its event by (restaurant_id, event_id), colocated.
-- 3. API keys are a reference table on Citus (admin keys have no restaurant; a key is looked up
--    by its hash, without a restaurant): a reference table cannot have a foreign key to a
--    distributed one, so api_keys.restaurant_id no longer references booking.restaurants.
--    create_api_key already refuses an unknown restaurant (PT404), and a trigger on
--    booking.restaurants deletes a deleted restaurant's keys, as the foreign key did.
-- 4. The webhook outbox enqueues its graphile-worker job only where graphile-worker's queue is:
--    on Citus, the triggers that call emit_event run on the worker holding the restaurant's
--    shard, where there is no graphile_worker schema. The event and its deliveries are still
--    written (pending); see README, Citus, for what that means for webhooks there.
-- 5. (Not here: on Citus, db:distribute also rewrites the SQL-language functions that read
--    tables as PL/pgSQL, which Citus can plan; one PostgreSQL keeps them in SQL, inlined where
--    PostgreSQL inlines them. See db/distribute.ts.)
-- 6. Statements Citus cannot plan are rewritten: a subquery inside INSERT … VALUES
--    (add_webhook_endpoint) is computed first.
-- 8. seat (000009) updates a moved reservation by restaurant and id, not by id alone (on Citus,
--    by id alone is a statement on every shard; by restaurant, on its one shard; on one
--    PostgreSQL the same probe of the (restaurant_id, id) key), and sets table_id from a
--    variable: Citus 13.2.2's coordinator crashed (segmentation fault in get_rule_expr, deparsing
--    the UPDATE for the shard) on `table_id = v_candidate.tables[1]`, a subscript of a record
--    variable's field in an UPDATE's SET list; every reschedule through the coordinator did.
-- 9. The webhook triggers hand the reservation or waitlist document function a row of the table's
--    own type (on a Citus shard, NEW is a row of booking.reservations_102081, for which no
--    booking.reservation_document exists); delete_client anonymises the e-mail from its argument,
--    not the column (Citus refuses an UPDATE whose SET calls a STABLE function, format, on a
--    column).
-- 10. expire_holds, the sweep, locks the lapsed holds restaurant by restaurant (Citus refuses FOR
--    UPDATE on a statement over every shard: "could not run distributed query with FOR
--    UPDATE/SHARE commands"); one PostgreSQL pays one more read of the lapsed holds per sweep.
-- 11. place, book_table's core, tells a replayed idempotency key from other unique violations by
--    the constraint's name; on Citus that name has the shard's suffix
--    (reservations_idempotency_key_102081) or does not reach the coordinator at all, so the
--    key's row, looked up as before, decides.
-- 7. Triggers run on shards, whose names carry a suffix (table_combinations_102008):
--    check_combination_size tells its two tables apart by name without it; the API key
--    notification is sent only on the node the application listens on (a reference table's
--    trigger runs on every node's copy, and a worker's copy is written in a prepared transaction,
--    which cannot NOTIFY).
--
-- Re-runnable while it is current.sql: every step checks what is there first.

do $$
declare
  v_table text;
begin
  -- Tables whose (restaurant_id, id) unique constraint stays their key.
  foreach v_table in array array['tables', 'clients', 'reservations', 'table_combinations', 'pacing_limits', 'waitlist', 'webhook_endpoints'] loop
    if exists (select 1 from pg_constraint where conname = v_table || '_pkey' and conrelid = format('booking.%I', v_table)::regclass) then
      execute format('alter table booking.%I drop constraint %I', v_table, v_table || '_pkey');
      execute format('alter table booking.%I replica identity using index %I', v_table, v_table || '_restaurant_id_id_key');
    end if;
  end loop;
  -- Tables that get a primary key (restaurant_id, id).
  foreach v_table in array array['opening_hours', 'reservation_events', 'webhook_events', 'webhook_deliveries'] loop
    if exists (select 1 from pg_constraint c where c.conname = v_table || '_pkey' and c.conrelid = format('booking.%I', v_table)::regclass
               and c.conkey = array[(select attnum from pg_attribute where attrelid = c.conrelid and attname = 'id')]) then
      if v_table = 'webhook_events' then
        alter table booking.webhook_deliveries drop constraint if exists webhook_deliveries_event_id_fkey;
      end if;
      execute format('alter table booking.%I drop constraint %I, add primary key (restaurant_id, id)', v_table, v_table || '_pkey');
    end if;
  end loop;
  if exists (select 1 from pg_constraint where conname = 'webhook_secrets_pkey' and conrelid = 'booking_private.webhook_secrets'::regclass
             and array_length(conkey, 1) = 1) then
    alter table booking_private.webhook_secrets drop constraint webhook_secrets_pkey, add primary key (restaurant_id, endpoint_id);
  end if;
end;
$$;

alter table booking.webhook_deliveries drop constraint if exists webhook_deliveries_event_fkey;
alter table booking.webhook_deliveries add constraint webhook_deliveries_event_fkey
  foreign key (restaurant_id, event_id) references booking.webhook_events (restaurant_id, id) on delete cascade;

create index if not exists reservations_id_idx on booking.reservations (id);
create index if not exists waitlist_id_idx on booking.waitlist (id);
create index if not exists webhook_endpoints_id_idx on booking.webhook_endpoints (id);
create index if not exists webhook_events_id_idx on booking.webhook_events (id);
create index if not exists webhook_deliveries_id_idx on booking.webhook_deliveries (id);

alter table booking_private.api_keys drop constraint if exists api_keys_restaurant_id_fkey;
create index if not exists api_keys_restaurant_idx on booking_private.api_keys (restaurant_id);
comment on column booking_private.api_keys.restaurant_id is 'The restaurant the key acts for; null for an admin key. Not a foreign key (a reference table on Citus cannot have one to a distributed table): booking.create_api_key checks the restaurant exists, and deleting a restaurant deletes its keys (trigger on booking.restaurants).';

-- Deleting a restaurant deletes its keys, as the foreign key's ON DELETE CASCADE did.
create or replace function booking_private.delete_restaurant_keys() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
begin
  delete from booking_private.api_keys k where k.restaurant_id = old.id;
  return null;
end;
$$;
comment on function booking_private.delete_restaurant_keys() is 'Trigger: deletes the API keys of a deleted restaurant (what api_keys'' former foreign key did on delete cascade).';
drop trigger if exists _900_delete_keys on booking.restaurants;
create trigger _900_delete_keys after delete on booking.restaurants
  for each row execute function booking_private.delete_restaurant_keys();

-- emit_event as in 000007, but the job is only enqueued where graphile-worker's queue exists.
create or replace function booking_private.emit_event(restaurant_id bigint, type text, data jsonb)
  returns bigint
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_event booking.webhook_events;
  v_delivery bigint;
  v_at timestamptz;
  v_queue boolean;
begin
  if not (emit_event.type = any (booking.webhook_event_types())) then
    perform booking_private.refuse('22023', format('Unknown event type %s.', quote_literal(emit_event.type)),
      jsonb_build_object('reason', 'unknown_event_type', 'known', to_jsonb(booking.webhook_event_types())));
  end if;
  -- Nobody listening: no event row, no job (the common case costs one index probe).
  if not exists (select 1 from booking.webhook_endpoints e
                 where e.restaurant_id = emit_event.restaurant_id and e.disabled_at is null
                   and (e.events is null or emit_event.type = any (e.events))) then
    return null;
  end if;
  v_at := clock_timestamp();
  insert into booking.webhook_events (restaurant_id, type, payload, created_at)
    values (emit_event.restaurant_id, emit_event.type,
            json_build_object('type', emit_event.type,
                              'timestamp', to_char(v_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                              'data', emit_event.data),
            v_at)
    returning * into v_event;
  -- graphile-worker's queue is on the node the application connects to; a trigger running on a
  -- Citus worker (where the restaurant's shard is) cannot reach it in this transaction.
  -- (The function, not the schema: Citus creates the schema on the workers too.)
  v_queue := exists (select 1 from pg_proc p where p.proname = 'add_job' and p.pronamespace = to_regnamespace('graphile_worker'));
  for v_delivery in
    insert into booking.webhook_deliveries (restaurant_id, endpoint_id, event_id)
      select e.restaurant_id, e.id, v_event.id
      from booking.webhook_endpoints e
      where e.restaurant_id = emit_event.restaurant_id and e.disabled_at is null
        and (e.events is null or emit_event.type = any (e.events))
      order by e.id
      returning id
  loop
    -- 14 attempts with graphile-worker's backoff, exp(min(attempts, 10)) seconds: the last one
    -- about 28 hours after the first, past the day after which a failing endpoint is disabled.
    if v_queue then
      perform graphile_worker.add_job('deliver_webhook', json_build_object('delivery_id', v_delivery), max_attempts => 14::smallint);
    end if;
  end loop;
  return v_event.id;
end;
$$;

-- 6. add_webhook_endpoint as in 000007, the event list computed before the INSERT.
create or replace function booking.add_webhook_endpoint(restaurant_id bigint, url text, events text[] default null)
  returns booking.new_webhook_endpoint
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_endpoint booking.webhook_endpoints;
  v_secret text;
  v_unknown text[];
  v_events text[];
begin
  perform booking_private.restaurant(add_webhook_endpoint.restaurant_id);
  -- One adder per restaurant at a time, so the limit below holds under concurrency.
  perform 1 from booking.restaurants r where r.id = add_webhook_endpoint.restaurant_id for no key update;
  if (select count(*) from booking.webhook_endpoints e where e.restaurant_id = add_webhook_endpoint.restaurant_id) >= 20 then
    perform booking_private.refuse('PT409', 'This restaurant has 20 webhook endpoints already.',
      jsonb_build_object('reason', 'too_many_webhook_endpoints'), 'Remove an endpoint first.');
  end if;
  if add_webhook_endpoint.url is null or length(add_webhook_endpoint.url) > 2000
     or add_webhook_endpoint.url !~* '^https?://[^/?#\s]+([/?#]\S*)?$' then
    perform booking_private.refuse('22023', 'url must be an http or https URL of at most 2000 characters.',
      jsonb_build_object('reason', 'invalid_webhook_url', 'field', 'url'), 'Give the full address, such as https://example.com/hooks.');
  end if;
  if add_webhook_endpoint.events is not null then
    select array_agg(e order by e) into v_unknown
    from unnest(add_webhook_endpoint.events) e
    where e is null or not (e = any (booking.webhook_event_types()));
    if v_unknown is not null or cardinality(add_webhook_endpoint.events) not between 1 and 20 then
      perform booking_private.refuse('22023', 'events must list between 1 and 20 known event types.',
        jsonb_build_object('reason', 'unknown_event_type', 'field', 'events', 'unknown', coalesce(to_jsonb(v_unknown), '[]'),
                           'known', to_jsonb(booking.webhook_event_types())),
        'Leave events out for every type, or pick from the known ones.');
    end if;
  end if;
  -- Computed before the INSERT: Citus plans no subquery inside INSERT … VALUES.
  v_events := (select array_agg(distinct e order by e) from unnest(add_webhook_endpoint.events) e);
  insert into booking.webhook_endpoints (restaurant_id, url, events)
    values (add_webhook_endpoint.restaurant_id,
            -- the scheme in lower case, so the check and the worker agree
            lower(substring(add_webhook_endpoint.url from '^[A-Za-z]+')) || substring(add_webhook_endpoint.url from '://.*$'),
            v_events)
    returning * into v_endpoint;
  -- Two v4 UUIDs from the server's strong random source: 32 bytes, 244 of their bits random.
  v_secret := 'whsec_' || encode(decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'), 'base64');
  insert into booking_private.webhook_secrets (restaurant_id, endpoint_id, secret)
    values (v_endpoint.restaurant_id, v_endpoint.id, v_secret);
  return row(v_endpoint.id, v_endpoint.restaurant_id, v_endpoint.url, v_endpoint.events, v_secret, v_endpoint.created_at)::booking.new_webhook_endpoint;
end;
$$;

-- 7. check_combination_size as in 000005, telling its tables apart also on a Citus shard.
create or replace function booking_private.check_combination_size() returns trigger
  language plpgsql volatile
  as $$
declare
  v_restaurant_id bigint;
  v_combination_id bigint;
begin
  -- On Citus the trigger fires on a shard: table_combinations_102008.
  if tg_table_name ~ '^table_combinations(_[0-9]+)?$' then
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

-- 7. notify_api_key_change as in 000008, silent on a Citus worker's copy of the keys.
create or replace function booking_private.notify_api_key_change() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
  as $$
declare
  v_worker boolean;
begin
  -- A Citus worker (its local group is not the coordinator's, 0): nobody listens there.
  -- (Dynamic SQL: on one PostgreSQL that catalog does not exist, and a static reference to it
  -- would fail when the statement is planned.)
  if to_regclass('pg_catalog.pg_dist_local_group') is not null then
    execute 'select groupid <> 0 from pg_catalog.pg_dist_local_group' into v_worker;
    if v_worker then
      return null;
    end if;
  end if;
  -- The payload is the key's id; an empty payload (TRUNCATE) means every key.
  if tg_level = 'STATEMENT' then
    perform pg_notify('nora_api_keys', '');
  else
    perform pg_notify('nora_api_keys', old.id::text);
  end if;
  return null;
end;
$$;

-- 8. seat as in 000009, the moved reservation updated by (restaurant_id, id) with its first table
-- in a variable.
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
  v_first_table bigint;
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
          -- The first table in a variable: Citus 13.2.2 crashes deparsing a subscript of a
          -- record's field in an UPDATE's SET list.
          v_first_table := v_candidate.tables[1];
          update booking.reservations r
            set starts_at = p_row.starts_at, ends_at = p_row.ends_at, guests = p_row.guests,
                table_id = v_first_table, combination_id = v_candidate.combination_id
            where r.restaurant_id = p_row.restaurant_id and r.id = p_row.id
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

-- 9. The webhook triggers (as in 000009) with a row of the table's type; delete_client (as in 000003)
-- formatting the anonymised address from its argument.
CREATE OR REPLACE FUNCTION booking_private.reservation_webhook_event()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
declare
  v_type text;
  v_row booking.reservations;
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
    -- On a Citus shard new is a row of booking.reservations_102081; the assignment makes it a
    -- booking.reservations, column by column (on one PostgreSQL a plain copy).
    v_row := new;
    perform booking_private.emit_event(new.restaurant_id, v_type, booking.reservation_document(v_row));
  end if;
  return null;
end;
$function$;
CREATE OR REPLACE FUNCTION booking_private.waitlist_webhook_event()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
declare
  v_row booking.waitlist;
begin
  if new.status = 'offered' and (tg_op = 'INSERT' or old.status <> 'offered' or old.reservation_id is distinct from new.reservation_id)
     and exists (select 1 from booking.webhook_endpoints e where e.restaurant_id = new.restaurant_id and e.disabled_at is null) then
    v_row := new;  -- a booking.waitlist also when new is a Citus shard's row
    perform booking_private.emit_event(new.restaurant_id, 'waitlist.offered', booking.waitlist_document(v_row));
  end if;
  return null;
end;
$function$;
CREATE OR REPLACE FUNCTION booking.delete_client(restaurant_id bigint, client_id bigint)
 RETURNS text
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
#variable_conflict use_column
begin
  perform booking_private.restaurant(delete_client.restaurant_id);
  perform booking_private.check_client(delete_client.restaurant_id, delete_client.client_id);
  if exists (select 1 from booking.reservations r where r.restaurant_id = delete_client.restaurant_id and r.client_id = delete_client.client_id) then
    -- The bookings stay (the restaurant's records and history need them); the person goes.
    update booking.clients c
      set name = null, phone = null, notes = null, email = format('anonymised-%s@invalid.example', delete_client.client_id)
      where c.restaurant_id = delete_client.restaurant_id and c.id = delete_client.client_id;
    return 'anonymised';
  end if;
  delete from booking.clients c where c.restaurant_id = delete_client.restaurant_id and c.id = delete_client.client_id;
  return 'deleted';
end;
$function$;

-- 10. expire_holds as in 000006, restaurant by restaurant.
CREATE OR REPLACE FUNCTION booking.expire_holds()
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
declare
  v_hold booking.reservations;
  v_entry bigint;
  v_count integer := 0;
  v_restaurant_id bigint;
begin
  update booking.waitlist w set status = 'expired' where w.status = 'waiting' and w.latest < now();
  -- Restaurant by restaurant (on Citus a locking read must stay on one restaurant's shard;
  -- FOR UPDATE is refused on a statement over every shard).
  for v_restaurant_id in
    select distinct r.restaurant_id from booking.reservations r where r.status = 'held' and r.hold_expires_at <= now()
    order by 1
  loop
    -- A hold being confirmed or released right now is locked: that transaction decides it.
    for v_hold in
      select * from booking.reservations r
      where r.restaurant_id = v_restaurant_id and r.status = 'held' and r.hold_expires_at <= now()
      order by r.hold_expires_at, r.id
      for update skip locked
    loop
      update booking.reservations r set status = 'expired' where r.restaurant_id = v_hold.restaurant_id and r.id = v_hold.id;
      v_entry := null;
      update booking.waitlist w set status = 'waiting', reservation_id = null
        where w.restaurant_id = v_hold.restaurant_id and w.reservation_id = v_hold.id and w.status = 'offered'
        returning w.id into v_entry;
      perform booking_private.offer_freed(v_hold.restaurant_id, v_hold.during, v_entry);
      v_count := v_count + 1;
    end loop;
  end loop;
  return v_count;
end;
$function$;

-- 11. place as in 000006, accepting a shard's name of the idempotency key's constraint.
CREATE OR REPLACE FUNCTION booking_private.place(p_restaurant_id bigint, p_starts_at timestamp with time zone, p_guests integer, p_client_id bigint, p_table_id bigint, p_idempotency_key text, p_notes text, p_combination_id bigint, p_area text, p_hold_minutes integer)
 RETURNS booking.reservations
 LANGUAGE plpgsql
AS $function$
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
    -- On Citus the name has the shard's suffix (reservations_idempotency_key_102081), or none
    -- reaches the coordinator: then the key's row, found below, tells.
    if coalesce(v_constraint, '') !~ '^(reservations_idempotency_key(_[0-9]+)?)?$' or p_idempotency_key is null then
      raise;
    end if;
    -- A concurrent call with the same key committed first: this call is its replay.
    select * into v_row from booking.reservations r
      where r.restaurant_id = v_restaurant.id and r.idempotency_key = p_idempotency_key;
    if v_row.id is null then
      raise;
    end if;
    return booking_private.replay(v_row, v_fingerprint);
  end;
  if v_row.id is not null then
    return v_row;
  end if;
  perform booking_private.refuse_unseated(v_restaurant, v_day, p_starts_at, p_guests,
                                          p_table_id, p_combination_id, v_area);
  return null;
end;
$function$;
