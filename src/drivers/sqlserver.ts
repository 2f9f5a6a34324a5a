/**
 * The SQL Server driver: backup, restore, swap back (rollback), recover and leftovers, carried out
 * over the pieces in ./sqlserver/ (config, connection, errors, session, chain) with the statements planned
 * in ./sqlserver-plan.ts and ./sqlserver/chain-plan.ts (native chains). Public names of those pieces are re-exported here.
 */
import { constants as fsc, createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { pipeToNewFile } from '../core/durable-fs.js';
import { InterruptedError, RefusedError, RespaldoError, VerifyError } from '../core/errors.js';
import { english, phrase } from '../core/phrases.js';
import type { ChainType, DatabaseConfig } from '../core/types.js';
import type {
  BackupRequest,
  BackupSession,
  ConfigProblem,
  Driver,
  DriverContext,
  DumpFacts,
  OpenedDump,
  RestoreRequest,
  RestoreResult,
  RestoreStepPlan,
  RestoreTarget,
  SwapBackRequest,
  TargetState,
  DrillCheck,
} from './driver.js';
import { CAPABILITIES } from './capabilities.js';
import {
  defaultFileDirs,
  dropIfExistsStatement,
  dropSafetyCopyStatements,
  drillName,
  parseDrillName,
  planDrillChecks,
  joinServerPath,
  listDatabasesStatement,
  multiUserStatement,
  nameProblem,
  parseStagingName,
  planBackup,
  planBeforeRestore,
  planMoves,
  planSettings,
  planSwap,
  quoteName,
  renameStatement,
  restoreFileName,
  restoreFilePrefix,
  restoreStatement,
  stagingNames,
  supportsBackupCompression,
  unsupportedEdition,
  type BackupPlan,
  type DbSettings,
  type Statement,
} from './sqlserver-plan.js';
import {
  afterBackupProblem,
  chainBackupStatement,
  chainStepStatement,
  decideBackup,
  headerOf,
  noChainReason,
  type ChainBackupDecision,
} from './sqlserver/chain-plan.js';
import { copyForServer, readChainState, readHeader, restoreSteps } from './sqlserver/chain.js';
import { merged, resolveSettings, validate, where } from './sqlserver/config.js';
import { mssqlConnector, type ConnectionSettings, type SqlConnector } from './sqlserver/connection.js';
import { checkLocalDir, localDirHint, mapSqlError } from './sqlserver/errors.js';
import {
  checkAborted,
  compareRowCounts,
  fileToken,
  num,
  progressTo,
  readJournals,
  readTde,
  recordedSettings,
  removeQuietly,
  Session,
  str,
  SwapBrokenError,
  writeJournal,
  WRITTEN_DURING,
  type DbInfo,
  type Journal,
  type ServerInfo,
} from './sqlserver/session.js';

export { parseSqlServerUrl, resolveSettings } from './sqlserver/config.js';
export { mssqlConnector } from './sqlserver/connection.js';
export type { ConnectionSettings, QueryOptions, SqlConnection, SqlConnector } from './sqlserver/connection.js';
export { mapSqlError } from './sqlserver/errors.js';
export { compareRowCounts } from './sqlserver/session.js';

// ---------------------------------------------------------------------------------------------
// The driver

export interface SqlServerDriverDeps {
  /** How to open a connection (default: mssql). Tests pass an in-process fake. */
  connect?: SqlConnector;
  /** Wait before attempt `n + 1` of a swap step that lost its lock (default 250 ms × n). */
  retryDelayMs?: (attempt: number) => number;
}

/** Refuses servers where BACKUP … TO DISK on a shared folder cannot work (Azure SQL Database, Managed Instance). */
function refuseEdition(server: ServerInfo, s: ConnectionSettings): void {
  const what = unsupportedEdition(server.engineEdition);
  if (!what) return;
  throw new RefusedError(
    `SQL Server at ${where(s)} is ${what}: it cannot write BACKUP … TO DISK to a folder respaldo shares, ` +
      'nor RESTORE from one.',
    "Use the platform's own backups (automated backups and point-in-time restore, or BACKUP TO URL), or export " +
      'with a bacpac; respaldo backs up SQL Server on Windows, Linux and containers.',
  );
}

/** Refuses a rename-based swap of a database that belongs to an availability group. */
function refuseAvailabilityGroup(info: DbInfo | null, s: ConnectionSettings, doing: string): void {
  if (!info?.replicaId) return;
  throw new RefusedError(
    `Database "${info.name}" on ${where(s)} is in an availability group: it cannot be set SINGLE_USER or renamed, ` +
      `so ${doing} is not possible.`,
    'Restore side by side with --to NAME, or remove the database from the availability group first ' +
      '(ALTER AVAILABILITY GROUP … REMOVE DATABASE), restore, and add it back.',
  );
}

/** Builds the SQL Server driver over a connector. */
export function createSqlServerDriver(deps: SqlServerDriverDeps = {}): Driver {
  const connect = deps.connect ?? mssqlConnector;

  async function open(
    s: ConnectionSettings,
    ctx: Pick<DriverContext, 'log' | 'signal'>,
    action: string,
  ): Promise<Session> {
    try {
      return new Session(await connect(s), s, ctx, deps.retryDelayMs);
    } catch (err) {
      throw mapSqlError(err, action, s);
    }
  }

  const quietCtx = { log: () => undefined, signal: new AbortController().signal };

  async function backup(req: BackupRequest, ctx: DriverContext): Promise<BackupSession> {
    if (req.type === 'schema') {
      throw new RespaldoError(
        'usage',
        `SQL Server database "${req.db.name}": a ${req.type} backup is not possible with native BACKUP DATABASE.`,
        'Use type full for SQL Server databases.',
      );
    }
    const s = resolveSettings(req.db);
    await checkLocalDir(s);
    const session = await open(s, ctx, `back up ${s.database}`);
    session.interruptedNote =
      `the backup of ${s.database} was stopped: the database was not changed, the unfinished .bak is removed ` +
      'and no backup of it is kept from this run';
    let localPath: string | null = null;
    try {
      const server = await session.serverInfo();
      refuseEdition(server, s);
      const info = await session.databaseInfo(s.database);
      if (!info)
        throw new RespaldoError(
          'failed',
          `Database "${s.database}" does not exist on SQL Server at ${where(s)}.`,
          'Check the database name in the config (databases[].database or the url).',
        );
      if (info.state && info.state !== 'ONLINE') {
        throw new RespaldoError(
          'failed',
          `Database "${s.database}" on ${where(s)} is ${info.state}, not ONLINE; it cannot be backed up now.`,
          'Bring the database online (ask the DBA) and run the backup again.',
        );
      }
      const tde = info.encrypted ? await readTde(session, server, s.database) : null;
      if (tde) {
        ctx.reporter.emit({
          type: 'warning',
          item: req.db.name,
          message:
            `${s.database} is encrypted with TDE${tde.certificate ? ` (certificate ${tde.certificate})` : ''}: ` +
            'this backup restores only on a server that has that certificate with its private key. ' +
            'Back the certificate up (see docs/sqlserver.md).',
        });
      }
      const continueAfterError = req.purpose === 'safety';
      const compression = supportsBackupCompression(server.edition, server.engineEdition);
      const base = req.base ? { setId: req.base.setId, header: headerOf(req.base.entry.details) } : undefined;
      const delta = req.type === 'differential' || req.type === 'incremental';
      const wantsState = req.db.chain === true && req.purpose === 'backup' && delta && base?.header;
      let decision = decideBackup({
        name: req.db.name,
        type: req.type === 'differential' || req.type === 'incremental' ? req.type : 'full',
        chain: req.db.chain === true,
        purpose: req.purpose,
        recoveryModel: info.recoveryModel,
        ...(base ? { base } : {}),
        state: wantsState ? await readChainState(session, s.database) : null,
      });
      const progress = progressTo(ctx, req.db.name, 'SQL Server BACKUP', info.sizeBytes);
      checkAborted(ctx.signal, 'the backup');
      const countsBefore = await session.rowCounts(s.database);

      /** Runs one BACKUP of the kind decided, then VERIFYONLY and HEADERONLY of it. */
      const make = async (d: ChainBackupDecision) => {
        const token = fileToken();
        const planFor = (compression: boolean): BackupPlan => {
          const p = planBackup({
            database: s.database,
            serverBackupDir: s.serverBackupDir,
            token,
            compression,
            continueAfterError,
            pathStyle: server.pathStyle,
          });
          if (d.kind === 'full' && d.copyOnly) return p;
          const st = { database: s.database, serverPath: p.serverPath, compression, continueAfterError };
          return { ...p, backup: chainBackupStatement({ ...st, kind: d.kind, copyOnly: d.copyOnly }) };
        };
        let plan = planFor(compression);
        localPath = join(s.localBackupDir, plan.fileName);
        let compressionNote: string | null = plan.compression
          ? null
          : `not supported by the ${server.edition ?? 'unknown'} edition`;
        try {
          await session.run(plan.backup, progress);
        } catch (err) {
          const e = err as RespaldoError;
          const sqlErrors = (e.details?.sqlErrors as number[] | undefined) ?? [];
          if (!plan.compression || !sqlErrors.includes(1844)) throw err;
          compressionNote = 'refused by the server (error 1844); backed up without compression';
          ctx.reporter.emit({
            type: 'warning',
            item: req.db.name,
            message: `SQL Server refused BACKUP WITH COMPRESSION; backing up ${s.database} uncompressed.`,
          });
          plan = planFor(false);
          await session.run(plan.backup, progress);
        }
        // Counts right after BACKUP are the nearest to its consistency point (the end of the data
        // copy); rows written meanwhile make them estimates, recorded with the drift seen.
        const tables = await session.rowCounts(s.database);
        let bytes: number;
        try {
          bytes = (await fsp.stat(localPath)).size;
          await fsp.access(localPath, fsc.R_OK);
        } catch (err) {
          throw new RespaldoError(
            'failed',
            `SQL Server wrote ${plan.serverPath}, but respaldo cannot see it as ${localPath} (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
            `${localDirHint(s)} The file is still on the server at ${plan.serverPath}; remove it there.`,
          );
        }
        let verifyError: string | null = null;
        try {
          await session.run(plan.verify, undefined);
        } catch (err) {
          if (!(err instanceof RespaldoError) || err.kind !== 'failed') throw err;
          verifyError = err.message;
          if (!continueAfterError) {
            throw new RespaldoError(
              'failed',
              `RESTORE VERIFYONLY rejected the backup of ${s.database}: ${verifyError}`,
              'The backup is not usable and was not stored. Check the disk of the backup folder and the SQL Server error log, then run the backup again.',
              err.details,
            );
          }
          ctx.reporter.emit({
            type: 'warning',
            item: req.db.name,
            message: `Safety copy of ${s.database} kept although RESTORE VERIFYONLY rejected it: ${verifyError}`,
          });
        }
        const headerRow = (await session.run(plan.header))[0] ?? {};
        const header = await readHeader(session, headerRow);
        return { plan, tables, bytes, verifyError, compressionNote, headerRow, header };
      };

      let made = await make(decision);
      if (decision.kind !== 'full' && base?.header) {
        const problem =
          'problem' in made.header
            ? made.header.problem
            : afterBackupProblem(made.header, { ...base, header: base.header });
        if (problem) {
          const what = `the ${decision.kind} backup of ${s.database} (${made.plan.serverPath})`;
          ctx.reporter.emit({
            type: 'warning',
            item: req.db.name,
            message: `${what} does not continue the chain and was not kept: ${problem}. Backing up a full instead.`,
          });
          await removeQuietly(localPath!, ctx);
          decision = { kind: 'full', copyOnly: false, fallback: `${problem}; stored a full that starts a new chain` };
          made = await make(decision);
        }
      }
      const { plan, tables, bytes, verifyError, compressionNote, headerRow: header } = made;
      localPath = join(s.localBackupDir, plan.fileName);
      const drift = compareRowCounts(countsBefore, tables);
      const compressed = num(header.Compressed ?? header.compressed) === 1;
      const files = await session.fileList(plan.serverPath);
      await session.close();

      const facts: DumpFacts = {
        tables,
        details: {
          server: where(s),
          serverVersion: server.productVersion,
          productLevel: server.productLevel,
          edition: server.edition,
          engineEdition: server.engineEdition,
          versionText: server.versionText,
          database: s.database,
          recoveryModel: info.recoveryModel,
          sizeBytes: info.sizeBytes,
          backupFile: plan.serverPath,
          backupBytes: bytes,
          backupSizeBytes: num(header.BackupSize ?? header.backupSize),
          compressedBackupSizeBytes: num(header.CompressedBackupSize ?? header.compressedBackupSize),
          compression: compressed,
          compressionNote,
          copyOnly: decision.copyOnly,
          backupKind: decision.kind,
          ...(decision.kind === 'log' ? { pointInTime: true } : {}),
          ...('problem' in made.header ? { headerProblem: made.header.problem } : { header: made.header }),
          checksum: true,
          verified: verifyError
            ? `RESTORE VERIFYONLY WITH CHECKSUM failed: ${verifyError}`
            : 'RESTORE VERIFYONLY WITH CHECKSUM',
          continueAfterError,
          rowCounts: `estimate: sys.partitions right after BACKUP${drift.length > 0 ? `; ${WRITTEN_DURING}` : ''}`,
          ...(drift.length > 0 ? { rowCountsDrift: drift.slice(0, 20) } : {}),
          settings: info.settings,
          hostPlatform: server.hostPlatform,
          ...(tde ? { tde: { encrypted: true, certificate: tde.certificate, thumbprint: tde.thumbprint } } : {}),
          logicalFiles: files.map((f) => ({
            logicalName: f.logicalName,
            physicalName: f.physicalName,
            type: f.type,
            fileGroup: f.fileGroup,
            sizeBytes: f.sizeBytes,
          })),
        },
      };
      const path = localPath;
      return {
        parts: [
          {
            role: 'main',
            format: 'mssql-bak',
            extension: 'bak',
            compress: !compressed,
            async open(): Promise<OpenedDump> {
              const stream = createReadStream(path);
              const finished = new Promise<DumpFacts>((resolve, reject) => {
                stream.once('end', () => resolve(facts));
                stream.once('error', (err) =>
                  reject(new RespaldoError('failed', `Reading ${path} failed: ${err.message}`, localDirHint(s))),
                );
              });
              finished.catch(() => undefined);
              return { stream, totalBytes: bytes, finished };
            },
          },
        ],
        ...(req.base && decision.fallback ? { fellBack: decision.fallback } : {}),
        async cleanup(): Promise<void> {
          const problem = await removeQuietly(path, ctx);
          if (problem)
            ctx.reporter.emit({
              type: 'warning',
              item: req.db.name,
              message: `SQL Server backup file left behind: ${problem}`,
            });
        },
      };
    } catch (err) {
      await session.close();
      if (localPath) await removeQuietly(localPath, ctx);
      throw err;
    }
  }

  function targetName(s: ConnectionSettings, target: RestoreTarget): string {
    return target.kind === 'in-place' ? s.database : target.name;
  }

  function checkTargetName(name: string): void {
    const p = nameProblem(name);
    if (p)
      throw new RespaldoError(
        'usage',
        `Target database name ${JSON.stringify(name.slice(0, 60))} ${p}.`,
        'Give a SQL Server database name of 1 to 128 characters.',
      );
  }

  async function restore(req: RestoreRequest, ctx: DriverContext): Promise<RestoreResult> {
    const s = resolveSettings(req.db);
    const live = targetName(s, req.target);
    checkTargetName(live);
    const { steps, stopAt } = restoreSteps(req);
    const { temp, safety } = stagingNames(live, req.setId);
    const inPlace = req.target.kind === 'in-place';
    await checkLocalDir(s);
    const session = await open(s, ctx, `restore ${live}`);
    session.interruptedNote = `the live database "${live}" was not touched and the temporary database is dropped`;
    const token = fileToken();
    const bakFile = restoreFileName(live, req.setId, token);
    const localPath = join(s.localBackupDir, bakFile);
    let serverPath = joinServerPath(s.serverBackupDir, bakFile);
    let journalPath: string | null = null;
    let tempCreated = false;
    let clean = true;
    try {
      const server = await session.serverInfo();
      refuseEdition(server, s);
      serverPath = joinServerPath(s.serverBackupDir, bakFile, server.pathStyle);
      const dirs = defaultFileDirs(server, server.pathStyle);
      if (!dirs)
        throw new RespaldoError(
          'failed',
          `SQL Server at ${where(s)} did not report its default data and log folders.`,
          'Set the default database file locations in the server properties, then run the restore again.',
        );
      const liveInfo = await session.databaseInfo(live);
      if (!inPlace && liveInfo) {
        throw new RefusedError(
          `Database "${live}" already exists on ${where(s)}; a side-by-side restore never replaces anything.`,
          'Choose another name with --to, or drop that database first.',
        );
      }
      if (await session.databaseInfo(temp)) {
        throw new RefusedError(
          `Database "${temp}" exists: an earlier restore of this set was interrupted.`,
          `Run the restore again after respaldo's recovery removed it, or drop it yourself (DROP DATABASE ${quoteName(temp)}) once you are sure nobody uses it.`,
        );
      }
      if (inPlace && liveInfo && (await session.databaseInfo(safety))) {
        throw new RefusedError(
          `The safety copy "${safety}" of an earlier restore of this set still exists.`,
          'Delete that pre_restore set (`respaldo delete <id>`) or drop the database once you no longer need it, or restore side by side with --to NAME.',
        );
      }
      if (inPlace) refuseAvailabilityGroup(liveInfo, s, 'an in-place restore');
      if (inPlace && liveInfo) await ensureNoSessions(session, server, live, req.terminateConnections);

      checkAborted(ctx.signal, 'the restore');
      const journal: Journal = {
        tool: 'respaldo',
        config: req.db.name,
        live,
        temp,
        safety: inPlace && liveInfo ? safety : null,
        setId: req.setId,
        kind: inPlace ? 'in-place' : 'side-by-side',
        phase: 'restoring',
        bakFile,
        startedAt: new Date().toISOString(),
      };
      try {
        journalPath = await writeJournal(s.localBackupDir, journal);
        await pipeToNewFile(steps[0]!.openPart('main'), localPath, { mode: 0o640, signal: ctx.signal });
      } catch (err) {
        if (ctx.signal.aborted)
          throw new InterruptedError(
            'Interrupted while copying the backup for SQL Server; the live database was not touched.',
          );
        if (err instanceof RespaldoError) throw err;
        throw new RespaldoError(
          'failed',
          `Could not write the backup for SQL Server to ${localPath}: ${(err as Error).message}`,
          localDirHint(s),
        );
      }

      const drill = req.target.kind === 'side-by-side' && req.target.scratch === true;
      const checks: DrillCheck[] = [];
      for (const st of planBeforeRestore(serverPath, { drill })) {
        try {
          await session.run(st, undefined);
        } catch (err) {
          if (!(err instanceof RespaldoError) || ctx.signal.aborted) throw err;
          throw new VerifyError(
            `RESTORE VERIFYONLY rejected the stored backup of ${req.db.name}: ${err.message}`,
            'This set does not restore: use another set (`respaldo list`), and back the database up again.',
            err.details,
          );
        }
        checks.push({ name: 'RESTORE VERIFYONLY', ok: true, detail: 'WITH CHECKSUM' });
      }
      const files = await session.fileList(serverPath);
      const moves = planMoves(files, { live, setId: req.setId, token, ...dirs, pathStyle: server.pathStyle });
      checkAborted(ctx.signal, 'the restore');
      tempCreated = true;
      const continueAfterError = req.entry.details.continueAfterError === true;
      const restoreProgress = progressTo(ctx, req.db.name, 'SQL Server RESTORE', req.entry.rawBytes || null);
      const recovery = steps.length === 1;
      await session.run(restoreStatement(temp, serverPath, moves, { continueAfterError, recovery }), restoreProgress);
      for (const [i, step] of steps.entries()) {
        if (i === 0) continue;
        const file = restoreFileName(live, step.setId, `${token}-${i}`);
        const stepLocal = join(s.localBackupDir, file);
        const stepServer = joinServerPath(s.serverBackupDir, file, server.pathStyle);
        try {
          await copyForServer(step.openPart('main'), stepLocal, s, ctx);
          for (const st of planBeforeRestore(stepServer, { drill })) {
            await session.run(st, undefined).catch((err: unknown) => {
              if (!(err instanceof RespaldoError) || ctx.signal.aborted) throw err;
              throw new VerifyError(
                `RESTORE VERIFYONLY rejected the stored backup of ${req.db.name} in set ${step.setId}: ${err.message}`,
                'This chain does not restore: use an earlier set (`respaldo list`), and back the database up again.',
                err.details,
              );
            });
            checks.push({ name: `RESTORE VERIFYONLY (${step.setId})`, ok: true, detail: 'WITH CHECKSUM' });
          }
          checkAborted(ctx.signal, 'the restore');
          const last = i === steps.length - 1;
          const kind = step.kind === 'log' ? 'log' : 'differential';
          const st = chainStepStatement({
            target: temp,
            serverPath: stepServer,
            kind,
            last,
            stopAt: last ? stopAt : null,
          });
          const stepProgress = progressTo(ctx, req.db.name, `SQL Server RESTORE ${kind}`, step.entry.rawBytes || null);
          await session.run(st, stepProgress);
        } finally {
          await removeQuietly(stepLocal, ctx);
        }
      }
      if (continueAfterError) {
        ctx.reporter.emit({
          type: 'warning',
          item: req.db.name,
          message:
            `${live} was restored WITH CONTINUE_AFTER_ERROR from a safety copy of a damaged database: ` +
            'the damage is restored too. Run DBCC CHECKDB on it.',
        });
      }

      // RESTORE … WITH CHECKSUM proved the pages; row counts from sys.partitions are estimates
      // (and the backup may have been taken while the database was written): a difference warns.
      const tables = await session.rowCounts(temp);
      // Stopped inside a log backup (STOPAT): the counts recorded at its end are of a later point.
      const diffs = stopAt ? [] : compareRowCounts(req.entry.tables, tables);
      if (diffs.length > 0) {
        const shown = diffs.slice(0, 10).join('; ') + (diffs.length > 10 ? `; … ${diffs.length - 10} more` : '');
        const why = Array.isArray(req.entry.details.rowCountsDrift) ? ` (${WRITTEN_DURING})` : '';
        const message = `Row counts of ${live} differ from the manifest's estimates${why}: ${shown}`;
        ctx.reporter.emit({ type: 'warning', item: req.db.name, message });
      }
      checkAborted(ctx.signal, 'the swap');

      const liveExists = liveInfo !== null;
      if (inPlace && liveExists) await ensureNoSessions(session, server, live, req.terminateConnections);
      try {
        journalPath = await writeJournal(s.localBackupDir, { ...journal, phase: 'swapping' });
      } catch (err) {
        throw new RespaldoError(
          'failed',
          `Could not update the restore journal in ${s.localBackupDir}: ${(err as Error).message}; the live database was not touched.`,
          localDirHint(s),
        );
      }
      const swap = await executeSwap(session, ctx, req.db.name, {
        live,
        setId: req.setId,
        liveExists,
        terminateConnections: req.terminateConnections,
      });
      tempCreated = false;
      const recorded = recordedSettings(req.entry.details);
      if (inPlace && recorded) await putSettingsBack(session, ctx, req.db.name, live, recorded, swap.safety);
      return {
        ...(swap.safety ? { safetyDatabase: swap.safety } : {}),
        tables,
        restoredTo: live,
        ...(checks.length ? { preChecks: checks } : {}),
      };
    } catch (caught) {
      let err = caught;
      if (err instanceof RespaldoError && ((err.details?.sqlErrors as number[] | undefined) ?? []).includes(33111)) {
        const tde = req.entry.details.tde as { certificate?: string | null; thumbprint?: string | null } | undefined;
        err = new RespaldoError(
          'failed',
          `${err.message.replace(/\.$/, '')}. The backup of ${live} is encrypted with TDE` +
            `${tde?.certificate ? ` under certificate "${tde.certificate}"` : ''}` +
            `${tde?.thumbprint ? ` (thumbprint ${tde.thumbprint})` : ''}; the live database was not touched.`,
          `Restore the certificate${tde?.certificate ? ` "${tde.certificate}"` : ''} into master on ${where(s)} ` +
            "from its backup (CREATE CERTIFICATE … FROM FILE = '…cer' WITH PRIVATE KEY (FILE = '…pvk', " +
            "DECRYPTION BY PASSWORD = '…')), then run the restore again. See docs/sqlserver.md (TDE).",
          err.details,
        );
      }
      if (err instanceof SwapBrokenError) clean = false;
      if (tempCreated) {
        try {
          await session.run(dropIfExistsStatement(temp), undefined, false);
        } catch (dropErr) {
          clean = false;
          ctx.reporter.emit({
            type: 'warning',
            item: req.db.name,
            message: `Could not drop the temporary database ${temp}: ${(dropErr as Error).message}. respaldo removes it on the next restore, or drop it yourself.`,
          });
        }
      }
      throw err;
    } finally {
      await removeQuietly(localPath, ctx);
      if (journalPath && clean) await removeQuietly(journalPath, ctx);
      await session.close();
    }
  }

  async function ensureNoSessions(
    session: Session,
    server: ServerInfo,
    live: string,
    terminate: boolean,
  ): Promise<void> {
    if (terminate) return;
    if (!server.canViewServerState) {
      throw new RefusedError(
        `Cannot tell whether other sessions use "${live}": the login lacks the VIEW SERVER STATE permission.`,
        'Run again with --terminate-connections to close any sessions on the database during the swap, or grant VIEW SERVER STATE to the login.',
      );
    }
    const users = await session.sessions(live);
    if (users.length > 0) {
      throw new RefusedError(
        `Database "${live}" is in use by ${users.length} session(s): ${users.slice(0, 5).join(', ')}${users.length > 5 ? ', …' : ''}.`,
        'Stop the applications that use it, or run again with --terminate-connections to close their sessions (open transactions are rolled back).',
      );
    }
  }

  /**
   * Runs the swap of `incoming` (the temporary database, or a safety copy swapped back) into place.
   * Steps that lose their lock to another connection are retried (SWAP_ATTEMPTS). On a failure it
   * puts the old live database back under its name; in every case it sets the old live database
   * back to MULTI_USER.
   */
  async function executeSwap(
    session: Session,
    ctx: DriverContext,
    item: string,
    opts: { live: string; setId: string; liveExists: boolean; terminateConnections: boolean; incoming?: string },
  ): Promise<{ safety: string | null }> {
    const plan = planSwap(opts);
    if (!opts.liveExists) {
      for (const st of plan.steps) await session.run(st, undefined, false, true);
      return { safety: null };
    }
    let stage: 'none' | 'single-user-attempted' | 'live-renamed' | 'done' = 'none';
    try {
      stage = 'single-user-attempted';
      await session.run(plan.steps[0]!, undefined, false, true);
      stage = 'live-renamed';
      await session.run(plan.steps[1]!, undefined, false, true);
      stage = 'done';
      return { safety: plan.safety };
    } catch (err) {
      if (stage === 'live-renamed') {
        try {
          await session.run(plan.rollbackRename!, undefined, false, true);
          stage = 'single-user-attempted';
        } catch (rollbackErr) {
          throw new SwapBrokenError(
            'failed',
            `The swap failed (${(err as Error).message}) and renaming the previous database back failed too (${(rollbackErr as Error).message}). The previous database is intact as "${plan.safety}".`,
            `Run: ALTER DATABASE ${quoteName(plan.safety!)} MODIFY NAME = ${quoteName(opts.live)}; ALTER DATABASE ${quoteName(opts.live)} SET MULTI_USER; (respaldo also does this on the next restore).`,
          );
        }
      }
      throw err;
    } finally {
      if (stage !== 'none') {
        const renamed = stage === 'done' ? plan.finallyAfterSwap! : multiUserStatement(plan.safety!, true);
        const st = stage === 'done' || stage === 'live-renamed' ? renamed : plan.finallyBeforeRename!;
        try {
          await session.run(st, undefined, false, true);
        } catch (muErr) {
          ctx.reporter.emit({
            type: 'warning',
            item,
            message: `Could not set the database back to MULTI_USER (${(muErr as Error).message}). Run: ${st.sql}`,
          });
        }
      }
    }
  }

  /**
   * After an in-place swap: gives the new live database the settings recorded at backup time
   * (RESTORE resets TRUSTWORTHY and the owner, and may leave Service Broker off). Each setting that
   * cannot be put back is a warning naming it and the statement to run; the restore stands.
   */
  async function putSettingsBack(
    session: Session,
    ctx: DriverContext,
    item: string,
    live: string,
    recorded: DbSettings,
    safety: string | null,
  ): Promise<void> {
    let current: DbInfo | null;
    try {
      current = await session.databaseInfo(live);
    } catch (err) {
      const message =
        `Could not read the settings of ${live} after the restore (${(err as Error).message}); ` +
        'owner, TRUSTWORTHY and Service Broker were not checked.';
      ctx.reporter.emit({ type: 'warning', item, message });
      return;
    }
    if (!current) return;
    const failed: string[] = [];
    for (const step of planSettings(live, recorded, current.settings, safety)) {
      try {
        await session.run(step.statement, undefined, false, true);
        ctx.log(`sqlserver: put back ${step.setting} = ${step.value} on ${live}`);
      } catch (err) {
        failed.push(`${step.setting} ${step.value} (${(err as Error).message}; run: ${step.statement.sql})`);
      }
    }
    if (failed.length > 0) {
      const message = `Restored ${live}, but could not put back: ${failed.join('; ')}`;
      ctx.reporter.emit({ type: 'warning', item, message });
    }
  }

  async function swapBack(req: SwapBackRequest, ctx: DriverContext): Promise<RestoreResult> {
    const s = resolveSettings(req.db);
    const live = s.database;
    checkTargetName(live);
    const parsed = parseStagingName(req.safetyName, live);
    if (!parsed || parsed.kind !== 'safety') {
      throw new RefusedError(
        `"${req.safetyName}" is not a safety copy of ${live} made by respaldo; nothing was changed.`,
        `Only databases named ${live}__pre_restore_<set id> are swapped back.`,
      );
    }
    const { safety: newSafety } = stagingNames(live, req.setId);
    if (newSafety === req.safetyName) {
      const hint = 'Roll back with the pre_restore set that lists this database.';
      throw new RefusedError(`The safety copy "${req.safetyName}" cannot replace itself.`, hint);
    }
    await checkLocalDir(s);
    const session = await open(s, ctx, `swap ${req.safetyName} back in as ${live}`);
    session.interruptedNote = `"${live}" and "${req.safetyName}" keep their names`;
    let journalPath: string | null = null;
    let clean = true;
    try {
      const server = await session.serverInfo();
      refuseEdition(server, s);
      const kept = await session.databaseInfo(req.safetyName);
      if (!kept) {
        throw new RespaldoError(
          'failed',
          `The safety copy "${req.safetyName}" no longer exists on ${where(s)}; there is nothing to roll back to.`,
          `Restore an earlier backup set instead (respaldo list --db ${req.db.name}).`,
        );
      }
      if (kept.state && kept.state !== 'ONLINE') {
        const message = `The safety copy "${req.safetyName}" is ${kept.state}, not ONLINE; it was not swapped in.`;
        throw new RespaldoError('failed', message, 'Bring it online (ask the DBA), then roll back again.');
      }
      const liveInfo = await session.databaseInfo(live);
      refuseAvailabilityGroup(liveInfo, s, 'a rollback by renaming');
      refuseAvailabilityGroup(kept, s, 'a rollback by renaming');
      if (liveInfo && (await session.databaseInfo(newSafety))) {
        throw new RefusedError(
          `"${newSafety}" exists already: this set was rolled back before and that copy is still kept.`,
          `Drop it (DROP DATABASE ${quoteName(newSafety)}) once you no longer need it, then roll back again.`,
        );
      }
      if (liveInfo) await ensureNoSessions(session, server, live, req.terminateConnections);
      checkAborted(ctx.signal, 'the rollback');
      const journal: Journal = {
        tool: 'respaldo',
        config: req.db.name,
        live,
        temp: req.safetyName,
        safety: liveInfo ? newSafety : null,
        setId: req.setId,
        kind: 'swap-back',
        phase: 'swapping',
        bakFile: '',
        startedAt: new Date().toISOString(),
      };
      try {
        journalPath = await writeJournal(s.localBackupDir, journal);
      } catch (err) {
        const why = (err as Error).message;
        const message = `Could not write the swap journal in ${s.localBackupDir}: ${why}; nothing was changed.`;
        throw new RespaldoError('failed', message, localDirHint(s));
      }
      const swap = await executeSwap(session, ctx, req.db.name, {
        live,
        setId: req.setId,
        liveExists: liveInfo !== null,
        terminateConnections: req.terminateConnections,
        incoming: req.safetyName,
      });
      if (kept.userAccess && kept.userAccess !== 'MULTI_USER') {
        const st = multiUserStatement(live, true);
        try {
          await session.run(st, undefined, false, true);
        } catch (err) {
          const message = `${live} is back but still ${kept.userAccess} (${(err as Error).message}). Run: ${st.sql}`;
          ctx.reporter.emit({ type: 'warning', item: req.db.name, message });
        }
      }
      const tables = await session.rowCounts(live).catch(() => null);
      return { ...(swap.safety ? { safetyDatabase: swap.safety } : {}), tables, restoredTo: live };
    } catch (err) {
      if (err instanceof SwapBrokenError) clean = false;
      throw err;
    } finally {
      if (journalPath && clean) await removeQuietly(journalPath, ctx);
      await session.close();
    }
  }

  async function recover(db: DatabaseConfig, ctx: DriverContext): Promise<string[]> {
    const s = resolveSettings(db);
    const journals = await readJournals(s.localBackupDir, db.name, ctx);
    const session = await open(s, ctx, `check ${s.database} for an interrupted restore`);
    const actions: string[] = [];
    try {
      const rows = await session.run(listDatabasesStatement(), undefined, false);
      const dbs = new Map(rows.map((r) => [String(r.name), { state: str(r.state), userAccess: str(r.userAccess) }]));
      const lives = new Set<string>([s.database, ...journals.map((j) => j.journal.live)]);
      for (const live of lives) {
        if (nameProblem(live)) continue;
        const mine = journals.filter((j) => j.journal.live === live);
        const bySet = new Map<string, { temp?: string; safety?: string }>();
        for (const name of dbs.keys()) {
          const parsed = parseStagingName(name, live);
          if (!parsed) continue;
          const entry = bySet.get(parsed.setId) ?? {};
          entry[parsed.kind] = name;
          bySet.set(parsed.setId, entry);
        }
        const run = async (st: Statement, line: string): Promise<void> => {
          await session.run(st, undefined, false, true);
          actions.push(line);
        };
        // A rollback (swap back) cut in the middle: the operator asked for the kept copy, which is
        // intact, so the swap is finished; when it had not started, only MULTI_USER is put back.
        const handled = new Set<string>();
        for (const { journal: j } of mine.filter((x) => x.journal.kind === 'swap-back')) {
          const incoming = j.temp;
          const kept = parseStagingName(incoming, live);
          if (kept) handled.add(kept.setId);
          if (j.safety) handled.add(j.setId);
          if (!dbs.has(live) && dbs.has(incoming)) {
            const replaced = j.safety && dbs.has(j.safety) ? ` (the database it replaces is kept as ${j.safety})` : '';
            const line = `finished an interrupted rollback: renamed the safety copy ${incoming} to ${live}${replaced}`;
            await run(renameStatement(incoming, live), line);
            dbs.set(live, dbs.get(incoming)!);
            dbs.delete(incoming);
          } else if (dbs.get(live)?.userAccess === 'SINGLE_USER' && dbs.has(incoming)) {
            const line = `set ${live} back to MULTI_USER (an interrupted rollback had not renamed it yet)`;
            await run(multiUserStatement(live, true), line);
          }
          if (j.safety && dbs.get(j.safety)?.userAccess === 'SINGLE_USER') {
            await run(multiUserStatement(j.safety, true), `set the safety copy ${j.safety} back to MULTI_USER`);
          }
        }
        const orphanSafeties = [...bySet].filter(([id, f]) => !handled.has(id) && f.safety && !f.temp);
        const orphanNames = orphanSafeties.map(([, f]) => f.safety!);
        if (!dbs.has(live) && orphanSafeties.length > 1 && ![...bySet.values()].some((f) => f.temp)) {
          throw new RespaldoError(
            'failed',
            `"${live}" is missing and ${orphanNames.length} safety copies exist (${orphanNames.join(', ')}); ` +
              'respaldo cannot tell which one was live last (its journal is gone). Nothing was changed.',
            `Rename the one you want back by hand: ALTER DATABASE [<safety copy>] MODIFY NAME = ${quoteName(live)}; ` +
              `ALTER DATABASE ${quoteName(live)} SET MULTI_USER;`,
          );
        }
        for (const [setId, found] of bySet) {
          if (handled.has(setId)) continue;
          const phase = mine.find((j) => j.journal.setId === setId)?.journal.phase ?? null;
          const liveRow = dbs.get(live);
          if (found.safety) {
            if (!liveRow && found.temp) {
              await run(
                renameStatement(found.temp, live),
                `finished an interrupted swap: renamed the restored database ${found.temp} to ${live} (previous database kept as ${found.safety})`,
              );
              dbs.set(live, dbs.get(found.temp)!);
              dbs.delete(found.temp);
            } else if (!liveRow) {
              await run(
                renameStatement(found.safety, live),
                `rolled back an interrupted swap: renamed ${found.safety} back to ${live}`,
              );
              await run(multiUserStatement(live), `set ${live} back to MULTI_USER`);
              dbs.set(live, { state: 'ONLINE', userAccess: 'MULTI_USER' });
              continue;
            } else if (found.temp) {
              await run(dropIfExistsStatement(found.temp), `dropped the leftover temporary database ${found.temp}`);
            }
            if (dbs.get(found.safety)?.userAccess === 'SINGLE_USER') {
              const line = `set the safety copy ${found.safety} back to MULTI_USER`;
              await run(multiUserStatement(found.safety, true), line);
            }
          } else if (found.temp) {
            if (!liveRow && phase === 'swapping' && dbs.get(found.temp)?.state === 'ONLINE') {
              await run(
                renameStatement(found.temp, live),
                `finished an interrupted restore: renamed the verified database ${found.temp} to ${live}`,
              );
            } else {
              await run(
                dropIfExistsStatement(found.temp),
                `rolled back an interrupted restore: dropped the temporary database ${found.temp}${liveRow ? ` (${live} was not touched)` : ''}`,
              );
              if (liveRow?.userAccess === 'SINGLE_USER' && phase === 'swapping')
                await run(multiUserStatement(live), `set ${live} back to MULTI_USER`);
            }
          }
        }
        // Drills hold the folder lock, and recover runs under it: a scratch database found now is a dead drill's.
        for (const name of [...dbs.keys()].filter((n) => parseDrillName(n, live) !== null)) {
          const line = `dropped "${name}" (the scratch database of an interrupted restore drill)`;
          await run(planDrillChecks(name).drop, line);
        }
        let leftovers: string[] = [];
        try {
          leftovers = (await fsp.readdir(s.localBackupDir)).filter(
            (n) => n.startsWith(restoreFilePrefix(live)) && n.endsWith('.bak'),
          );
        } catch {
          leftovers = [];
        }
        for (const n of leftovers)
          if ((await removeQuietly(join(s.localBackupDir, n), ctx)) === null)
            actions.push(`removed the leftover restore file ${join(s.localBackupDir, n)}`);
        for (const j of mine)
          if ((await removeQuietly(j.path, ctx)) === null) actions.push(`removed the restore journal ${j.path}`);
      }
      return actions;
    } finally {
      await session.close();
    }
  }

  /** Read-only: what interrupted restores and rollbacks left for `db` (see Driver.findLeftovers). */
  async function findLeftovers(db: DatabaseConfig): Promise<string[]> {
    const s = resolveSettings(db);
    const journals = await readJournals(s.localBackupDir, db.name, quietCtx);
    const session = await open(s, quietCtx, `check ${s.database} for an interrupted restore`);
    const lines: string[] = [];
    const how = `respaldo recovers it at the start of the next restore or backup of ${db.name}`;
    try {
      const rows = await session.run(listDatabasesStatement(), undefined, false);
      const dbs = new Map(rows.map((r) => [String(r.name), { userAccess: str(r.userAccess) }]));
      const lives = new Set<string>([s.database, ...journals.map((j) => j.journal.live)]);
      for (const live of lives) {
        if (nameProblem(live)) continue;
        const safeties: string[] = [];
        for (const [name, row] of dbs) {
          const parsed = parseStagingName(name, live);
          if (parsed?.kind === 'temp') {
            lines.push(`temporary database "${name}" left by an interrupted restore of ${live}; ${how}`);
          }
          if (parseDrillName(name, live) !== null) {
            const drop = `the next respaldo create, restore or drill of ${db.name} drops it`;
            lines.push(`scratch database "${name}" left by an interrupted restore drill of ${live}; ${drop}`);
          }
          if (parsed?.kind === 'safety') {
            safeties.push(name);
            if (row.userAccess === 'SINGLE_USER') {
              lines.push(`safety copy "${name}" is still SINGLE_USER after an interrupted swap; ${how}`);
            }
          }
        }
        if (!dbs.has(live) && safeties.length > 0) {
          lines.push(
            `"${live}" is missing: a swap was cut in the middle (kept: ${safeties.join(', ')}); ` +
              `run respaldo restore (or respaldo create) for ${db.name} to finish or undo it`,
          );
        } else if (dbs.get(live)?.userAccess === 'SINGLE_USER' && journals.some((j) => j.journal.live === live)) {
          lines.push(`"${live}" is still SINGLE_USER after an interrupted swap; ${how}`);
        }
        let files: string[] = [];
        try {
          const prefix = restoreFilePrefix(live);
          files = (await fsp.readdir(s.localBackupDir)).filter((n) => n.startsWith(prefix) && n.endsWith('.bak'));
        } catch {
          files = [];
        }
        for (const n of files) {
          lines.push(`restore file ${join(s.localBackupDir, n)} left by an interrupted restore; ${how}`);
        }
      }
      for (const { path, journal: j } of journals) {
        const what = j.kind === 'swap-back' ? 'rollback' : 'restore';
        lines.push(`journal ${path} of an interrupted ${what} of ${j.live} (set ${j.setId}, ${j.phase}); ${how}`);
      }
      return lines;
    } finally {
      await session.close();
    }
  }

  const driver = {
    engine: 'sqlserver',
    types: ['full', 'differential', 'incremental'],
    chains: ['differential', 'incremental'],

    chainFallback(db: DatabaseConfig, type: ChainType): string | null {
      return db.chain === true ? null : noChainReason(db.name, type);
    },
    safety: 'renamed-database',
    capabilities: CAPABILITIES.sqlserver,

    validateConfig(db: DatabaseConfig): ConfigProblem[] {
      return validate(db);
    },

    describe(db: DatabaseConfig): string {
      const { values: v } = merged(db);
      const server =
        typeof v.server === 'string' && v.server
          ? where({ server: v.server, port: v.port, instance: v.instance })
          : '(no server)';
      return `SQL Server database "${v.database ?? '?'}" on ${server}${v.user ? ` as ${v.user}` : ''}`;
    },

    backup,

    planRestore(req): RestoreStepPlan {
      const s = resolveSettings(req.db);
      const live = targetName(s, req.target);
      checkTargetName(live);
      const { temp, safety } = stagingNames(live, req.setId);
      const inPlace = req.target.kind === 'in-place';
      const on = where(s);
      const kept = req.entry.safetyDatabase;
      if (kept && !req.entry.file) {
        if (!inPlace) {
          throw new RespaldoError(
            'usage',
            `"${kept}" is a safety copy kept on the server; it can only be swapped back in place, not with --to.`,
            `Run without --to to roll back ${live}, or copy the database on the server yourself.`,
          );
        }
        const steps = [
          phrase('mssql.swapBackCheck', { kept, live }),
          phrase('mssql.setAsideBatch', { live, safety }),
          phrase('mssql.swapBackRename', { kept, live, safety }),
          phrase('mssql.swapBackNoLive', { kept, live }),
        ];
        const rollback = phrase('mssql.rollbackSwapBack', { safety, live });
        return {
          database: req.entry.name,
          target: `database "${live}" on ${on}`,
          replaces: true,
          staging: `database "${kept}" (the safety copy, swapped in as it is)`,
          safety: { kind: 'renamed-database', name: safety },
          steps: steps.map(english),
          stepPhrases: steps,
          rollback: english(rollback),
          rollbackPhrase: rollback,
        };
      }
      const steps = [phrase('mssql.writeBak', { local: s.localBackupDir, server: s.serverBackupDir })];
      steps.push(phrase(req.entry.base ? 'mssql.restoreChain' : 'mssql.restore', { temp }));
      if (req.entry.details.continueAfterError === true) steps.push(phrase('mssql.continueAfterError'));
      steps.push(phrase('mssql.countsEstimate'));
      if (inPlace) {
        steps.push(phrase('mssql.setAsideBatch', { live, safety }), phrase('mssql.rename', { temp, live }));
        steps.push(phrase('mssql.multiUser', { safety }));
        if (recordedSettings(req.entry.details)) steps.push(phrase('mssql.settings'));
      } else steps.push(phrase('mssql.renameSide', { temp, live }), phrase('mssql.removeBak'));
      const rollback = inPlace
        ? phrase('mssql.rollbackInPlace', { safety, live, temp, qSafety: quoteName(safety), qLive: quoteName(live) })
        : phrase('mssql.rollbackSide', { live, qLive: quoteName(live) });
      return {
        database: req.entry.name,
        target: `database "${live}" on ${on}`,
        replaces: inPlace,
        staging: `database "${temp}"`,
        safety: inPlace
          ? { kind: 'renamed-database', name: safety }
          : { kind: 'none', reason: 'side-by-side restore into a new database replaces nothing' },
        steps: steps.map(english),
        stepPhrases: steps,
        rollback: english(rollback),
        rollbackPhrase: rollback,
      };
    },

    async inspectTarget(db: DatabaseConfig, target: RestoreTarget): Promise<TargetState> {
      const s = resolveSettings(db);
      const name = targetName(s, target);
      checkTargetName(name);
      const session = await open(s, quietCtx, `inspect ${name}`);
      try {
        const info = await session.databaseInfo(name);
        if (!info) return { exists: false, sizeBytes: null, inUseBy: [] };
        const server = await session.serverInfo();
        const inUseBy = server.canViewServerState
          ? await session.sessions(name)
          : ['unknown sessions (the login lacks VIEW SERVER STATE, so other sessions cannot be listed)'];
        return { exists: true, sizeBytes: info.sizeBytes, inUseBy };
      } finally {
        await session.close();
      }
    },

    restore,
    recover,
    swapBack,
    findLeftovers,

    scratchName(db: DatabaseConfig, setId: string): string {
      return drillName(resolveSettings(db).database, setId);
    },

    async dropScratch(db: DatabaseConfig, name: string, ctx: DriverContext): Promise<void> {
      const s = resolveSettings(db);
      if (parseDrillName(name, s.database) === null) {
        throw new RefusedError(
          `"${name}" is not a drill's scratch database of ${s.database}; it was not dropped.`,
          `Only databases named ${s.database}__drill_<set id> are dropped by a drill.`,
        );
      }
      const session = await open(s, ctx, `drop ${name}`);
      try {
        await session.run(planDrillChecks(name).drop, undefined, false, true);
      } finally {
        await session.close();
      }
    },

    async drillChecks(db: DatabaseConfig, restoredTo: string, ctx: DriverContext): Promise<DrillCheck[]> {
      const s = resolveSettings(db);
      const session = await open(s, ctx, `check ${restoredTo}`);
      try {
        await session.run(planDrillChecks(restoredTo).checkdb, undefined, true);
        return [{ name: 'DBCC CHECKDB', ok: true, detail: 'no errors' }];
      } catch (err) {
        if (ctx.signal.aborted || !(err instanceof RespaldoError)) throw err;
        return [{ name: 'DBCC CHECKDB', ok: false, detail: err.message }];
      } finally {
        await session.close();
      }
    },

    async dropSafetyCopy(db: DatabaseConfig, name: string): Promise<void> {
      const s = resolveSettings(db);
      const parsed = parseStagingName(name, s.database);
      if (!parsed || parsed.kind !== 'safety') {
        throw new RefusedError(
          `"${name}" is not a safety copy of ${s.database} made by respaldo; it was not dropped.`,
          `Only databases named ${s.database}__pre_restore_<set id> are dropped by respaldo.`,
        );
      }
      const session = await open(s, quietCtx, `drop ${name}`);
      try {
        for (const st of dropSafetyCopyStatements(name)) await session.run(st, undefined, false, true);
      } finally {
        await session.close();
      }
    },
  } satisfies Driver;
  return driver;
}

/** The SQL Server driver (mssql). */
export const sqlserverDriver: Driver = createSqlServerDriver();
