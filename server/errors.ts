// The one place that turns a failure into an HTTP status and a body: SQLSTATEs per DESIGN §5,
// the HTTP layer's own refusals, and the two body shapes (PostgREST-style for /rpc, the legacy
// envelope for /api).

export interface ErrorBody {
  code: string;
  message: string;
  details: Record<string, unknown> | string | null;
  hint: string | null;
}

// The contract bounds every text of an error body (openapi.yaml, Error): a message that quotes
// the request (an unknown parameter's name) or a long PostgreSQL detail is cut, never sent whole.
const MAX_TEXT = 1000;
const MAX_DETAIL = 2000;
const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** A refusal whose status and body are known; anything else becomes a 500. */
export class ApiError extends Error {
  readonly body: ErrorBody;

  constructor(
    readonly status: number,
    body: ErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
    this.body = {
      ...body,
      message: cut(body.message, MAX_TEXT),
      details: typeof body.details === 'string' ? cut(body.details, MAX_DETAIL) : body.details,
      hint: body.hint === null ? null : cut(body.hint, MAX_TEXT),
    };
  }
}

export function refusal(
  status: number,
  code: string,
  message: string,
  reason: string,
  hint: string | null = null,
  extra: Record<string, unknown> = {},
): ApiError {
  return new ApiError(status, { code, message, details: { reason, ...extra }, hint });
}

interface DatabaseError {
  code: string;
  message: string;
  detail?: string;
  hint?: string;
  constraint?: string;
}

function isDatabaseError(error: unknown): error is DatabaseError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    /^[0-9A-Z]{5}$/.test((error as { code: string }).code)
  );
}

/** 40001 and 40P01: the transaction lost a race and may simply be run again. */
export function isRetryable(error: unknown): boolean {
  return isDatabaseError(error) && (error.code === '40001' || error.code === '40P01');
}

// Node-level failures to reach the server, and pg-pool's own timeout, carry no SQLSTATE.
const UNREACHABLE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/;

export function isUnavailable(error: unknown): boolean {
  if (isDatabaseError(error)) return /^08|^53300$|^57P0[1-3]$/.test(error.code);
  // Duck-typed: errors raised by Node's own modules need not be instances of this realm's Error.
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const text = `${String(code ?? '')} ${String(message ?? '')}`;
  return UNREACHABLE.test(text);
}

const DEFAULT_HINTS: Record<string, string> = {
  '23505': 'The value is already taken: look the existing record up instead of creating it again.',
  '23503': 'A referenced record is missing or still in use.',
  '23514': 'Fix the invalid value and retry.',
  '23P01': 'That table is already reserved at that time; ask for availability again.',
  '22': 'Fix the invalid value and retry.',
};

function statusOf(code: string): number | null {
  if (/^PT[1-5][0-9][0-9]$/.test(code)) return Number(code.slice(2));
  if (code === '23P01' || code === '23505' || code === '23503') return 409;
  if (code === '23514' || code === '23502' || code.startsWith('22')) return 400;
  return null;
}

function parseDetail(detail: string | undefined): ErrorBody['details'] {
  if (!detail) return null;
  try {
    const parsed: unknown = JSON.parse(detail);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // Not JSON: PostgreSQL's own detail text, shown as it is.
  }
  return detail;
}

/**
 * What the client is told about a failure. `requestId` is all a 5xx body reveals; the caller
 * logs the error itself.
 */
export function toApiError(error: unknown, requestId: string): ApiError {
  if (error instanceof ApiError) return error;
  const retry = { 'Retry-After': '1' };
  const internal = (status: number, code: string, message: string, hint: string) =>
    new ApiError(status, { code, message, details: { request_id: requestId }, hint }, status === 503 ? retry : {});
  const httpStatus = (error as { status?: unknown; type?: unknown })?.status;
  if (typeof httpStatus === 'number' && httpStatus >= 400 && httpStatus < 500) return fromHttpError(error as HttpLikeError, httpStatus);
  if (isDatabaseError(error)) {
    const status = statusOf(error.code);
    if (status !== null && status >= 500) return internal(status, 'internal_error', 'The database could not do it.', 'Retry later; quote the request id if it keeps failing.');
    if (status !== null) {
      return new ApiError(status, {
        code: error.code,
        message: error.message,
        details: parseDetail(error.detail),
        hint: error.hint || DEFAULT_HINTS[error.code] || DEFAULT_HINTS[error.code.slice(0, 2)] || null,
      });
    }
    if (error.code === '57014') return internal(504, 'timeout', 'The request took too long.', 'Retry later with the same request.');
    if (isRetryable(error)) return internal(503, 'busy', 'The database is busy with conflicting requests.', 'Retry in a moment.');
  }
  if (isUnavailable(error)) return internal(503, 'service_unavailable', 'The database is unavailable.', 'Retry in a moment.');
  return internal(500, 'internal_error', 'Something went wrong on our side.', 'Retry later; quote the request id if it keeps failing.');
}

interface HttpLikeError {
  message: string;
  type?: string;
  errors?: Array<{ path?: string; message?: string }>;
}

// body-parser's errors carry a `type`; express-openapi-validator's carry `errors`.
function fromHttpError(error: HttpLikeError, status: number): ApiError {
  if (error.type === 'entity.parse.failed') {
    return refusal(400, 'invalid_json', 'The body is not valid JSON.', 'invalid_json', 'Send a JSON object.');
  }
  if (error.type === 'entity.too.large') {
    return refusal(413, 'payload_too_large', 'The body is too large.', 'payload_too_large', 'Send a smaller body.');
  }
  if (status === 415) {
    return refusal(415, 'unsupported_media_type', 'The body must be application/json.', 'unsupported_media_type', 'Send Content-Type: application/json.');
  }
  if (status === 404) return noSuchRoute();
  if (status === 405) return refusal(405, 'method_not_allowed', error.message, 'method_not_allowed', 'See /openapi.yaml for the routes.');
  const errors = (error.errors ?? []).map((e) => ({ path: (e.path ?? '').replace(/^\./, '').replace(/\./g, '/'), message: e.message ?? '' }));
  return invalidRequest(errors, error.message);
}

/** A path the API does not serve, whether the contract's validator or the app finds it so. */
export const noSuchRoute = (): ApiError => refusal(404, 'not_found', 'No such route.', 'route_not_found', 'See /openapi.yaml for the routes.');

/** A request the contract refuses: the message names the first bad field (`/body/guests must be <= 20`). */
export function invalidRequest(errors: Array<{ path: string; message: string }>, fallback = 'The request is invalid.'): ApiError {
  const first = errors[0];
  const message = first ? `${first.path} ${first.message}`.trim() : fallback;
  return refusal(400, 'invalid_request', message, 'invalid_request', 'Fix the named field and retry.', { errors });
}

/** The body as the route family writes it. */
export function errorPayload(error: ApiError, legacy: boolean): unknown {
  return legacy ? { success: false, error: error.body } : error.body;
}
