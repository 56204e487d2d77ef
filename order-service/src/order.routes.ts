import { UnauthorizedError, ValidationError } from '@mart/common/errors';
import { defineRoute, type Principal, type RouteDefinition } from '@mart/common/http';
import type { ServiceRuntime } from '@mart/common/service';
import {
  idempotencyKeySchema,
  listOrdersQuery,
  orderIdParams,
  orderPageSchema,
  orderSchema,
  placeOrderBody,
  placeOrderHeaders,
} from './order.schemas.ts';
import { orderService } from './order.service.ts';

// Every order route requires a token; this narrows the principal's type.
function signedIn(principal: Principal | undefined): Principal {
  if (!principal) throw new UnauthorizedError();
  return principal;
}

/** The optional Idempotency-Key header, validated like a body field (400 naming it). */
function idempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const parsed = idempotencyKeySchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ValidationError(parsed.error.issues.map((issue) => ({ path: 'Idempotency-Key', message: issue.message, location: 'headers' })));
}

export function orderRoutes({ rpc }: Pick<ServiceRuntime, 'rpc'>, settings: { ttlSeconds: number }): RouteDefinition[] {
  const orders = orderService(rpc, settings);
  const tags = ['orders'];
  return [
    defineRoute({
      method: 'post',
      path: '/orders',
      summary: 'Place an order: prices come from the catalog and every line is reserved, or none is',
      tags,
      access: 'customer',
      headers: placeOrderHeaders,
      body: placeOrderBody,
      status: 201,
      response: orderSchema,
      errors: [409],
      handler: ({ principal, body, req, requestId }) =>
        orders.place(signedIn(principal), body, idempotencyKey(req.header('idempotency-key')), requestId),
    }),
    defineRoute({
      method: 'get',
      path: '/orders',
      summary: 'List orders, newest first (a customer sees their own; staff see all and may filter)',
      tags,
      access: 'authenticated',
      query: listOrdersQuery,
      status: 200,
      response: orderPageSchema,
      handler: ({ principal, query, requestId }) => orders.list(query, signedIn(principal), requestId),
    }),
    defineRoute({
      method: 'get',
      path: '/orders/:id',
      summary: "Get an order (its customer or staff; another customer's order is not found)",
      tags,
      access: 'authenticated',
      params: orderIdParams,
      status: 200,
      response: orderSchema,
      errors: [404],
      handler: ({ principal, params, requestId }) => orders.get(params.id, signedIn(principal), requestId),
    }),
    defineRoute({
      method: 'post',
      path: '/orders/:id/cancel',
      summary: 'Cancel an unpaid order and release its stock (its customer or staff); a paid order is refunded instead',
      tags,
      access: 'authenticated',
      params: orderIdParams,
      status: 200,
      response: orderSchema,
      errors: [404, 409],
      handler: ({ principal, params, requestId }) => orders.cancel(params.id, signedIn(principal), requestId),
    }),
    defineRoute({
      method: 'post',
      path: '/orders/:id/ship',
      summary: 'Mark a paid order shipped',
      tags,
      access: 'staff',
      params: orderIdParams,
      status: 200,
      response: orderSchema,
      errors: [404, 409],
      handler: ({ principal, params, requestId }) => orders.ship(params.id, signedIn(principal), requestId),
    }),
    defineRoute({
      method: 'post',
      path: '/orders/:id/deliver',
      summary: 'Mark a shipped order delivered',
      tags,
      access: 'staff',
      params: orderIdParams,
      status: 200,
      response: orderSchema,
      errors: [404, 409],
      handler: ({ principal, params, requestId }) => orders.deliver(params.id, signedIn(principal), requestId),
    }),
  ];
}
