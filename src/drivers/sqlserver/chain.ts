/**
 * The parts of SQL Server native chains that talk to the server or stream files (the planning is pure, in
 * ./chain-plan.ts): what msdb and sys.database_recovery_status say before a backup, the header of a backup just
 * made with exact LSNs, the backups a restore applies (checked before anything is touched), and copying each
 * into the shared folder.
 */
import { pipeToNewFile } from '../../core/durable-fs.js';
import { InterruptedError, RefusedError, RespaldoError } from '../../core/errors.js';
import { formatLocal } from '../../core/format.js';
import type { DriverContext, RestoreRequest } from '../driver.js';
import {
  chainStateStatement,
  checkChain,
  exactLsnStatement,
  headerOf,
  parseChainState,
  parseHeader,
  type BackupHeader,
  type ServerChainState,
} from './chain-plan.js';
import type { ConnectionSettings } from './connection.js';
import { writeForServerError } from './errors.js';
import type { Session } from './session.js';

/** What the server says of a chained database's backups (recovery fork, msdb's newest full and log backup). */
export async function readChainState(session: Session, database: string): Promise<ServerChainState> {
  try {
    return parseChainState((await session.run(chainStateStatement(database), undefined))[0]);
  } catch (err) {
    if (!(err instanceof RespaldoError) || session.ctx.signal.aborted) throw err;
    return { forkId: null, newestFull: null, newestLog: null, msdbUnreadable: err.message };
  }
}

/** The header of a backup just made, with exact LSNs from msdb when HEADERONLY's reached the driver as doubles. */
export async function readHeader(
  session: Session,
  row: Record<string, unknown>,
): Promise<BackupHeader | { problem: string }> {
  const first = parseHeader(row);
  if (!('problem' in first) || !row.BackupSetGUID) return first;
  try {
    const exact = (await session.run(exactLsnStatement(String(row.BackupSetGUID)), undefined))[0] ?? null;
    return parseHeader(row, exact);
  } catch (err) {
    if (!(err instanceof RespaldoError) || session.ctx.signal.aborted) throw err;
    const grant = 'grant the login SELECT on msdb.dbo.backupset and msdb.dbo.backupmediafamily';
    return { problem: `${first.problem}: msdb is not readable (${err.message}); ${grant}` };
  }
}

/** One backup a restore applies, oldest first: the full, then a differential and log backups (native chains). */
export interface RestoreStep {
  setId: string;
  entry: RestoreRequest['entry'];
  kind: BackupHeader['kind'];
  openPart(role?: string): NodeJS.ReadableStream;
}

/**
 * The backups a restore applies and the STOPAT of the last: the set itself, or its chain (RestoreRequest.chain)
 * checked as SQL Server will apply it (checkChain). Refuses, before anything is touched, a chain that does not
 * apply: a gap, a fork change, a differential on another full, a member without its header.
 */
export function restoreSteps(req: RestoreRequest): { steps: RestoreStep[]; stopAt: string | null } {
  const self = { setId: req.setId, entry: req.entry, openPart: req.openPart };
  const all = [...(req.chain ?? []), self];
  const refuse = (problem: string): never => {
    throw new RefusedError(
      `The chain of ${req.db.name} that ends with set ${req.setId} cannot be restored: ${problem}. Nothing was changed.`,
      `Restore an earlier set of ${req.db.name} (respaldo list --db ${req.db.name}), or the full set ${all[0]!.setId} alone.`,
    );
  };
  if (!req.chain?.length) {
    // A differential or log backup given alone: SQL Server would refuse it only once the restore has begun.
    const kind = headerOf(req.entry.details)?.kind ?? 'full';
    if (req.entry.base || kind !== 'full')
      throw new RefusedError(
        `Set ${req.setId} holds a ${kind} backup of ${req.db.name} on set ${req.entry.base ?? '?'}; the sets it ` +
          'applies on were not given. Nothing was changed.',
        `Restore it with respaldo restore ${req.setId} (which applies the whole chain), or check it with ` +
          `respaldo verify --chain ${req.setId}.`,
      );
    return { steps: [{ ...self, kind: 'full' }], stopAt: null };
  }
  const members = all.map((m) => {
    const header = headerOf(m.entry.details);
    return header ? { setId: m.setId, header } : refuse(`set ${m.setId} holds no backup header of ${req.db.name}`);
  });
  const picked = checkChain(members, req.stopAt ? new Date(req.stopAt) : null);
  if ('problem' in picked) return refuse(picked.problem);
  const steps = all.map((m, i) => ({ ...m, kind: members[i]!.header.kind })).slice(0, picked.steps.length);
  return { steps, stopAt: picked.stopAt };
}

/** Copies a stored backup into the shared folder for the server to read (a new file, never overwritten). */
export async function copyForServer(
  from: NodeJS.ReadableStream,
  to: string,
  s: ConnectionSettings,
  ctx: DriverContext,
): Promise<void> {
  try {
    await pipeToNewFile(from, to, { mode: 0o640, signal: ctx.signal });
  } catch (err) {
    if (ctx.signal.aborted)
      throw new InterruptedError(
        'Interrupted while copying the backup for SQL Server; the live database was not touched.',
      );
    if (err instanceof RespaldoError) throw err;
    throw await writeForServerError(err, to, s);
  }
}

/**
 * Pure: the error of a restore whose last step, a log backup restored WITH STOPAT, left the temporary database
 * RESTORING. SQL Server does so, with no error, when the time asked for is after the last record that log backup
 * holds (written when the backup started) though before the backup ended: what was written in between is in the
 * next log backup, which this chain does not have. Says what happened, the span each backup of the chain covers
 * (their headers), that `temp` is dropped and the live database untouched, and which times restore.
 */
export function stopAtPastLastRecordError(opts: {
  item: string;
  live: string;
  temp: string;
  stopAt: string;
  steps: readonly RestoreStep[];
}): RespaldoError {
  const at = (iso: string): string => formatLocal(iso, { seconds: true });
  const headers = opts.steps.map((st) => ({ setId: st.setId, header: headerOf(st.entry.details) }));
  const last = headers.at(-1)!;
  const first = headers[0]!;
  const span = headers
    .map(({ setId, header: h }) => (h ? `${setId} ${h.kind} LSN ${h.firstLsn}–${h.lastLsn}` : setId))
    .join(', ');
  const lh = last.header;
  const written = lh
    ? `, written up to when the backup started at ${at(lh.startedAt)}; it ended at ${at(lh.finishedAt)}`
    : '';
  const from = first.header ? ` from ${at(first.header.finishedAt)}` : '';
  const to = lh ? ` to ${at(lh.startedAt)}` : '';
  const message =
    `${at(opts.stopAt)} is after the last record the log backup of set ${last.setId} holds${written}. SQL Server ` +
    `applied it whole and left "${opts.temp}" RESTORING, waiting for a later log backup this chain does not have ` +
    `(${span}; it covers${from}${to}). The live database "${opts.live}" was not touched; the temporary database is ` +
    'dropped (a warning names it if it cannot be).';
  const before = lh ? `a time at or before ${at(lh.startedAt)}` : 'an earlier time';
  const after = lh ? `at or after ${at(lh.finishedAt)}` : 'after this set';
  const hint =
    `Restore --at ${before} (this chain), or ${after} once a later incremental set of ${opts.item} exists (its ` +
    `log backup holds ${at(opts.stopAt)}); respaldo restore ${last.setId} without --at gives the database as of ` +
    'its last record.';
  return new RespaldoError('failed', message, hint);
}
