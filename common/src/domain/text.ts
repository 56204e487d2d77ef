import { z } from '../http/zod.ts';

/** The name of a brand, category, product, customer or staff user: trimmed, 1 to 200 characters. */
export const displayName = z.string().trim().min(1).max(200);

/** The words typed into a search box: trimmed, 1 to 100 characters. */
export const searchText = z.string().trim().min(1).max(100);
