// The one place that reads the environment: every setting is parsed and validated here, once,
// at start-up. Everything else receives a Config.
import { z } from 'zod';

const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);

const schema = z.object({
  DATABASE_URL: z.url().optional(),
  API_DATABASE_URL: z.url().optional(),
  DATABASE_LISTEN_URL: z.url().optional(),
  DATABASE_API_ROLE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL identifier')
    .default('nora_api'),
  DATA_DIR: z.string().min(1).default('.data'),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(54329),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DB_POOL_SIZE: positiveInt(500).default(20),
  DB_CONNECTION_TIMEOUT_MS: positiveInt(600_000).default(5000),
  DB_STATEMENT_TIMEOUT_MS: positiveInt(600_000).default(10_000),
  DB_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  DB_PREPARED_STATEMENTS: flag.default(true),
  API_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  NORA_API_KEY: z.string().regex(/^[!-~]{1,512}$/, 'an API key').optional(),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'a size such as 100kb')
    .default('32kb'),
  RATE_LIMIT_WINDOW_MS: positiveInt(86_400_000).default(60_000),
  RATE_LIMIT_MAX: positiveInt(10_000_000).default(600),
  RATE_LIMIT_FAILED_AUTH_MAX: positiveInt(10_000_000).default(30),
  REDIS_URL: z.url().optional(),
  VALIDATE_RESPONSES: flag.default(false),
  SHUTDOWN_TIMEOUT_MS: positiveInt(600_000).default(10_000),
  NODE_ENV: z.enum(['production', 'development', 'test']).default('development'),
  WORKER_ENABLED: flag.default(true),
  WORKER_CONCURRENCY: positiveInt(100).default(10),
  WORKER_POLL_INTERVAL_MS: positiveInt(600_000).default(2000),
  WEBHOOK_TIMEOUT_MS: positiveInt(600_000).default(10_000),
  WEBHOOK_ALLOW_PRIVATE: flag.default(false),
  API_WORKERS: positiveInt(64).default(1),
});

export type Config = ReturnType<typeof parseConfig>;

function parseConfig(env: NodeJS.ProcessEnv) {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const c = parsed.data;
  return {
    databaseUrl: c.DATABASE_URL,
    apiDatabaseUrl: c.API_DATABASE_URL,
    listenDatabaseUrl: c.DATABASE_LISTEN_URL,
    apiRole: c.DATABASE_API_ROLE,
    dataDir: c.DATA_DIR,
    embeddedPort: c.EMBEDDED_PG_PORT,
    port: c.PORT,
    host: c.HOST,
    logLevel: c.LOG_LEVEL,
    pool: {
      size: c.DB_POOL_SIZE,
      connectionTimeoutMs: c.DB_CONNECTION_TIMEOUT_MS,
      statementTimeoutMs: c.DB_STATEMENT_TIMEOUT_MS,
      retries: c.DB_RETRIES,
      preparedStatements: c.DB_PREPARED_STATEMENTS,
    },
    keyCacheTtlMs: c.API_KEY_CACHE_TTL_MS,
    /** The key `npm run mcp` (stdio) acts with. */
    mcpApiKey: c.NORA_API_KEY,
    bodyLimit: c.BODY_LIMIT,
    rateLimit: { windowMs: c.RATE_LIMIT_WINDOW_MS, max: c.RATE_LIMIT_MAX, failedAuthMax: c.RATE_LIMIT_FAILED_AUTH_MAX, redisUrl: c.REDIS_URL },
    validateResponses: c.VALIDATE_RESPONSES,
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    worker: { enabled: c.WORKER_ENABLED, concurrency: c.WORKER_CONCURRENCY, pollIntervalMs: c.WORKER_POLL_INTERVAL_MS },
    // Private, loopback and link-local receivers are refused in production unless allowed.
    webhooks: { timeoutMs: c.WEBHOOK_TIMEOUT_MS, allowPrivate: c.WEBHOOK_ALLOW_PRIVATE || c.NODE_ENV !== 'production' },
    workers: c.API_WORKERS,
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseConfig(env);
}
