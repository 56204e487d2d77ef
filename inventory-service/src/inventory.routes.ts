import { UnauthorizedError } from '@mart/common/errors';
import { defineRoute, type Principal, type RouteDefinition } from '@mart/common/http';
import type { ServiceRuntime } from '@mart/common/service';
import {
  adjustmentPageSchema,
  adjustStockBody,
  listAdjustmentsQuery,
  productIdParams,
  setStockBody,
  stockSchema,
} from './inventory.schemas.ts';
import { inventoryService } from './inventory.service.ts';

// access 'staff' has already required a staff token; this narrows the type for the audit trail.
function actor(principal: Principal | undefined): Principal {
  if (!principal) throw new UnauthorizedError();
  return principal;
}

export function inventoryRoutes({ rpc }: Pick<ServiceRuntime, 'rpc'>): RouteDefinition[] {
  const inventory = inventoryService(rpc);
  const tags = ['inventory'];
  return [
    defineRoute({
      method: 'get',
      path: '/inventory/:productId',
      summary: "A product's stock: on hand, reserved by unpaid orders, and available",
      tags,
      access: 'staff',
      params: productIdParams,
      status: 200,
      response: stockSchema,
      errors: [404],
      handler: ({ params, requestId }) => inventory.get(params.productId, requestId),
    }),
    defineRoute({
      method: 'put',
      path: '/inventory/:productId',
      summary: 'Set the units on hand (never below reserved); recorded in the audit trail',
      tags,
      access: 'staff',
      params: productIdParams,
      body: setStockBody,
      status: 200,
      response: stockSchema,
      errors: [404, 409],
      handler: ({ params, body, principal, requestId }) => inventory.set(params.productId, body, actor(principal), requestId),
    }),
    defineRoute({
      method: 'post',
      path: '/inventory/:productId/adjustments',
      summary: 'Add or remove units with a reason (never below reserved: 409 insufficient_stock); returns the stock',
      tags,
      access: 'staff',
      params: productIdParams,
      body: adjustStockBody,
      status: 200,
      response: stockSchema,
      errors: [404, 409],
      handler: ({ params, body, principal, requestId }) => inventory.adjust(params.productId, body, actor(principal), requestId),
    }),
    defineRoute({
      method: 'get',
      path: '/inventory/:productId/adjustments',
      summary: 'The audit trail of on-hand changes, newest first (staff sets and adjustments, paid and refunded orders)',
      tags,
      access: 'staff',
      params: productIdParams,
      query: listAdjustmentsQuery,
      status: 200,
      response: adjustmentPageSchema,
      errors: [404],
      handler: ({ params, query, requestId }) => inventory.listAdjustments(params.productId, query, requestId),
    }),
  ];
}
