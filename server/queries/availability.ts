// Availability: free start times of a day, in the legacy shape and as booking.available_table_counts rows.
import type { Database } from '../db';
import { statements } from './shapes';

export function availabilityQueries(db: Database) {
  const { one } = statements(db);

  return {
    availability: (restaurantId: number, day: string, guests: number, time: string | null, area: string | null) =>
      one(
        `select json_build_object(
           'availableSlots', coalesce(json_agg(local_time order by starts_at) filter (where tables_available > 0), '[]'),
           'tablesAvailable', coalesce(case when $4::text is null then max(tables_available)
                                            else max(tables_available) filter (where local_time = $4) end, 0),
           'slots', coalesce(json_agg(json_build_object('time', local_time, 'startsAt', starts_at, 'tablesAvailable', tables_available)
                                      order by starts_at), '[]')) as data
         from booking.available_table_counts($1, $2, $3, $5)`,
        [restaurantId, day, guests, time, area],
      ),

    tableCounts: (restaurantId: number, day: string, guests: number, area: string | null) =>
      one(
        `select coalesce(json_agg(json_build_object('starts_at', starts_at, 'local_time', local_time, 'tables_available', tables_available)
                                  order by starts_at), '[]') as data
         from booking.available_table_counts($1, $2, $3, $4)`,
        [restaurantId, day, guests, area],
      ),
  };
}
