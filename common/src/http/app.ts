import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import swaggerUi from 'swagger-ui-express';
import { AppError, NotFoundError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { metrics, metricsRegistry } from '../metrics.ts';
import { childTraceparent, traceIdOf, withTraceparent } from '../tracing.ts';
import type { TokenVerifier } from './auth.ts';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi.ts';
import { checkAccess, parseRequest, type RouteDefinition } from './route.ts';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, boolean>;
}

/** A service's API and the check of its callers' tokens; db-service serves only probes and has neither. */
type Api = { routes: RouteDefinition[]; verifier: TokenVerifier } | { routes?: undefined; verifier?: undefined };

export type HttpAppOptions = Api & {
  service: string;
  description?: string;
  logger: Logger;
  readiness(): Promise<ReadinessReport>;
  jsonLimit: string;
  /** Mounted before the JSON parser, e.g. a webhook that needs the raw body. */
  beforeBodyParsing?(app: Express): void;
  /** Adds what routes cannot express (another security scheme, a form body) to the generated document. */
  amendOpenApi?(document: OpenApiDocument): void;
};

const requestIdPattern = /^[A-Za-z0-9._-]{1,64}$/;
const quietPaths = new Set(['/health', '/ready', '/metrics']);

function requestId(req: Request): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
}

function errorBody(error: AppError, id: string) {
  return { error: { code: error.code, message: error.message, details: error.details }, requestId: id };
}

// body-parser's error types (they carry `type`) and the Mart error each one is.
const parserErrors: Record<string, () => AppError> = {
  'entity.too.large': () => new AppError('payload_too_large', 'Request body is too large'),
  'entity.parse.failed': () => new AppError('bad_request', 'Request body is not valid JSON'),
  'encoding.unsupported': () => new AppError('bad_request', 'Unsupported content encoding'),
  'charset.unsupported': () => new AppError('bad_request', 'Unsupported charset'),
  'request.aborted': () => new AppError('bad_request', 'Request aborted'),
  'request.size.invalid': () => new AppError('bad_request', 'Request size does not match its content-length'),
};

function fromParserError(error: unknown): AppError | undefined {
  const { type, status } = (error ?? {}) as { type?: unknown; status?: unknown };
  const known = typeof type === 'string' ? parserErrors[type]?.() : undefined;
  if (known) return known;
  // Other client errors the parsers and the router raise (a corrupt gzip body, a broken %-escape in
  // the path) carry a 4xx status: the request was bad, so it must not be answered as a 500.
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  return status === 413 ? parserErrors['entity.too.large']!() : new AppError('bad_request', 'The request could not be read');
}

/** The Express app every Mart HTTP service runs: the same edges, errors and probes everywhere. */
export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // W3C trace context: continue the caller's trace (or start one) as a span of this service;
  // commands sent while handling the request carry it through Kafka.
  const traceparents = new WeakMap<object, string>();
  app.use(((req, _res, next) => {
    traceparents.set(req, childTraceparent(req.headers.traceparent));
    next();
  }) as RequestHandler);

  app.use(
    pinoHttp({
      logger: options.logger,
      customProps: (req) => ({ traceId: traceIdOf(traceparents.get(req)) }),
      genReqId: (req, res) => {
        const id = requestId(req as Request);
        res.setHeader('x-request-id', id);
        return id;
      },
      autoLogging: { ignore: (req) => quietPaths.has(req.url ?? '') },
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );

  app.use(((req, res, next) => {
    const end = metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      end({ route, status: String(res.statusCode) });
    });
    next();
  }) as RequestHandler);

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', service: options.service });
  });
  app.get('/ready', async (_req, res) => {
    const report = await options.readiness().catch(() => ({ ready: false, checks: {} }));
    res
      .status(report.ready ? 200 : 503)
      .json({ status: report.ready ? 'ready' : 'not_ready', service: options.service, checks: report.checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metricsRegistry.contentType).send(await metricsRegistry.metrics());
  });

  const document = buildOpenApiDocument(
    { title: options.service, version: '0.1.0', ...(options.description ? { description: options.description } : {}) },
    options.routes ?? [],
  );
  options.amendOpenApi?.(document);
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(document, { customSiteTitle: `Mart ${options.service}` }));

  options.beforeBodyParsing?.(app);
  app.use(express.json({ limit: options.jsonLimit, strict: true }));

  if (options.verifier) mountRoutes(app, options.routes, options.verifier, traceparents);

  app.use((req) => {
    throw new NotFoundError(`No route for ${req.method} ${req.path}`);
  });

  app.use(((error: unknown, req, res, _next) => {
    const appError = error instanceof AppError ? error : (fromParserError(error) ?? new AppError('internal', 'Internal server error'));
    if (appError.code === 'internal') req.log.error({ err: error }, 'unhandled error');
    // A handler that knows when the limit resets says so; otherwise clients are told a minute.
    if (appError.code === 'rate_limited' && !res.hasHeader('retry-after')) res.setHeader('retry-after', '60');
    res.status(appError.status).json(errorBody(appError, String(req.id)));
  }) as ErrorRequestHandler);

  return app;
}

function mountRoutes(app: Express, routes: RouteDefinition[], verifier: TokenVerifier, traceparents: WeakMap<object, string>): void {
  for (const route of routes) {
    app[route.method](route.path, async (req, res) => {
      const principal = verifier.fromHeader(req.headers.authorization);
      checkAccess(route, principal);
      const { params, query, body } = parseRequest(route, req);
      const result = await withTraceparent(traceparents.get(req), () =>
        route.handler({ params, query, body, principal, requestId: String(req.id), req, res }),
      );
      if (res.headersSent) return;
      if (result === undefined || route.status === 204) res.status(route.status).end();
      else res.status(route.status).json(result);
    });
  }
}
