import { notificationStatuses } from '@mart/common/domain/notification';
import { pageOf, pageQuery, uuidSchema, z } from '@mart/common/zod';

export const notificationStatusSchema = z.enum(notificationStatuses);

export const notificationSchema = z
  .object({
    id: uuidSchema,
    type: z.string().openapi({ example: 'order.paid' }),
    to: z.string(),
    subject: z.string(),
    body: z.string().openapi({ description: 'Plain text, as sent' }),
    status: notificationStatusSchema,
    attempts: z.number().int(),
    provider: z
      .string()
      .nullable()
      .openapi({ description: 'The transport of the last attempt: gmail, or local without Gmail credentials; null before the first' }),
    providerMessageId: z.string().optional(),
    lastError: z.string().optional(),
    nextAttemptAt: z.string().optional().openapi({ format: 'date-time', description: 'When a PENDING email is tried again' }),
    createdAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Notification');

export const listNotificationsQuery = pageQuery.extend({
  to: z.string().trim().min(3).max(320).optional(),
  type: z.string().trim().min(1).max(100).optional(),
  status: notificationStatusSchema.optional(),
});

export const notificationPageSchema = pageOf(notificationSchema, 'NotificationPage');

export type NotificationDto = z.infer<typeof notificationSchema>;
export type ListNotificationsQuery = z.infer<typeof listNotificationsQuery>;
