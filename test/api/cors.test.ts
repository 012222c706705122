// Server to server only: no answer grants a web page of another origin access, so a browser
// refuses to hand a cross-origin caller the response, and a preflight never succeeds.
import request from 'supertest';
import { startTestApi, tenant, type ApiUnderTest, type Tenant } from './support';

let t: ApiUnderTest;
let bistro: Tenant;
beforeAll(async () => {
  t = await startTestApi();
  bistro = await tenant(t.db);
});
afterAll(() => t.close());

const ORIGIN = 'https://assistant.example';
const corsHeaders = (headers: Record<string, string>) => Object.keys(headers).filter((name) => name.startsWith('access-control-'));

test('a cross-origin request gets its answer without any Access-Control header', async () => {
  const answered = await t.api.get(`/api/restaurants/${bistro.id}/clients`, bistro.key).set('Origin', ORIGIN).expect(200);
  expect(corsHeaders(answered.headers)).toEqual([]);
  const probe = await t.api.get('/health').set('Origin', ORIGIN).expect(200);
  expect(corsHeaders(probe.headers)).toEqual([]);
});

test('a preflight is not granted, with or without a key', async () => {
  for (const path of [`/api/restaurants/${bistro.id}/reservations`, '/rpc/book_table']) {
    const preflight = await request(t.server)
      .options(path)
      .set('Origin', ORIGIN)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization, content-type');
    expect(preflight.status).toBeGreaterThanOrEqual(400);
    expect(corsHeaders(preflight.headers)).toEqual([]);
    const withKey = await request(t.server).options(path).set('Authorization', `Bearer ${bistro.key}`).set('Origin', ORIGIN).set('Access-Control-Request-Method', 'POST');
    expect(withKey.status).toBeGreaterThanOrEqual(400);
    expect(corsHeaders(withKey.headers)).toEqual([]);
  }
});
