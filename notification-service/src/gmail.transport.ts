// The Gmail API module of googleapis alone: the package's index loads every Google API (~2 s at start-up).
import { auth, gmail } from 'googleapis/build/src/apis/gmail/index.js';
import { buildRfc2822Message, toGmailRaw } from './email.message.ts';
import type { MailTransport } from './mail.transport.ts';

export interface GmailSettings {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  sender: string;
  /** Google's API root, e.g. https://gmail.googleapis.com/; the token endpoint is <root>token when set. */
  rootUrl?: string;
  timeoutMs: number;
}

/** Sends through gmail.users.messages.send as the refresh token's account; the OAuth2 client renews access tokens itself. */
export function gmailTransport(settings: GmailSettings): MailTransport {
  const root = settings.rootUrl ? settings.rootUrl.replace(/\/?$/, '/') : undefined;
  const oauth = new auth.OAuth2({
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    ...(root ? { endpoints: { oauth2TokenUrl: `${root}token` } } : {}),
  });
  oauth.setCredentials({ refresh_token: settings.refreshToken });
  const client = gmail({ version: 'v1', auth: oauth, ...(root ? { rootUrl: root } : {}) });

  return {
    provider: 'gmail',
    async send(message) {
      const raw = toGmailRaw(buildRfc2822Message({ ...message, from: settings.sender }));
      const response = await client.users.messages.send({ userId: 'me', requestBody: { raw } }, { timeout: settings.timeoutMs });
      if (!response.data.id) throw new Error('Gmail accepted the message but returned no id');
      return { providerMessageId: response.data.id };
    },
  };
}
