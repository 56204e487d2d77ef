import { z } from '../http/zod.ts';
import { displayName, searchText } from './text.ts';

/** A brand's fields, as the HTTP edge takes them and db-service stores them. */
export const brandFields = {
  /** Unique, whatever its case. */
  name: displayName,
  description: z.string().max(2000),
};

/** The filters of a brand search. */
export const brandSearchFields = { q: searchText };
