// The two ways the Node side drives load. A fixed number of requests over many connections (the
// storm) runs on autocannon. An open-model constant arrival rate (k6's `constant-arrival-rate`:
// a new iteration every 1/rate s whatever the latency, up to maxVUs in flight) is not what
// autocannon does (its rate is a per-connection quota per second, closed-loop), so that one is
// this thin loop over fetch.
import { setTimeout as sleep } from 'node:timers/promises';

export interface HttpResult {
  status: number;
  body: string;
  ms: number;
}

export interface RequestOptions {
  apiKey?: string;
  body?: unknown;
  idempotencyKey?: string;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

/** One request; never throws: no response (network error, timeout) is status 0. */
export async function request(baseUrl: string, method: string, path: string, options: RequestOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  const started = performance.now();
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15000),
    });
    const body = await response.text();
    return { status: response.status, body, ms: performance.now() - started };
  } catch {
    return { status: 0, body: '', ms: performance.now() - started };
  }
}

export interface ArrivalRateOptions {
  ratePerSecond: number;
  durationMs: number;
  maxInFlight: number;
  iteration: (index: number) => Promise<void>;
  /** Stop early (checked before each arrival). */
  stop?: () => boolean;
}

/** Starts `iteration` at a constant rate for a bounded time; returns the dropped count. */
export async function constantArrivalRate(options: ArrivalRateOptions): Promise<{ started: number; dropped: number }> {
  const interval = 1000 / options.ratePerSecond;
  const start = performance.now();
  const pending = new Set<Promise<void>>();
  let started = 0;
  let dropped = 0;
  for (let index = 0; ; index += 1) {
    const due = start + index * interval;
    if (due - start >= options.durationMs || options.stop?.()) break;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (pending.size >= options.maxInFlight) {
      dropped += 1;
      continue;
    }
    started += 1;
    const running: Promise<void> = options
      .iteration(index)
      .catch(() => undefined)
      .finally(() => pending.delete(running));
    pending.add(running);
  }
  await Promise.all(pending);
  return { started, dropped };
}
