import { expect } from 'chai';
import Stripe from 'stripe';
import { BadRequestError, ValidationError } from '@mart/common/errors';
import { simulatedProvider } from '../src/simulated.provider.ts';
import { outcomeOf } from '../src/stripe.provider.ts';
import { verifyWebhook, webhookOutcome } from '../src/stripe.webhook.ts';

describe('simulated payment provider', () => {
  const provider = simulatedProvider();
  const request = { paymentId: '3f0e7c1a-8a4b-4f2e-9c1d-2b7e5a9d4c10', orderId: 'order-1', amountCents: 1999, currency: 'USD' };

  it('succeeds with pm_card_visa and declines pm_card_chargeDeclined, like Stripe test mode', async () => {
    expect(await provider.createPayment({ ...request, paymentMethod: 'pm_card_visa' })).to.deep.equal({
      providerPaymentId: `sim_${request.paymentId}`,
      status: 'SUCCEEDED',
    });
    const declined = await provider.createPayment({ ...request, paymentMethod: 'pm_card_chargeDeclined' });
    expect(declined.status).to.equal('FAILED');
    expect(declined.failureReason).to.match(/declined/);
  });

  it('leaves a payment without a method waiting for one, and rejects unknown methods naming the field', async () => {
    expect((await provider.createPayment(request)).status).to.equal('REQUIRES_PAYMENT');
    const error = await provider.createPayment({ ...request, paymentMethod: 'pm_card_unknown' }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ValidationError);
    expect((error as ValidationError).details[0]!.path).to.equal('paymentMethod');
  });
});

describe('Stripe webhook signatures and events', () => {
  const secret = 'whsec_unit_test_secret';
  const intent = {
    id: 'pi_123',
    object: 'payment_intent',
    status: 'succeeded',
    metadata: { paymentId: '3f0e7c1a-8a4b-4f2e-9c1d-2b7e5a9d4c10' },
  };
  const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'payment_intent.succeeded', data: { object: intent } });
  const signed = (body: string, options: { secret?: string; timestamp?: number } = {}) =>
    Stripe.webhooks.generateTestHeaderString({
      payload: body,
      secret: options.secret ?? secret,
      ...(options.timestamp ? { timestamp: options.timestamp } : {}),
    });

  it('accepts the exact bytes Stripe signed and reads the outcome', () => {
    const event = verifyWebhook(Buffer.from(payload), signed(payload), secret);
    expect(webhookOutcome(event)).to.deep.equal({
      eventId: 'evt_1',
      eventType: 'payment_intent.succeeded',
      providerPaymentId: 'pi_123',
      paymentId: intent.metadata.paymentId,
      status: 'SUCCEEDED',
    });
  });

  it('refuses an altered body, another secret, an old timestamp, a missing header or a missing secret with 400', () => {
    const attempts = [
      () => verifyWebhook(Buffer.from(payload.replace('succeeded', 'failed')), signed(payload), secret),
      () => verifyWebhook(Buffer.from(payload), signed(payload, { secret: 'whsec_other' }), secret),
      () => verifyWebhook(Buffer.from(payload), signed(payload, { timestamp: Math.floor(Date.now() / 1000) - 3600 }), secret),
      () => verifyWebhook(Buffer.from(payload), undefined, secret),
      () => verifyWebhook(Buffer.from(payload), signed(payload), undefined),
    ];
    for (const attempt of attempts) expect(attempt).to.throw(BadRequestError);
  });

  it('maps failures and full refunds, and ignores partial refunds and other event types', () => {
    const event = (type: string, object: object) => ({ id: 'evt_2', type, data: { object } }) as unknown as Stripe.Event;
    const failed = webhookOutcome(
      event('payment_intent.payment_failed', { ...intent, last_payment_error: { message: 'Your card was declined.' } }),
    );
    expect(failed).to.include({ status: 'FAILED', failureReason: 'Your card was declined.' });
    expect(webhookOutcome(event('charge.refunded', { id: 'ch_1', payment_intent: 'pi_123', refunded: true }))).to.deep.equal({
      eventId: 'evt_2',
      eventType: 'charge.refunded',
      providerPaymentId: 'pi_123',
      status: 'REFUNDED',
    });
    expect(webhookOutcome(event('charge.refunded', { id: 'ch_1', payment_intent: 'pi_123', refunded: false }))).to.equal(undefined);
    expect(webhookOutcome(event('customer.created', { id: 'cus_1' }))).to.equal(undefined);
  });

  it("reads a PaymentIntent's status in Mart's terms", () => {
    const pi = (status: string, extra: object = {}) => ({ id: 'pi_1', status, ...extra }) as unknown as Stripe.PaymentIntent;
    expect(outcomeOf(pi('succeeded'))).to.deep.equal({ status: 'SUCCEEDED' });
    expect(outcomeOf(pi('requires_payment_method'))).to.deep.equal({ status: 'REQUIRES_PAYMENT' });
    expect(outcomeOf(pi('requires_payment_method', { last_payment_error: { message: 'declined' } }))).to.deep.equal({
      status: 'FAILED',
      failureReason: 'declined',
    });
    expect(outcomeOf(pi('processing')).status).to.equal('PROCESSING');
  });
});
