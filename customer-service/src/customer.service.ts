import { randomUUID } from 'node:crypto';
import { hashPassword, verifyPassword } from '@mart/common/credentials';
import { NotFoundError, UnauthorizedError } from '@mart/common/errors';
import { pagedReply, type Principal } from '@mart/common/http';
import type { RpcCaller } from '@mart/common/kafka';
import { mart, type CommandReply } from '@mart/proto';
import type { ChangePasswordBody, CustomerDto, ListCustomersQuery, RegisterCustomerBody, UpdateMeBody } from './customer.schemas.ts';

export function toCustomerDto(customer: CommandReply<'customer.get'>): CustomerDto {
  return {
    id: customer.id,
    email: customer.email,
    name: customer.name,
    phone: customer.phone ?? null,
    createdAt: customer.createdAt,
    updatedAt: customer.updatedAt,
  };
}

/** Customer use cases: each is a command to db-service, with passwords hashed here first. */
export function customerService(rpc: RpcCaller, options: { bcryptCost: number }) {
  return {
    async register(body: RegisterCustomerBody, requestId: string): Promise<CustomerDto> {
      const passwordHash = await hashPassword(body.password, options.bcryptCost);
      const customer = await rpc.call(
        'customer.register',
        { id: randomUUID(), email: body.email, name: body.name, phone: body.phone, passwordHash },
        { requestId },
      );
      return toCustomerDto(customer);
    },

    async get(id: string, requestId: string): Promise<CustomerDto> {
      return toCustomerDto(await rpc.call('customer.get', { id }, { requestId }));
    },

    async updateMe(me: Principal, body: UpdateMeBody, requestId: string): Promise<CustomerDto> {
      // null clears the phone; the command carries that as an empty string.
      const phone = body.phone === null ? '' : body.phone;
      return toCustomerDto(await rpc.call('customer.update', { id: me.sub, name: body.name, phone }, { requestId }));
    },

    async changePassword(me: Principal, body: ChangePasswordBody, requestId: string): Promise<void> {
      const credentials = await rpc.call(
        'auth.get-credentials',
        { kind: mart.auth.PrincipalKind.PRINCIPAL_KIND_CUSTOMER, email: me.email },
        { requestId },
      );
      // The email may since belong to a new account with another id: the token's account is gone.
      if (!credentials.found || credentials.principalId !== me.sub) throw new NotFoundError('Customer not found');
      if (!(await verifyPassword(body.currentPassword, credentials.passwordHash))) {
        throw new UnauthorizedError('The current password is not correct');
      }
      const passwordHash = await hashPassword(body.newPassword, options.bcryptCost);
      await rpc.call('customer.set-password', { id: me.sub, passwordHash }, { requestId });
    },

    async remove(id: string, requestId: string): Promise<void> {
      await rpc.call('customer.delete', { id }, { requestId });
    },

    async list(query: ListCustomersQuery, requestId: string) {
      const result = await rpc.call(
        'customer.list',
        { page: { page: query.page, pageSize: query.pageSize }, email: query.email },
        { requestId },
      );
      return pagedReply(result, query, (customer) => toCustomerDto(customer as CommandReply<'customer.get'>));
    },
  };
}
