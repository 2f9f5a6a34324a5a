import { constants as fsc, createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { RespaldoError } from '../../core/errors.js';
import type { BackupRequest, BackupSession, DriverContext, DumpFacts, OpenedDump } from '../driver.js';
import { planBackup, supportsBackupCompression, type BackupPlan } from './plan.js';
import {
  afterBackupProblem,
  chainBackupStatement,
  decideBackup,
  headerOf,
  type ChainBackupDecision,
} from './chain-plan.js';
import { readChainState, readHeader } from './chain.js';
import { resolveSettings, where } from './config.js';
import { checkLocalDir, localDirHint } from './errors.js';
import {
  checkAborted,
  compareRowCounts,
  fileToken,
  num,
  progressTo,
  readTde,
  removeQuietly,
  WRITTEN_DURING,
} from './session.js';

import { type OpenSession, refuseEdition } from './server.js';
import { english, phrase, said } from '../../core/phrases.js';

/**
 * SQL Server backup: BACKUP DATABASE (full, or DIFFERENTIAL / LOG of a native chain) to the shared folder,
 * then read from it.
 */

export async function backupSqlServer(
  open: OpenSession,
  req: BackupRequest,
  ctx: DriverContext,
): Promise<BackupSession> {
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
      const certificate = tde.certificate ?? '';
      ctx.reporter.emit({ type: 'warning', item: req.db.name, ...said('mssql.tde', { db: s.database, certificate }) });
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
        ctx.reporter.emit({ type: 'warning', item: req.db.name, ...said('mssql.noCompression', { db: s.database }) });
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
        const rejected = { db: s.database, error: verifyError };
        ctx.reporter.emit({ type: 'warning', item: req.db.name, ...said('mssql.verifyRejectedKept', rejected) });
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
        const broken = { kind: decision.kind, db: s.database, path: made.plan.serverPath, problem };
        ctx.reporter.emit({ type: 'warning', item: req.db.name, ...said('mssql.chainBroken', broken) });
        await removeQuietly(localPath!, ctx);
        const why = phrase('fallback.mssqlBroken', { problem });
        decision = { kind: 'full', copyOnly: false, fallback: english(why), fallbackPhrase: why };
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
        cdcEnabled: info.cdcEnabled,
        ...(info.published ? { published: true } : {}),
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
      ...(req.base && decision.fallback
        ? {
            fellBack: decision.fallback,
            ...(decision.fallbackPhrase ? { fellBackPhrase: decision.fallbackPhrase } : {}),
          }
        : {}),
      async cleanup(): Promise<void> {
        const problem = await removeQuietly(path, ctx);
        if (problem) ctx.reporter.emit({ type: 'warning', item: req.db.name, ...said('mssql.fileLeft', { problem }) });
      },
    };
  } catch (err) {
    await session.close();
    if (localPath) await removeQuietly(localPath, ctx);
    throw err;
  }
}
