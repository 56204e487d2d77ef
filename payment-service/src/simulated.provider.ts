import { ValidationError } from '@mart/common/errors';
import type { PaymentProvider, PaymentRequest, ProviderPayment } from './payment.provider.ts';

// Stripe's test payment method names, so clients behave the same with and without a Stripe key.
const succeeding = new Set(['pm_card_visa', 'pm_card_visa_debit', 'pm_card_mastercard', 'pm_card_amex']);
const declined: Record<string, string> = {
  pm_card_chargeDeclined: 'Your card was declined.',
  pm_card_chargeDeclinedInsufficientFunds: 'Your card has insufficient funds.',
  pm_card_chargeDeclinedExpiredCard: 'Your card has expired.',
};

/** The provider used without a Stripe key: decides at once, in process, from the payment method's name. */
export function simulatedProvider(): PaymentProvider {
  return {
    kind: 'simulated',

    async createPayment({ paymentId, paymentMethod }: PaymentRequest): Promise<ProviderPayment> {
      const providerPaymentId = `sim_${paymentId}`;
      if (paymentMethod === undefined) return { providerPaymentId, status: 'REQUIRES_PAYMENT' };
      if (succeeding.has(paymentMethod)) return { providerPaymentId, status: 'SUCCEEDED' };
      const reason = declined[paymentMethod];
      if (reason) return { providerPaymentId, status: 'FAILED', failureReason: reason };
      throw new ValidationError([
        {
          path: 'paymentMethod',
          message: `unknown test payment method; use one of ${[...succeeding, ...Object.keys(declined)].join(', ')}`,
        },
      ]);
    },

    async refund({ refundId }) {
      // Nothing leaves the process: the refund is recorded by the caller.
      return { providerRefundId: `sim_${refundId}` };
    },
  };
}
