// One MCP server for one API key: the tools of the catalog, acting within the key's scope. The
// HTTP transport makes one per request (nothing is kept between requests, as for /api); stdio
// makes one for the life of the process.
import type { Logger } from 'pino';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ApiKeyScope, Queries } from '../db';
import { version } from '../../package.json';
import type { Catalog } from './catalog';

export interface McpSession {
  queries: Queries;
  scope: ApiKeyScope;
  logger: Logger;
  requestId(): string;
}

export function createMcpServer(catalog: Catalog, session: McpSession): Server {
  const server = new Server({ name: 'nora-reservations', version }, { capabilities: { tools: {} }, instructions: instructions(session.scope) });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: catalog.tools }));
  server.setRequestHandler(CallToolRequestSchema, (request) =>
    catalog.call(request.params.name, request.params.arguments ?? {}, { ...session, requestId: session.requestId() }),
  );
  return server;
}

function instructions(scope: ApiKeyScope): string {
  const who =
    scope.restaurantId === null
      ? 'This API key may act for any restaurant: ask which one and pass its id as restaurant_id.'
      : `This API key acts for restaurant ${scope.restaurantId}: pass restaurant_id ${scope.restaurantId} to every tool.`;
  return (
    `Books tables at a restaurant. ${who} ` +
    'Check find_availability before booking, book with book_table (with an idempotency_key), and when a booking is refused ' +
    'because the slot is taken, offer the alternatives the refusal lists.'
  );
}
