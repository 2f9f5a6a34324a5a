/**
 * The SQL Server driver, assembled from one file per job: backup.ts, restore.ts (with swap.ts), safety.ts
 * (swap back, drop a safety copy), recover.ts (journals, leftovers), drill.ts; server.ts opens sessions.
 * Beneath them: config, connection, errors, session, chain, and the statements planned as data in plan.ts
 * and chain-plan.ts (native chains). Public names of those pieces are re-exported here.
 */
import type { ChainType, DatabaseConfig } from '../../core/types.js';
import type { Phrase } from '../../core/phrases.js';
import type { Driver } from '../driver.js';
import { CAPABILITIES } from '../capabilities.js';
import { drillName } from './names.js';
import { noChainPhrase } from './chain-plan.js';
import { merged, resolveSettings, validate, where } from './config.js';
import { backupSqlServer } from './backup.js';
import { dropSqlServerScratch, sqlServerDrillChecks } from './drill.js';
import { findSqlServerLeftovers, recoverSqlServer } from './recover.js';
import { inspectSqlServerTarget, planSqlServerRestore, restoreSqlServer } from './restore.js';
import { dropSqlServerSafetyCopy, swapBackSqlServer } from './safety.js';
import { openerFor, type SqlServerDriverDeps } from './server.js';

export { parseSqlServerUrl, resolveSettings } from './config.js';
export { mssqlConnector } from './connection.js';
export type { ConnectionSettings, QueryOptions, SqlConnection, SqlConnector } from './connection.js';
export { mapSqlError } from './errors.js';
export { compareRowCounts } from './session.js';
export type { SqlServerDriverDeps } from './server.js';

/** Builds the SQL Server driver over a connector. */
export function createSqlServerDriver(deps: SqlServerDriverDeps = {}): Driver {
  const open = openerFor(deps);
  const driver = {
    engine: 'sqlserver',
    types: ['full', 'differential', 'incremental'],
    chains: ['differential', 'incremental'],

    chainFallback(db: DatabaseConfig, type: ChainType): Phrase | null {
      return db.chain === true ? null : noChainPhrase(db.name, type);
    },
    safety: 'renamed-database',
    capabilities: CAPABILITIES.sqlserver,

    validateConfig: validate,

    describe(db: DatabaseConfig): string {
      const { values: v } = merged(db);
      const server =
        typeof v.server === 'string' && v.server
          ? where({ server: v.server, port: v.port, instance: v.instance })
          : '(no server)';
      return `SQL Server database "${v.database ?? '?'}" on ${server}${v.user ? ` as ${v.user}` : ''}`;
    },
    backup: (req, ctx) => backupSqlServer(open, req, ctx),
    planRestore: (req) => planSqlServerRestore(req),
    inspectTarget: (db, target) => inspectSqlServerTarget(open, db, target),
    restore: (req, ctx) => restoreSqlServer(open, req, ctx),
    recover: (db, ctx) => recoverSqlServer(open, db, ctx),
    swapBack: (req, ctx) => swapBackSqlServer(open, req, ctx),
    findLeftovers: (db) => findSqlServerLeftovers(open, db),

    scratchName(db: DatabaseConfig, setId: string): string {
      return drillName(resolveSettings(db).database, setId);
    },

    dropScratch: (db, name, ctx) => dropSqlServerScratch(open, db, name, ctx),
    drillChecks: (db, restoredTo, ctx) => sqlServerDrillChecks(open, db, restoredTo, ctx),
    dropSafetyCopy: (db, name) => dropSqlServerSafetyCopy(open, db, name),
  } satisfies Driver;
  return driver;
}

/** The SQL Server driver (mssql). */
export const sqlserverDriver: Driver = createSqlServerDriver();
