import { randomUUID } from 'node:crypto';
import { isStaff, pagedReply, type Principal } from '@mart/common/http';
import type { RpcCaller } from '@mart/common/kafka';
import { mart, type CommandReply } from '@mart/proto';
import type { CreateProductBody, ListProductsQuery, ProductDto, UpdateProductBody } from './product.schemas.ts';

const { ProductSort } = mart.product;
const sortOrders: Record<ListProductsQuery['sort'], mart.product.ProductSort> = {
  name: ProductSort.PRODUCT_SORT_NAME,
  price: ProductSort.PRODUCT_SORT_PRICE,
  '-price': ProductSort.PRODUCT_SORT_PRICE_DESC,
  '-createdAt': ProductSort.PRODUCT_SORT_CREATED_DESC,
};

export function toProductDto(product: CommandReply<'product.get'>): ProductDto {
  return {
    id: product.id,
    sku: product.sku,
    name: product.name,
    description: product.description,
    priceCents: product.priceCents,
    currency: product.currency,
    brandId: product.brandId,
    categoryId: product.categoryId,
    active: product.active,
    available: product.available,
    createdAt: product.createdAt,
    updatedAt: product.updatedAt,
  };
}

/** Product use cases; each is one command to db-service. Only staff see inactive products. */
export function productService(rpc: RpcCaller) {
  return {
    async create(body: CreateProductBody, requestId: string): Promise<ProductDto> {
      const request = { id: randomUUID(), ...body, description: body.description ?? '' };
      return toProductDto(await rpc.call('product.create', request, { requestId }));
    },

    async update(id: string, body: UpdateProductBody, requestId: string): Promise<ProductDto> {
      return toProductDto(await rpc.call('product.update', { id, ...body }, { requestId }));
    },

    async remove(id: string, requestId: string): Promise<void> {
      await rpc.call('product.delete', { id }, { requestId });
    },

    async get(id: string, viewer: Principal | undefined, requestId: string): Promise<ProductDto> {
      return toProductDto(await rpc.call('product.get', { id, includeInactive: isStaff(viewer) }, { requestId }));
    },

    async list(query: ListProductsQuery, viewer: Principal | undefined, requestId: string) {
      const request = {
        page: { page: query.page, pageSize: query.pageSize },
        q: query.q,
        brandId: query.brandId,
        categoryId: query.categoryId,
        minPriceCents: query.minPriceCents,
        maxPriceCents: query.maxPriceCents,
        inStock: query.inStock ?? false,
        sort: sortOrders[query.sort],
        includeInactive: isStaff(viewer),
      };
      const result = await rpc.call('product.list', request, { requestId });
      return pagedReply(result, query, (product) => toProductDto(product as CommandReply<'product.get'>));
    },
  };
}
