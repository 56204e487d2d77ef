import { expect } from 'chai';
import { mart } from '@mart/proto';
import { formatMoney, orderStatusEmail, welcomeEmail } from '../src/emails.ts';

describe('email templates', () => {
  it('formats integer minor units exactly', () => {
    expect(formatMoney(1999, 'USD')).to.equal('$19.99');
    expect(formatMoney(5, 'EUR')).to.equal('€0.05');
    expect(formatMoney(1500, 'JPY')).to.equal('¥1,500');
    expect(formatMoney(123456789012, 'USD')).to.equal('$1,234,567,890.12');
  });

  it('writes the paid email with the order number, every item and the total; none for other statuses', () => {
    const order = {
      id: '1a2b3c4d-0000-4000-8000-000000000000',
      status: mart.order.OrderStatus.ORDER_STATUS_PAID,
      currency: 'USD',
      totalCents: 4497,
      items: [
        { productId: 'p1', name: 'Teapot', sku: 'TP-1', quantity: 2, unitPriceCents: 1999 },
        { productId: 'p2', name: 'Cup', sku: 'CU-1', quantity: 1, unitPriceCents: 499 },
      ],
    };
    const email = orderStatusEmail({ order, customerEmail: 'ana@example.com' })!;
    expect(email).to.include({
      type: 'order.paid',
      about: order.id,
      to: 'ana@example.com',
      subject: 'Payment received for your order 1A2B3C4D',
    });
    expect(email.body).to.include('2 × Teapot (TP-1) at $19.99 = $39.98');
    expect(email.body).to.include('1 × Cup (CU-1) at $4.99 = $4.99');
    expect(email.body).to.include('Total: $44.97');
    const cancelled = { order: { ...order, status: mart.order.OrderStatus.ORDER_STATUS_CANCELLED }, customerEmail: 'ana@example.com' };
    expect(orderStatusEmail(cancelled)).to.equal(undefined);
  });

  it('greets a customer by the id they registered with, once per customer', () => {
    const email = welcomeEmail({ id: 'c1', email: 'ana@example.com', name: 'Ana' })!;
    expect(email).to.include({ type: 'customer.welcome', about: 'c1', to: 'ana@example.com', subject: 'Welcome to Mart' });
    expect(email.body).to.include('ana@example.com is ready, Ana.');
    expect(welcomeEmail({ id: 'c1' })).to.equal(undefined);
  });
});
