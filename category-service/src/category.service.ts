import { randomUUID } from 'node:crypto';
import { pagedReply } from '@mart/common/http';
import type { RpcCaller } from '@mart/common/kafka';
import type { CommandReply } from '@mart/proto';
import type { CategoryDto, CreateCategoryBody, ListCategoriesQuery, UpdateCategoryBody } from './category.schemas.ts';

export function toCategoryDto(category: CommandReply<'category.get'>): CategoryDto {
  return {
    id: category.id,
    name: category.name,
    description: category.description ?? null,
    parentId: category.parentId ?? null,
    createdAt: category.createdAt,
    updatedAt: category.updatedAt,
  };
}

/** Category use cases; each is one command to db-service. */
export function categoryService(rpc: RpcCaller) {
  return {
    async create(body: CreateCategoryBody, requestId: string): Promise<CategoryDto> {
      const request = { id: randomUUID(), name: body.name, description: body.description, parentId: body.parentId ?? undefined };
      return toCategoryDto(await rpc.call('category.create', request, { requestId }));
    },

    async update(id: string, body: UpdateCategoryBody, requestId: string): Promise<CategoryDto> {
      // proto3 cannot carry an explicit null: an empty description clears it, clearParent moves to the top level.
      const description = body.description === null ? '' : body.description;
      const request = { id, name: body.name, description, parentId: body.parentId ?? undefined, clearParent: body.parentId === null };
      return toCategoryDto(await rpc.call('category.update', request, { requestId }));
    },

    async remove(id: string, requestId: string): Promise<void> {
      await rpc.call('category.delete', { id }, { requestId });
    },

    async get(id: string, requestId: string): Promise<CategoryDto> {
      return toCategoryDto(await rpc.call('category.get', { id }, { requestId }));
    },

    async list(query: ListCategoriesQuery, requestId: string) {
      const request = { page: { page: query.page, pageSize: query.pageSize }, parentId: query.parentId, rootsOnly: query.roots ?? false };
      const result = await rpc.call('category.list', request, { requestId });
      return pagedReply(result, query, (category) => toCategoryDto(category as CommandReply<'category.get'>));
    },
  };
}
