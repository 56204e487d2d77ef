import { InvalidStateError, commandIdFor, type EventHandlers, type EventMeta, type Logger, type RpcClient } from '@mart/common';
import { mart } from '@mart/proto';
import { statusName } from './order.service.ts';
import type { OrderStatusName } from './order.schemas.ts';

type Rpc = Pick<RpcClient, 'call'>;

const { PaymentStatus } = mart.payment;
const { OrderStatus } = mart.order;

/** The order state a payment outcome moves its order to; other outcomes leave the order alone. */
const orderStateFor: Partial<Record<mart.payment.PaymentStatus, { to: mart.order.OrderStatus; name: OrderStatusName }>> = {
  [PaymentStatus.PAYMENT_STATUS_SUCCEEDED]: { to: OrderStatus.ORDER_STATUS_PAID, name: 'PAID' },
  [PaymentStatus.PAYMENT_STATUS_REFUNDED]: { to: OrderStatus.ORDER_STATUS_REFUNDED, name: 'REFUNDED' },
};

/** States an order reaches only after being paid: a late "succeeded" for it is already applied. */
const pastPaid: readonly OrderStatusName[] = ['SHIPPED', 'DELIVERED', 'REFUNDED'];

/**
 * Orders follow their payments. The command id comes from the event id, so a redelivered event
 * moves the order once; a move the state machine refuses is logged and the event counts as handled.
 */
export function orderEventHandlers({ rpc, logger }: { rpc: Rpc; logger: Logger }): EventHandlers {
  async function follow(orderId: string, target: { to: mart.order.OrderStatus; name: OrderStatusName }, meta: EventMeta) {
    const purpose = `order-${target.name.toLowerCase()}`;
    try {
      await rpc.call(
        'order.transition',
        { id: orderId, to: target.to },
        { commandId: commandIdFor(meta.eventId, purpose), requestId: meta.eventId },
      );
    } catch (error) {
      if (!(error instanceof InvalidStateError)) throw error;
      const order = await rpc.call('order.get', { id: orderId }, { requestId: meta.eventId });
      const current = statusName(order.status);
      if (target.name === 'PAID' && pastPaid.includes(current)) return;
      // Typically a payment that succeeded after its order expired: the money needs a refund (a later flow).
      logger.warn(
        { orderId, orderStatus: current, wanted: target.name, eventId: meta.eventId },
        'payment outcome does not fit the order; left as is',
      );
    }
  }

  return {
    'payment.status-changed': async (event, meta) => {
      const target = orderStateFor[event.payment?.status ?? PaymentStatus.PAYMENT_STATUS_UNSPECIFIED];
      const orderId = event.payment?.orderId;
      if (!target || !orderId) return;
      await follow(orderId, target, meta);
    },
  };
}
