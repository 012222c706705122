// Tool arguments are checked against the schema the tool lists, with the formats the REST
// validator checks (an instant needs its offset, a date must exist), and a refusal names the
// argument the way the REST 400 names the field.
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import type { ErrorBody } from '../errors';
import { addContractFormats } from '../formats';
import type { JsonSchema } from './contract';

const ajv = addContractFormats(new Ajv2020({ strict: false, allErrors: true, verbose: true }));

export type ArgumentCheck = (args: Record<string, unknown>) => ErrorBody | null;

export function argumentCheck(schema: JsonSchema): ArgumentCheck {
  const validate: ValidateFunction = ajv.compile(schema);
  return (args) => {
    if (validate(args)) return null;
    const errors = explain(validate.errors ?? []);
    const first = errors[0]!;
    return {
      code: 'invalid_request',
      message: `${first.path} ${first.message}`.trim(),
      details: { reason: 'invalid_request', errors },
      hint: 'Fix the named argument and call the tool again.',
    };
  };
}

function explain(errors: ErrorObject[]): Array<{ path: string; message: string }> {
  // The branches of "at least one of" each report a missing property; the anyOf error says it once.
  return errors
    .filter((e) => !e.schemaPath.startsWith('#/anyOf/'))
    .map((e) => {
      const path = e.instancePath.replace(/^\//, '');
      if (e.keyword === 'required') return { path: join(path, (e.params as { missingProperty: string }).missingProperty), message: 'is required' };
      if (e.keyword === 'additionalProperties') {
        return { path: join(path, (e.params as { additionalProperty: string }).additionalProperty), message: 'is not an argument of this tool' };
      }
      if (e.keyword === 'anyOf' && !path) return { path, message: `give at least one of ${names(e.schema as JsonSchema[]).join(', ')}` };
      if (e.keyword === 'not' && !path) return { path, message: `give only one of ${((e.schema as { required?: string[] }).required ?? []).join(', ')}` };
      return { path, message: e.message ?? 'is invalid' };
    });
}

const join = (path: string, name: string) => (path ? `${path}/${name}` : name);
const names = (branches: JsonSchema[]) => branches.flatMap((branch) => (branch.required as string[] | undefined) ?? []);
