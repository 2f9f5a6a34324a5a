import { hostname } from 'node:os';
import type { LoadedConfig, NotificationConfig, NotifyEventKind } from '../core/types.js';
import { errorMessage } from '../core/errors.js';
import { writeLog } from '../engine/log.js';
import { maskSecrets } from '../exec/spawn.js';
import { SENDERS, type Sender } from './channels.js';
import { buildMessage, wants, type NotifyEvent, type NotifyMessage } from './message.js';

/** How one channel fared. */
export interface NotifyResult {
  channel: string;
  type: NotificationConfig['type'];
  ok: boolean;
  attempts: number;
  error?: string;
  /** What to check, when the error says enough (notifyHint). */
  hint?: string;
}

/**
 * Pure: what an operator should check when channel `type` failed with `error` (as sendWithRetries reports it), or
 * undefined when the error does not say. For `respaldo notify --test`, run when setting a channel up.
 */
export function notifyHint(type: NotificationConfig['type'], error: string): string | undefined {
  const mail = type === 'email';
  if (/ECONNREFUSED/.test(error))
    return mail
      ? 'Nothing listens at "host" and "port": check both (587 for STARTTLS, 465 with "tls": "implicit", 25).'
      : 'Nothing listens at that address: check the URL (its host and port).';
  if (/ENOTFOUND|EAI_AGAIN/.test(error))
    return 'The host name does not resolve here: check it, and DNS on this machine.';
  if (/EAUTH|Invalid login|\b535\b/i.test(error))
    return 'The server refused the login: check "user" and the password (its ${VAR} in the environment or .env).';
  if (/STARTTLS/i.test(error))
    return 'The server offers no STARTTLS: use "tls": "implicit" on port 465, or "tls": "none" only on a network you trust.';
  if (/bad port/.test(error))
    return "The URL's port is kept for another protocol and HTTP clients refuse it: check the port in the URL (a receiver listens on 443 or 80, or a port of its own).";
  if (/for another host name|ALTNAME/i.test(error))
    return mail
      ? 'The certificate is not for the name in "host": use the name it was issued for (not an IP address or another alias).'
      : 'The certificate is not for the host in the URL: use the name it was issued for (not an IP address or another alias), or have the certificate cover that name.';
  if (/certificate (has expired|is not valid yet)/i.test(error))
    return "The server's certificate is out of its dates: it must be renewed on the server (or this machine's clock is wrong).";
  if (/certificate|self[- ]signed|CERT_|UNABLE_TO_VERIFY/i.test(error))
    return (
      "The server's TLS certificate is not trusted here: add its CA certificate to this system's CA store, or put the " +
      'CA (a PEM file) in NODE_EXTRA_CA_CERTS in the environment respaldo runs in (the scheduler service too).'
    );
  if (/Greeting never received|ETIMEDOUT|timed? ?out|no answer/i.test(error))
    return mail
      ? 'The server took the connection and never answered: a firewall, or the wrong port for "tls" (465 needs "implicit").'
      : 'The receiver took the connection and never answered: check the URL and that the receiver is up.';
  if (/EENVELOPE|\b55[0-4]\b|recipient|sender/i.test(error))
    return 'The server refused the sender or a recipient: check "from" (a sender it lets this login use) and "to".';
  if (/^HTTP 40[13]\b/.test(error)) return 'The receiver refused the request: check the token or login in the URL.';
  if (/^HTTP 404\b/.test(error)) return 'No hook at that URL (deleted or rotated?): copy it again from the receiver.';
  if (/^HTTP 5\d\d\b/.test(error)) return 'The receiver failed on its side: try again later, or check its status.';
  return undefined;
}

export interface NotifyOptions {
  /** Attempts per channel (default 3), waiting `backoffMs` × 2^n between them (default 1 s). */
  attempts?: number;
  backoffMs?: number;
  /**
   * The run's stop (the scheduler's abort, Ctrl-C): a channel still being told is given up at once, logged as not
   * sent. A server that never answers held the end of a stopped run up to 48 s.
   */
  signal?: AbortSignal;
}

/** A channel's name for logs and output: its `name`, else its type and position. */
export function channelName(channel: NotificationConfig, index: number): string {
  return channel.name ?? `${channel.type}#${index + 1}`;
}

/**
 * Sends `event` to every configured channel that takes its kind, each retried with backoff. Never
 * throws: a channel that fails is logged (and returned) and never fails the operation that caused the
 * event. Every text is masked with the config's secrets before it leaves.
 */
export async function notify(
  cfg: Pick<LoadedConfig, 'notifications' | 'language' | 'backupDir' | 'secrets'>,
  event: NotifyEvent,
  opts: NotifyOptions = {},
): Promise<NotifyResult[]> {
  const channels = (cfg.notifications ?? [])
    .map((c, i) => ({ c, name: channelName(c, i) }))
    .filter(({ c }) => wants(c, event.kind));
  if (!channels.length) return [];
  const raw = buildMessage(event, cfg.language ?? 'en');
  const message: NotifyMessage = {
    ...raw,
    subject: maskSecrets(raw.subject, cfg.secrets),
    lines: raw.lines.map((l) => maskSecrets(l, cfg.secrets)),
  };
  const results = await Promise.all(
    channels.map(({ c, name }) => sendWithRetries(c, name, message, opts, cfg.secrets)),
  );
  for (const r of results) {
    writeLog(
      cfg.backupDir,
      'notify',
      {
        kind: event.kind,
        channel: r.channel,
        type: r.type,
        outcome: r.ok ? 'sent' : 'failed',
        attempts: r.attempts,
        ...(r.error ? { error: r.error } : {}),
      },
      cfg.secrets,
    );
  }
  return results;
}

async function sendWithRetries(
  channel: NotificationConfig,
  name: string,
  message: NotifyMessage,
  opts: NotifyOptions,
  secrets: readonly string[],
): Promise<NotifyResult> {
  const attempts = opts.attempts ?? 3;
  const backoff = opts.backoffMs ?? 1000;
  const send = SENDERS[channel.type] as Sender<NotificationConfig>;
  let last = '';
  const signal = opts.signal;
  const stopped = (n: number): NotifyResult => ({
    channel: name,
    type: channel.type,
    ok: false,
    attempts: n,
    error: `not sent: the run was stopped${last ? ` (${last})` : ''}`,
  });
  for (let n = 1; n <= attempts; n++) {
    if (signal?.aborted) return stopped(n - 1);
    try {
      await send(channel, message, signal);
      return { channel: name, type: channel.type, ok: true, attempts: n };
    } catch (err) {
      if (signal?.aborted) return stopped(n);
      last = maskSecrets(errorMessage(err), secrets);
      if (n < attempts) await pause(backoff * 2 ** (n - 1), signal);
    }
  }
  const hint = notifyHint(channel.type, last);
  return { channel: name, type: channel.type, ok: false, attempts, error: last, ...(hint ? { hint } : {}) };
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The event of a test message (`respaldo notify --test`). */
export function testEvent(): NotifyEvent {
  return { kind: 'test', operation: 'notify --test', host: hostname(), at: new Date() };
}

export type { NotifyEvent, NotifyEventKind };
