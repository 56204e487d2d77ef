import { paymentStatuses, refundStatuses } from '@mart/common/domain/payment';
import { pageOf, pageQuery, uuidSchema, z } from '@mart/common/zod';
import { paymentProvider } from '@mart/proto/enums';

export const paymentStatusSchema = z.enum(paymentStatuses);
export const refundStatusSchema = z.enum(refundStatuses);
export const paymentProviderSchema = z.enum(paymentProvider.lower.names);

export const refundSchema = z
  .object({
    id: uuidSchema,
    amountCents: z.number().int(),
    reason: z.string(),
    status: refundStatusSchema,
    providerRefundId: z.string().nullable(),
    failureReason: z.string().nullable(),
    actorId: uuidSchema.nullable().openapi({ description: 'The staff user who asked for it; null when Mart refunded on its own' }),
    createdAt: z.string().openapi({ format: 'date-time' }),
    updatedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Refund');

export const paymentSchema = z
  .object({
    id: uuidSchema,
    orderId: uuidSchema,
    customerId: uuidSchema,
    amountCents: z.number().int().openapi({ description: 'From the order, in minor units', example: 1999 }),
    currency: z.string().openapi({ example: 'USD' }),
    provider: paymentProviderSchema,
    status: paymentStatusSchema,
    providerPaymentId: z.string().nullable().openapi({ description: "The provider's id: a Stripe PaymentIntent (pi_...) or sim_..." }),
    clientSecret: z.string().optional().openapi({ description: 'Stripe only, when no payment method was given: confirm with Stripe.js' }),
    failureReason: z.string().nullable(),
    refundedCents: z.number().int().openapi({ description: 'Given back so far; the payment is REFUNDED once it reaches amountCents' }),
    refunds: z.array(refundSchema).openapi({ description: 'Every refund asked for, oldest first' }),
    createdAt: z.string().openapi({ format: 'date-time' }),
    updatedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Payment');

export const createPaymentBody = z
  .object({
    orderId: uuidSchema,
    paymentMethod: z
      .string()
      .regex(/^pm_[A-Za-z0-9_]{1,100}$/, 'expected a payment method id such as pm_card_visa')
      .optional()
      .openapi({ description: 'Confirm at once with this method (pm_card_visa succeeds, pm_card_chargeDeclined fails)' }),
  })
  .strict()
  .openapi('CreatePayment');

export const listPaymentsQuery = pageQuery.extend({ orderId: uuidSchema.optional() });

export const paymentPageSchema = pageOf(paymentSchema, 'PaymentPage');

export const webhookReplySchema = z.object({ received: z.boolean(), handled: z.boolean() });

export type PaymentDto = z.infer<typeof paymentSchema>;
export type RefundDto = z.infer<typeof refundSchema>;
export type CreatePaymentBody = z.infer<typeof createPaymentBody>;
export type ListPaymentsQuery = z.infer<typeof listPaymentsQuery>;
