--! Previous: sha1:18fa564aaf6a2f470323689d5376396263a2be54
--! Hash: sha1:86198e7e3eb59491ce321c58010dafdf3f404561
--! Message: API keys and the API role

-- API keys (only their hashes are stored) and the least-privilege role the HTTP server runs as.

create table booking_private.api_keys (
  id bigint generated always as identity primary key,
  restaurant_id bigint references booking.restaurants on delete cascade,
  label text not null check (length(btrim(label)) between 1 and 100),
  key_hash bytea not null unique,
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);
comment on table booking_private.api_keys is 'API keys as SHA-256 hashes. restaurant_id null means an admin key that may act for every restaurant.';

create function booking.create_api_key(restaurant_id bigint, label text)
  returns text
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
#variable_conflict use_column
declare
  v_key text;
begin
  if create_api_key.restaurant_id is not null then
    perform booking_private.restaurant(create_api_key.restaurant_id);
  end if;
  -- Two v4 UUIDs from the server's strong random source: 244 random bits.
  v_key := 'nora_' || replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
  insert into booking_private.api_keys (restaurant_id, label, key_hash)
    values (create_api_key.restaurant_id, btrim(create_api_key.label), sha256(convert_to(v_key, 'UTF8')));
  return v_key;
end;
$$;
comment on function booking.create_api_key(bigint, text) is $$Creates an API key for one restaurant (or, with restaurant_id null, an admin key) and returns it. The key is shown only this once: only its SHA-256 hash is stored.
Errors: PT404 restaurant_not_found; 23514 empty label.
Example: select booking.create_api_key(1, 'phone assistant');$$;

create function booking.resolve_api_key(key text)
  returns table (key_id bigint, restaurant_id bigint, label text)
  language sql stable security definer
  set search_path = pg_catalog, pg_temp
  as $$
  select k.id, k.restaurant_id, k.label
  from booking_private.api_keys k
  where k.key_hash = sha256(convert_to(resolve_api_key.key, 'UTF8')) and k.revoked_at is null
$$;
comment on function booking.resolve_api_key(text) is $$The scope of a presented API key: its id, its restaurant (null for an admin key) and its label; no row when the key is unknown or revoked.
Example: select * from booking.resolve_api_key('nora_…');$$;

create function booking.revoke_api_key(key_id bigint)
  returns boolean
  language sql volatile security definer
  set search_path = pg_catalog, pg_temp
  as $$
  update booking_private.api_keys k set revoked_at = now() where k.id = revoke_api_key.key_id and k.revoked_at is null
  returning true
$$;
comment on function booking.revoke_api_key(bigint) is $$Revokes an API key by id (see booking.resolve_api_key or booking_private.api_keys); true when it was active.
Example: select booking.revoke_api_key(3);$$;

-- Roles are cluster-wide, so the API role may already exist (another database of the cluster).
do $$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = ':DATABASE_API_ROLE') then
    create role :DATABASE_API_ROLE nologin;
  end if;
end;
$$;
comment on role :DATABASE_API_ROLE is 'The HTTP server: executes the booking functions and reads what the API lists; writes nothing directly.';

grant usage on schema booking to :DATABASE_API_ROLE;
grant select on booking.restaurants, booking.tables, booking.clients, booking.reservations, booking.reservation_events
  to :DATABASE_API_ROLE;
grant execute on function
  booking.available_table_counts(bigint, date, integer),
  booking.book_table(bigint, timestamptz, integer, bigint, bigint, text, text),
  booking.upsert_client(bigint, text, text, text),
  booking.create_client(bigint, text, text, text, text),
  booking.update_client(bigint, bigint, text, text, text, text),
  booking.delete_client(bigint, bigint),
  booking.cancel_reservation(bigint, bigint),
  booking.reschedule_reservation(bigint, bigint, timestamptz, integer, bigint),
  booking.set_reservation_status(bigint, bigint, text),
  booking.resolve_api_key(text)
  to :DATABASE_API_ROLE;
-- /ready compares the applied migrations with the committed ones.
grant usage on schema graphile_migrate to :DATABASE_API_ROLE;
grant select on graphile_migrate.migrations to :DATABASE_API_ROLE;
