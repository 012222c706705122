// MCP clients under test: the SDK's own Client over Streamable HTTP (against an API started as
// in the API tests) and over stdio (the `npm run mcp` entry point as a child process).
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import Ajv from 'ajv';
import { addContractFormats } from '../../server/formats';

const root = path.resolve(__dirname, '..', '..');

/**
 * The SDK's client with the SDK's own validator settings, taught the contract's formats as
 * README tells hosts to: the default ajv knows no `idn-email` and warns on every tools/list.
 */
const newClient = () =>
  new Client(
    { name: 'nora-test', version: '1.0.0' },
    { jsonSchemaValidator: new AjvJsonSchemaValidator(addContractFormats(new Ajv({ strict: false, validateFormats: true, validateSchema: false, allErrors: true }), 'fast')) },
  );

export async function httpClient(url: string, key: string): Promise<Client> {
  const client = newClient();
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', url), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
  return listed(client);
}

/**
 * Lists the tools first, as a host does: from then on the SDK's client checks every structured
 * result against the tool's output schema, and refuses one that does not match.
 */
async function listed(client: Client): Promise<Client> {
  await client.listTools();
  return client;
}

/** `npm run mcp` without npm's banner: tsx running the entry point, as a desktop host starts it. */
export async function stdioClient(env: Record<string, string>): Promise<Client> {
  const client = newClient();
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', path.join(root, 'server', 'mcp', 'main.ts')],
      cwd: root,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
      stderr: 'pipe',
    }),
  );
  return listed(client);
}

export interface Refusal {
  code: string;
  message: string;
  details: { reason?: string; alternatives?: Array<{ starts_at: string; local_time: string; tables_available: number }>; errors?: Array<{ path: string; message: string }> } | null;
  hint: string | null;
}

/** The contract's error object a refused call carries as its last text item. */
export function refusalOf(result: CallToolResult): Refusal {
  expect(result.isError).toBe(true);
  const last = result.content[result.content.length - 1];
  if (last?.type !== 'text') throw new Error(`no error object in ${JSON.stringify(result)}`);
  return JSON.parse(last.text) as Refusal;
}

/** One tool call, answered or refused (a refusal is a result with isError, not a thrown error). */
export const callTool = (client: Client, name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args }) as Promise<CallToolResult>;

/** The structured result of a call that succeeded. */
export function resultOf<T = Record<string, unknown>>(result: CallToolResult): T {
  if (result.isError) throw new Error(`the tool refused: ${JSON.stringify(result.content)}`);
  return result.structuredContent as T;
}
