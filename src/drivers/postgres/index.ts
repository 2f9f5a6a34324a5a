import type { DatabaseConfig } from '../../core/types.js';
import type { Driver } from '../driver.js';
import { CAPABILITIES } from '../capabilities.js';
import { describePg, validatePgDrillServer, validatePostgresEntry } from './config.js';
import { derivedName, planPgRestore } from './plan.js';
import { backupPg } from './backup.js';
import { amcheckScratch, dropPgScratch } from './drill.js';
import { findPgLeftovers, recoverPg } from './recover.js';
import { inspectPgTarget, restorePg } from './restore.js';
import { dropPgSafetyCopy, swapBackPg } from './safety.js';
import { type PostgresDriverDeps, createPgServer, ON_DRILL_SERVER, connectionOf } from './connection.js';

/**
 * The PostgreSQL driver: pg_dump (custom format, uncompressed; the engine gzips) from an exported
 * snapshot whose row counts are taken in the same transaction, optional pg_dumpall globals, and
 * restores that build `<name>__restore_<set>` beside the live database, check it, and swap names
 * (the live database survives as `<name>__pre_restore_<set>`).
 */

/** The types of `createPostgresDriver`'s deps (tests hand in a fake connection). */
export type { PgConnect, PgConnectSettings, PgQueryable, PostgresDriverDeps } from './connection.js';

/** Builds a postgres driver; `deps` lets tests replace the pg connection. */
export function createPostgresDriver(deps: PostgresDriverDeps = {}): Driver {
  const pg = createPgServer(deps);
  return {
    engine: 'postgres',
    types: ['full', 'schema'] as const,
    // Per table data file of a directory dump (chain.ts); custom-format dumps are always full.
    ...(deps.format === 'custom' ? {} : { chains: ['differential', 'incremental'] as const }),
    safety: 'renamed-database',
    capabilities: CAPABILITIES.postgres,
    // gzip -1, as `pg_dump -Fc -Z0 | gzip -1`: keeps up with pg_dump on two cores (about half the time of
    // pg_dump -Fc, 17 % larger; README, Performance). compression.level or compressionLevel trade time for size.
    defaultCompressionLevel: 1,

    validateConfig: validatePostgresEntry,
    validateDrillServer: validatePgDrillServer,

    onDrillServer(db, server): DatabaseConfig {
      const { url: _url, host: _host, port: _port, user: _user, password: _password, ...all } = db;
      const { passwordVariable: _variable, ...rest } = all; // the drill server's password is its own
      return { ...rest, ...server, database: connectionOf(db).database, [ON_DRILL_SERVER]: true };
    },

    describe(db) {
      return describePg(db);
    },

    backup: (req, ctx) => backupPg(pg, req, ctx),

    planRestore(req) {
      return planPgRestore(req);
    },
    inspectTarget: (db, target) => inspectPgTarget(pg, db, target),
    restore: (req, ctx) => restorePg(pg, req, ctx),
    recover: (db, ctx) => recoverPg(pg, db, ctx),
    findLeftovers: (db) => findPgLeftovers(pg, db),
    swapBack: (req, ctx) => swapBackPg(pg, req, ctx),

    scratchName(db, setId): string {
      return derivedName(connectionOf(db).database, 'drill', setId);
    },
    dropScratch: (db, name) => dropPgScratch(pg, db, name),
    drillChecks: async (db, restoredTo, ctx) => [await amcheckScratch(pg, db, restoredTo, ctx)],
    dropSafetyCopy: (db, name) => dropPgSafetyCopy(pg, db, name),
  };
}

/** The PostgreSQL driver used by the registry. */
export const postgresDriver = createPostgresDriver() satisfies Driver;
