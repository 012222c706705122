// fast-check arbitraries from the JSON Schemas of openapi.yaml: values the contract allows, with
// nasty values mixed in at every level (wrong types, out of range, injection-looking and huge
// strings, impossible dates), and known-good values for fields that name existing rows so that
// generated requests also reach the database instead of stopping at "not found".
import fc from 'fast-check';

export type Schema = Record<string, unknown>;

/** Hand-picked trouble: every field of every operation is also tried with each of these. */
export const nastyValues: unknown[] = [
  null,
  '',
  ' ',
  0,
  -1,
  21,
  1.5,
  1e308,
  2 ** 53 + 2,
  '99999999999999999999999',
  'NaN',
  true,
  [],
  {},
  "1' or '1'='1",
  "'); drop table booking.reservations; --",
  'x'.repeat(5000),
  'nul\u0000byte',
  'ünïcødé@exämple.com',
  '2026-02-30',
  '2026-12-12T20:00:00',
  '1900-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '2026-12-12T20:07:00+01:00',
  '<script>alert(1)</script>',
];

export const nastyPathIds = ['abc', '-1', '0', '1.5', '99999999999999999999', "1'", '%00', '1e3', '%20', '..%2F..'];

export function resolver(spec: Schema) {
  return function resolve(schema: Schema): Schema {
    let current = schema;
    for (let i = 0; i < 20 && typeof current.$ref === 'string'; i += 1) {
      const path = (current.$ref as string).replace(/^#\//, '').split('/');
      current = path.reduce<Schema>((node, part) => node[part] as Schema, spec);
    }
    return current;
  };
}

const toDate = (d: Date) => d.toISOString().slice(0, 10);
const withOffset = (d: Date, offsetHours: number) => {
  const shifted = new Date(d.getTime() + offsetHours * 3600_000);
  const sign = offsetHours < 0 ? '-' : '+';
  return `${shifted.toISOString().slice(0, 19)}${sign}${String(Math.abs(offsetHours)).padStart(2, '0')}:00`;
};
const someDate = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true });

export interface Hints {
  /** Known-good values by field name (existing ids, bookable instants, open days). */
  known: Record<string, unknown[]>;
}

export function arbitraryFor(schema: Schema, resolve: (s: Schema) => Schema, hints: Hints, name = '', depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema);
  const nasty = fc.constantFrom(...nastyValues);
  const known = hints.known[`${name}|${String(s.format ?? '')}`] ?? hints.known[name];
  const valid = validArbitrary(s, resolve, hints, depth);
  const choices: Array<{ arbitrary: fc.Arbitrary<unknown>; weight: number }> = [{ arbitrary: valid, weight: 4 }, { arbitrary: nasty, weight: 1 }];
  if (known?.length) choices.push({ arbitrary: fc.constantFrom(...known), weight: 6 });
  return fc.oneof(...choices);
}

function validArbitrary(s: Schema, resolve: (s: Schema) => Schema, hints: Hints, depth: number): fc.Arbitrary<unknown> {
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  const variants = (s.oneOf ?? s.anyOf) as Schema[] | undefined;
  if (variants) return fc.oneof(...variants.map((v) => validArbitrary(resolve(v), resolve, hints, depth)));
  const types = Array.isArray(s.type) ? (s.type as string[]) : s.type ? [s.type as string] : ['object'];
  return fc.oneof(...types.map((type) => ofType(type, s, resolve, hints, depth)));
}

function ofType(type: string, s: Schema, resolve: (s: Schema) => Schema, hints: Hints, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
    case 'number': {
      const min = typeof s.minimum === 'number' ? s.minimum : -1_000_000;
      const max = typeof s.maximum === 'number' ? s.maximum : 1_000_000;
      const small = fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, min + 50, 2 ** 31 - 1) });
      const any = max > 2 ** 31 ? fc.maxSafeNat().map((n) => Math.min(max, Math.max(min, n))) : fc.integer({ min, max });
      return fc.oneof(small, any);
    }
    case 'string': {
      if (s.format === 'date') return someDate.map(toDate);
      if (s.format === 'date-time') return fc.tuple(someDate, fc.integer({ min: -12, max: 14 })).map(([d, o]) => withOffset(d, o));
      if (s.format === 'email' || s.format === 'idn-email') return fc.emailAddress();
      if (typeof s.pattern === 'string') return fc.stringMatching(new RegExp(s.pattern));
      return fc.string({ minLength: (s.minLength as number) ?? 0, maxLength: Math.min((s.maxLength as number) ?? 60, 60) });
    }
    case 'array': {
      const items = (s.items as Schema) ?? {};
      return depth > 3 ? fc.constant([]) : fc.array(arbitraryFor(items, resolve, { known: {} }, '', depth + 1), { maxLength: 3 });
    }
    default: {
      if (depth > 3) return fc.constant({});
      const properties = (s.properties as Record<string, Schema>) ?? {};
      const required = new Set((s.required as string[]) ?? []);
      const entries = Object.entries(properties).map(([key, child]) => {
        const value = arbitraryFor(child, resolve, hints, key, depth + 1);
        // Required fields are sometimes left out too: the contract must refuse that cleanly.
        return [key, required.has(key) ? fc.option(value, { freq: 12, nil: undefined }) : fc.option(value, { freq: 2, nil: undefined })] as const;
      });
      const extra = fc.option(fc.constantFrom<[string, unknown]>(['unexpected', 1], ['__proto__', { admin: true }], ['restaurant_id', 1]), { freq: 8, nil: undefined });
      return fc.tuple(fc.tuple(...entries.map(([, arbitrary]) => arbitrary)), extra).map(([values, unknown]) => {
        const result: Record<string, unknown> = {};
        entries.forEach(([key], i) => {
          if (values[i] !== undefined) result[key] = values[i];
        });
        // defineProperty, so that even `__proto__` becomes a real key of the JSON body.
        if (unknown) Object.defineProperty(result, unknown[0], { value: unknown[1], enumerable: true, configurable: true, writable: true });
        return result;
      });
    }
  }
}
