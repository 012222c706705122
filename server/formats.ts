// The string formats openapi.yaml uses, in one place, so that the REST validator, the MCP tools'
// argument checks and the tests' response checks judge a value alike. ajv-formats knows the
// JSON Schema formats up to draft 7; `idn-email` (RFC 6531, guests' internationalised
// addresses) is the draft 2019 plugin's check.
import type Ajv from 'ajv';
import addFormats from 'ajv-formats';
import idnEmail from 'ajv-formats-draft2019/formats/idn-email';

export const extraFormats = { 'idn-email': idnEmail };

export function addContractFormats<A extends Ajv>(ajv: A, mode: 'fast' | 'full' = 'full'): A {
  addFormats(ajv, { mode });
  for (const [name, check] of Object.entries(extraFormats)) ajv.addFormat(name, check);
  return ajv;
}
