// openapi.yaml is the contract: requests are validated against it here (and responses too when
// VALIDATE_RESPONSES is on, as in the test suite).
import { createRequire } from 'node:module';
import path from 'node:path';
import type { RequestHandler } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { invalidRequest } from './errors';
import { extraFormats } from './formats';

type Compile = (route: string, options?: Record<string, unknown>) => unknown;

/**
 * express-openapi-validator finds a request's operation by compiling, on every request, a regular
 * expression for every route of the contract (path-to-regexp's pathToRegexp, called through the
 * module object in middlewares/openapi.metadata.js), which the CPU profile showed among the API's
 * top costs. The routes never change, so each compiled expression is kept: the same objects, made
 * once. The validator's own copy of path-to-regexp is the one patched; nothing else calls it per
 * request (the router uses `match`).
 */
export function compileRoutesOnce(): void {
  const fromValidator = createRequire(require.resolve('express-openapi-validator'));
  const module = fromValidator('path-to-regexp') as { pathToRegexp: Compile & { once?: true } };
  if (module.pathToRegexp.once) return;
  const compile = module.pathToRegexp;
  const compiled = new Map<string, unknown>();
  const once: Compile & { once?: true } = (route, options) => {
    if (typeof route !== 'string') return compile(route, options);
    // The lookup passes { sensitive, strict } for each route on each request: a key made without
    // JSON.stringify, which the profile showed at 3% of the API's CPU.
    const key = options ? `${route} ${options.sensitive ? 's' : ''}${options.strict ? 't' : ''}${Object.keys(options).length > 2 ? JSON.stringify(options) : ''}` : route;
    let result = compiled.get(key);
    if (result === undefined) compiled.set(key, (result = compile(route, options)));
    return result;
  };
  once.once = true;
  module.pathToRegexp = once;
}

export const specPath = path.resolve(__dirname, '..', 'openapi.yaml');

/**
 * The validator's middlewares (path parameters, operation lookup, security, request, response)
 * run as one Express layer: the router's per-layer matching and bookkeeping is paid once, not five
 * times per request. Each of the validator's steps runs inside its own promise and hands a failure
 * to `next`, and refuseNul runs inside the last of them, so none throws out of the layer.
 */
function oneLayer(handlers: RequestHandler[]): RequestHandler {
  return (req, res, done) => {
    let i = 0;
    const next = (error?: unknown) => {
      if (error) return done(error);
      const handler = handlers[i++];
      if (!handler) return done();
      const result = handler(req, res, next) as unknown;
      if (result instanceof Promise) result.catch(done);
    };
    next();
  };
}

/** A JSON pointer's reference token (RFC 6901): `~` and `/` escaped. */
const token = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * The JSON pointer of the first string (value or key) under `value` that holds U+0000, if any.
 * Keys count too, though the contract closes every object today: the validator refuses an unknown
 * key before this runs, and an open object added later must not let one through.
 */
export function nulAt(value: unknown, pointer: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? pointer : null;
  if (typeof value !== 'object' || value === null) return null;
  for (const [key, item] of Object.entries(value)) {
    const at = `${pointer}/${token(key)}`;
    if (key.includes('\u0000')) return at;
    const found = nulAt(item, at);
    if (found) return found;
  }
  return null;
}

/**
 * PostgreSQL text cannot hold U+0000: JSON allows it, the contract's string schemas do not exclude
 * it, and the database would refuse it (22021) without naming the field. So every string of the
 * body and the query is checked here, before any route runs, and refused like any other invalid
 * field; the SQLSTATE mapping stays as the second line of defence.
 */
const refuseNul: RequestHandler = (req, _res, next) => {
  const at = nulAt(req.body, '/body') ?? nulAt(req.query, '/query');
  next(at ? invalidRequest([{ path: at, message: 'must not contain the NUL character (\\u0000)' }]) : undefined);
};

export function validateAgainstSpec(validateResponses: boolean): RequestHandler {
  compileRoutesOnce();
  return oneLayer([...OpenApiValidator.middleware({
    apiSpec: specPath,
    validateRequests: { allowUnknownQueryParameters: false, removeAdditional: false },
    validateResponses: validateResponses ? { removeAdditional: false } : false,
    validateFormats: true,
    // authenticate() (server/auth.ts) has already refused a request without a valid key, with
    // the contract's 401, before this runs; and the contract takes no multipart bodies. Each
    // of the validator's own checks would be a further middleware and promise hop per request.
    validateSecurity: false,
    fileUploader: false,
    ajvFormats: { mode: 'full' },
    formats: extraFormats,
  }), refuseNul]);
}
