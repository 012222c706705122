--! Previous: sha1:00542b46f70b75bde5bc5a9a4ede5679fee48256
--! Hash: sha1:91eba3f209bdcd11b7b9c9199ef1987ce86bdad7
--! Message: API key change notifications; a refused status change names the allowed next ones

-- API key changes reach every API process at once (each LISTENs on nora_api_keys and drops the
-- key from its cache), and a refused status change names the current status and the allowed
-- next ones, so a host's tool can offer them.

create or replace function booking_private.notify_api_key_change() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
  as $$
begin
  -- The payload is the key's id; an empty payload (TRUNCATE) means every key.
  if tg_level = 'STATEMENT' then
    perform pg_notify('nora_api_keys', '');
  else
    perform pg_notify('nora_api_keys', old.id::text);
  end if;
  return null;
end;
$$;
comment on function booking_private.notify_api_key_change() is 'Tells listening API processes (channel nora_api_keys, payload the key id, empty for all keys) that a key was revoked, changed or deleted, so none keeps serving it from its cache.';

drop trigger if exists api_keys_notify on booking_private.api_keys;
create trigger api_keys_notify after update or delete on booking_private.api_keys
  for each row execute function booking_private.notify_api_key_change();
drop trigger if exists api_keys_notify_truncate on booking_private.api_keys;
create trigger api_keys_notify_truncate after truncate on booking_private.api_keys
  for each statement execute function booking_private.notify_api_key_change();

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
  update booking.reservations r set status = set_reservation_status.status where r.id = v_row.id returning * into v_row;
  -- A no-show or a cancellation frees the table: the waitlist may take it in this transaction.
  if v_row.status in ('no_show', 'cancelled') then
    perform booking_private.offer_freed(v_row.restaurant_id, v_row.during, null);
  end if;
  return v_row;
end;
$$;
comment on function booking.set_reservation_status(bigint, bigint, text) is $$Records what happened at the door: confirmed to seated, no_show or cancelled; seated to completed. Setting the current status again changes nothing.
Errors: PT404 restaurant_not_found, reservation_not_found; PT409 invalid_transition (details: current_status and the allowed next statuses).
Example: select * from booking.set_reservation_status(1, 42, 'seated');$$;
