import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { said, type Said } from '../core/phrases.js';
import { stopOrphansOf } from '../exec/orphans.js';
import { removeTree } from './fs-util.js';
import { processAlive } from './lock.js';
import { deadTemps, sweepTemps } from './temp-journal.js';

/**
 * Scratch folders that restores and drills keep in the system's temporary folder (`TMPDIR`) when the backup
 * folder has no room or cannot be written: `<tmpdir>/respaldo-restore-XXXXXX/.tmp-restore-<pid>/` and
 * `<tmpdir>/respaldo-drill-XXXXXX/.tmp-drill-<pid>/`. The inner name carries the pid of the run, so the
 * folders of a run that was killed (kill -9, the OOM killer: no `finally` ran) are known as such; they hold
 * the decompressed dump of a database, and on the worst day they fill the disk of `/tmp` too. And the claim folders
 * of copies killed while they wrote their claim (CLAIM_SCRATCH_PREFIX).
 */
export const SYSTEM_SCRATCH_PREFIXES = ['respaldo-restore-', 'respaldo-drill-'] as const;

/**
 * The folder a copy writes its claim's few bytes in before it sends them (copy-claim.ts, s3 and rclone):
 * `<tmpdir>/respaldo-claim-<pid>-XXXXXX/claim`, the pid in its name so that one a killed copy left is known as such.
 */
export const CLAIM_SCRATCH_PREFIX = 'respaldo-claim-';

/** Makes this run's claim folder (see CLAIM_SCRATCH_PREFIX); the caller removes it. */
export function makeClaimScratch(): Promise<string> {
  return fsp.mkdtemp(join(tmpdir(), `${CLAIM_SCRATCH_PREFIX}${process.pid}-`));
}

/** The pid of a claim folder's run, from its name; undefined when `name` is no claim folder. */
function claimPid(name: string): number | undefined {
  const pid = new RegExp(`^${CLAIM_SCRATCH_PREFIX}(\\d+)-`).exec(name)?.[1];
  return pid === undefined ? undefined : Number(pid);
}

/** Removes the claim folders of copies that were killed (cheap: one listing of the system's temporary folder). */
export async function removeDeadClaimScratch(dir = tmpdir()): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = claimPid(name);
    if (pid === undefined || pid === process.pid || processAlive(pid)) continue;
    await removeTree(join(dir, name)).catch(() => undefined);
  }
}

/** Makes a scratch folder of this run in the system's temporary folder; the caller removes `root` at its end. */
export async function makeSystemScratch(kind: 'restore' | 'drill'): Promise<{ root: string; scratch: string }> {
  const root = await fsp.mkdtemp(join(tmpdir(), `respaldo-${kind}-`));
  return { root, scratch: join(root, `.tmp-${kind}-${process.pid}`) };
}

/**
 * The outer folders (absolute paths) in the system's temporary folder whose run is gone, never this process's; each
 * after the paths its run journaled in it (temp-journal.ts: a run whose backup folder had no room or could not be
 * written keeps its journal there), a files restore's partial folder beside `--to` and the folders made for it.
 */
export function deadSystemScratch(dir = tmpdir()): string[] {
  return deadRoots(dir).flatMap((root) => [...deadTemps(root), root]);
}

/** The outer folders in the system's temporary folder whose run is gone; never this process's. */
function deadRoots(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  for (const name of names) {
    const claim = claimPid(name);
    if (claim !== undefined) {
      if (claim !== process.pid && !processAlive(claim)) found.push(join(dir, name));
      continue;
    }
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
  for (const path of deadRoots(dir)) {
    await stopOrphansOf(path);
    done.push(...(await sweepTemps(path))); // what its run journaled there, before the journal goes with it
    await removeTree(path);
    done.push(said('recover.removedScratch', { path }));
  }
  return done;
}
