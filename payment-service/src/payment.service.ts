import { randomUUID } from 'node:crypto';
import { NotFoundError, UnavailableError } from '@mart/common/errors';
import { pagedReply } from '@mart/common/http';
import { commandIdFor, type EventHandlers, type RpcCaller } from '@mart/common/kafka';
import type { Logger } from '@mart/common/logger';
import type { mart, CommandReply } from '@mart/proto';
import { paymentProvider, paymentStatus, refundStatus } from '@mart/proto/enums';
import type { PaymentProvider, ProviderPayment } from './payment.provider.ts';
import type { CreatePaymentBody, ListPaymentsQuery, PaymentDto, RefundDto } from './payment.schemas.ts';
import type { WebhookOutcome } from './stripe.webhook.ts';

type Payment = CommandReply<'payment.get'>;

function toRefundDto(refund: mart.payment.IRefund): RefundDto {
  return {
    id: refund.id ?? '',
    amountCents: Number(refund.amountCents ?? 0),
    reason: refund.reason ?? '',
    status: refundStatus.fromWireOrThrow(refund.status),
    providerRefundId: refund.providerRefundId ?? null,
    failureReason: refund.failureReason ?? null,
    actorId: refund.actorId || null,
    createdAt: refund.createdAt ?? '',
    updatedAt: refund.updatedAt ?? '',
  };
}

export function toPaymentDto(payment: Payment, clientSecret?: string): PaymentDto {
  return {
    id: payment.id,
    orderId: payment.orderId,
    customerId: payment.customerId,
    amountCents: payment.amountCents,
    currency: payment.currency,
    provider: paymentProvider.lower.fromWireOrThrow(payment.provider),
    status: paymentStatus.fromWireOrThrow(payment.status),
    providerPaymentId: payment.providerPaymentId ?? null,
    ...(clientSecret ? { clientSecret } : {}),
    failureReason: payment.failureReason ?? null,
    refundedCents: payment.refundedCents,
    refunds: payment.refunds.map(toRefundDto),
    createdAt: payment.createdAt,
    updatedAt: payment.updatedAt,
  };
}

export interface PaymentServiceDeps {
  rpc: RpcCaller;
  provider: PaymentProvider;
  logger: Logger;
}

/** Payment use cases: Mart records each step in db-service; the provider moves the money. */
export function paymentService({ rpc, provider, logger }: PaymentServiceDeps) {
  const providerCode = paymentProvider.lower.toWire(provider.kind);

  /** Step 1: check the order is the customer's and payable, and record the attempt (amount from the order). */
  function recordAttempt(orderId: string, customerId: string, confirmNow: boolean, requestId: string) {
    return rpc.call('payment.create', { id: randomUUID(), orderId, customerId, provider: providerCode, confirmNow }, { requestId });
  }

  /** Step 2: ask the provider. A failure after a confirmation may have started leaves the attempt FAILED, not stuck. */
  async function askProvider(payment: Payment, paymentMethod: string | undefined, requestId: string): Promise<ProviderPayment> {
    try {
      return await provider.createPayment({
        paymentId: payment.id,
        orderId: payment.orderId,
        amountCents: payment.amountCents,
        currency: payment.currency,
        ...(paymentMethod ? { paymentMethod } : {}),
      });
    } catch (error) {
      // Should the charge have gone through after all, Stripe's webhook still moves it to SUCCEEDED.
      await rpc
        .call(
          'payment.record-outcome',
          { id: payment.id, status: paymentStatus.toWire('FAILED'), failureReason: `provider error: ${(error as Error).message}` },
          { requestId },
        )
        .catch((recordError: unknown) => logger.error({ err: recordError, paymentId: payment.id }, 'could not mark the payment failed'));
      throw error;
    }
  }

  /** Step 3: record what the provider said; the webhook may report the same outcome, which then changes nothing. */
  function recordProviderAnswer(payment: Payment, answer: ProviderPayment, requestId: string): Promise<Payment> {
    if (answer.status === 'REQUIRES_PAYMENT') {
      return rpc.call('payment.attach-provider-payment', { id: payment.id, providerPaymentId: answer.providerPaymentId }, { requestId });
    }
    return rpc.call(
      'payment.record-outcome',
      {
        id: payment.id,
        providerPaymentId: answer.providerPaymentId,
        status: paymentStatus.toWire(answer.status),
        failureReason: answer.failureReason,
      },
      { requestId },
    );
  }

  /**
   * Asks the provider for a recorded PENDING refund and records its answer. The provider's
   * idempotency key is the refund id, so settling one refund again never pays twice. An
   * unreachable provider leaves the refund PENDING (the next try settles it); a refusal is FAILED.
   */
  async function settleRefund(refund: mart.payment.IRefund, providerPaymentId: string, requestId: string): Promise<Payment> {
    const refundId = refund.id ?? '';
    let answer: { providerRefundId: string };
    try {
      answer = await provider.refund({ refundId, providerPaymentId, amountCents: Number(refund.amountCents ?? 0) });
    } catch (error) {
      if (!(error instanceof UnavailableError)) {
        await rpc.call('payment.record-refund', { refundId, succeeded: false, failureReason: (error as Error).message }, { requestId });
      }
      throw error;
    }
    return rpc.call('payment.record-refund', { refundId, succeeded: true, providerRefundId: answer.providerRefundId }, { requestId });
  }

  return {
    async create(body: CreatePaymentBody, customerId: string, requestId: string): Promise<PaymentDto> {
      const attempt = await recordAttempt(body.orderId, customerId, body.paymentMethod !== undefined, requestId);
      const answer = await askProvider(attempt, body.paymentMethod, requestId);
      const recorded = await recordProviderAnswer(attempt, answer, requestId);
      return toPaymentDto(recorded, answer.clientSecret);
    },

    async get(id: string, customerId: string | undefined, requestId: string): Promise<PaymentDto> {
      return toPaymentDto(await rpc.call('payment.get', { id, customerId }, { requestId }));
    },

    async list(query: ListPaymentsQuery, customerId: string | undefined, requestId: string) {
      const result = await rpc.call(
        'payment.list',
        { page: { page: query.page, pageSize: query.pageSize }, orderId: query.orderId, customerId },
        { requestId },
      );
      return pagedReply(result, query, (payment) => toPaymentDto(payment as Payment));
    },

    /** Refunds what remains of a succeeded payment: recorded as PENDING first, so a failure half-way is settled by the next try. */
    async refund(id: string, actorId: string, requestId: string): Promise<PaymentDto> {
      const { payment, refund } = await rpc.call(
        'payment.request-refund',
        { paymentId: id, refundId: randomUUID(), reason: 'refund requested by staff', actorId },
        { requestId },
      );
      return toPaymentDto(await settleRefund(refund ?? {}, payment?.providerPaymentId ?? '', requestId));
    },

    /**
     * A refund db-service recorded on its own. What the provider is asked for comes from
     * db-service, never from the event: only a refund still PENDING there is settled, once.
     */
    async settleRequested(requested: { paymentId: string; refundId: string }, requestId: string): Promise<void> {
      const payment = await rpc.call('payment.get', { id: requested.paymentId }, { requestId });
      const refund = payment.refunds.find((candidate) => candidate.id === requested.refundId);
      if (!refund) throw new NotFoundError(`Refund ${requested.refundId} of payment ${requested.paymentId} not found`);
      if (refundStatus.fromWire(refund.status) !== 'PENDING') return;
      await settleRefund(refund, payment.providerPaymentId ?? '', requestId);
    },

    /** Applies a verified Stripe event once: the event id is the command id and is recorded with the change. */
    async applyWebhook(outcome: WebhookOutcome, requestId: string): Promise<boolean> {
      try {
        await rpc.call(
          'payment.record-outcome',
          {
            id: outcome.paymentId,
            providerPaymentId: outcome.providerPaymentId,
            status: paymentStatus.toWire(outcome.status),
            failureReason: outcome.failureReason,
            webhookEventId: outcome.eventId,
            webhookEventType: outcome.eventType,
          },
          { requestId, commandId: commandIdFor(outcome.eventId, 'stripe-webhook') },
        );
        return true;
      } catch (error) {
        // Not one of Mart's payments (another integration on the same Stripe account): acknowledge
        // it, or Stripe would redeliver it for days.
        if (error instanceof NotFoundError) {
          logger.warn({ event: outcome.eventId, providerPaymentId: outcome.providerPaymentId }, 'webhook for an unknown payment ignored');
          return false;
        }
        throw error;
      }
    },
  };
}

export type PaymentService = ReturnType<typeof paymentService>;

/**
 * Refunds db-service asks for on its own (a payment that succeeded for an order it could no
 * longer pay: expired, cancelled, or paid already), settled with the provider here.
 */
export function paymentEventHandlers(payments: Pick<PaymentService, 'settleRequested'>): EventHandlers {
  return {
    'payment.refund-requested': (event, meta) =>
      payments.settleRequested({ paymentId: event.payment?.id ?? '', refundId: event.refund?.id ?? '' }, meta.eventId),
  };
}
