// Everything graphile-worker runs, in one place: the task list (identifier → handler) and the
// crontab of periodic tasks. To add a task, add it to `taskList`; to run one periodically, add a
// crontab line (graphile-worker's syntax: minute hour day month weekday task ?options payload),
// e.g. '* * * * * sweep_holds ?max=1' for a sweep every minute.
import type { TaskList } from 'graphile-worker';
import type { Config } from '../config';
import { deliverWebhook } from '../webhooks/deliver';

export function taskList(config: Pick<Config, 'webhooks'>): TaskList {
  return {
    // One webhook event to one endpoint; enqueued by booking_private.emit_event.
    deliver_webhook: deliverWebhook(config.webhooks),
  };
}

export const crontab = [
  // Periodic tasks, one line each.
].join('\n');
