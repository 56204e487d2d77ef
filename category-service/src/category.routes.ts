import { defineRoute, type RouteDefinition } from '@mart/common/http';
import type { ServiceRuntime } from '@mart/common/service';
import {
  categoryIdParams,
  categoryPageSchema,
  categorySchema,
  createCategoryBody,
  listCategoriesQuery,
  updateCategoryBody,
} from './category.schemas.ts';
import { categoryService } from './category.service.ts';

export function categoryRoutes({ rpc }: Pick<ServiceRuntime, 'rpc'>): RouteDefinition[] {
  const categories = categoryService(rpc);
  const tags = ['categories'];
  return [
    defineRoute({
      method: 'get',
      path: '/categories',
      summary: 'List categories by name: all of them, the children of parentId, or the top level (roots=true)',
      tags,
      access: 'public',
      query: listCategoriesQuery,
      status: 200,
      response: categoryPageSchema,
      handler: ({ query, requestId }) => categories.list(query, requestId),
    }),
    defineRoute({
      method: 'get',
      path: '/categories/:id',
      summary: 'Get a category',
      tags,
      access: 'public',
      params: categoryIdParams,
      status: 200,
      response: categorySchema,
      errors: [404],
      handler: ({ params, requestId }) => categories.get(params.id, requestId),
    }),
    defineRoute({
      method: 'post',
      path: '/categories',
      summary: 'Create a category (409 when a sibling has the same name)',
      tags,
      access: 'staff',
      body: createCategoryBody,
      status: 201,
      response: categorySchema,
      errors: [409],
      handler: ({ body, requestId }) => categories.create(body, requestId),
    }),
    defineRoute({
      method: 'patch',
      path: '/categories/:id',
      summary: 'Update or move a category (description: null clears it; parentId: null moves it to the top level)',
      tags,
      access: 'staff',
      params: categoryIdParams,
      body: updateCategoryBody,
      status: 200,
      response: categorySchema,
      errors: [404, 409],
      handler: ({ params, body, requestId }) => categories.update(params.id, body, requestId),
    }),
    defineRoute({
      method: 'delete',
      path: '/categories/:id',
      summary: 'Delete a category that has no sub-categories and no products (409 otherwise)',
      tags,
      access: 'staff',
      params: categoryIdParams,
      status: 204,
      errors: [404, 409],
      handler: ({ params, requestId }) => categories.remove(params.id, requestId),
    }),
  ];
}
