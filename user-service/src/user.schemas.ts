import { userFields } from '@mart/common/domain/user';
import { idParams, pageOf, pageQuery, uuidSchema, z } from '@mart/common/zod';
import { staffRole } from '@mart/proto/enums';

export const roleSchema = z.enum(staffRole.lower.names).openapi('StaffRole');

// No schema here has a password hash: a reply cannot carry one.
export const userSchema = z
  .object({
    id: uuidSchema,
    email: z.string(),
    name: z.string(),
    role: roleSchema,
    createdAt: z.string().openapi({ format: 'date-time' }),
    updatedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('User');

const { email, name, password } = userFields;

export const createUserBody = z.object({ email, name, password, role: roleSchema }).strict().openapi('CreateUser');

export const updateUserBody = z
  .object({ name: name.optional(), role: roleSchema.optional(), password: password.optional() })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'at least one of name, role, password is required' })
  .openapi('UpdateUser');

export const listUsersQuery = pageQuery;
export const userPageSchema = pageOf(userSchema, 'UserPage');
export const userIdParams = idParams;

export type Role = z.infer<typeof roleSchema>;
export type UserDto = z.infer<typeof userSchema>;
export type CreateUserBody = z.infer<typeof createUserBody>;
export type UpdateUserBody = z.infer<typeof updateUserBody>;
export type ListUsersQuery = z.infer<typeof listUsersQuery>;
