// compileRoutesOnce (server/openapi.ts): the contract validator's route expressions are made once
// and kept, and each kept one is what path-to-regexp makes fresh for the same route and options.
import { createRequire } from 'node:module';
import { compileRoutesOnce } from '../../server/openapi';

type Compiled = { regexp: RegExp; keys: unknown[] };
type Compile = ((route: unknown, options?: Record<string, unknown>) => Compiled) & { once?: true };

const fromValidator = createRequire(require.resolve('express-openapi-validator'));
const validatorCopy = () => fromValidator('path-to-regexp') as { pathToRegexp: Compile };

test('the same route and options give the same compiled object, made as path-to-regexp makes it', () => {
  const fresh = validatorCopy().pathToRegexp.once ? null : validatorCopy().pathToRegexp;
  compileRoutesOnce();
  const compile = validatorCopy().pathToRegexp;
  expect(compile.once).toBe(true);
  const route = '/api/restaurants/:restId/clients/:clientId';
  const first = compile(route, { sensitive: false, strict: false });
  expect(compile(route, { sensitive: false, strict: false })).toBe(first);
  expect(first.regexp.test('/api/restaurants/1/clients/2')).toBe(true);
  if (fresh) expect(first).toEqual(fresh(route, { sensitive: false, strict: false }));
  // Calling it again patches nothing twice: the kept expressions stay.
  compileRoutesOnce();
  expect(validatorCopy().pathToRegexp).toBe(compile);
  expect(validatorCopy().pathToRegexp(route, { sensitive: false, strict: false })).toBe(first);
});

test('different routes, flags or extra options are kept apart', () => {
  compileRoutesOnce();
  const compile = validatorCopy().pathToRegexp;
  const base = compile('/a/:id', { sensitive: false, strict: false });
  expect(compile('/b/:id', { sensitive: false, strict: false }).regexp.test('/b/1')).toBe(true);
  expect(compile('/b/:id', { sensitive: false, strict: false })).not.toBe(base);
  const sensitive = compile('/a/:id', { sensitive: true, strict: false });
  expect(sensitive.regexp.flags).not.toContain('i');
  expect(base.regexp.flags).toContain('i');
  // path-to-regexp 8 ignores `strict`, but the key keeps it: a later version may not.
  expect(compile('/a/:id', { sensitive: false, strict: true })).not.toBe(base);
  expect(compile('/a/:id', { sensitive: true, strict: true })).not.toBe(sensitive);
  const ending = compile('/a/:id', { sensitive: false, strict: false, end: false });
  expect(ending.regexp.test('/a/1/more')).toBe(true);
  expect(base.regexp.test('/a/1/more')).toBe(false);
  const toTheEnd = compile('/a/:id', { sensitive: false, strict: false, end: true });
  expect(toTheEnd).not.toBe(ending);
  expect(toTheEnd.regexp.test('/a/1/more')).toBe(false);
  expect(compile('/a/:id').regexp.test('/a/1')).toBe(true);
  expect(compile('/a/:id')).toBe(compile('/a/:id'));
});

test('a route that is not a string is compiled afresh each time', () => {
  compileRoutesOnce();
  const compile = validatorCopy().pathToRegexp;
  const routes = ['/x/:id', '/y/:id'];
  const first = compile(routes, { sensitive: false, strict: false });
  expect(first.regexp.test('/y/1')).toBe(true);
  expect(compile(routes, { sensitive: false, strict: false })).not.toBe(first);
});
