// Builds the running API around a database URL: the API role's pool, the rate-limit store, the
// HTTP listener, and a graceful stop (no new connections, in-flight requests finish, then the
// pool and Redis close).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { committedMigrations } from '../db/migrate';
import { createApp } from './app';
import { apiDatabaseOptions, Database, listenDatabaseOptions, queries } from './db';
import { KeyChangeListener } from './key-events';
import { connectRedisStore, type SharedStore } from './rate-limit';

export interface RunningApi {
  url: string;
  port: number;
  server: Server;
  database: Database;
  keyChanges: KeyChangeListener;
  close(): Promise<void>;
}

export async function startApi(config: Config, logger: Logger, ownerUrl?: string): Promise<RunningApi> {
  const database = new Database(apiDatabaseOptions(config, ownerUrl, logger));
  const keyChanges = new KeyChangeListener({ ...listenDatabaseOptions(config, ownerUrl), logger });
  let shared: SharedStore | undefined;
  try {
    await keyChanges.start();
    if (config.rateLimit.redisUrl) shared = await connectRedisStore(config.rateLimit.redisUrl, undefined, logger);
    const app = createApp({
      config,
      queries: queries(database),
      logger,
      committedMigrations: committedMigrations(),
      rateLimitStore: shared?.store,
      failedAuthStore: shared?.failures,
      keyChanges,
    });
    const server = await new Promise<Server>((resolve, reject) => {
      const listening = app.listen(config.port, config.host, (error?: Error) => (error ? reject(error) : resolve(listening)));
    });
    const port = (server.address() as AddressInfo).port;
    let closing: Promise<void> | undefined;
    const close = () => (closing ??= stop(server, config.shutdownTimeoutMs, database, shared, keyChanges));
    // A wildcard address is not one to browse to; the loopback is, on the same machine.
    const host = ['0.0.0.0', '::'].includes(config.host) ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
    return { url: `http://${host}:${port}`, port, server, database, keyChanges, close };
  } catch (error) {
    await keyChanges.close();
    await shared?.close();
    await database.close();
    throw error;
  }
}

async function stop(server: Server, timeoutMs: number, database: Database, shared: SharedStore | undefined, keyChanges: KeyChangeListener): Promise<void> {
  const drained = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
  await drained;
  clearTimeout(timer);
  await keyChanges.close();
  await shared?.close();
  await database.close();
}
