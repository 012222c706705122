// Liveness (the process answers) and readiness (the database answers as the API role and has
// exactly the committed migrations).
import { Router } from 'express';
import type { Logger } from 'pino';
import type { Queries } from '../db';

// graphile-migrate records 000001-some-message.sql as 000001.sql.
const recordedName = (file: string) => file.replace(/^(\d+)\D.*$/, '$1.sql');

export function healthRoutes(queries: Pick<Queries, 'appliedMigrations'>, committed: string[], logger: Logger): Router {
  const router = Router();
  const expected = committed.map(recordedName).join('\n');
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (_req, res) => {
    let applied: string[];
    try {
      applied = await queries.appliedMigrations();
    } catch (error) {
      logger.warn({ err: error }, 'readiness check: database unreachable');
      res.set('Retry-After', '5').status(503).json({ status: 'not_ready', reason: 'database_unreachable' });
      return;
    }
    if (applied.join('\n') !== expected) {
      res.set('Retry-After', '5').status(503).json({ status: 'not_ready', reason: 'migrations_not_current' });
      return;
    }
    res.json({ status: 'ready', migrations: applied.length });
  });
  return router;
}
