// Structured logs. Keys must never reach a log line, so the Authorization header is redacted
// wherever a request is serialised.
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config';

/**
 * An error as a log line shows it: its class, message, SQLSTATE and stack. Never its other
 * properties: node-postgres hangs the whole client (connection parameters included) on some.
 */
export function errorForLog(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { type: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}), stack: error.stack };
}

export function createLogger(level: Config['logLevel'], destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    serializers: { err: errorForLog },
  };
  return destination ? pino(options, destination) : pino(options);
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

declare module 'node:http' {
  interface IncomingMessage {
    /** The request id (X-Request-Id). */
    id: string;
    /** A logger bound to the request: {"req":{"id","method","url"}}. */
    log: Logger;
  }
}

/**
 * Request logging with a request id: the caller's X-Request-Id when sane, else a new one. One line
 * per request when it ends (info for 2xx/3xx, warn for 4xx, error for 5xx and aborted requests),
 * with the request's id, method and path, the status and the time taken; headers never, so no
 * bearer key can reach a log. Nothing is serialised for a line the level leaves out: the
 * request's child logger is made only when something logs through it.
 */
export function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    req.id = id;
    const method = req.method;
    const url = req.originalUrl;
    let child: Logger | undefined;
    Object.defineProperty(req, 'log', { get: () => (child ??= logger.child({ req: { id, method, url } })) });
    const started = Date.now();
    const ended = () => {
      res.off('finish', ended);
      res.off('close', ended);
      const aborted = !res.writableFinished;
      const level = aborted || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      req.log[level]({ res: { statusCode: res.statusCode }, responseTime: Date.now() - started }, aborted ? 'request aborted' : 'request completed');
    };
    res.on('finish', ended);
    res.on('close', ended);
    next();
  };
}
