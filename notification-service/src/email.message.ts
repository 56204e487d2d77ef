import { randomUUID } from 'node:crypto';

export interface EmailMessage {
  from: string;
  to: string;
  subject: string;
  /** Plain text. */
  body: string;
}

/** A header value on one line: a CR or LF from data would let it add headers of its own. */
function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').trim();
}

/** RFC 2047 encoded-word for non-ASCII header text (a subject with "€" or "ü"). */
export function encodeHeaderText(value: string): string {
  const text = oneLine(value);
  // Printable ASCII is sent as is.
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

/** Base64 in lines of 76 characters, as MIME requires for a base64 body. */
function base64Lines(text: string): string {
  return (
    Buffer.from(text, 'utf8')
      .toString('base64')
      .match(/.{1,76}/g)
      ?.join('\r\n') ?? ''
  );
}

/**
 * An RFC 2822 (MIME) message: CRLF line ends, headers safe from injection, a UTF-8 plain-text
 * body in base64 so any text survives any mail hop.
 */
export function buildRfc2822Message(message: EmailMessage, options: { date?: Date; messageId?: string } = {}): string {
  const domain = /@([^>\s]+)/.exec(message.from)?.[1] ?? 'mart.local';
  const headers = [
    `From: ${oneLine(message.from)}`,
    `To: ${oneLine(message.to)}`,
    `Subject: ${encodeHeaderText(message.subject)}`,
    `Date: ${(options.date ?? new Date()).toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${options.messageId ?? randomUUID()}@${domain}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
  ];
  return `${headers.join('\r\n')}\r\n\r\n${base64Lines(message.body)}\r\n`;
}

/** The Gmail API's `raw`: the whole message, base64url without padding. */
export function toGmailRaw(rfc2822: string): string {
  return Buffer.from(rfc2822, 'utf8').toString('base64url');
}
