/** mssql/tedious errors turned into operator errors with hints; the shared backup folder checks. */

import { constants as fsc, promises as fsp } from 'node:fs';
import { InterruptedError, RefusedError, RespaldoError, isDiskFull } from '../../core/errors.js';
import { where } from './config.js';
import type { ConnectionSettings } from './connection.js';
import { newerThanServer, productName } from './plan.js';

export interface SqlErrorLike {
  message: string;
  code?: string;
  number?: number;
  precedingErrors?: SqlErrorLike[];
  originalError?: unknown;
}

export function isSqlError(err: unknown): err is SqlErrorLike {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: unknown; number?: unknown };
  return (
    typeof e.number === 'number' ||
    (typeof e.code === 'string' &&
      /^E[A-Z]+$/.test(e.code) &&
      ['ConnectionError', 'RequestError', 'TransactionError', 'PreparedStatementError', 'MSSQLError'].includes(
        err.name,
      ))
  );
}

export function scrub(text: string, s: Partial<ConnectionSettings>): string {
  let out = text;
  if (s.password && s.password.length >= 1) out = out.split(s.password).join('***');
  return out;
}

export const ACCESS_HINT = (s: ConnectionSettings): string =>
  `The SQL Server service account cannot use ${s.serverBackupDir}. Give it read/write access to that folder (on Linux: owner or group mssql; on Windows: the NT Service\\MSSQLSERVER account or the share's permissions), and check that serverBackupDir is the folder as the server sees it.`;
export const PATH_HINT = (s: ConnectionSettings): string =>
  `SQL Server cannot find ${s.serverBackupDir}. serverBackupDir must be the folder as the *server* sees it (e.g. D:\\Backups or /var/opt/mssql/backup) and must exist there; localBackupDir is the same folder as respaldo sees it.`;
export const PERMISSION_HINT =
  'To back up, the login needs BACKUP DATABASE (db_backupoperator in the database), CREATE ANY DATABASE (dbcreator: RESTORE VERIFYONLY/FILELISTONLY need it) and VIEW DEFINITION in the database (row counts); to restore and swap, also ALTER ANY DATABASE, or sysadmin. See docs/sqlserver.md.';

/**
 * Turns an mssql/tedious error into an operator error with a hint. Errors that are not from SQL
 * Server (bugs) are returned unchanged. The password is never part of the message.
 */
export function mapSqlError(
  err: unknown,
  action: string,
  s: ConnectionSettings,
  interruptedNote = 'nothing was replaced',
): unknown {
  if (err instanceof RespaldoError || !isSqlError(err)) return err;
  const all = [...(err.precedingErrors ?? []), err];
  const numbers = new Set(all.map((e) => e.number).filter((n): n is number => typeof n === 'number'));
  const text = scrub(
    all
      .map((e) => e.message)
      .filter((m, i, a) => m && a.indexOf(m) === i)
      .join(' '),
    s,
  );
  const has = (...ns: number[]): boolean => ns.some((n) => numbers.has(n));
  const details = { sqlErrors: [...numbers], code: err.code ?? null };
  const at = where(s);
  if (err.code === 'ELOGIN' || has(18456, 18452, 18470, 18486, 18487, 18488)) {
    return new RespaldoError(
      'failed',
      `SQL Server at ${at} refused the login for user "${s.user ?? ''}" while trying to ${action}: ${text}`,
      s.passwordVariable
        ? `The password comes from ${s.passwordVariable}: check ${s.passwordVariable} in the environment or .env and the user in the config, that the login exists and is enabled, and that the server accepts SQL Server authentication (mixed mode).`
        : 'Check user and password in the config (or the environment variables they come from), that the login exists and is enabled, and that the server accepts SQL Server authentication (mixed mode).',
      details,
    );
  }
  if (
    err.code &&
    ['ESOCKET', 'ETIMEOUT', 'EINSTLOOKUP', 'ECONNCLOSED', 'ENOCONN'].includes(err.code) &&
    numbers.size === 0
  ) {
    const cert = /certificate|self[- ]signed|SSL|TLS/i.test(text);
    return new RespaldoError(
      'failed',
      `Cannot reach SQL Server at ${at} to ${action}: ${text}`,
      cert
        ? 'The server certificate is not trusted. Install a trusted certificate on the server, or set "trustServerCertificate": true (or ?trustServerCertificate=true in the url) if you accept its self-signed certificate.'
        : s.instance
          ? `Check the server name, that the SQL Server Browser service runs (UDP 1434) so instance "${s.instance}" can be found, that TCP/IP is enabled for the instance, and that no firewall blocks it.`
          : `Check the server name and port (${s.port ?? 1433}), that SQL Server runs and has TCP/IP enabled, and that no firewall blocks the port.`,
      details,
    );
  }
  if (err.code === 'ECANCEL') return new InterruptedError(`Interrupted while trying to ${action}; ${interruptedNote}.`);
  if (has(33111, 33101)) {
    return new RespaldoError(
      'failed',
      `SQL Server could not ${action}: the backup is encrypted with TDE and this server lacks its certificate: ${text}`,
      'Create the certificate on this server from its backup (CREATE CERTIFICATE … FROM FILE … WITH PRIVATE KEY …, ' +
        'after a database master key in master), then restore again. See docs/sqlserver.md (TDE).',
      details,
    );
  }
  if (has(3169)) {
    // 3169 is said both ways: "backed up on a server running version A … this server, which is running version B".
    const [made, here] = [...text.matchAll(/running version (\d+(?:\.\d+)*)/gi)].map((m) => m[1]);
    if (made && here && newerThanServer(here, made)) {
      return new RespaldoError(
        'failed',
        `SQL Server could not ${action}: the backup was made by a SQL Server version too old for this server: ${text}`,
        `This server, ${productName(here)}, no longer restores backups of ${productName(made)}. Restore it on a ` +
          'server of a version between the two that restores it (for a SQL Server 2005 backup: SQL Server 2012 or ' +
          '2014), back it up there, and restore that backup here; the live database was not touched.',
        details,
      );
    }
    return new RespaldoError(
      'failed',
      `SQL Server could not ${action}: the backup was made by a later SQL Server version than this server's: ${text}`,
      'SQL Server never restores a backup on an older version. Restore it on a server of the same or a later ' +
        'version, or upgrade this one; the live database was not touched.',
      details,
    );
  }
  if (/operating system error 5\b|access is denied|permission denied\)/i.test(text)) {
    return new RespaldoError(
      'failed',
      `SQL Server could not ${action}: access denied to the backup folder: ${text}`,
      ACCESS_HINT(s),
      details,
    );
  }
  if (
    /operating system error (2|3)\b|cannot find the (path|file)|no such file or directory/i.test(text) &&
    has(3201, 3013, 3203, 3041)
  ) {
    return new RespaldoError(
      'failed',
      `SQL Server could not ${action}: path not found on the server: ${text}`,
      PATH_HINT(s),
      details,
    );
  }
  // "Write on "…" failed: 112(There is not enough space on the disk.)" (Windows), OS error 28 (Linux).
  if (
    has(3202, 3203, 3013) &&
    /operating system error (112|28)\b|failed: (112|28)\(|not enough space on the disk|no space left on device/i.test(
      text,
    )
  ) {
    const inBackupDir = text.toLowerCase().includes(s.serverBackupDir.toLowerCase());
    return new RespaldoError(
      'failed',
      inBackupDir
        ? `SQL Server could not ${action}: the disk of the backup folder ${s.serverBackupDir} (as the server sees it) is full: ${text}`
        : `SQL Server could not ${action}: the disk it writes the database files on is full: ${text}`,
      inBackupDir
        ? `Free space there (respaldo removes its own .bak files after each run; a half-written one is removed too), ` +
            'or point serverBackupDir and localBackupDir at a volume with room; compression (not on Express or Web) ' +
            'makes the .bak smaller. Nothing was changed in the database.'
        : "Free space on the volume of the instance's default data and log folders (Server properties → Database " +
            'settings), or point them at a volume with room; the live database was not touched.',
      details,
    );
  }
  if (has(262, 229, 230, 300, 297, 15247, 916, 3110, 5011, 15151)) {
    return new RespaldoError(
      'failed',
      `Permission denied: SQL Server refused to ${action}: ${text}`,
      PERMISSION_HINT,
      details,
    );
  }
  if (
    has(3183, 3189) ||
    (has(3241, 3242, 3266, 3203) &&
      /checksum|damage|corrupt|incorrectly form|not a valid|cyclic redundancy/i.test(text))
  ) {
    return new RespaldoError(
      'failed',
      `SQL Server found the backup damaged while trying to ${action}: ${text}`,
      'The .bak failed its checksums. For a backup: check the disk of the backup folder and run it again. For a restore: use another set (`respaldo list`).' +
        (has(3241)
          ? ' Error 3241 ("incorrectly formed") is also what a server says of a backup made by a later SQL Server ' +
            "version: compare the set's details.serverVersion (respaldo show SET --json) with this server's."
          : ''),
      details,
    );
  }
  if (has(5070, 5061, 5030, 3702, 3101, 5064, 5069)) {
    return new RefusedError(
      `Database in use: SQL Server could not ${action}: ${text}`,
      'Other sessions use the database. Close the applications that use it, or run again with --terminate-connections to close their sessions (their open transactions are rolled back).',
    );
  }
  if (has(3257)) {
    return new RespaldoError(
      'failed',
      `SQL Server lacks free space for the database files while trying to ${action}: ${text}`,
      "Free space on that volume (the instance's default data and log folders, Server properties → Database " +
        'settings), or point those defaults at a volume with room, then restore again; the live database was not ' +
        'touched.',
      details,
    );
  }
  if (has(1802, 5133, 5123, 5105, 1834, 3156, 3634)) {
    return new RespaldoError(
      'failed',
      `SQL Server could not create the database files while trying to ${action}: ${text}`,
      "Check free space and the service account's permissions on the instance's default data and log folders (Server properties → Database settings), and that no file with the same name exists there.",
      details,
    );
  }
  if (has(4305, 4326, 3136, 3117)) {
    return new RespaldoError(
      'failed',
      `SQL Server could not ${action}: ${text}`,
      'The backups of the chain do not apply on each other: a backup of the database made outside respaldo lies ' +
        'between these sets, or a stored set does not hold the backup its manifest describes. The live database ' +
        'was not replaced. Restore an earlier set or the full set alone (respaldo list), check the chain with ' +
        'respaldo verify --chain SET, and take a new full backup.',
      details,
    );
  }
  if (has(4338)) {
    return new RespaldoError(
      'failed',
      `SQL Server could not ${action}: ${text}`,
      'SQL Server cannot stop at that time in this backup. Choose another --at time: one at or after the end of ' +
        'that log backup (a log backup with bulk-logged changes restores only whole), or one after the end of the ' +
        'full backup restored. The live database was not replaced.',
      details,
    );
  }
  if (has(4214, 4208, 3035)) {
    return new RespaldoError(
      'failed',
      `SQL Server could not ${action}: ${text}`,
      'The database has no backup chain to continue now: its recovery model is SIMPLE, or it has had no full ' +
        'backup since it was created, restored or switched from SIMPLE. Take a full backup (respaldo create ' +
        '--type full); differential and incremental backups continue from it (log backups need the FULL or ' +
        'BULK_LOGGED recovery model).',
      details,
    );
  }
  if (has(1801)) {
    return new RefusedError(
      `SQL Server could not ${action}: ${text}`,
      'A database with that name exists already; choose another name.',
    );
  }
  return new RespaldoError(
    'failed',
    `SQL Server could not ${action}: ${text}`,
    'See the SQL Server error above; the server error log has more detail.',
    details,
  );
}

export function localDirHint(s: ConnectionSettings): string {
  return `localBackupDir (${s.localBackupDir}) must be the same folder SQL Server writes to as serverBackupDir (${s.serverBackupDir}): the same path when respaldo runs on the server, else a share or mount of that folder, readable and writable by respaldo.`;
}

/**
 * Writing a stored backup into localBackupDir for the server to restore from failed: a full disk there is said
 * as the disk of that folder (not of the database restored, nor of the backup folder), anything else with the
 * hint about the two folders. A full disk elsewhere (reading the stored file can write, e.g. while decrypting)
 * is passed on as it is, for the engine to name.
 */
export async function writeForServerError(err: unknown, file: string, s: ConnectionSettings): Promise<Error> {
  const why = (err as Error).message;
  if (isDiskFull(err)) {
    const st = await fsp.statfs(s.localBackupDir).catch(() => null);
    if (st && st.bavail * st.bsize >= 1 << 20) return err as Error;
    return new RespaldoError(
      'failed',
      `No space left on the disk of localBackupDir ${s.localBackupDir}, where the backup SQL Server restores from is copied (${file}): ${why}.`,
      'The live database was not touched and the partial file is removed. Free space in that folder (old .bak files left there), or point localBackupDir and serverBackupDir at a folder with room, then restore again.',
      { localBackupDir: s.localBackupDir },
    );
  }
  return new RespaldoError('failed', `Could not write the backup for SQL Server to ${file}: ${why}`, localDirHint(s));
}

export async function checkLocalDir(s: ConnectionSettings): Promise<void> {
  try {
    const st = await fsp.stat(s.localBackupDir);
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    await fsp.access(s.localBackupDir, fsc.R_OK | fsc.W_OK | fsc.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new RespaldoError(
      'failed',
      `The backup folder shared with SQL Server is not usable here: ${s.localBackupDir} (${code}).`,
      localDirHint(s),
      { code },
    );
  }
}
