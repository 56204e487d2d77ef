import { defineRoute, type RouteDefinition } from '@mart/common/http';
import type { ServiceRuntime } from '@mart/common/service';
import { brandIdParams, brandPageSchema, brandSchema, createBrandBody, listBrandsQuery, updateBrandBody } from './brand.schemas.ts';
import { brandService } from './brand.service.ts';

export function brandRoutes({ rpc }: Pick<ServiceRuntime, 'rpc'>): RouteDefinition[] {
  const brands = brandService(rpc);
  const tags = ['brands'];
  return [
    defineRoute({
      method: 'get',
      path: '/brands',
      summary: 'List brands (by name; q filters by a part of the name)',
      tags,
      access: 'public',
      query: listBrandsQuery,
      status: 200,
      response: brandPageSchema,
      handler: ({ query, requestId }) => brands.list(query, requestId),
    }),
    defineRoute({
      method: 'get',
      path: '/brands/:id',
      summary: 'Get a brand',
      tags,
      access: 'public',
      params: brandIdParams,
      status: 200,
      response: brandSchema,
      errors: [404],
      handler: ({ params, requestId }) => brands.get(params.id, requestId),
    }),
    defineRoute({
      method: 'post',
      path: '/brands',
      summary: 'Create a brand',
      tags,
      access: 'staff',
      body: createBrandBody,
      status: 201,
      response: brandSchema,
      errors: [409],
      handler: ({ body, requestId }) => brands.create(body, requestId),
    }),
    defineRoute({
      method: 'patch',
      path: '/brands/:id',
      summary: 'Update a brand (description: null clears it)',
      tags,
      access: 'staff',
      params: brandIdParams,
      body: updateBrandBody,
      status: 200,
      response: brandSchema,
      errors: [404, 409],
      handler: ({ params, body, requestId }) => brands.update(params.id, body, requestId),
    }),
    defineRoute({
      method: 'delete',
      path: '/brands/:id',
      summary: 'Delete a brand that no product uses',
      tags,
      access: 'staff',
      params: brandIdParams,
      status: 204,
      errors: [404, 409],
      handler: ({ params, requestId }) => brands.remove(params.id, requestId),
    }),
  ];
}
