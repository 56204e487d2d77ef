import { z } from '../http/zod.ts';
import { email, emailFilter, newPassword } from './account.ts';
import { displayName } from './text.ts';

/** A customer's fields, as the HTTP edge takes them; db-service stores all but the password, which reaches it hashed. */
export const customerFields = {
  email,
  password: newPassword,
  name: displayName,
  phone: z
    .string()
    .trim()
    .regex(/^\+?[0-9][0-9 ().-]{3,30}$/, 'expected a phone number such as +1 555 0100'),
};

/** The filters of a customer search. */
export const customerSearchFields = { email: emailFilter };
