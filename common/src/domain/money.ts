import { z } from '../http/zod.ts';

// Money is an integer amount of minor units plus an ISO 4217 code (docs/API.md): the rules of both,
// for the HTTP edge and for db-service, which checks again what it is sent.

/** The largest amount: db-service stores amounts in INTEGER columns. */
export const maxCents = 2_147_483_647;

/** An amount in minor units (cents), from 0 to maxCents. */
export const cents = z.number().int().min(0).max(maxCents);

const isoCurrencies = new Set(Intl.supportedValuesOf('currency'));

/** An ISO 4217 code; Intl knows the list, in upper case. */
export const currency = z
  .string()
  .refine((code) => isoCurrencies.has(code), 'expected an upper-case ISO 4217 code such as USD')
  .openapi({ example: 'USD' });

/** The currency of a price given without one. */
export const defaultCurrency = 'USD';
