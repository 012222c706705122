--! Previous: sha1:f34c2e379aaedc53f4e3c36c2672728aacf1525e
--! Hash: sha1:00542b46f70b75bde5bc5a9a4ede5679fee48256
--! Message: Webhooks: endpoints, the outbox, reservation, hold and waitlist events

-- Webhooks (Standard Webhooks), from a transactional outbox: an event is written, and one
-- graphile-worker job per subscribed endpoint enqueued, in the transaction of the change that
-- causes it. graphile-worker's schema is installed before the migrations (db/migrate.ts), and
-- every function here that calls graphile_worker.add_job is PL/pgSQL, so its body is only
-- resolved when it runs.
--
-- Re-runnable while it is current.sql (graphile-migrate watch): everything it creates is dropped
-- first.

drop trigger if exists _950_webhook on booking.reservations;
drop function if exists booking_private.reservation_webhook_event();
drop function if exists booking.reservation_document(booking.reservations);
drop function if exists booking_private.emit_event(bigint, text, jsonb);
drop function if exists booking.add_webhook_endpoint(bigint, text, text[]);
drop function if exists booking.remove_webhook_endpoint(bigint, bigint);
drop function if exists booking_private.start_webhook_attempt(bigint);
drop function if exists booking_private.finish_webhook_attempt(bigint, boolean, integer, text, boolean);
drop table if exists booking.webhook_deliveries, booking.webhook_events, booking_private.webhook_secrets, booking.webhook_endpoints cascade;
drop type if exists booking.new_webhook_endpoint;
drop function if exists booking.webhook_event_types();

--------------------------------------------------------------------------------------------------
-- What can be subscribed to.

create function booking.webhook_event_types() returns text[]
  language sql immutable parallel safe
  as $$
  select array['reservation.created', 'reservation.updated', 'reservation.cancelled', 'reservation.status_changed',
               'hold.created', 'hold.expired', 'waitlist.offered']
$$;
comment on function booking.webhook_event_types() is $$The event types a webhook endpoint may subscribe to (and booking_private.emit_event accepts).
Example: select unnest(booking.webhook_event_types());$$;

--------------------------------------------------------------------------------------------------
-- Endpoints, their secrets, the events and their deliveries.

create table booking.webhook_endpoints (
  id bigint generated always as identity primary key,
  restaurant_id bigint not null references booking.restaurants on delete cascade,
  url text not null check (length(url) <= 2000 and url ~ '^https?://[^/?#\s]+([/?#]\S*)?$'),
  events text[] check (events is null or (cardinality(events) between 1 and 20 and events <@ booking.webhook_event_types())),
  created_at timestamptz not null default now(),
  failing_since timestamptz,
  disabled_at timestamptz,
  disabled_reason text check (length(disabled_reason) <= 1000),
  unique (restaurant_id, id)
);
comment on table booking.webhook_endpoints is 'Where a restaurant''s events are delivered (http or https only). events null: every type. failing_since: the first failed attempt since the last success; an endpoint failing for a day is disabled (disabled_at, disabled_reason) and receives nothing more. The secret is in booking_private.webhook_secrets.';

create table booking_private.webhook_secrets (
  restaurant_id bigint not null,
  endpoint_id bigint not null primary key,
  secret text not null check (secret ~ '^whsec_[A-Za-z0-9+/=]{32,}$'),
  foreign key (restaurant_id, endpoint_id) references booking.webhook_endpoints (restaurant_id, id) on delete cascade
);
comment on table booking_private.webhook_secrets is 'The signing secret of each webhook endpoint (whsec_ + base64). Never readable by the API role.';

create table booking.webhook_events (
  id bigint generated always as identity primary key,
  restaurant_id bigint not null references booking.restaurants on delete cascade,
  type text not null check (type = any (booking.webhook_event_types())),
  payload json not null,
  created_at timestamptz not null default clock_timestamp()
);
comment on table booking.webhook_events is 'The outbox: every event as its body is delivered ({"type","timestamp","data"}), written in the transaction of the change that caused it.';
create index webhook_events_restaurant_idx on booking.webhook_events (restaurant_id, created_at);

create table booking.webhook_deliveries (
  id bigint generated always as identity primary key,
  restaurant_id bigint not null,
  endpoint_id bigint not null,
  event_id bigint not null references booking.webhook_events on delete cascade,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed', 'skipped')),
  attempts integer not null default 0,
  last_attempt_at timestamptz,
  last_status_code integer,
  last_error text check (length(last_error) <= 1000),
  delivered_at timestamptz,
  foreign key (restaurant_id, endpoint_id) references booking.webhook_endpoints (restaurant_id, id) on delete cascade
);
comment on table booking.webhook_deliveries is 'One row per event and endpoint, delivered by a graphile-worker job (task deliver_webhook): pending, delivered (a 2xx), failed (attempts used up) or skipped (the endpoint was disabled or removed meanwhile).';
create index webhook_deliveries_event_idx on booking.webhook_deliveries (event_id);
create index webhook_deliveries_endpoint_idx on booking.webhook_deliveries (endpoint_id, status);

--------------------------------------------------------------------------------------------------
-- Registering and removing endpoints.

create type booking.new_webhook_endpoint as (id bigint, restaurant_id bigint, url text, events text[], secret text, created_at timestamptz);
comment on type booking.new_webhook_endpoint is 'A webhook endpoint just registered, with the signing secret that is shown only then.';

create function booking.add_webhook_endpoint(restaurant_id bigint, url text, events text[] default null)
  returns booking.new_webhook_endpoint
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_endpoint booking.webhook_endpoints;
  v_secret text;
  v_unknown text[];
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
  insert into booking.webhook_endpoints (restaurant_id, url, events)
    values (add_webhook_endpoint.restaurant_id,
            -- the scheme in lower case, so the check and the worker agree
            lower(substring(add_webhook_endpoint.url from '^[A-Za-z]+')) || substring(add_webhook_endpoint.url from '://.*$'),
            (select array_agg(distinct e order by e) from unnest(add_webhook_endpoint.events) e))
    returning * into v_endpoint;
  -- Two v4 UUIDs from the server's strong random source: 32 bytes, 244 of their bits random.
  v_secret := 'whsec_' || encode(decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'), 'base64');
  insert into booking_private.webhook_secrets (restaurant_id, endpoint_id, secret)
    values (v_endpoint.restaurant_id, v_endpoint.id, v_secret);
  return row(v_endpoint.id, v_endpoint.restaurant_id, v_endpoint.url, v_endpoint.events, v_secret, v_endpoint.created_at)::booking.new_webhook_endpoint;
end;
$$;
comment on function booking.add_webhook_endpoint(bigint, text, text[]) is $$Registers a webhook endpoint of a restaurant and returns it with its signing secret (whsec_ + base64 of 32 random bytes), shown only this once. events null: every type (booking.webhook_event_types()).
Errors: PT404 restaurant_not_found; 22023 invalid_webhook_url (not http(s), over 2000 characters); 22023 unknown_event_type; PT409 too_many_webhook_endpoints (20 per restaurant).
The database cannot resolve names: the HTTP route also refuses, in production, an address that is loopback, private or link-local, and the worker checks every delivery.
Example: select * from booking.add_webhook_endpoint(1, 'https://example.com/hooks', array['reservation.created']);$$;

create function booking.remove_webhook_endpoint(restaurant_id bigint, endpoint_id bigint)
  returns booking.webhook_endpoints
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_endpoint booking.webhook_endpoints;
begin
  perform booking_private.restaurant(remove_webhook_endpoint.restaurant_id);
  delete from booking.webhook_endpoints e
    where e.restaurant_id = remove_webhook_endpoint.restaurant_id and e.id = remove_webhook_endpoint.endpoint_id
    returning * into v_endpoint;
  if not found then
    perform booking_private.refuse('PT404', format('Webhook endpoint %s not found.', coalesce(remove_webhook_endpoint.endpoint_id::text, 'null')),
      jsonb_build_object('reason', 'webhook_endpoint_not_found'), 'List the restaurant''s webhook endpoints for their ids.');
  end if;
  return v_endpoint;
end;
$$;
comment on function booking.remove_webhook_endpoint(bigint, bigint) is $$Removes a webhook endpoint, its secret and its deliveries; jobs already queued for it find nothing and end. Returns the removed row.
Errors: PT404 restaurant_not_found, webhook_endpoint_not_found.
Example: select * from booking.remove_webhook_endpoint(1, 3);$$;

--------------------------------------------------------------------------------------------------
-- The outbox's one entry point.

create function booking_private.emit_event(restaurant_id bigint, type text, data jsonb)
  returns bigint
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_event booking.webhook_events;
  v_delivery bigint;
  v_at timestamptz;
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
    perform graphile_worker.add_job('deliver_webhook', json_build_object('delivery_id', v_delivery), max_attempts => 14::smallint);
  end loop;
  return v_event.id;
end;
$$;
comment on function booking_private.emit_event(bigint, text, jsonb) is $$Writes a webhook event of a restaurant and enqueues one graphile-worker job (task deliver_webhook) per active endpoint subscribed to its type, in the caller's transaction: when it rolls back, nothing is sent. The body is {"type", "timestamp" (UTC, ISO 8601), "data"}. Returns the event id, or null when no endpoint listens.
Errors: 22023 unknown_event_type (see booking.webhook_event_types()).
Example: select booking_private.emit_event(1, 'hold.created', '{"id": 7}');$$;

--------------------------------------------------------------------------------------------------
-- Reservations as the API shows them, and their events.

create function booking.reservation_document(reservation booking.reservations)
  returns jsonb
  -- held_tables is volatile (it must see the rows the same statement wrote); so is this. UTC
  -- timestamps whatever the caller's session time zone.
  language sql volatile security definer
  set search_path = pg_catalog, pg_temp
  set timezone = 'UTC'
  as $$
  select jsonb_build_object(
    'id', (reservation).id, 'restaurant_id', (reservation).restaurant_id, 'table_id', (reservation).table_id,
    'combination_id', (reservation).combination_id,
    'tables', booking.held_tables((reservation).restaurant_id, (reservation).id),
    'client_id', (reservation).client_id, 'starts_at', (reservation).starts_at, 'ends_at', (reservation).ends_at,
    'guests', (reservation).guests, 'status', (reservation).status, 'hold_expires_at', (reservation).hold_expires_at,
    'notes', (reservation).notes,
    'created_at', (reservation).created_at, 'updated_at', (reservation).updated_at,
    'idempotency_key', (reservation).idempotency_key)
$$;
comment on function booking.reservation_document(booking.reservations) is $$A reservation as the /rpc routes answer it and as webhooks carry it: its columns, the tables it holds (booking.held_tables) and its idempotency key, timestamps in UTC.
Example: select booking.reservation_document(r) from booking.reservations r where id = 42;$$;

create function booking_private.reservation_webhook_event() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
declare
  v_type text;
begin
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
comment on function booking_private.reservation_webhook_event() is 'Trigger: the webhook event of a reservation change, carrying booking.reservation_document of the new row: hold.created (a hold), reservation.created (a booking, or a hold confirmed), hold.expired, reservation.cancelled, reservation.status_changed (any other status but released), or reservation.updated (time, table, combination, party size, notes or guest of a reservation that is not a hold).';
-- After _500_tables (the held tables) and _900_history: the document lists the tables just taken.
create trigger _950_webhook after insert or update on booking.reservations
  for each row execute function booking_private.reservation_webhook_event();

--------------------------------------------------------------------------------------------------
-- The worker's side of a delivery (it connects as the owner).

create function booking_private.start_webhook_attempt(delivery_id bigint)
  returns table (deliver boolean, url text, secret text, message_id text, body json, endpoint_id bigint, event_type text)
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_delivery booking.webhook_deliveries;
  v_endpoint booking.webhook_endpoints;
  v_event booking.webhook_events;
begin
  select * into v_delivery from booking.webhook_deliveries d where d.id = start_webhook_attempt.delivery_id for update;
  if not found then
    -- The endpoint was removed (its deliveries with it): nothing to send.
    return query select false, null::text, null::text, null::text, null::json, null::bigint, null::text;
    return;
  end if;
  select * into v_endpoint from booking.webhook_endpoints e where e.id = v_delivery.endpoint_id;
  select * into v_event from booking.webhook_events w where w.id = v_delivery.event_id;
  if v_delivery.status <> 'pending' or v_endpoint.disabled_at is not null then
    update booking.webhook_deliveries d set status = case when d.status = 'pending' then 'skipped' else d.status end
      where d.id = v_delivery.id;
    return query select false, v_endpoint.url, null::text, null::text, null::json, v_endpoint.id, v_event.type;
    return;
  end if;
  update booking.webhook_deliveries d set attempts = d.attempts + 1, last_attempt_at = clock_timestamp() where d.id = v_delivery.id;
  return query
    select true, v_endpoint.url, s.secret, 'evt_' || v_event.id, v_event.payload, v_endpoint.id, v_event.type
    from booking_private.webhook_secrets s where s.endpoint_id = v_endpoint.id;
end;
$$;
comment on function booking_private.start_webhook_attempt(bigint) is 'Worker: what one attempt of a delivery sends (deliver false: nothing, the endpoint is gone or disabled, or it was delivered already) and counts the attempt. message_id is the webhook-id, the same on every attempt.';

create function booking_private.finish_webhook_attempt(delivery_id bigint, ok boolean, status_code integer, error text, last_attempt boolean)
  returns booking.webhook_deliveries
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_delivery booking.webhook_deliveries;
  v_endpoint booking.webhook_endpoints;
begin
  update booking.webhook_deliveries d
    set status = case when finish_webhook_attempt.ok then 'delivered' when finish_webhook_attempt.last_attempt then 'failed' else 'pending' end,
        last_status_code = finish_webhook_attempt.status_code,
        last_error = left(finish_webhook_attempt.error, 1000),
        delivered_at = case when finish_webhook_attempt.ok then clock_timestamp() end
    where d.id = finish_webhook_attempt.delivery_id
    returning * into v_delivery;
  if not found then
    return null;
  end if;
  if finish_webhook_attempt.ok then
    update booking.webhook_endpoints e set failing_since = null where e.id = v_delivery.endpoint_id and e.failing_since is not null;
  else
    update booking.webhook_endpoints e set failing_since = coalesce(e.failing_since, now())
      where e.id = v_delivery.endpoint_id
      returning * into v_endpoint;
    if v_endpoint.disabled_at is null and v_endpoint.failing_since <= now() - interval '1 day' then
      update booking.webhook_endpoints e
        set disabled_at = now(),
            disabled_reason = left(format('Disabled: every delivery failed since %s (last: %s).',
                                          to_char(v_endpoint.failing_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                          coalesce(finish_webhook_attempt.error, 'HTTP ' || finish_webhook_attempt.status_code)), 1000)
        where e.id = v_endpoint.id;
    end if;
  end if;
  return v_delivery;
end;
$$;
comment on function booking_private.finish_webhook_attempt(bigint, boolean, integer, text, boolean) is 'Worker: records how an attempt went. A success clears the endpoint''s failing_since; a failure sets it, and disables the endpoint (disabled_at, disabled_reason) once it has been failing for a day. last_attempt: the job will not be retried, the delivery is failed.';

--------------------------------------------------------------------------------------------------
-- The API role: manage endpoints (never their secrets), read the reservation document.

grant select on booking.webhook_endpoints to :DATABASE_API_ROLE;
grant execute on function
  booking.add_webhook_endpoint(bigint, text, text[]),
  booking.remove_webhook_endpoint(bigint, bigint),
  booking.webhook_event_types(),
  booking.reservation_document(booking.reservations)
  to :DATABASE_API_ROLE;

--------------------------------------------------------------------------------------------------
-- waitlist.offered: a freed table offered to a waiting party.

drop function if exists booking.waitlist_document(booking.waitlist);
create function booking.waitlist_document(entry booking.waitlist)
  returns jsonb
  language sql volatile security definer
  set search_path = pg_catalog, pg_temp
  set timezone = 'UTC'
  as $$
  select jsonb_build_object(
    'id', (entry).id, 'restaurant_id', (entry).restaurant_id, 'client_id', (entry).client_id, 'name', (entry).name,
    'phone', (entry).phone, 'email', (entry).email, 'guests', (entry).guests, 'earliest', (entry).earliest,
    'latest', (entry).latest, 'status', (entry).status, 'reservation_id', (entry).reservation_id,
    'created_at', (entry).created_at, 'updated_at', (entry).updated_at,
    'hold', (select booking.reservation_document(r) from booking.reservations r
             where r.restaurant_id = (entry).restaurant_id and r.id = (entry).reservation_id))
$$;
comment on function booking.waitlist_document(booking.waitlist) is $$A waitlist entry as webhooks carry it: its columns, and the hold it was offered (booking.reservation_document) when there is one, timestamps in UTC.
Example: select booking.waitlist_document(w) from booking.waitlist w where id = 3;$$;

drop trigger if exists _950_webhook on booking.waitlist;
drop function if exists booking_private.waitlist_webhook_event();
create function booking_private.waitlist_webhook_event() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
begin
  if new.status = 'offered' and (tg_op = 'INSERT' or old.status <> 'offered' or old.reservation_id is distinct from new.reservation_id) then
    perform booking_private.emit_event(new.restaurant_id, 'waitlist.offered', booking.waitlist_document(new));
  end if;
  return null;
end;
$$;
comment on function booking_private.waitlist_webhook_event() is 'Trigger: waitlist.offered when an entry is offered a hold, carrying booking.waitlist_document.';
create trigger _950_webhook after insert or update of status, reservation_id on booking.waitlist
  for each row execute function booking_private.waitlist_webhook_event();
