// What a log line may show of an error: class, message, SQLSTATE and stack, never the rest
// (node-postgres hangs its whole client, with the connection parameters, on some errors).
import { Writable } from 'node:stream';
import { createLogger } from '../../server/logger';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
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
