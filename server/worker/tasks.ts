// Everything graphile-worker runs, in one place: the task list (identifier → handler) and the
// crontab of periodic tasks. To add a task, add it to `taskList`; to run one periodically, add a
// crontab line (graphile-worker's syntax: minute hour day month weekday task ?options payload).
import type { TaskList } from 'graphile-worker';
import type { Config } from '../../config';
import { deliverWebhook } from '../webhooks/deliver';

export function taskList(config: Pick<Config, 'webhooks'>): TaskList {
  return {
    // One webhook event to one endpoint; enqueued by booking_private.emit_event, or by the sweep.
    deliver_webhook: deliverWebhook(config.webhooks),
    // The deliveries written without a job (by an outbox trigger on a Citus worker, where the
    // queue is not) get theirs; on one PostgreSQL there are none (README, Citus).
    enqueue_webhooks: async (_payload, helpers) => {
      await helpers.withPgClient((client) => client.query('select booking_private.enqueue_webhook_deliveries()'));
    },
    // Lapsed holds marked expired (their waitlist offers go to the next entry) and waitlist
    // entries past their window expired. Booking never waits for it: a lapsed hold blocks
    // nothing already.
    expire_holds: async (_payload, helpers) => {
      await helpers.withPgClient((client) => client.query('select booking.expire_holds()'));
    },
  };
}

export const crontab = [
  // Every minute. ?max=1: a failed run is not retried, the next minute's run is the retry; and
  // without ?fill, no backlog of missed runs after downtime (each run does all that is due).
  '* * * * * expire_holds ?max=1',
  '* * * * * enqueue_webhooks ?max=1',
].join('\n');
