import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { DatabaseConfig } from '../../core/types.js';
import { said, type Said } from '../../core/phrases.js';
import type { DriverContext } from '../driver.js';
import { STAGING_MARK, ASIDE_MARK, dbPath, livePath, removeQuietly } from './connection.js';

/** Crash recovery for SQLite: the `.respaldo-restore-` and `-aside-` files beside a database, recognised by name. */

/** Puts back or removes what an interrupted restore left beside the file (staging files, journals set aside). */
export async function recoverSqlite(db: DatabaseConfig, ctx: DriverContext): Promise<Said[]> {
  // A restore works beside the file a symlink names (where SQLite keeps its journals); one killed by an older
  // respaldo, beside the link.
  const actions: Said[] = [];
  for (const file of new Set([dbPath(db), livePath(db)])) actions.push(...(await recoverBeside(file)));
  actions.forEach((a) => ctx.log(a.message));
  return actions;
}

async function recoverBeside(file: string): Promise<Said[]> {
  const dir = dirname(file);
  if (!existsSync(dir)) return [];
  const actions: Said[] = [];
  const prefix = `.${basename(file)}${STAGING_MARK}`;
  const names = readdirSync(dir);
  // Journals set aside just before the swap: if the staging file is still there, the swap never
  // happened and they belong to the live database (committed data not yet checkpointed): put them
  // back. Otherwise they belong to the replaced database, which the pre_restore set holds.
  const swapped = !names.some((n) => n.startsWith(prefix) && n.endsWith('.tmp'));
  for (const name of names) {
    if (!(name.startsWith(`${basename(file)}-`) && name.includes(ASIDE_MARK))) continue;
    const original = join(dir, name.slice(0, name.indexOf(ASIDE_MARK)));
    if (!swapped && !existsSync(original)) {
      await fsp.rename(join(dir, name), original);
      actions.push(said('recover.sqlitePutBack', { file: original }));
    } else if (swapped) {
      await removeQuietly(join(dir, name));
      actions.push(said('recover.sqliteStaleJournal', { file: join(dir, name) }));
    } else {
      actions.push(said('recover.sqliteKept', { file: join(dir, name), original }));
    }
  }
  for (const name of names) {
    if (name.startsWith(prefix) && /\.tmp(-wal|-shm|-journal)?$/.test(name)) {
      await removeQuietly(join(dir, name));
      actions.push(said('recover.sqliteUnfinished', { file: join(dir, name) }));
    }
  }
  return actions;
}
