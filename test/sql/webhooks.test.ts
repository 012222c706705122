// Webhooks in SQL: endpoints and their secrets, the outbox (booking_private.emit_event writes
// the event and its delivery jobs in the caller's transaction), the sweep that enqueues the
// deliveries written without a job (on Citus, by the triggers on the workers), the reservation
// events, and the bookkeeping of attempts that disables an endpoint failing for a day.
import pg from 'pg';
import { connections, freshDatabase, testTarget, type TestDatabase } from '../support/cluster';
import { createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { book, refusal } from '../support/sql';

let db: TestDatabase;
let r: Restaurant;
let other: Restaurant;
let day: string;
let api: pg.Client;
const at = (time: string) => localInstant(db.pool, r.timezone, day, time);

beforeAll(async () => {
  db = await freshDatabase();
  r = await createRestaurant(db.pool);
  other = await createRestaurant(db.pool, { name: 'Other' });
  day = await localDate(db.pool, r.timezone, 5);
  api = new pg.Client({ connectionString: db.url, options: `-c role=${db.apiRole}` });
  await api.connect();
});
afterAll(async () => {
  await api.end();
  await db.drop();
});
beforeEach(async () => {
  await db.pool.query('delete from booking.reservations; delete from booking.webhook_events; delete from booking.webhook_endpoints; delete from graphile_worker._private_jobs');
});

interface Endpoint {
  id: string;
  restaurant_id: string;
  url: string;
  events: string[] | null;
  secret: string;
}
const addEndpoint = (restaurantId: string, url: string, events: string[] | null = null) =>
  db.pool.query<Endpoint>('select * from booking.add_webhook_endpoint($1, $2, $3)', [restaurantId, url, events]).then((res) => res.rows[0]!);
const jobs = () =>
  db.pool
    .query<{ restaurant_id: string; delivery_id: string; max_attempts: number; key: string }>(
      `select payload->>'restaurant_id' as restaurant_id, payload->>'delivery_id' as delivery_id, max_attempts, key
       from graphile_worker._private_jobs j
       join graphile_worker._private_tasks t on t.id = j.task_id where t.identifier = 'deliver_webhook' order by j.id`,
    )
    .then((res) => res.rows);
const deliveryJob = (restaurantId: string, deliveryId: string) => ({
  restaurant_id: restaurantId,
  delivery_id: deliveryId,
  max_attempts: 14,
  key: `webhook_delivery:${restaurantId}:${deliveryId}`,
});
const sweep = () => db.pool.query<{ n: number }>('select booking_private.enqueue_webhook_deliveries() as n').then((res) => res.rows[0]!.n);
const events = () =>
  db.pool
    .query<{ type: string; payload: { type: string; timestamp: string; data: Record<string, unknown> } }>('select type, payload from booking.webhook_events order by id')
    .then((res) => res.rows);

describe('endpoints', () => {
  test('add_webhook_endpoint returns a whsec_ secret of 32 random bytes once; the API role can list endpoints but never read a secret', async () => {
    const endpoint = await addEndpoint(r.id, 'HTTPS://example.com/hooks?x=1', ['reservation.created', 'reservation.created']);
    expect(endpoint).toMatchObject({ restaurant_id: r.id, url: 'https://example.com/hooks?x=1', events: ['reservation.created'] });
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(endpoint.secret.slice(6), 'base64')).toHaveLength(32);
    expect((await addEndpoint(r.id, 'http://example.com/b')).secret).not.toBe(endpoint.secret);
    const listed = await api.query('select * from booking.webhook_endpoints where id = $1', [endpoint.id]);
    expect(JSON.stringify(listed.rows)).not.toContain(endpoint.secret.slice(6));
    expect((await refusal(api.query('select * from booking_private.webhook_secrets'))).code).toBe('42501');
    expect((await refusal(api.query(`select booking_private.emit_event($1, 'reservation.created', '{}')`, [r.id]))).code).toBe('42501');
  });

  test('add_webhook_endpoint refuses a URL that is not http(s), an unknown event type, an unknown restaurant and a 21st endpoint', async () => {
    for (const url of ['ftp://example.com/x', 'file:///etc/passwd', 'javascript:alert(1)', 'http://', `https://example.com/${'x'.repeat(2000)}`]) {
      expect(await refusal(addEndpoint(r.id, url))).toMatchObject({ code: '22023', reason: 'invalid_webhook_url' });
    }
    const unknown = await refusal(addEndpoint(r.id, 'https://example.com', ['reservation.created', 'reservation.eaten']));
    expect(unknown).toMatchObject({ code: '22023', reason: 'unknown_event_type', detail: expect.objectContaining({ unknown: ['reservation.eaten'] }) });
    expect(await refusal(addEndpoint(r.id, 'https://example.com', []))).toMatchObject({ reason: 'unknown_event_type' });
    expect(await refusal(addEndpoint('999999', 'https://example.com'))).toMatchObject({ code: 'PT404', reason: 'restaurant_not_found' });
    for (let i = 0; i < 20; i++) await addEndpoint(r.id, `https://example.com/${i}`);
    expect(await refusal(addEndpoint(r.id, 'https://example.com/20'))).toMatchObject({ code: 'PT409', reason: 'too_many_webhook_endpoints' });
  });

  test("remove_webhook_endpoint removes one of the restaurant's own endpoints, and says 404 for another's", async () => {
    const mine = await addEndpoint(r.id, 'https://example.com/mine');
    const theirs = await addEndpoint(other.id, 'https://example.com/theirs');
    expect(await refusal(db.pool.query('select * from booking.remove_webhook_endpoint($1, $2)', [r.id, theirs.id]))).toMatchObject({
      code: 'PT404',
      reason: 'webhook_endpoint_not_found',
    });
    const removed = await db.pool.query('select * from booking.remove_webhook_endpoint($1, $2)', [r.id, mine.id]);
    expect(removed.rows[0]).toMatchObject({ id: mine.id });
    expect((await db.pool.query('select count(*)::int as n from booking_private.webhook_secrets')).rows[0].n).toBe(1);
  });
});

describe('emit_event, the outbox', () => {
  test('writes the event and one delivery job per active endpoint of the restaurant subscribed to its type', async () => {
    const all = await addEndpoint(r.id, 'https://example.com/all');
    const created = await addEndpoint(r.id, 'https://example.com/created', ['reservation.created']);
    await addEndpoint(r.id, 'https://example.com/holds', ['hold.created']);
    const disabled = await addEndpoint(r.id, 'https://example.com/disabled');
    await db.pool.query("update booking.webhook_endpoints set disabled_at = now(), disabled_reason = 'test' where id = $1", [disabled.id]);
    await addEndpoint(other.id, 'https://example.com/other');
    const { rows } = await db.pool.query<{ id: string }>(`select booking_private.emit_event($1, 'reservation.created', '{"id": 7}') as id`, [r.id]);
    const [event] = await events();
    expect(event!.payload).toEqual({ type: 'reservation.created', timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/), data: { id: 7 } });
    const deliveries = await db.pool.query('select id, endpoint_id from booking.webhook_deliveries where event_id = $1 order by endpoint_id', [rows[0]!.id]);
    expect(deliveries.rows.map((d) => d.endpoint_id)).toEqual([all.id, created.id]);
    expect(await jobs()).toEqual(deliveries.rows.map((d) => deliveryJob(r.id, d.id)));
    expect((await db.pool.query('select bool_and(enqueued) as all from booking.webhook_deliveries')).rows[0].all).toBe(true);
  });

  test("is part of the caller's transaction: rolled back, nothing is written or queued", async () => {
    await addEndpoint(r.id, 'https://example.com/all');
    const client = await db.pool.connect();
    try {
      await client.query('begin');
      await client.query(`select booking_private.emit_event($1, 'hold.created', '{}')`, [r.id]);
      await client.query('rollback');
    } finally {
      client.release();
    }
    expect(await events()).toEqual([]);
    expect(await jobs()).toEqual([]);
  });

  test('writes nothing when no endpoint listens, and refuses an unknown type', async () => {
    await addEndpoint(r.id, 'https://example.com/holds', ['hold.created']);
    const { rows } = await db.pool.query(`select booking_private.emit_event($1, 'reservation.created', '{}') as id`, [r.id]);
    expect(rows[0].id).toBeNull();
    expect(await events()).toEqual([]);
    expect(await refusal(db.pool.query(`select booking_private.emit_event($1, 'table.eaten', '{}')`, [r.id]))).toMatchObject({
      code: '22023',
      reason: 'unknown_event_type',
    });
  });
});

describe('the sweep, enqueue_webhook_deliveries', () => {
  // A delivery as an outbox trigger on a Citus worker writes it: no job, not enqueued.
  const unqueued = async (restaurantId: string, endpointId: string, status = 'pending') => {
    const { rows } = await db.pool.query<{ id: string }>(
      `with e as (insert into booking.webhook_events (restaurant_id, type, payload) values ($1, 'reservation.created', '{}') returning restaurant_id, id)
       insert into booking.webhook_deliveries (restaurant_id, endpoint_id, event_id, status) select restaurant_id, $2, id, $3 from e returning id`,
      [restaurantId, endpointId, status],
    );
    return rows[0]!.id;
  };

  test('gives each pending delivery written without a job one job carrying its restaurant, and a second sweep adds none', async () => {
    const mine = await addEndpoint(r.id, 'https://example.com/mine');
    const theirs = await addEndpoint(other.id, 'https://example.com/theirs');
    const first = await unqueued(r.id, mine.id);
    const second = await unqueued(other.id, theirs.id);
    for (const status of ['delivered', 'failed', 'skipped']) await unqueued(r.id, mine.id, status);
    expect(await jobs()).toEqual([]);
    expect(await sweep()).toBe(2);
    expect(await jobs()).toEqual(expect.arrayContaining([deliveryJob(r.id, first), deliveryJob(other.id, second)]));
    expect(await jobs()).toHaveLength(2);
    expect(await sweep()).toBe(0);
    expect(await jobs()).toHaveLength(2);
  });

  test('finds nothing to do after a booking where the trigger reaches the queue, and enqueues it once where it does not (a Citus worker)', async () => {
    await addEndpoint(r.id, 'https://example.com/all');
    await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
    // One PostgreSQL: the trigger enqueued it. Citus: the trigger ran on the worker, the sweep enqueues it.
    expect(await sweep()).toBe(testTarget() === 'citus' ? 1 : 0);
    const { rows } = await db.pool.query<{ id: string }>('select id from booking.webhook_deliveries');
    expect(await jobs()).toEqual(rows.map((d) => deliveryJob(r.id, d.id)));
    expect(await sweep()).toBe(0);
  });

  test('two sweeps at once enqueue a delivery once: the second waits for the first and finds it enqueued', async () => {
    const endpoint = await addEndpoint(r.id, 'https://example.com/all');
    const id = await unqueued(r.id, endpoint.id);
    const [a, b] = await connections(db.url, 2);
    try {
      await a!.query('begin');
      expect((await a!.query('select booking_private.enqueue_webhook_deliveries() as n')).rows[0].n).toBe(1);
      const later = b!.query('select booking_private.enqueue_webhook_deliveries() as n');
      await new Promise((resolve) => setTimeout(resolve, 300));
      await a!.query('commit');
      expect((await later).rows[0].n).toBe(0);
    } finally {
      await Promise.all([a!.end(), b!.end()]);
    }
    expect(await jobs()).toEqual([deliveryJob(r.id, id)]);
  });
});

describe('reservation events', () => {
  test('booking, moving, seating and cancelling emit created, updated, status_changed and cancelled, each with the reservation as /rpc shows it', async () => {
    await addEndpoint(r.id, 'https://example.com/all');
    const made = await book(db.pool, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
    await db.pool.query('select booking.reschedule_reservation($1, $2, starts_at => $3)', [r.id, made.id, await at('20:30')]);
    await db.pool.query("select booking.set_reservation_status($1, $2, 'seated')", [r.id, made.id]);
    const second = await book(db.pool, { restaurantId: r.id, startsAt: await at('21:00'), guests: 4, notes: 'window' });
    await db.pool.query('select booking.cancel_reservation($1, $2)', [r.id, second.id]);
    const written = await events();
    expect(written.map((e) => [e.type, e.payload.data.id, e.payload.data.status])).toEqual([
      ['reservation.created', Number(made.id), 'confirmed'],
      ['reservation.updated', Number(made.id), 'confirmed'],
      ['reservation.status_changed', Number(made.id), 'seated'],
      ['reservation.created', Number(second.id), 'confirmed'],
      ['reservation.cancelled', Number(second.id), 'cancelled'],
    ]);
    expect(written.every((e) => e.type === e.payload.type)).toBe(true);
    // The row through jsonb: on Citus the statement runs on the shard, where r is a
    // booking.reservations_102081, not the booking.reservations the function takes.
    const { rows } = await db.pool.query(
      'select booking.reservation_document(jsonb_populate_record(null::booking.reservations, to_jsonb(r))) as doc from booking.reservations r where id = $1',
      [second.id],
    );
    expect(written[4]!.payload.data).toEqual(rows[0].doc);
    expect(rows[0].doc).toMatchObject({ notes: 'window', guests: 4, combination_id: null, tables: [{ id: Number(second.table_id), name: expect.any(String), capacity: expect.any(Number) }] });
    expect(new Date(written[1]!.payload.data.starts_at as string).toISOString()).toBe(await at('20:30'));
  });

  test('a replayed booking, a refused one and an update that changes nothing emit nothing more', async () => {
    await addEndpoint(r.id, 'https://example.com/all');
    const made = await book(db.pool, { restaurantId: r.id, startsAt: await at('19:00'), guests: 2, key: 'k1' });
    await book(db.pool, { restaurantId: r.id, startsAt: await at('19:00'), guests: 2, key: 'k1' });
    await refusal(book(db.pool, { restaurantId: r.id, startsAt: await at('03:00'), guests: 2 }));
    await db.pool.query('update booking.reservations set notes = notes where id = $1', [made.id]);
    expect((await events()).map((e) => e.type)).toEqual(['reservation.created']);
    await db.pool.query("update booking.reservations set notes = 'allergies' where id = $1", [made.id]);
    expect((await events()).map((e) => e.type)).toEqual(['reservation.created', 'reservation.updated']);
  });

  test('the document is in UTC whatever the session time zone', async () => {
    await addEndpoint(r.id, 'https://example.com/all');
    const client = await db.pool.connect();
    try {
      await client.query("set timezone = 'America/New_York'");
      await book(client, { restaurantId: r.id, startsAt: await at('20:00'), guests: 2 });
    } finally {
      await client.query('reset timezone');
      client.release();
    }
    expect((await events())[0]!.payload.data.starts_at).toMatch(/\+00:00$/);
  });
});

describe('attempts', () => {
  const start = (deliveryId: string) =>
    db.pool.query('select * from booking_private.start_webhook_attempt($1, $2)', [r.id, deliveryId]).then((res) => res.rows[0]);
  const finish = (deliveryId: string, ok: boolean, last = false) =>
    db.pool.query('select booking_private.finish_webhook_attempt($1, $2, $3, $4, $5, $6)', [r.id, deliveryId, ok, ok ? 200 : 500, ok ? null : 'HTTP 500', last]);
  const endpointRow = (id: string) => db.pool.query('select * from booking.webhook_endpoints where id = $1', [id]).then((res) => res.rows[0]);

  test('a failure marks the endpoint failing, a success clears it, and failing for a day disables it with its reason', async () => {
    const endpoint = await addEndpoint(r.id, 'https://example.com/all');
    await db.pool.query(`select booking_private.emit_event($1, 'reservation.created', '{}')`, [r.id]);
    const [job] = await jobs();
    const attempt = await start(job!.delivery_id);
    expect(attempt).toMatchObject({ deliver: true, url: endpoint.url, secret: endpoint.secret, message_id: expect.stringMatching(/^evt_\d+$/) });
    await finish(job!.delivery_id, false);
    expect(await endpointRow(endpoint.id)).toMatchObject({ failing_since: expect.any(Date), disabled_at: null });
    await finish(job!.delivery_id, true);
    expect(await endpointRow(endpoint.id)).toMatchObject({ failing_since: null });
    // A day of failures, as if the clock had run: the next failure disables the endpoint.
    await finish(job!.delivery_id, false);
    await db.pool.query("update booking.webhook_endpoints set failing_since = now() - interval '1 day 1 minute' where id = $1", [endpoint.id]);
    await finish(job!.delivery_id, false, true);
    const disabled = await endpointRow(endpoint.id);
    expect(disabled.disabled_at).toEqual(expect.any(Date));
    expect(disabled.disabled_reason).toMatch(/^Disabled: every delivery failed since .*HTTP 500/);
    expect((await db.pool.query('select status, attempts from booking.webhook_deliveries where id = $1', [job!.delivery_id])).rows[0]).toEqual({
      status: 'failed',
      attempts: 1,
    });
    // A disabled endpoint gets no new events, and a queued one is skipped.
    expect((await db.pool.query(`select booking_private.emit_event($1, 'reservation.created', '{}') as id`, [r.id])).rows[0].id).toBeNull();
  });

  test("an attempt names its restaurant: another restaurant's id finds no delivery and changes nothing", async () => {
    await addEndpoint(r.id, 'https://example.com/all');
    await db.pool.query(`select booking_private.emit_event($1, 'reservation.created', '{}')`, [r.id]);
    const [job] = await jobs();
    const elsewhere = (fn: string, args: unknown[]) => db.pool.query(`select * from booking_private.${fn}`, [other.id, job!.delivery_id, ...args]);
    expect((await elsewhere('start_webhook_attempt($1, $2)', [])).rows[0]).toMatchObject({ deliver: false, url: null });
    expect((await elsewhere('finish_webhook_attempt($1, $2, $3, $4, $5, $6)', [true, 200, null, false])).rows[0].id).toBeNull();
    expect((await db.pool.query('select status, attempts from booking.webhook_deliveries where id = $1', [job!.delivery_id])).rows[0]).toEqual({
      status: 'pending',
      attempts: 0,
    });
    expect(await start(job!.delivery_id)).toMatchObject({ deliver: true });
  });

  test('a delivery of a disabled or removed endpoint is skipped without sending', async () => {
    const endpoint = await addEndpoint(r.id, 'https://example.com/all');
    await db.pool.query(`select booking_private.emit_event($1, 'reservation.created', '{}')`, [r.id]);
    const [job] = await jobs();
    await db.pool.query("update booking.webhook_endpoints set disabled_at = now(), disabled_reason = 'by hand' where id = $1", [endpoint.id]);
    expect(await start(job!.delivery_id)).toMatchObject({ deliver: false, secret: null });
    expect((await db.pool.query('select status from booking.webhook_deliveries where id = $1', [job!.delivery_id])).rows[0].status).toBe('skipped');
    await db.pool.query('select booking.remove_webhook_endpoint($1, $2)', [r.id, endpoint.id]);
    expect(await start(job!.delivery_id)).toMatchObject({ deliver: false, url: null });
    expect((await finish(job!.delivery_id, true)).rows[0].finish_webhook_attempt).toBeNull();
  });
});
