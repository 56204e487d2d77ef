import { randomUUID } from 'node:crypto';
import { InvalidStateError } from '@mart/common/errors';
import { isStaff, pagedReply, type Principal } from '@mart/common/http';
import type { RpcCaller } from '@mart/common/kafka';
import type { RequestedOrderStatus } from '@mart/common/domain/order';
import type { CommandReply } from '@mart/proto';
import { orderStatus } from '@mart/proto/enums';
import type { ListOrdersQuery, OrderDto, PlaceOrderBody } from './order.schemas.ts';

export function toOrderDto(order: CommandReply<'order.get'>): OrderDto {
  const address = order.shippingAddress;
  return {
    id: order.id,
    customerId: order.customerId,
    status: orderStatus.fromWireOrThrow(order.status),
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

/** Order use cases; each is one command to db-service, which applies the state machine (@mart/common/domain/order). */
export function orderService(rpc: RpcCaller, settings: { ttlSeconds: number }) {
  async function move(id: string, to: RequestedOrderStatus, viewer: Principal, requestId: string): Promise<OrderDto> {
    const request = { id, to: orderStatus.toWire(to), customerId: ownerFilter(viewer), actorId: viewer.sub };
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
        status: query.status ? orderStatus.toWire(query.status) : undefined,
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
