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
  insert into booking.tables (restaurant_id, name, capacity, min_guests)
  select restaurant.id, 'T' || n, capacity, min_guests
  from restaurant,
       (values (1, 2, 1), (2, 2, 1), (3, 2, 1), (4, 2, 1), (5, 4, 2), (6, 4, 2),
               (7, 4, 2), (8, 4, 2), (9, 6, 3), (10, 6, 3), (11, 8, 4), (12, 8, 4)) as t (n, capacity, min_guests)
)
select id from restaurant;
