// The string formats the contract's validator, the MCP tools and the tests' response checks share
// (server/formats.ts).
import Ajv from 'ajv';
import { addContractFormats } from '../../server/formats';

describe('the contract formats', () => {
  const check = (mode: 'fast' | 'full' | undefined, format: string, value: string) =>
    (mode ? addContractFormats(new Ajv(), mode) : addContractFormats(new Ajv())).validate({ type: 'string', format }, value);

  test('check dates by the calendar by default, and by their shape alone in fast mode', () => {
    expect(check(undefined, 'date', '2026-02-28')).toBe(true);
    expect(check(undefined, 'date', '2026-02-30')).toBe(false);
    expect(check('full', 'date', '2026-02-30')).toBe(false);
    expect(check('fast', 'date', '2026-02-30')).toBe(true);
    expect(check('fast', 'date', '2026-2-3')).toBe(false);
  });

  test('accept internationalised e-mail addresses (idn-email) and refuse what is none', () => {
    expect(check(undefined, 'idn-email', 'ü@exämple.org')).toBe(true);
    expect(check('fast', 'idn-email', 'ü@exämple.org')).toBe(true);
    expect(check(undefined, 'idn-email', 'not an address')).toBe(false);
  });

  test('add no draft-2019 format the contract does not use', () => {
    expect(() => addContractFormats(new Ajv()).compile({ type: 'string', format: 'iri' })).toThrow(/unknown format "iri"/);
  });
});
