/**
 * A local stand-in for Stripe's API, good enough for the real `stripe` SDK: PaymentIntents
 * (create, confirm, retrieve) with Stripe's test payment methods, refunds, Idempotency-Key
 * replay, and signed webhooks. Tests read what it received at GET /__received.
 *
 *   tsx tools/fakes/stripe.fake.ts     runs it and prints the variables for payment-service
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import Stripe from 'stripe';
import { runFromCommandLine, startJsonServer, type FakeRequest, type FakeResponse, type RunningFake } from './fake.server.ts';

export interface ReceivedStripeRequest {
  method: string;
  path: string;
  idempotencyKey: string | null;
  params: Record<string, unknown>;
  /** True when the answer was replayed for a repeated Idempotency-Key. */
  replayed: boolean;
}

interface Intent {
  id: string;
  object: 'payment_intent';
  amount: number;
  currency: string;
  status: string;
  client_secret: string;
  metadata: Record<string, string>;
  payment_method: string | null;
  last_payment_error: { type: string; code: string; decline_code?: string; message: string } | null;
  latest_charge: string | null;
  cancellation_reason: null;
  created: number;
  livemode: false;
}

const succeeding = new Set(['pm_card_visa', 'pm_card_visa_debit', 'pm_card_mastercard', 'pm_card_amex']);
const declines: Record<string, string> = {
  pm_card_chargeDeclined: 'generic_decline',
  pm_card_chargeDeclinedInsufficientFunds: 'insufficient_funds',
};

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const error = (status: number, body: Record<string, unknown>): FakeResponse => ({ status, body: { error: body } });

/** Stripe's form encoding: `metadata[orderId]=x&confirm=true` → `{ metadata: { orderId: 'x' }, confirm: 'true' }`. */
export function parseStripeForm(body: string): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const [head = key, ...rest] = key.split('[').map((part) => part.replace(/\]$/, ''));
    let target = params;
    for (const part of [head, ...rest].slice(0, -1)) target = (target[part] ??= {}) as Record<string, unknown>;
    target[[head, ...rest].at(-1)!] = value;
  }
  return params;
}

export async function startFake(): Promise<RunningFake> {
  const secretKey = 'sk_test_mart_fake';
  const webhookSecret = `whsec_${randomBytes(16).toString('hex')}`;
  const intents = new Map<string, Intent>();
  /** Amount refunded so far per PaymentIntent. */
  const refunded = new Map<string, number>();
  const idempotent = new Map<string, { fingerprint: string; response: FakeResponse }>();
  const received: ReceivedStripeRequest[] = [];

  function confirm(intent: Intent, paymentMethod: string | undefined): FakeResponse {
    const method = paymentMethod ?? intent.payment_method;
    if (!method)
      return error(400, {
        type: 'invalid_request_error',
        code: 'parameter_missing',
        param: 'payment_method',
        message: 'Missing payment_method',
      });
    if (!succeeding.has(method) && !declines[method]) {
      return error(400, {
        type: 'invalid_request_error',
        code: 'resource_missing',
        param: 'payment_method',
        message: `No such PaymentMethod: '${method}'`,
      });
    }
    intent.payment_method = method;
    const declineCode = declines[method];
    if (declineCode) {
      intent.status = 'requires_payment_method';
      intent.last_payment_error = {
        type: 'card_error',
        code: 'card_declined',
        decline_code: declineCode,
        message: 'Your card was declined.',
      };
      // Like Stripe: a decline is an HTTP 402 card error that carries the PaymentIntent.
      return error(402, { ...intent.last_payment_error, payment_intent: intent });
    }
    intent.status = 'succeeded';
    intent.last_payment_error = null;
    intent.latest_charge = id('ch');
    return { status: 200, body: intent };
  }

  async function apply(method: string, path: string, params: Record<string, unknown>): Promise<FakeResponse> {
    const intentPath = /^\/v1\/payment_intents\/([^/]+)(\/confirm)?$/.exec(path);
    if (method === 'POST' && path === '/v1/payment_intents') {
      const amount = Number(params.amount);
      if (!Number.isInteger(amount) || amount < 1)
        return error(400, { type: 'invalid_request_error', param: 'amount', message: 'Invalid integer' });
      const intent: Intent = {
        id: id('pi'),
        object: 'payment_intent',
        amount,
        currency: String(params.currency ?? ''),
        status: 'requires_payment_method',
        client_secret: '',
        metadata: (params.metadata as Record<string, string> | undefined) ?? {},
        payment_method: typeof params.payment_method === 'string' ? params.payment_method : null,
        last_payment_error: null,
        latest_charge: null,
        cancellation_reason: null,
        created: Math.floor(Date.now() / 1000),
        livemode: false,
      };
      intent.client_secret = `${intent.id}_secret_${randomBytes(8).toString('hex')}`;
      intents.set(intent.id, intent);
      return params.confirm === 'true' ? confirm(intent, intent.payment_method ?? undefined) : { status: 200, body: intent };
    }
    if (intentPath) {
      const intent = intents.get(intentPath[1]!);
      if (!intent)
        return error(404, {
          type: 'invalid_request_error',
          code: 'resource_missing',
          message: `No such payment_intent: '${intentPath[1]}'`,
        });
      if (method === 'GET' && !intentPath[2]) return { status: 200, body: intent };
      if (method === 'POST' && intentPath[2])
        return confirm(intent, typeof params.payment_method === 'string' ? params.payment_method : undefined);
    }
    if (method === 'POST' && path === '/v1/refunds') {
      const intent = intents.get(String(params.payment_intent ?? ''));
      if (!intent)
        return error(400, {
          type: 'invalid_request_error',
          code: 'resource_missing',
          param: 'payment_intent',
          message: 'No such payment_intent',
        });
      if (intent.status !== 'succeeded')
        return error(400, {
          type: 'invalid_request_error',
          code: 'charge_not_refundable',
          message: 'This PaymentIntent has no successful charge to refund',
        });
      const already = refunded.get(intent.id) ?? 0;
      if (already >= intent.amount)
        return error(400, {
          type: 'invalid_request_error',
          code: 'charge_already_refunded',
          message: `Charge ${intent.latest_charge} has already been refunded.`,
        });
      const amount = params.amount === undefined ? intent.amount - already : Number(params.amount);
      if (!Number.isInteger(amount) || amount < 1 || amount > intent.amount - already)
        return error(400, {
          type: 'invalid_request_error',
          param: 'amount',
          message: `Refund amount (${String(params.amount)}) is greater than unrefunded amount on charge (${intent.amount - already})`,
        });
      refunded.set(intent.id, already + amount);
      const refund = {
        id: id('re'),
        object: 'refund',
        amount,
        currency: intent.currency,
        status: 'succeeded',
        payment_intent: intent.id,
        charge: intent.latest_charge,
        failure_reason: null,
      };
      return { status: 200, body: refund };
    }
    return error(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` });
  }

  /** The object a webhook event of `type` carries for a PaymentIntent. */
  function eventObject(type: string, intent: Intent): unknown {
    if (!type.startsWith('charge.')) return intent;
    return {
      id: intent.latest_charge ?? id('ch'),
      object: 'charge',
      amount: intent.amount,
      amount_refunded: refunded.get(intent.id) ?? 0,
      currency: intent.currency,
      payment_intent: intent.id,
      refunded: (refunded.get(intent.id) ?? 0) >= intent.amount,
    };
  }

  /** Test control: signs an event about a PaymentIntent with the webhook secret and POSTs it to `url`. */
  async function deliverWebhook(params: {
    url: string;
    type: string;
    paymentIntentId: string;
    eventId?: string;
    signature?: string;
  }): Promise<FakeResponse> {
    const intent = intents.get(params.paymentIntentId);
    if (!intent) return { status: 404, body: { error: `no PaymentIntent ${params.paymentIntentId}` } };
    const event = {
      id: params.eventId ?? id('evt'),
      object: 'event',
      type: params.type,
      api_version: Stripe.API_VERSION,
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      data: { object: eventObject(params.type, intent) },
    };
    const payload = JSON.stringify(event);
    const signature = params.signature ?? Stripe.webhooks.generateTestHeaderString({ payload, secret: webhookSecret });
    const response = await fetch(params.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body: payload,
    });
    const text = await response.text();
    return { status: 200, body: { event, delivery: { status: response.status, body: text ? (JSON.parse(text) as unknown) : null } } };
  }

  /** Stripe.js confirms in the browser with the publishable key and the intent's client secret. */
  function isClientConfirmation(path: string, params: Record<string, unknown>): boolean {
    const confirmOf = /^\/v1\/payment_intents\/([^/]+)\/confirm$/.exec(path)?.[1];
    return !!confirmOf && typeof params.client_secret === 'string' && intents.get(confirmOf)?.client_secret === params.client_secret;
  }

  async function handle(request: FakeRequest): Promise<FakeResponse> {
    const path = request.path.split('?')[0] ?? '/';
    if (path === '/__received' && request.method === 'GET') return { status: 200, body: { requests: received } };
    if (path === '/__webhooks' && request.method === 'POST')
      return deliverWebhook(JSON.parse(request.body) as Parameters<typeof deliverWebhook>[0]);
    const params = request.method === 'GET' ? {} : parseStripeForm(request.body);
    if (request.headers.authorization !== `Bearer ${secretKey}` && !isClientConfirmation(path, params)) {
      return error(401, { type: 'invalid_request_error', message: 'Invalid API Key provided' });
    }
    const key = typeof request.headers['idempotency-key'] === 'string' ? request.headers['idempotency-key'] : null;
    const entry: ReceivedStripeRequest = { method: request.method, path, idempotencyKey: key, params, replayed: false };
    received.push(entry);
    if (!key || request.method !== 'POST') return apply(request.method, path, params);
    // Like Stripe: the same key replays the first answer; reusing it for another request is an error.
    const fingerprint = `${request.method} ${path} ${request.body}`;
    const earlier = idempotent.get(key);
    if (earlier) {
      if (earlier.fingerprint !== fingerprint) {
        return error(400, {
          type: 'idempotency_error',
          message: 'Keys for idempotent requests can only be used with the same parameters they were first used with.',
        });
      }
      entry.replayed = true;
      return earlier.response;
    }
    const response = await apply(request.method, path, params);
    idempotent.set(key, { fingerprint, response: JSON.parse(JSON.stringify(response)) as FakeResponse });
    return response;
  }

  const server = await startJsonServer(handle);
  const { port } = new URL(server.url);
  return {
    url: server.url,
    env: {
      STRIPE_SECRET_KEY: secretKey,
      STRIPE_WEBHOOK_SECRET: webhookSecret,
      STRIPE_API_HOST: '127.0.0.1',
      STRIPE_API_PORT: port,
      STRIPE_API_PROTOCOL: 'http',
    },
    stop: server.stop,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runFromCommandLine(startFake);
