// API key changes from the database (migration 000006: a trigger on booking_private.api_keys
// notifies channel nora_api_keys with the key's id), heard on one dedicated connection per
// process, so a revoked key stops working on every API process at once instead of after the
// cache's TTL. The connection is re-made after PostgreSQL restarts; while it is down the cache's
// TTL (API_KEY_CACHE_TTL_MS) is the only bound, and the log says so.
import pg from 'pg';
import type { Logger } from 'pino';

export const KEY_CHANNEL = 'nora_api_keys';

/** What the key cache subscribes to: a key id, or null for "forget every key". */
export interface KeyChanges {
  onChange(listener: (keyId: number | null) => void): void;
}

export interface KeyListenerOptions {
  /** A direct connection (LISTEN does not work through PgBouncer in transaction mode). */
  url: string;
  role: string | null;
  logger: Logger;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export class KeyChangeListener implements KeyChanges {
  private readonly listeners: Array<(keyId: number | null) => void> = [];
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | undefined;
  private retries = 0;
  private stopped = false;
  private lost = false;
  /** True while LISTEN is in effect on a live connection. */
  listening = false;

  constructor(private readonly options: KeyListenerOptions) {}

  onChange(listener: (keyId: number | null) => void): void {
    this.listeners.push(listener);
  }

  private emit(keyId: number | null): void {
    for (const listener of this.listeners) listener(keyId);
  }

  /** Resolves once the first attempt is over; a failed one is retried in the background. */
  start(): Promise<void> {
    return this.connect();
  }

  private async connect(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.options.url,
      application_name: 'nora-api-listen',
      ...(this.options.role ? { options: `-c role=${this.options.role}` } : {}),
      connectionTimeoutMillis: 5000,
    });
    let gone = false;
    const down = (error?: Error) => {
      if (gone) return;
      gone = true;
      this.wentDown(client, error);
    };
    client.on('error', down);
    client.on('end', () => down());
    // The connection listens on KEY_CHANNEL alone.
    client.on('notification', (message) => {
      const id = Number(message.payload);
      this.emit(message.payload && Number.isSafeInteger(id) ? id : null);
    });
    try {
      await client.connect();
      await client.query(`listen ${KEY_CHANNEL}`);
    } catch (error) {
      down(error as Error);
      return;
    }
    if (gone || this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.listening = true;
    this.retries = 0;
    // Whatever changed while nobody listened is unknown: forget every cached key.
    this.emit(null);
    if (this.lost) this.options.logger.info('API key listener: listening again; revocations apply at once');
    this.lost = false;
  }

  private wentDown(client: pg.Client, error?: Error): void {
    if (this.client === client) this.client = null;
    this.listening = false;
    client.end().catch(() => undefined);
    if (this.stopped) return;
    if (!this.lost) {
      this.lost = true;
      this.options.logger.warn(
        { err: error },
        'API key listener down: revoked keys stay usable until API_KEY_CACHE_TTL_MS has passed; reconnecting',
      );
    }
    const min = this.options.retryMinMs ?? 100;
    const delay = Math.min(min * 2 ** this.retries, this.options.retryMaxMs ?? 2000);
    this.retries += 1;
    this.timer = setTimeout(() => void this.connect(), delay);
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    this.listening = false;
    await client?.end().catch(() => undefined);
  }
}
