-- Demo Bistro: the restaurant `npm start` and `npm run db:seed` create in an empty database.
-- Returns the new restaurant's id (no row when a restaurant of that name already exists).
with restaurant as (
  insert into booking.restaurants (name, timezone, min_notice_minutes, booking_horizon_days)
  select 'Demo Bistro', 'Europe/Madrid', 60, 90
  where not exists (select 1 from booking.restaurants where name = 'Demo Bistro')
  returning id
),
hours as (
  insert into booking.opening_hours (restaurant_id, weekday, opens, closes)
  select restaurant.id, weekday, period.opens, period.closes
  from restaurant,
       generate_series(2, 7) as weekday,
       (values (time '13:00', time '16:00'), (time '20:00', time '23:30')) as period (opens, closes)
),
turns as (
  insert into booking.turn_times (restaurant_id, max_guests, minutes)
  select restaurant.id, 6, 105 from restaurant
  union all
  select restaurant.id, 20, 120 from restaurant
),
tables as (
  -- The two-tops stand on the terrace, the rest inside.
  insert into booking.tables (restaurant_id, name, capacity, min_guests, area)
  select restaurant.id, 'T' || n, capacity, min_guests, case when n <= 4 then 'terrace' else 'inside' end
  from restaurant,
       (values (1, 2, 1), (2, 2, 1), (3, 2, 1), (4, 2, 1), (5, 4, 2), (6, 4, 2),
               (7, 4, 2), (8, 4, 2), (9, 6, 3), (10, 6, 3), (11, 8, 4), (12, 8, 4)) as t (n, capacity, min_guests)
  returning id, restaurant_id, name
),
-- Two pairs of four-tops pushed together for 6 to 8, once the six- and eight-tops are gone.
combinations as (
  insert into booking.table_combinations (restaurant_id, name, min_guests, capacity)
  select restaurant.id, pair.name, 6, 8
  from restaurant, (values ('T5+T6'), ('T7+T8')) as pair (name)
  returning id, restaurant_id, name
),
members as (
  insert into booking.table_combination_members (restaurant_id, combination_id, table_id)
  select c.restaurant_id, c.id, t.id
  from combinations c
  join tables t on t.restaurant_id = c.restaurant_id and t.name = any (string_to_array(c.name, '+'))
),
-- The kitchen starts at most 16 covers per slot at its busiest, 21:00 to 21:30.
pacing as (
  insert into booking.pacing_limits (restaurant_id, opens, closes, max_covers)
  select restaurant.id, time '21:00', time '21:30', 16 from restaurant
)
select id from restaurant;
