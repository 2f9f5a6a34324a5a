import {
  dropByStateStatement,
  STATS_PERCENT,
  type Statement,
  quoteName,
  safeFilePart,
  fileStem,
  type PathStyle,
  joinServerPath,
  serverDirname,
  stagingNames,
  checkToken,
} from './names.js';
import { roundId } from '../shared/names.js';
import { phrase, type Phrase } from '../../core/phrases.js';

/**
 * Pure statements of a SQL Server restore: the file moves, RESTORE, SINGLE_USER / MULTI_USER, the renames and
 * the swap (with the order it keeps), dropping a safety copy. The job files (restore.ts, swap.ts, safety.ts) run them.
 *
 * Rules kept by every function in this file:
 * - database names, paths and logical file names travel as parameters (`@db`, `@path`, …) wherever
 *   T-SQL accepts a variable (BACKUP/RESTORE targets, DISK, MOVE, DB_ID, WHERE clauses);
 * - where T-SQL demands an identifier (ALTER DATABASE, DROP DATABASE, three-part names) it is
 *   quoted exactly like QUOTENAME: `[` … `]` with `]` doubled, and refused where QUOTENAME would
 *   return NULL (more than 128 characters) or where SQL Server would refuse the name (empty, NUL).
 */

// ---------------------------------------------------------------------------------------------
// Restore

/** One row of RESTORE FILELISTONLY that matters here. */
export interface BackupFile {
  logicalName: string;
  physicalName: string;
  /** D data, L log, F full-text catalog, S FILESTREAM / in-memory container. */
  type: string;
}

export interface FileMove {
  logicalName: string;
  /** New physical path on the server. */
  physicalName: string;
  type: string;
}

/** The folders new database files go to: the instance defaults, else the folders of master's files. */
export function defaultFileDirs(
  info: {
    defaultDataPath?: string | null;
    defaultLogPath?: string | null;
    masterDataFile?: string | null;
    masterLogFile?: string | null;
  },
  style?: PathStyle,
): { dataDir: string; logDir: string } | null {
  const dataDir = info.defaultDataPath || (info.masterDataFile ? serverDirname(info.masterDataFile, style) : null);
  const masterLogDir = info.masterLogFile ? serverDirname(info.masterLogFile, style) : null;
  const logDir = info.defaultLogPath || masterLogDir || dataDir;
  if (!dataDir || !logDir) return null;
  return { dataDir, logDir };
}

/**
 * New physical names for every file in the backup, under the instance's default data/log folders:
 * `<safe live name>-<hash>-<set id>-<token>-<n><ext>`. `token` is unique per restore run, so a
 * restore never collides with the live files, nor with those of an earlier restore of the same set.
 */
export function planMoves(
  files: BackupFile[],
  opts: { live: string; setId: string; token: string; dataDir: string; logDir: string; pathStyle?: PathStyle },
): FileMove[] {
  if (files.length === 0) throw new Error('the backup lists no files (RESTORE FILELISTONLY returned nothing)');
  const base = `${fileStem(opts.live)}-${safeFilePart(opts.setId, 40)}-${checkToken(opts.token)}`;
  let dataCount = 0;
  return files.map((f, i) => {
    const type = (f.type || 'D').toUpperCase();
    const original = /\.(mdf|ndf|ldf)$/i.exec(f.physicalName)?.[0]?.toLowerCase();
    let ext: string;
    if (type === 'L') ext = '.ldf';
    else if (type === 'D') ext = original && original !== '.ldf' ? original : dataCount === 0 ? '.mdf' : '.ndf';
    else ext = '';
    if (type === 'D') dataCount++;
    const dir = type === 'L' ? opts.logDir : opts.dataDir;
    const physicalName = joinServerPath(dir, `${base}-${i + 1}${ext}`, opts.pathStyle);
    return { logicalName: f.logicalName, physicalName, type };
  });
}

/**
 * The moves of a differential or log backup applied on a restore in progress: only the files it holds that the
 * database being restored does not have yet (`known`, logical names, compared as SQL Server's default collation
 * does, case-insensitively), that is files added after the full (ALTER DATABASE … ADD FILE). Without a MOVE such a
 * file is created at its path on the source server: a folder this server may not have, or a live file's path.
 * New data files get `.ndf`; `opts.token` must differ from the full's (each step its own).
 */
export function planNewFileMoves(
  files: BackupFile[],
  known: readonly string[],
  opts: { live: string; setId: string; token: string; dataDir: string; logDir: string; pathStyle?: PathStyle },
): FileMove[] {
  const have = new Set(known.map((n) => n.toLowerCase()));
  const fresh = files.filter((f) => !have.has(f.logicalName.toLowerCase()));
  if (fresh.length === 0) return [];
  return planMoves(fresh, opts).map((m) => ({ ...m, physicalName: m.physicalName.replace(/\.mdf$/, '.ndf') }));
}

/**
 * RESTORE DATABASE @db FROM DISK = @path WITH CHECKSUM, MOVE @l1 TO @p1 …, RECOVERY, STATS = 1
 * (`recovery: false`: NORECOVERY, the first backup of a chain, on which differential and log backups apply).
 * `continueAfterError`: the backup was taken WITH CONTINUE_AFTER_ERROR from a damaged database (a
 * safety copy); it restores only WITH CONTINUE_AFTER_ERROR, and the damage comes back with it.
 * `keepCdc`: KEEP_CDC on the step that recovers (SQL Server refuses it with NORECOVERY): without it, a database
 * restored under another name (the temporary one swapped in) loses change data capture.
 */
export function restoreStatement(
  target: string,
  serverPath: string,
  moves: FileMove[],
  opts: { continueAfterError?: boolean; recovery?: boolean; keepCdc?: boolean } = {},
): Statement {
  quoteName(target);
  const params: Record<string, string | number> = { db: target, path: serverPath };
  const moveClauses = moves.map((m, i) => {
    params[`l${i + 1}`] = m.logicalName;
    params[`p${i + 1}`] = m.physicalName;
    return `MOVE @l${i + 1} TO @p${i + 1}`;
  });
  const cae = opts.continueAfterError === true;
  const options = ['CHECKSUM', ...(cae ? ['CONTINUE_AFTER_ERROR'] : []), ...moveClauses];
  const recovering = opts.recovery !== false;
  options.push(recovering ? 'RECOVERY' : 'NORECOVERY');
  if (recovering && opts.keepCdc === true) options.push('KEEP_CDC');
  options.push(`STATS = ${STATS_PERCENT}`);
  return {
    purpose: `restore ${serverPath} into database ${target}${cae ? ' (continuing after errors)' : ''}`,
    sql: `RESTORE DATABASE @db FROM DISK = @path WITH ${options.join(', ')}`,
    params,
  };
}

/** Puts a database in SINGLE_USER: kicking others out (ROLLBACK IMMEDIATE) or failing if any (NO_WAIT). */
export function singleUserStatement(name: string, terminateConnections: boolean): Statement {
  return {
    purpose: `set database ${name} to SINGLE_USER${terminateConnections ? ', closing other sessions' : ''}`,
    sql: `ALTER DATABASE ${quoteName(name)} SET SINGLE_USER WITH ${terminateConnections ? 'ROLLBACK IMMEDIATE' : 'NO_WAIT'}`,
    params: {},
  };
}

/**
 * Sets a database back to MULTI_USER. `closeSessions` (ROLLBACK IMMEDIATE) also ends a connection
 * that took the single-user slot meanwhile (else the statement fails with 5064).
 */
export function multiUserStatement(name: string, closeSessions = false): Statement {
  return {
    purpose: `set database ${name} back to MULTI_USER`,
    sql: `ALTER DATABASE ${quoteName(name)} SET MULTI_USER${closeSessions ? ' WITH ROLLBACK IMMEDIATE' : ''}`,
    params: {},
  };
}

export function renameStatement(from: string, to: string): Statement {
  return {
    purpose: `rename database ${from} to ${to}`,
    sql: `ALTER DATABASE ${quoteName(from)} MODIFY NAME = ${quoteName(to)}`,
    params: {},
  };
}

/**
 * Takes a database and renames it in one batch (one round trip): SINGLE_USER (closing other
 * sessions only with `terminateConnections`, else failing while any is connected), then MODIFY
 * NAME. A connection that still slips into the single-user slot makes the rename fail with 5030;
 * the executor then runs the batch again (SWAP_ATTEMPTS). TRY/CATCH stops the batch at the first
 * error, so the rename never runs when the database was not taken.
 */
export function takeAndRenameStatement(from: string, to: string, terminateConnections: boolean): Statement {
  const q = quoteName(from);
  return {
    purpose: `take database ${from} (SINGLE_USER${terminateConnections ? ', closing sessions' : ''}), rename to ${to}`,
    sql: [
      'BEGIN TRY',
      `  ALTER DATABASE ${q} SET SINGLE_USER WITH ${terminateConnections ? 'ROLLBACK IMMEDIATE' : 'NO_WAIT'};`,
      `  ALTER DATABASE ${q} MODIFY NAME = ${quoteName(to)};`,
      'END TRY',
      'BEGIN CATCH',
      '  THROW;',
      'END CATCH',
    ].join('\n'),
    params: {},
  };
}

/** Drops a database made by this driver if it exists (a temporary one: nobody else uses it). */
export function dropIfExistsStatement(name: string): Statement {
  return {
    purpose: `drop database ${name}`,
    sql: `IF DB_ID(@name) IS NOT NULL DROP DATABASE ${quoteName(name)}`,
    params: { name },
  };
}

/**
 * Drops a safety copy by its state (dropByStateStatement): an ONLINE one with its sessions closed in the same
 * batch (the executor retries on a lock error), any other state (RESTORING, SUSPECT, …) with DROP DATABASE alone.
 */
export function dropSafetyCopyStatements(name: string, state: string | null = null): Statement[] {
  return [dropByStateStatement(name, state, `close sessions on ${name} and drop it`)];
}

/**
 * Pure: why the live database `name`, in `state` (sys.databases.state_desc), cannot be replaced in place, with what
 * to do; null when it is ONLINE (or the state was not read). An in-place restore and a rollback keep what they
 * replace by taking it (SINGLE_USER) and renaming it aside, which SQL Server allows only on an ONLINE database:
 * - RESTORING: another restore is under way, or it is a log-shipping secondary or a mirror, which must not be
 *   replaced; RECOVERING: the server is still recovering it (wait);
 * - OFFLINE: ALTER DATABASE cannot take it; bringing it online is the DBA's choice;
 * - SUSPECT, RECOVERY_PENDING, EMERGENCY: damaged or its files missing; it cannot be set aside, and replacing it
 *   is a DBA's decision (what is dropped is gone), so the restore goes beside it and the last step is by hand.
 */
export function liveStateProblem(
  name: string,
  state: string | null,
  doing: ReplaceDoing,
): { message: Phrase; hint: Phrase } | null {
  const st = (state ?? 'ONLINE').toUpperCase();
  if (st === 'ONLINE') return null;
  const why =
    st === 'RESTORING'
      ? 'restoring'
      : st === 'RECOVERING'
        ? 'recovering'
        : st === 'OFFLINE' || st === 'OFFLINE_SECONDARY'
          ? 'offline'
          : 'damaged';
  const params = { db: name, state: st, why, doing, q: quoteName(name), qRestored: quoteName(`${name}_restored`) };
  return { message: phrase('mssql.notOnline', params), hint: phrase('mssql.notOnlineHint', params) };
}

/** What replacing a live database in place is: a restore, or a rollback swapping a kept safety copy back. */
export type ReplaceDoing = 'restore' | 'rollback';

/**
 * Pure: why the live database `name` on `server`, published for replication, cannot be replaced in place, with what
 * to do: a publication is tied to the database's name and its distributor, and SQL Server refuses to rename a
 * published database, so a restore beside it swapped in by renames would lose the publications (or stop half-way).
 */
export function publishedProblem(name: string, server: string, doing: ReplaceDoing): { message: Phrase; hint: Phrase } {
  const params = { db: name, server, doing, literal: name.replaceAll("'", "''") };
  return { message: phrase('mssql.published', params), hint: phrase('mssql.publishedHint', params) };
}

/**
 * The swap of a database into place: the restored temporary database, or (swap back) a kept
 * safety copy.
 * - `steps` run in order: take the live database and rename it to `safety` (one batch), then rename
 *   `incoming` to the live name; `finally…` always runs afterwards (MULTI_USER on the old live
 *   database under whatever name it has by then).
 * - When `liveExists` is false there is nothing to protect: `incoming` is renamed.
 */
export interface SwapPlan {
  live: string;
  /** The database that becomes the live one (the temporary database, or a safety copy swapped back). */
  incoming: string;
  safety: string | null;
  steps: Statement[];
  /** MULTI_USER for the old live database under its safety name (after a full swap). */
  finallyAfterSwap: Statement | null;
  /** MULTI_USER for the old live database under its own name (when the swap stopped before renaming it). */
  finallyBeforeRename: Statement | null;
  /** Undo of a half swap (old live already renamed, the incoming one not): rename it back. */
  rollbackRename: Statement | null;
}

export function planSwap(opts: {
  live: string;
  setId: string;
  liveExists: boolean;
  terminateConnections: boolean;
  incoming?: string;
  /** The round of the safety copy (`<live>__pre_restore_<set>__2`…) when earlier ones of this set are kept. */
  round?: number;
}): SwapPlan {
  const { temp } = stagingNames(opts.live, opts.setId);
  const { safety } = stagingNames(opts.live, roundId(opts.setId, opts.round ?? 1));
  const incoming = opts.incoming ?? temp;
  if (incoming === opts.live || incoming === safety) {
    throw new Error(`cannot swap ${incoming} into ${opts.live}: same name`);
  }
  if (!opts.liveExists) {
    const steps = [renameStatement(incoming, opts.live)];
    const none = { finallyAfterSwap: null, finallyBeforeRename: null, rollbackRename: null };
    return { live: opts.live, incoming, safety: null, steps, ...none };
  }
  return {
    live: opts.live,
    incoming,
    safety,
    steps: [takeAndRenameStatement(opts.live, safety, opts.terminateConnections), renameStatement(incoming, opts.live)],
    finallyAfterSwap: multiUserStatement(safety, true),
    finallyBeforeRename: multiUserStatement(opts.live, opts.terminateConnections),
    rollbackRename: renameStatement(safety, opts.live),
  };
}

/** Parses one STATS info message (`10 percent processed.`) to a percentage; null for other messages. */
export function parseStatsPercent(message: string): number | null {
  const m = /^\s*(\d{1,3}) percent processed\.?\s*$/i.exec(message);
  if (!m) return null;
  const n = Number(m[1]);
  return n >= 0 && n <= 100 ? n : null;
}
