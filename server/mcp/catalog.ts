// The tools as a host sees them (name, description, schemas from the contract, annotations) and
// one call of a tool: its arguments checked, the queries run, the answer or the refusal shaped.
import type { Logger } from 'pino';
import { ErrorCode, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { toApiError, type ErrorBody } from '../errors';
import type { Json } from '../db';
import { argumentCheck, type ArgumentCheck } from './arguments';
import { Contract, mergeObjects, type OperationShape } from './contract';
import { TOOLS, type ToolContext, type ToolSpec } from './tools';

export interface CallContext extends ToolContext {
  logger: Logger;
  /** What a 5xx refusal reveals, to quote when reporting it. */
  requestId: string;
}

export interface Catalog {
  tools: Tool[];
  call(name: string, args: Record<string, unknown>, context: CallContext): Promise<CallToolResult>;
}

interface Entry {
  spec: ToolSpec;
  shape: OperationShape;
  check: ArgumentCheck;
}

export function loadCatalog(contract = new Contract()): Catalog {
  const entries = new Map<string, Entry>();
  const tools = TOOLS.map((spec): Tool => {
    const shapes = spec.operations.map((operationId) => contract.operation(operationId));
    for (const [i, operation] of shapes.entries()) {
      const unread = operation.parameters.filter((name) => !spec.parameters.includes(name));
      if (unread.length) throw new Error(`${spec.name} does not pass on ${unread.join(', ')} of ${spec.operations[i]}: add it to the tool`);
    }
    // A name the contract no longer has would be passed on as nothing, quietly.
    const stale = spec.parameters.filter((name) => !shapes.some((operation) => operation.parameters.includes(name)));
    if (stale.length) throw new Error(`${spec.name} passes on ${stale.join(', ')}, which ${spec.operations.join(' and ')} no longer has: remove it from the tool`);
    const [first, ...more] = shapes;
    const shape = { ...first!, output: more.reduce((output, next) => mergeObjects(output, next.output), first!.output) };
    entries.set(spec.name, { spec, shape, check: argumentCheck(shape.input) });
    return {
      name: spec.name,
      title: spec.title,
      description: spec.description,
      inputSchema: shape.input as Tool['inputSchema'],
      outputSchema: shape.output as Tool['outputSchema'],
      annotations: spec.annotations,
    };
  });

  return {
    tools,
    async call(name, args, context) {
      const entry = entries.get(name);
      // A plain error with a JSON-RPC code: McpError would put "MCP error -32602:" into the
      // message, which the client's own McpError prefixes again.
      if (!entry) throw Object.assign(new Error(`Unknown tool ${name}; list the tools to see their names.`), { code: ErrorCode.InvalidParams });
      const invalid = entry.check(args);
      if (invalid) return refused(invalid);
      const request = entry.shape.toRequest(args);
      try {
        const result = await entry.spec.run(context, request);
        return { content: [text(entry.spec.summary(result, request)), text(JSON.stringify(result))], structuredContent: result };
      } catch (error) {
        const apiError = toApiError(error, context.requestId);
        if (apiError.status >= 500) context.logger.error({ err: error, tool: name }, 'tool call failed');
        return refused(apiError.body);
      }
    },
  };
}

const text = (value: string) => ({ type: 'text' as const, text: value });

/**
 * A refusal is a tool error the model can act on: a sentence first, then the contract's error
 * object itself (code, details.reason, hint, and for a taken slot details.alternatives).
 */
function refused(body: ErrorBody): CallToolResult {
  const details = typeof body.details === 'object' && body.details !== null ? (body.details as Json) : {};
  const alternatives = (details.alternatives as Array<{ local_time: string; tables_available: number }> | undefined) ?? [];
  const parts = [`Refused (${body.code}${typeof details.reason === 'string' ? ` ${details.reason}` : ''}): ${body.message}`];
  if (alternatives.length) parts.push(`Free instead: ${alternatives.map((a) => `${a.local_time} (${a.tables_available} tables)`).join(', ')}.`);
  if (body.hint) parts.push(body.hint);
  return { isError: true, content: [text(parts.join(' ')), text(JSON.stringify(body))] };
}
