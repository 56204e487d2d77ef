import Stripe from 'stripe';
import { ConflictError, UnavailableError, ValidationError } from '@mart/common/errors';
import type { PaymentConfig } from './config.ts';
import type { PaymentProvider, PaymentRequest, ProviderPayment, ProviderStatus } from './payment.provider.ts';

/** The Stripe SDK client, pointed at STRIPE_API_HOST/PORT/PROTOCOL when set (a local fake in tests). */
export function createStripeClient(config: PaymentConfig & { STRIPE_SECRET_KEY: string }): Stripe {
  return new Stripe(config.STRIPE_SECRET_KEY, {
    maxNetworkRetries: config.STRIPE_MAX_NETWORK_RETRIES,
    timeout: config.STRIPE_TIMEOUT_MS,
    ...(config.STRIPE_API_HOST ? { host: config.STRIPE_API_HOST } : {}),
    ...(config.STRIPE_API_PORT ? { port: config.STRIPE_API_PORT } : {}),
    ...(config.STRIPE_API_PROTOCOL ? { protocol: config.STRIPE_API_PROTOCOL } : {}),
  });
}

/** Stripe's key for one Mart payment: a retried request returns the same PaymentIntent, never a second charge. */
export function paymentIdempotencyKey(paymentId: string): string {
  return `mart-payment-${paymentId}`;
}

/** Stripe's key for one Mart refund: settling a refund again (a redelivered event, a retry) refunds once. */
export function refundIdempotencyKey(refundId: string): string {
  return `mart-refund-${refundId}`;
}

/** A PaymentIntent's state in Mart's terms. */
export function outcomeOf(intent: Stripe.PaymentIntent): { status: ProviderStatus; failureReason?: string } {
  switch (intent.status) {
    case 'succeeded':
      return { status: 'SUCCEEDED' };
    case 'processing':
      return { status: 'PROCESSING' };
    case 'canceled':
      return { status: 'FAILED', failureReason: `canceled${intent.cancellation_reason ? ` (${intent.cancellation_reason})` : ''}` };
    case 'requires_payment_method':
      // Back to requires_payment_method after a confirmation means that attempt failed.
      return intent.last_payment_error
        ? { status: 'FAILED', failureReason: intent.last_payment_error.message ?? 'payment failed' }
        : { status: 'REQUIRES_PAYMENT' };
    case 'requires_action':
    case 'requires_capture':
    case 'requires_confirmation':
      return { status: 'REQUIRES_PAYMENT' };
    default:
      // A status newer than this code: keep the order blocked for other attempts; the webhook settles it.
      return { status: 'PROCESSING' };
  }
}

function toProviderError(error: unknown): Error {
  if (error instanceof Stripe.errors.StripeInvalidRequestError) {
    const path = error.param === 'payment_method' ? 'paymentMethod' : 'body';
    return new ValidationError([{ path, message: `Stripe refused the request: ${error.message}` }]);
  }
  return new UnavailableError(`Stripe is unavailable: ${(error as Error).message}`);
}

export function stripeProvider(stripe: Stripe): PaymentProvider {
  return {
    kind: 'stripe',

    async createPayment({ paymentId, orderId, amountCents, currency, paymentMethod }: PaymentRequest): Promise<ProviderPayment> {
      try {
        const intent = await stripe.paymentIntents.create(
          {
            amount: amountCents,
            currency: currency.toLowerCase(),
            metadata: { orderId, paymentId },
            // Server-side confirmation with a card: no redirect-based methods, so no return_url.
            automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
            ...(paymentMethod ? { payment_method: paymentMethod, confirm: true } : {}),
          },
          { idempotencyKey: paymentIdempotencyKey(paymentId) },
        );
        return {
          providerPaymentId: intent.id,
          ...outcomeOf(intent),
          ...(intent.client_secret ? { clientSecret: intent.client_secret } : {}),
        };
      } catch (error) {
        // A decline is an answer, not a failure: Stripe reports it as a card error carrying the intent.
        if (error instanceof Stripe.errors.StripeCardError && error.payment_intent) {
          return { providerPaymentId: error.payment_intent.id, status: 'FAILED', failureReason: error.message };
        }
        throw toProviderError(error);
      }
    },

    async refund({ refundId, providerPaymentId, amountCents }) {
      let refund: Stripe.Refund;
      try {
        refund = await stripe.refunds.create(
          { payment_intent: providerPaymentId, amount: amountCents },
          { idempotencyKey: refundIdempotencyKey(refundId) },
        );
      } catch (error) {
        throw toProviderError(error);
      }
      if (refund.status === 'failed' || refund.status === 'canceled') {
        throw new ConflictError(`Stripe could not refund ${providerPaymentId}: ${refund.failure_reason ?? refund.status}`);
      }
      return { providerRefundId: refund.id };
    },
  };
}
