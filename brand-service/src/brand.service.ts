import { randomUUID } from 'node:crypto';
import { pagedReply } from '@mart/common/http';
import type { RpcCaller } from '@mart/common/kafka';
import type { CommandReply } from '@mart/proto';
import type { BrandDto, CreateBrandBody, ListBrandsQuery, UpdateBrandBody } from './brand.schemas.ts';

export function toBrandDto(brand: CommandReply<'brand.get'>): BrandDto {
  return {
    id: brand.id,
    name: brand.name,
    description: brand.description ?? null,
    createdAt: brand.createdAt,
    updatedAt: brand.updatedAt,
  };
}

/** Brand use cases; each is one command to db-service. */
export function brandService(rpc: RpcCaller) {
  return {
    async create(body: CreateBrandBody, requestId: string): Promise<BrandDto> {
      const brand = await rpc.call('brand.create', { id: randomUUID(), ...body }, { requestId });
      return toBrandDto(brand);
    },

    async update(id: string, body: UpdateBrandBody, requestId: string): Promise<BrandDto> {
      // null clears the description; the command carries that as an empty string.
      const description = body.description === null ? '' : body.description;
      const brand = await rpc.call('brand.update', { id, name: body.name, description }, { requestId });
      return toBrandDto(brand);
    },

    async remove(id: string, requestId: string): Promise<void> {
      await rpc.call('brand.delete', { id }, { requestId });
    },

    async get(id: string, requestId: string): Promise<BrandDto> {
      return toBrandDto(await rpc.call('brand.get', { id }, { requestId }));
    },

    async list(query: ListBrandsQuery, requestId: string) {
      const result = await rpc.call('brand.list', { page: { page: query.page, pageSize: query.pageSize }, q: query.q }, { requestId });
      return pagedReply(result, query, (brand) => toBrandDto(brand as CommandReply<'brand.get'>));
    },
  };
}
