import type { ChildProcess } from 'node:child_process';
import { RespaldoError } from '../../core/errors.js';
import type { BackupType } from '../../core/types.js';
import { spawnStreaming, type StreamingChild } from '../../exec/spawn.js';
import { baseContents, ChainMapRecorder, chainMapPart } from './chain.js';
import type { BackupSession, DriverContext, DumpFacts, DumpPart, OpenedDump } from '../driver.js';
import { type PgConnection } from './config.js';
import {
  childEnv,
  lockWaitTimeout,
  missingToolHint,
  pgDumpArgs,
  pgDumpallGlobalsArgs,
  quoteLiteral,
  type Relation,
} from './args.js';
import { clientTooOld, describeLeftovers, serverMajor } from './plan.js';
import type { BackupRequest } from '../driver.js';
import { type PgQueryable, type PgErrorLike, type PgServer, where, pgError, connectionOf } from './connection.js';
import { toolVersion, commandDone, killChild } from './tools.js';
import {
  type ServerInfo,
  listPartitioned,
  listTables,
  countRows,
  estimateRows,
  readServerInfo,
  databaseNames,
} from './catalog.js';
import { type BackupRun, type NoSnapshot, openDirectoryDump } from './backup-directory.js';
import { said } from '../../core/phrases.js';

/**
 * PostgreSQL backup: pg_dump from an exported snapshot whose row counts are taken in the same transaction
 * (the directory dump itself is in backup-directory.ts), and pg_dumpall --globals-only when asked.
 */

/** pg_dump of one database (custom or directory format), optional pg_dumpall globals. */
export async function backupPg(pg: PgServer, req: BackupRequest, ctx: DriverContext): Promise<BackupSession> {
  // A differential or incremental stores only the data files whose bytes its base chain lacks.
  const delta = req.base ? await baseContents(req.base, ctx.signal) : undefined;
  const known = delta && 'known' in delta ? delta.known : undefined;
  const contents = new ChainMapRecorder();
  const conn = connectionOf(req.db);
  const secrets = conn.password ? [conn.password] : [];
  const type: BackupType = req.type;
  const client = await openForBackup(pg, conn, req.db.name);
  const children = new Set<ChildProcess>();
  let clientEnded = false;
  const endClient = async () => {
    if (clientEnded) return;
    clientEnded = true;
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
  };

  let info: ServerInfo;
  let dumpBin: string;
  let dumpVersion: { major: number; version: string };
  let dumpallBin: string | undefined;
  let dumpallVersion: { major: number; version: string } | undefined;
  try {
    try {
      info = await readServerInfo(client);
    } catch (err) {
      throw pgError(err, conn, conn.database, 'reading the server version');
    }
    const major = serverMajor(info.versionNum);
    dumpBin = await pg.resolveTool('pg_dump', req.db);
    dumpVersion = await toolVersion(dumpBin, 'pg_dump');
    const old = clientTooOld('pg_dump', dumpVersion.major, major);
    if (old)
      throw new RespaldoError(
        'failed',
        `Database ${req.db.name}: ${old} (${dumpBin} is ${dumpVersion.version}, the server is ${info.version}).`,
        missingToolHint('pg_dump'),
      );
    if (req.db.globals) {
      dumpallBin = await pg.resolveTool('pg_dumpall', req.db);
      dumpallVersion = await toolVersion(dumpallBin, 'pg_dumpall');
      const oldAll = clientTooOld('pg_dumpall', dumpallVersion.major, major);
      if (oldAll)
        throw new RespaldoError('failed', `Database ${req.db.name}: ${oldAll}`, missingToolHint('pg_dumpall'));
    }
  } catch (err) {
    await endClient();
    throw err;
  }
  ctx.log('postgres backup', { server: info.version, pgDump: dumpVersion.version, sizeBytes: info.sizeBytes });

  const baseDetails = {
    host: conn.host ?? null,
    port: conn.port ?? 5432,
    database: conn.database,
    user: conn.user ?? null,
    serverVersion: info.version,
    serverVersionNum: info.versionNum,
    pgDumpVersion: dumpVersion.version,
    databaseSizeBytes: info.sizeBytes,
    properties: info.props,
    referencedRoles: info.referencedRoles,
  };

  const lockWait = lockWaitTimeout(req.db.lockWaitTimeout) ?? undefined;
  /**
   * Opens the read-only repeatable-read transaction whose snapshot pg_dump (and the row counts)
   * share; row counts wait for table locks no longer than pg_dump does. Without a snapshot the dump
   * still runs, with a warning saying `without` what.
   */
  const exportSnapshot = async (without: NoSnapshot): Promise<string | undefined> => {
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      if (lockWait) await client.query(`SET LOCAL lock_timeout = ${quoteLiteral(lockWait)}`);
      const r = await client.query('SELECT pg_export_snapshot() AS s');
      return String(r.rows[0]?.['s']);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (clientEnded) throw pgError(err, conn, conn.database, 'starting the dump');
      ctx.reporter.emit({ type: 'warning', item: req.db.name, ...said(without, { error: (err as Error).message }) });
      return undefined;
    }
  };
  const customMain: DumpPart = {
    role: 'main',
    format: 'pg-custom',
    extension: 'dump',
    compress: true,
    async open(): Promise<OpenedDump> {
      const snapshot = await exportSnapshot('pg.noSnapshotCounts');
      const args = pgDumpArgs({ conn, type, snapshot, lockWaitTimeout: lockWait });
      const child: StreamingChild = spawnStreaming({
        command: dumpBin,
        args,
        env: childEnv(conn),
        secrets,
        signal: ctx.signal,
        missingHint: missingToolHint('pg_dump'),
      });
      children.add(child.child);
      type Counted = {
        tables: Record<string, number> | null;
        relations: Relation[];
        partitioned: Relation[];
        mode: string;
      };
      const counting: Promise<Counted> = (async () => {
        const tables = await listTables(client);
        // The OID finds the table in the dump's TOC (toc.ts) even when names are ambiguous.
        const relations = tables.map((t): Relation => [t.schema, t.table, t.oid ?? 0]);
        const partitioned = await listPartitioned(client);
        if (type === 'schema') return { tables: null, relations, partitioned, mode: 'none (schema only)' };
        if (snapshot) return { tables: await countRows(client, tables), relations, partitioned, mode: 'exact' };
        return { tables: await estimateRows(client), relations, partitioned, mode: 'estimate' };
      })();
      counting.catch(() => undefined);
      const finished = (async (): Promise<DumpFacts> => {
        try {
          await commandDone(child.done, 'pg_dump', conn, `pg_dump of ${req.db.name} failed`, ctx.signal);
          let counted: Awaited<typeof counting>;
          try {
            counted = await counting;
          } catch (err) {
            throw pgError(err, conn, conn.database, 'counting rows');
          }
          return {
            tables: counted.tables,
            details: {
              ...baseDetails,
              rowCounts: counted.mode,
              snapshot: Boolean(snapshot),
              relations: counted.relations,
              partitionedTables: counted.partitioned,
              type,
            },
          };
        } finally {
          children.delete(child.child);
          await endClient();
        }
      })();
      finished.catch(() => undefined);
      return { stream: child.stdout, finished, ...(type === 'schema' ? {} : { settling: said('step.counting') }) };
    },
  };

  const run: BackupRun = {
    pg,
    req,
    ctx,
    conn,
    client,
    type,
    secrets,
    lockWait,
    dumpBin,
    dumpMajor: dumpVersion.major,
    children,
    contents,
    known,
    baseDetails,
    exportSnapshot,
    endClient,
  };
  const directoryMain: DumpPart = {
    role: 'main',
    format: 'pg-directory',
    extension: 'toc.dat',
    compress: true,
    async open(): Promise<OpenedDump> {
      return openDirectoryDump(run);
    },
  };
  const parts: DumpPart[] = [pg.format === 'custom' ? customMain : directoryMain];
  if (pg.format !== 'custom' && type !== 'schema') parts.push(chainMapPart(contents));
  if (req.db.globals && dumpallBin && dumpallVersion) {
    const bin = dumpallBin;
    const version = dumpallVersion;
    parts.push({
      role: 'globals',
      format: 'pg-globals-sql',
      extension: 'sql',
      compress: true,
      async open(): Promise<OpenedDump> {
        const rolePasswords = info.isSuperuser;
        if (!rolePasswords) {
          ctx.reporter.emit({ type: 'warning', item: req.db.name, ...said('pg.globalsNoPasswords') });
        }
        const child = spawnStreaming({
          command: bin,
          args: pgDumpallGlobalsArgs({ conn, rolePasswords }),
          env: childEnv(conn),
          secrets,
          signal: ctx.signal,
          missingHint: missingToolHint('pg_dumpall'),
        });
        children.add(child.child);
        const finished = (async (): Promise<DumpFacts> => {
          try {
            await commandDone(
              child.done,
              'pg_dumpall',
              conn,
              `pg_dumpall --globals-only for ${req.db.name} failed`,
              ctx.signal,
            );
            return { tables: null, details: { pgDumpallVersion: version.version, rolePasswords } };
          } finally {
            children.delete(child.child);
          }
        })();
        finished.catch(() => undefined);
        return { stream: child.stdout, finished };
      },
    });
  }

  return {
    parts,
    ...(delta && 'fellBack' in delta ? { fellBack: delta.fellBack, fellBackPhrase: delta.fellBackPhrase } : {}),
    async cleanup() {
      for (const c of children) killChild(c);
      children.clear();
      await endClient();
    },
  };
}

/**
 * Connects to the live database for a backup. When it does not exist because a restore was cut
 * during its swap, says so and how to finish it instead of a bare "does not exist"; when only safety copies of
 * earlier restores are there, that it was dropped or renamed, and how to put one back.
 */
async function openForBackup(pg: PgServer, conn: PgConnection, dbName: string): Promise<PgQueryable> {
  try {
    return await pg.connect(conn, conn.database);
  } catch (err) {
    if ((err as PgErrorLike).code === '3D000') {
      let found: ReturnType<typeof describeLeftovers> | undefined;
      try {
        const { client } = await pg.openMaintenance(conn, [conn.database], 'looking for an interrupted restore');
        try {
          found = describeLeftovers(conn.database, dbName, [...(await databaseNames(client))]);
        } finally {
          await client.end().catch(() => undefined);
        }
      } catch {
        found = undefined;
      }
      if (found?.liveMissing) {
        const message =
          `PostgreSQL at ${where(conn)}: database "${conn.database}" does not exist ` +
          (found.interrupted
            ? 'because a restore was interrupted.'
            : '(dropped or renamed: no interrupted restore explains it).');
        throw new RespaldoError('failed', message, found.lines.join(' '));
      }
    }
    throw pgError(err, conn, conn.database, 'connecting for the backup');
  }
}
