import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedConfig, SetSummary } from '../core/types.js';
import { formatLocal } from '../core/format.js';
import { listSets } from './catalog.js';
import { folderSize } from './fs-util.js';
import { readSchedulerState, type SchedulerState } from '../scheduler/state.js';
import { isStale, LOCK_NAME } from './lock.js';

export interface StatusReport {
  configFile: string;
  backupDir: string;
  sets: number;
  totalBytes: number;
  /** Newest full set holding each configured database (schema-only sets do not count), with its age. */
  newestPerDatabase: { database: string; engine: string; setId: string | null; completedAt: string | null; ageSeconds: number | null }[];
  /** Safety copies (pre_restore sets) that exist. */
  safetySets: string[];
  newest: SetSummary | null;
  freeBytes: number | null;
  lock: { held: boolean; holder: string | null };
  /** Staging folders left by interrupted runs (removed by the next create). */
  leftovers: string[];
  /** What the scheduler last recorded: per job last run, outcome, duration, next run. */
  scheduler: SchedulerState;
}

/** A summary for `respaldo status` and the menu header. Reads only. */
export async function getStatus(cfg: LoadedConfig, now = new Date()): Promise<StatusReport> {
  const sets = await listSets(cfg);
  let totalBytes = 0;
  for (const s of sets) totalBytes += await folderSize(s.path);
  const newestPerDatabase = cfg.databases.map((db) => {
    const s = sets.find((x) => x.type === 'full' && x.databases.includes(db.name));
    return {
      database: db.name,
      engine: db.engine,
      setId: s?.id ?? null,
      completedAt: s?.completedAt ?? null,
      ageSeconds: s ? Math.round((now.getTime() - new Date(s.completedAt).getTime()) / 1000) : null,
    };
  });
  let freeBytes: number | null = null;
  try {
    const st = await fsp.statfs(existsSync(cfg.backupDir) ? cfg.backupDir : cfg.baseDir);
    freeBytes = st.bavail * st.bsize;
  } catch {
    freeBytes = null;
  }
  let lock: StatusReport['lock'] = { held: false, holder: null };
  const lockFile = join(cfg.backupDir, LOCK_NAME);
  if (existsSync(lockFile)) {
    try {
      const info = JSON.parse(await fsp.readFile(lockFile, 'utf8')) as { pid: number; host: string; purpose: string; startedAt: string };
      lock = isStale(info) ? { held: false, holder: `stale lock of pid ${info.pid}` } : { held: true, holder: `${info.purpose}, pid ${info.pid} since ${formatLocal(info.startedAt)}` };
    } catch {
      lock = { held: true, holder: 'unreadable lock file' };
    }
  }
  const leftovers = existsSync(cfg.backupDir) ? readdirSync(cfg.backupDir).filter((n) => n.startsWith('.tmp-')) : [];
  return {
    configFile: cfg.file,
    backupDir: cfg.backupDir,
    sets: sets.length,
    totalBytes,
    newestPerDatabase,
    safetySets: sets.filter((s) => s.type === 'pre_restore').map((s) => s.id),
    newest: sets[0] ?? null,
    freeBytes,
    lock,
    leftovers,
    scheduler: readSchedulerState(cfg.backupDir),
  };
}
