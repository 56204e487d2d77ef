import { paymentStatus, refundStatus } from '@mart/proto/enums';

// The moves of a payment and of a refund, for payment-service and for db-service, which applies
// them. The status names are the proto's, which Prisma and the HTTP API spell the same.

export const paymentStatuses = paymentStatus.names;
export type PaymentStatusName = (typeof paymentStatuses)[number];

/**
 * Where a payment may go from each status. Provider outcomes can arrive late or out of order
 * (a webhook for an earlier attempt after a later success): a move not listed here is stale and
 * changes nothing. FAILED can still succeed: a provider error may hide a charge that went through.
 */
export const nextPaymentStatuses: Record<PaymentStatusName, readonly PaymentStatusName[]> = {
  REQUIRES_PAYMENT: ['PROCESSING', 'SUCCEEDED', 'FAILED'],
  PROCESSING: ['REQUIRES_PAYMENT', 'SUCCEEDED', 'FAILED'],
  FAILED: ['PROCESSING', 'SUCCEEDED'],
  SUCCEEDED: ['REFUNDED'],
  REFUNDED: [],
};

export function canMovePayment(from: PaymentStatusName, to: PaymentStatusName): boolean {
  return nextPaymentStatuses[from].includes(to);
}

export const refundStatuses = refundStatus.names;
export type RefundStatusName = (typeof refundStatuses)[number];

/** A refund is PENDING until the provider answers, and settled for good once it has. */
export const nextRefundStatuses: Record<RefundStatusName, readonly RefundStatusName[]> = {
  PENDING: ['SUCCEEDED', 'FAILED'],
  SUCCEEDED: [],
  FAILED: [],
};

export function canMoveRefund(from: RefundStatusName, to: RefundStatusName): boolean {
  return nextRefundStatuses[from].includes(to);
}
