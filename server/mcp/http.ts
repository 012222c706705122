// /mcp: the Streamable HTTP transport, stateless. It sits behind the same API-key check and
// per-key rate limit as /api (app.ts), and each POST gets a server for the key that sent it,
// so any instance can answer any request and a key acts only within its scope.
import express, { Router, type ErrorRequestHandler } from 'express';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { Queries } from '../db';
import { apiKeyOf } from '../auth';
import type { Catalog } from './catalog';
import { createMcpServer } from './server';

const jsonRpcError = (code: number, message: string) => ({ jsonrpc: '2.0', error: { code, message }, id: null });

export function mcpRoutes(catalog: Catalog, queries: Queries, bodyLimit: string): Router {
  const router = Router();

  router.post('/', express.json({ limit: bodyLimit, type: 'application/json' }), async (req, res) => {
    const server = createMcpServer(catalog, { queries, scope: apiKeyOf(res), logger: req.log, requestId: () => String(req.id) });
    // JSON answers rather than an SSE stream: a tool call has one result and nothing to stream.
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void server.close());
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });

  // Stateless: no stream to open with GET and no session to end with DELETE.
  router.all('/', (_req, res) => {
    // -32000, as the SDK's own stateless example answers.
    res.status(405).set('Allow', 'POST').json(jsonRpcError(-32000, 'Method not allowed: POST JSON-RPC messages to /mcp.'));
  });

  const bodyErrors: ErrorRequestHandler = (error, _req, res, next) => {
    const type = (error as { type?: unknown }).type;
    if (type === 'entity.parse.failed') res.status(400).json(jsonRpcError(ErrorCode.ParseError, 'Parse error: the body is not valid JSON.'));
    else if (type === 'entity.too.large') res.status(413).json(jsonRpcError(ErrorCode.InvalidRequest, 'The body is too large.'));
    else next(error);
  };
  router.use(bodyErrors);
  return router;
}
