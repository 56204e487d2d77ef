import { z } from '../http/zod.ts';
import { cents, currency } from './money.ts';
import { displayName, searchText } from './text.ts';

/** A product's own fields, as the HTTP edge takes them and db-service stores them. */
export const productFields = {
  /** Unique; starts with a letter or digit, so it reads well in URLs, CSV files and labels. */
  sku: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'letters, digits and . _ / - only'),
  name: displayName,
  description: z.string().max(5000),
  priceCents: cents,
  currency,
};

/** The filters of a product search. */
export const productSearchFields = {
  q: searchText,
  minPriceCents: cents,
  maxPriceCents: cents,
};

/** A search's price range: its upper bound may not be below its lower one (the detail names the upper). */
export const orderedPriceRange = {
  check: (range: { minPriceCents?: number | null; maxPriceCents?: number | null }) =>
    range.minPriceCents == null || range.maxPriceCents == null || range.minPriceCents <= range.maxPriceCents,
  issue: { message: 'must not be below minPriceCents', path: ['maxPriceCents'] },
};
