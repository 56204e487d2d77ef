/**
 * A local stand-in for Google's OAuth2 token endpoint and the Gmail API's messages.send, good
 * enough for the real `googleapis` client. It decodes each message, so tests can assert on
 * recipients, subjects and bodies at GET /__received.
 *
 *   tsx tools/fakes/gmail.fake.ts      runs it and prints the variables for notification-service
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { runFromCommandLine, startJsonServer, type FakeRequest, type FakeResponse, type RunningFake } from './fake.server.ts';

export interface ReceivedEmail {
  id: string;
  from: string;
  to: string;
  subject: string;
  body: string;
  headers: Record<string, string>;
}

/** Decodes RFC 2047 encoded-words (=?UTF-8?B?...?= and =?UTF-8?Q?...?=). */
function decodeWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_all, _charset: string, encoding: string, text: string) =>
    encoding.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(
          text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

/** Splits an RFC 2822 message into its headers (unfolded, names lower-cased) and its decoded body. */
export function parseMessage(raw: string): Omit<ReceivedEmail, 'id'> {
  const [head = '', ...rest] = raw.split('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const encoded = rest.join('\r\n\r\n');
  const body = /base64/i.test(headers['content-transfer-encoding'] ?? '')
    ? Buffer.from(encoded.replace(/\s+/g, ''), 'base64').toString('utf8')
    : encoded;
  return { from: headers.from ?? '', to: headers.to ?? '', subject: decodeWords(headers.subject ?? ''), body, headers };
}

export async function startFake(): Promise<RunningFake> {
  const client = {
    id: 'mart-fake.apps.googleusercontent.com',
    secret: `secret-${randomBytes(8).toString('hex')}`,
    refreshToken: `1//refresh-${randomBytes(8).toString('hex')}`,
  };
  const accessTokens = new Set<string>();
  const messages: ReceivedEmail[] = [];
  let tokenRequests = 0;

  function issueToken(body: string): FakeResponse {
    tokenRequests++;
    const form = new URLSearchParams(body);
    const valid =
      form.get('grant_type') === 'refresh_token' &&
      form.get('refresh_token') === client.refreshToken &&
      form.get('client_id') === client.id &&
      form.get('client_secret') === client.secret;
    if (!valid) return { status: 400, body: { error: 'invalid_grant', error_description: 'Bad client credentials or refresh token' } };
    const token = `ya29.fake-${randomBytes(12).toString('hex')}`;
    accessTokens.add(token);
    return {
      status: 200,
      body: { access_token: token, expires_in: 3599, token_type: 'Bearer', scope: 'https://www.googleapis.com/auth/gmail.send' },
    };
  }

  function send(request: FakeRequest): FakeResponse {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token || !accessTokens.has(token))
      return {
        status: 401,
        body: { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } },
      };
    const raw = (JSON.parse(request.body || '{}') as { raw?: string }).raw;
    if (!raw)
      return {
        status: 400,
        body: {
          error: {
            code: 400,
            message: "'raw' RFC822 payload message string or uploading message via /upload/* URL required",
            status: 'INVALID_ARGUMENT',
          },
        },
      };
    const email = { id: randomBytes(8).toString('hex'), ...parseMessage(Buffer.from(raw, 'base64url').toString('utf8')) };
    messages.push(email);
    return { status: 200, body: { id: email.id, threadId: email.id, labelIds: ['SENT'] } };
  }

  const server = await startJsonServer(async (request) => {
    const path = request.path.split('?')[0];
    if (request.method === 'GET' && path === '/__received') return { status: 200, body: { tokenRequests, messages } };
    if (request.method === 'POST' && path === '/token') return issueToken(request.body);
    if (request.method === 'POST' && path === '/gmail/v1/users/me/messages/send') return send(request);
    return { status: 404, body: { error: { code: 404, message: `No fake for ${request.method} ${path}`, status: 'NOT_FOUND' } } };
  });
  return {
    url: server.url,
    env: {
      GMAIL_CLIENT_ID: client.id,
      GMAIL_CLIENT_SECRET: client.secret,
      GMAIL_REFRESH_TOKEN: client.refreshToken,
      GMAIL_SENDER: 'Mart <shop@mart.test>',
      GMAIL_API_ROOT_URL: `${server.url}/`,
    },
    stop: server.stop,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runFromCommandLine(startFake);
