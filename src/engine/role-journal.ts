import { existsSync, promises as fsp, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ensurePrivateDir, writeFileAtomic } from './fs-util.js';
import { processAlive } from './lock.js';

/**
 * Roles a restore created on a database server (`restore --create-roles`), recorded in `<backupDir>/.created-roles/`
 * before they are created and forgotten when that restore ends: it kept them (completed) or dropped them again
 * (failed). A record whose run is gone (killed outright) names roles that may be left on the server with nothing
 * using them: `status` lists them with the `DROP ROLE` to run, and the next restore of that database that completes
 * says them once more and forgets them. Nothing here drops a role: an application may log in with it by then.
 */

const JOURNAL_DIR = '.created-roles';

export interface RoleRecord {
  pid: number;
  host: string;
  /** When the roles were about to be created (ISO). */
  at: string;
  setId: string;
  /** The configured database the restore was of. */
  database: string;
  /** The server, as host:port or socket folder. */
  server: string;
  roles: string[];
}

let counter = 0;

/** Records `roles` before they are created; the returned function forgets the record. */
export async function journalRoles(
  backupDir: string,
  record: Omit<RoleRecord, 'pid' | 'host' | 'at'>,
): Promise<() => Promise<void>> {
  const dir = join(backupDir, JOURNAL_DIR);
  await ensurePrivateDir(dir);
  const file = join(dir, `${process.pid}-${Date.now()}-${++counter}.json`);
  const full: RoleRecord = { pid: process.pid, host: hostname(), at: new Date().toISOString(), ...record };
  await writeFileAtomic(file, JSON.stringify(full) + '\n');
  return async () => {
    await fsp.rm(file, { force: true });
    await fsp.rmdir(dir).catch(() => undefined);
  };
}

function records(backupDir: string): { file: string; record: RoleRecord }[] {
  const dir = join(backupDir, JOURNAL_DIR);
  if (!existsSync(dir)) return [];
  const out: { file: string; record: RoleRecord }[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    try {
      const record = JSON.parse(readFileSync(join(dir, name), 'utf8')) as RoleRecord;
      if (!Array.isArray(record.roles) || typeof record.database !== 'string') continue;
      // A run of this host still alive is working with its roles; one of another host is checked by nothing here.
      if (record.host === hostname() && (record.pid === process.pid || processAlive(record.pid))) continue;
      out.push({ file: join(dir, name), record });
    } catch {
      /* half-written by a run killed while writing it: it created nothing yet */
    }
  }
  return out.sort((a, b) => a.record.at.localeCompare(b.record.at));
}

/** The records of runs that are gone: roles that may be left on their servers. */
export function deadRoleRecords(backupDir: string): RoleRecord[] {
  return records(backupDir).map((r) => r.record);
}

/** Forgets the records of runs that are gone for `database` (a restore of it completed); returns them. */
export async function forgetRoleRecords(backupDir: string, database: string): Promise<RoleRecord[]> {
  const gone = records(backupDir).filter((r) => r.record.database === database);
  for (const r of gone) await fsp.rm(r.file, { force: true });
  await fsp.rmdir(join(backupDir, JOURNAL_DIR)).catch(() => undefined);
  return gone.map((r) => r.record);
}

/** `DROP ROLE` statements for a record's roles. */
export function dropRolesSql(record: RoleRecord): string {
  return record.roles.map((r) => `DROP ROLE "${r.replace(/"/g, '""')}";`).join(' ');
}
