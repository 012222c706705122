--! Previous: sha1:6487c6e268d31d82759297310021f4aecf473059
--! Hash: sha1:58b27583097cbbac06064a42f04fbd99c9861ffa
--! Message: Looking for a place names the restaurant in the combination subqueries, so on Citus it reads the restaurant's shards alone

-- On Citus, looking for a place reads the restaurant's shards alone.
--
-- seating_candidates (where a party could sit), usable_combinations (availability and waitlist
-- offers) and assert_bookable (the largest place that takes the party) found a combination's
-- member tables through the combination's row (cm.restaurant_id = c.restaurant_id, in a
-- correlated subquery). One PostgreSQL sees that this is the restaurant asked about; Citus does
-- not carry the equality into the subquery, so it read table_combination_members and tables of
-- every shard, on both workers, for every booking, reschedule, hold, availability count and
-- waitlist offer. Naming the restaurant in the subquery routes it to the restaurant's shards
-- (test/citus/one-shard). Same rows on one PostgreSQL. Each is its latest definition (000005)
-- with only that WHERE changed; CREATE OR REPLACE keeps grants and comments. Re-runnable.

create or replace function booking_private.seating_candidates(
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
      where cm.restaurant_id = p_restaurant_id and t.restaurant_id = p_restaurant_id and cm.combination_id = c.id) m
    where c.restaurant_id = p_restaurant_id and c.active and c.min_guests <= p_guests and c.capacity >= p_guests
      and m.usable and p_only_table is null and (p_only_combination is null or c.id = p_only_combination)
      and not (m.tables && p_busy) and c.id <> all (p_tried_combinations)
  ) x
  order by x.preferred desc, x.kind, x.capacity, x.size, x.id
$$;


create or replace function booking_private.usable_combinations(p_restaurant_id bigint, p_guests integer, p_area text) returns jsonb
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
    where cm.restaurant_id = p_restaurant_id and t.restaurant_id = p_restaurant_id and cm.combination_id = c.id) m
  where c.restaurant_id = p_restaurant_id and c.active and c.min_guests <= p_guests and c.capacity >= p_guests
    and m.usable and not m.holds_fitting_table
$$;

create or replace function booking_private.assert_bookable(p_restaurant booking.restaurants, p_starts_at timestamptz, p_guests integer, p_minutes integer, p_area text)
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
                         where m.restaurant_id = p_restaurant.id and t.restaurant_id = p_restaurant.id and m.combination_id = c.id
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
