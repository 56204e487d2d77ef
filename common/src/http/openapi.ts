import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { errorStatus } from '../errors.ts';
import type { RouteDefinition } from './route.ts';
import { errorBodySchema } from './zod.ts';

const errorDescriptions: Record<number, string> = {
  400: 'validation_failed or bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict, insufficient_stock or invalid_state',
  413: 'payload_too_large',
  429: 'rate_limited',
  503: 'unavailable',
  504: 'upstream_timeout',
};

function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function documentedErrors(route: RouteDefinition): number[] {
  const statuses = new Set<number>([503, 504, ...(route.errors ?? [])]);
  if (route.params || route.query || route.body) statuses.add(errorStatus.validation_failed);
  if (route.access !== 'public') statuses.add(401);
  if (route.access !== 'public' && route.access !== 'authenticated') statuses.add(403);
  return [...statuses].sort();
}

export function buildOpenApiDocument(info: { title: string; version: string; description?: string }, routes: RouteDefinition[]) {
  const registry = new OpenAPIRegistry();
  registry.register('Error', errorBodySchema);
  const bearer = registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });
  for (const route of routes) {
    const responses: Record<string, object> = {
      [route.status]: route.response
        ? { description: route.summary, content: { 'application/json': { schema: route.response } } }
        : { description: route.summary },
    };
    for (const status of documentedErrors(route)) {
      responses[status] = {
        description: errorDescriptions[status] ?? 'error',
        content: { 'application/json': { schema: errorBodySchema } },
      };
    }
    registry.registerPath({
      method: route.method,
      path: openApiPath(route.path),
      summary: route.summary,
      description: route.access === 'public' ? 'Open to anyone.' : `Requires a ${route.access} access token.`,
      tags: route.tags ?? [],
      security: route.access === 'public' ? [] : [{ [bearer.name]: [] }],
      request: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query } : {}),
        ...(route.headers ? { headers: route.headers } : {}),
        ...(route.body ? { body: { content: { 'application/json': { schema: route.body } } } } : {}),
      },
      responses,
    } as Parameters<typeof registry.registerPath>[0]);
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({ openapi: '3.1.0', info });
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;
