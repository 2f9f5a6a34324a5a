import type { EmailNotification, NotificationConfig, WebhookNotification } from '../core/types.js';
import type { NotifyMessage } from './message.js';

/** Sends one message through one configured channel; throws when the channel refused it or is unreachable. */
export type Sender<C extends NotificationConfig> = (channel: C, message: NotifyMessage) => Promise<void>;

const sendEmail: Sender<EmailNotification> = async (channel, message) => {
  const { createTransport } = await import('nodemailer');
  const transport = createTransport({
    host: channel.host,
    port: channel.port,
    secure: channel.tls === 'implicit',
    // With a login, `auto` never sends it unencrypted: a server that offers no STARTTLS (or one a man in the
    // middle stripped it from) gets no password. Only `tls: "none"`, said explicitly, logs in in the clear.
    requireTLS: channel.tls === 'starttls' || (channel.user !== undefined && (channel.tls ?? 'auto') === 'auto'),
    ignoreTLS: channel.tls === 'none',
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
    ...(channel.user ? { auth: { user: channel.user, pass: channel.password ?? '' } } : {}),
  });
  try {
    await transport.sendMail({
      from: channel.from,
      to: channel.to,
      subject: message.subject,
      text: message.lines.join('\n') + '\n',
    });
  } finally {
    transport.close();
  }
};

const COLOURS: Record<NotifyMessage['severity'], string> = { ok: '2EB67D', warning: 'ECB22E', error: 'E01E5A' };

/** Pure: the JSON body of a webhook in its format. */
export function webhookBody(format: WebhookNotification['format'], message: NotifyMessage): unknown {
  const text = message.lines.join('\n');
  switch (format) {
    case 'slack':
      return { text: message.subject, attachments: [{ color: `#${COLOURS[message.severity]}`, text }] };
    case 'teams':
      return {
        '@type': 'MessageCard',
        '@context': 'https://schema.org/extensions',
        themeColor: COLOURS[message.severity],
        summary: message.subject,
        title: message.subject,
        text: message.lines.join('\n\n'),
      };
    case 'json':
      return { subject: message.subject, severity: message.severity, lines: message.lines };
  }
}

/**
 * A webhook URL with a login in it (`https://user:pass@host/hook`, a receiver behind basic auth): fetch refuses such
 * a URL, so the login goes as an Authorization header and the URL without it.
 */
export function webhookTarget(raw: string): { url: string; headers: Record<string, string> } {
  const url = new URL(raw);
  if (!url.username && !url.password) return { url: raw, headers: {} };
  const login = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = '';
  url.password = '';
  return { url: url.toString(), headers: { authorization: `Basic ${Buffer.from(login).toString('base64')}` } };
}

const sendWebhook: Sender<WebhookNotification> = async (channel, message) => {
  const target = webhookTarget(channel.url);
  const res = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify(webhookBody(channel.format, message)),
    signal: AbortSignal.timeout(30_000),
  }).catch((err: unknown) => {
    throw new Error(whyNotSent(err));
  });
  if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status} ${res.statusText}`), { status: res.status });
};

/**
 * Why a request never got an answer: fetch says only "fetch failed" and keeps the reason in `cause` (a refused
 * connection, a host not found, a certificate refused), which is what the operator needs.
 */
export function whyNotSent(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'no answer within 30 s';
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  const base = err instanceof Error ? err.message : String(err);
  return detail && !base.includes(detail) ? `${base}: ${detail}` : base;
}

/** The senders by channel type. */
export const SENDERS: { [T in NotificationConfig['type']]: Sender<Extract<NotificationConfig, { type: T }>> } = {
  email: sendEmail,
  webhook: sendWebhook,
};
