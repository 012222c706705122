// What a log line may show of an error: class, message, SQLSTATE and stack, never the rest
// (node-postgres hangs its whole client, with the connection parameters, on some errors); never
// a key or cookie; and the one line each request gets when it ends.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import type { Logger } from 'pino';
import { createLogger, requestLogger } from '../../server/logger';
import { sleep, waitUntil } from '../support/wait';

function capture(level: 'info' | 'warn' = 'info') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger(level, stream), lines };
}

test('an error is logged with its message, code and stack only, whatever else it carries', () => {
  const { logger, lines } = capture();
  const error = Object.assign(new Error('terminating connection due to administrator command'), {
    code: '57P01',
    client: { connectionParameters: { password: 'secret-password', host: 'db.internal' } },
  });
  logger.warn({ err: error }, 'idle database connection failed');
  const line = JSON.parse(lines[0]!) as { err: Record<string, unknown> };
  expect(Object.keys(line.err).sort()).toEqual(['code', 'message', 'stack', 'type']);
  expect(line.err).toMatchObject({ type: 'Error', code: '57P01', message: 'terminating connection due to administrator command' });
  expect(lines[0]).not.toContain('secret-password');
});

test('something thrown that is not an Error is logged as its text', () => {
  const { logger, lines } = capture();
  logger.error({ err: 'plain text' }, 'odd failure');
  expect((JSON.parse(lines[0]!) as { err: unknown }).err).toEqual({ message: 'plain text' });
});

test('an error code that is not a string is left out', () => {
  const { logger, lines } = capture();
  logger.error({ err: Object.assign(new Error('odd'), { code: 42 }) }, 'odd failure');
  expect(Object.keys((JSON.parse(lines[0]!) as { err: Record<string, unknown> }).err).sort()).toEqual(['message', 'stack', 'type']);
});

test('a request serialised with its headers shows neither the key nor the cookie', () => {
  const { logger, lines } = capture();
  logger.info({ req: { headers: { authorization: 'Bearer nora_secret', cookie: 'session=secret', accept: '*/*' } } }, 'request');
  expect((JSON.parse(lines[0]!) as { req: unknown }).req).toEqual({ headers: { authorization: '[redacted]', cookie: '[redacted]', accept: '*/*' } });
});

describe('the line each request gets when it ends', () => {
  interface Line {
    level: number;
    msg: string;
    req: { id: string; method: string; url: string };
    res?: { statusCode: number };
    responseTime?: number;
  }

  async function serve(logger: Logger) {
    const app = express();
    app.use(requestLogger(logger));
    app.get('/status/:code', (req, res) => void res.sendStatus(Number(req.params.code)));
    app.get('/inside', (req, res) => {
      req.log.info('handling');
      res.json({ logEnumerable: Object.keys(req).includes('log') });
    });
    app.get('/hang', () => undefined);
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  const parsed = (lines: string[]) => lines.map((line) => JSON.parse(line) as Line);
  const until = (check: () => boolean) => waitUntil(check, 5000, 10);

  test.each([
    [200, 30],
    [304, 30],
    [399, 30],
    [400, 40],
    [499, 40],
    [500, 50],
    [503, 50],
  ])('status %i is logged once at level %i with the request id, method, path, status and time', async (status, level) => {
    const { logger, lines } = capture();
    const { server, url } = await serve(logger);
    try {
      await (await fetch(`${url}/status/${status}?x=1`, { headers: { 'x-request-id': `call-${status}` } })).arrayBuffer();
      await until(() => lines.length > 0);
      // 'close' follows 'finish': a second line would show the handler was not taken off.
      await sleep(50);
      const [line, ...more] = parsed(lines);
      expect(more).toEqual([]);
      expect(line).toEqual({
        level,
        time: expect.any(Number),
        pid: process.pid,
        hostname: expect.any(String),
        req: { id: `call-${status}`, method: 'GET', url: `/status/${status}?x=1` },
        res: { statusCode: status },
        responseTime: expect.any(Number),
        msg: 'request completed',
      });
      expect(line!.responseTime).toBeGreaterThanOrEqual(0);
      expect(line!.responseTime).toBeLessThan(60_000);
    } finally {
      server.close();
    }
  });

  test('a request the client gives up on is logged as aborted, at error', async () => {
    const { logger, lines } = capture();
    const { server, url } = await serve(logger);
    try {
      const gaveUp = new AbortController();
      const answer = fetch(`${url}/hang`, { signal: gaveUp.signal }).catch(() => 'aborted');
      await sleep(100);
      gaveUp.abort();
      expect(await answer).toBe('aborted');
      await until(() => lines.length > 0);
      expect(parsed(lines)).toEqual([expect.objectContaining({ level: 50, msg: 'request aborted', req: expect.objectContaining({ url: '/hang' }) })]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test('what a handler logs carries the request, which shows no logger of its own', async () => {
    const { logger, lines } = capture();
    const { server, url } = await serve(logger);
    try {
      const res = await fetch(`${url}/inside`, { headers: { 'x-request-id': 'call-inside' } });
      expect(await res.json()).toEqual({ logEnumerable: false });
      await until(() => lines.length > 1);
      expect(parsed(lines)[0]).toMatchObject({ level: 30, msg: 'handling', req: { id: 'call-inside', method: 'GET', url: '/inside' } });
    } finally {
      server.close();
    }
  });

  test('below the logger level nothing is written, nor a child logger made', async () => {
    const { logger, lines } = capture('warn');
    const child = jest.spyOn(logger, 'child');
    const { server, url } = await serve(logger);
    try {
      await (await fetch(`${url}/status/200`)).arrayBuffer();
      await sleep(50);
      expect(lines).toEqual([]);
      expect(child).not.toHaveBeenCalled();
      await (await fetch(`${url}/status/404`)).arrayBuffer();
      await until(() => lines.length > 0);
      expect(parsed(lines)).toEqual([expect.objectContaining({ level: 40, res: { statusCode: 404 } })]);
    } finally {
      server.close();
    }
  });
});
