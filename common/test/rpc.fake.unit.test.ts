import { expect } from 'chai';
import { ConflictError, NotFoundError, UnavailableError } from '@mart/common/errors';
import type { RpcCaller } from '@mart/common/kafka';
import { fakeRpc } from '@mart/common/testing';
import type { CommandInput } from '@mart/proto';

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const product = {
  id: 'p1',
  sku: 'TENT-1',
  name: 'Tent',
  priceCents: 1999,
  currency: 'USD',
  brandId: 'b1',
  categoryId: 'c1',
  active: true,
  available: 4,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

describe('fakeRpc', () => {
  it('answers from the handler of the command, and records each call with its options', async () => {
    const rpc = fakeRpc({ 'brand.get': (request) => ({ id: request.id, name: 'Acme' }), 'brand.delete': () => ({}) });
    const caller: RpcCaller = rpc;
    expect(await caller.call('brand.get', { id: 'b1' }, { requestId: 'r1' })).to.include({ id: 'b1', name: 'Acme' });
    await caller.call('brand.delete', { id: 'b2' });
    expect(rpc.calls).to.deep.equal([
      { name: 'brand.get', request: { id: 'b1' }, options: { requestId: 'r1' } },
      { name: 'brand.delete', request: { id: 'b2' }, options: {} },
    ]);
    expect(rpc.sent('brand.delete')).to.deep.equal([{ id: 'b2' }]);
    expect(rpc.sent('brand.list')).to.deep.equal([]);
  });

  it('hands the handler the request as db-service would decode it', async () => {
    let received: CommandInput<'product.get'> | undefined;
    const rpc = fakeRpc({
      'product.get': (request) => {
        received = request;
        return product;
      },
    });
    await rpc.call('product.get', { id: 'p1' });
    // Absent on the wire, so the proto3 default: what a handler reading the field would see.
    expect(received?.includeInactive).to.equal(false);
    expect(rpc.calls[0]?.request).to.deep.equal({ id: 'p1' });
  });

  it('gives the caller the reply as the wire would: defaults filled in, unknown fields gone, int64 as numbers', async () => {
    const { description: _, ...withoutDescription } = { ...product, description: 'x' };
    const extra = { ...withoutDescription, secret: 'kept in db-service' };
    const rpc = fakeRpc({ 'product.get': () => extra });
    const reply = await rpc.call('product.get', { id: 'p1' });
    expect(reply.description).to.equal('');
    expect(reply).not.to.have.property('secret');
    expect(reply.priceCents).to.equal(1999).and.be.a('number');
    expect(reply.available).to.equal(4).and.be.a('number');
  });

  it('turns a thrown AppError into the error the real client rethrows: same class, code, message and details', async () => {
    const details = [{ path: 'name', message: 'already taken', location: 'body' }];
    const rpc = fakeRpc({
      'brand.create': () => {
        throw new ConflictError('Duplicate', details);
      },
    });
    const error = await rejectionOf(rpc.call('brand.create', { id: 'b1', name: 'Acme' }));
    expect(error).to.be.instanceOf(ConflictError);
    expect(error).to.include({ code: 'conflict', message: 'Duplicate' });
    // The wire carries a detail's path and message only.
    expect((error as ConflictError).details).to.deep.equal([{ path: 'name', message: 'already taken' }]);
  });

  it('fails every call with failWith while it is set', async () => {
    const rpc = fakeRpc({ 'brand.get': () => ({ id: 'b1' }) });
    rpc.failWith = new NotFoundError('Brand not found');
    expect(await rejectionOf(rpc.call('brand.get', { id: 'b1' }))).to.be.instanceOf(NotFoundError);
    rpc.failWith = new UnavailableError('Kafka is unavailable');
    expect(await rejectionOf(rpc.call('brand.get', { id: 'b1' }))).to.be.instanceOf(UnavailableError);
    rpc.failWith = undefined;
    expect(await rpc.call('brand.get', { id: 'b1' })).to.include({ id: 'b1' });
    expect(rpc.calls).to.have.length(3);
  });

  it('rejects a command it has no handler for, naming it, and still records the call', async () => {
    const rpc = fakeRpc({});
    const error = await rejectionOf(rpc.call('category.delete', { id: 'c1' }));
    expect(error.message).to.include('no handler for category.delete');
    expect(rpc.calls.map((call) => call.name)).to.deep.equal(['category.delete']);
  });
});

/** Mistakes the type checker refuses (tsc fails if one compiles); never called. */
export function mistakesThatDoNotCompile(): void {
  fakeRpc({
    // @ts-expect-error: no such command in the registry
    'brand.rename': () => ({}),
  });
  fakeRpc({
    // @ts-expect-error: a Brand's name is a string
    'brand.get': () => ({ id: 'b1', name: 7 }),
  });
  // @ts-expect-error: brand.get takes an id, not a sku
  void fakeRpc().call('brand.get', { sku: 'x' });
}
