// Workloads the benchmarks share: a seeded random sequence, and a full day of bookings.
import type pg from 'pg';
import { madridInstant, query } from './support';

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32): the same seed, the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Books about 100 reservations (parties of 2-6, random times 12:00-21:15) on the local day 3 days ahead. */
export async function bookFullDay(pool: pg.Pool, restaurant: string): Promise<{ day: string; reservations: number }> {
  const next = seededRandom(7);
  const day = 3;
  const times = await Promise.all(
    Array.from({ length: 38 }, (_, i) => madridInstant(pool, day, `${12 + Math.floor(i / 4)}:${String((i % 4) * 15).padStart(2, '0')}`)),
  );
  let reservations = 0;
  for (let attempt = 0; reservations < 100 && attempt < 2000; attempt += 1) {
    const startsAt = times[Math.floor(next() * times.length)]!;
    await query(pool, 'select booking.book_table($1, $2, $3)', [restaurant, startsAt, 2 + Math.floor(next() * 5)])
      .then(() => (reservations += 1))
      .catch((error: pg.DatabaseError) => {
        if (error.code !== 'PT409') throw error;
      });
  }
  const { rows } = await pool.query<{ day: string }>(
    "select to_char((now() at time zone 'Europe/Madrid')::date + $1::int, 'YYYY-MM-DD') as day",
    [day],
  );
  return { day: rows[0]!.day, reservations };
}
