// Shared by the legacy routers: the {"success":true,"data":…} envelope and the path ids, which
// the OpenAPI validator has already checked to be positive integers.
import type { Request, Response } from 'express';
import type { Json } from '../db';
import { refusal } from '../errors';
import { requireRestaurant } from '../auth';

export function send(res: Response, data: unknown, status = 200): void {
  res.status(status).json({ success: true, data });
}

/** The path's restaurant, refused with 403 when the key belongs to another one. */
export function restaurantOf(req: Request, res: Response): number {
  return requireRestaurant(res, Number(req.params.restId));
}

export function idOf(req: Request): number {
  return Number(req.params.id);
}

/** The reason is the one the SQL functions give for the same unknown id (e.g. waitlist_entry_not_found). */
export function found(data: Json | null, what: 'restaurant' | 'reservation' | 'client' | 'waitlist_entry'): Json {
  if (data === null) {
    const name = what.replace('_', ' ');
    throw refusal(404, 'PT404', `That ${name} does not exist.`, `${what}_not_found`, `Check the ${name} id.`);
  }
  return data;
}

export function queryString(req: Request, name: string): string | null {
  const value = req.query[name];
  return typeof value === 'string' ? value : null;
}

/** An integer query parameter; the contract's validator has already turned it into a number. */
export function queryInteger(req: Request, name: string): number | null {
  const value = req.query[name];
  return typeof value === 'number' ? value : null;
}
