// The tools follow the contract as it changes: a field added to openapi.yaml becomes a tool
// argument or result field with no edit here, and a parameter a tool would silently drop stops
// the server at start instead.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { specPath } from '../../server/openapi';
import { loadCatalog } from '../../server/mcp/catalog';
import { Contract } from '../../server/mcp/contract';

type Spec = { paths: Record<string, Record<string, { parameters: unknown[] }>>; components: { schemas: Record<string, { properties: Record<string, unknown> }> } };

function contractWith(change: (spec: Spec) => void): Contract {
  const spec = YAML.parse(readFileSync(specPath, 'utf8')) as Spec;
  change(spec);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'nora-contract-')), 'openapi.yaml');
  writeFileSync(file, YAML.stringify(spec));
  return new Contract(file);
}

const tool = (contract: Contract, name: string) => loadCatalog(contract).tools.find((t) => t.name === name)!;

test('a field the contract adds to a request body is at once an argument of the tools that send that body', () => {
  const occasion = { type: 'string', enum: ['birthday', 'anniversary'] };
  const contract = contractWith((spec) => {
    spec.components.schemas.LegacyBookRequest!.properties.occasion = occasion;
    spec.components.schemas.LegacyRescheduleRequest!.properties.occasion = occasion;
  });
  expect(tool(contract, 'book_table').inputSchema.properties!.occasion).toEqual(occasion);
  expect(tool(contract, 'reschedule_reservation').inputSchema.anyOf).toContainEqual({ required: ['occasion'] });
});

test('a field the contract adds to a response is part of the result schema', () => {
  const courses = { type: 'array', items: { type: 'integer' } };
  const contract = contractWith((spec) => {
    const booking = spec.components.schemas.BookingEnvelope!.properties.data as { properties: Record<string, unknown> };
    booking.properties.courses = courses;
  });
  expect(tool(contract, 'book_table').outputSchema!.properties!.courses).toEqual(courses);
  expect(tool(contract, 'get_reservation').outputSchema!.properties!.courses).toEqual(courses);
});

test('a parameter the contract adds to an operation stops the server until the tool passes it on', () => {
  const contract = contractWith((spec) => {
    spec.paths['/api/restaurants/{restId}/availability']!.get!.parameters.push({ name: 'occasion', in: 'query', required: false, schema: { type: 'string' } });
  });
  expect(() => loadCatalog(contract)).toThrow('find_availability does not pass on occasion of getAvailability: add it to the tool');
});
