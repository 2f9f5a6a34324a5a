import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RefusedError } from '../core/errors.js';
import { formatBytes } from '../core/format.js';
import { english, phrase, said, type Said } from '../core/phrases.js';
import type { DatabaseConfig, DatabaseEntry, LoadedConfig, Manifest, SetType } from '../core/types.js';
import { capabilitiesOf } from '../drivers/capabilities.js';
import { driverFor } from '../drivers/registry.js';
import { readManifestLeanOf } from './catalog.js';
import { isSetId } from './set-id.js';
import type { BackupPlan } from './create-plan.js';

/**
 * The backup folder's free space, when less than the estimate of what this backup needs while it is written (from the
 * newest set of the plan's type: shortOfRoom).
 */
interface Short {
  free: number;
  needed: number;
  set: string;
  stored: number;
}

/**
 * The bytes a PostgreSQL directory dump of `d` held at once in the backup folder's staging while it was written:
 * pg_dump writes `jobs` table files at a time there, and each is removed once stored, so the largest `jobs` of them.
 */
function dumpStaged(d: DatabaseEntry): number {
  if (d.format !== 'pg-directory') return 0;
  const jobs = Math.max(1, Number(d.details?.['jobs'] ?? 1) || 1);
  return (d.extras ?? [])
    .filter((x) => x.role?.startsWith('pgdir:'))
    .map((x) => x.rawBytes)
    .sort((a, b) => b - a)
    .slice(0, jobs)
    .reduce((n, b) => n + b, 0);
}

/**
 * The bytes of the snapshot a SQLite database takes in the backup folder while it is backed up: the whole database,
 * for an incremental too (its raw bytes in the set are only the pages that changed, which made the estimate after an
 * incremental far too small). The live file's size; when it cannot be read, the size the newest set recorded.
 */
async function snapshotBytes(cfg: LoadedConfig, db: DatabaseConfig, entries: DatabaseEntry[]): Promise<number> {
  if (db.path) {
    const size = await fsp
      .stat(resolve(dirname(cfg.file), db.path))
      .then((st) => st.size)
      .catch(() => null);
    if (size !== null) return size;
  }
  const e = entries.find((d) => d.name === db.name);
  const recorded = e?.details?.['databaseSizeBytes'];
  return typeof recorded === 'number' && recorded > 0 ? recorded : (e?.rawBytes ?? 0);
}

/**
 * The newest published set of `type` that did not fail, its manifest read lean (its `files` not held), the newest
 * looked at first and the search stopped there. The estimate read every set's manifest (listSets), twice: a
 * PostgreSQL database of 5000 tables kept in 8 sets spent about 1.5 s of a 12 s create reading 16 manifests of 5000
 * entries before the first byte was dumped, and more with every set kept. Newest by id, which is named after the
 * set's start time.
 */
async function newestSetOf(cfg: LoadedConfig, type: SetType): Promise<Manifest | null> {
  const ids = existsSync(cfg.backupDir) ? readdirSync(cfg.backupDir).filter(isSetId).sort().reverse() : [];
  for (const id of ids) {
    // A set that cannot be read is no estimate; `list` and `verify` say what is wrong with it.
    const head = await readManifestLeanOf(cfg, id, { shared: true }).then(
      (r) => r.head,
      () => null,
    );
    if (head && head.type === type && head.status !== 'failed') return head;
  }
  return null;
}

/** shortOfRoom of each plan, worked out once: the refusal and the warning of a create both ask. */
const shortOfPlan = new WeakMap<BackupPlan, Promise<Short | null>>();

function shortOfRoomOnce(cfg: LoadedConfig, plan: BackupPlan): Promise<Short | null> {
  let short = shortOfPlan.get(plan);
  if (!short) {
    short = shortOfRoom(cfg, plan).catch(() => null);
    shortOfPlan.set(plan, short);
  }
  return short;
}

/**
 * The newest set of the same type needed its stored size, plus what was written beside it uncompressed while it was
 * (SQLite snapshots at their size now: snapshotBytes; PostgreSQL's staged dump files: dumpStaged), with a fifth to
 * spare: null when the backup folder's disk has that free (or there is no such set).
 */
async function shortOfRoom(cfg: LoadedConfig, plan: BackupPlan): Promise<Short | null> {
  const m = await newestSetOf(cfg, plan.setType);
  if (!m) return null;
  let snapshots = 0;
  for (const p of plan.databases) {
    const db = cfg.databases.find((d) => d.name === p.name);
    if (db && capabilitiesOf(db.engine).localSnapshot) snapshots += await snapshotBytes(cfg, db, m.databases);
  }
  // A PostgreSQL differential or incremental stores only the dump files that changed, but pg_dump writes them all
  // again: what it stages is read from the newest full's entry (which stores every file), when that is more.
  const full = plan.setType === 'full' ? null : await newestSetOf(cfg, 'full');
  const staged = m.databases.reduce((n, d) => {
    const inFull = full?.databases.find((f) => f.name === d.name && f.engine === d.engine);
    return n + Math.max(dumpStaged(d), inFull ? dumpStaged(inFull) : 0);
  }, 0);
  const needed = (m.totals.storedBytes + snapshots + staged) * 1.2;
  const st = await fsp.statfs(cfg.backupDir);
  const free = st.bavail * st.bsize;
  return free >= needed ? null : { free, needed, set: m.id, stored: m.totals.storedBytes };
}

/** A warning when the backup folder's disk is short of room (shortOfRoom): said before the run, not after it fails. */
export async function lowSpace(cfg: LoadedConfig, plan: BackupPlan): Promise<Said | null> {
  const short = await shortOfRoomOnce(cfg, plan);
  if (!short) return null;
  return said('warn.lowSpace', {
    dir: cfg.backupDir,
    free: formatBytes(short.free),
    type: plan.setType,
    set: short.set,
    needed: formatBytes(short.needed),
    stored: formatBytes(short.stored),
  });
}

/**
 * Refuses, before anything is written, a backup short of room (shortOfRoom) whose folder is on the disk a database it
 * backs up lives on (TargetState.disk): the data disk of a PostgreSQL server on this machine, which, filled, cannot
 * write its WAL and stops every session and restarts, the live databases with it (seen in
 * test/postgres-server-disk.test.ts); or a SQLite database's own folder, where the application's writes fail while
 * the disk is full. On another disk the short disk is lowSpace's warning. `create --ignore-free-space` skips this.
 */
export async function refuseFillingDatabaseDisk(cfg: LoadedConfig, plan: BackupPlan): Promise<void> {
  const short = await shortOfRoomOnce(cfg, plan);
  if (!short) return;
  const device = (await fsp.stat(cfg.backupDir)).dev;
  const servers: string[] = [];
  const files: string[] = [];
  for (const p of plan.databases) {
    const db = cfg.databases.find((d) => d.name === p.name);
    if (!db) continue;
    // A server that cannot be reached now fails its own backup, said there.
    const state = await driverFor(db.engine)
      .inspectTarget(db, { kind: 'in-place' })
      .catch(() => null);
    if (state?.disk?.device !== device) continue;
    (state.disk.server ? servers : files).push(db.name);
  }
  if (!servers.length && !files.length) return;
  const params = {
    dir: cfg.backupDir,
    dbs: (servers.length ? servers : files).join(', '),
    free: formatBytes(short.free),
    type: plan.setType,
    set: short.set,
    needed: formatBytes(short.needed),
    stored: formatBytes(short.stored),
  };
  const message = phrase(servers.length ? 'refuse.backupFillsServerDisk' : 'refuse.backupFillsDatabaseDisk', params);
  const hint = phrase('refuse.backupFillsServerDiskHint', params);
  throw new RefusedError(english(message), english(hint)).withPhrases(message, hint);
}
