import { defineRoute, type RouteDefinition } from '@mart/common/http';
import type { ServiceRuntime } from '@mart/common/service';
import { listNotificationsQuery, notificationPageSchema } from './notification.schemas.ts';
import { notificationService } from './notification.service.ts';

export function notificationRoutes({ rpc }: Pick<ServiceRuntime, 'rpc'>): RouteDefinition[] {
  const notifications = notificationService(rpc);
  return [
    defineRoute({
      method: 'get',
      path: '/notifications',
      summary: 'Every email Mart tried to send, newest first (filters: to, type, status)',
      tags: ['notifications'],
      access: 'staff',
      query: listNotificationsQuery,
      status: 200,
      response: notificationPageSchema,
      handler: ({ query, requestId }) => notifications.list(query, requestId),
    }),
  ];
}
