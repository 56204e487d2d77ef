import { UnauthorizedError } from '@mart/common/errors';
import { defineRoute, isStaff, type Principal, type RouteDefinition } from '@mart/common/http';
import { idParams } from '@mart/common/zod';
import { createPaymentBody, listPaymentsQuery, paymentPageSchema, paymentSchema } from './payment.schemas.ts';
import type { PaymentService } from './payment.service.ts';

/** Customers see their own payments only; staff see all. */
function ownerFilter(principal: Principal | undefined): string | undefined {
  if (!principal) throw new UnauthorizedError();
  return isStaff(principal) ? undefined : principal.sub;
}

export function paymentRoutes(payments: PaymentService): RouteDefinition[] {
  const tags = ['payments'];
  return [
    defineRoute({
      method: 'post',
      path: '/payments',
      summary: 'Pay for one of your orders (with paymentMethod: confirmed at once)',
      tags,
      access: 'customer',
      body: createPaymentBody,
      status: 201,
      response: paymentSchema,
      errors: [404, 409],
      handler: ({ body, principal, requestId }) => payments.create(body, ownerFilter(principal) ?? '', requestId),
    }),
    defineRoute({
      method: 'get',
      path: '/payments',
      summary: 'List payments, newest first (customers: their own; orderId filters by order)',
      tags,
      access: 'authenticated',
      query: listPaymentsQuery,
      status: 200,
      response: paymentPageSchema,
      handler: ({ query, principal, requestId }) => payments.list(query, ownerFilter(principal), requestId),
    }),
    defineRoute({
      method: 'get',
      path: '/payments/:id',
      summary: 'Get a payment (its owner or staff)',
      tags,
      access: 'authenticated',
      params: idParams,
      status: 200,
      response: paymentSchema,
      errors: [404],
      handler: ({ params, principal, requestId }) => payments.get(params.id, ownerFilter(principal), requestId),
    }),
    defineRoute({
      method: 'post',
      path: '/payments/:id/refund',
      summary: 'Refund a succeeded payment in full (the order becomes REFUNDED)',
      tags,
      access: 'admin',
      params: idParams,
      status: 200,
      response: paymentSchema,
      errors: [404, 409],
      handler: ({ params, principal, requestId }) => payments.refund(params.id, principal?.sub ?? '', requestId),
    }),
  ];
}
