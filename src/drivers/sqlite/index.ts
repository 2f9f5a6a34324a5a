import type { Driver } from '../driver.js';
import { CAPABILITIES } from '../capabilities.js';
import { describeSqlite, validateSqliteConfig } from './config.js';
import { backupSqlite } from './backup.js';
import { readPageMap } from './pages.js';
import { recoverSqlite } from './recover.js';
import { inspectSqliteTarget, planSqliteRestore, restoreSqlite } from './restore.js';

/**
 * The SQLite driver, assembled from one file per job: backup.ts, restore.ts, recover.ts (connection.ts: the file;
 * config.ts: its config entry).
 */
export const sqliteDriver = {
  engine: 'sqlite',
  types: ['full', 'schema'],
  chains: ['differential', 'incremental'],
  safety: 'pre-restore-set',
  capabilities: CAPABILITIES.sqlite,

  validateConfig: validateSqliteConfig,
  describe: describeSqlite,

  backup: (req, ctx) => backupSqlite(req, ctx),
  // The page map read, returned: the backup the plan chose its set as base for uses it (BackupRequest.base.read).
  readNextBackupFile: async (role, content) => {
    if (role === 'pagemap') return readPageMap(content);
    content.resume();
    return undefined;
  },
  planRestore: (req) => planSqliteRestore(req),
  inspectTarget: (db, target) => inspectSqliteTarget(db, target),
  restore: (req, ctx) => restoreSqlite(req, ctx),
  recover: (db, ctx) => recoverSqlite(db, ctx),
} satisfies Driver;
