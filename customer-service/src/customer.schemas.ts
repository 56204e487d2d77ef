import { givenPassword } from '@mart/common/domain/account';
import { customerFields, customerSearchFields } from '@mart/common/domain/customer';
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

const { email, password, name, phone } = customerFields;

export const registerCustomerBody = z.object({ email, password, name, phone: phone.optional() }).strict().openapi('RegisterCustomer');

export const updateMeBody = z
  .object({ name: name.optional(), phone: phone.nullable().optional() })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'at least one of name, phone is required' })
  .openapi('UpdateCustomer');

export const changePasswordBody = z.object({ currentPassword: givenPassword, newPassword: password }).strict().openapi('ChangePassword');

export const listCustomersQuery = pageQuery.extend({
  email: customerSearchFields.email.optional().openapi({ description: 'part of the email address' }),
});

export const customerPageSchema = pageOf(customerSchema, 'CustomerPage');
export const customerIdParams = idParams;

export type CustomerDto = z.infer<typeof customerSchema>;
export type RegisterCustomerBody = z.infer<typeof registerCustomerBody>;
export type UpdateMeBody = z.infer<typeof updateMeBody>;
export type ChangePasswordBody = z.infer<typeof changePasswordBody>;
export type ListCustomersQuery = z.infer<typeof listCustomersQuery>;
