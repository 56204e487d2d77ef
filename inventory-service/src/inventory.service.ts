import { pagedReply, type Principal } from '@mart/common/http';
import type { RpcCaller } from '@mart/common/kafka';
import type { CommandReply } from '@mart/proto';
import type { AdjustmentDto, AdjustStockBody, ListAdjustmentsQuery, SetStockBody, StockDto } from './inventory.schemas.ts';

export function toStockDto(stock: CommandReply<'inventory.get'>): StockDto {
  return {
    productId: stock.productId,
    onHand: stock.onHand,
    reserved: stock.reserved,
    available: stock.available,
    updatedAt: stock.updatedAt,
  };
}

function toAdjustmentDto(adjustment: CommandReply<'inventory.list-adjustments'>['items'][number]): AdjustmentDto {
  return {
    id: adjustment.id ?? '',
    productId: adjustment.productId ?? '',
    delta: Number(adjustment.delta),
    reason: adjustment.reason ?? '',
    onHandAfter: Number(adjustment.onHandAfter),
    actorId: adjustment.actorId || null,
    createdAt: adjustment.createdAt ?? '',
  };
}

/** Stock use cases for staff; each is one command to db-service, which keeps on hand ≥ reserved. */
export function inventoryService(rpc: RpcCaller) {
  return {
    async get(productId: string, requestId: string): Promise<StockDto> {
      return toStockDto(await rpc.call('inventory.get', { productId }, { requestId }));
    },

    async set(productId: string, body: SetStockBody, actor: Principal, requestId: string): Promise<StockDto> {
      return toStockDto(await rpc.call('inventory.set', { productId, onHand: body.onHand, actorId: actor.sub }, { requestId }));
    },

    async adjust(productId: string, body: AdjustStockBody, actor: Principal, requestId: string): Promise<StockDto> {
      const request = { productId, delta: body.delta, reason: body.reason, actorId: actor.sub };
      return toStockDto(await rpc.call('inventory.adjust', request, { requestId }));
    },

    async listAdjustments(productId: string, query: ListAdjustmentsQuery, requestId: string) {
      const result = await rpc.call(
        'inventory.list-adjustments',
        { productId, page: { page: query.page, pageSize: query.pageSize } },
        { requestId },
      );
      return pagedReply(result, query, toAdjustmentDto);
    },
  };
}
