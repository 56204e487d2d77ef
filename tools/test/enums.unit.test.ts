// The three spellings of each enum (the proto's, the Prisma schema's and the HTTP API's) are
// written in three layers; this test fails as soon as one of them gains, loses or renames a value.
import { expect } from 'chai';
import { mart } from '@mart/proto';
import * as prisma from '../../db-service/src/generated/prisma/enums.ts';
import { notificationStatuses } from '../../notification-service/src/notification.schemas.ts';
import { orderStatuses } from '../../order-service/src/order.schemas.ts';
import { paymentProviders, paymentStatuses, refundStatuses } from '../../payment-service/src/payment.schemas.ts';
import { roleSchema } from '../../user-service/src/user.schemas.ts';

/** A proto enum's value names without its prefix and its UNSPECIFIED zero. */
function protoNames(values: Record<string, number | string>, prefix: string): string[] {
  return Object.keys(values)
    .filter((name) => Number.isNaN(Number(name)) && name !== `${prefix}UNSPECIFIED`)
    .map((name) => name.slice(prefix.length))
    .sort();
}

const upper = (values: readonly string[]) => values.map((value) => value.toUpperCase()).sort();

const enums = [
  { name: 'OrderStatus', proto: protoNames(mart.order.OrderStatus, 'ORDER_STATUS_'), prisma: prisma.OrderStatus, api: orderStatuses },
  {
    name: 'PaymentStatus',
    proto: protoNames(mart.payment.PaymentStatus, 'PAYMENT_STATUS_'),
    prisma: prisma.PaymentStatus,
    api: paymentStatuses,
  },
  {
    name: 'RefundStatus',
    proto: protoNames(mart.payment.RefundStatus, 'REFUND_STATUS_'),
    prisma: prisma.RefundStatus,
    api: refundStatuses,
  },
  {
    name: 'PaymentProvider',
    proto: protoNames(mart.payment.PaymentProvider, 'PAYMENT_PROVIDER_'),
    prisma: prisma.PaymentProvider,
    api: paymentProviders,
  },
  {
    name: 'NotificationStatus',
    proto: protoNames(mart.notification.NotificationStatus, 'NOTIFICATION_STATUS_'),
    prisma: prisma.NotificationStatus,
    api: notificationStatuses,
  },
  { name: 'StaffRole', proto: protoNames(mart.user.StaffRole, 'STAFF_ROLE_'), prisma: prisma.StaffRole, api: roleSchema.options },
];

describe('enums: the proto, the Prisma schema and the HTTP API name the same values', () => {
  for (const { name, proto, prisma: stored, api } of enums) {
    it(name, () => {
      expect(proto, `mart ${name} has values`).to.not.be.empty;
      expect(Object.values(stored).sort(), `Prisma's ${name} against the proto's`).to.deep.equal(proto);
      expect(upper(api), `the API's ${name} against the proto's`).to.deep.equal(proto);
    });
  }
});
