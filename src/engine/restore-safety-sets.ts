import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { errorMessage } from '../core/errors.js';
import { said, type Said } from '../core/phrases.js';
import type { Reporter } from '../core/events.js';
import type { DatabaseEntry, LoadedConfig, Manifest } from '../core/types.js';
import { driverFor } from '../drivers/registry.js';
import { VERSION } from '../version.js';
import { SWAP_JOURNAL_PREFIX, readManifest, setDir, readManifestHead } from './catalog.js';
import { DEFAULT_GZIP_LEVEL } from './create.js';
import { ensurePrivateDir, fsyncPath, writeFileAtomic } from './fs-util.js';
import { writeLog } from './log.js';
import { MANIFEST_NAME } from './manifest.js';
import { newSetId, isSetId } from './set-id.js';
import { publishSet, stagingDir, takenSetIds } from './publish-set.js';
import { dbConfig } from './restore-plan.js';

/**
 * The sets a restore leaves behind for server databases kept renamed on their server: pre_restore
 * sets listing them (`safetyDatabase`, no stored file), the journal of rollbacks (swap backs) in
 * flight, and the retirement of entries a rollback made live again.
 */

/** The entry of a pre_restore set listing a live database renamed on its server as `safetyDatabase`. */
export function referenceEntry(entry: DatabaseEntry, safetyDatabase: string, setId: string): DatabaseEntry {
  const note = `the live database before restoring set ${setId}, renamed on the server`;
  const stored = { file: null, md5: null, sha256: null, storedBytes: 0, extras: [] };
  // Not the restored entry's `base`: the safety copy is whole, and needs no set (retention would keep its chain).
  const { base: _base, ...whole } = entry;
  return { ...whole, ...stored, safetyDatabase, details: { note } };
}

export { SWAP_JOURNAL_PREFIX };

/**
 * Written before each swap back, and before each in-place swap of a server database (`kind: 'swap'`: the live
 * database kept renamed as `newSafety`, `kept` unused), removed once the sets say where everything is.
 */
export interface SwapBackJournal {
  setId: string;
  entries: {
    kind?: 'swap';
    database: string;
    kept: string;
    newSafety: string | null;
    entry: DatabaseEntry | null;
  }[];
}

/**
 * Finishes rollbacks cut between their swap and the sets that record it (a killed run): for each
 * journaled swap back that happened (the kept database is gone), lists the database it replaced
 * in a new pre_restore set (unless a set already lists it) and removes the swapped-back entry from
 * the set that listed it. A swap that never happened needs nothing. Call under the lock. Returns
 * one sentence per action; a server that cannot be reached leaves its journal for the next run.
 */
export async function finishInterruptedSwapBacks(cfg: LoadedConfig, reporter: Reporter): Promise<Said[]> {
  if (!existsSync(cfg.backupDir)) return [];
  const actions: Said[] = [];
  const journals = readdirSync(cfg.backupDir).filter((n) => n.startsWith(SWAP_JOURNAL_PREFIX) && n.endsWith('.json'));
  for (const name of journals) {
    const file = join(cfg.backupDir, name);
    try {
      const j = JSON.parse(await fsp.readFile(file, 'utf8')) as SwapBackJournal;
      const publish: DatabaseEntry[] = [];
      const retire: string[] = [];
      let later = false;
      for (const e of j.entries) {
        const db = dbConfig(cfg, e.database);
        const driver = driverFor(db.engine);
        if (e.kind === 'swap') {
          // An in-place restore killed after its swap, before its pre_restore set: the safety copy is listed now.
          // With the live database missing (cut between the renames), the driver's recovery puts it back first.
          if (!(await driver.inspectTarget(db, { kind: 'in-place' })).exists) {
            later = true;
            continue;
          }
          const kept = e.newSafety ? await driver.inspectTarget(db, { kind: 'side-by-side', name: e.newSafety }) : null;
          if (kept?.exists && e.entry && !(await listsSafetyDatabase(cfg, e.newSafety!))) publish.push(e.entry);
          continue;
        }
        if ((await driver.inspectTarget(db, { kind: 'side-by-side', name: e.kept })).exists) continue; // never swapped
        retire.push(e.database);
        const fresh = e.newSafety ? await driver.inspectTarget(db, { kind: 'side-by-side', name: e.newSafety }) : null;
        const unlisted = e.newSafety && fresh?.exists && !(await listsSafetyDatabase(cfg, e.newSafety));
        if (unlisted && e.entry) publish.push(e.entry);
        actions.push(said('recover.rollbackFinished', { db: e.database, kept: e.kept }));
      }
      if (publish.length) {
        const id = await publishReferenceSet(cfg, j.setId, publish);
        const names = publish.map((p) => `"${p.safetyDatabase}"`).join(', ');
        actions.push(said('recover.listed', { names, set: id }));
      }
      if (retire.length && existsSync(join(setDir(cfg, j.setId), MANIFEST_NAME))) {
        await retireSwappedBack(cfg, j.setId, retire);
      }
      if (!later) await fsp.rm(file, { force: true });
    } catch (err) {
      reporter.emit({ type: 'warning', ...said('warn.rollbackNotFinished', { file, error: errorMessage(err) }) });
    }
  }
  if (actions.length) {
    const lines = actions.map((a) => a.message);
    writeLog(cfg.backupDir, 'recover', { actions: lines, reason: 'rollback interrupted' }, cfg.secrets);
  }
  return actions;
}

async function listsSafetyDatabase(cfg: LoadedConfig, name: string): Promise<boolean> {
  for (const id of readdirSync(cfg.backupDir).filter(isSetId)) {
    try {
      if ((await readManifestHead(cfg, id, { shared: true })).databases.some((d) => d.safetyDatabase === name))
        return true;
    } catch {
      /* a damaged set lists nothing */
    }
  }
  return false;
}

/**
 * After a rollback: removes the swapped-back entries from the pre_restore set that listed them (the
 * databases are live again), and the set itself when nothing is left in it. Runs under the lock.
 */
export async function retireSwappedBack(cfg: LoadedConfig, id: string, names: string[]): Promise<void> {
  const m = await readManifest(cfg, id);
  const rest = m.databases.filter((d) => !names.includes(d.name));
  const dir = setDir(cfg, id);
  if (!rest.length && !m.files.length) {
    const trash = join(cfg.backupDir, `.deleting-${id}-${process.pid}`);
    await fsp.rename(dir, trash);
    await fsp.rm(trash, { recursive: true, force: true });
  } else {
    await writeFileAtomic(join(dir, MANIFEST_NAME), JSON.stringify({ ...m, databases: rest }, null, 2) + '\n');
  }
  await fsyncPath(cfg.backupDir);
  const setRemoved = !rest.length && !m.files.length;
  writeLog(cfg.backupDir, 'rollback-retired', { setId: id, databases: names, setRemoved }, cfg.secrets);
}

/** A pre_restore set whose entries point at live databases renamed on their server. */
export async function publishReferenceSet(
  cfg: LoadedConfig,
  restoreOf: string,
  entries: DatabaseEntry[],
): Promise<string> {
  const now = new Date();
  const id = newSetId(now, takenSetIds(cfg.backupDir));
  await ensurePrivateDir(stagingDir(cfg.backupDir, id));
  const manifest: Manifest = {
    schemaVersion: 1,
    id,
    type: 'pre_restore',
    description: `safety copies (renamed databases) from restoring set ${restoreOf}`,
    startedAt: now.toISOString(),
    completedAt: now.toISOString(),
    status: 'completed',
    tool: { name: 'respaldo', version: VERSION },
    host: hostname(),
    job: null,
    restoreOf,
    compressionLevel: cfg.compression.level ?? DEFAULT_GZIP_LEVEL,
    databases: entries,
    files: [],
    warnings: [],
    totals: { storedBytes: 0, rawBytes: 0, files: 0 },
  };
  await publishSet(cfg.backupDir, manifest);
  return id;
}
