// One delivery attempt as the worker makes it, against real receivers: what counts as taken,
// and the reason a failed attempt records (it is what an operator reads in last_error).
import { createServer, type AddressInfo } from 'node:net';
import { post, type WebhookOptions } from '../../server/webhooks/deliver';
import { startReceiver } from './support';

const options: WebhookOptions = { timeoutMs: 10_000, allowPrivate: true };
const body = '{"type":"reservation.created"}';

test('a 2xx answer is a delivery; any other final answer is a failure named by its status', async () => {
  const statuses = [200, 204, 299, 300, 404, 500];
  const receiver = await startReceiver((n) => statuses[n]!);
  try {
    const outcomes = [];
    while (outcomes.length < statuses.length) outcomes.push(await post(receiver.url, body, { 'webhook-id': 'evt_1' }, options));
    expect(outcomes).toEqual([
      { ok: true, status: 200, error: null },
      { ok: true, status: 204, error: null },
      { ok: true, status: 299, error: null },
      { ok: false, status: 300, error: 'HTTP 300' },
      { ok: false, status: 404, error: 'HTTP 404' },
      { ok: false, status: 500, error: 'HTTP 500' },
    ]);
    const [first] = receiver.received;
    expect(first).toMatchObject({ method: 'POST', body, headers: { 'content-type': 'application/json', 'content-length': String(body.length), 'webhook-id': 'evt_1' } });
  } finally {
    await receiver.close();
  }
});

test('a receiver that does not answer in time is a failure that says how long it was given', async () => {
  const receiver = await startReceiver(() => null);
  try {
    expect(await post(receiver.url, body, {}, { ...options, timeoutMs: 300 })).toEqual({ ok: false, status: null, error: 'no answer within 300 ms' });
  } finally {
    await receiver.close();
  }
});

test('an https URL is spoken to in TLS (a plain-http listener there fails the handshake)', async () => {
  const receiver = await startReceiver();
  try {
    const outcome = await post(receiver.url.replace('http:', 'https:'), body, {}, options);
    expect(outcome).toEqual({ ok: false, status: null, error: expect.stringMatching(/SSL|TLS|EPROTO/) });
    expect(receiver.received).toEqual([]);
  } finally {
    await receiver.close();
  }
});

test('a URL that cannot receive webhooks is a failure that says why, and nothing is sent', async () => {
  // A listener that would notice any connection at all.
  let connections = 0;
  const listener = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const port = (listener.address() as AddressInfo).port;
  try {
    const production = { ...options, allowPrivate: false };
    expect(await post('not a url', body, {}, options)).toEqual({ ok: false, status: null, error: 'The webhook URL is not a valid URL.' });
    expect(await post(`ftp://127.0.0.1:${port}/`, body, {}, options)).toEqual({ ok: false, status: null, error: 'Webhooks are delivered over http or https only.' });
    expect(await post('http://nowhere.invalid/hooks', body, {}, production)).toEqual({ ok: false, status: null, error: 'nowhere.invalid does not resolve.' });
    expect(await post(`http://127.0.0.1:${port}/`, body, {}, production)).toEqual({ ok: false, status: null, error: '127.0.0.1 is not a public address.' });
    expect(await post(`http://localhost:${port}/`, body, {}, production)).toEqual({
      ok: false,
      status: null,
      error: expect.stringMatching(/^localhost resolves to (127\.0\.0\.1|::1), which is not a public address\.$/),
    });
    expect(connections).toBe(0);
  } finally {
    await new Promise((resolve) => listener.close(resolve));
  }
});

test('a receiver that drops the connection halfway through its answer is a failure at once, not a wait for the timeout', async () => {
  const receiver = createServer((socket) => {
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial'));
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    const outcome = await post(url, body, {}, { ...options, timeoutMs: 5000 });
    expect(outcome).toEqual({ ok: false, status: null, error: 'aborted' });
  } finally {
    await new Promise((resolve) => receiver.close(resolve));
  }
});
