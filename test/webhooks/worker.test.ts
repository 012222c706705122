// The graphile-worker runner's own pieces: its log lines in ours, and the periodic tasks it
// schedules. (Its pool and signals are tested while it delivers: delivery.test.ts.)
import { parseCrontab } from 'graphile-worker';
import { crontab } from '../../server/worker/tasks';
import { workerLogger } from '../../server/worker';
import { captureLogs } from './support';

test("graphile-worker's log lines are ours at the same level, with its scope and details", () => {
  const { lines, logger } = captureLogs();
  const log = workerLogger(logger).scope({ label: 'job', taskIdentifier: 'deliver_webhook' });
  log.error('failed', { attempts: 2 });
  log.warn('slow');
  log.info('started');
  log.debug('polled');
  expect(lines.map(({ level, msg, worker }) => [level, msg, worker])).toEqual([
    [50, 'failed', { label: 'job', taskIdentifier: 'deliver_webhook', attempts: 2 }],
    [40, 'slow', { label: 'job', taskIdentifier: 'deliver_webhook' }],
    [30, 'started', { label: 'job', taskIdentifier: 'deliver_webhook' }],
    [20, 'polled', { label: 'job', taskIdentifier: 'deliver_webhook' }],
  ]);
});

test('each periodic task runs every minute, with no retry of a failed run and no backlog after downtime', () => {
  const items = parseCrontab(crontab);
  expect(items.map((item) => [item.task, item.options.maxAttempts, item.options.backfillPeriod])).toEqual([
    ['expire_holds', 1, 0],
    ['enqueue_webhooks', 1, 0],
  ]);
  const minute = (m: number) => ({ min: m, hour: 13, date: 5, month: 12, dow: 6 });
  for (const item of items) expect([0, 1, 37, 59].map((m) => item.match(minute(m)))).toEqual([true, true, true, true]);
});
