// Bearer API keys: resolved by booking.resolve_api_key (the database stores only hashes), kept
// for a short while in memory so a busy assistant does not pay a lookup per request.
import { createHash } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { ipKeyGenerator, MemoryStore, type Options, type Store } from 'express-rate-limit';
import type { Actor, ApiKeyScope, Queries } from './db';
import { ApiError, refusal } from './errors';
import type { KeyChanges } from './key-events';

const BEARER = /^Bearer +([!-~]{1,512})$/i;
const MAX_CACHED = 10_000;

function unauthorized(message: string, budget: Record<string, string>): ApiError {
  return new ApiError(
    401,
    { code: 'unauthorized', message, details: { reason: 'unauthorized' }, hint: 'Send Authorization: Bearer <API key>.' },
    { 'WWW-Authenticate': 'Bearer', ...budget },
  );
}

export interface FailedLookupLimit {
  windowMs: number;
  /** Unknown keys an address may present per window before it is refused without a lookup. */
  failedAuthMax: number;
}

const secondsUntil = (reset: Date) => Math.max(0, Math.ceil((reset.getTime() - Date.now()) / 1000));

/**
 * The address's budget of unknown keys as draft-8 RateLimit headers (policy `failed-auth`), so a
 * client that is refused before its key is known still sees how far it is from a 429.
 */
function failedAuthHeaders(limit: FailedLookupLimit, hits: number, reset: Date): Record<string, string> {
  return {
    RateLimit: `"failed-auth"; r=${Math.max(0, limit.failedAuthMax - hits)}; t=${secondsUntil(reset)}`,
    'RateLimit-Policy': `"failed-auth"; q=${limit.failedAuthMax}; w=${Math.ceil(limit.windowMs / 1000)}`,
  };
}

export interface AuthenticationOptions {
  /** Key revocations from the database: a changed key leaves the cache at once. */
  keyChanges?: KeyChanges;
  /** Failed lookups per address; shared between processes when it is the Redis store. */
  failures?: Store & { get: NonNullable<Store['get']> };
}

/**
 * Resolves the key into res.locals.apiKey, or answers 401. An address that keeps presenting
 * unknown keys gets 429 instead of further lookups; only failed lookups count, so a working
 * key is never held back by them.
 */
export function authenticate(
  queries: Pick<Queries, 'resolveApiKey'>,
  ttlMs: number,
  limit: FailedLookupLimit,
  options: AuthenticationOptions = {},
): RequestHandler {
  // Keyed by the key's hash, so the raw key is not kept in memory longer than the request.
  const cache = new Map<string, { scope: ApiKeyScope; expires: number }>();
  // Bumped by every key change, so a lookup that raced a revocation is not cached.
  let generation = 0;
  options.keyChanges?.onChange((keyId) => {
    generation += 1;
    if (keyId === null) cache.clear();
    else for (const [digest, entry] of cache) if (entry.scope.keyId === keyId) cache.delete(digest);
  });
  const failures = options.failures ?? new MemoryStore();
  failures.init?.({ windowMs: limit.windowMs } as Options);
  const addressOf = (ip: string | undefined) => `ip:${ipKeyGenerator(ip ?? '')}`;
  return async (req, res, next) => {
    const match = BEARER.exec(req.headers.authorization ?? '');
    const now = Date.now();
    if (!match) {
      const failed = await failures.get(addressOf(req.ip));
      throw unauthorized('An API key is required.', failedAuthHeaders(limit, failed?.totalHits ?? 0, failed?.resetTime ?? new Date(now + limit.windowMs)));
    }
    const key = match[1]!;
    const digest = createHash('sha256').update(key).digest('hex');
    let scope = cache.get(digest);
    if (!scope || scope.expires <= now) {
      const address = addressOf(req.ip);
      const failed = await failures.get(address);
      if (failed && failed.totalHits >= limit.failedAuthMax) throw tooManyFailures(limit, failed.totalHits, failed.resetTime ?? new Date(now + limit.windowMs));
      const seen = generation;
      const resolved = await queries.resolveApiKey(key);
      if (!resolved) {
        cache.delete(digest);
        const counted = await failures.increment(address);
        throw unauthorized('The API key is unknown or revoked.', failedAuthHeaders(limit, counted.totalHits, counted.resetTime ?? new Date(now + limit.windowMs)));
      }
      if (cache.size >= MAX_CACHED) cache.clear();
      scope = { scope: resolved, expires: now + ttlMs };
      if (ttlMs > 0 && seen === generation) cache.set(digest, scope);
    }
    res.locals.apiKey = scope.scope;
    next();
  };
}

function tooManyFailures(limit: FailedLookupLimit, hits: number, reset: Date): ApiError {
  const seconds = Math.max(1, secondsUntil(reset));
  return new ApiError(
    429,
    {
      code: 'rate_limited',
      message: 'Too many requests with unknown API keys from this address.',
      details: { reason: 'too_many_failed_authentications' },
      hint: 'Check the API key, then retry later.',
    },
    { 'Retry-After': String(seconds), ...failedAuthHeaders(limit, hits, reset) },
  );
}

export function apiKeyOf(res: Response): ApiKeyScope {
  return res.locals.apiKey as ApiKeyScope;
}

/** A restaurant key may only act for its own restaurant; an admin key for any. */
export function requireRestaurant(res: Response, restaurantId: number): number {
  return requireScope(apiKeyOf(res), restaurantId);
}

export function requireScope(scope: ApiKeyScope, restaurantId: number): number {
  if (scope.restaurantId !== null && scope.restaurantId !== restaurantId) {
    throw refusal(403, 'forbidden', 'This API key may not act for that restaurant.', 'other_restaurant', "Use the restaurant's own API key.");
  }
  return restaurantId;
}

export function actorOf(res: Response, channel: Actor['channel']): Actor {
  return { channel, label: apiKeyOf(res).label };
}
