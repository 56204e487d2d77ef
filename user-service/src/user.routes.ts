import { defineRoute, type RouteDefinition } from '@mart/common/http';
import type { ServiceRuntime } from '@mart/common/service';
import { createUserBody, listUsersQuery, updateUserBody, userIdParams, userPageSchema, userSchema } from './user.schemas.ts';
import { userService } from './user.service.ts';

export function userRoutes({ rpc }: Pick<ServiceRuntime, 'rpc'>, options: { bcryptCost: number }): RouteDefinition[] {
  const users = userService(rpc, options);
  const tags = ['users'];
  return [
    defineRoute({
      method: 'post',
      path: '/users',
      summary: 'Create a staff account (role admin or staff)',
      tags,
      access: 'admin',
      body: createUserBody,
      status: 201,
      response: userSchema,
      errors: [409],
      handler: ({ body, requestId }) => users.create(body, requestId),
    }),
    defineRoute({
      method: 'get',
      path: '/users',
      summary: 'List staff accounts by email',
      tags,
      access: 'admin',
      query: listUsersQuery,
      status: 200,
      response: userPageSchema,
      handler: ({ query, requestId }) => users.list(query, requestId),
    }),
    defineRoute({
      method: 'get',
      path: '/users/:id',
      summary: 'Get a staff account',
      tags,
      access: 'admin',
      params: userIdParams,
      status: 200,
      response: userSchema,
      errors: [404],
      handler: ({ params, requestId }) => users.get(params.id, requestId),
    }),
    defineRoute({
      method: 'patch',
      path: '/users/:id',
      summary: 'Update a staff account (demoting the last admin is refused; a new password ends its sessions)',
      tags,
      access: 'admin',
      params: userIdParams,
      body: updateUserBody,
      status: 200,
      response: userSchema,
      errors: [404, 409],
      handler: ({ params, body, requestId }) => users.update(params.id, body, requestId),
    }),
    defineRoute({
      method: 'delete',
      path: '/users/:id',
      summary: 'Delete a staff account (the last admin cannot be deleted)',
      tags,
      access: 'admin',
      params: userIdParams,
      status: 204,
      errors: [404, 409],
      handler: ({ params, requestId }) => users.remove(params.id, requestId),
    }),
  ];
}
