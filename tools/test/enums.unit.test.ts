// Each enum is spelled by the proto, from which @mart/proto/enums derives the HTTP API's zod enums
// and the state machines' keys, and again by the Prisma schema, which cannot be generated from it.
// This test fails as soon as one of them gains, loses or renames a value.
import { expect } from 'chai';
import { nextNotificationStatuses } from '@mart/common/domain/notification';
import { nextOrderStatuses } from '@mart/common/domain/order';
import { nextPaymentStatuses, nextRefundStatuses } from '@mart/common/domain/payment';
import { mart } from '@mart/proto';
import * as codecs from '@mart/proto/enums';
import * as prisma from '../../db-service/src/generated/prisma/enums.ts';
import { notificationStatusSchema } from '../../notification-service/src/notification.schemas.ts';
import { orderStatusSchema } from '../../order-service/src/order.schemas.ts';
import { paymentProviderSchema, paymentStatusSchema, refundStatusSchema } from '../../payment-service/src/payment.schemas.ts';
import { roleSchema } from '../../user-service/src/user.schemas.ts';

/** A proto enum's value names without its prefix and its UNSPECIFIED zero, read without the codec. */
function protoNames(values: Record<string, number | string>, prefix: string): string[] {
  return Object.keys(values)
    .filter((name) => Number.isNaN(Number(name)) && name !== `${prefix}UNSPECIFIED`)
    .map((name) => name.slice(prefix.length))
    .sort();
}

const sorted = (values: Iterable<string>) => [...values].sort();

interface Spelling {
  name: string;
  proto: string[];
  codec: codecs.CasedEnumCodec<string, number>;
  prisma: Record<string, string>;
  /** The HTTP API's zod enum and whether it spells the names in lower case; none for an enum the API never shows. */
  api?: { options: readonly string[]; lower?: true };
  /** A state machine over the enum, keyed by every status. */
  states?: Record<string, readonly string[]>;
}

const enums: Spelling[] = [
  {
    name: 'OrderStatus',
    proto: protoNames(mart.order.OrderStatus, 'ORDER_STATUS_'),
    codec: codecs.orderStatus,
    prisma: prisma.OrderStatus,
    api: orderStatusSchema,
    states: nextOrderStatuses,
  },
  {
    name: 'PaymentStatus',
    proto: protoNames(mart.payment.PaymentStatus, 'PAYMENT_STATUS_'),
    codec: codecs.paymentStatus,
    prisma: prisma.PaymentStatus,
    api: paymentStatusSchema,
    states: nextPaymentStatuses,
  },
  {
    name: 'RefundStatus',
    proto: protoNames(mart.payment.RefundStatus, 'REFUND_STATUS_'),
    codec: codecs.refundStatus,
    prisma: prisma.RefundStatus,
    api: refundStatusSchema,
    states: nextRefundStatuses,
  },
  {
    name: 'PaymentProvider',
    proto: protoNames(mart.payment.PaymentProvider, 'PAYMENT_PROVIDER_'),
    codec: codecs.paymentProvider,
    prisma: prisma.PaymentProvider,
    api: { options: paymentProviderSchema.options, lower: true },
  },
  {
    name: 'NotificationStatus',
    proto: protoNames(mart.notification.NotificationStatus, 'NOTIFICATION_STATUS_'),
    codec: codecs.notificationStatus,
    prisma: prisma.NotificationStatus,
    api: notificationStatusSchema,
    states: nextNotificationStatuses,
  },
  {
    name: 'StaffRole',
    proto: protoNames(mart.user.StaffRole, 'STAFF_ROLE_'),
    codec: codecs.staffRole,
    prisma: prisma.StaffRole,
    api: { options: roleSchema.options, lower: true },
  },
  {
    name: 'PrincipalKind',
    proto: protoNames(mart.auth.PrincipalKind, 'PRINCIPAL_KIND_'),
    codec: codecs.principalKind,
    prisma: prisma.PrincipalKind,
  },
];

describe('enums: the proto, the Prisma schema and the HTTP API name the same values', () => {
  for (const { name, proto, codec, prisma: stored, api, states } of enums) {
    it(name, () => {
      expect(proto, `mart ${name} has values`).to.not.be.empty;
      expect(sorted(codec.names), `the codec's ${name} against the proto's`).to.deep.equal(proto);
      expect(sorted(Object.values(stored)), `Prisma's ${name} against the proto's`).to.deep.equal(proto);
      if (api) {
        const spelled = api.lower ? codec.lower.names : codec.names;
        expect(api.options, `the API's ${name} against the codec's`).to.deep.equal(spelled);
      }
      if (states) {
        expect(sorted(Object.keys(states)), `the states of ${name}'s machine`).to.deep.equal(proto);
        for (const [from, next] of Object.entries(states)) {
          expect(proto, `${name} ${from}'s next statuses`).to.include.members([...next]);
        }
      }
    });
  }

  it('maps every name to its wire value and back, and decodes UNSPECIFIED or an unknown value to undefined', () => {
    for (const { name, codec } of enums) {
      const spellings: codecs.EnumCodec<string, number>[] = [codec, codec.lower];
      for (const spelling of spellings) {
        for (const value of spelling.names) expect(spelling.fromWire(spelling.toWire(value)), `${name} ${value}`).to.equal(value);
        expect(spelling.fromWire(0), `${name} UNSPECIFIED`).to.equal(undefined);
        expect(spelling.fromWire(999), `${name} 999`).to.equal(undefined);
        expect(() => spelling.fromWireOrThrow(0), `${name} UNSPECIFIED in a reply`).to.throw(/unset or unknown/);
      }
    }
    expect(codecs.orderStatus.toWire('PAID')).to.equal(mart.order.OrderStatus.ORDER_STATUS_PAID);
    expect(codecs.staffRole.lower.fromWire(mart.user.StaffRole.STAFF_ROLE_ADMIN)).to.equal('admin');
  });
});
