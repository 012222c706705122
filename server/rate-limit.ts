// Requests per API key per window, and unknown keys per address (auth.ts). The memory store suits
// one process; with REDIS_URL every instance shares both counts. A Redis that goes away later
// does not take the API with it: the counts fall back to this process's memory (the limits then
// hold per process), the log says the limiter is degraded, and sharing resumes when it is back.
import { MemoryStore, rateLimit, type ClientRateLimitInfo, type Options, type Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { createClient } from 'redis';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { apiKeyOf } from './auth';
import { refusal } from './errors';

export interface SharedStore {
  /** Requests per API key. */
  store: Store;
  /** Failed authentications per address. */
  failures: Store & { get: NonNullable<Store['get']> };
  close(): Promise<void>;
}

/** Whether Redis answers; logs each change once. */
class RedisHealth {
  up = true;

  constructor(private readonly logger: Logger | undefined) {}

  lost(error?: unknown): void {
    if (!this.up) return;
    this.up = false;
    this.logger?.warn({ err: error }, 'rate limiter degraded: Redis unreachable, limits are counted per process until it is back');
  }

  back(): void {
    if (this.up) return;
    this.up = true;
    this.logger?.info('rate limiter: Redis is back, limits are shared again');
  }
}

/** Redis while it answers, this process's memory while it does not. */
class FallbackStore implements Store {
  readonly localKeys = false;
  private readonly memory = new MemoryStore();

  constructor(
    private readonly remote: RedisStore,
    private readonly health: RedisHealth,
  ) {}

  init(options: Options): void {
    this.remote.init(options);
    this.memory.init(options);
  }

  private async either<T>(remote: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    if (!this.health.up) return local();
    try {
      return await remote();
    } catch (error) {
      this.health.lost(error);
      return local();
    }
  }

  get(key: string): Promise<ClientRateLimitInfo | undefined> {
    return this.either(() => this.remote.get(key), () => this.memory.get(key));
  }

  increment(key: string): Promise<ClientRateLimitInfo> {
    return this.either(() => this.remote.increment(key), () => this.memory.increment(key));
  }

  decrement(key: string): Promise<void> {
    return this.either(() => this.remote.decrement(key), () => this.memory.decrement(key));
  }

  resetKey(key: string): Promise<void> {
    return this.either(() => this.remote.resetKey(key), () => this.memory.resetKey(key));
  }
}

export async function connectRedisStore(url: string, prefix = 'nora-rl:', logger?: Logger): Promise<SharedStore> {
  let connected = false;
  const health = new RedisHealth(logger);
  // A Redis that is down at start-up fails the start; one lost later is reconnected to. Commands
  // fail at once while it is away (no offline queue), so no request waits for it.
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 5000, reconnectStrategy: (retries, cause) => (connected ? Math.min(retries * 100, 2000) : new Error(`Redis unreachable: ${cause.message}`)) },
  });
  client.on('error', (error: unknown) => {
    if (connected) health.lost(error);
  });
  client.on('ready', () => health.back());
  await client.connect();
  connected = true;
  const redis = (name: string) => new FallbackStore(new RedisStore({ prefix: `${prefix}${name}`, sendCommand: (...args: string[]) => client.sendCommand(args) }), health);
  return { store: redis(''), failures: redis('failed-auth:'), close: () => client.close() };
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
    // The Redis store falls back to memory itself; any other store error must not refuse requests.
    passOnStoreError: true,
    // A development check that one request is not counted twice (a WeakMap, a Map and an array
    // per request); the limiter is mounted once, and test/api/rate-limit proves one count each.
    validate: { singleCount: false },
    handler: (_req, _res, next) =>
      next(refusal(429, 'rate_limited', 'Too many requests for this API key.', 'rate_limited', 'Wait until the RateLimit reset, then retry.')),
  });
}

