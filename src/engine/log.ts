import { appendFileSync, chmodSync, existsSync, mkdirSync } from 'node:fs';
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
 * Appends one JSON line per operation to the daily log (0600 in a 0700 folder). Secrets are masked.
 * A failure to log never fails a backup: it is reported on stderr instead.
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
    const fresh = !existsSync(file);
    const line = maskSecrets(
      JSON.stringify({ time: new Date().toISOString(), event, pid: process.pid, user: ranBy().user, ...fields }),
      secrets,
    );
    appendFileSync(file, line + '\n', { mode: FILE_MODE });
    if (fresh) chmodSync(file, FILE_MODE);
  } catch (err) {
    // A folder that cannot be written (a read-only disk) is said once, not for every line of the run.
    if (unwritable.has(backupDir)) return;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') unwritable.add(backupDir);
    process.stderr.write(`respaldo: could not write the log: ${(err as Error).message}\n`);
  }
}

/** Backup folders whose log could not be written for good during this run. */
const unwritable = new Set<string>();

/** No log lines are written in `backupDir` for the rest of this run (a folder found read-only, and said so). */
export function stopLogging(backupDir: string): void {
  unwritable.add(backupDir);
}
