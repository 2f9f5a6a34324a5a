import { hostname } from 'node:os';
import { EXIT, type ExitKind } from './exit-codes.js';
import { formatLocal } from './format.js';
import { english, phrase, type Phrase } from './phrases.js';

/**
 * An error an operator can act on. `message` says what happened in the operator's words,
 * `hint` what to do next. It is printed without a stack. Anything that is not a
 * RespaldoError is a bug and is printed with its stack.
 */
export class RespaldoError extends Error {
  readonly kind: ExitKind;
  readonly hint: string | undefined;
  details: Record<string, unknown> | undefined;
  /**
   * `message` and `hint` as phrases, for the menu's languages (the common errors only); `aftermath`, the sentences
   * withAftermath added to the message, in order.
   */
  phrases: { message?: Phrase; hint?: Phrase; aftermath?: Phrase[] } | undefined;

  constructor(kind: ExitKind, message: string, hint?: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'RespaldoError';
    this.kind = kind;
    this.hint = hint;
    this.details = details;
  }

  get exitCode(): number {
    return EXIT[this.kind];
  }

  /** Attaches the phrases of `message` and `hint`; returns this error. */
  withPhrases(message: Phrase, hint?: Phrase): this {
    this.phrases = { message, ...(hint ? { hint } : {}) };
    return this;
  }

  /** Attaches the phrase of `hint` alone (a message that quotes a validator's English stays as it is). */
  withHintPhrase(hint: Phrase): this {
    this.phrases = { ...this.phrases, hint };
    return this;
  }

  /**
   * Adds what was done while this error was on its way out (a safety copy removed, databases already replaced) to
   * its message (one more sentence) and details; the sentence's phrase joins the message's, so the menu says it all
   * in its language (a message without a phrase stays English). Returns this error.
   */
  withAftermath(sentence: Phrase, details: Record<string, unknown>): this {
    this.message = joinSentences([this.message, english(sentence)]);
    this.details = { ...this.details, ...details };
    if (this.phrases?.message)
      this.phrases = { ...this.phrases, aftermath: [...(this.phrases.aftermath ?? []), sentence] };
    return this;
  }

  toJSON(): Record<string, unknown> {
    return {
      error: this.kind,
      message: this.message,
      hint: this.hint ?? null,
      exitCode: this.exitCode,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/** Configuration problems. `file` and `path` (a JSON path such as `databases[1].path`) name the bad field. */
export class ConfigError extends RespaldoError {
  readonly file: string;
  readonly path: string | undefined;
  constructor(file: string, path: string | undefined, problem: string, hint?: string) {
    super(
      'config',
      path ? `${file}: ${path}: ${problem}` : `${file}: ${problem}`,
      hint ?? english(phrase('config.fixHint')),
      { file, path: path ?? null },
    );
    this.name = 'ConfigError';
    if (hint === undefined) this.withHintPhrase(phrase('config.fixHint'));
    this.file = file;
    this.path = path;
  }
}

export class UsageError extends RespaldoError {
  constructor(message: string, hint?: string) {
    super('usage', message, hint ?? 'Run `respaldo --help` for the commands and flags.');
    this.name = 'UsageError';
  }
}

export class LockHeldError extends RespaldoError {
  constructor(
    lockFile: string,
    holder: string,
    who?: { purpose: string; pid: number; host: string; startedAt: string },
  ) {
    // A holder on this host was seen alive (a stale lock is taken over): removing its lock would let two runs write
    // at once, so the hint says only to wait. Elsewhere (a shared folder) its life cannot be checked from here.
    const live = who !== undefined && who.host === hostname();
    const hint = live
      ? phrase('error.lockHeldLiveHint', { pid: who.pid, lockFile })
      : phrase('error.lockHeldHint', { lockFile });
    super('lockHeld', `Another respaldo process is working on this backup folder (${holder}).`, english(hint), {
      lockFile,
    });
    this.name = 'LockHeldError';
    const since = who ? formatLocal(who.startedAt, { seconds: true }) : '';
    this.withPhrases(who ? phrase('error.lockHeldBy', { ...who, startedAt: since }) : phrase('error.lockHeld'), hint);
  }
}

export class NotFoundError extends RespaldoError {
  constructor(message: string, hint?: string) {
    super('notFound', message, hint ?? 'Run `respaldo list` to see the backup sets that exist.');
    this.name = 'NotFoundError';
  }
}

export class VerifyError extends RespaldoError {
  constructor(message: string, hint?: string, details?: Record<string, unknown>) {
    super(
      'verifyFailed',
      message,
      hint ??
        'Do not restore from this set. Use another set (`respaldo list`) and check the disk that holds the backups.',
      details,
    );
    this.name = 'VerifyError';
  }
}

export class RefusedError extends RespaldoError {
  constructor(message: string, hint: string) {
    super('refused', message, hint);
    this.name = 'RefusedError';
  }
}

/** A child process failed. The command is shown without secrets; stderr is only its tail. */
export class CommandError extends RespaldoError {
  constructor(
    message: string,
    hint: string | undefined,
    /**
     * `cutShort`: the process answering the call (a daemon) ended during it, so its stderr is not the answer (a
     * failure to try again).
     */
    info: { command: string; exitCode: number | null; signal: string | null; stderrTail: string; cutShort?: boolean },
  ) {
    super('failed', message, hint, info);
    this.name = 'CommandError';
  }
}

export class InterruptedError extends RespaldoError {
  /** `message`: what was stopped, as a phrase (said in the menu's language) or in English only. */
  constructor(message?: string | Phrase) {
    const said = typeof message === 'string' ? undefined : (message ?? phrase('error.interrupted'));
    super('interrupted', said ? english(said) : (message as string), english(phrase('error.interruptedHint')));
    this.name = 'InterruptedError';
    if (said) this.withPhrases(said, phrase('error.interruptedHint'));
    else this.withHintPhrase(phrase('error.interruptedHint'));
  }
}

/** Sentences as one text: each after the one before, which gets its full stop if it has none. */
export function joinSentences(sentences: readonly string[]): string {
  return sentences.reduce((text, next) => `${text.replace(/\.?$/, '.')} ${next}`);
}

export function isRespaldoError(err: unknown): err is RespaldoError {
  return err instanceof RespaldoError;
}

/** A short operator-facing description of any error (message only; hint kept separately). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Whether an error means that the disk being written is full (ENOSPC, EDQUOT, SQLITE_FULL). */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}

/** The disk of the backup folder is full: said plainly, with what to do, instead of a raw ENOSPC. */
export class DiskFullError extends RespaldoError {
  /** `then`: what to do once there is room (default: back up again); a restore's safety copy says so. */
  constructor(backupDir: string, doing: string, free: string | null, then?: string) {
    super(
      'failed',
      `No space left on the disk of the backup folder ${backupDir}${free ? ` (${free} free)` : ''} while ${doing}.`,
      'Free space there (`respaldo prune --dry-run` shows what retention would remove; `respaldo delete <id>` removes one set), or point "backupDir" at a bigger disk, ' +
        (then ?? 'then back up again. The databases were not changed.'),
      { backupDir },
    );
    this.name = 'DiskFullError';
  }
}

const ACCESS_CODES = new Set(['EACCES', 'EPERM', 'EROFS']);

/** Whether an error means that a file may not be written or read there (no permission, read-only file system). */
export function isAccessError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && ACCESS_CODES.has(code);
}

/** A native addon (better-sqlite3, ssh2's crypto) compiled for another Node.js: Node was upgraded under respaldo. */
export function builtForOtherNode(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  // the first load says NODE_MODULE_VERSION; the same module loaded again in the process, "did not self-register"
  return (
    e?.code === 'ERR_DLOPEN_FAILED' &&
    typeof e.message === 'string' &&
    (e.message.includes('NODE_MODULE_VERSION') || e.message.includes('did not self-register'))
  );
}

/** That error said as what to do: which module, and the rebuild the README gives (run where respaldo is installed). */
export function nativeModuleError(err: Error): RespaldoError {
  const module = /'([^']+\.node)'/.exec(err.message)?.[1];
  const installed = module?.includes('/node_modules/') ? module.slice(0, module.indexOf('/node_modules/')) : undefined;
  return new RespaldoError(
    'failed',
    `A native module of respaldo${module ? ` (${module})` : ''} was built for another version of Node.js than this one (${process.version}): Node.js was upgraded or another one is first on PATH.`,
    `Rebuild the native modules for this Node.js: npm rebuild better-sqlite3 ssh2 cpu-features${installed ? ` (in ${installed})` : ''}, or run respaldo with the Node.js it was installed with. Nothing was changed.`,
  );
}

/**
 * A disk-full or permission error from anywhere (taking the lock, writing a manifest, a log or the
 * config) as an operator error rather than a bug; anything else is returned unchanged.
 */
export function asOperatorError(err: unknown): unknown {
  if (err instanceof RespaldoError) return err;
  if (builtForOtherNode(err)) return nativeModuleError(err as Error);
  const code = (err as { code?: unknown } | null)?.code;
  const path = (err as { path?: unknown } | null)?.path;
  if (typeof code === 'string' && ACCESS_CODES.has(code)) {
    const params = { on: typeof path === 'string' ? path : '', detail: (err as Error).message };
    const message = phrase(code === 'EROFS' ? 'error.readOnlyFs' : 'error.permissionDenied', params);
    const hint = phrase(code === 'EROFS' ? 'error.readOnlyFsHint' : 'error.permissionDeniedHint');
    return new RespaldoError('failed', english(message), english(hint)).withPhrases(message, hint);
  }
  if (!isDiskFull(err)) return err;
  const message = phrase('error.noSpace', { on: typeof path === 'string' ? path : '', detail: (err as Error).message });
  const hint = phrase('error.noSpaceHint');
  return new RespaldoError('failed', english(message), english(hint)).withPhrases(message, hint);
}

/**
 * A destination (folder, S3, SFTP, rclone) failed: unreachable, refused the credentials or the host
 * key, a missing file. `transient` says a retry may succeed (connection reset, timeout, 5xx).
 * The message names the destination, never a secret.
 */
export class DestinationError extends RespaldoError {
  readonly transient: boolean;
  readonly destination: string;
  /** What is at the key read is there but no file (`a folder`, `a FIFO, socket or device`): never read. */
  readonly notAFile: string | null;
  constructor(
    destination: string,
    message: string,
    hint: string,
    opts: { transient?: boolean; kind?: ExitKind; notAFile?: string } = {},
  ) {
    super(opts.kind ?? 'failed', `destination "${destination}": ${message}`, hint, { destination });
    this.name = 'DestinationError';
    this.transient = opts.transient ?? false;
    this.destination = destination;
    this.notAFile = opts.notAFile ?? null;
  }
}
