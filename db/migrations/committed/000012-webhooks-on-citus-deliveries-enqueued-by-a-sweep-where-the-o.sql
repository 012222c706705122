--! Previous: sha1:75a894000dccf8d9fed101e9f226727c588a001e
--! Hash: sha1:3b4c51e68cb346ba863a0599ae54b0be4573f4cf
--! Message: Webhooks on Citus: deliveries enqueued by a sweep where the outbox trigger cannot reach the queue, attempts keyed by restaurant, one INSERT per delivery

-- Webhooks delivered on Citus: a sweep enqueues the deliveries that have no job, and a delivery
-- is found by (restaurant_id, id).
--
-- On Citus the outbox triggers run on the worker holding the restaurant's shards, where
-- graphile-worker's queue (on the coordinator) is out of reach in the same transaction: the event
-- and its deliveries are written, but no job (000011, 4). And the worker's attempt found its
-- delivery by id alone FOR UPDATE, which Citus refuses (a statement over every shard).
--
-- 1. A delivery records whether its job was enqueued (enqueued). emit_event enqueues where the
--    queue is (one PostgreSQL, or a call on the Citus coordinator) and says so; elsewhere it
--    leaves the delivery unqueued, and booking_private.enqueue_webhook_deliveries, run every
--    minute by the worker's crontab (server/worker/tasks.ts), marks and enqueues those. On one
--    PostgreSQL it finds none (one probe of an empty partial index). The mark and the job are
--    written in one transaction, and the mark is an UPDATE of unqueued rows only, so two sweeps
--    cannot both enqueue a delivery; the job key (one per delivery, unsafe_dedupe: never a second
--    job while one exists, even running or failed) makes sure of it.
-- 2. A job carries the delivery's restaurant; start_webhook_attempt and finish_webhook_attempt
--    take (restaurant_id, delivery_id) and touch only that restaurant's rows (on Citus, its
--    shards on one worker). A job queued before this migration carries only delivery_id: the
--    worker looks its restaurant up first (server/webhooks/deliver.ts).
-- 3. emit_event writes each delivery with its own INSERT … VALUES: Citus ran the INSERT … SELECT
--    from the endpoints across every shard, from the trigger on the worker (see emit_event).
--
-- Re-runnable while it is current.sql: every step checks what is there first.

create or replace function booking_private.enqueue_webhook_delivery(restaurant_id bigint, delivery_id bigint)
  returns void
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
begin
  -- 14 attempts with graphile-worker's backoff, exp(min(attempts, 10)) seconds: the last one
  -- about 28 hours after the first, past the day after which a failing endpoint is disabled.
  perform graphile_worker.add_job('deliver_webhook',
    json_build_object('restaurant_id', enqueue_webhook_delivery.restaurant_id, 'delivery_id', enqueue_webhook_delivery.delivery_id),
    max_attempts => 14,
    job_key => format('webhook_delivery:%s:%s', enqueue_webhook_delivery.restaurant_id, enqueue_webhook_delivery.delivery_id),
    job_key_mode => 'unsafe_dedupe');
end;
$$;
comment on function booking_private.enqueue_webhook_delivery(bigint, bigint) is $$The graphile-worker job (deliver_webhook) of one delivery: payload {restaurant_id, delivery_id}, 14 attempts, job key webhook_delivery:<restaurant>:<delivery>; while a job with that key exists (waiting, running or failed), another call adds nothing. Only where the queue of graphile-worker is (not on a Citus worker).
Example: select booking_private.enqueue_webhook_delivery(1, 42);$$;

-- emit_event as in 000011, with the job's restaurant and key, the delivery marked enqueued, and
-- one INSERT per delivery.
create or replace function booking_private.emit_event(restaurant_id bigint, type text, data jsonb)
  returns bigint
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_event booking.webhook_events;
  v_endpoint bigint;
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
  -- Citus worker (where the restaurant's shard is) cannot reach it in this transaction, and
  -- leaves the delivery to the sweep (enqueue_webhook_deliveries).
  -- (The function, not the schema: Citus creates the schema on the workers too.)
  v_queue := exists (select 1 from pg_proc p where p.proname = 'add_job' and p.pronamespace = to_regnamespace('graphile_worker'));
  -- One INSERT … VALUES per endpoint, not one INSERT … SELECT: Citus cannot run an INSERT … SELECT
  -- that draws an id from a sequence on the shards, and collects the SELECT through the node
  -- running it instead, from every shard of webhook_endpoints, the restaurant's filter
  -- notwithstanding. From a trigger on a worker that is a distributed transaction of its own,
  -- nested in the coordinator's and spanning the other workers: in a transaction block it fails
  -- ("the backend has already been assigned a transaction id"), and a worker crashed in its
  -- COMMIT PREPARED (README, Citus). Each INSERT here names the restaurant: its own shard.
  for v_endpoint in
    select e.id from booking.webhook_endpoints e
    where e.restaurant_id = emit_event.restaurant_id and e.disabled_at is null
      and (e.events is null or emit_event.type = any (e.events))
    order by e.id
  loop
    insert into booking.webhook_deliveries (restaurant_id, endpoint_id, event_id, enqueued)
      values (emit_event.restaurant_id, v_endpoint, v_event.id, v_queue)
      returning id into v_delivery;
    if v_queue then
      perform booking_private.enqueue_webhook_delivery(emit_event.restaurant_id, v_delivery);
    end if;
  end loop;
  return v_event.id;
end;
$$;
comment on function booking_private.emit_event(bigint, text, jsonb) is $$Writes a webhook event of a restaurant and one delivery per active endpoint subscribed to its type, and enqueues the graphile-worker job of each delivery (booking_private.enqueue_webhook_delivery), in the transaction of the caller: when it rolls back, nothing is sent. Where the queue of graphile-worker is not (a trigger on a Citus worker), the deliveries are written unqueued and booking_private.enqueue_webhook_deliveries enqueues them. The body is {"type", "timestamp" (UTC, ISO 8601), "data"}. Returns the event id, or null when no endpoint listens.
Errors: 22023 unknown_event_type (see booking.webhook_event_types()).
Example: select booking_private.emit_event(1, 'hold.created', '{"id": 7}');$$;

create or replace function booking_private.enqueue_webhook_deliveries()
  returns integer
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
declare
  v_delivery record;
  v_count integer := 0;
begin
  -- The UPDATE marks only unqueued rows: a sweep running at the same time waits for these row
  -- locks, then finds them enqueued and skips them. On Citus an UPDATE over every shard is
  -- allowed (a SELECT … FOR UPDATE over them is not).
  for v_delivery in
    update booking.webhook_deliveries d set enqueued = true
      where d.status = 'pending' and not d.enqueued
      returning d.restaurant_id, d.id
  loop
    perform booking_private.enqueue_webhook_delivery(v_delivery.restaurant_id, v_delivery.id);
    v_count := v_count + 1;
  end loop;
  return v_count;
end;
$$;
comment on function booking_private.enqueue_webhook_deliveries() is $$The sweep: enqueues the job of every pending delivery written without one (by an outbox trigger on a Citus worker, where the queue of graphile-worker is not), marks it enqueued, and returns how many. Run every minute by the worker (task enqueue_webhooks); on one PostgreSQL every delivery is enqueued when written, and it finds none. Never enqueues a delivery twice. Runs where the queue of graphile-worker is (one PostgreSQL, or the Citus coordinator).
Example: select booking_private.enqueue_webhook_deliveries();$$;

-- The worker's side of a delivery, as in 000007, found by (restaurant_id, id).
drop function if exists booking_private.start_webhook_attempt(bigint);
create or replace function booking_private.start_webhook_attempt(restaurant_id bigint, delivery_id bigint)
  returns table (deliver boolean, url text, secret text, message_id text, body json, endpoint_id bigint, event_type text)
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_delivery booking.webhook_deliveries;
  v_endpoint booking.webhook_endpoints;
  v_event booking.webhook_events;
  -- A variable, not clock_timestamp() in the SET: Citus refuses a volatile function in an UPDATE
  -- of a distributed table.
  v_at timestamptz := clock_timestamp();
begin
  select * into v_delivery from booking.webhook_deliveries d
    where d.restaurant_id = start_webhook_attempt.restaurant_id and d.id = start_webhook_attempt.delivery_id
    for update;
  if not found then
    -- The endpoint was removed (its deliveries with it): nothing to send.
    return query select false, null::text, null::text, null::text, null::json, null::bigint, null::text;
    return;
  end if;
  select * into v_endpoint from booking.webhook_endpoints e where e.restaurant_id = v_delivery.restaurant_id and e.id = v_delivery.endpoint_id;
  select * into v_event from booking.webhook_events w where w.restaurant_id = v_delivery.restaurant_id and w.id = v_delivery.event_id;
  if v_delivery.status <> 'pending' or v_endpoint.disabled_at is not null then
    update booking.webhook_deliveries d set status = case when d.status = 'pending' then 'skipped' else d.status end
      where d.restaurant_id = v_delivery.restaurant_id and d.id = v_delivery.id;
    return query select false, v_endpoint.url, null::text, null::text, null::json, v_endpoint.id, v_event.type;
    return;
  end if;
  update booking.webhook_deliveries d set attempts = d.attempts + 1, last_attempt_at = v_at
    where d.restaurant_id = v_delivery.restaurant_id and d.id = v_delivery.id;
  return query
    select true, v_endpoint.url, s.secret, 'evt_' || v_event.id, v_event.payload, v_endpoint.id, v_event.type
    from booking_private.webhook_secrets s where s.restaurant_id = v_endpoint.restaurant_id and s.endpoint_id = v_endpoint.id;
end;
$$;
comment on function booking_private.start_webhook_attempt(bigint, bigint) is $$Worker: what one attempt of a delivery of a restaurant sends (deliver false: nothing, the endpoint is gone or disabled, or it was delivered already) and counts the attempt. message_id is the webhook-id, the same on every attempt.
Example: select * from booking_private.start_webhook_attempt(1, 42);$$;

drop function if exists booking_private.finish_webhook_attempt(bigint, boolean, integer, text, boolean);
create or replace function booking_private.finish_webhook_attempt(restaurant_id bigint, delivery_id bigint, ok boolean, status_code integer, error text, last_attempt boolean)
  returns booking.webhook_deliveries
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_delivery booking.webhook_deliveries;
  v_endpoint booking.webhook_endpoints;
  -- Variables, not the functions in the SET lists: in an UPDATE of a distributed table Citus
  -- refuses a volatile function (clock_timestamp()) and a non-immutable one inside COALESCE or
  -- CASE (now()).
  v_at timestamptz := clock_timestamp();
  v_now timestamptz := now();
begin
  update booking.webhook_deliveries d
    set status = case when finish_webhook_attempt.ok then 'delivered' when finish_webhook_attempt.last_attempt then 'failed' else 'pending' end,
        last_status_code = finish_webhook_attempt.status_code,
        last_error = left(finish_webhook_attempt.error, 1000),
        delivered_at = case when finish_webhook_attempt.ok then v_at end
    where d.restaurant_id = finish_webhook_attempt.restaurant_id and d.id = finish_webhook_attempt.delivery_id
    returning * into v_delivery;
  if not found then
    return null;
  end if;
  if finish_webhook_attempt.ok then
    update booking.webhook_endpoints e set failing_since = null
      where e.restaurant_id = v_delivery.restaurant_id and e.id = v_delivery.endpoint_id and e.failing_since is not null;
  else
    update booking.webhook_endpoints e set failing_since = coalesce(e.failing_since, v_now)
      where e.restaurant_id = v_delivery.restaurant_id and e.id = v_delivery.endpoint_id
      returning * into v_endpoint;
    if v_endpoint.disabled_at is null and v_endpoint.failing_since <= v_now - interval '1 day' then
      update booking.webhook_endpoints e
        set disabled_at = v_now,
            disabled_reason = left(format('Disabled: every delivery failed since %s (last: %s).',
                                          to_char(v_endpoint.failing_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                          coalesce(finish_webhook_attempt.error, 'HTTP ' || finish_webhook_attempt.status_code)), 1000)
        where e.restaurant_id = v_endpoint.restaurant_id and e.id = v_endpoint.id;
    end if;
  end if;
  return v_delivery;
end;
$$;
comment on function booking_private.finish_webhook_attempt(bigint, bigint, boolean, integer, text, boolean) is $$Worker: records how an attempt of a delivery of a restaurant went. A success clears failing_since of the endpoint; a failure sets it, and disables the endpoint (disabled_at, disabled_reason) once it has been failing for a day. last_attempt: the job will not be retried, the delivery is failed. Null when the delivery is gone (its endpoint was removed).
Example: select booking_private.finish_webhook_attempt(1, 42, true, 204, null, false);$$;

-- The table, after the functions: on a database already distributed, Citus creates a new
-- function on every node only while no statement of the transaction has used parallel
-- connections to the workers ("cannot run function command because there was a parallel
-- operation on a distributed table"), as these do. And inside a DO block: Citus sends some DDL
-- (CREATE INDEX, ALTER COLUMN … SET DEFAULT) to the shards as the text it was given, and a
-- migration is given as one multi-statement string, which a worker refuses ("cannot insert
-- multiple commands into a prepared statement"); in PL/pgSQL each statement is its own text.
do $$
begin
  if not exists (select 1 from pg_attribute where attrelid = 'booking.webhook_deliveries'::regclass and attname = 'enqueued' and not attisdropped) then
    -- Every delivery written so far where the queue is got its job with it: enqueued. A pending
    -- one without a job (written by a trigger on a Citus worker, or in a database without the
    -- queue, migrated by the graphile-migrate CLI alone) is left to the sweep.
    alter table booking.webhook_deliveries add column enqueued boolean not null default true;
    if to_regclass('graphile_worker._private_jobs') is null then
      update booking.webhook_deliveries d set enqueued = false where d.status = 'pending';
    else
      update booking.webhook_deliveries d set enqueued = false
        where d.status = 'pending'
          and d.id <> all (array(select (j.payload->>'delivery_id')::bigint
                                 from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
                                 where t.identifier = 'deliver_webhook'));
    end if;
    alter table booking.webhook_deliveries alter column enqueued set default false;
  end if;
  -- The sweep's: empty on one PostgreSQL.
  create index if not exists webhook_deliveries_unqueued_idx on booking.webhook_deliveries (restaurant_id, id)
    where status = 'pending' and not enqueued;
end;
$$;
comment on column booking.webhook_deliveries.enqueued is 'Its graphile-worker job (deliver_webhook) was enqueued: by emit_event in the transaction that wrote it, or by the sweep (booking_private.enqueue_webhook_deliveries) for one written where the queue is not (a trigger on a Citus worker).';
comment on table booking.webhook_deliveries is 'One row per event and endpoint, delivered by a graphile-worker job (task deliver_webhook, enqueued with it or by the sweep: see enqueued): pending, delivered (a 2xx), failed (attempts used up) or skipped (the endpoint was disabled or removed meanwhile).';
