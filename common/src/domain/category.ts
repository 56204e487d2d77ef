import { z } from '../http/zod.ts';
import { displayName } from './text.ts';

/** A category's fields, as the HTTP edge takes them and db-service stores them. */
export const categoryFields = {
  /** Unique among its siblings, whatever its case. */
  name: displayName,
  description: z.string().max(2000),
};
