// Bearer API keys: resolved by booking.resolve_api_key (the database stores only hashes), kept
// for a short while in memory so a busy assistant does not pay a lookup per request.
import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Actor, ApiKeyScope, Queries } from './db';
import { ApiError, refusal } from './errors';

const BEARER = /^Bearer +([!-~]{1,512})$/i;
const MAX_CACHED = 10_000;

function unauthorized(message: string): ApiError {
  return new ApiError(
    401,
    { code: 'unauthorized', message, details: { reason: 'unauthorized' }, hint: 'Send Authorization: Bearer <API key>.' },
    { 'WWW-Authenticate': 'Bearer' },
  );
}

export interface ApiKeyAuth {
  /** Resolves the key into res.locals.apiKey, or answers 401. */
  authenticate: RequestHandler;
  /** Whether the request carries a key this process resolved within the cache's lifetime. */
  isKnown(req: Request): boolean;
}

export function apiKeyAuth(queries: Pick<Queries, 'resolveApiKey'>, ttlMs: number): ApiKeyAuth {
  // Keyed by the key's hash, so the raw key is not kept in memory longer than the request.
  const cache = new Map<string, { scope: ApiKeyScope; expires: number }>();
  const presented = (req: Request) => BEARER.exec(req.headers.authorization ?? '')?.[1];
  const digestOf = (key: string) => createHash('sha256').update(key).digest('hex');
  return {
    isKnown(req) {
      const key = presented(req);
      return key !== undefined && (cache.get(digestOf(key))?.expires ?? 0) > Date.now();
    },
    async authenticate(req, res, next) {
      const key = presented(req);
      if (!key) throw unauthorized('An API key is required.');
      const digest = digestOf(key);
      const now = Date.now();
      let scope = cache.get(digest);
      if (!scope || scope.expires <= now) {
        const resolved = await queries.resolveApiKey(key);
        if (!resolved) {
          cache.delete(digest);
          throw unauthorized('The API key is unknown or revoked.');
        }
        if (cache.size >= MAX_CACHED) cache.clear();
        scope = { scope: resolved, expires: now + ttlMs };
        if (ttlMs > 0) cache.set(digest, scope);
      }
      res.locals.apiKey = scope.scope;
      next();
    },
  };
}

export function apiKeyOf(res: Response): ApiKeyScope {
  return res.locals.apiKey as ApiKeyScope;
}

/** A restaurant key may only act for its own restaurant; an admin key for any. */
export function requireRestaurant(res: Response, restaurantId: number): number {
  const scope = apiKeyOf(res);
  if (scope.restaurantId !== null && scope.restaurantId !== restaurantId) {
    throw refusal(403, 'forbidden', 'This API key may not act for that restaurant.', 'other_restaurant', "Use the restaurant's own API key.");
  }
  return restaurantId;
}

export function actorOf(res: Response, channel: Actor['channel']): Actor {
  return { channel, label: apiKeyOf(res).label };
}
