import type { DatabaseConfig } from '../../core/types.js';
import { chainSettingProblem, type ConfigProblem, type Driver } from '../driver.js';
import { CAPABILITIES } from '../capabilities.js';
import { backupSqlite } from './backup.js';
import { recoverSqlite } from './recover.js';
import { inspectSqliteTarget, planSqliteRestore, restoreSqlite } from './restore.js';

/** The SQLite driver, assembled from one file per job: backup.ts, restore.ts, recover.ts (connection.ts: the file). */
export const sqliteDriver = {
  engine: 'sqlite',
  types: ['full', 'schema'],
  chains: ['differential', 'incremental'],
  safety: 'pre-restore-set',
  capabilities: CAPABILITIES.sqlite,

  validateConfig(db: DatabaseConfig): ConfigProblem[] {
    if (!db.path)
      return [
        {
          path: 'path',
          problem: 'required for sqlite databases',
          hint: 'Set "path" to the database file, e.g. "./data/users.db".',
        },
      ];
    return chainSettingProblem(db, 'SQLite');
  },

  describe(db: DatabaseConfig): string {
    return `SQLite file ${db.path ?? '(no path)'}`;
  },

  backup: (req, ctx) => backupSqlite(req, ctx),
  planRestore: (req) => planSqliteRestore(req),
  inspectTarget: (db, target) => inspectSqliteTarget(db, target),
  restore: (req, ctx) => restoreSqlite(req, ctx),
  recover: (db, ctx) => recoverSqlite(db, ctx),
} satisfies Driver;
