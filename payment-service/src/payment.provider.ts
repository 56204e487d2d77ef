import type { PaymentStatusName } from '@mart/common/domain/payment';
import type { paymentProvider } from '@mart/proto/enums';

/** What Mart records about a payment, as a provider reports it; REFUNDED comes from a refund instead. */
export type ProviderStatus = Exclude<PaymentStatusName, 'REFUNDED'>;

export interface ProviderPayment {
  providerPaymentId: string;
  status: ProviderStatus;
  /** For the client to confirm the payment itself (Stripe.js) when no payment method was given. */
  clientSecret?: string;
  failureReason?: string;
}

export interface PaymentRequest {
  paymentId: string;
  orderId: string;
  amountCents: number;
  currency: string;
  /** A test payment method name such as pm_card_visa: confirm at once. */
  paymentMethod?: string;
}

/**
 * A payment provider. A declined card is an outcome (status FAILED), not an error; errors mean
 * the request itself was wrong (ValidationError) or the provider could not be reached.
 */
export interface PaymentProvider {
  readonly kind: (typeof paymentProvider.lower.names)[number];
  createPayment(request: PaymentRequest): Promise<ProviderPayment>;
  /** Gives `amountCents` back; a repeated call with the same refund id refunds once. */
  refund(request: { refundId: string; providerPaymentId: string; amountCents: number }): Promise<{ providerRefundId: string }>;
}
