import { defineRoute, type RouteDefinition } from '@mart/common/http';
import type { ServiceRuntime } from '@mart/common/service';
import {
  createProductBody,
  listProductsQuery,
  productIdParams,
  productPageSchema,
  productSchema,
  updateProductBody,
} from './product.schemas.ts';
import { productService } from './product.service.ts';

export function productRoutes({ rpc }: Pick<ServiceRuntime, 'rpc'>): RouteDefinition[] {
  const products = productService(rpc);
  const tags = ['products'];
  return [
    defineRoute({
      method: 'get',
      path: '/products',
      summary: 'Search and filter products (staff also see inactive ones)',
      tags,
      access: 'public',
      query: listProductsQuery,
      status: 200,
      response: productPageSchema,
      handler: ({ query, principal, requestId }) => products.list(query, principal, requestId),
    }),
    defineRoute({
      method: 'get',
      path: '/products/:id',
      summary: 'Get a product with its available units (inactive: 404 unless staff)',
      tags,
      access: 'public',
      params: productIdParams,
      status: 200,
      response: productSchema,
      errors: [404],
      handler: ({ params, principal, requestId }) => products.get(params.id, principal, requestId),
    }),
    defineRoute({
      method: 'post',
      path: '/products',
      summary: 'Create a product (409 when the SKU exists)',
      tags,
      access: 'staff',
      body: createProductBody,
      status: 201,
      response: productSchema,
      errors: [409],
      handler: ({ body, requestId }) => products.create(body, requestId),
    }),
    defineRoute({
      method: 'patch',
      path: '/products/:id',
      summary: 'Update a product; active: false hides it from customers',
      tags,
      access: 'staff',
      params: productIdParams,
      body: updateProductBody,
      status: 200,
      response: productSchema,
      errors: [404, 409],
      handler: ({ params, body, requestId }) => products.update(params.id, body, requestId),
    }),
    defineRoute({
      method: 'delete',
      path: '/products/:id',
      summary: 'Delete a product that no order contains (409 otherwise: deactivate it instead)',
      tags,
      access: 'staff',
      params: productIdParams,
      status: 204,
      errors: [404, 409],
      handler: ({ params, requestId }) => products.remove(params.id, requestId),
    }),
  ];
}
