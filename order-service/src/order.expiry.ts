import type { BackgroundJob, Logger, RpcClient } from '@mart/common';

type Rpc = Pick<RpcClient, 'call'>;

/** Orders cancelled per command, so one command never holds many row locks for long. */
export const expiryBatchSize = 100;

/** Cancels every unpaid order past its expiresAt, one batch per command; returns how many. */
export async function expireDueOrders(rpc: Rpc, stopped: () => boolean = () => false): Promise<number> {
  let total = 0;
  for (;;) {
    const { expired } = await rpc.call('order.expire', { limit: expiryBatchSize });
    total += expired;
    if (expired < expiryBatchSize || stopped()) return total;
  }
}

/**
 * Runs expireDueOrders every `intervalMs`. db-service picks the orders (FOR UPDATE SKIP LOCKED),
 * so several order-service instances running this job is safe; inventory-service then releases
 * their stock when it sees each order.status-changed.
 */
export function orderExpiryJob({ rpc, logger, intervalMs }: { rpc: Rpc; logger: Logger; intervalMs: number }): BackgroundJob {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = expireDueOrders(rpc, () => stopped)
        .then((expired) => {
          if (expired > 0) logger.info({ expired }, 'cancelled unpaid orders past their expiry');
        })
        // A failed run (db-service restarting, say) is simply tried again at the next tick.
        .catch((error: unknown) => logger.warn({ err: error }, 'expiring unpaid orders failed'))
        .finally(schedule);
    }, intervalMs);
  }

  return {
    name: 'order-expiry',
    start: () => {
      stopped = false;
      schedule();
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
