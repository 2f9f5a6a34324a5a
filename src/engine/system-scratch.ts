import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { said, type Said } from '../core/phrases.js';
import { stopOrphansOf } from '../exec/orphans.js';
import { removeTree } from './fs-util.js';
import { processAlive } from './lock.js';

/**
 * Scratch folders that restores and drills keep in the system's temporary folder (`TMPDIR`) when the backup
 * folder has no room or cannot be written: `<tmpdir>/respaldo-restore-XXXXXX/.tmp-restore-<pid>/` and
 * `<tmpdir>/respaldo-drill-XXXXXX/.tmp-drill-<pid>/`. The inner name carries the pid of the run, so the
 * folders of a run that was killed (kill -9, the OOM killer: no `finally` ran) are known as such; they hold
 * the decompressed dump of a database, and on the worst day they fill the disk of `/tmp` too.
 */
export const SYSTEM_SCRATCH_PREFIXES = ['respaldo-restore-', 'respaldo-drill-'] as const;

/** Makes a scratch folder of this run in the system's temporary folder; the caller removes `root` at its end. */
export async function makeSystemScratch(kind: 'restore' | 'drill'): Promise<{ root: string; scratch: string }> {
  const root = await fsp.mkdtemp(join(tmpdir(), `respaldo-${kind}-`));
  return { root, scratch: join(root, `.tmp-${kind}-${process.pid}`) };
}

/** The outer folders (absolute paths) in the system's temporary folder whose run is gone; never this process's. */
export function deadSystemScratch(dir = tmpdir()): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  for (const name of names) {
    if (!SYSTEM_SCRATCH_PREFIXES.some((p) => name.startsWith(p))) continue;
    let inner: string[];
    try {
      inner = readdirSync(join(dir, name));
    } catch {
      continue; // another user's, or a file
    }
    const pids = inner.map((n) => /^\.tmp-(?:restore|drill)-(\d+)$/.exec(n)?.[1]).filter((p) => p !== undefined);
    // Empty (a run between making it and its scratch) or of a live run: left alone.
    if (pids.length === 0 || pids.some((p) => Number(p) === process.pid || processAlive(Number(p)))) continue;
    found.push(join(dir, name));
  }
  return found;
}

/**
 * Removes the scratch folders of killed restores and drills from the system's temporary folder, after stopping
 * the processes they left waiting on them (pg_restore on a named pipe). One sentence per folder removed.
 */
export async function removeDeadSystemScratch(dir = tmpdir()): Promise<Said[]> {
  const done: Said[] = [];
  for (const path of deadSystemScratch(dir)) {
    await stopOrphansOf(path);
    await removeTree(path);
    done.push(said('recover.removedScratch', { path }));
  }
  return done;
}
