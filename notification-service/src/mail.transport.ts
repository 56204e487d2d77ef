import { randomUUID } from 'node:crypto';
import type { Logger } from '@mart/common/logger';
import type { EmailMessage } from './email.message.ts';

/** Where emails go: the Gmail API, or the log (and the stored notification) in development. */
export interface MailTransport {
  readonly provider: 'gmail' | 'local';
  /** Resolves with the provider's id of the sent message; rejects when it was not sent. */
  send(message: EmailMessage): Promise<{ providerMessageId: string }>;
}

/** Without Gmail credentials: the email is printed to the log; its record (with the body) is in the database. */
export function localTransport(logger: Logger): MailTransport {
  return {
    provider: 'local',
    async send(message) {
      const providerMessageId = `local-${randomUUID()}`;
      logger.info(
        { providerMessageId, from: message.from, to: message.to, subject: message.subject },
        `email (local transport):\n${message.body}`,
      );
      return { providerMessageId };
    },
  };
}
