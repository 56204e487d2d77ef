import { z } from '../http/zod.ts';

// The rules of a product's stock, for inventory-service's HTTP edge and for db-service, which checks
// again what it is sent (a product import reaches it with no edge in front).

/** The most units a count or a change can hold: db-service stores units in INTEGER columns. */
export const maxUnits = 2_147_483_647;

/** Units on hand, from 0 to maxUnits. */
export const units = z.number().int().min(0).max(maxUnits);

/** Units added (positive) or removed (negative); a change of nothing is no adjustment. */
export const unitsDelta = z
  .number()
  .int()
  .min(-maxUnits)
  .max(maxUnits)
  .refine((delta) => delta !== 0, 'must not be 0');

/** The stock a product is given outright (set, or with an import). */
export const stockFields = { onHand: units };

/** An adjustment of stock: how much, and why (kept in the product's trail). */
export const adjustmentFields = {
  delta: unitsDelta,
  reason: z.string().trim().min(1).max(200),
};
