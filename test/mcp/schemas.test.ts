// The tools a host lists are the contract's operations: every listed schema is valid JSON Schema
// 2020-12, and each tool accepts exactly the arguments its REST operation accepts (requests
// generated from openapi.yaml, judged by both), so the two faces cannot drift apart.
import { readFileSync } from 'node:fs';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import Ajv2020 from 'ajv/dist/2020';
import { addContractFormats } from '../../server/formats';
import fc from 'fast-check';
import YAML from 'yaml';
import { specPath } from '../../server/openapi';
import { arbitraryFor, resolver, type Schema } from '../fuzz/schema-arbitrary';
import { startTestApi, tenant, type ApiUnderTest } from '../api/support';
import { httpClient } from './support';

const spec = YAML.parse(readFileSync(specPath, 'utf8')) as Schema & { paths: Record<string, Record<string, Schema>> };
const resolve = resolver(spec);
const operations = new Map(
  Object.values(spec.paths).flatMap((item) => Object.values(item).map((operation) => [operation.operationId as string, operation] as const)),
);
const renamed: Record<string, string> = { restId: 'restaurant_id', id: 'reservation_id', 'Idempotency-Key': 'idempotency_key' };

const TOOLS: Record<string, { operation: string; readOnly: boolean; destructive: boolean }> = {
  find_availability: { operation: 'getAvailability', readOnly: true, destructive: false },
  book_table: { operation: 'createReservation', readOnly: false, destructive: false },
  find_or_create_client: { operation: 'rpcUpsertClient', readOnly: false, destructive: false },
  list_reservations: { operation: 'listReservations', readOnly: true, destructive: false },
  get_reservation: { operation: 'getReservation', readOnly: true, destructive: false },
  reschedule_reservation: { operation: 'rescheduleReservation', readOnly: false, destructive: false },
  cancel_reservation: { operation: 'cancelReservation', readOnly: false, destructive: true },
  set_reservation_status: { operation: 'setReservationStatus', readOnly: false, destructive: true },
};

// Requests the generator rarely makes whole: rules over the body as a whole ("not both client
// and client_id", "at least one change"), with every field valid.
const EXAMPLES: Record<string, Array<{ params: unknown[]; body: unknown }>> = {
  book_table: [{ params: [1, undefined], body: { date: '2026-12-12T20:00:00+01:00', guests: 2, client_id: 3, client: { email: 'ana@example.com' } } }],
  reschedule_reservation: [
    { params: [1, 2], body: {} },
    { params: [1, 2], body: { guests: 3 } },
  ],
};

let t: ApiUnderTest;
let mcp: Client;
let tools: Tool[];
beforeAll(async () => {
  t = await startTestApi();
  mcp = await httpClient(t.url, (await tenant(t.db)).key);
  tools = (await mcp.listTools()).tools;
});
afterAll(async () => {
  await mcp.close();
  await t.close();
});

function strictAjv() {
  // Strict, less the rule against `required` naming properties defined elsewhere: `not: {required: […]}` is how the contract says "not both".
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true });
  addContractFormats(ajv, 'fast');
  return ajv;
}

test('the host lists the booking tools, each with a description, strict JSON Schemas and honest annotations', () => {
  expect(tools.map((tool) => tool.name).sort()).toEqual(Object.keys(TOOLS).sort());
  for (const tool of tools) {
    const expected = TOOLS[tool.name]!;
    expect(tool.description!.length).toBeGreaterThan(80);
    expect([tool.name, tool.inputSchema.type, tool.outputSchema?.type]).toEqual([tool.name, 'object', 'object']);
    const ajv = strictAjv();
    expect(() => ajv.compile(tool.inputSchema)).not.toThrow();
    expect(() => ajv.compile(tool.outputSchema!)).not.toThrow();
    expect([tool.name, tool.annotations?.readOnlyHint ?? false, tool.annotations?.destructiveHint ?? !expected.readOnly]).toEqual([
      tool.name,
      expected.readOnly,
      expected.destructive,
    ]);
  }
});

test("each tool's result is its operation's success body", () => {
  for (const tool of tools) {
    const operation = operations.get(TOOLS[tool.name]!.operation)!;
    const responses = operation.responses as Record<string, Schema>;
    const response = resolve(responses['200'] ?? responses['201']!);
    const body = resolve(((response.content as Record<string, { schema: Schema }>)['application/json']!).schema);
    const data = resolve(((body.properties as Record<string, Schema>).data as Schema) ?? body);
    for (const property of Object.keys(data.properties as object)) expect([tool.name, Object.keys(tool.outputSchema!.properties!)]).toEqual([tool.name, expect.arrayContaining([property])]);
  }
});

test('each tool accepts exactly the arguments its REST operation accepts (generated from openapi.yaml)', () => {
  // The contract's side, judged as the API tests judge it: the whole document, references and all.
  const contract = new Ajv2020({ strict: false, validateSchema: false });
  addContractFormats(contract, 'fast');
  contract.addSchema(spec as object, 'spec');
  const valid = (schema: Schema, value: unknown) => contract.validate(JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"spec#/components/')), value) as boolean;
  for (const tool of tools) {
    const operation = operations.get(TOOLS[tool.name]!.operation)!;
    const parameters = ((operation.parameters as Schema[]) ?? []).map(resolve);
    const body = (resolve((operation.requestBody as Schema) ?? {}).content as Record<string, { schema: Schema }> | undefined)?.['application/json']?.schema;
    const argumentNames = parameters.map((p) => renamed[p.name as string] ?? (p.name as string));
    const request = fc.record({
      params: fc.tuple(...parameters.map((p) => fc.option(arbitraryFor(p.schema as Schema, resolve, { known: {} }, p.name as string), { freq: 6, nil: undefined }))),
      body: body ? arbitraryFor(body, resolve, { known: {} }) : fc.constant({}),
    });
    const checkTool = strictAjv().compile(tool.inputSchema);
    const examples = (EXAMPLES[tool.name] ?? []).map((example) => [example] as [typeof example]);
    fc.assert(
      fc.property(request, ({ params, body: generated }) => {
        // Only bodies that can be spread next to the parameters have a tool equivalent.
        fc.pre(typeof generated === 'object' && generated !== null && !Array.isArray(generated));
        fc.pre(!Object.keys(generated as object).some((key) => argumentNames.includes(key)));
        const args: Record<string, unknown> = { ...(generated as object) };
        parameters.forEach((p, i) => {
          if (params[i] !== undefined) args[argumentNames[i]!] = params[i];
        });
        const restAccepts =
          parameters.every((p, i) => (params[i] === undefined ? !p.required : valid(p.schema as Schema, params[i]))) &&
          (!body || valid(body, generated));
        expect([tool.name, args, checkTool(args)]).toEqual([tool.name, args, restAccepts]);
      }),
      { seed: 20261125, numRuns: 150, examples },
    );
  }
});
