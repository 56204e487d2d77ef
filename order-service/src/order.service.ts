import { randomUUID } from 'node:crypto';
import { InvalidStateError } from '@mart/common/errors';
import { isStaff, pagedReply, type Principal } from '@mart/common/http';
import type { RpcCaller } from '@mart/common/kafka';
import { mart, type CommandReply } from '@mart/proto';
import type { ListOrdersQuery, OrderDto, OrderStatusName, PlaceOrderBody } from './order.schemas.ts';

const { OrderStatus } = mart.order;
const toWire: Record<OrderStatusName, mart.order.OrderStatus> = {
  PENDING_PAYMENT: OrderStatus.ORDER_STATUS_PENDING_PAYMENT,
  PAID: OrderStatus.ORDER_STATUS_PAID,
  SHIPPED: OrderStatus.ORDER_STATUS_SHIPPED,
  DELIVERED: OrderStatus.ORDER_STATUS_DELIVERED,
  CANCELLED: OrderStatus.ORDER_STATUS_CANCELLED,
  REFUNDED: OrderStatus.ORDER_STATUS_REFUNDED,
};
const fromWire = new Map(Object.entries(toWire).map(([name, value]) => [value, name as OrderStatusName]));

export function statusName(status: mart.order.OrderStatus): OrderStatusName {
  const name = fromWire.get(status);
  if (!name) throw new Error(`db-service sent an order without a known status (${status})`);
  return name;
}

export function toOrderDto(order: CommandReply<'order.get'>): OrderDto {
  const address = order.shippingAddress;
  return {
    id: order.id,
    customerId: order.customerId,
    status: statusName(order.status),
    items: order.items.map((item) => ({
      productId: item.productId ?? '',
      quantity: Number(item.quantity),
      unitPriceCents: Number(item.unitPriceCents),
      sku: item.sku ?? '',
      name: item.name ?? '',
    })),
    totalCents: order.totalCents,
    currency: order.currency,
    shippingAddress: {
      line1: address?.line1 ?? '',
      ...(address?.line2 ? { line2: address.line2 } : {}),
      city: address?.city ?? '',
      postalCode: address?.postalCode ?? '',
      country: address?.country ?? '',
    },
    createdAt: order.createdAt,
    expiresAt: order.expiresAt,
    updatedAt: order.updatedAt,
  };
}

/** A customer is limited to their own orders; staff see every order. */
function ownerFilter(viewer: Principal): string | undefined {
  return isStaff(viewer) ? undefined : viewer.sub;
}

/** Order use cases; each is one command to db-service, which owns the state machine. */
export function orderService(rpc: RpcCaller, settings: { ttlSeconds: number }) {
  async function move(id: string, to: OrderStatusName, viewer: Principal, requestId: string): Promise<OrderDto> {
    const request = { id, to: toWire[to], customerId: ownerFilter(viewer), actorId: viewer.sub };
    return toOrderDto(await rpc.call('order.transition', request, { requestId }));
  }

  return {
    /** Prices, stock and the idempotency check are all db-service's, in one transaction. */
    async place(customer: Principal, body: PlaceOrderBody, idempotencyKey: string | undefined, requestId: string): Promise<OrderDto> {
      const request = {
        id: randomUUID(),
        customerId: customer.sub,
        lines: body.items,
        shippingAddress: body.shippingAddress,
        idempotencyKey,
        ttlSeconds: settings.ttlSeconds,
      };
      return toOrderDto(await rpc.call('order.place', request, { requestId }));
    },

    async get(id: string, viewer: Principal, requestId: string): Promise<OrderDto> {
      return toOrderDto(await rpc.call('order.get', { id, customerId: ownerFilter(viewer) }, { requestId }));
    },

    async list(query: ListOrdersQuery, viewer: Principal, requestId: string) {
      const request = {
        page: { page: query.page, pageSize: query.pageSize },
        customerId: ownerFilter(viewer) ?? query.customerId,
        status: query.status ? toWire[query.status] : undefined,
      };
      const result = await rpc.call('order.list', request, { requestId });
      return pagedReply(result, query, (order) => toOrderDto(order as CommandReply<'order.get'>));
    },

    async cancel(id: string, viewer: Principal, requestId: string): Promise<OrderDto> {
      try {
        return await move(id, 'CANCELLED', viewer, requestId);
      } catch (error) {
        // Only an unpaid order can be cancelled; once paid, the way back is a refund.
        if (error instanceof InvalidStateError && isStaff(viewer)) {
          throw new InvalidStateError(`${error.message}; refund its payment instead (POST /payments/:id/refund)`, error.details);
        }
        throw error;
      }
    },

    ship: (id: string, viewer: Principal, requestId: string) => move(id, 'SHIPPED', viewer, requestId),
    deliver: (id: string, viewer: Principal, requestId: string) => move(id, 'DELIVERED', viewer, requestId),
  };
}
