import { commandIdFor, type EventHandlers, type RpcClient } from '@mart/common';
import { mart } from '@mart/proto';

type Rpc = Pick<RpcClient, 'call'>;

type StockCommand = 'inventory.commit-reservations' | 'inventory.release-reservations' | 'inventory.return-reservations';

const { OrderStatus } = mart.order;

/** What an order's new state does to the stock it reserved; other states leave stock alone. */
export const stockCommandFor: Partial<Record<mart.order.OrderStatus, StockCommand>> = {
  [OrderStatus.ORDER_STATUS_PAID]: 'inventory.commit-reservations',
  [OrderStatus.ORDER_STATUS_CANCELLED]: 'inventory.release-reservations',
  [OrderStatus.ORDER_STATUS_REFUNDED]: 'inventory.return-reservations',
};

/**
 * Stock follows orders. Each move acts only on reservations still in the state it expects, and
 * its command id comes from the event id, so a redelivered event changes nothing twice.
 */
export function inventoryEventHandlers({ rpc }: { rpc: Rpc }): EventHandlers {
  return {
    'order.status-changed': async (event, meta) => {
      const orderId = event.order?.id;
      const command = stockCommandFor[event.order?.status ?? OrderStatus.ORDER_STATUS_UNSPECIFIED];
      if (!orderId || !command) return;
      await rpc.call(command, { orderId }, { commandId: commandIdFor(meta.eventId, command), requestId: meta.eventId });
    },
  };
}
