import { UnauthorizedError } from '@mart/common/errors';
import { defineRoute, type Principal, type RouteDefinition } from '@mart/common/http';
import type { ServiceRuntime } from '@mart/common/service';
import {
  changePasswordBody,
  customerIdParams,
  customerPageSchema,
  customerSchema,
  listCustomersQuery,
  registerCustomerBody,
  updateMeBody,
} from './customer.schemas.ts';
import { customerService } from './customer.service.ts';

// access 'customer' has already required a customer token; this narrows the type.
function me(principal: Principal | undefined): Principal {
  if (!principal) throw new UnauthorizedError();
  return principal;
}

export function customerRoutes({ rpc }: Pick<ServiceRuntime, 'rpc'>, options: { bcryptCost: number }): RouteDefinition[] {
  const customers = customerService(rpc, options);
  const tags = ['customers'];
  // The /me routes come before /:id, so "me" is never read as an id.
  return [
    defineRoute({
      method: 'post',
      path: '/customers',
      summary: 'Register a customer account (email is unique, whatever its case)',
      tags,
      access: 'public',
      body: registerCustomerBody,
      status: 201,
      response: customerSchema,
      errors: [409],
      handler: ({ body, requestId }) => customers.register(body, requestId),
    }),
    defineRoute({
      method: 'get',
      path: '/customers/me',
      summary: 'The signed-in customer',
      tags,
      access: 'customer',
      status: 200,
      response: customerSchema,
      errors: [404],
      handler: ({ principal, requestId }) => customers.get(me(principal).sub, requestId),
    }),
    defineRoute({
      method: 'patch',
      path: '/customers/me',
      summary: 'Update the signed-in customer (phone: null clears it)',
      tags,
      access: 'customer',
      body: updateMeBody,
      status: 200,
      response: customerSchema,
      errors: [404],
      handler: ({ principal, body, requestId }) => customers.updateMe(me(principal), body, requestId),
    }),
    defineRoute({
      method: 'post',
      path: '/customers/me/password',
      summary: 'Change the password (ends every session: refresh tokens stop working)',
      tags,
      access: 'customer',
      body: changePasswordBody,
      status: 204,
      errors: [404],
      handler: ({ principal, body, requestId }) => customers.changePassword(me(principal), body, requestId),
    }),
    defineRoute({
      method: 'get',
      path: '/customers',
      summary: 'List customers, newest first (email filters by a part of the address)',
      tags,
      access: 'staff',
      query: listCustomersQuery,
      status: 200,
      response: customerPageSchema,
      handler: ({ query, requestId }) => customers.list(query, requestId),
    }),
    defineRoute({
      method: 'get',
      path: '/customers/:id',
      summary: 'Get a customer',
      tags,
      access: 'staff',
      params: customerIdParams,
      status: 200,
      response: customerSchema,
      errors: [404],
      handler: ({ params, requestId }) => customers.get(params.id, requestId),
    }),
    defineRoute({
      method: 'delete',
      path: '/customers/:id',
      summary: 'Delete a customer that has no orders',
      tags,
      access: 'admin',
      params: customerIdParams,
      status: 204,
      errors: [404, 409],
      handler: ({ params, requestId }) => customers.remove(params.id, requestId),
    }),
  ];
}
