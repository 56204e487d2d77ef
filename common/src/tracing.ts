import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

// W3C Trace Context (https://www.w3.org/TR/trace-context/): `traceparent` is
// `<version>-<trace-id>-<parent-id>-<flags>`, lower-case hex of 2, 32, 16 and 2 digits. Mart
// carries it in HTTP and Kafka headers so one request can be followed across services in the logs.

export interface TraceContext {
  traceId: string;
  parentId: string;
  flags: string;
}

const format = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The trace context of a `traceparent` header, or undefined when it is absent or invalid. */
export function parseTraceparent(header: string | string[] | undefined): TraceContext | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value === undefined ? null : format.exec(value.trim());
  if (!match) return undefined;
  const [, version, traceId, parentId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  // Version ff is forbidden; version 00 has exactly four fields; later versions may add more.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return undefined;
  return { traceId, parentId, flags };
}

export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.parentId}-${context.flags}`;
}

/**
 * The traceparent of a new span: the incoming trace continues (same trace id and flags, new
 * parent id); without a valid incoming one a new sampled trace starts.
 */
export function childTraceparent(incoming?: string | string[]): string {
  const parent = parseTraceparent(incoming);
  // Random hex from randomUUID, which draws on a cache of random bytes: randomBytes asks the kernel
  // on every call, and that was 3 % of product-service's CPU in W1 (a span per request and command).
  // 30 of a UUID's 32 hex digits are random; the span id leaves out the version digit (index 12).
  const randomHex = () => randomUUID().replaceAll('-', '');
  return formatTraceparent({
    traceId: parent?.traceId ?? randomHex(),
    parentId: randomHex().slice(16),
    flags: parent?.flags ?? '01',
  });
}

export function traceIdOf(traceparent: string | undefined): string | undefined {
  return parseTraceparent(traceparent)?.traceId;
}

const current = new AsyncLocalStorage<string>();

/** Runs work with a traceparent that RpcClient.call sends along unless told another. */
export function withTraceparent<T>(traceparent: string | undefined, work: () => T): T {
  return traceparent ? current.run(traceparent, work) : work();
}

export function currentTraceparent(): string | undefined {
  return current.getStore();
}
