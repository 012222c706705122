// Values at each bound the contract declares and one past it: lengths of strings, ranges of
// integers. Read from the schemas themselves, so a field added to openapi.yaml is tried too.
import fc from 'fast-check';
import type { Schema } from './schema-arbitrary';

export interface Boundary {
  /** e.g. "maxLength 200" */
  bound: string;
  value: unknown;
  /** At the bound the value is allowed; one past it the validator must refuse it. */
  allowed: boolean;
}

/** The schema a value must satisfy: for `oneOf [X, null]`, X. */
export function valueSchema(schema: Schema, resolve: (s: Schema) => Schema): Schema {
  const s = resolve(schema);
  const variants = (s.oneOf ?? s.anyOf) as Schema[] | undefined;
  if (!variants) return s;
  return resolve(variants.map(resolve).find((v) => v.type !== 'null') ?? s);
}

/** A string of exactly `length` characters that keeps `sample`'s format or pattern, if there is one. */
function stretched(s: Schema, sample: string, length: number): string | undefined {
  if (length < 1) return '';
  if (isEmail(s)) return emailOfLength(length);
  // An instant keeps its meaning with more fractional zeros: 2026-12-12T19:00:00.000…Z.
  if (s.format === 'date-time') return length >= 22 ? `${new Date(sample).toISOString().slice(0, 19)}.${'0'.repeat(length - 21)}Z` : undefined;
  const candidate = sample.length >= length ? sample.slice(0, length) : sample + sample.slice(-1).repeat(length - sample.length);
  if (s.format === 'date' && length !== 10) return candidate;
  if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(candidate)) return undefined;
  return candidate;
}

export const isEmail = (s: Schema) => s.format === 'email' || s.format === 'idn-email';

/**
 * A valid address of exactly `length` characters: a@, then labels of at most 63 characters (the
 * DNS limit, which idn-email checks), then .com.
 */
function emailOfLength(length: number): string | undefined {
  const labels: string[] = [];
  for (let left = length - 'a@.com'.length; left > 0; left -= 64) labels.push('b'.repeat(Math.min(63, left)));
  const email = `a@${labels.join('.')}.com`;
  return labels.length && email.length === length ? email : undefined;
}

/** A valid value of the schema, for fields no hint covers. */
export function sampleOf(s: Schema): unknown {
  if (Array.isArray(s.enum)) return s.enum[0];
  if (s.type === 'integer') return typeof s.minimum === 'number' ? s.minimum : 1;
  if (isEmail(s)) return 'ana@example.com';
  if (typeof s.pattern === 'string') return fc.sample(fc.stringMatching(new RegExp(s.pattern)), { seed: 1, numRuns: 1 })[0];
  return 'x'.repeat(Math.max(1, (s.minLength as number) ?? 1));
}

export function boundaries(s: Schema, sample: unknown): Boundary[] {
  const cases: Boundary[] = [];
  if (s.type === 'integer') {
    if (typeof s.minimum === 'number') cases.push({ bound: `minimum ${s.minimum}`, value: s.minimum, allowed: true }, { bound: `minimum ${s.minimum}`, value: s.minimum - 1, allowed: false });
    if (typeof s.maximum === 'number') cases.push({ bound: `maximum ${s.maximum}`, value: s.maximum, allowed: true }, { bound: `maximum ${s.maximum}`, value: s.maximum + 1, allowed: false });
  }
  if (s.type === 'string' && typeof sample === 'string') {
    const tries: Array<[string, number, number]> = [];
    if (typeof s.maxLength === 'number') tries.push([`maxLength ${s.maxLength}`, s.maxLength, s.maxLength + 1]);
    if (typeof s.minLength === 'number' && s.minLength > 0) tries.push([`minLength ${s.minLength}`, s.minLength, s.minLength - 1]);
    for (const [bound, at, past] of tries) {
      const inside = stretched(s, sample, at);
      if (inside !== undefined) cases.push({ bound, value: inside, allowed: true });
      // Past the bound the length alone must be refused, whatever the pattern says.
      cases.push({ bound, value: stretched({}, sample, past), allowed: false });
    }
  }
  return cases;
}
