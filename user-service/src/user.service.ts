import { randomUUID } from 'node:crypto';
import { hashPassword } from '@mart/common/credentials';
import { pagedReply } from '@mart/common/http';
import type { RpcCaller } from '@mart/common/kafka';
import type { CommandReply } from '@mart/proto';
import { staffRole } from '@mart/proto/enums';
import type { CreateUserBody, ListUsersQuery, UpdateUserBody, UserDto } from './user.schemas.ts';

export function toUserDto(user: CommandReply<'user.get'>): UserDto {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: staffRole.lower.fromWireOrThrow(user.role),
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
}

/** Staff account use cases: each is a command to db-service, with passwords hashed here first. */
export function userService(rpc: RpcCaller, options: { bcryptCost: number }) {
  return {
    async create(body: CreateUserBody, requestId: string): Promise<UserDto> {
      const passwordHash = await hashPassword(body.password, options.bcryptCost);
      const user = await rpc.call(
        'user.create',
        { id: randomUUID(), email: body.email, name: body.name, passwordHash, role: staffRole.lower.toWire(body.role) },
        { requestId },
      );
      return toUserDto(user);
    },

    async update(id: string, body: UpdateUserBody, requestId: string): Promise<UserDto> {
      const passwordHash = body.password === undefined ? undefined : await hashPassword(body.password, options.bcryptCost);
      const role = body.role === undefined ? undefined : staffRole.lower.toWire(body.role);
      return toUserDto(await rpc.call('user.update', { id, name: body.name, role, passwordHash }, { requestId }));
    },

    async remove(id: string, requestId: string): Promise<void> {
      await rpc.call('user.delete', { id }, { requestId });
    },

    async get(id: string, requestId: string): Promise<UserDto> {
      return toUserDto(await rpc.call('user.get', { id }, { requestId }));
    },

    async list(query: ListUsersQuery, requestId: string) {
      const result = await rpc.call('user.list', { page: { page: query.page, pageSize: query.pageSize } }, { requestId });
      return pagedReply(result, query, (user) => toUserDto(user as CommandReply<'user.get'>));
    },

    /** Creates the configured admin when there is no admin at all; true when it did. */
    async ensureAdmin(admin: { email: string; password: string; name: string }): Promise<boolean> {
      const passwordHash = await hashPassword(admin.password, options.bcryptCost);
      const result = await rpc.call('user.ensure-admin', { id: randomUUID(), email: admin.email, name: admin.name, passwordHash });
      return result.created;
    },
  };
}
