import { expect } from 'chai';
import request from 'supertest';
import { NotFoundError, UnavailableError } from '@mart/common/errors';
import { TokenVerifier, createHttpApp, defineRoute } from '@mart/common/http';
import { createLogger } from '@mart/common/logger';
import { z } from '@mart/common/zod';
import { generateTestKeys, mintToken } from '../src/testing/index.ts';

describe('createHttpApp', () => {
  const keys = generateTestKeys();
  let ready = true;
  const app = createHttpApp({
    service: 'test-service',
    logger: createLogger('test', 'silent'),
    verifier: new TokenVerifier({ publicKey: keys.publicKey, issuer: 'mart-auth', audience: 'mart' }),
    jsonLimit: '1kb',
    readiness: async () => ({ ready, checks: { kafka: ready } }),
    routes: [
      defineRoute({
        method: 'post',
        path: '/things/:id',
        summary: 'Make a thing',
        access: 'staff',
        params: z.object({ id: z.uuid() }),
        query: z.object({ dryRun: z.enum(['true', 'false']).optional() }),
        body: z.object({ name: z.string().min(1), count: z.number().int().min(0) }).strict(),
        status: 201,
        response: z.object({ id: z.string(), name: z.string() }),
        handler: async ({ params, body }) => ({ id: params.id, name: body.name }),
      }),
      defineRoute({
        method: 'get',
        path: '/missing',
        summary: 'x',
        access: 'public',
        status: 200,
        handler: async () => {
          throw new NotFoundError('no such thing');
        },
      }),
      defineRoute({
        method: 'get',
        path: '/down',
        summary: 'x',
        access: 'public',
        status: 200,
        handler: async () => {
          throw new UnavailableError();
        },
      }),
      defineRoute({
        method: 'get',
        path: '/boom',
        summary: 'x',
        access: 'public',
        status: 200,
        handler: async () => {
          throw new Error('secret internals');
        },
      }),
    ],
  });
  const staff = `Bearer ${mintToken(keys.privateKey, { kind: 'user', role: 'staff' })}`;
  const id = '0b6f4a36-5b43-4d37-9d0f-6d0f7f1c2a11';

  it('runs a valid request through to the handler', async () => {
    const res = await request(app).post(`/things/${id}`).set('authorization', staff).send({ name: 'x', count: 1 });
    expect(res.status).to.equal(201);
    expect(res.body).to.deep.equal({ id, name: 'x' });
  });

  it('names every bad field, in params, query and body, in one 400', async () => {
    const res = await request(app).post('/things/nope?dryRun=maybe').set('authorization', staff).send({ name: '', extra: 1 });
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal('validation_failed');
    const paths = res.body.error.details.map((d: { path: string; location: string }) => `${d.location}:${d.path}`);
    expect(paths).to.include.members(['params:id', 'query:dryRun', 'body:name', 'body:count', 'body:extra']);
    expect(res.body.requestId).to.be.a('string');
  });

  it('checks the token before looking at the body', async () => {
    const res = await request(app).post(`/things/${id}`).send({});
    expect(res.status).to.equal(401);
    expect(res.body.error.code).to.equal('unauthorized');
    const customer = `Bearer ${mintToken(keys.privateKey, { kind: 'customer' })}`;
    const forbidden = await request(app).post(`/things/${id}`).set('authorization', customer).send({});
    expect(forbidden.status).to.equal(403);
  });

  it('answers malformed JSON with 400 bad_request and a huge body with 413', async () => {
    const bad = await request(app)
      .post(`/things/${id}`)
      .set('authorization', staff)
      .set('content-type', 'application/json')
      .send('{"name":');
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal('bad_request');
    const huge = await request(app)
      .post(`/things/${id}`)
      .set('authorization', staff)
      .send({ name: 'x'.repeat(5000), count: 1 });
    expect(huge.status).to.equal(413);
    expect(huge.body.error.code).to.equal('payload_too_large');
  });

  it('maps typed errors to their status and hides unexpected ones', async () => {
    expect((await request(app).get('/missing')).status).to.equal(404);
    expect((await request(app).get('/down')).body.error.code).to.equal('unavailable');
    const boom = await request(app).get('/boom');
    expect(boom.status).to.equal(500);
    expect(JSON.stringify(boom.body)).not.to.contain('secret internals');
  });

  it('answers unknown routes with the uniform 404 body', async () => {
    const res = await request(app).get('/nowhere');
    expect(res.status).to.equal(404);
    expect(res.body.error.code).to.equal('not_found');
  });

  it('echoes a sane x-request-id and replaces an unsafe one', async () => {
    expect((await request(app).get('/missing').set('x-request-id', 'abc-123')).body.requestId).to.equal('abc-123');
    expect((await request(app).get('/missing').set('x-request-id', 'a b;c')).body.requestId).not.to.equal('a b;c');
  });

  it('serves health, readiness, metrics and an OpenAPI document of its routes', async () => {
    expect((await request(app).get('/health')).status).to.equal(200);
    ready = false;
    expect((await request(app).get('/ready')).status).to.equal(503);
    ready = true;
    expect((await request(app).get('/ready')).status).to.equal(200);
    const metrics = await request(app).get('/metrics');
    expect(metrics.text).to.contain('mart_http_request_duration_seconds');
    const doc = await request(app).get('/openapi.json');
    expect(doc.body.paths).to.have.property('/things/{id}');
    expect(doc.body.paths['/things/{id}'].post.security).to.deep.equal([{ bearerAuth: [] }]);
    expect((await request(app).get('/docs/')).text).to.contain('swagger');
  });
});
