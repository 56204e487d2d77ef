import { expect } from 'chai';
import { UnavailableError } from '@mart/common/errors';
import { createLogger } from '@mart/common/logger';
import { FakeClock, fakeRpc } from '@mart/common/testing';
import { mart } from '@mart/proto';
import { buildRfc2822Message, encodeHeaderText, toGmailRaw } from '../src/email.message.ts';
import type { MailTransport } from '../src/mail.transport.ts';
import { notificationEvents } from '../src/notification.events.ts';
import { notificationSender, retryAlarm, retryDelaySeconds, type RetryPolicy } from '../src/notification.sender.ts';

const Status = mart.notification.NotificationStatus;

describe('RFC 2822 message builder', () => {
  const date = new Date('2026-11-22T10:00:00Z');
  const message = {
    from: 'Mart <shop@mart.test>',
    to: 'ana@example.com',
    subject: 'Payment received for your order 1A2B3C4D',
    body: 'Hello,\n\nTotal: €12.50',
  };

  it('writes CRLF headers, a blank line, and the UTF-8 body in base64', () => {
    const text = buildRfc2822Message(message, { date, messageId: 'm1' });
    const [head, body] = text.split('\r\n\r\n');
    expect(head!.split('\r\n')).to.deep.equal([
      'From: Mart <shop@mart.test>',
      'To: ana@example.com',
      'Subject: Payment received for your order 1A2B3C4D',
      'Date: Sun, 22 Nov 2026 10:00:00 +0000',
      'Message-ID: <m1@mart.test>',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=UTF-8',
      'Content-Transfer-Encoding: base64',
    ]);
    expect(Buffer.from(body!.replace(/\r\n/g, ''), 'base64').toString('utf8')).to.equal(message.body);
  });

  it('encodes non-ASCII subjects (RFC 2047) and keeps CR/LF in data from adding headers', () => {
    expect(encodeHeaderText('Grüße')).to.equal(`=?UTF-8?B?${Buffer.from('Grüße').toString('base64')}?=`);
    const text = buildRfc2822Message(
      { ...message, subject: 'Hi\r\nBcc: victim@example.com', to: 'a@example.com\nCc: x@example.com' },
      { date },
    );
    const head = text.split('\r\n\r\n')[0]!;
    expect(head).to.not.match(/^(Bcc|Cc):/m);
    expect(head).to.include('Subject: Hi Bcc: victim@example.com');
  });

  it("gives Gmail's raw as base64url without padding, and wraps long bodies at 76 characters", () => {
    const text = buildRfc2822Message({ ...message, body: 'x'.repeat(500) }, { date });
    const raw = toGmailRaw(text);
    expect(raw).to.match(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(raw, 'base64url').toString('utf8')).to.equal(text);
    const bodyLines = text.split('\r\n\r\n')[1]!.trim().split('\r\n');
    expect(Math.max(...bodyLines.map((line) => line.length))).to.equal(76);
  });
});

describe('email retries', () => {
  const policy: RetryPolicy = { maxAttempts: 5, baseSeconds: 30, maxSeconds: 3600, leaseSeconds: 60 };

  it('backs off exponentially from the base, capped at the maximum', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelaySeconds(attempt, policy))).to.deep.equal([30, 60, 120, 240, 480]);
    expect(retryDelaySeconds(12, policy)).to.equal(3600);
  });

  /** db-service for one notification: the first claim wins; the first `outages` records find it away. */
  function fakeDb(attempts: number, outages = 0) {
    let claims = 0;
    const notification = { id: 'n1', type: 'order.paid', to: 'ana@example.com', subject: 'Paid', body: 'Hello', attempts };
    const rpc = fakeRpc({
      'notification.claim': () => ({ claimed: claims++ === 0, notification }),
      'notification.record-attempt': () => {
        if (outages-- > 0) throw new UnavailableError('Kafka is down');
        return notification;
      },
    });
    return { rpc, recorded: () => rpc.sent('notification.record-attempt') };
  }
  const failing: MailTransport = { provider: 'gmail', send: async () => Promise.reject(new Error('Gmail says 503')) };
  const now = () => new Date('2026-11-22T10:00:00.000Z');
  const logger = createLogger('test', 'silent');

  it('records a failed attempt with its next time, asks to be woken then, and sends a claimed email only once', async () => {
    const { rpc, recorded } = fakeDb(1);
    const wakeUps: string[] = [];
    const retryAt = (at: Date) => wakeUps.push(at.toISOString());
    const sender = notificationSender({ rpc, transport: failing, logger, policy, from: 'Mart <shop@mart.test>', now, retryAt });
    expect(await sender.deliver('n1')).to.equal(true);
    expect(recorded()).to.deep.equal([
      { id: 'n1', provider: 'gmail', sent: false, error: 'Gmail says 503', giveUp: false, nextAttemptAt: '2026-11-22T10:01:00.000Z' },
    ]);
    expect(wakeUps).to.deep.equal(['2026-11-22T10:01:00.000Z']);
    expect(await sender.deliver('n1')).to.equal(false);
    expect(recorded()).to.have.length(1);
  });

  it('gives up after the last allowed attempt', async () => {
    const { rpc, recorded } = fakeDb(4);
    await notificationSender({ rpc, transport: failing, logger, policy, from: 'm@mart.test', now }).deliver('n1');
    expect(recorded()).to.deep.equal([{ id: 'n1', provider: 'gmail', sent: false, error: 'Gmail says 503', giveUp: true }]);
  });

  it('records SENT with the provider id, retrying that record while db-service is briefly away', async () => {
    const { rpc, recorded } = fakeDb(0, 2);
    const sent: string[] = [];
    const transport: MailTransport = { provider: 'gmail', send: async (message) => (sent.push(message.to), { providerMessageId: 'gm-1' }) };
    await notificationSender({ rpc, transport, logger, policy, from: 'm@mart.test', now }).deliver('n1');
    expect(sent).to.deep.equal(['ana@example.com']);
    const record = { id: 'n1', provider: 'gmail', sent: true, providerMessageId: 'gm-1' };
    expect(recorded()).to.deep.equal([record, record, record], 'two tries while db-service was away, then the one recorded');
    const commandIds = rpc.calls.filter((call) => call.name === 'notification.record-attempt').map((call) => call.options.commandId);
    expect(new Set(commandIds).size).to.equal(1, 'every try has the same command id, so db-service records it once');
  });
});

describe('email retries on time (fake clock)', () => {
  const logger = createLogger('test', 'silent');

  it('sweeps at start, sleeps until the next due time db-service reports, and polls nothing in between', async () => {
    const clock = new FakeClock(Date.parse('2026-11-22T10:00:00.000Z'));
    const sweeps: number[] = [];
    const delivered: string[] = [];
    const dueAt = '2026-11-22T10:05:00.000Z';
    const rpc = fakeRpc({
      'notification.list-due': () => {
        sweeps.push(clock.now());
        // The first sweep finds one due email and one due at 10:05; the second finds nothing more.
        return sweeps.length === 1 ? { items: [{ id: 'n1' }], nextDueAt: dueAt } : { items: [] };
      },
    });
    const alarm = retryAlarm({ rpc, sender: { deliver: async (id) => (delivered.push(id), true) }, logger, clock });
    alarm.start();
    await clock.advance(0);
    expect(delivered).to.deep.equal(['n1']);
    expect(alarm.nextRunAt).to.equal(Date.parse(dueAt));
    await clock.advance(4 * 60_000);
    expect(sweeps).to.have.length(1, 'nothing runs before the next due time');
    await clock.advance(60_000);
    expect(sweeps).to.deep.equal([Date.parse('2026-11-22T10:00:00.000Z'), Date.parse(dueAt)]);
    expect(alarm.nextRunAt).to.equal(null);
    expect(clock.pending).to.equal(0, 'no timer is left ticking once nothing is due');
    await alarm.stop();
  });
});

describe('delivering queued emails', () => {
  const logger = createLogger('test', 'silent');
  const queued = {
    notification: { id: 'n1', status: Status.NOTIFICATION_STATUS_PENDING, nextAttemptAt: '2026-11-22T10:02:00.000Z' },
  };
  const metaClaiming = (claimed: boolean) => {
    const claims: string[] = [];
    const meta = { eventId: 'e1', topic: 'mart.notification.events', partition: 0, offset: '1' };
    return { meta: { ...meta, claim: async () => (claims.push(meta.offset), claimed) }, claims };
  };

  function handlers() {
    const sent: string[] = [];
    const wakeUps: string[] = [];
    const sender = { send: async (notification: { id: string }) => void sent.push(notification.id) };
    const retryAt = (at: Date) => wakeUps.push(at.toISOString());
    return { on: notificationEvents({ sender, logger, retryAt }), sent, wakeUps };
  }

  it('claims the event (commits its position) before it sends: no command before the send', async () => {
    const { on, sent } = handlers();
    const { meta, claims } = metaClaiming(true);
    await on['notification.queued']!(queued as never, meta);
    expect(claims).to.deep.equal(['1']);
    expect(sent).to.deep.equal(['n1']);
  });

  it('sends nothing when the claim is refused (the partition moved on), and is woken when the lease ends', async () => {
    const { on, sent, wakeUps } = handlers();
    await on['notification.queued']!(queued as never, metaClaiming(false).meta);
    expect(sent).to.deep.equal([]);
    expect(wakeUps).to.deep.equal(['2026-11-22T10:02:00.000Z']);
  });

  it('sends an email once when a copy of its event comes again', async () => {
    const { on, sent } = handlers();
    const { meta, claims } = metaClaiming(true);
    await on['notification.queued']!(queued as never, meta);
    await on['notification.queued']!(queued as never, { ...meta, offset: '7' });
    expect(sent).to.deep.equal(['n1']);
    expect(claims).to.have.length(1);
  });

  it('leaves an email whose attempt could not be recorded to the retry job, woken when the lease ends', async () => {
    const wakeUps: string[] = [];
    const sender = { send: async () => Promise.reject(new UnavailableError('db-service is restarting')) };
    const on = notificationEvents({ sender, logger, retryAt: (at) => wakeUps.push(at.toISOString()) });
    await on['notification.queued']!(queued as never, metaClaiming(true).meta);
    expect(wakeUps).to.deep.equal(['2026-11-22T10:02:00.000Z']);
  });

  it('sends nothing for an email that is no longer pending', async () => {
    const { on, sent } = handlers();
    const done = { notification: { ...queued.notification, status: Status.NOTIFICATION_STATUS_SENT } };
    await on['notification.queued']!(done as never, metaClaiming(true).meta);
    expect(sent).to.deep.equal([]);
  });
});
