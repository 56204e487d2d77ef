import type { Handlers } from '../handler.ts';
import { authHandlers } from './auth.handlers.ts';
import { brandHandlers } from './brand.handlers.ts';
import { categoryHandlers } from './category.handlers.ts';
import { customerHandlers } from './customer.handlers.ts';
import { inventoryHandlers } from './inventory.handlers.ts';
import { orderHandlers } from './order.handlers.ts';
import { notificationHandlers } from './notification.handlers.ts';
import { paymentHandlers } from './payment.handlers.ts';
import { productHandlers } from './product.handlers.ts';
import { systemHandlers } from './system.handlers.ts';
import { userHandlers } from './user.handlers.ts';

/** Every command db-service applies: adding one is a registry entry in proto/ plus a handler here. */
export function allHandlers(instance: string): Handlers {
  return {
    ...systemHandlers(instance),
    ...brandHandlers,
    ...categoryHandlers,
    ...productHandlers,
    ...inventoryHandlers,
    ...orderHandlers,
    ...userHandlers,
    ...customerHandlers,
    ...authHandlers,
    ...paymentHandlers,
    ...notificationHandlers,
  };
}
