import {
  appendFileSync,
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { maskSecrets } from '../exec/spawn.js';
import { ranBy } from '../core/who.js';
import { DIR_MODE, FILE_MODE } from './fs-util.js';

/** Local date as YYYY-MM-DD. */
export function localDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** Path of the daily operations log: `backupDir/logs/backup_YYYY-MM-DD.log`. */
export function logFile(backupDir: string, when = new Date()): string {
  return join(backupDir, 'logs', `backup_${localDate(when)}.log`);
}

/**
 * Size-based rotation of a daily log, on top of the one file a day: a day with a runaway loop of lines (a job every
 * minute failing, a health check in a tight loop) would otherwise grow its file without bound. When a line would
 * take the file past `maxBytes`, the file is renamed `.1` (`.1` to `.2`, …; `keep` rotated files at most, the
 * oldest dropped) and the line starts a new file. Tests lower the limits with setLogRotation.
 */
export const LOG_ROTATION = { maxBytes: 10 * 1024 * 1024, keep: 5 };

/** Lowers (or restores) the rotation limits of this process; for tests. */
export function setLogRotation(limits: Partial<typeof LOG_ROTATION>): void {
  Object.assign(LOG_ROTATION, limits);
}

/**
 * Appends one JSON line per operation to the daily log (0600 in a 0700 folder), rotating it by size first
 * (rotateLog). Secrets are masked. A failure to log never fails a backup: it is reported on stderr instead.
 *
 * Every line is its own open with O_APPEND (appendFileSync), never a long-lived descriptor: the scheduler and a
 * CLI run started by hand append to the same file, and after either rotates it, the next line of both goes to
 * the new file. A line is written whole by one write, so lines of two processes never interleave.
 */
export function writeLog(
  backupDir: string,
  event: string,
  fields: Record<string, unknown>,
  secrets: readonly string[] = [],
): void {
  try {
    const dir = join(backupDir, 'logs');
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true, mode: DIR_MODE });
      chmodSync(dir, DIR_MODE);
    }
    const file = logFile(backupDir);
    const line = maskSecrets(
      JSON.stringify({ time: new Date().toISOString(), event, pid: process.pid, user: ranBy().user, ...fields }),
      secrets,
    );
    try {
      rotateLog(file, Buffer.byteLength(line) + 1);
    } catch {
      // Rotating is housekeeping: whatever stopped it, the line is still written (to the file as it is).
    }
    const fresh = !existsSync(file);
    appendFileSync(file, line + '\n', { mode: FILE_MODE });
    if (fresh) {
      chmodSync(file, FILE_MODE);
      // A day's first line: the logs of days past the keep are removed (housekeeping, never fatal).
      try {
        removeOldLogs(dir, new Date());
      } catch {
        // tried again on the next day's first line
      }
    }
  } catch (err) {
    // A folder that cannot be written (a read-only disk) is said once, not for every line of the run.
    if (unwritable.has(backupDir)) return;
    const code = (err as NodeJS.ErrnoException).code;
    // Said already by the caller (a health check that reports the folder cannot be written): not said twice.
    if ((code === 'EROFS' || code === 'EACCES' || code === 'EPERM') && (quiet.get(backupDir) ?? 0) > 0) return;
    if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') unwritable.add(backupDir);
    // A full disk is said once too, and later lines still tried (room may come back).
    else if (code === 'ENOSPC' || code === 'EDQUOT') {
      if (fullSaid.has(backupDir)) return;
      fullSaid.add(backupDir);
    }
    process.stderr.write(`respaldo: could not write the log: ${(err as Error).message}\n`);
  }
}

/**
 * Renames `file` to `file.1` (after `.1` → `.2` … up to `keep`, the oldest dropped) when `adding` bytes would take
 * it past maxBytes. Rename only: the file is never copied or truncated, so a line another process appends meanwhile
 * lands in the old file (its open came before the rename) or in a new one (after), never nowhere. One process
 * rotates at a time: it holds `<file>.rotating` (created O_EXCL) and checks the size again under it; a process that
 * finds it held just appends, the file briefly past the limit. A holder that died leaves it: after a minute it is
 * taken as stale and removed.
 */
function rotateLog(file: string, adding: number): void {
  if (!overLimit(file, adding)) return;
  const lock = `${file}.rotating`;
  let fd: number;
  try {
    fd = openSync(lock, 'wx', FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    try {
      if (Date.now() - statSync(lock).mtimeMs > 60_000) unlinkSync(lock);
    } catch {
      // rotated and released meanwhile
    }
    return;
  }
  try {
    if (!overLimit(file, adding)) return;
    for (let n = LOG_ROTATION.keep - 1; n >= 1; n--) {
      try {
        renameSync(`${file}.${n}`, `${file}.${n + 1}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    renameSync(file, `${file}.1`);
  } finally {
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}

function overLimit(file: string, adding: number): boolean {
  try {
    const size = statSync(file).size;
    return size > 0 && size + adding > LOG_ROTATION.maxBytes;
  } catch {
    return false;
  }
}

/**
 * The text of the daily log of `when`, across its rotated files, oldest line first (`.5` … `.1`, then the file
 * itself). Empty when the day has no log.
 */
export function readDailyLog(backupDir: string, when: Date): string {
  const file = logFile(backupDir, when);
  const rotated = Array.from({ length: Math.max(LOG_ROTATION.keep, 1) }, (_, i) => `${file}.${i + 1}`).reverse();
  let text = '';
  for (const f of [...rotated, file]) {
    try {
      text += readFileSync(f, 'utf8');
    } catch {
      continue;
    }
  }
  return text;
}

/** Backup folders whose log could not be written for good during this run. */
const unwritable = new Set<string>();
/** Backup folders whose full disk kept a log line out, said once in this run. */
const fullSaid = new Set<string>();

/** Backup folders whose log lines may fail to be written unsaid, for now (quietWhileSaid), with how many callers. */
const quiet = new Map<string, number>();

/**
 * Runs `work`, during which a log line that cannot be written in `backupDir` because the folder cannot be written
 * (read-only, no permission) is not said on stderr: the caller reports that folder itself (the health check's
 * "backup folder: … cannot be written"). Only for that while: a folder writable again later logs as before.
 */
export async function quietWhileSaid<T>(backupDir: string, work: () => Promise<T>): Promise<T> {
  quiet.set(backupDir, (quiet.get(backupDir) ?? 0) + 1);
  try {
    return await work();
  } finally {
    const left = (quiet.get(backupDir) ?? 1) - 1;
    if (left > 0) quiet.set(backupDir, left);
    else quiet.delete(backupDir);
  }
}

/** No log lines are written in `backupDir` for the rest of this run (a folder found read-only, and said so). */
export function stopLogging(backupDir: string): void {
  unwritable.add(backupDir);
}

/**
 * Days of daily logs kept: past them a day's log (and its rotated files) is removed when a new day's log starts.
 * More than a year, for an audit of last year's runs; health reads the last 30 days, `prune` two.
 */
export const LOG_KEEP_DAYS = 400;

/** The daily logs (`backup_YYYY-MM-DD.log`, `.1` …) in `dir` of days more than LOG_KEEP_DAYS before `now`, removed. */
export function removeOldLogs(dir: string, now: Date): string[] {
  const oldest = localDate(new Date(now.getTime() - LOG_KEEP_DAYS * 86_400_000));
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const day = /^backup_(\d{4}-\d{2}-\d{2})\.log(?:\.\d+)?$/.exec(name)?.[1];
    if (!day || day >= oldest) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed.sort();
}
