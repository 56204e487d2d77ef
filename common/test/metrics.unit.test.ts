import { expect } from 'chai';
import request from 'supertest';
import { TokenVerifier, createHttpApp, defineRoute } from '@mart/common/http';
import { trackConsumerLag } from '@mart/common/kafka';
import { createLogger } from '@mart/common/logger';
import { currentTraceparent, parseTraceparent } from '@mart/common/tracing';
import { z } from '@mart/common/zod';
import { generateTestKeys } from '../src/testing/index.ts';

describe('metrics after traffic', () => {
  const keys = generateTestKeys();
  // A stand-in for the rpc client: records the trace context a command would carry.
  const sent: { name: string; traceparent: string | undefined }[] = [];
  const rpc = {
    call: async (name: string, input: { id: string }) => {
      sent.push({ name, traceparent: currentTraceparent() });
      return { id: input.id, name: 'Acme' };
    },
  };
  const app = createHttpApp({
    service: 'metrics-test-service',
    logger: createLogger('test', 'silent'),
    verifier: new TokenVerifier({ publicKey: keys.publicKey, issuer: 'mart-auth', audience: 'mart' }),
    jsonLimit: '1kb',
    readiness: async () => ({ ready: true, checks: {} }),
    routes: [
      defineRoute({
        method: 'get',
        path: '/widgets/:id',
        summary: 'Get a widget',
        access: 'public',
        params: z.object({ id: z.string() }),
        status: 200,
        response: z.object({ id: z.string(), name: z.string() }),
        handler: ({ params }) => rpc.call('widget.get', { id: params.id }),
      }),
    ],
  });

  it('exposes mart_http_request_duration_seconds with the route label', async () => {
    await request(app).get('/widgets/w-1').expect(200, { id: 'w-1', name: 'Acme' });
    await request(app).get('/widgets/w-2').expect(200);
    const metrics = await request(app).get('/metrics').expect(200);
    expect(metrics.headers['content-type']).to.match(/^text\/plain/);
    const count = metrics.text
      .split('\n')
      .find((line) => line.startsWith('mart_http_request_duration_seconds_count{') && line.includes('route="/widgets/:id"'));
    expect(count, metrics.text.slice(0, 2000)).to.be.a('string');
    expect(count).to.include('method="GET"').and.include('status="200"');
    expect(Number(count!.split(' ').pop())).to.be.at.least(2);
    expect(metrics.text).to.match(/mart_http_request_duration_seconds_bucket\{[^}]*route="\/widgets\/:id"[^}]*\} \d+/);
    for (const name of [
      'mart_rpc_duration_seconds',
      'mart_rpc_timeouts_total',
      'mart_db_command_duration_seconds',
      'mart_outbox_backlog',
      'mart_kafka_consumer_lag',
    ]) {
      expect(metrics.text).to.include(`# TYPE ${name} `);
    }
  });

  it('continues the caller trace into the commands a request sends', async () => {
    sent.length = 0;
    const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await request(app).get('/widgets/w-3').set('traceparent', incoming).expect(200);
    const [call] = sent;
    const context = parseTraceparent(call?.traceparent);
    expect(context?.traceId).to.equal('0af7651916cd43dd8448eb211c80319c');
    expect(context?.parentId).to.not.equal('b7ad6b7169203331');
  });

  it('starts a trace when the request has none, or an invalid one', async () => {
    sent.length = 0;
    await request(app).get('/widgets/w-4').expect(200);
    await request(app).get('/widgets/w-5').set('traceparent', 'garbage').expect(200);
    expect(sent).to.have.length(2);
    const [first, second] = sent.map((call) => parseTraceparent(call.traceparent));
    expect(first?.traceId).to.match(/^[0-9a-f]{32}$/);
    expect(second?.traceId).to.match(/^[0-9a-f]{32}$/);
    expect(first?.traceId).to.not.equal(second?.traceId);
  });

  it('reports consumer lag per group, topic and partition after each batch', async () => {
    const listeners: ((event: { payload: { topic: string; partition: number; offsetLag: string } }) => void)[] = [];
    const consumer = {
      events: { END_BATCH_PROCESS: 'consumer.end_batch_process' },
      on: (_name: string, listener: (typeof listeners)[number]) => listeners.push(listener),
    };
    trackConsumerLag(consumer as never, 'lag-test-group');
    for (const listener of listeners) listener({ payload: { topic: 'mart.brand.commands', partition: 3, offsetLag: '42' } });
    const metrics = await request(app).get('/metrics').expect(200);
    expect(metrics.text).to.include('mart_kafka_consumer_lag{group="lag-test-group",topic="mart.brand.commands",partition="3"} 42');
    for (const listener of listeners) listener({ payload: { topic: 'mart.brand.commands', partition: 3, offsetLag: '0' } });
    expect((await request(app).get('/metrics')).text).to.include(
      'mart_kafka_consumer_lag{group="lag-test-group",topic="mart.brand.commands",partition="3"} 0',
    );
  });
});
