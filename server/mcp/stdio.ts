// The tools over stdio for a desktop host that starts the server itself: one API key
// (NORA_API_KEY) resolved once at start, the same scope rules as over HTTP, the database
// reached directly as the API role. stdout carries the protocol, so logs go elsewhere.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Config } from '../../config';
import { apiDatabaseOptions, Database, queries } from '../db';
import { loadCatalog } from './catalog';
import { createMcpServer } from './server';

export interface StdioServer {
  close(): Promise<void>;
}

export async function serveStdio(config: Config, logger: Logger): Promise<StdioServer> {
  if (!config.mcpApiKey) throw new Error('NORA_API_KEY is not set: give the API key the tools act with');
  const database = new Database(apiDatabaseOptions(config, undefined, logger));
  try {
    const q = queries(database);
    const scope = await q.resolveApiKey(config.mcpApiKey);
    if (!scope) throw new Error('NORA_API_KEY is unknown or revoked');
    const server = createMcpServer(loadCatalog(), { queries: q, scope, logger, requestId: randomUUID });
    await server.connect(new StdioServerTransport());
    return {
      close: async () => {
        await server.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
