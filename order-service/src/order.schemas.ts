import { orderLimits, orderStatuses } from '@mart/common/domain/order';
import { idParams, pageOf, pageQuery, uuidSchema, z } from '@mart/common/zod';

export const orderStatusSchema = z.enum(orderStatuses).openapi('OrderStatus');

const text = (max: number) => z.string().trim().min(1).max(max);

export const addressSchema = z
  .object({
    line1: text(200),
    line2: text(200).optional(),
    city: text(100),
    postalCode: text(20),
    country: text(100),
  })
  .strict()
  .openapi('Address');

const orderLine = z
  .object({
    productId: uuidSchema,
    quantity: z.number().int().min(1).max(orderLimits.quantity),
  })
  .strict();

export const placeOrderBody = z
  .object({
    items: z
      .array(orderLine)
      .min(1)
      .max(orderLimits.lines)
      // One line per product: a second line would be ambiguous (add up? replace?), so it is refused.
      .superRefine((items, context) => {
        const seen = new Set<string>();
        items.forEach((item, index) => {
          const id = item.productId.toLowerCase();
          if (seen.has(id)) context.addIssue({ code: 'custom', path: [index, 'productId'], message: 'appears in an earlier line' });
          seen.add(id);
        });
      }),
    shippingAddress: addressSchema,
  })
  .strict()
  .openapi('PlaceOrder');

export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]+$/, 'must be visible ASCII characters')
  .max(orderLimits.idempotencyKey)
  .openapi({ description: 'Repeating a request with the same key returns the same order and reserves nothing more' });

export const placeOrderHeaders = z.object({ 'Idempotency-Key': idempotencyKeySchema.optional() });

export const orderItemSchema = z
  .object({
    productId: uuidSchema,
    quantity: z.number().int(),
    unitPriceCents: z.number().int(),
    sku: z.string(),
    name: z.string(),
  })
  .openapi('OrderItem');

export const orderSchema = z
  .object({
    id: uuidSchema,
    customerId: uuidSchema,
    status: orderStatusSchema,
    items: z.array(orderItemSchema),
    totalCents: z.number().int(),
    currency: z.string().openapi({ example: 'USD' }),
    shippingAddress: addressSchema,
    createdAt: z.string().openapi({ format: 'date-time' }),
    expiresAt: z.string().openapi({ format: 'date-time', description: 'When an unpaid order is cancelled' }),
    updatedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Order');

export const listOrdersQuery = pageQuery.extend({
  status: orderStatusSchema.optional(),
  customerId: uuidSchema.optional().openapi({ description: 'Staff only; a customer always sees their own orders' }),
});

export const orderPageSchema = pageOf(orderSchema, 'OrderPage');
export const orderIdParams = idParams;

export type OrderDto = z.infer<typeof orderSchema>;
export type PlaceOrderBody = z.infer<typeof placeOrderBody>;
export type ListOrdersQuery = z.infer<typeof listOrdersQuery>;
