import type { ChildProcess } from 'node:child_process';
import { Transform, type TransformCallback } from 'node:stream';
import { CommandError, InterruptedError, RespaldoError } from '../../core/errors.js';
import { english, phrase } from '../../core/phrases.js';
import { DUMP_MEMBER_ROLE } from '../../core/types.js';
import { runCapture } from '../../exec/spawn.js';
import { type PgConnection } from './config.js';
import { copyRows, missingToolHint, type PgTool } from './args.js';
import { where } from './connection.js';
import { hintPhraseForStderr, parseToolVersion, sessionEndedBy } from './plan.js';

/** Running the PostgreSQL client tools (versions, exit status, killing) and counting the rows of dump files. */

/** Counts the rows of a COPY data file as it passes (see copyRows), without copying it. */
export class RowCounter extends Transform {
  private newlines = 0;
  private tail = '';
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.count(chunk);
    cb(null, chunk);
  }
  /** Counts the bytes of `chunk`, the next of the file, without keeping it. */
  count(chunk: Buffer): void {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.newlines++;
    this.tail = (this.tail + chunk.subarray(Math.max(0, chunk.length - 16)).toString('latin1')).slice(-16);
  }
  get rows(): number {
    return copyRows(this.newlines, this.tail);
  }
}

/** Names of the files of a directory dump that respaldo stores and restores (no paths, no dot files). */
export const DUMP_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.]*$/;

/** Manifest role of a stored file of a directory dump. */
export const MEMBER_ROLE = DUMP_MEMBER_ROLE;

export async function toolVersion(command: string, tool: PgTool): Promise<{ major: number; version: string }> {
  let out: string;
  try {
    out = (await runCapture({ command, args: ['--version'], missingHint: missingToolHint(tool) })).stdout;
  } catch (err) {
    if (err instanceof RespaldoError && /command not found/.test(err.message)) {
      throw new RespaldoError('failed', `${tool} not found (${command}).`, missingToolHint(tool), { command });
    }
    throw err;
  }
  const v = parseToolVersion(out);
  if (!v)
    throw new RespaldoError(
      'failed',
      `Cannot read the version of ${command} ("${out.trim()}").`,
      missingToolHint(tool),
    );
  return v;
}

export async function commandDone<T>(
  p: Promise<T>,
  tool: PgTool,
  conn: PgConnection,
  what: string,
  signal?: AbortSignal,
): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (signal?.aborted) throw new InterruptedError();
    if (err instanceof CommandError) {
      const info = err.details as {
        command: string;
        exitCode: number | null;
        signal: string | null;
        stderrTail: string;
      };
      const ended = sessionEndedBy(info.stderrTail);
      const message = ended ? `${what}: ${ended.cause} (${err.message})` : `${what}: ${err.message}`;
      const hint = hintPhraseForStderr(info.stderrTail, { tool, conn });
      const failed = new CommandError(message, hint ? english(hint) : err.hint, info);
      if (hint) failed.withHintPhrase(hint);
      // The server went away under the command (shut down, restarted, the session ended by someone): a drill
      // then did not run, which says nothing of the set (drill.ts), as for a server down before it started.
      if (serverLost(info.stderrTail)) {
        failed.details = { ...failed.details, serverAway: true };
        // respaldo's words around the tool's (which stay as it said them), for the menu's languages
        // an ended session keeps the hint of its cause (hintPhraseForStderr: pgend.hint)
        const lost = ended ? undefined : phrase('pgconn.lostHint', { at: where(conn) });
        failed.withPhrases(phrase('restore.serverEnded', { detail: message }), lost ?? hint);
      } else if (tool !== 'pg_dump' && tool !== 'pg_dumpall' && serverDiskFull(info.stderrTail)) {
        // The server could not extend a table or index (its data or temporary-file disk full): not the set's
        // fault either, and freeing space there is what lets a drill run (drill.ts: stoppedServerDiskFull).
        failed.details = { ...failed.details, serverAway: true, serverDiskFull: true };
      }
      throw failed;
    }
    throw err;
  }
}

/**
 * Pure: whether a client tool's stderr says the server's disk filled ("could not extend file …: No space left on
 * device"). pg_restore, psql and pg_amcheck write nothing on this machine: any full disk they report is the server's
 * (pg_dump's and pg_dumpall's own output is not: never asked of them).
 */
export function serverDiskFull(stderr: string): boolean {
  return /no space left on device|could not extend file|disk full/i.test(stderr);
}

/** Pure: whether a client tool's stderr says the server went away or ended the session, not that the data is bad. */
export function serverLost(stderr: string): boolean {
  const s = stderr.toLowerCase();
  return [
    'server closed the connection unexpectedly',
    'connection refused',
    'could not connect to server',
    'terminating connection due to administrator command',
    'because of crash of another server process',
    'the database system is shutting down',
    'the database system is starting up',
    'no connection to the server',
  ].some((x) => s.includes(x));
}

export function killChild(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
