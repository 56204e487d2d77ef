// One error type per stable API code. The code travels in error replies over Kafka, so a
// not-found raised in db-service is rethrown as the same class at the HTTP edge.

export interface ErrorDetail {
  path: string;
  message: string;
  /** Where a bad request field was: body, query or params. */
  location?: string;
}

export const errorStatus = {
  validation_failed: 400,
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  insufficient_stock: 409,
  invalid_state: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  upstream_timeout: 504,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];

  constructor(code: ErrorCode, message: string, details: ErrorDetail[] = []) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export class ValidationError extends AppError {
  constructor(details: ErrorDetail[], message = 'Request validation failed') {
    super('validation_failed', message, details);
  }
}

export class BadRequestError extends AppError {
  constructor(message: string, details: ErrorDetail[] = []) {
    super('bad_request', message, details);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication required') {
    super('unauthorized', message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'Not allowed') {
    super('forbidden', message);
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'Not found') {
    super('not_found', message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, details: ErrorDetail[] = []) {
    super('conflict', message, details);
  }
}

export class InsufficientStockError extends AppError {
  constructor(message: string, details: ErrorDetail[] = []) {
    super('insufficient_stock', message, details);
  }
}

export class InvalidStateError extends AppError {
  constructor(message: string, details: ErrorDetail[] = []) {
    super('invalid_state', message, details);
  }
}

export class RateLimitedError extends AppError {
  constructor(message = 'Too many requests') {
    super('rate_limited', message);
  }
}

export class UnavailableError extends AppError {
  constructor(message = 'A dependency is unavailable') {
    super('unavailable', message);
  }
}

export class UpstreamTimeoutError extends AppError {
  constructor(message = 'The database service did not reply in time') {
    super('upstream_timeout', message);
  }
}

const classByCode: Partial<Record<ErrorCode, new (message: string, details: ErrorDetail[]) => AppError>> = {
  validation_failed: class extends ValidationError {
    constructor(message: string, details: ErrorDetail[]) {
      super(details, message);
    }
  },
  bad_request: BadRequestError,
  unauthorized: UnauthorizedError,
  forbidden: ForbiddenError,
  not_found: NotFoundError,
  conflict: ConflictError,
  insufficient_stock: InsufficientStockError,
  invalid_state: InvalidStateError,
  rate_limited: RateLimitedError,
  unavailable: UnavailableError,
  upstream_timeout: UpstreamTimeoutError,
};

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(errorStatus, code);
}

/** Rebuilds the typed error from an error reply's code; unknown codes become internal errors. */
export function errorFromReply(code: string, message: string, details: ErrorDetail[]): AppError {
  if (!isErrorCode(code)) return new AppError('internal', message, details);
  const ErrorClass = classByCode[code];
  return ErrorClass ? new ErrorClass(message, details) : new AppError(code, message, details);
}
