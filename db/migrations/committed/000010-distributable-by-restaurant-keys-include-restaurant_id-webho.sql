--! Previous: sha1:ee76bc70d433c2eea5fcfecb3f8f495c45f9ecc3
--! Hash: sha1:731ad7085625098008b891352472244effdce3ae
--! Message: Distributable by restaurant: keys include restaurant_id, webhook deliveries refer to their event with it, API keys without a foreign key to restaurants, the outbox enqueues jobs only where graphile-worker's queue is

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
--    create_api_key already refuses an unknown restaurant (PT404); deleting a restaurant now
--    also deletes its keys through create_api_key's sibling trigger below.
-- 4. The webhook outbox enqueues its graphile-worker job only where graphile-worker's queue is:
--    on Citus, the triggers that call emit_event run on the worker holding the restaurant's
--    shard, where there is no graphile_worker schema. The event and its deliveries are still
--    written (pending); see README, Citus, for what that means for webhooks there.
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
  v_queue := to_regnamespace('graphile_worker') is not null;
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
