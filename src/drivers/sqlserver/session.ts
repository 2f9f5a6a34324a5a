/**
 * What the SQL Server executor runs on: a Session (statements over one connection, errors mapped,
 * lock retries, progress), server and database facts, and the restore journal.
 */

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/durable-fs.js';
import { InterruptedError, RespaldoError } from '../../core/errors.js';
import type { DriverContext } from '../driver.js';
import {
  hostInfoStatement,
  hostPathStyle,
  journalFileName,
  LOCK_ERRORS,
  SWAP_ATTEMPTS,
  type PathStyle,
  type Statement,
} from './names.js';
import {
  databaseInfoStatement,
  encryptionStatement,
  fileListStatement,
  rowCountsStatement,
  serverInfoStatement,
  sessionsStatement,
  type DbSettings,
} from './plan.js';
import { parseStatsPercent, type BackupFile } from './swap-plan.js';
import type { ConnectionSettings, SqlConnection } from './connection.js';
import { isSqlError, mapSqlError, scrub } from './errors.js';
import { compareRowCounts as compareShared } from '../shared/row-counts.js';
import { retryWhileInUse } from '../shared/retry.js';

export function str(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

export function num(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'bigint' ? Number(v) : Number(v);
  return Number.isFinite(n) ? n : null;
}

export function fileToken(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export interface ServerInfo {
  productVersion: string | null;
  productLevel: string | null;
  edition: string | null;
  engineEdition: number | null;
  versionText: string | null;
  defaultDataPath: string | null;
  defaultLogPath: string | null;
  masterDataFile: string | null;
  masterLogFile: string | null;
  canViewServerState: boolean;
  /** `Windows` or `Linux` (sys.dm_os_host_info); null when unknown. */
  hostPlatform: string | null;
  /** Separator style of paths on the server host, decided from hostPlatform. */
  pathStyle: PathStyle;
}

export interface DbInfo {
  name: string;
  state: string | null;
  userAccess: string | null;
  recoveryModel: string | null;
  sizeBytes: number | null;
  settings: DbSettings;
  /** TDE: sys.databases.is_encrypted. */
  encrypted: boolean;
  /** Availability group replica id (sys.databases.replica_id); null when not in an AG. */
  replicaId: string | null;
  /** Change data capture is enabled (sys.databases.is_cdc_enabled). */
  cdcEnabled: boolean;
  /** Published for transactional, snapshot or merge replication (is_published, is_merge_published). */
  published: boolean;
}

export type Row = Record<string, unknown>;

/** TDE facts recorded at backup time: the certificate protecting the database encryption key. */
export interface TdeFacts {
  certificate: string | null;
  thumbprint: string | null;
}

/** Why row counts are estimates when rows changed during a backup (also the `mssql.countsDiffer` phrase's words). */
export const WRITTEN_DURING = 'the database was written during the backup';

/** Raw SQL Server error numbers of an error (before mapping), including the preceding ones. */
export function sqlNumbers(err: unknown): number[] {
  if (!isSqlError(err)) return [];
  return [...(err.precedingErrors ?? []), err].map((e) => e.number).filter((n): n is number => typeof n === 'number');
}

export type Progress = (percent: number) => void;

/** Runs plans over one connection: statement by statement, errors mapped, progress forwarded. */
export class Session {
  /** What an interruption leaves, said in the InterruptedError of a cancelled statement. */
  interruptedNote = 'nothing was replaced';

  constructor(
    readonly conn: SqlConnection,
    readonly settings: ConnectionSettings,
    readonly ctx: Pick<DriverContext, 'log' | 'signal'>,
    readonly retryDelayMs: (attempt: number) => number = (attempt) => 250 * attempt,
  ) {}

  /**
   * Runs one statement. `retryLock`: a statement that failed only because another connection held
   * the database at that moment (LOCK_ERRORS) is run again, up to SWAP_ATTEMPTS times.
   */
  async run(st: Statement, progress?: Progress, cancellable = true, retryLock = false): Promise<Row[]> {
    try {
      return await retryWhileInUse(
        (attempt) => {
          this.ctx.log(`sqlserver: ${st.purpose}${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
          return this.conn.query(st.sql, st.params, {
            ...(cancellable ? { signal: this.ctx.signal } : {}),
            onInfo: (message) => {
              const pct = parseStatsPercent(message);
              if (pct !== null && progress) progress(pct);
              else if (message) this.ctx.log(`sqlserver: ${scrub(message, this.settings)}`);
            },
          });
        },
        {
          attempts: retryLock ? SWAP_ATTEMPTS : 1,
          inUse: (err) => sqlNumbers(err).some((n) => LOCK_ERRORS.includes(n)) && !sqlNumbers(err).includes(5011),
          delayMs: this.retryDelayMs,
          onRetry: (err) =>
            this.ctx.log(`sqlserver: another connection held the database (${(err as Error).message}); trying again`),
        },
      );
    } catch (err) {
      throw mapSqlError(err, st.purpose, this.settings, this.interruptedNote);
    }
  }

  async serverInfo(): Promise<ServerInfo> {
    const row = (await this.run(serverInfoStatement()))[0] ?? {};
    return {
      productVersion: str(row.productVersion),
      productLevel: str(row.productLevel),
      edition: str(row.edition),
      engineEdition: num(row.engineEdition),
      versionText: str(row.versionText),
      defaultDataPath: str(row.defaultDataPath),
      defaultLogPath: str(row.defaultLogPath),
      masterDataFile: str(row.masterDataFile),
      masterLogFile: str(row.masterLogFile),
      canViewServerState: num(row.canViewServerState) === 1,
      ...(await this.hostPlatform()),
    };
  }

  private async hostPlatform(): Promise<{ hostPlatform: string | null; pathStyle: PathStyle }> {
    try {
      const platform = str((await this.run(hostInfoStatement()))[0]?.hostPlatform);
      return { hostPlatform: platform, pathStyle: hostPathStyle(platform, this.settings.serverBackupDir) };
    } catch (err) {
      const numbers = (err as RespaldoError).details?.sqlErrors as number[] | undefined;
      if (!numbers?.includes(208)) throw err;
      // SQL Server 2016 and older: no sys.dm_os_host_info, and Windows only.
      return { hostPlatform: null, pathStyle: hostPathStyle(null, this.settings.serverBackupDir, true) };
    }
  }

  async encryption(name: string): Promise<(TdeFacts & { state: number | null }) | null> {
    const row = (await this.run(encryptionStatement(name)))[0];
    if (!row) return null;
    return { certificate: str(row.certificateName), thumbprint: str(row.thumbprint), state: num(row.encryptionState) };
  }

  async databaseInfo(name: string): Promise<DbInfo | null> {
    const row = (await this.run(databaseInfoStatement(name)))[0];
    if (!row) return null;
    return {
      name: String(row.name ?? name),
      state: str(row.state),
      userAccess: str(row.userAccess),
      recoveryModel: str(row.recoveryModel),
      sizeBytes: num(row.sizeBytes),
      settings: {
        owner: str(row.owner),
        trustworthy: num(row.trustworthy) === 1,
        brokerEnabled: num(row.brokerEnabled) === 1,
        recoveryModel: str(row.recoveryModel),
        compatibilityLevel: num(row.compatibilityLevel),
        readOnly: num(row.readOnly) === 1,
      },
      encrypted: num(row.encrypted) === 1,
      replicaId: str(row.replicaId),
      cdcEnabled: num(row.cdcEnabled) === 1,
      published: num(row.published) === 1,
    };
  }

  async sessions(name: string): Promise<string[]> {
    const rows = await this.run(sessionsStatement(name));
    return rows.map(
      (r) =>
        `${str(r.loginName) ?? '?'}@${str(r.hostName) || '?'} (session ${str(r.sessionId) ?? '?'}${r.programName ? `, ${String(r.programName)}` : ''})`,
    );
  }

  async rowCounts(database: string): Promise<Record<string, number>> {
    const rows = await this.run(rowCountsStatement(database));
    const out: Record<string, number> = {};
    for (const r of rows) out[`${String(r.schemaName)}.${String(r.tableName)}`] = num(r.rowCount) ?? 0;
    return out;
  }

  async fileList(serverPath: string): Promise<(BackupFile & { sizeBytes: number | null; fileGroup: string | null })[]> {
    const rows = await this.run(fileListStatement(serverPath));
    return rows.map((r) => ({
      logicalName: String(r.LogicalName ?? r.logicalName),
      physicalName: String(r.PhysicalName ?? r.physicalName ?? ''),
      type: String(r.Type ?? r.type ?? 'D'),
      fileGroup: str(r.FileGroupName ?? r.fileGroupName),
      sizeBytes: num(r.Size ?? r.size),
    }));
  }

  async close(): Promise<void> {
    try {
      await this.conn.close();
    } catch {
      /* closing a broken connection */
    }
  }
}

/** The TDE certificate of an encrypted database; names unknown without VIEW SERVER STATE. */
export async function readTde(session: Session, server: ServerInfo, name: string): Promise<TdeFacts> {
  if (!server.canViewServerState) return { certificate: null, thumbprint: null };
  try {
    const e = await session.encryption(name);
    return { certificate: e?.certificate ?? null, thumbprint: e?.thumbprint ?? null };
  } catch (err) {
    session.ctx.log(`sqlserver: could not read the TDE certificate of ${name}: ${(err as Error).message}`);
    return { certificate: null, thumbprint: null };
  }
}

/** The settings recorded in a manifest entry (details.settings), or null for sets made before they were. */
export function recordedSettings(details: Record<string, unknown>): DbSettings | null {
  const v = details.settings as Partial<DbSettings> | undefined;
  if (!v || typeof v !== 'object') return null;
  return {
    owner: typeof v.owner === 'string' ? v.owner : null,
    trustworthy: v.trustworthy === true,
    brokerEnabled: v.brokerEnabled === true,
    recoveryModel: typeof v.recoveryModel === 'string' ? v.recoveryModel : null,
    compatibilityLevel: typeof v.compatibilityLevel === 'number' ? v.compatibilityLevel : null,
    readOnly: v.readOnly === true,
  };
}

export function progressTo(ctx: DriverContext, item: string, label: string, totalBytes: number | null): Progress {
  return (percent) =>
    ctx.reporter.emit({
      type: 'item-progress',
      item,
      bytes: totalBytes ? Math.round((totalBytes * percent) / 100) : 0,
      ...(totalBytes ? { totalBytes } : {}),
      percent,
      message: `${label} ${percent}%`,
    });
}

export function checkAborted(signal: AbortSignal, what: string): void {
  if (signal.aborted) throw new InterruptedError(`Interrupted before ${what}; the live database was not touched.`);
}

export async function removeQuietly(path: string, ctx: Pick<DriverContext, 'log'>): Promise<string | null> {
  try {
    await fsp.rm(path, { force: true });
    return null;
  } catch (err) {
    const msg = `could not remove ${path}: ${(err as Error).message}`;
    ctx.log(`sqlserver: ${msg}`);
    return msg;
  }
}

/** Row counts of SQL Server against the recorded ones: every difference, and tables the backup did not record. */
export function compareRowCounts(expected: Record<string, number> | null, actual: Record<string, number>): string[] {
  return compareShared(expected, actual, { extra: true });
}

/** The swap failed and the previous database could not be renamed back: recover must finish the job. */
export class SwapBrokenError extends RespaldoError {}

/** What a running restore writes beside the .bak, so `recover` knows what an interruption left. */
export interface Journal {
  tool: 'respaldo';
  config: string;
  live: string;
  temp: string;
  safety: string | null;
  setId: string;
  /** `swap-back`: a rollback; `temp` is then the kept safety copy being swapped in. */
  kind: 'in-place' | 'side-by-side' | 'swap-back';
  phase: 'restoring' | 'swapping';
  bakFile: string;
  startedAt: string;
}

/** Writes (or replaces) the journal of `j.live` in `dir` atomically and durably (fsynced); returns its path. */
export async function writeJournal(dir: string, j: Journal): Promise<string> {
  const path = join(dir, journalFileName(j.live));
  await writeFileAtomic(path, JSON.stringify(j, null, 2));
  return path;
}

export async function readJournals(
  dir: string,
  configName: string,
  ctx: Pick<DriverContext, 'log'>,
): Promise<{ path: string; journal: Journal }[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const out: { path: string; journal: Journal }[] = [];
  for (const n of names) {
    if (!n.startsWith('respaldo-restore-') || !n.endsWith('.journal.json')) continue;
    const path = join(dir, n);
    try {
      const j = JSON.parse(await fsp.readFile(path, 'utf8')) as Journal;
      if (j.tool === 'respaldo' && j.config === configName && typeof j.live === 'string' && typeof j.setId === 'string')
        out.push({ path, journal: j });
    } catch (err) {
      ctx.log(`sqlserver: skipping unreadable restore journal ${path}: ${(err as Error).message}`);
    }
  }
  return out;
}
