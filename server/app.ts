// The Express application: production middleware, the contract's validation, the routes, and
// the one error handler. Everything it talks to is passed in, so tests build it around their
// own database.
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Queries } from './db';
import { authenticate } from './auth';
import { errorPayload, noSuchRoute, toApiError } from './errors';
import { requestLogger } from './logger';
import { loadCatalog } from './mcp/catalog';
import { mcpRoutes } from './mcp/http';
import type { KeyChanges } from './key-events';
import { validateAgainstSpec } from './openapi';
import { limitPerApiKey } from './rate-limit';
import { availabilityRoutes } from './routes/availability';
import { clientRoutes } from './routes/clients';
import { docsRoutes } from './routes/docs';
import { healthRoutes } from './routes/health';
import { holdRoutes } from './routes/holds';
import { reservationRoutes } from './routes/reservations';
import { rpcRoutes } from './routes/rpc';
import { waitlistRoutes } from './routes/waitlist';
import { webhookRoutes } from './routes/webhooks';

export interface AppDependencies {
  config: Pick<Config, 'bodyLimit' | 'keyCacheTtlMs' | 'rateLimit' | 'validateResponses' | 'webhooks'>;
  queries: Queries;
  logger: Logger;
  /** Applied migrations /ready expects. */
  committedMigrations: string[];
  /** Shared rate-limit counts (Redis); in-process memory when absent. */
  rateLimitStore?: Store;
  /** Shared failed-authentication counts per address (Redis); in-process memory when absent. */
  failedAuthStore?: Store & { get: NonNullable<Store['get']> };
  /** API key revocations heard from the database. */
  keyChanges?: KeyChanges;
}

/**
 * helmet's headers, worked out once: with no per-request nonce they are the same for every
 * response, so they are set from a list instead of running helmet's middlewares each time.
 */
function securityHeaders(): RequestHandler {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => headers.set(name, String(value)),
  };
  // Plain http on a LAN address must still load the docs page's own scripts. X-Powered-By is
  // Express's, switched off in createApp; helmet's step for it removes a header per response.
  helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } }, xPoweredBy: false })(
    { headers: {} } as IncomingMessage,
    recorder as unknown as ServerResponse,
    () => undefined,
  );
  const list = [...headers];
  return (_req, res, next) => {
    for (const [name, value] of list) res.setHeader(name, value);
    next();
  };
}

export function createApp({ config, queries, logger, committedMigrations, rateLimitStore, failedAuthStore, keyChanges }: AppDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // Answers are never cached by validators (each is the database's current state): no ETag, so
  // no hash of every body.
  app.set('etag', false);
  app.use(securityHeaders());
  app.use(requestLogger(logger));
  app.use(healthRoutes(queries, committedMigrations, logger));
  app.use(docsRoutes());
  app.use(
    ['/api', '/rpc', '/mcp'],
    authenticate(queries, config.keyCacheTtlMs, config.rateLimit, { keyChanges, failures: failedAuthStore }),
    limitPerApiKey(config.rateLimit, rateLimitStore),
  );
  // JSON-RPC rather than the OpenAPI contract: its own body parsing, ahead of the contract's validator.
  app.use('/mcp', mcpRoutes(loadCatalog(), queries, config.bodyLimit));
  app.use(express.json({ limit: config.bodyLimit }));
  // The contract's validator answers a path outside the contract with 404, and another method on
  // one of its paths with 405, in the error shape.
  app.use(validateAgainstSpec(config.validateResponses));
  const restaurant = '/api/restaurants/:restId';
  app.use(
    restaurant,
    availabilityRoutes(queries),
    reservationRoutes(queries),
    clientRoutes(queries),
    holdRoutes(queries),
    waitlistRoutes(queries),
    webhookRoutes(queries, config.webhooks),
  );
  app.use('/rpc', rpcRoutes(queries));
  // What the validator does not manage (a target that is not a path, such as `OPTIONS *`) ends
  // here rather than in Express's HTML page.
  app.use((_req, _res, next) => next(noSuchRoute()));
  const handleError: ErrorRequestHandler = (error, req, res, _next) => {
    const apiError = toApiError(error, String(req.id));
    if (apiError.status >= 500) req.log.error({ err: error }, 'request failed');
    res.set(apiError.headers);
    res.status(apiError.status).json(errorPayload(apiError, req.originalUrl.startsWith('/api/')));
  };
  app.use(handleError);
  return app;
}
