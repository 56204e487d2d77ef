import express, { type Express } from 'express';
import Stripe from 'stripe';
import type { PaymentStatusName } from '@mart/common/domain/payment';
import { BadRequestError } from '@mart/common/errors';
import type { OpenApiDocument } from '@mart/common/http';
import { uuidPattern } from '@mart/common/ids';

export const webhookPath = '/payments/webhook';

/** What one Stripe event says about one Mart payment. */
export interface WebhookOutcome {
  eventId: string;
  eventType: string;
  /** Mart's payment id, from the PaymentIntent's metadata (absent on charges). */
  paymentId?: string;
  providerPaymentId: string;
  status: PaymentStatusName;
  failureReason?: string;
}

/**
 * Checks Stripe's signature over the exact bytes received (re-serialised JSON would not match)
 * and returns the event; anything unsigned, forged, altered or too old is a 400.
 */
export function verifyWebhook(rawBody: Buffer, signature: string | string[] | undefined, secret: string | undefined): Stripe.Event {
  if (!secret) throw new BadRequestError('Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET is not set)');
  if (typeof signature !== 'string' || !signature) throw new BadRequestError('Missing Stripe-Signature header');
  try {
    return Stripe.webhooks.constructEvent(rawBody, signature, secret);
  } catch (error) {
    throw new BadRequestError(`Invalid Stripe webhook: ${(error as Error).message}`);
  }
}

/** The payment outcome an event reports, or undefined for the event types Mart does not act on. */
export function webhookOutcome(event: Stripe.Event): WebhookOutcome | undefined {
  const base = { eventId: event.id, eventType: event.type };
  const fromIntent = (intent: Stripe.PaymentIntent) => {
    const paymentId = intent.metadata?.paymentId;
    return { ...base, providerPaymentId: intent.id, ...(paymentId && uuidPattern.test(paymentId) ? { paymentId } : {}) };
  };
  // Stripe has hundreds of event types; Mart acts on these four and acknowledges the rest.
  if (event.type === 'payment_intent.succeeded') return { ...fromIntent(event.data.object), status: 'SUCCEEDED' };
  if (event.type === 'payment_intent.processing') return { ...fromIntent(event.data.object), status: 'PROCESSING' };
  if (event.type === 'payment_intent.payment_failed') {
    const failureReason = event.data.object.last_payment_error?.message ?? 'payment failed';
    return { ...fromIntent(event.data.object), status: 'FAILED', failureReason };
  }
  if (event.type === 'charge.refunded') {
    const charge = event.data.object;
    const intent = typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id;
    // A partial refund leaves the payment (and the order) as they are.
    if (!intent || !charge.refunded) return undefined;
    return { ...base, providerPaymentId: intent, status: 'REFUNDED' };
  }
  return undefined;
}

/**
 * Mounts POST /payments/webhook before express.json, with a raw body parser of its own: the
 * signature covers the bytes as sent.
 */
export function mountWebhook(
  app: Express,
  handle: (rawBody: Buffer, signature: string | string[] | undefined, requestId: string) => Promise<unknown>,
) {
  app.post(webhookPath, express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    res.status(200).json(await handle(body, req.headers['stripe-signature'], String(req.id)));
  });
}

/** The webhook is not a defineRoute (it needs the raw body), so it is documented by hand. */
export function documentWebhook(document: OpenApiDocument): void {
  document.paths ??= {};
  document.paths[webhookPath] = {
    post: {
      summary: 'Stripe webhook (payment_intent.succeeded, payment_intent.payment_failed, charge.refunded)',
      description:
        'Called by Stripe. The Stripe-Signature header is checked against STRIPE_WEBHOOK_SECRET; a repeated event changes nothing.',
      tags: ['payments'],
      security: [],
      parameters: [{ name: 'stripe-signature', in: 'header', required: true, schema: { type: 'string' } }],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
      responses: {
        200: {
          description: 'Event received (handled, or ignored when Mart does not act on its type)',
          content: {
            'application/json': {
              schema: { type: 'object', properties: { received: { type: 'boolean' }, handled: { type: 'boolean' } } },
            },
          },
        },
        400: {
          description: 'bad_request: missing or invalid signature',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    },
  };
}
