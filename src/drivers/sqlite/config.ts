import type { DatabaseConfig } from '../../core/types.js';
import { chainSettingProblem, jobsSettingProblem, type ConfigProblem } from '../driver.js';

/**
 * SQLite config entries: their validation and description. Pure, and light on purpose: config loading
 * (validators.ts) imports it without the driver, so no better-sqlite3 here.
 */

/** Problems with a sqlite database entry (paths relative to the entry). */
export function validateSqliteConfig(db: DatabaseConfig): ConfigProblem[] {
  if (!db.path)
    return [
      {
        path: 'path',
        problem: 'required for sqlite databases',
        hint: 'Set "path" to the database file, e.g. "./data/users.db".',
      },
    ];
  return [...chainSettingProblem(db, 'SQLite'), ...jobsSettingProblem(db, 'SQLite')];
}

/** `SQLite file /srv/app/users.db`. */
export function describeSqlite(db: DatabaseConfig): string {
  return `SQLite file ${db.path ?? '(no path)'}`;
}
