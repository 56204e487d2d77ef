import { email, newPassword } from './account.ts';
import { displayName } from './text.ts';

/** A staff user's fields, as the HTTP edge takes them; db-service stores all but the password, which reaches it hashed. */
export const userFields = {
  email,
  password: newPassword,
  name: displayName,
};
