import { existsSync, promises as fsp, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { removeEmptyDirs } from '../core/durable-fs.js';
import { ensurePrivateDir, removeTree, writeFileAtomic } from './fs-util.js';
import { processAlive } from './lock.js';
import { said, type Said } from '../core/phrases.js';

/**
 * Temporary paths a restore creates outside the backup folder (the staging file of a side-by-side
 * SQLite restore, the partial folder of restored files), recorded in `<backupDir>/.temp-journal/`
 * so that the next restore removes them when the run that made them was killed. Only paths whose
 * name carries one of respaldo's temporary marks are ever removed.
 */

const JOURNAL_DIR = '.temp-journal';
/** Names respaldo gives its temporary files and folders; nothing else is removed by a sweep. */
export const TEMP_MARKS = ['.respaldo-restore-', '.respaldo-partial-'] as const;

interface JournalEntry {
  pid: number;
  path: string;
  at: string;
  /**
   * The folders the run made for `path` (a side-by-side SQLite restore's `--to` folder and those above it it had to
   * make), deepest first: a sweep removes each that is empty once `path` is gone, stopping at the first that is not.
   */
  madeDirs?: string[];
}

let counter = 0;

/**
 * Records `path` (and `madeDirs`, the folders made for it, deepest first); the returned function removes the record
 * once the path is gone or renamed into place.
 */
export async function trackTemp(
  backupDir: string,
  path: string,
  opts: { madeDirs?: string[] } = {},
): Promise<() => Promise<void>> {
  if (!TEMP_MARKS.some((m) => basename(path).includes(m))) throw new Error(`not a respaldo temporary name: ${path}`);
  const dir = join(backupDir, JOURNAL_DIR);
  await ensurePrivateDir(dir);
  const file = join(dir, `${process.pid}-${Date.now()}-${++counter}.json`);
  const entry: JournalEntry = {
    pid: process.pid,
    path,
    at: new Date().toISOString(),
    ...(opts.madeDirs?.length ? { madeDirs: opts.madeDirs } : {}),
  };
  await writeFileAtomic(file, JSON.stringify(entry) + '\n');
  return async () => {
    await fsp.rm(file, { force: true });
    await fsp.rmdir(dir).catch(() => undefined); // only when empty: other records stay
  };
}

/**
 * The journaled paths (absolute) that runs no longer alive left and that are still there: a killed `restore --files`
 * leaves its partial folder beside `--to`, restored files (an application's `.env` too) in it. For `status`; the next
 * create or restore removes them (sweepTemps).
 */
export function deadTemps(backupDir: string): string[] {
  const dir = join(backupDir, JOURNAL_DIR);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const name of names) {
    let entry: JournalEntry;
    try {
      entry = JSON.parse(readFileSync(join(dir, name), 'utf8')) as JournalEntry;
    } catch {
      continue;
    }
    if (entry.pid === process.pid || processAlive(entry.pid)) continue;
    if (typeof entry.path !== 'string' || !TEMP_MARKS.some((m) => basename(entry.path).includes(m))) continue;
    for (const p of [entry.path, `${entry.path}-wal`, `${entry.path}-shm`, `${entry.path}-journal`])
      if (existsSync(p)) found.push(p);
    // The folder it made for it, left empty (or holding only that path): the sweep removes it too.
    const left = madeDirsOf(entry).find((d) => existsSync(d));
    if (left && readdirSync(left).every((n) => join(left, n).startsWith(entry.path))) found.push(left);
  }
  return found;
}

/**
 * Removes what runs that are no longer alive left behind (call it holding the backup folder
 * lock). Returns one sentence per path removed (`recover.removedTemp`, its `path`).
 */
export async function sweepTemps(backupDir: string): Promise<Said[]> {
  const dir = join(backupDir, JOURNAL_DIR);
  if (!existsSync(dir)) return [];
  const done: Said[] = [];
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    let entry: JournalEntry;
    try {
      entry = JSON.parse(readFileSync(file, 'utf8')) as JournalEntry;
    } catch {
      await fsp.rm(file, { force: true }); // half-written by a killed run: it recorded nothing yet
      continue;
    }
    if (entry.pid === process.pid || processAlive(entry.pid)) continue;
    if (typeof entry.path === 'string' && TEMP_MARKS.some((m) => basename(entry.path).includes(m))) {
      for (const p of [entry.path, `${entry.path}-wal`, `${entry.path}-shm`, `${entry.path}-journal`]) {
        if (!existsSync(p)) continue;
        await removeTree(p);
        done.push(said('recover.removedTemp', { path: p }));
      }
      for (const d of await removeEmptyDirs(madeDirsOf(entry))) done.push(said('recover.removedTemp', { path: d }));
    }
    await fsp.rm(file, { force: true });
  }
  await fsp.rmdir(dir).catch(() => undefined);
  return done;
}

/** The folders a record says its run made (deepest first), each an absolute path holding the one before it. */
function madeDirsOf(entry: JournalEntry): string[] {
  const dirs = Array.isArray(entry.madeDirs) ? entry.madeDirs.filter((d) => typeof d === 'string') : [];
  return dirs.every(
    (d, i) => isAbsolute(d) && (i === 0 ? resolve(dirname(entry.path)) === d : dirname(dirs[i - 1]!) === d),
  )
    ? dirs
    : [];
}
