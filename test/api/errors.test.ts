// DESIGN §5, the SQLSTATE → HTTP table, as the one error module applies it.
import { ApiError, errorPayload, invalidRequest, isRetryable, toApiError } from '../../server/errors';

const pgError = (code: string, detail?: string, hint?: string) => Object.assign(new Error(`failed with ${code}`), { code, detail, hint });

test.each([
  ['23P01', 409],
  ['23505', 409],
  ['23503', 409],
  ['23514', 400],
  ['23502', 400],
  ['22023', 400],
  ['22008', 400],
  ['PT404', 404],
  ['PT409', 409],
  ['PT422', 422],
])('SQLSTATE %s is HTTP %i with the database message', (code, status) => {
  const error = toApiError(pgError(code, '{"reason":"why"}', 'do this'), 'req-1');
  expect(error.status).toBe(status);
  expect(error.body).toEqual({ code, message: `failed with ${code}`, details: { reason: 'why' }, hint: 'do this' });
});

const BUSY = ['busy', 'The database is busy with conflicting requests.', 'Retry in a moment.'];
const UNAVAILABLE = ['service_unavailable', 'The database is unavailable.', 'Retry in a moment.'];
const REFUSED = ['internal_error', 'The database could not do it.', 'Retry later; quote the request id if it keeps failing.'];
const OURS = ['internal_error', 'Something went wrong on our side.', 'Retry later; quote the request id if it keeps failing.'];
test.each([
  ['40001', 503, ...BUSY],
  ['40P01', 503, ...BUSY],
  ['08006', 503, ...UNAVAILABLE],
  ['53300', 503, ...UNAVAILABLE],
  ['57P01', 503, ...UNAVAILABLE],
  ['57P03', 503, ...UNAVAILABLE],
  // Only the 08 class, 53300 and 57P01-3 are "unavailable": not a code with 08 inside it, nor 57P04.
  ['42P08', 500, ...OURS],
  ['57P04', 500, ...OURS],
  ['57014', 504, 'timeout', 'The request took too long.', 'Retry later with the same request.'],
  ['42P01', 500, ...OURS],
  ['PT500', 500, ...REFUSED],
  ['XX000', 500, ...OURS],
])('SQLSTATE %s is HTTP %i revealing only the request id', (code, status, word, message, hint) => {
  const error = toApiError(pgError(code as string, 'relation secret_table', 'internal hint'), 'req-2');
  expect(error.status).toBe(status);
  expect(error.body).toEqual({ code: word, message, details: { request_id: 'req-2' }, hint });
  expect(JSON.stringify(error.body)).not.toContain('secret');
  expect(error.headers['Retry-After'] ?? null).toBe(status === 503 ? '1' : null);
});

test('a detail that is not JSON is passed on as text, and a missing hint gets the default for its class', () => {
  const error = toApiError(pgError('23505', 'Key (email)=(a@b.c) already exists.'), 'r');
  expect(error.body.details).toBe('Key (email)=(a@b.c) already exists.');
  expect(error.body.hint).toMatch(/already taken/);
  expect(toApiError(pgError('22P02'), 'r').body).toMatchObject({ details: null, hint: expect.any(String) });
  expect(toApiError(pgError('PT404', '[1,2]'), 'r').body.details).toBe('[1,2]');
  expect(toApiError(pgError('PT409'), 'r').body.hint).toBeNull();
});

test.each([
  ['23505', 'The value is already taken: look the existing record up instead of creating it again.'],
  ['23503', 'A referenced record is missing or still in use.'],
  ['23514', 'Fix the invalid value and retry.'],
  ['23P01', 'That table is already reserved at that time; ask for availability again.'],
  ['22P02', 'Fix the invalid value and retry.'],
])('SQLSTATE %s without a hint of its own gets the default one', (code, hint) => {
  expect(toApiError(pgError(code), 'r').body.hint).toBe(hint);
});

test('a detail is parsed only when it is a JSON object', () => {
  expect(toApiError(pgError('PT404', 'null'), 'r').body.details).toBe('null');
  expect(toApiError(pgError('PT404', '42'), 'r').body.details).toBe('42');
  expect(toApiError(pgError('PT404', '{"reason":"x"}'), 'r').body.details).toEqual({ reason: 'x' });
});

test('only a five-character string code makes a database error', () => {
  expect(toApiError({ code: 22001, message: 'a number, not a SQLSTATE' }, 'r').body).toMatchObject({ code: 'internal_error' });
  expect(toApiError({ code: '2200', message: 'too short' }, 'r').status).toBe(500);
});

test('unreachable databases without a SQLSTATE are 503; everything else unknown is 500', () => {
  expect(toApiError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'r').status).toBe(503);
  // Node names the failure in the code alone as often as in the message.
  expect(toApiError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'r').status).toBe(503);
  expect(toApiError(new Error('timeout exceeded when trying to connect'), 'r').status).toBe(503);
  expect(toApiError(new Error('boom'), 'r').status).toBe(500);
  expect(toApiError('a string', 'r').status).toBe(500);
  expect(toApiError(null, 'r').status).toBe(500);
});

test.each([
  [400, 'entity.parse.failed', 'invalid_json', 'The body is not valid JSON.', 'invalid_json', 'Send a JSON object.'],
  [413, 'entity.too.large', 'payload_too_large', 'The body is too large.', 'payload_too_large', 'Send a smaller body.'],
  [415, undefined, 'unsupported_media_type', 'The body must be application/json.', 'unsupported_media_type', 'Send Content-Type: application/json.'],
  [404, undefined, 'not_found', 'No such route.', 'route_not_found', 'See /openapi.yaml for the routes.'],
  [405, undefined, 'method_not_allowed', 'POST not allowed', 'method_not_allowed', 'See /openapi.yaml for the routes.'],
])('an HTTP-layer %i (%s) keeps its status and says what to send', (status, type, code, message, reason, hint) => {
  const error = toApiError(Object.assign(new Error('POST not allowed'), { status, type }), 'r');
  expect(error.status).toBe(status);
  expect(error.body).toEqual({ code, message, details: { reason }, hint });
});

test('HTTP-layer errors keep their 4xx status and name the field', () => {
  const invalid = toApiError(Object.assign(new Error('bad'), { status: 400, errors: [{ path: '/body/guests', message: 'must be <= 20' }] }), 'r');
  expect(invalid.body.message).toBe('/body/guests must be <= 20');
  expect(toApiError(Object.assign(new Error('bad request'), { status: 400 }), 'r').body.message).toBe('bad request');
  // A dotted path (the validator's older form) is written with slashes, its leading dot dropped.
  const dotted = toApiError(Object.assign(new Error('bad'), { status: 400, errors: [{ path: '.query.day', message: 'must match' }, { path: 'body.name' }] }), 'r');
  expect(dotted.body.details).toEqual({
    reason: 'invalid_request',
    errors: [
      { path: 'query/day', message: 'must match' },
      { path: 'body/name', message: '' },
    ],
  });
  expect(toApiError(Object.assign(new Error('bad'), { status: 400, errors: [{ message: 'must be an object' }] }), 'r').body.message).toBe('must be an object');
});

test('an error carrying a 5xx status is ours, not the client\'s', () => {
  const error = toApiError(Object.assign(new Error('upstream broke'), { status: 500, errors: [{ path: '/body', message: 'x' }] }), 'r');
  expect(error.status).toBe(500);
  expect(error.body).toEqual({ code: OURS[0], message: OURS[1], details: { request_id: 'r' }, hint: OURS[2] });
  expect(toApiError(Object.assign(new Error('not an HTTP error'), { status: 399 }), 'r').status).toBe(500);
});

test('a refusal with no field named says the request is invalid', () => {
  expect(invalidRequest([]).body).toEqual({
    code: 'invalid_request',
    message: 'The request is invalid.',
    details: { reason: 'invalid_request', errors: [] },
    hint: 'Fix the named field and retry.',
  });
});

test('the two body shapes and the retryable codes', () => {
  const error = new ApiError(404, { code: 'PT404', message: 'm', details: null, hint: null });
  expect(errorPayload(error, true)).toEqual({ success: false, error: error.body });
  expect(errorPayload(error, false)).toBe(error.body);
  expect(toApiError(error, 'r')).toBe(error);
  expect(isRetryable(pgError('40001'))).toBe(true);
  expect(isRetryable(pgError('23505'))).toBe(false);
});
