// Requests per API key per window. The memory store suits one process; with REDIS_URL every
// instance shares the counts.
import { rateLimit, type Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { createClient } from 'redis';
import type { Config } from './config';
import { apiKeyOf } from './auth';
import { refusal } from './errors';

export interface SharedStore {
  store: Store;
  close(): Promise<void>;
}

export async function connectRedisStore(url: string, prefix = 'nora-rl:'): Promise<SharedStore> {
  let connected = false;
  // A Redis that is down at start-up fails the start; one lost later is reconnected to.
  const client = createClient({
    url,
    socket: { connectTimeout: 5000, reconnectStrategy: (retries, cause) => (connected ? Math.min(retries * 100, 2000) : new Error(`Redis unreachable: ${cause.message}`)) },
  });
  client.on('error', () => undefined);
  await client.connect();
  connected = true;
  const store = new RedisStore({ prefix, sendCommand: (...args: string[]) => client.sendCommand(args) });
  return { store, close: () => client.close() };
}

/** Runs after authentication: the bucket is the key's id, never the key itself. */
export function limitPerApiKey(limits: Pick<Config['rateLimit'], 'windowMs' | 'max'>, store?: Store) {
  return rateLimit({
    windowMs: limits.windowMs,
    limit: limits.max,
    // draft-8 is the newest draft express-rate-limit implements; a stable policy name lets
    // clients tell this limit from the failed-authentication one (auth.ts).
    standardHeaders: 'draft-8',
    identifier: 'per-key',
    legacyHeaders: false,
    keyGenerator: (_req, res) => `key:${apiKeyOf(res).keyId}`,
    ...(store ? { store } : {}),
    handler: (_req, _res, next) =>
      next(refusal(429, 'rate_limited', 'Too many requests for this API key.', 'rate_limited', 'Wait until the RateLimit reset, then retry.')),
  });
}

