// The webhook routes: a restaurant's key manages its own endpoints, an admin key any; the secret
// is in the creating answer only; in production the operator's network is not a destination.
import dns from 'node:dns';
import { apiKey, startTestApi, tenant, type ApiUnderTest, type Tenant } from './support';
import { assertDeliverable, guardedLookup, isPublicAddress } from '../../server/webhooks/address';

let t: ApiUnderTest;
let prod: ApiUnderTest;
let bistro: Tenant;
let other: Tenant;
let admin: string;
beforeAll(async () => {
  t = await startTestApi();
  bistro = await tenant(t.db);
  other = await tenant(t.db, { name: 'Other' });
  admin = await apiKey(t.db, null, 'operator');
  prod = await startTestApi({ db: t.db, env: { NODE_ENV: 'production' } });
});
afterAll(async () => {
  await prod.close();
  await t.close();
});
beforeEach(() => t.db.pool.query('delete from booking.webhook_endpoints'));

const hooks = (id: number) => `/api/restaurants/${id}/webhooks`;

test('a restaurant registers an endpoint and sees its secret once; the list and the removal never show it', async () => {
  const created = await t.api.post(hooks(bistro.id), bistro.key).send({ url: 'https://example.com/hooks', events: ['reservation.created'] }).expect(201);
  expect(created.body.data).toEqual({
    id: expect.any(Number),
    restaurant_id: bistro.id,
    url: 'https://example.com/hooks',
    events: ['reservation.created'],
    secret: expect.stringMatching(/^whsec_/),
    created_at: expect.any(String),
  });
  const secret = created.body.data.secret as string;
  const listed = await t.api.get(hooks(bistro.id), bistro.key).expect(200);
  expect(listed.body.data.webhooks).toEqual([
    { id: created.body.data.id, restaurant_id: bistro.id, url: 'https://example.com/hooks', events: ['reservation.created'], created_at: expect.any(String),
      failing_since: null, disabled_at: null, disabled_reason: null },
  ]);
  expect(JSON.stringify(listed.body)).not.toContain(secret.slice(6));
  const removed = await t.api.delete(`${hooks(bistro.id)}/${created.body.data.id}`, bistro.key).expect(200);
  expect(JSON.stringify(removed.body)).not.toContain(secret.slice(6));
  expect(removed.body.data.id).toBe(created.body.data.id);
  const again = await t.api.delete(`${hooks(bistro.id)}/${created.body.data.id}`, bistro.key).expect(404);
  expect(again.body.error.details.reason).toBe('webhook_endpoint_not_found');
  expect((await t.api.get(hooks(bistro.id), bistro.key).expect(200)).body.data.webhooks).toEqual([]);
});

test("a restaurant key is refused another restaurant's endpoints; an admin key manages any restaurant's", async () => {
  await t.api.post(hooks(other.id), bistro.key).send({ url: 'https://example.com/x' }).expect(403);
  await t.api.get(hooks(other.id), bistro.key).expect(403);
  const made = await t.api.post(hooks(other.id), admin).send({ url: 'https://example.com/x' }).expect(201);
  await t.api.delete(`${hooks(other.id)}/${made.body.data.id}`, bistro.key).expect(403);
  const wrongRestaurant = await t.api.delete(`${hooks(bistro.id)}/${made.body.data.id}`, bistro.key).expect(404);
  expect(wrongRestaurant.body.error.details.reason).toBe('webhook_endpoint_not_found');
  expect((await t.api.get(hooks(other.id), admin).expect(200)).body.data.webhooks).toHaveLength(1);
  expect((await t.api.get('/api/restaurants/999999/webhooks', admin).expect(404)).body.error.details.reason).toBe('restaurant_not_found');
});

test('a URL that is not http(s), an unknown event type and a 21st endpoint are refused', async () => {
  for (const url of ['ftp://example.com/x', 'file:///etc/passwd', 'example.com']) {
    const res = await t.api.post(hooks(bistro.id), bistro.key).send({ url }).expect(400);
    expect(res.body.error.message).toMatch(/url/);
  }
  await t.api.post(hooks(bistro.id), bistro.key).send({ url: 'http://[zz]/x' }).expect(400);
  await t.api.post(hooks(bistro.id), bistro.key).send({ url: 'https://example.com', events: ['reservation.eaten'] }).expect(400);
  for (let i = 0; i < 20; i++) await t.api.post(hooks(bistro.id), bistro.key).send({ url: `https://example.com/${i}` }).expect(201);
  const full = await t.api.post(hooks(bistro.id), bistro.key).send({ url: 'https://example.com/20' }).expect(409);
  expect(full.body.error.details.reason).toBe('too_many_webhook_endpoints');
});

test('in production, loopback, private, link-local and unresolvable destinations are refused with 422', async () => {
  for (const url of ['http://127.0.0.1:3000/hooks', 'http://localhost/hooks', 'http://[::1]/x', 'http://10.1.2.3/x', 'http://192.168.0.10/x',
    'http://169.254.169.254/latest/meta-data', 'http://[::ffff:127.0.0.1]/x', 'http://0.0.0.0/x']) {
    const res = await prod.api.post(hooks(bistro.id), bistro.key).send({ url }).expect(422);
    expect(res.body.error.details.reason).toBe('webhook_address_not_allowed');
  }
  const unresolvable = await prod.api.post(hooks(bistro.id), bistro.key).send({ url: 'https://no-such-host.invalid/x' }).expect(422);
  const hint = 'Give an address on the public internet that your own server answers.';
  expect(unresolvable.body.error).toMatchObject({ code: 'PT422', details: { reason: 'webhook_address_unresolvable' }, hint });
  const scheme = await prod.api.post(hooks(bistro.id), bistro.key).send({ url: 'ftp://example.com/hooks' }).expect(400);
  expect(scheme.body.error).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/^\/body\/url /) });
  await prod.api.post(hooks(bistro.id), bistro.key).send({ url: 'https://8.8.8.8/hooks' }).expect(201);
  // Outside production (this API), the developer's own machine is a fine destination.
  await t.api.post(hooks(bistro.id), bistro.key).send({ url: 'http://127.0.0.1:3000/hooks' }).expect(201);
});

test('in production with WEBHOOK_ALLOW_PRIVATE=true, a private destination is accepted', async () => {
  const allowed = await startTestApi({ db: t.db, env: { NODE_ENV: 'production', WEBHOOK_ALLOW_PRIVATE: 'true' } });
  try {
    await allowed.api.post(hooks(bistro.id), bistro.key).send({ url: 'http://10.1.2.3/hooks' }).expect(201);
  } finally {
    await allowed.close();
  }
});

test('a booking through /rpc and its webhook carry the same reservation document', async () => {
  await t.api.post(hooks(bistro.id), bistro.key).send({ url: 'https://example.com/hooks' }).expect(201);
  const booked = await t.api.post('/rpc/book_table', bistro.key).send({ restaurant_id: bistro.id, starts_at: await bistro.at('20:00'), guests: 2 }).expect(200);
  const { rows } = await t.db.pool.query("select payload from booking.webhook_events where payload->'data'->>'id' = $1", [String(booked.body.id)]);
  expect(rows[0].payload).toMatchObject({ type: 'reservation.created', data: booked.body });
  expect(rows[0].payload.data).toEqual(booked.body);
});

describe('addresses', () => {
  test('only public unicast addresses are public', () => {
    for (const address of ['8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect(isPublicAddress(address)).toBe(true);
    for (const address of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '255.255.255.255',
      '224.0.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', '::ffff:10.0.0.1', '::ffff:127.0.0.1', 'not an address']) {
      expect(isPublicAddress(address)).toBe(false);
    }
  });

  test('the connection-time lookup refuses a name that resolves to a private address unless allowed', async () => {
    const lookup = (allowPrivate: boolean, host: string, options: dns.LookupOptions) =>
      new Promise<unknown>((resolve, reject) => guardedLookup(allowPrivate)(host, options, (error, address) => (error ? reject(error) : resolve(address))));
    await expect(lookup(false, 'localhost', {})).rejects.toThrow(/localhost resolves to .*not a public address/);
    expect(await lookup(true, 'localhost', {})).toMatch(/^(127\.0\.0\.1|::1)$/);
    expect(await lookup(true, 'localhost', { all: true })).toEqual(expect.arrayContaining([expect.objectContaining({ address: expect.any(String) })]));
    await expect(lookup(true, 'no-such-host.invalid', {})).rejects.toThrow();
  });

  test('a URL that is not http(s) is refused whatever the setting', async () => {
    await expect(assertDeliverable('gopher://example.com/', true)).rejects.toMatchObject({ reason: 'invalid_webhook_url' });
    await expect(assertDeliverable('not a url', true)).rejects.toMatchObject({ reason: 'invalid_webhook_url' });
  });
});
