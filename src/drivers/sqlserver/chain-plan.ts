/**
 * SQL Server native chains, pure: what `RESTORE HEADERONLY` says of a backup (kept in the manifest, because
 * msdb may be gone on the day of the restore), the checks made before and after a differential or log backup
 * (a gap, a fork change, a differential base taken outside respaldo), the restore chain chosen as the SQL
 * Server tools choose it, and the T-SQL of chained backups and restores. No I/O: chain.ts, backup.ts and
 * restore.ts run these.
 *
 * LSNs are numeric(25,0): they travel as decimal strings and are compared as bigints (the driver receives
 * numeric columns as doubles, so exact LSNs are read from msdb.dbo.backupset cast to varchar when
 * HEADERONLY's would lose digits).
 *
 * One file of about 560 lines: the header, the backup checks and the restore choice all apply the same LSN rules,
 * and are read (and tested, test/sqlserver-chain-plan.test.ts) together.
 */
import { formatLocal } from '../../core/format.js';
import { english, phrase, type Phrase } from '../../core/phrases.js';
import { quoteName, STATS_PERCENT, type Statement } from './names.js';

/** Kinds of native backup a chain is made of. */
export type MssqlBackupKind = 'full' | 'differential' | 'log';

/** What RESTORE HEADERONLY says of one backup, as the manifest keeps it (`details.header`). */
export interface BackupHeader {
  kind: MssqlBackupKind;
  /** BACKUP … COPY_ONLY: outside the differential base and the log chain. */
  copyOnly: boolean;
  firstLsn: string;
  lastLsn: string;
  checkpointLsn: string;
  /** Full and differential: the CheckpointLSN of the full the differential base is (for a differential, its base). */
  databaseBackupLsn: string;
  /** FirstRecoveryForkID: the recovery fork at the start of the backup. */
  firstForkId: string | null;
  /** RecoveryForkID: the recovery fork at its end. */
  forkId: string | null;
  /** BackupStartDate and BackupFinishDate, in UTC (ISO). */
  startedAt: string;
  finishedAt: string;
  /** BackupSetGUID. */
  backupSetId: string | null;
  /**
   * Log backups: HasBulkLoggedData, bulk-logged operations (BULK_LOGGED recovery model) inside it. SQL Server cannot
   * STOPAT a time inside such a log backup, only restore it whole. Absent: none, or not recorded.
   */
  bulkLogged?: boolean;
  /**
   * Log backups: the server's offset from UTC when it was made, in minutes (HEADERONLY's TimeZone × 15): the offset
   * a STOPAT inside it is converted with, not the server's offset on the day of the restore (daylight saving).
   * Absent: unknown (TimeZone 127) or not recorded.
   */
  utcOffsetMinutes?: number;
}

/** An LSN as a decimal string; null when the value is missing or cannot be exact (a double beyond 2^53). */
export function exactLsn(v: unknown): string | null {
  if (typeof v === 'bigint') return v >= 0n ? v.toString() : null;
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? String(v) : null;
  if (typeof v === 'string' && /^\d{1,25}$/.test(v.trim())) return BigInt(v.trim()).toString();
  return null;
}

const lsn = (s: string): bigint => BigInt(s);

/** The kind of a HEADERONLY `BackupType` (1 database, 5 differential, 2 log); null for file backups and others. */
export function kindOfBackupType(t: unknown): MssqlBackupKind | null {
  const n = Number(t);
  return n === 1 ? 'full' : n === 5 ? 'differential' : n === 2 ? 'log' : null;
}

/**
 * The driver reads datetime columns as if they were UTC; HEADERONLY's dates are the server's local time and its
 * `TimeZone` the server's offset in 15-minute intervals. Returns the true UTC time (ISO).
 */
export function headerTime(wall: unknown, timeZone: unknown): string | null {
  const d = wall instanceof Date ? wall : typeof wall === 'string' ? new Date(wall) : null;
  if (!d || Number.isNaN(d.getTime())) return null;
  return new Date(d.getTime() - (headerOffset(timeZone) ?? 0) * 60_000).toISOString();
}

/** HEADERONLY's `TimeZone` (15-minute intervals, 127 unknown) as minutes east of UTC; null when unknown. */
export function headerOffset(timeZone: unknown): number | null {
  if (timeZone === null || timeZone === undefined || timeZone === '') return null;
  const tz = Number(timeZone);
  return Number.isInteger(tz) && Math.abs(tz) <= 14 * 4 ? tz * 15 : null;
}

/**
 * Pure: the header of one backup from its RESTORE HEADERONLY row, with exact LSNs from its msdb.dbo.backupset
 * row (`exact`, columns firstLsn … databaseBackupLsn as varchar) where HEADERONLY's are not exact.
 * Returns the problem instead when a field the chain needs is missing.
 */
export function parseHeader(
  row: Record<string, unknown>,
  exact: Record<string, unknown> | null = null,
): BackupHeader | { problem: string } {
  const kind = kindOfBackupType(row.BackupType);
  if (!kind) return { problem: `RESTORE HEADERONLY reports BackupType ${String(row.BackupType)}, not 1, 2 or 5` };
  const lsnOf = (header: string, msdb: string): string | null => exactLsn(exact?.[msdb]) ?? exactLsn(row[header]);
  const lsns = {
    firstLsn: lsnOf('FirstLSN', 'firstLsn'),
    lastLsn: lsnOf('LastLSN', 'lastLsn'),
    checkpointLsn: lsnOf('CheckpointLSN', 'checkpointLsn'),
    databaseBackupLsn: lsnOf('DatabaseBackupLSN', 'databaseBackupLsn'),
  };
  // What the chain decides on: every backup's range, a full's checkpoint (the differential base), a differential's
  // base.
  const needed = [
    'firstLsn',
    'lastLsn',
    kind === 'full' ? 'checkpointLsn' : kind === 'differential' ? 'databaseBackupLsn' : '',
  ];
  const missing = Object.entries(lsns)
    .filter(([k, v]) => v === null && needed.includes(k))
    .map(([k]) => k);
  if (missing.length) return { problem: `no exact ${missing.join(', ')} in RESTORE HEADERONLY nor in msdb` };
  const startedAt = headerTime(row.BackupStartDate, row.TimeZone);
  const finishedAt = headerTime(row.BackupFinishDate, row.TimeZone);
  if (!startedAt || !finishedAt) return { problem: 'RESTORE HEADERONLY reports no BackupStartDate/BackupFinishDate' };
  const guid = (v: unknown): string | null =>
    v === null || v === undefined || v === '' ? null : String(v).toUpperCase();
  return {
    kind,
    copyOnly: Number(row.IsCopyOnly) === 1 || row.IsCopyOnly === true,
    firstLsn: lsns.firstLsn!,
    lastLsn: lsns.lastLsn!,
    checkpointLsn: lsns.checkpointLsn ?? '0',
    databaseBackupLsn: lsns.databaseBackupLsn ?? '0',
    firstForkId: guid(row.FirstRecoveryForkID),
    forkId: guid(row.RecoveryForkID),
    startedAt,
    finishedAt,
    backupSetId: guid(row.BackupSetGUID),
    ...(kind === 'log' && (Number(row.HasBulkLoggedData) === 1 || row.HasBulkLoggedData === true)
      ? { bulkLogged: true }
      : {}),
    ...(kind === 'log' && headerOffset(row.TimeZone) !== null ? { utcOffsetMinutes: headerOffset(row.TimeZone)! } : {}),
  };
}

/** Pure: the header a manifest entry's `details.header` holds; null when it holds none (a backup before chains). */
export function headerOf(details: Record<string, unknown>): BackupHeader | null {
  const h = details.header as Partial<BackupHeader> | undefined;
  if (!h || typeof h !== 'object' || !h.kind || !h.firstLsn || !h.lastLsn || !h.checkpointLsn) return null;
  return h as BackupHeader;
}

// ---------------------------------------------------------------------------------------------
// Backup: what is made, and the checks around it

/** What the server's own history says of a database at backup time (sys.database_recovery_status and msdb). */
export interface ServerChainState {
  /** sys.database_recovery_status.recovery_fork_guid. */
  forkId: string | null;
  /** msdb could not be read (permission): the checks it serves were not made. */
  msdbUnreadable?: string;
  /** The newest non-COPY_ONLY full in msdb (the server's differential base). */
  newestFull: { checkpointLsn: string; finishedAt: string | null; device: string | null } | null;
  /** The newest non-COPY_ONLY log backup in msdb. */
  newestLog: { lastLsn: string; finishedAt: string | null; device: string | null } | null;
  /**
   * sys.database_recovery_status.last_log_backup_lsn, where the next BACKUP LOG starts; null when the database has
   * no log chain to continue (SIMPLE since its last full, or no full yet: BACKUP LOG fails with error 4214);
   * undefined when not read.
   */
  logBackupFrom?: string | null;
}

/**
 * msdb's newest full and log backups of `database` on this server, with the database's current recovery fork.
 * LSNs cast to varchar (exact).
 */
export function chainStateStatement(database: string): Statement {
  quoteName(database);
  const newest = (type: string, alias: string, cols: string): string =>
    [
      'OUTER APPLY (SELECT TOP 1 ' + cols + ', b.backup_finish_date AS finishedAt, f.physical_device_name AS device',
      '  FROM msdb.dbo.backupset b',
      '  LEFT JOIN msdb.dbo.backupmediafamily f ON f.media_set_id = b.media_set_id',
      // COPY_ONLY backups change neither the differential base nor the log chain (a DBA's copy-only log backup
      // truncates nothing: respaldo's next log backup still starts where its last one ended).
      `  WHERE b.database_name = @db AND b.server_name = @@SERVERNAME AND b.type = '${type}' AND b.is_copy_only = 0`,
      `  ORDER BY b.backup_set_id DESC) ${alias}`,
    ].join('\n');
  return {
    purpose: `read the backup chain of ${database} (recovery fork, newest full and log backup in msdb)`,
    sql: [
      'SELECT CAST(rs.recovery_fork_guid AS nvarchar(36)) AS forkId,',
      '  CAST(rs.last_log_backup_lsn AS varchar(30)) AS lastLogBackupLsn,',
      '  fu.checkpointLsn AS fullCheckpointLsn, fu.finishedAt AS fullFinishedAt, fu.device AS fullDevice,',
      '  lg.lastLsn AS logLastLsn, lg.finishedAt AS logFinishedAt, lg.device AS logDevice',
      'FROM sys.database_recovery_status rs',
      newest('D', 'fu', 'CAST(b.checkpoint_lsn AS varchar(30)) AS checkpointLsn'),
      newest('L', 'lg', 'CAST(b.last_lsn AS varchar(30)) AS lastLsn'),
      'WHERE rs.database_id = DB_ID(@db)',
    ].join('\n'),
    params: { db: database },
  };
}

/** Exact LSNs of one backup from msdb, by its BackupSetGUID (HEADERONLY's LSNs reach the driver as doubles). */
export function exactLsnStatement(backupSetId: string): Statement {
  return {
    purpose: `read the exact LSNs of backup ${backupSetId} from msdb`,
    sql: [
      'SELECT CAST(b.first_lsn AS varchar(30)) AS firstLsn, CAST(b.last_lsn AS varchar(30)) AS lastLsn,',
      '  CAST(b.checkpoint_lsn AS varchar(30)) AS checkpointLsn,',
      '  CAST(b.database_backup_lsn AS varchar(30)) AS databaseBackupLsn',
      'FROM msdb.dbo.backupset b WHERE b.backup_set_uuid = @id',
    ].join('\n'),
    params: { id: backupSetId },
  };
}

/** Pure: a chainStateStatement row as ServerChainState. */
export function parseChainState(row: Record<string, unknown> | undefined): ServerChainState {
  const text = (v: unknown): string | null => (v === null || v === undefined || v === '' ? null : String(v));
  // msdb's backup_finish_date is the server's local time, which the driver reads as if it were UTC: said as the
  // server's wall clock, never with a Z (HEADERONLY's TimeZone, which corrects it, is not in msdb).
  const when = (v: unknown): string | null =>
    v instanceof Date ? `${v.toISOString().slice(0, 19).replace('T', ' ')} (server time)` : text(v);
  const fullLsn = exactLsn(row?.fullCheckpointLsn);
  const logLsn = exactLsn(row?.logLastLsn);
  return {
    forkId: text(row?.forkId)?.toUpperCase() ?? null,
    newestFull: fullLsn
      ? { checkpointLsn: fullLsn, finishedAt: when(row?.fullFinishedAt), device: text(row?.fullDevice) }
      : null,
    newestLog: logLsn ? { lastLsn: logLsn, finishedAt: when(row?.logFinishedAt), device: text(row?.logDevice) } : null,
    ...(row && 'lastLogBackupLsn' in row ? { logBackupFrom: exactLsn(row.lastLogBackupLsn) } : {}),
  };
}

/** Why a differential or incremental of a database without `chain: true` is a COPY_ONLY full. */
export function noChainPhrase(name: string, type: 'differential' | 'incremental'): Phrase {
  return phrase('fallback.mssqlNoChain', { db: name, type });
}

/** What a backup of a chained database makes: the native kind, and why it is a full when a delta was asked. */
export interface ChainBackupDecision {
  kind: MssqlBackupKind;
  /** COPY_ONLY: a full that does not become the server's differential base (databases without `chain`). */
  copyOnly: boolean;
  /** Set when a differential or incremental was asked and a full is made instead: why, in operator words. */
  fallback?: string;
  /** `fallback` as a phrase (the menu says it in its language). */
  fallbackPhrase?: Phrase;
}

/**
 * Pure: the native backup of one database. `chain` is the database's `chain: true`; `base` the header of the
 * base set's entry (the engine's choice) and `baseFull` that of the full its chain starts with; `state` what the
 * server says now (null when it was not read). A differential or incremental that cannot continue the chain
 * becomes a full, saying why (with `chain`, a full that starts a new chain; without, the usual COPY_ONLY full).
 * The engine gives a differential a full as its base, an incremental the newest backup of any kind.
 */
export function decideBackup(opts: {
  name: string;
  type: 'full' | 'differential' | 'incremental';
  chain: boolean;
  purpose: 'backup' | 'safety';
  recoveryModel: string | null;
  base?: { setId: string; header: BackupHeader | null };
  state?: ServerChainState | null;
}): ChainBackupDecision {
  const { name, type, chain } = opts;
  if (opts.purpose === 'safety') return { kind: 'full', copyOnly: true };
  if (type === 'full') return { kind: 'full', copyOnly: !chain };
  const full = (why: Phrase): ChainBackupDecision => ({
    kind: 'full',
    copyOnly: !chain,
    fallback: english(why),
    fallbackPhrase: why,
  });
  const db = name;
  if (!chain) return full(noChainPhrase(name, type));
  if (type === 'incremental' && (opts.recoveryModel ?? '').toUpperCase() === 'SIMPLE') {
    return full(phrase('fallback.mssqlSimple', { db }));
  }
  const base = opts.base;
  if (!base) return full(phrase('fallback.mssqlNoBase', { db, type }));
  const set = base.setId;
  if (!base.header) return full(phrase('fallback.mssqlNoHeader', { db, set }));
  if (base.header.copyOnly) return full(phrase('fallback.mssqlCopyOnly', { db, set }));
  const state = opts.state;
  if (state?.msdbUnreadable) return full(phrase('fallback.mssqlMsdb', { error: state.msdbUnreadable }));
  if (state?.forkId && base.header.forkId && state.forkId !== base.header.forkId.toUpperCase()) {
    return full(phrase('fallback.mssqlFork', { db, set }));
  }
  if (type === 'incremental' && state?.logBackupFrom === null) return full(phrase('fallback.mssqlNoLogChain', { db }));
  if (type === 'differential') {
    const serverBase = state?.newestFull;
    if (base.header.kind !== 'full') return full(phrase('fallback.mssqlBaseNotFull', { db, set }));
    if (serverBase && serverBase.checkpointLsn !== base.header.checkpointLsn) {
      const { device, finishedAt, checkpointLsn } = serverBase;
      const baseLsn = base.header.checkpointLsn;
      const params = { db, set, lsn: checkpointLsn, baseLsn, at: finishedAt ?? '', device: device ?? '' };
      return full(phrase('fallback.mssqlOutsideFull', params));
    }
    return { kind: 'differential', copyOnly: false };
  }
  const newestLog = state?.newestLog;
  if (newestLog && lsn(newestLog.lastLsn) > lsn(base.header.lastLsn)) {
    const params = { db, set, lsn: newestLog.lastLsn, baseLsn: base.header.lastLsn, device: newestLog.device ?? '' };
    return full(phrase('fallback.mssqlLogGap', params));
  }
  return { kind: 'log', copyOnly: false };
}

/**
 * Pure: what is wrong with a differential or log backup just made on `base` (null when it continues the chain):
 * checked from its own header, so a base changed between the check and the backup is found too.
 */
export function afterBackupProblem(made: BackupHeader, base: { setId: string; header: BackupHeader }): string | null {
  if (made.kind === 'differential') {
    if (made.databaseBackupLsn !== base.header.checkpointLsn) {
      return (
        `the differential applies on a full with checkpoint LSN ${made.databaseBackupLsn}, not on set ` +
        `${base.setId} (${base.header.checkpointLsn}): a full was taken outside respaldo meanwhile`
      );
    }
    return null;
  }
  if (made.kind === 'log') {
    if (lsn(made.firstLsn) > lsn(base.header.lastLsn))
      return `the log backup starts at LSN ${made.firstLsn}, after set ${base.setId} ends (${base.header.lastLsn}): a gap`;
    if (base.header.forkId && made.firstForkId && made.firstForkId !== base.header.forkId)
      return `the log backup starts on recovery fork ${made.firstForkId}, set ${base.setId} ended on ${base.header.forkId}`;
    return null;
  }
  return null;
}

/**
 * Pure: the BACKUP statement of one chained (or COPY_ONLY) backup: `BACKUP DATABASE` (full, `DIFFERENTIAL`)
 * or `BACKUP LOG`, with CHECKSUM, INIT, FORMAT and COMPRESSION as for every backup.
 */
export function chainBackupStatement(opts: {
  database: string;
  serverPath: string;
  kind: MssqlBackupKind;
  copyOnly: boolean;
  compression: boolean;
  continueAfterError?: boolean;
}): Statement {
  quoteName(opts.database);
  const options = [
    ...(opts.kind === 'differential' ? ['DIFFERENTIAL'] : []),
    'CHECKSUM',
    ...(opts.continueAfterError ? ['CONTINUE_AFTER_ERROR'] : []),
    ...(opts.copyOnly ? ['COPY_ONLY'] : []),
    'INIT',
    'FORMAT',
    ...(opts.compression ? ['COMPRESSION'] : []),
    `STATS = ${STATS_PERCENT}`,
  ];
  const what = opts.kind === 'log' ? 'LOG' : 'DATABASE';
  const label =
    opts.kind === 'full' ? (opts.copyOnly ? 'back up (COPY_ONLY)' : 'back up (full)') : `back up (${opts.kind})`;
  return {
    purpose: `${label} database ${opts.database} to ${opts.serverPath}`,
    sql: `BACKUP ${what} @db TO DISK = @path WITH ${options.join(', ')}`,
    params: { db: opts.database, path: opts.serverPath },
  };
}

// ---------------------------------------------------------------------------------------------
// Restore: which backups, in which order, and the statements

/** One backup a restore may use: its set and its header. */
export interface ChainMember {
  setId: string;
  header: BackupHeader;
}

/** The restore sequence of one database and the point it reaches. */
export interface ChainSelection {
  /** Oldest first: a full, at most one differential, then log backups. */
  steps: ChainMember[];
  /** STOPAT on the last step (a log backup whose end passes the time asked for); null: restore it whole. */
  stopAt: string | null;
  /** The point the restored database represents (STOPAT, or the end of the last step). */
  point: string;
  /** Backups passed over, with why. */
  skipped: { setId: string; reason: string }[];
}

/**
 * Pure: the restore chain as the SQL Server tools choose it, among `backups` (any order): the newest full
 * (COPY_ONLY ones too) that ends at or before `at`, the newest differential whose DatabaseBackupLSN equals that
 * full's CheckpointLSN and that ends at or before `at`, then log backups without gaps (each starting at or before
 * the LSN reached, ending after it, on the same recovery fork) up to the first whose end passes `at` (STOPAT
 * there) or the last one. Without `at`: as far as the backups reach. Refuses with the problem otherwise, also when
 * `at` falls inside a log backup holding bulk-logged changes (SQL Server restores such a one only whole).
 */
export function selectChain(backups: readonly ChainMember[], at: Date | null): ChainSelection | { problem: string } {
  const t = at?.getTime() ?? Infinity;
  const ends = (m: ChainMember): number => Date.parse(m.header.finishedAt);
  const skipped: ChainSelection['skipped'] = [];
  const newestFirst = (a: ChainMember, b: ChainMember): number =>
    lsn(b.header.lastLsn) > lsn(a.header.lastLsn) ? 1 : lsn(b.header.lastLsn) < lsn(a.header.lastLsn) ? -1 : 0;
  const fulls = backups.filter((b) => b.header.kind === 'full').sort(newestFirst);
  const full = fulls.find((f) => ends(f) <= t);
  if (!full) {
    const first = fulls.at(-1);
    return {
      problem: first
        ? `no full backup ends at or before ${formatLocal(at!, { seconds: true })} (the first one, set ${first.setId}, ends at ${formatLocal(first.header.finishedAt, { seconds: true })})`
        : 'no full backup in the chain',
    };
  }
  let reached: ChainMember = full;
  const diffs = backups.filter((b) => b.header.kind === 'differential').sort(newestFirst);
  const diff = diffs.find(
    (d) =>
      !full.header.copyOnly &&
      d.header.databaseBackupLsn === full.header.checkpointLsn &&
      ends(d) <= t &&
      lsn(d.header.lastLsn) > lsn(full.header.lastLsn),
  );
  for (const d of diffs.filter((x) => x !== diff)) {
    const reason =
      d.header.databaseBackupLsn !== full.header.checkpointLsn || full.header.copyOnly
        ? `its base (checkpoint LSN ${d.header.databaseBackupLsn}) is not the full of set ${full.setId} (${full.header.checkpointLsn})`
        : ends(d) > t
          ? 'ends after the time asked for'
          : 'an older differential';
    skipped.push({ setId: d.setId, reason });
  }
  if (diff) reached = diff;
  const steps: ChainMember[] = [full, ...(diff ? [diff] : [])];
  const fork = (m: ChainMember): string | null => m.header.forkId?.toUpperCase() ?? null;
  let stopAt: string | null = null;
  let done = false;
  const logs = backups
    .filter((b) => b.header.kind === 'log')
    .sort((a, b) => (lsn(a.header.firstLsn) < lsn(b.header.firstLsn) ? -1 : 1));
  for (const log of logs) {
    const cur = lsn(reached.header.lastLsn);
    if (done) {
      skipped.push({ setId: log.setId, reason: 'after the time asked for' });
      continue;
    }
    if (lsn(log.header.lastLsn) <= cur) {
      skipped.push({
        setId: log.setId,
        reason: `ends at LSN ${log.header.lastLsn}, before the point reached (${cur})`,
      });
      continue;
    }
    if (lsn(log.header.firstLsn) > cur) {
      return {
        problem:
          `the log backups have a gap: set ${reached.setId} reaches LSN ${cur} and the next log backup (set ` +
          `${log.setId}) starts at LSN ${log.header.firstLsn}; a log backup made outside respaldo is missing`,
      };
    }
    const from = fork(reached);
    const logFork = log.header.firstForkId?.toUpperCase() ?? null;
    if (from && logFork && from !== logFork) {
      return {
        problem:
          `set ${log.setId} is a log backup of another recovery fork (${logFork}) than set ${reached.setId} ` +
          `(${from}): the database was restored in between`,
      };
    }
    if (ends(log) > t && log.header.bulkLogged === true) {
      const when = formatLocal(at!, { seconds: true });
      return {
        problem:
          `set ${log.setId} is a log backup holding bulk-logged changes (recovery model BULK_LOGGED while it was ` +
          `written) and ${when} falls inside it: SQL Server restores such a log backup only whole; ` +
          `choose a time at or after its end (${formatLocal(log.header.finishedAt, { seconds: true })}) or at or ` +
          `before the end of set ${reached.setId} (${formatLocal(reached.header.finishedAt, { seconds: true })})`,
      };
    }
    steps.push(log);
    reached = log;
    done = ends(log) >= t;
    if (ends(log) > t) stopAt = at!.toISOString();
  }
  return { steps, stopAt, point: stopAt ?? reached.header.finishedAt, skipped };
}

/**
 * Pure: checks that the chain the engine handed over (`members`, oldest first, the set restored last) is the one
 * selectChain picks, so each backup applies on the one before it. Returns the restore sequence or the problem,
 * naming the set that does not fit. With `at`, the last members may be left out when an earlier log backup already
 * passes the time (the engine chose by its own clock, the server's times decide: clocks differ by a little).
 */
export function checkChain(members: readonly ChainMember[], at: Date | null): ChainSelection | { problem: string } {
  const picked = selectChain(members, at);
  if ('problem' in picked) return picked;
  const want = members.map((m) => m.setId);
  const got = picked.steps.map((m) => m.setId);
  if (want.join() === got.join()) return picked;
  const tail = want.slice(got.length);
  const passed = (id: string): boolean =>
    picked.skipped.some((x) => x.setId === id && x.reason === 'after the time asked for');
  if (want.slice(0, got.length).join() === got.join() && tail.every(passed)) return picked;
  const left = members.find((m) => !got.includes(m.setId));
  const why = left ? picked.skipped.find((s) => s.setId === left.setId)?.reason : undefined;
  return {
    problem: left
      ? `set ${left.setId} does not continue the chain of ${members[0]!.setId}${why ? `: ${why}` : ''}`
      : `the backups apply in another order (${got.join(' → ')}) than the sets (${want.join(' → ')})`,
  };
}

/**
 * Pure: the RESTORE of one step after the first into `target` (the first, a full, is restoreStatement with
 * MOVE): `RESTORE DATABASE … ` for a differential, `RESTORE LOG …` for a log, `NORECOVERY` until the last step,
 * which recovers; `stopAt` (UTC ISO, last log only) becomes STOPAT in the server's local time of then: with the
 * offset the log backup's header recorded (`stopAtOffsetMinutes`), else the server's offset now (SYSDATETIMEOFFSET),
 * converted by the server in the same batch.
 */
export function chainStepStatement(opts: {
  target: string;
  serverPath: string;
  kind: 'differential' | 'log';
  last: boolean;
  stopAt?: string | null;
  /** The server's UTC offset (minutes) when the log backup was made (its header's utcOffsetMinutes). */
  stopAtOffsetMinutes?: number | null;
  /** Files this backup adds to the database (planNewFileMoves): MOVE each to a folder of this server. */
  moves?: readonly { logicalName: string; physicalName: string }[];
  /** KEEP_CDC on the last step (restoreStatement's keepCdc). */
  keepCdc?: boolean;
}): Statement {
  quoteName(opts.target);
  const what = opts.kind === 'log' ? 'LOG' : 'DATABASE';
  const recovery = opts.last ? (opts.keepCdc === true ? 'RECOVERY, KEEP_CDC' : 'RECOVERY') : 'NORECOVERY';
  const params: Record<string, string | number> = { db: opts.target, path: opts.serverPath };
  const moveClauses = (opts.moves ?? []).map((m, i) => {
    params[`l${i + 1}`] = m.logicalName;
    params[`p${i + 1}`] = m.physicalName;
    return `MOVE @l${i + 1} TO @p${i + 1}, `;
  });
  const base = `RESTORE ${what} @db FROM DISK = @path WITH CHECKSUM, ${moveClauses.join('')}${recovery}`;
  const added = moveClauses.length ? `, moving ${moveClauses.length} file(s) it adds` : '';
  const purpose = `apply the ${opts.kind} backup ${opts.serverPath} to ${opts.target} (${recovery}${added})`;
  if (opts.stopAt && opts.kind === 'log' && opts.last) {
    const recorded = opts.stopAtOffsetMinutes;
    // An integer the header gave (checked here), never operator text: written into the batch as a literal.
    const known = typeof recorded === 'number' && Number.isInteger(recorded) && Math.abs(recorded) <= 14 * 60;
    const offset = known ? String(recorded) : 'DATEPART(TZOFFSET, SYSDATETIMEOFFSET())';
    return {
      purpose: `${purpose}, stopping at ${opts.stopAt}`,
      sql: [
        'DECLARE @t datetime = CONVERT(datetime,',
        `  SWITCHOFFSET(CONVERT(datetimeoffset, @stopAt), ${offset}));`,
        `${base}, STOPAT = @t, STATS = ${STATS_PERCENT}`,
      ].join('\n'),
      params: { ...params, stopAt: opts.stopAt },
    };
  }
  return { purpose, sql: `${base}, STATS = ${STATS_PERCENT}`, params };
}
