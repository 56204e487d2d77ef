import type { Request, Response } from 'express';
import type { z } from 'zod';
import { ValidationError, type ErrorDetail } from '../errors.ts';
import { authorize, type Access, type Principal } from './auth.ts';
import { issueDetails } from './zod.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type AnyObject = z.ZodType<Record<string, unknown>>;

export interface HandlerInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal | undefined;
  requestId: string;
  req: Request;
  res: Response;
}

/**
 * One HTTP endpoint: the same zod schemas validate the request, type the handler and
 * produce the OpenAPI document, so the docs cannot drift from the code.
 */
export interface RouteDefinition<P = unknown, Q = unknown, B = unknown> {
  method: Method;
  path: string;
  summary: string;
  tags?: string[];
  access: Access;
  params?: AnyObject;
  query?: AnyObject;
  body?: z.ZodType;
  /** Extra documented request headers, e.g. Idempotency-Key. */
  headers?: AnyObject;
  status: number;
  response?: z.ZodType;
  /** Error statuses worth documenting beyond the ones implied by access and validation. */
  errors?: number[];
  handler(input: HandlerInput<P, Q, B>): Promise<unknown>;
}

type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

export function defineRoute<
  PS extends AnyObject | undefined = undefined,
  QS extends AnyObject | undefined = undefined,
  BS extends z.ZodType | undefined = undefined,
>(
  route: Omit<RouteDefinition, 'handler' | 'params' | 'query' | 'body'> & {
    params?: PS;
    query?: QS;
    body?: BS;
    handler(input: HandlerInput<Infer<PS>, Infer<QS>, Infer<BS>>): Promise<unknown>;
  },
): RouteDefinition {
  return route as RouteDefinition;
}

function parsePart(schema: z.ZodType | undefined, value: unknown, location: string, details: ErrorDetail[]): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  details.push(...issueDetails(result.error.issues, { location }));
  return undefined;
}

interface Visit {
  value: unknown;
  key?: string;
  parent?: Visit;
}

function pathOf(visit: Visit): string {
  const keys: string[] = [];
  for (let node: Visit | undefined = visit; node?.key !== undefined; node = node.parent) keys.unshift(node.key);
  return keys.join('.');
}

/**
 * Strings holding U+0000, which PostgreSQL cannot store in text: refused at the edge, or they reach
 * db-service and fail there as a 500. Walked without recursion, as the body may be deeply nested.
 */
function nulCharacters(value: unknown, location: string, details: ErrorDetail[]): void {
  const pending: Visit[] = [{ value }];
  for (let visit = pending.pop(); visit; visit = pending.pop()) {
    if (typeof visit.value === 'string' && visit.value.includes('\u0000'))
      details.push({ path: pathOf(visit) || location, message: 'must not contain the NUL character (U+0000)', location });
    else if (typeof visit.value === 'object' && visit.value !== null)
      for (const [key, child] of Object.entries(visit.value)) pending.push({ value: child, key, parent: visit });
  }
}

/** Validates params, query and body together so one 400 names every bad field. */
export function parseRequest(route: RouteDefinition, req: Request): { params: unknown; query: unknown; body: unknown } {
  const details: ErrorDetail[] = [];
  nulCharacters(req.params, 'params', details);
  nulCharacters(req.query, 'query', details);
  if (route.body) nulCharacters(req.body, 'body', details);
  const params = parsePart(route.params, req.params, 'params', details);
  const query = parsePart(route.query, req.query, 'query', details);
  const body = parsePart(route.body, req.body ?? {}, 'body', details);
  if (details.length > 0) throw new ValidationError(details);
  return { params, query, body };
}

export function checkAccess(route: RouteDefinition, principal: Principal | undefined): void {
  authorize(route.access, principal);
}
