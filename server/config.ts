// The one place that reads the environment: every setting is parsed and validated here, once,
// at start-up. Everything else receives a Config.
import { z } from 'zod';

const schema = z.object({
  DATABASE_URL: z.url().optional(),
  API_DATABASE_URL: z.url().optional(),
  DATABASE_API_ROLE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL identifier')
    .default('nora_api'),
  DATA_DIR: z.string().min(1).default('.data'),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(54329),
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
    apiRole: c.DATABASE_API_ROLE,
    dataDir: c.DATA_DIR,
    embeddedPort: c.EMBEDDED_PG_PORT,
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseConfig(env);
}
