import { pino, type Logger } from 'pino';

export type { Logger };

// Structured JSON logs; secrets that may pass through request objects are redacted at the source.
export function createLogger(service: string, level: string): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.passwordHash', '*.refreshToken', '*.accessToken'],
      censor: '[redacted]',
    },
  });
}
