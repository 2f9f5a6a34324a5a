import { formatBytes } from '../core/format.js';
import { phrase, type Phrase } from '../core/phrases.js';
import type { TargetDisk, TargetState } from '../drivers/driver.js';

/** A database of a restore plan, as far as room goes. */
export interface Restored {
  database: string;
  state: Pick<TargetState, 'disk'>;
  estimatedRestoredBytes?: number | null;
}

/** A disk the restores written onto it need more of than it has free. */
export interface ShortDisk {
  disk: TargetDisk;
  /** The databases restored onto it, and the bytes they need there together. */
  databases: string[];
  bytes: number;
  /** Its free bytes for them: free now, and what recovery drops there first (TargetDisk.leftoverBytes). */
  free: number;
  /** A database server's data disk (its live databases write on it). */
  server: boolean;
}

/**
 * The disks of a restore plan (pure) that the restores written onto them need more of than they have free. Every
 * restore writes a whole new database beside what it replaces (which stays until the swap, then as the safety
 * copy), so the databases restored onto one disk (one device) add up, each about its estimated restored size. A
 * disk respaldo cannot see (a server elsewhere) is not judged.
 */
export function shortDisks(databases: readonly Restored[]): ShortDisk[] {
  const byDisk = new Map<number, ShortDisk>();
  for (const d of databases) {
    const disk = d.state.disk;
    if (!disk || !d.estimatedRestoredBytes) continue;
    const on = byDisk.get(disk.device) ?? { disk, databases: [], bytes: 0, free: disk.freeBytes, server: false };
    on.databases.push(d.database);
    on.bytes += d.estimatedRestoredBytes;
    on.free += disk.leftoverBytes ?? 0;
    on.server ||= disk.server === true;
    byDisk.set(disk.device, on);
  }
  return [...byDisk.values()].filter((on) => on.bytes > on.free);
}

/**
 * What a plan says of a short disk: a file's disk is a warning (the restore would fail once it is full, what it
 * replaces left as it was). A database server's data disk is a refusal unless the operator lifts it
 * (`--ignore-free-space`): a PostgreSQL server that cannot write its WAL stops every session and restarts
 * (measured: the restore's own cleanup, dropping what it had loaded, was that write), and the disk stays full with
 * what the restore left until the server is back.
 */
export function shortDiskPhrases(on: ShortDisk): { message: Phrase; hint: Phrase | null; ignored: Phrase } {
  const params = {
    dbs: on.databases.join(', '),
    path: on.disk.path,
    needed: formatBytes(on.bytes),
    free: formatBytes(on.free),
  };
  const ignored = phrase('plan.serverDiskShortIgnored', params);
  return on.server
    ? { message: phrase('refuse.serverDiskShort', params), hint: phrase('refuse.serverDiskShortHint', params), ignored }
    : { message: phrase('plan.diskShort', params), hint: null, ignored };
}
