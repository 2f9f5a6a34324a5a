import { createHash } from 'node:crypto';
import { derivedMark } from '../shared/names.js';

/**
 * Names for the SQL Server driver, pure: quoting, server paths, the .bak, journal, temporary, safety and drill
 * names respaldo derives (and parses back), and the limits they keep. Statements are in plan.ts and swap-plan.ts.
 *
 * Rules kept by every function in this file:
 * - database names, paths and logical file names travel as parameters (`@db`, `@path`, …) wherever
 *   T-SQL accepts a variable (BACKUP/RESTORE targets, DISK, MOVE, DB_ID, WHERE clauses);
 * - where T-SQL demands an identifier (ALTER DATABASE, DROP DATABASE, three-part names) it is
 *   quoted exactly like QUOTENAME: `[` … `]` with `]` doubled, and refused where QUOTENAME would
 *   return NULL (more than 128 characters) or where SQL Server would refuse the name (empty, NUL).
 */

/** Longest identifier SQL Server accepts (sysname = nvarchar(128), counted in UTF-16 units). */
export const MAX_SYSNAME = 128;
/** Suffix markers of the databases a restore creates next to the live one. */
export const TEMP_MARK = derivedMark('restore');
export const SAFETY_MARK = derivedMark('pre_restore');
/** Marks a restore drill's scratch database (`<name>__drill_<set id>`), dropped after the drill. */
export const DRILL_MARK = derivedMark('drill');
/** Longest set id accepted in temporary names (keeps room for the database name). */
export const MAX_SET_ID = 64;
/** STATS interval for BACKUP and RESTORE (percent): every percent reaches the progress bars. */
export const STATS_PERCENT = 1;
/** How many times a swap step that lost its exclusive lock to another connection is tried. */
export const SWAP_ATTEMPTS = 5;
/** SQL Server errors that mean another connection held the database at that moment (retryable). */
export const LOCK_ERRORS: readonly number[] = [5030, 5061, 5064, 5070, 3702];

/** One statement to send, with its named parameters (`@name` in `sql`). */
export interface Statement {
  /** What the statement is for, in operator words (shown by --dry-run and in errors). */
  purpose: string;
  sql: string;
  params: Record<string, string | number>;
}

/** Why a name cannot be used as a SQL Server identifier; null when it can. */
export function nameProblem(name: string): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'is empty';
  if (name.length > MAX_SYSNAME)
    return `is ${name.length} characters long; SQL Server names are at most ${MAX_SYSNAME}`;
  if (name.includes('\u0000')) return 'contains a NUL character';
  if (name.trim().length === 0) return 'is only spaces';
  return null;
}

/** QUOTENAME(name): `[name]` with `]` doubled. Throws on names QUOTENAME or SQL Server would refuse. */
export function quoteName(name: string): string {
  const problem = nameProblem(name);
  if (problem) throw new Error(`database name ${JSON.stringify(name.slice(0, 40))} ${problem}`);
  return `[${name.replaceAll(']', ']]')}]`;
}

/** First 8 hex characters of SHA-256 of the exact text: tells apart names that sanitise the same. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 8);
}

/** Cuts a string to at most `max` UTF-16 units without splitting a surrogate pair. */
function cut(text: string, max: number): string {
  let out = text.slice(0, max);
  const last = out.charCodeAt(out.length - 1);
  if (out.length > 0 && last >= 0xd800 && last <= 0xdbff) out = out.slice(0, -1);
  return out;
}

/**
 * A file-name-safe rendering of a name: ASCII letters, digits, `_` and `-` only (other characters
 * become `_`), at most `max` characters, never empty. Not unique on its own: pair it with shortHash.
 */
export function safeFilePart(name: string, max = 40): string {
  const ascii = name
    .normalize('NFC')
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/^[_-]+|[_-]+$/g, '');
  return cut(ascii, max) || 'db';
}

/** `<safe name>-<hash>`: unique per exact database name, valid on Windows and Linux file systems. */
export function fileStem(name: string): string {
  return `${safeFilePart(name)}-${shortHash(name)}`;
}

// ---------------------------------------------------------------------------------------------
// Server paths

export type PathStyle = 'windows' | 'posix';

/** Whether a folder as the server sees it is a Windows (`D:\Backups`, `\\nas\share`) or Linux path. */
export function serverPathStyle(dir: string): PathStyle {
  if (/^[A-Za-z]:[\\/]/.test(dir) || dir.startsWith('\\\\') || dir.includes('\\')) return 'windows';
  return 'posix';
}

/** Why a server folder cannot be used; null when it is an absolute Windows or Linux path. */
export function serverDirProblem(dir: string): string | null {
  if (typeof dir !== 'string' || dir.trim() === '') return 'is empty';
  if (dir.includes('\u0000')) return 'contains a NUL character';
  if (/^[A-Za-z]:[\\/]/.test(dir) || /^\\\\[^\\]+\\[^\\]+/.test(dir) || dir.startsWith('/')) return null;
  return 'is not an absolute path as the server sees it (e.g. D:\\Backups, \\\\nas\\backups or /var/opt/mssql/backup)';
}

/**
 * The path style of the server's host, from `host_platform` of sys.dm_os_host_info (`Windows`,
 * `Linux`). SQL Server before 2017 has no such view and runs only on Windows (`viewMissing`).
 * Only an unknown platform falls back to guessing from the folder string.
 */
export function hostPathStyle(hostPlatform: string | null, dir: string, viewMissing = false): PathStyle {
  const p = (hostPlatform ?? '').trim().toLowerCase();
  if (p === 'windows') return 'windows';
  if (p === 'linux') return 'posix';
  if (viewMissing) return 'windows';
  return serverPathStyle(dir);
}

/** The server's host platform (sys.dm_os_host_info, SQL Server 2017 and later). */
export function hostInfoStatement(): Statement {
  return {
    purpose: 'read the host platform of the server',
    sql: 'SELECT host_platform AS hostPlatform FROM sys.dm_os_host_info',
    params: {},
  };
}

/**
 * Joins a server folder and a file name with the server's separator, without doubling it. On a
 * Linux server (`style` posix) a backslash is an ordinary character of a name, never a separator.
 */
export function joinServerPath(dir: string, file: string, style: PathStyle = serverPathStyle(dir)): string {
  const isSep = (c: string): boolean => c === '/' || (style === 'windows' && c === '\\');
  const drive = (x: string): boolean => style === 'windows' && /^[A-Za-z]:[\\/]$/.test(x);
  let base = dir;
  while (base.length > 1 && isSep(base.slice(-1)) && !drive(base)) base = base.slice(0, -1);
  if (isSep(base.slice(-1))) return base + file;
  return base + (style === 'windows' ? '\\' : '/') + file;
}

/** The folder part of a server path (`C:\Data\master.mdf` → `C:\Data`). */
export function serverDirname(path: string, style: PathStyle = serverPathStyle(path)): string {
  const i = style === 'windows' ? Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/')) : path.lastIndexOf('/');
  if (i < 0) return path;
  if (i === 0) return path.slice(0, 1);
  if (/^[A-Za-z]:$/.test(path.slice(0, i))) return path.slice(0, i + 1);
  return path.slice(0, i);
}

// ---------------------------------------------------------------------------------------------
// File and database names

/** Validates a caller-made unique token (timestamp + random) used in file names. */
export function checkToken(token: string): string {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(token))
    throw new Error(`file token ${JSON.stringify(token)} must be 1-40 of A-Z a-z 0-9 _ -`);
  return token;
}

/** Name of the .bak BACKUP writes for a database (`respaldo-users-1a2b3c4d-<token>.bak`). */
export function backupFileName(database: string, token: string): string {
  return `respaldo-${fileStem(database)}-${checkToken(token)}.bak`;
}

/** Prefix of the temporary .bak files a restore of `live` writes (recover removes leftovers). */
export function restoreFilePrefix(live: string): string {
  return `respaldo-restore-${fileStem(live)}-`;
}

/** Name of the .bak a restore of `live` writes to the shared folder for the server to read. */
export function restoreFileName(live: string, setId: string, token: string): string {
  return `${restoreFilePrefix(live)}${safeFilePart(setId, 40)}-${checkToken(token)}.bak`;
}

/** Name of the journal a restore of `live` keeps in the shared folder while it runs. */
export function journalFileName(live: string): string {
  return `respaldo-restore-${fileStem(live)}.journal.json`;
}

function checkSetId(setId: string): void {
  if (typeof setId !== 'string' || setId.length === 0 || setId.length > MAX_SET_ID || setId.includes('\u0000')) {
    throw new Error(`set id ${JSON.stringify(setId)} must be 1-${MAX_SET_ID} characters`);
  }
}

/**
 * The part of temporary names that stands for the live database: the name itself when
 * `<name>__pre_restore_<setId>` fits in 128 characters, else a cut of it plus `~` and a hash.
 */
export function nameStem(live: string, setId: string): string {
  checkSetId(setId);
  const budget = MAX_SYSNAME - SAFETY_MARK.length - setId.length;
  if (live.length <= budget) return live;
  return `${cut(live, budget - 9)}~${shortHash(live)}`;
}

/** Temporary (`<name>__restore_<setId>`) and safety (`<name>__pre_restore_<setId>`) database names. */
export function stagingNames(live: string, setId: string): { temp: string; safety: string } {
  const problem = nameProblem(live);
  if (problem) throw new Error(`database name ${JSON.stringify(live.slice(0, 40))} ${problem}`);
  const stem = nameStem(live, setId);
  return { temp: `${stem}${TEMP_MARK}${setId}`, safety: `${stem}${SAFETY_MARK}${setId}` };
}

/** Recognises a temporary or safety database name made by stagingNames for `live`; null otherwise. */
export function parseStagingName(candidate: string, live: string): { kind: 'temp' | 'safety'; setId: string } | null {
  for (const [kind, mark] of [
    ['safety', SAFETY_MARK],
    ['temp', TEMP_MARK],
  ] as const) {
    let at = candidate.lastIndexOf(mark);
    while (at > 0) {
      const setId = candidate.slice(at + mark.length);
      if (setId.length > 0 && setId.length <= MAX_SET_ID && !setId.includes('\u0000') && nameProblem(live) === null) {
        const names = stagingNames(live, setId);
        if ((kind === 'safety' ? names.safety : names.temp) === candidate) return { kind, setId };
      }
      at = candidate.lastIndexOf(mark, at - 1);
    }
  }
  return null;
}

/** The scratch database of a restore drill of `live` from set `setId`: `<name>__drill_<setId>` (≤ 128 characters). */
export function drillName(live: string, setId: string): string {
  const problem = nameProblem(live);
  if (problem) throw new Error(`database name ${JSON.stringify(live.slice(0, 40))} ${problem}`);
  return `${nameStem(live, setId)}${DRILL_MARK}${setId}`;
}

/** The set id of a drill scratch database made by drillName for `live`; null for any other name. */
export function parseDrillName(candidate: string, live: string): string | null {
  const at = candidate.lastIndexOf(DRILL_MARK);
  if (at <= 0 || nameProblem(live) !== null) return null;
  const setId = candidate.slice(at + DRILL_MARK.length);
  if (!setId || setId.length > MAX_SET_ID || setId.includes('\u0000')) return null;
  return drillName(live, setId) === candidate ? setId : null;
}

/**
 * The statements of a drill's checks and cleanup, in order, as data: the restore itself goes
 * through the restore path (RESTORE … WITH CHECKSUM, MOVE into new files) into `scratch`; then
 * DBCC CHECKDB (errors only: NO_INFOMSGS), then the drop, planned by the scratch database's state
 * (dropByStateStatement; `state` null: not read, taken as ONLINE).
 */
export function planDrillChecks(scratch: string, state: string | null = null): { checkdb: Statement; drop: Statement } {
  return { checkdb: checkDbStatement(scratch), drop: dropScratchStatement(scratch, state) };
}

/** DBCC CHECKDB of a database, reporting errors only. A corruption fails the statement (errors 8928, 8939, …). */
export function checkDbStatement(name: string): Statement {
  return {
    purpose: `check database ${name} (DBCC CHECKDB)`,
    sql: `DBCC CHECKDB (${quoteName(name)}) WITH NO_INFOMSGS, ALL_ERRORMSGS`,
    params: {},
  };
}

/** Drops a drill's scratch database if it exists, by its state (dropByStateStatement). */
export function dropScratchStatement(name: string, state: string | null = null): Statement {
  return dropByStateStatement(name, state, `drop the drill scratch database ${name}`);
}

/**
 * Drops a database respaldo made (a drill's scratch database, a safety copy, a restore's temporary database) if it
 * exists, planned by its `state` (sys.databases.state_desc):
 * - ONLINE (or null, not read): SINGLE_USER WITH ROLLBACK IMMEDIATE, then DROP, in one batch, so no session can
 *   take the single-user slot in between;
 * - any other state (RESTORING: a chain cut before its last step or a STOPAT past a log backup's last record;
 *   RECOVERY_PENDING, SUSPECT, EMERGENCY, OFFLINE): DROP DATABASE alone. ALTER DATABASE … SET SINGLE_USER fails
 *   there (error 5052 on a RESTORING database) and no session can be using it. (DROP leaves the files of an
 *   OFFLINE database on disk: SQL Server cannot open them to delete them.)
 */
export function dropByStateStatement(name: string, state: string | null, purpose: string): Statement {
  const q = quoteName(name);
  const online = state === null || state.toUpperCase() === 'ONLINE';
  if (!online) {
    return {
      purpose: `${purpose} (${state.toUpperCase()}: dropped as it is)`,
      sql: `IF DB_ID(@name) IS NOT NULL DROP DATABASE ${q}`,
      params: { name },
    };
  }
  return {
    purpose,
    sql: [
      'IF DB_ID(@name) IS NOT NULL',
      'BEGIN',
      `  ALTER DATABASE ${q} SET SINGLE_USER WITH ROLLBACK IMMEDIATE;`,
      `  DROP DATABASE ${q};`,
      'END',
    ].join('\n'),
    params: { name },
  };
}
