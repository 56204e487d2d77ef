import { mart } from '@mart/proto';

// The emails Mart sends, written by db-service in the transaction of the change they tell of
// (see queueEmail in handlers/notification.handlers.ts); notification-service only delivers them.

/** One email to send, before it has a record. `type` names the template (and filters GET /notifications). */
export interface EmailDraft {
  type: string;
  /** The id of what it is about (an order, a customer): with the type, it is queued once. */
  about: string;
  to: string;
  subject: string;
  body: string;
}

interface OrderNews {
  order: mart.order.IOrder;
  customerEmail: string;
}

type Order = mart.order.IOrder;
const OrderStatus = mart.order.OrderStatus;

// Building an Intl.NumberFormat costs more than the rest of an email: one per currency.
const moneyFormats = new Map<string, { format: Intl.NumberFormat; digits: number }>();

function moneyFormatOf(currency: string): { format: Intl.NumberFormat; digits: number } {
  let known = moneyFormats.get(currency);
  if (!known) {
    const format = new Intl.NumberFormat('en-US', { style: 'currency', currency });
    known = { format, digits: format.resolvedOptions().maximumFractionDigits ?? 2 };
    moneyFormats.set(currency, known);
  }
  return known;
}

/** Integer minor units to display text with exact digits (no float arithmetic): 1999 USD → "$19.99". */
export function formatMoney(minorUnits: number, currency: string): string {
  const { format, digits } = moneyFormatOf(currency);
  const sign = minorUnits < 0 ? '-' : '';
  const units = String(Math.abs(minorUnits)).padStart(digits + 1, '0');
  const decimal = digits === 0 ? units : `${units.slice(0, -digits)}.${units.slice(-digits)}`;
  // Intl formats a decimal string exactly; the cast is for lib typings that only declare number.
  return format.format(`${sign}${decimal}` as unknown as number);
}

/** The short form customers see of an order id. */
export function orderNumber(orderId: string): string {
  return orderId.slice(0, 8).toUpperCase();
}

function orderSummary(order: Order): string {
  const currency = order.currency ?? 'USD';
  const lines = (order.items ?? []).map((item) => {
    const quantity = Number(item.quantity ?? 0);
    const unit = Number(item.unitPriceCents ?? 0);
    return `  ${quantity} × ${item.name ?? item.productId} (${item.sku ?? '-'}) at ${formatMoney(unit, currency)} = ${formatMoney(unit * quantity, currency)}`;
  });
  return [
    `Order ${orderNumber(order.id ?? '')} (${order.id ?? ''})`,
    '',
    'Items:',
    ...lines,
    '',
    `Total: ${formatMoney(Number(order.totalCents ?? 0), currency)}`,
  ].join('\n');
}

function letter(...paragraphs: string[]): string {
  return ['Hello,', ...paragraphs, 'Thank you for shopping at Mart.'].join('\n\n');
}

export function welcomeEmail(customer: mart.customer.ICustomer): EmailDraft | undefined {
  if (!customer.id || !customer.email) return undefined;
  return {
    type: 'customer.welcome',
    about: customer.id,
    to: customer.email,
    subject: 'Welcome to Mart',
    body: letter(`Your Mart account for ${customer.email} is ready${customer.name ? `, ${customer.name}` : ''}.`),
  };
}

export function orderPlacedEmail({ order, customerEmail }: OrderNews): EmailDraft | undefined {
  if (!order.id || !customerEmail) return undefined;
  return {
    type: 'order.placed',
    about: order.id,
    to: customerEmail,
    subject: `We received your order ${orderNumber(order.id)}`,
    body: letter(
      'We received your order. It is reserved for you until it is paid.',
      orderSummary(order),
      order.expiresAt ? `Please pay before ${order.expiresAt}, or the order is cancelled.` : '',
    ).replace(/\n{3,}/g, '\n\n'),
  };
}

/** The email for an order's new status; undefined for the statuses that send none. */
export function orderStatusEmail({ order, customerEmail }: OrderNews): EmailDraft | undefined {
  if (!order.id || !customerEmail) return undefined;
  const number = orderNumber(order.id);
  const about = order.id;
  const email = (type: string, subject: string, body: string): EmailDraft => ({ type, about, to: customerEmail, subject, body });
  switch (order.status) {
    case OrderStatus.ORDER_STATUS_PAID:
      return email(
        'order.paid',
        `Payment received for your order ${number}`,
        letter('We received your payment. Your order is being prepared for shipping.', orderSummary(order)),
      );
    case OrderStatus.ORDER_STATUS_SHIPPED:
      return email('order.shipped', `Your order ${number} has shipped`, letter('Your order is on its way.', orderSummary(order)));
    case OrderStatus.ORDER_STATUS_REFUNDED:
      return email(
        'order.refunded',
        `Your order ${number} has been refunded`,
        letter(
          `We refunded ${formatMoney(Number(order.totalCents ?? 0), order.currency ?? 'USD')} to your original payment method.`,
          orderSummary(order),
        ),
      );
    case OrderStatus.ORDER_STATUS_PENDING_PAYMENT:
    case OrderStatus.ORDER_STATUS_DELIVERED:
    case OrderStatus.ORDER_STATUS_CANCELLED:
    case OrderStatus.ORDER_STATUS_UNSPECIFIED:
    case null:
    case undefined:
      return undefined;
  }
}
