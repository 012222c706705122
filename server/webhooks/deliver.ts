// The graphile-worker task that delivers one webhook (one event to one endpoint). A non-2xx
// answer, a timeout or a refused address throws, and graphile-worker retries the job with its
// exponential backoff (exp(min(attempts, 10)) seconds) until max_attempts (set by emit_event);
// the SQL records each attempt and disables an endpoint that has been failing for a day.
import http from 'node:http';
import https from 'node:https';
import type { Task } from 'graphile-worker';
import type { Config } from '../../config';
import { assertDeliverable, guardedLookup, parseWebhookUrl } from './address';
import { webhookHeaders } from './signature';

export type WebhookOptions = Config['webhooks'];

export interface Outcome {
  ok: boolean;
  status: number | null;
  error: string | null;
}

const USER_AGENT = 'nora-reservations-webhooks/1';

/** POSTs the body with its signature headers; never throws, says how it went. */
export async function post(url: string, body: string, headers: Record<string, string>, options: WebhookOptions): Promise<Outcome> {
  try {
    await assertDeliverable(url, options.allowPrivate);
    const target = parseWebhookUrl(url).url;
    const status = await new Promise<number>((resolve, reject) => {
      const request = (target.protocol === 'https:' ? https : http).request(
        target,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, 'content-length': Buffer.byteLength(body), ...headers },
          lookup: guardedLookup(options.allowPrivate),
          signal: AbortSignal.timeout(options.timeoutMs),
        },
        (response) => {
          // The answer's body means nothing to us: read and dropped, so the socket is freed.
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
    const ok = status >= 200 && status < 300;
    return { ok, status, error: ok ? null : `HTTP ${status}` };
  } catch (error) {
    const e = error as Error;
    const message = e.name === 'AbortError' || e.name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : e.message;
    return { ok: false, status: null, error: message };
  }
}

interface Attempt {
  deliver: boolean;
  url: string | null;
  secret: string | null;
  message_id: string | null;
  body: unknown;
}

/** A job's payload: {restaurant_id, delivery_id}; jobs queued before deliveries carried their
 *  restaurant have delivery_id alone. */
interface Payload {
  restaurant_id?: unknown;
  delivery_id: unknown;
}

export function deliverWebhook(options: WebhookOptions): Task {
  return async (payload, helpers) => {
    const job = payload as Payload;
    const deliveryId = Number(job.delivery_id);
    // An older job's restaurant, by the delivery's id alone (on one PostgreSQL, where such jobs
    // were queued, an index probe). No row: its endpoint was removed, nothing to send.
    const restaurantId =
      job.restaurant_id !== undefined
        ? Number(job.restaurant_id)
        : await helpers.withPgClient(
            async (client) =>
              (await client.query<{ restaurant_id: string }>('select restaurant_id from booking.webhook_deliveries where id = $1', [deliveryId])).rows[0]
                ?.restaurant_id,
          );
    if (restaurantId === undefined) return;
    const attempt = await helpers.withPgClient(
      async (client) =>
        (await client.query<Attempt>('select * from booking_private.start_webhook_attempt($1, $2)', [restaurantId, deliveryId])).rows[0]!,
    );
    if (!attempt.deliver) return;
    const body = JSON.stringify(attempt.body);
    const outcome = await post(attempt.url!, body, webhookHeaders(attempt.secret!, attempt.message_id!, body), options);
    const lastAttempt = helpers.job.attempts >= helpers.job.max_attempts;
    await helpers.withPgClient((client) =>
      client.query('select booking_private.finish_webhook_attempt($1, $2, $3, $4, $5, $6)', [
        restaurantId,
        deliveryId,
        outcome.ok,
        outcome.status,
        outcome.error,
        lastAttempt,
      ]),
    );
    if (!outcome.ok) throw new Error(`webhook delivery ${deliveryId} failed: ${outcome.error}`);
  };
}
