// The names of Mart's proto enums, derived from the generated code, and the maps between a wire
// value and its name both ways. The HTTP edge's zod enums and every wire map come from here, so a
// value added to a .proto reaches every layer at once; Prisma's enums, which cannot be generated
// from it, are held to the same names by tools/test/enums.unit.test.ts.
import './int64.ts';
import { mart } from '../gen/mart.js';

/** The value names of a generated enum object that start with `Prefix`, without it and without UNSPECIFIED. */
export type EnumNames<Values, Prefix extends string> = {
  [Key in keyof Values]: Key extends `${Prefix}UNSPECIFIED` ? never : Key extends `${Prefix}${infer Name}` ? Name : never;
}[keyof Values];

export interface EnumCodec<Name extends string, Wire extends number> {
  /** Every name, in the order of the wire values; never empty. */
  readonly names: readonly [Name, ...Name[]];
  toWire(name: Name): Wire;
  /**
   * The name of a wire value, or undefined for UNSPECIFIED and for a value this build does not know.
   *
   * UNSPECIFIED (0) is never a value of Mart's: it is what proto3 reads when a field was not set.
   * It decodes to undefined everywhere, never to a default name, so an unset field cannot pass
   * for a real status: db-service rejects a command without it ("is required"), and a reader of
   * db-service's replies treats it as a broken reply (`fromWireOrThrow`).
   */
  fromWire(value: Wire | null | undefined): Name | undefined;
  /** As fromWire, for values that must be set: a reply from db-service always carries one. */
  fromWireOrThrow(value: Wire | null | undefined): Name;
}

/** A codec in the proto's (and Prisma's) upper-case spelling, with its lower-case twin for the APIs that use one. */
export interface CasedEnumCodec<Name extends string, Wire extends number> extends EnumCodec<Name, Wire> {
  readonly lower: EnumCodec<Lowercase<Name>, Wire>;
}

function codec<Name extends string, Wire extends number>(
  prefix: string,
  entries: readonly (readonly [Name, Wire])[],
): EnumCodec<Name, Wire> {
  const toWire = new Map(entries);
  const fromWire = new Map(entries.map(([name, wire]) => [wire, name]));
  const nameOf = (value: Wire | null | undefined) => (value == null ? undefined : fromWire.get(value));
  return {
    names: entries.map(([name]) => name) as [Name, ...Name[]],
    toWire: (name) => toWire.get(name)!,
    fromWire: nameOf,
    fromWireOrThrow(value) {
      const name = nameOf(value);
      if (name === undefined) throw new Error(`the ${prefix}* value is unset or unknown (${String(value)})`);
      return name;
    },
  };
}

type CodecOf<Values, Prefix extends string> = CasedEnumCodec<EnumNames<Values, Prefix> & string, Extract<Values[keyof Values], number>>;

/** Derives a codec from a generated enum object (`mart.order.OrderStatus`) and its value prefix (`ORDER_STATUS_`). */
export function enumCodec<Values extends Record<string, number | string>, Prefix extends string>(
  values: Values,
  prefix: Prefix,
): CodecOf<Values, Prefix> {
  const keys = Object.keys(values).filter((key) => typeof values[key] === 'number');
  // Mart's proto style; a value outside it would silently have no API name.
  if (values[`${prefix}UNSPECIFIED`] !== 0 || keys.some((key) => !key.startsWith(prefix))) {
    throw new Error(`every value of the ${prefix}* enum starts with ${prefix}, and ${prefix}UNSPECIFIED is 0`);
  }
  const entries = keys
    .filter((key) => key !== `${prefix}UNSPECIFIED`)
    .map((key) => [key.slice(prefix.length), values[key] as number] as const)
    .sort((a, b) => a[1] - b[1]);
  if (entries.length === 0) throw new Error(`the ${prefix}* enum has no value besides UNSPECIFIED`);
  const cased = {
    ...codec(prefix, entries),
    lower: codec(
      prefix,
      entries.map(([name, wire]) => [name.toLowerCase(), wire] as const),
    ),
  };
  // The names were read off `values` itself, so they are exactly the ones its type spells.
  return cased as unknown as CodecOf<Values, Prefix>;
}

export const orderStatus = enumCodec(mart.order.OrderStatus, 'ORDER_STATUS_');
export const paymentStatus = enumCodec(mart.payment.PaymentStatus, 'PAYMENT_STATUS_');
export const refundStatus = enumCodec(mart.payment.RefundStatus, 'REFUND_STATUS_');
/** The HTTP API spells providers in lower case (`stripe`): see `.lower`. */
export const paymentProvider = enumCodec(mart.payment.PaymentProvider, 'PAYMENT_PROVIDER_');
export const notificationStatus = enumCodec(mart.notification.NotificationStatus, 'NOTIFICATION_STATUS_');
/** The HTTP API spells roles in lower case (`admin`): see `.lower`. */
export const staffRole = enumCodec(mart.user.StaffRole, 'STAFF_ROLE_');
/** Tokens and routes spell kinds in lower case (`customer`): see `.lower`. */
export const principalKind = enumCodec(mart.auth.PrincipalKind, 'PRINCIPAL_KIND_');
