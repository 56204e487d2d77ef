import { expect } from 'chai';
import {
  AppError,
  ConflictError,
  NotFoundError,
  UpstreamTimeoutError,
  ValidationError,
  errorFromReply,
  errorStatus,
} from '@mart/common/errors';

describe('errors', () => {
  it('rebuilds the same error class from an error reply code', () => {
    expect(errorFromReply('not_found', 'gone', [])).to.be.instanceOf(NotFoundError);
    expect(errorFromReply('conflict', 'dup', [])).to.be.instanceOf(ConflictError);
    const validation = errorFromReply('validation_failed', 'bad', [{ path: 'name', message: 'required' }]);
    expect(validation).to.be.instanceOf(ValidationError);
    expect(validation.details).to.deep.equal([{ path: 'name', message: 'required' }]);
    expect(validation.message).to.equal('bad');
  });

  it('maps an unknown code to an internal error instead of trusting it', () => {
    const error = errorFromReply('teapot', 'what', []);
    expect(error.code).to.equal('internal');
    expect(error.status).to.equal(500);
  });

  it('gives every code the status of the API contract', () => {
    expect(new UpstreamTimeoutError().status).to.equal(504);
    expect(new AppError('insufficient_stock', 'x').status).to.equal(409);
    expect(errorStatus.unavailable).to.equal(503);
    expect(errorStatus.payload_too_large).to.equal(413);
  });
});
