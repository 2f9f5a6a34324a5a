import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { said, type Said } from '../core/phrases.js';
import type { LoadedConfig } from '../core/types.js';
import type { RestoreTarget } from '../drivers/driver.js';
import { driverFor } from '../drivers/registry.js';
import { deleteSetUnlocked, setDir } from './catalog.js';
import { writeFileAtomic } from './fs-util.js';
import { writeLog } from './log.js';
import { MANIFEST_NAME } from './manifest.js';

/**
 * The pre_restore set a restore in place took, written in its scratch folder (`.tmp-restore-<pid>`) until the
 * restore ends: a restore killed before its swap (kill -9, power lost) left a full copy of each live database that
 * the next run never removed, one more per attempt, on a disk that may already be full. The run that finds the
 * scratch folder of a dead run (recovery, under the folder lock) removes that set when every database in it is
 * still the very target it copied (nothing was replaced), as a restore that fails does itself.
 */

const FILE = 'safety-set.json';

interface SafetyJournal {
  setId: string;
  targets: { database: string; target: RestoreTarget; identity: string }[];
}

/** Records the safety set in the restore's scratch folder; not when an engine cannot tell a target's identity. */
export async function journalSafetySet(
  scratchRoot: string,
  setId: string,
  targets: { database: string; target: RestoreTarget; identity: string | undefined }[],
): Promise<void> {
  if (targets.some((t) => t.identity === undefined)) return;
  const doc: SafetyJournal = { setId, targets: targets as SafetyJournal['targets'] };
  await writeFileAtomic(join(scratchRoot, FILE), JSON.stringify(doc) + '\n');
}

/**
 * The safety set a dead run's scratch folder `dir` records, removed when nothing it copied was replaced; what it did,
 * or null (kept: no journal, a database no longer configured, a target changed or gone, the set already gone).
 */
export async function dropSafetySetOfDeadRun(cfg: LoadedConfig, dir: string): Promise<Said | null> {
  let doc: SafetyJournal;
  try {
    doc = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as SafetyJournal;
  } catch {
    return null;
  }
  if (!doc.setId || !Array.isArray(doc.targets) || !existsSync(join(setDir(cfg, doc.setId), MANIFEST_NAME)))
    return null;
  for (const t of doc.targets) {
    const db = cfg.databases.find((d) => d.name === t.database);
    if (!db) return null;
    const now = await driverFor(db.engine)
      .inspectTarget(db, t.target)
      .catch(() => null);
    if (!now?.exists || now.identity !== t.identity) return null;
  }
  try {
    await deleteSetUnlocked(cfg, doc.setId);
  } catch (err) {
    writeLog(cfg.backupDir, 'restore-safety-kept', { setId: doc.setId, error: (err as Error).message }, cfg.secrets);
    return null;
  }
  writeLog(
    cfg.backupDir,
    'restore-safety-removed',
    { setId: doc.setId, reason: 'left by a killed restore' },
    cfg.secrets,
  );
  return said('recover.safetyOfKilledRun', { set: doc.setId });
}
