import { loadConfig } from '@mart/common/config';
import { runHttpService, stopOnSignals } from '@mart/common/service';
import { paymentConfigSchema } from './config.ts';
import { paymentRoutes } from './payment.routes.ts';
import { paymentEventHandlers, paymentService } from './payment.service.ts';
import { simulatedProvider } from './simulated.provider.ts';
import { createStripeClient, stripeProvider } from './stripe.provider.ts';
import { documentWebhook, mountWebhook, verifyWebhook, webhookOutcome } from './stripe.webhook.ts';

const config = loadConfig(paymentConfigSchema);
const { STRIPE_SECRET_KEY } = config;
const provider = STRIPE_SECRET_KEY ? stripeProvider(createStripeClient({ ...config, STRIPE_SECRET_KEY })) : simulatedProvider();

const service = await runHttpService({
  service: 'payment-service',
  description: `Payments of orders through ${provider.kind === 'stripe' ? 'Stripe' : 'the simulated provider (no STRIPE_SECRET_KEY)'}; a succeeded payment makes the order PAID.`,
  config,
  routes: ({ rpc, logger }) => paymentRoutes(paymentService({ rpc, provider, logger })),
  beforeBodyParsing: (app, { rpc, logger }) => {
    const payments = paymentService({ rpc, provider, logger });
    mountWebhook(app, async (rawBody, signature, requestId) => {
      const outcome = webhookOutcome(verifyWebhook(rawBody, signature, config.STRIPE_WEBHOOK_SECRET));
      return { received: true, handled: outcome ? await payments.applyWebhook(outcome, requestId) : false };
    });
  },
  amendOpenApi: documentWebhook,
  background: ({ rpc, logger }) => ({ events: paymentEventHandlers(paymentService({ rpc, provider, logger })) }),
});
stopOnSignals(service, service.runtime.logger);
