// `npm run mcp`: the MCP tools over stdio until the host closes stdin or stops the process.
import pino from 'pino';
import { loadConfig } from '../../config';
import { createLogger } from '../logger';
import { serveStdio } from './stdio';

async function main(): Promise<void> {
  const config = loadConfig();
  const server = await serveStdio(config, createLogger(config.logLevel, pino.destination(2)));
  // stdin's end and a signal may both come: close once.
  let closing: Promise<void> | undefined;
  const stop = () => void (closing ??= server.close().then(() => process.exit(0)));
  process.stdin.once('end', stop);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
