import { orderStatus } from '@mart/proto/enums';

// An order's statuses, the moves between them and the limits of an order, for the HTTP edge and
// for db-service. The status names are the proto's, which Prisma and the HTTP API spell the same.

export const orderStatuses = orderStatus.names;
export type OrderStatusName = (typeof orderStatuses)[number];

/** docs/API.md's state machine: where an order may go from each status. Any other move is invalid_state. */
export const nextOrderStatuses: Record<OrderStatusName, readonly OrderStatusName[]> = {
  PENDING_PAYMENT: ['PAID', 'CANCELLED'],
  PAID: ['SHIPPED', 'REFUNDED'],
  SHIPPED: ['DELIVERED'],
  DELIVERED: [],
  CANCELLED: [],
  REFUNDED: [],
};

export function canMoveOrder(from: OrderStatusName, to: OrderStatusName): boolean {
  return nextOrderStatuses[from].includes(to);
}

/** The moves a request may ask for; PAID and REFUNDED follow from payments, never from a request. */
export const requestedOrderStatuses = ['CANCELLED', 'SHIPPED', 'DELIVERED'] as const satisfies readonly OrderStatusName[];
export type RequestedOrderStatus = (typeof requestedOrderStatuses)[number];

export const orderLimits = {
  lines: 50,
  quantity: 1000,
  idempotencyKey: 200,
  /** How long an unpaid order may hold its stock at most. */
  ttlSeconds: 7 * 24 * 3600,
} as const;
