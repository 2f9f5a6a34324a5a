import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../core/errors.js';
import type { Reporter } from '../core/events.js';
import { said, sayingWithin, type Said } from '../core/phrases.js';
import type { LoadedConfig } from '../core/types.js';
import type { DriverContext } from '../drivers/driver.js';
import { capabilitiesOf } from '../drivers/capabilities.js';
import { driverFor } from '../drivers/registry.js';
import { stopOrphansOf } from '../exec/orphans.js';
import { ensurePrivateDir, removeTree } from './fs-util.js';
import { processAlive } from './lock.js';
import { removeDeadSystemScratch } from './system-scratch.js';
import { sweepTemps } from './temp-journal.js';
import { writeLog } from './log.js';
import { isSetId } from './set-id.js';
import { dropSafetySetOfDeadRun } from './safety-journal.js';

/**
 * What killed runs left, put right before a backup (under the lock): restores cut short (each driver's
 * `recover`) and staging folders of runs that are gone (never a published set). The processes such runs left
 * waiting (`stopOrphansOfDeadRuns`) are stopped before a restore too (restore-stage.ts).
 */
/**
 * Finishes what killed restores left for these databases (each driver's `recover`: a temporary
 * `__restore_` database dropped, a swap cut in the middle completed or undone), while the caller
 * holds the lock, so never while a restore runs. Each action is reported as a warning and logged;
 * a database that cannot be reached is left to the backup itself to report. Returns the actions in English.
 */
export async function recoverInterrupted(
  cfg: LoadedConfig,
  databases: string[],
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<string[]> {
  const done: string[] = [];
  const scratchDir = join(cfg.backupDir, `.tmp-restore-${process.pid}`);
  // Loaded here: restore.ts imports this module.
  const { finishInterruptedSwapBacks } = await import('./restore.js');
  for (const a of await finishInterruptedSwapBacks(cfg, reporter)) {
    reporter.emit({ type: 'warning', ...a });
    done.push(a.message);
  }
  try {
    for (const name of withLocalRecovery(cfg, databases)) {
      const db = cfg.databases.find((d) => d.name === name);
      if (!db || signal?.aborted) continue;
      const ctx: DriverContext = {
        reporter,
        signal: signal ?? new AbortController().signal,
        scratchDir,
        log: (message, fields) => writeLog(cfg.backupDir, 'driver', { db: db.name, message, ...fields }, cfg.secrets),
      };
      let actions: Said[];
      try {
        await ensurePrivateDir(cfg.backupDir);
        actions = await driverFor(db.engine).recover(db, ctx);
      } catch (err) {
        writeLog(cfg.backupDir, 'recover', { db: db.name, outcome: 'failed', error: errorMessage(err) }, cfg.secrets);
        // said, not only logged: what is left stays on the server (a login that may not drop it, say)
        reporter.emit({ type: 'warning', item: db.name, ...said('warn.recoverFailed', { error: errorMessage(err) }) });
        continue;
      }
      for (const a of actions)
        reporter.emit({ type: 'warning', item: db.name, ...sayingWithin('recover.finished', a.phrase) });
      const lines = actions.map((a) => a.message);
      if (lines.length) {
        writeLog(cfg.backupDir, 'recover', { db: db.name, actions: lines, outcome: 'ok', by: 'create' }, cfg.secrets);
      }
      done.push(...lines.map((a) => `${db.name}: ${a}`));
    }
  } finally {
    await removeTree(scratchDir);
  }
  return done;
}

/**
 * `databases` and, after them, every configured database whose interrupted restores leave only files beside it
 * (SQLite: no server to reach, a few names read): a killed restore of one is finished by the next create or
 * restore of any, as the README promises, not only of that one (a 183 MB staging file stayed beside the live file).
 */
export function withLocalRecovery(cfg: Pick<LoadedConfig, 'databases'>, databases: readonly string[]): string[] {
  const local = cfg.databases.filter((d) => !capabilitiesOf(d.engine).serverLeftovers).map((d) => d.name);
  return [...new Set([...databases, ...local])];
}

/**
 * Whether `name` in the backup folder is the scratch folder (`.tmp-restore-<pid>`, `.tmp-drill-<pid>`) of a run
 * that is gone: never this process's (a safety copy taken by a restore runs inside the restore's scratch).
 */
function deadRunScratch(name: string): boolean {
  const run = /^\.tmp-(?:restore|drill)-(\d+)$/.exec(name);
  return run !== null && Number(run[1]) !== process.pid && !processAlive(Number(run[1]));
}

/**
 * Removes the scratch folders of restores and drills whose process is gone (never this process's, never a live
 * one's); call it holding the lock, after `stopOrphansOfDeadRuns`. One sentence per folder removed.
 */
export async function removeDeadRunScratch(cfg: LoadedConfig): Promise<Said[]> {
  const removed: string[] = [];
  const done: Said[] = [];
  const stuck: Said[] = [];
  for (const name of readdirSync(cfg.backupDir).filter(deadRunScratch)) {
    // The safety set a killed restore took, when it replaced nothing (safety-journal.ts), goes with its scratch.
    const dropped = await dropSafetySetOfDeadRun(cfg, join(cfg.backupDir, name));
    if (dropped) done.push(dropped);
    const left = await removeLeftover(cfg, join(cfg.backupDir, name));
    if (left) stuck.push(left);
    else removed.push(name);
  }
  if (removed.length)
    writeLog(cfg.backupDir, 'cleanup', { removed, reason: 'left by an interrupted run' }, cfg.secrets);
  return [
    ...done,
    ...removed.map((name) => said('recover.removedScratch', { path: join(cfg.backupDir, name) })),
    ...stuck,
  ];
}

/**
 * Removes a leftover of a killed run (`path`); null when it is gone. One that cannot be removed (a file made immutable,
 * one of another user on a share) is said, logged and left: it never stops the backup, restore or drill that found it,
 * which failed with an internal error at every run from then on, the scheduler's included.
 */
async function removeLeftover(cfg: LoadedConfig, path: string): Promise<Said | null> {
  try {
    await removeTree(path);
    return null;
  } catch (err) {
    const error = errorMessage(err);
    writeLog(cfg.backupDir, 'cleanup', { notRemoved: path, error, reason: 'left by an interrupted run' }, cfg.secrets);
    return said('recover.leftoverNotRemoved', { path, error });
  }
}

/**
 * Removes staging folders (and journaled temporary paths elsewhere) left by killed runs. Only called while holding the
 * lock. Returns what it removed: names in the backup folder, and the journaled paths.
 */
export async function cleanLeftovers(cfg: LoadedConfig): Promise<Said[]> {
  const stopped = await stopOrphansOfDeadRuns(cfg.backupDir);
  if (stopped.length)
    writeLog(
      cfg.backupDir,
      'cleanup',
      { stopped: stopped.map((s) => s.message), reason: 'left by an interrupted run' },
      cfg.secrets,
    );
  const removed: string[] = [];
  // Dead restores' and drills' scratch folders, with the safety set a killed restore left when nothing changed:
  // each said as such (a create removed that safety set and said nothing but in the log).
  const scratch = await removeDeadRunScratch(cfg);
  const staging: Said[] = [];
  for (const name of readdirSync(cfg.backupDir)) {
    const mine = (name.startsWith('.tmp-') && isSetId(name.slice(5))) || /^\.deleting-\d{8}_\d{6}\S*-\d+$/.test(name);
    if (mine) {
      // A backup killed outright leaves pg_dump and its workers running, writing into this folder (a big table into a
      // file that, once the folder is removed, fills the disk unseen) and holding their snapshot and table locks for
      // as long as the dump takes: stopped first. Under the lock, a `.tmp-<id>` folder is a dead run's.
      const n = name.startsWith('.tmp-') ? await stopOrphansOf(join(cfg.backupDir, name)) : 0;
      if (n) {
        const line = said('recover.stoppedDumpOrphans', { count: n });
        stopped.push(line);
        writeLog(
          cfg.backupDir,
          'cleanup',
          { stopped: [line.message], reason: 'left by an interrupted run' },
          cfg.secrets,
        );
      }
      const left = await removeLeftover(cfg, join(cfg.backupDir, name));
      if (left) {
        staging.push(left);
        continue;
      }
      removed.push(name);
      staging.push(said('recover.removedLeftover', { name }));
    }
  }
  const temps = await sweepTemps(cfg.backupDir);
  removed.push(...temps.map((s) => s.phrase.params['path']!));
  // Those of killed runs that kept them in the system's temporary folder (a backup folder with no room).
  const system = await removeDeadSystemScratch();
  removed.push(...system.map((s) => s.phrase.params['path']!));
  if (removed.length)
    writeLog(cfg.backupDir, 'cleanup', { removed, reason: 'left by an interrupted run' }, cfg.secrets);
  return [...stopped, ...scratch, ...staging, ...temps, ...system];
}

/**
 * Stops the processes that restores and drills of killed runs left running: pg_restore and its workers
 * waiting forever on named pipes nobody feeds (see exec/orphans.ts). Only processes whose command line
 * names the scratch folder of a run that is gone. One sentence per run whose processes were stopped.
 */
export async function stopOrphansOfDeadRuns(backupDir: string): Promise<Said[]> {
  const lines: Said[] = [];
  let names: string[];
  try {
    names = readdirSync(backupDir);
  } catch {
    return lines;
  }
  for (const name of names) {
    if (!deadRunScratch(name)) continue;
    const n = await stopOrphansOf(join(backupDir, name));
    if (n) lines.push(said('recover.stoppedOrphans', { count: n }));
  }
  return lines;
}
