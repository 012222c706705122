// The security headers helmet would set, on every answer: worked out once at start-up (they do
// not vary per request), compared here with helmet itself running on a request.
import { createServer } from 'node:http';
import helmet from 'helmet';
import { startTestApi, tenant, type ApiUnderTest } from './support';

let t: ApiUnderTest;
let expected: Record<string, string>;
beforeAll(async () => {
  t = await startTestApi();
  const reference = createServer((req, res) =>
    helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } })(req, res, () => res.end()),
  );
  await new Promise<void>((resolve) => reference.listen(0, '127.0.0.1', resolve));
  const res = await fetch(`http://127.0.0.1:${(reference.address() as { port: number }).port}/`);
  expected = {};
  for (const [name, value] of res.headers) if (!['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(name)) expected[name] = value;
  await new Promise((resolve) => reference.close(resolve));
});
afterAll(() => t.close());

test('every kind of answer carries exactly helmet headers', async () => {
  expect(Object.keys(expected)).toEqual(expect.arrayContaining(['content-security-policy', 'strict-transport-security', 'x-content-type-options', 'x-frame-options']));
  const bistro = await tenant(t.db);
  const answers = [
    await t.api.get('/health').expect(200),
    await t.api.get(`/api/restaurants/${bistro.id}/clients`, bistro.key).expect(200),
    await t.api.get(`/api/restaurants/${bistro.id}/clients`).expect(401),
    await t.api.get('/nowhere', bistro.key).expect(404),
  ];
  for (const res of answers) {
    for (const [name, value] of Object.entries(expected)) expect([res.status, name, res.headers[name]]).toEqual([res.status, name, value]);
    expect(res.headers['x-powered-by']).toBeUndefined();
  }
});
