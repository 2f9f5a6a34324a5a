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
}

export interface NotifyOptions {
  /** Attempts per channel (default 3), waiting `backoffMs` × 2^n between them (default 1 s). */
  attempts?: number;
  backoffMs?: number;
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
  for (let n = 1; n <= attempts; n++) {
    try {
      await send(channel, message);
      return { channel: name, type: channel.type, ok: true, attempts: n };
    } catch (err) {
      last = maskSecrets(errorMessage(err), secrets);
      if (n < attempts) await new Promise((r) => setTimeout(r, backoff * 2 ** (n - 1)));
    }
  }
  return { channel: name, type: channel.type, ok: false, attempts, error: last };
}

/** The event of a test message (`respaldo notify --test`). */
export function testEvent(): NotifyEvent {
  return { kind: 'test', operation: 'notify --test', host: hostname(), at: new Date() };
}

export type { NotifyEvent, NotifyEventKind };
