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

type Spec = {
  paths: Record<string, Record<string, { parameters: unknown[]; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, { properties: Record<string, unknown>; minProperties?: number; anyOf?: unknown[] }> };
};

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
    spec.paths['/api/restaurants/{restId}/availability']!.get!.parameters.push(
      { name: 'occasion', in: 'query', required: false, schema: { type: 'string' } },
      { name: 'seating', in: 'query', required: false, schema: { type: 'string' } },
    );
  });
  expect(() => loadCatalog(contract)).toThrow('find_availability does not pass on occasion, seating of getAvailability: add it to the tool');
});

test('a parameter the contract drops from an operation stops the server until the tool stops passing it on', () => {
  const contract = contractWith((spec) => {
    const get = spec.paths['/api/restaurants/{restId}/availability']!.get!;
    get.parameters = (get.parameters as Array<{ name?: string; $ref?: string }>).filter((p) => p.name !== 'time' && p.$ref !== '#/components/parameters/Area');
  });
  expect(() => loadCatalog(contract)).toThrow('find_availability passes on time, area, which getAvailability no longer has: remove it from the tool');
});

test('a tool that stands for two operations passes on what either still has, and stops the server when neither has it', () => {
  const withoutId = (operation: { parameters: unknown[] }) =>
    (operation.parameters = (operation.parameters as Array<{ $ref?: string }>).filter((p) => p.$ref !== '#/components/parameters/ReservationId'));
  const history = (spec: Spec) => spec.paths['/api/restaurants/{restId}/reservations/{id}/history']!.get!;
  const reservation = (spec: Spec) => spec.paths['/api/restaurants/{restId}/reservations/{id}']!.get!;
  expect(tool(contractWith((spec) => withoutId(history(spec))), 'get_reservation').inputSchema.required).toEqual(['restaurant_id', 'reservation_id']);
  expect(() =>
    loadCatalog(
      contractWith((spec) => {
        withoutId(history(spec));
        withoutId(reservation(spec));
      }),
    ),
  ).toThrow('get_reservation passes on id, which getReservation and getReservationHistory no longer has: remove it from the tool');
});

test("a tool that stands for two operations has both results' fields, all of both required ones, and nothing else", () => {
  const contract = new Contract();
  const output = tool(contract, 'get_reservation').outputSchema!;
  const [reservation, history] = [contract.operation('getReservation').output, contract.operation('getReservationHistory').output];
  expect(output.additionalProperties).toBe(false);
  expect(output.required).toEqual([...(reservation.required as string[]), ...(history.required as string[])]);
  expect(output.required).toEqual(expect.arrayContaining(['reservation', 'table', 'events']));
  expect(Object.keys(output.properties!)).toEqual([...Object.keys(reservation.properties as object), ...Object.keys(history.properties as object)]);
});

describe('a contract the tools cannot stand for stops the server, saying why', () => {
  const refused = (change: (spec: Spec) => void, operationId: string) => () => contractWith(change).operation(operationId);

  test('an operation openapi.yaml does not have', () => {
    expect(() => new Contract().operation('dropTables')).toThrow('openapi.yaml has no operation dropTables');
  });

  test('a body field named like a parameter', () => {
    expect(refused((spec) => (spec.components.schemas.LegacyBookRequest!.properties.restaurant_id = { type: 'integer' }), 'createReservation')).toThrow(
      'createReservation: two arguments would be called restaurant_id',
    );
  });

  test('a body that needs more than one field', () => {
    expect(refused((spec) => (spec.components.schemas.LegacyRescheduleRequest!.minProperties = 2), 'rescheduleReservation')).toThrow(
      "rescheduleReservation: cannot carry the body's minProperties into the arguments",
    );
  });

  test('a body that needs a field and already says anyOf', () => {
    expect(refused((spec) => (spec.components.schemas.LegacyRescheduleRequest!.anyOf = [{ required: ['date'] }]), 'rescheduleReservation')).toThrow(
      "rescheduleReservation: cannot carry the body's minProperties into the arguments",
    );
  });

  test('a success answer that is not JSON', () => {
    expect(refused((spec) => delete spec.paths['/api/restaurants/{restId}/availability']!.get!.responses['200'], 'getAvailability')).toThrow(
      'getAvailability documents no JSON success body',
    );
  });

  test('a success body that is not an object', () => {
    expect(() => new Contract().operation('rpcAvailableTableCounts')).toThrow('rpcAvailableTableCounts: a tool result must be an object');
  });

  test('a reference to another file', () => {
    const ref = '#/components/parameters/RestId';
    expect(
      refused((spec) => {
        const parameters = spec.paths['/api/restaurants/{restId}/availability']!.get!.parameters as Array<{ $ref?: string }>;
        parameters.find((p) => p.$ref === ref)!.$ref = `shared.yaml${ref}`;
      }, 'getAvailability'),
    ).toThrow(`openapi.yaml: only local references are supported (shared.yaml${ref})`);
  });
});

test("a parameter's description and a schema's example reach the tool's argument; a schema's own description wins", () => {
  const contract = contractWith((spec) => {
    const parameters = spec.paths['/api/restaurants/{restId}/availability']!.get!.parameters as Array<{ name?: string }>;
    const time = parameters.findIndex((p) => p.name === 'time');
    parameters[time] = { name: 'time', in: 'query', description: 'When the guest asked.', schema: { type: 'string', example: '20:00' } } as { name: string };
  });
  const properties = contract.operation('getAvailability').input.properties as Record<string, Record<string, unknown>>;
  expect(properties.time).toEqual({ type: 'string', examples: ['20:00'], description: 'When the guest asked.' });
  expect(properties.date!.description).toBe('A local day, YYYY-MM-DD.');
});

test("what a body says of itself as a whole holds for the tool's arguments; a body that says nothing adds nothing", () => {
  const whole = {
    allOf: [{ required: ['guests'] }],
    oneOf: [{ required: ['date'] }, { required: ['area'] }],
    if: { required: ['area'] },
    then: { required: ['guests'] },
    else: { required: ['date'] },
    dependentRequired: { table_id: ['date'] },
  };
  const contract = contractWith((spec) => Object.assign(spec.components.schemas.LegacyRescheduleRequest!, whole));
  expect(contract.operation('rescheduleReservation').input).toMatchObject(whole);
  const plain = new Contract().operation('createReservation').input;
  expect(Object.keys(plain).sort()).toEqual(['additionalProperties', 'not', 'properties', 'required', 'type']);
});

test('a body field named like a schema keyword is a field; null values and escaped references are read as JSON Pointer says', () => {
  const contract = contractWith((spec) => {
    const body = spec.components.schemas.LegacyRescheduleRequest!;
    body.properties.example = { type: ['string', 'null'], default: null, example: 'x' };
    spec.components.schemas['Odd~Name/Here'] = { properties: {}, type: 'string', description: 'Reached through ~0 and ~1.' } as never;
    body.properties.odd = { $ref: '#/components/schemas/Odd~0Name~1Here' };
  });
  const properties = contract.operation('rescheduleReservation').input.properties as Record<string, unknown>;
  expect(properties.example).toEqual({ type: ['string', 'null'], default: null, examples: ['x'] });
  expect(properties.odd).toEqual({ properties: {}, type: 'string', description: 'Reached through ~0 and ~1.' });
});
