import { emailSchema, newPasswordSchema } from '@mart/common/credentials';
import { idParams, pageOf, pageQuery, uuidSchema, z } from '@mart/common/zod';

// No schema here has a password hash: a reply cannot carry one.
export const customerSchema = z
  .object({
    id: uuidSchema,
    email: z.string(),
    name: z.string(),
    phone: z.string().nullable(),
    createdAt: z.string().openapi({ format: 'date-time' }),
    updatedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Customer');

const name = z.string().trim().min(1).max(200);
const phone = z
  .string()
  .trim()
  .regex(/^\+?[0-9][0-9 ().-]{3,30}$/, 'expected a phone number such as +1 555 0100');

export const registerCustomerBody = z
  .object({ email: emailSchema, password: newPasswordSchema, name, phone: phone.optional() })
  .strict()
  .openapi('RegisterCustomer');

export const updateMeBody = z
  .object({ name: name.optional(), phone: phone.nullable().optional() })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'at least one of name, phone is required' })
  .openapi('UpdateCustomer');

export const changePasswordBody = z
  .object({ currentPassword: z.string().min(1).max(1024), newPassword: newPasswordSchema })
  .strict()
  .openapi('ChangePassword');

export const listCustomersQuery = pageQuery.extend({
  email: z.string().trim().min(1).max(254).optional().openapi({ description: 'part of the email address' }),
});

export const customerPageSchema = pageOf(customerSchema, 'CustomerPage');
export const customerIdParams = idParams;

export type CustomerDto = z.infer<typeof customerSchema>;
export type RegisterCustomerBody = z.infer<typeof registerCustomerBody>;
export type UpdateMeBody = z.infer<typeof updateMeBody>;
export type ChangePasswordBody = z.infer<typeof changePasswordBody>;
export type ListCustomersQuery = z.infer<typeof listCustomersQuery>;
