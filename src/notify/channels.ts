import type { EmailNotification, NotificationConfig, WebhookNotification } from '../core/types.js';
import type { NotifyMessage } from './message.js';

/**
 * Sends one message through one configured channel; throws when the channel refused it or is unreachable, or when
 * `signal` aborts (its connection closed at once).
 */
export type Sender<C extends NotificationConfig> = (
  channel: C,
  message: NotifyMessage,
  signal?: AbortSignal,
) => Promise<void>;

const sendEmail: Sender<EmailNotification> = async (channel, message, signal) => {
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
  // A stop (the scheduler aborted, Ctrl-C) closes the connection: a server that never answers held it up to 48 s.
  const stopped = new Promise<never>((_, reject) => {
    const onAbort = (): void => {
      transport.close();
      reject(signal!.reason);
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  stopped.catch(() => undefined);
  try {
    await Promise.race([
      transport.sendMail({
        from: channel.from,
        to: channel.to,
        subject: message.subject,
        text: message.lines.join('\n') + '\n',
      }),
      stopped,
    ]);
  } catch (err) {
    if (signal?.aborted) throw err;
    const tls = tlsProblem(err instanceof Error ? err.message : String(err));
    throw tls ? new Error(`${channel.host}:${channel.port}: ${tls}`) : err;
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

const sendWebhook: Sender<WebhookNotification> = async (channel, message, signal) => {
  const target = webhookTarget(channel.url);
  const res = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify(webhookBody(channel.format, message)),
    signal: signal ? AbortSignal.any([AbortSignal.timeout(30_000), signal]) : AbortSignal.timeout(30_000),
  }).catch((err: unknown) => {
    if (signal?.aborted) throw err;
    throw new Error(whyNotSent(err, new URL(target.url).host));
  });
  if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status} ${res.statusText}`), { status: res.status });
};

/**
 * Why a request never got an answer: fetch says only "fetch failed" and keeps the reason in `cause` (a refused
 * connection, a host not found, a certificate refused), which is what the operator needs; `host` (no token in it)
 * says whose certificate was refused. A refused certificate and
 * a port fetch will not use are said in the operator's words (tlsProblem), with Node's code kept for the hint.
 */
export function whyNotSent(err: unknown, host?: string): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'no answer within 30 s';
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  const text = typeof cause?.message === 'string' ? cause.message : '';
  const tls = tlsProblem(code || text);
  if (tls) return host ? `${host}: ${tls}` : tls;
  if (text === 'bad port') return 'the port in the URL is one HTTP clients refuse to use (bad port)';
  const detail = code || text;
  const base = err instanceof Error ? err.message : String(err);
  return detail && !base.includes(detail) ? `${base}: ${detail}` : base;
}

/** Node's certificate errors (by code, or by the text nodemailer passes on), in the operator's words. */
const TLS_PROBLEMS: [RegExp, string][] = [
  [/ERR_TLS_CERT_ALTNAME_INVALID|Hostname\/IP does not match/i, 'its TLS certificate is for another host name'],
  [
    /DEPTH_ZERO_SELF_SIGNED_CERT|^self[- ]signed certificate(?!\s+in)/i,
    'its TLS certificate is self-signed, not trusted here',
  ],
  [
    /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|self[- ]signed certificate in|unable to (get local issuer|verify the first) certificate/i,
    'its TLS certificate is signed by a CA not trusted here',
  ],
  [/CERT_HAS_EXPIRED|certificate has expired/i, 'its TLS certificate has expired'],
  [/CERT_NOT_YET_VALID|certificate is not yet valid/i, 'its TLS certificate is not valid yet (check this clock)'],
];

/**
 * Pure: a refused certificate, from Node's error code or message, as `<what is wrong> (<code>)`; undefined for any
 * other error. Node's own text (and its advice to restart Node with flags) is not shown.
 */
export function tlsProblem(error: string): string | undefined {
  const found = TLS_PROBLEMS.find(([re]) => re.test(error));
  if (!found) return undefined;
  const code = /\b(?:ERR_TLS_[A-Z_]+|[A-Z]+(?:_[A-Z]+)*_CERT(?:_[A-Z_]+)?|CERT_[A-Z_]+)\b/.exec(error)?.[0];
  return `${found[1]}${code ? ` (${code})` : ''}`;
}

/** The senders by channel type. */
export const SENDERS: { [T in NotificationConfig['type']]: Sender<Extract<NotificationConfig, { type: T }>> } = {
  email: sendEmail,
  webhook: sendWebhook,
};
