import { adjustmentFields, stockFields } from '@mart/common/domain/inventory';
import { pageOf, pageQuery, uuidSchema, z } from '@mart/common/zod';

export const stockSchema = z
  .object({
    productId: uuidSchema,
    onHand: z.number().int(),
    reserved: z.number().int().openapi({ description: 'Units held by unpaid orders' }),
    available: z.number().int().openapi({ description: 'onHand - reserved: what can be ordered now' }),
    updatedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Stock');

export const productIdParams = z.object({ productId: uuidSchema });

export const setStockBody = z.object(stockFields).strict().openapi('SetStock');

export const adjustStockBody = z
  .object({
    delta: adjustmentFields.delta.openapi({
      description: 'Units added (positive) or removed (negative); on hand never drops below reserved',
    }),
    reason: adjustmentFields.reason.openapi({ example: 'damaged in the warehouse' }),
  })
  .strict()
  .openapi('AdjustStock');

export const adjustmentSchema = z
  .object({
    id: uuidSchema,
    productId: uuidSchema,
    delta: z.number().int(),
    reason: z.string(),
    onHandAfter: z.number().int(),
    actorId: uuidSchema.nullable().openapi({ description: 'The staff user; null when an order was paid or refunded' }),
    createdAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('StockAdjustment');

export const adjustmentPageSchema = pageOf(adjustmentSchema, 'StockAdjustmentPage');
export const listAdjustmentsQuery = pageQuery;

export type StockDto = z.infer<typeof stockSchema>;
export type AdjustmentDto = z.infer<typeof adjustmentSchema>;
export type SetStockBody = z.infer<typeof setStockBody>;
export type AdjustStockBody = z.infer<typeof adjustStockBody>;
export type ListAdjustmentsQuery = z.infer<typeof listAdjustmentsQuery>;
