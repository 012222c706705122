// The tools' argument and result schemas, read from openapi.yaml when the server starts: a
// tool's arguments are its REST operation's parameters and JSON body as one flat object, and
// its result is the operation's success body (the `data` of the legacy envelope). What the
// contract gains, the tools gain, with no second copy to keep in step.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { specPath } from '../openapi';

export type JsonSchema = Record<string, unknown>;

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  description?: string;
  schema: JsonSchema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
}

/** Where a tool argument goes in the REST request it stands for. */
export interface RestRequest {
  /** Path, query and header parameters by their contract names (restId, Idempotency-Key…). */
  params: Record<string, unknown>;
  body: Record<string, unknown>;
}

export interface OperationShape {
  /** The operation's path, query and header parameters, by their contract names. */
  parameters: string[];
  input: JsonSchema;
  output: JsonSchema;
  /** Sorts a tool's (already validated) arguments back into parameters and body. */
  toRequest(args: Record<string, unknown>): RestRequest;
}

/** Contract parameter names a model reads better under another name. */
export const ARGUMENT_NAMES: Record<string, string> = { restId: 'restaurant_id', id: 'reservation_id', 'Idempotency-Key': 'idempotency_key' };

// Keywords of a request body that say something about the object as a whole; the flat
// arguments keep the body's property names, so they still mean the same there.
const WHOLE_BODY_KEYWORDS = ['not', 'allOf', 'anyOf', 'oneOf', 'if', 'then', 'else', 'dependentRequired'];

export class Contract {
  private readonly spec: { paths: Record<string, Record<string, unknown>> };

  constructor(path: string = specPath) {
    this.spec = YAML.parse(readFileSync(path, 'utf8')) as Contract['spec'];
  }

  operation(operationId: string): OperationShape {
    const operation = this.find(operationId);
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    const origin = new Map<string, { in: Parameter['in'] | 'body'; name: string }>();
    const add = (argument: string, where: { in: Parameter['in'] | 'body'; name: string }, schema: JsonSchema) => {
      if (origin.has(argument)) throw new Error(`${operationId}: two arguments would be called ${argument}`);
      origin.set(argument, where);
      properties[argument] = schema;
    };
    for (const parameter of (operation.parameters ?? []).map((p) => this.inline(p) as unknown as Parameter)) {
      const argument = ARGUMENT_NAMES[parameter.name] ?? parameter.name;
      const schema = parameter.description && !parameter.schema.description ? { ...parameter.schema, description: parameter.description } : parameter.schema;
      add(argument, { in: parameter.in, name: parameter.name }, schema);
      if (parameter.required) required.push(argument);
    }
    const input: JsonSchema = { type: 'object', properties, required, additionalProperties: false };
    const bodySchema = operation.requestBody?.content['application/json']?.schema;
    if (bodySchema) {
      const body = this.inline(bodySchema) as JsonSchema & { properties?: Record<string, JsonSchema>; required?: string[]; minProperties?: number };
      for (const [name, schema] of Object.entries(body.properties ?? {})) add(name, { in: 'body', name }, schema);
      required.push(...(body.required ?? []));
      for (const keyword of WHOLE_BODY_KEYWORDS) if (body[keyword] !== undefined) input[keyword] = body[keyword];
      if (body.minProperties !== undefined) {
        // The flat object always holds the parameters too, so "at least one body field" is
        // said as "one of them is present".
        if (body.minProperties !== 1 || input.anyOf) throw new Error(`${operationId}: cannot carry the body's minProperties into the arguments`);
        input.anyOf = Object.keys(body.properties ?? {}).map((name) => ({ required: [name] }));
      }
    }
    return {
      parameters: [...origin.values()].filter((where) => where.in !== 'body').map((where) => where.name),
      input,
      output: this.success(operationId, operation),
      toRequest(args) {
        const request: RestRequest = { params: {}, body: {} };
        for (const [argument, value] of Object.entries(args)) {
          const where = origin.get(argument)!;
          if (where.in === 'body') request.body[where.name] = value;
          else request.params[where.name] = value;
        }
        return request;
      },
    };
  }

  private find(operationId: string): Operation {
    for (const item of Object.values(this.spec.paths)) {
      for (const operation of Object.values(item) as Array<Operation & { operationId?: string }>) {
        if (operation.operationId === operationId) return operation;
      }
    }
    throw new Error(`openapi.yaml has no operation ${operationId}`);
  }

  /** The success body, or the `data` inside the legacy `{success, data}` envelope. */
  private success(operationId: string, operation: Operation): JsonSchema {
    const response = operation.responses['200'] ?? operation.responses['201'];
    const schema = response && (this.inline(response) as Operation['responses'][string]).content?.['application/json']?.schema;
    if (!schema) throw new Error(`${operationId} documents no JSON success body`);
    const data = (schema.properties as Record<string, JsonSchema> | undefined)?.data;
    const result = data ?? schema;
    if (result.type !== 'object') throw new Error(`${operationId}: a tool result must be an object`);
    return result;
  }

  /** A copy with every $ref replaced by what it points at, and OpenAPI's `example` as JSON Schema's `examples`. */
  private inline(node: unknown): unknown {
    if (Array.isArray(node)) return node.map((item) => this.inline(item));
    if (node === null || typeof node !== 'object') return node;
    const object = node as Record<string, unknown>;
    if (typeof object.$ref === 'string') return this.inline(this.pointer(object.$ref));
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(object)) {
      if (key === 'properties') {
        copy.properties = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([name, schema]) => [name, this.inline(schema)]));
      } else if (key === 'example') {
        copy.examples = [value];
      } else {
        copy[key] = this.inline(value);
      }
    }
    return copy;
  }

  private pointer(ref: string): unknown {
    if (!ref.startsWith('#/')) throw new Error(`openapi.yaml: only local references are supported (${ref})`);
    return ref
      .slice(2)
      .split('/')
      .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], this.spec);
  }
}

/** Two object results side by side, as one tool returns what two operations answer. */
export function mergeObjects(a: JsonSchema, b: JsonSchema): JsonSchema {
  return {
    type: 'object',
    required: [...((a.required as string[]) ?? []), ...((b.required as string[]) ?? [])],
    additionalProperties: false,
    properties: { ...(a.properties as object), ...(b.properties as object) },
  };
}
