import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CommandError, InterruptedError, RefusedError, RespaldoError } from '../../core/errors.js';
import type { DatabaseConfig } from '../../core/types.js';
import { removeTree } from '../../core/remove-tree.js';
import { dropCreatedRolesSql } from './globals.js';
import type { TocSelection } from './toc.js';
import type {
  DriverContext,
  RestoreRequest,
  RestoreResult,
  RestoreTarget,
  TargetDisk,
  TargetState,
} from '../driver.js';
import { diskAt } from '../shared/disk.js';
import { planPgSwap, renameDatabaseSql } from './swap-plan.js';
import { firstFreeRound, roundId } from '../shared/names.js';
import { missingToolHint, pgRestoreArgs, quoteIdent, type TableRef } from './args.js';
import {
  createDatabaseSql,
  databasePropertiesSql,
  parseDerivedName,
  parseToolVersion,
  preRestoreDbName,
  selectTables,
  restoreDbName,
  type DatabaseProperties,
} from './plan.js';
import {
  type PgQueryable,
  type PgServer,
  pgError,
  connectionOf,
  postmasterStart,
  restartedUnder,
  CleanupSession,
} from './connection.js';
import type { PgConnection } from './config.js';
import { toolVersion } from './tools.js';
import {
  listTables,
  countRows,
  sessionsOn,
  databaseNames,
  dropDatabase,
  checkDatabaseName,
  refusedSessions,
  countDifferences,
  runWhenFree,
  jobsThatFit,
} from './catalog.js';
import {
  type RestoreRun,
  progress,
  createMissingRoles,
  runDirectoryRestore,
  selectFromToc,
  runRestore,
  warnTriggersOnLeftOut,
} from './restore-dump.js';
import { english, phrase, said, saidOf } from '../../core/phrases.js';

/**
 * PostgreSQL restore: pg_restore into `<name>__restore_<set>` beside the live database, row counts checked,
 * then the names swapped (swap-plan.ts); the live database survives as `<name>__pre_restore_<set>`.
 * Staging the dump files and running pg_restore are in restore-dump.ts.
 */

/** What the target of a restore looks like now: exists, its size, who is connected. */
export async function inspectPgTarget(pg: PgServer, db: DatabaseConfig, target: RestoreTarget): Promise<TargetState> {
  const conn = connectionOf(db);
  const name = target.kind === 'in-place' ? conn.database : target.name;
  const { client } = await pg.openMaintenance(conn, [name], 'inspecting the restore target');
  try {
    const names = await databaseNames(client);
    const disk = await serverDisk(client, conn);
    // What an interrupted restore or drill of this database left there, which recovery drops before the restore;
    // not one with sessions on it (a restore or drill still running from elsewhere), which recovery leaves.
    if (disk) {
      for (const n of names) {
        const kind = parseDerivedName(conn.database, n)?.kind;
        if (kind !== 'restore' && kind !== 'drill') continue;
        if ((await sessionsOn(client, n).catch(() => [])).length > 0) continue;
        const r = await client.query('SELECT pg_database_size($1::name)::bigint AS n', [n]).catch(() => null);
        disk.leftoverBytes = (disk.leftoverBytes ?? 0) + Number(r?.rows[0]?.['n'] ?? 0);
      }
    }
    // The predefined pg_* roles are on every server and never in a manifest's referencedRoles: left out.
    const roles = (await client.query("SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1")).rows.map(
      (r) => String(r['rolname']),
    );
    const onDisk = { roles, ...(disk ? { disk } : {}) };
    if (!names.has(name)) return { exists: false, sizeBytes: null, inUseBy: [], ...onDisk };
    let sizeBytes: number | null = null;
    try {
      const r = await client.query('SELECT pg_database_size($1::name)::bigint AS n', [name]);
      sizeBytes = Number(r.rows[0]?.['n']);
    } catch {
      sizeBytes = null;
    }
    const kept = [...names].filter((n) => parseDerivedName(name, n)?.kind === 'pre_restore');
    return {
      exists: true,
      sizeBytes,
      inUseBy: await sessionsOn(client, name),
      ...(target.kind === 'in-place' ? { keptSafeties: kept } : {}),
      ...onDisk,
    };
  } catch (err) {
    throw pgError(err, conn, name, 'inspecting the restore target');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The disk of the server's data folder, where a restored database is created (CREATE DATABASE copies template1,
 * in the default tablespace), when that server runs on this machine: reached on a Unix socket or a loopback
 * address, its data folder (`data_directory`, readable by a superuser or a pg_read_all_settings member) a folder
 * here, and this connection's server process a `postgres` process here (a server in a container, reached through a
 * forwarded port, has its own processes and paths). Null whenever that cannot be told: nothing is then said.
 */
export async function serverDisk(client: PgQueryable, conn: PgConnection): Promise<TargetDisk | null> {
  const host = conn.host?.split(',')[0];
  if (host && !host.startsWith('/') && !LOOPBACK.has(host)) return null;
  let row: Record<string, unknown> | undefined;
  try {
    row = (await client.query("SELECT pg_backend_pid() AS pid, current_setting('data_directory') AS dir")).rows[0];
  } catch {
    return null; // not allowed to read data_directory
  }
  const dir = String(row?.['dir'] ?? '');
  const comm = await readFile(`/proc/${Number(row?.['pid'])}/comm`, 'utf8').catch(() => '');
  if (!dir.startsWith('/') || comm.trim() !== 'postgres') return null;
  const disk = await diskAt(dir, { mustExist: true });
  return disk ? { ...disk, server: true } : null;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);

/** A restore beside the live database, checked, then swapped in; the staged dump files are removed after. */
export async function restorePg(pg: PgServer, req: RestoreRequest, ctx: DriverContext): Promise<RestoreResult> {
  const stageDir = stageDirOf(req, ctx);
  try {
    return await restoreInto(pg, req, ctx, stageDir);
  } finally {
    if (req.entry.format === 'pg-directory') await removeTree(stageDir);
  }
}

/** Scratch folder where the files of a directory dump are staged for pg_restore. */
function stageDirOf(req: Pick<RestoreRequest, 'db' | 'setId'>, ctx: DriverContext): string {
  // Unique per restore: a killed run in the same scratch folder must not collide with the next one.
  return join(ctx.scratchDir, `pg-directory-${req.db.name}-${req.setId}-${randomBytes(4).toString('hex')}`);
}

async function restoreInto(
  pg: PgServer,
  req: RestoreRequest,
  ctx: DriverContext,
  stageDir: string,
): Promise<RestoreResult> {
  const conn = connectionOf(req.db);
  const live = conn.database;
  const item = req.db.name;
  const secrets = conn.password ? [conn.password] : [];
  const staging = restoreDbName(live, req.setId);
  const directory = req.entry.format === 'pg-directory';
  const details = req.entry.details ?? {};
  let selection: TableRef[] | undefined;
  if (req.tables && req.tables.length > 0) {
    if (req.target.kind === 'in-place') {
      throw new RefusedError(
        'Restoring selected tables never replaces the live database.',
        `Give a new database name to restore them into (--to ${live}_tables).`,
      );
    }
    // The last line of defence: the plan (planPgRestore) refused a table that is not in the backup already.
    selection = selectTables(req.entry, req.tables);
  }
  const finalName = req.target.kind === 'in-place' ? live : req.target.name;
  checkDatabaseName(finalName, `Restore of ${item}`);
  const derivedTarget = parseDerivedName(live, finalName);
  const drillScratch = req.target.kind === 'side-by-side' && req.target.scratch && derivedTarget?.kind === 'drill';
  if (req.target.kind === 'side-by-side' && (finalName === live || (derivedTarget && !drillScratch))) {
    throw new RefusedError(
      `"${finalName}" cannot be the side-by-side target of ${item}.`,
      'Choose a new name that is neither the live database nor a respaldo temporary or safety name.',
    );
  }

  const restoreBin = await pg.resolveTool('pg_restore', req.db);
  const restoreVersion = await toolVersion(restoreBin, 'pg_restore');
  const dumpedWith = parseToolVersion(`(PostgreSQL) ${String(details['pgDumpVersion'] ?? '')}`);
  if (dumpedWith && restoreVersion.major < dumpedWith.major) {
    throw new RespaldoError(
      'failed',
      `pg_restore ${restoreVersion.version} cannot read a dump made by pg_dump ${dumpedWith.version}.`,
      missingToolHint('pg_restore'),
    );
  }

  const run: RestoreRun = {
    pg,
    req,
    ctx,
    stageDir,
    conn,
    item,
    secrets,
    staging,
    restoreBin,
    directory,
    jobs: req.db.jobs ?? pg.jobs,
    freeSlots: null,
  };

  // Selected tables: decided from the dump's table of contents before anything is created.
  let picked: TocSelection | undefined;
  if (selection) {
    progress(run, said('step.readingToc'));
    picked = await selectFromToc(run, selection);
  }

  const { client: admin } = await pg.openMaintenance(conn, [live, staging, finalName], 'preparing the restore');
  let created = false;
  let versionNum = 0;
  let createdRoles: string[] = [];
  let serverStarted: string | null = null;
  let rolesLeft = false;
  try {
    versionNum = await pg.serverVersionNum(admin);
    serverStarted = await postmasterStart(admin);
    if (directory) {
      // pg_restore --jobs holds that many connections at once (a split load more): only what the server has free.
      const fit = await jobsThatFit(admin, run.jobs, { tool: 'pg_restore', held: 0, item, ctx });
      run.jobs = fit.jobs;
      run.freeSlots = fit.free;
    }
    const names = await databaseNames(admin);
    const liveExists = names.has(live);
    // A set restored in place again while an earlier restore's safety copy is kept: a new one beside it.
    const round = firstFreeRound(
      req.setId,
      (id) => preRestoreDbName(live, id),
      (n) => names.has(n),
    );
    const safetyName = preRestoreDbName(live, roundId(req.setId, round));
    if (req.target.kind === 'in-place' && liveExists) {
      if (round > 1) {
        const earlier = preRestoreDbName(live, roundId(req.setId, round - 1));
        ctx.reporter.emit({ type: 'warning', item, ...said('note.safetyRound', { earlier, safety: safetyName }) });
      }
      const sessions = await sessionsOn(admin, live);
      if (sessions.length > 0 && !req.terminateConnections) throw refusedSessions(live, sessions);
    }
    if (req.target.kind === 'side-by-side' && names.has(finalName)) {
      throw new RefusedError(
        `Database "${finalName}" already exists; a side-by-side restore never replaces anything.`,
        'Choose another name with --to, or drop that database first.',
      );
    }
    if (names.has(staging)) {
      // Connected sessions: another restore of this set writing into it (from another backup folder, config or
      // host, which the folder lock does not reach). Dropped with FORCE, its pg_restore was cut mid-way.
      const busy = await sessionsOn(admin, staging);
      if (busy.length > 0)
        throw new RefusedError(
          `Database "${live}": "${staging}", which a restore of set ${req.setId} is written into, has ${busy.length} session(s) connected (${busy.join(', ')}): another restore of this set is running. Nothing was changed.`,
          `Wait for that restore to end and run this one again. If none is running, end those sessions (pg_terminate_backend), then run again: the next restore drops "${staging}".`,
        );
      ctx.log('dropping stale staging database', { staging });
      ctx.reporter.emit({ type: 'warning', item, ...said('note.droppingStale', { name: staging }) });
      await dropDatabase(admin, staging, versionNum);
    }

    if (req.createRoles) createdRoles = await createMissingRoles(run, admin);

    const props = details['properties'] as DatabaseProperties | undefined;
    progress(run, said('step.creating', { db: staging }));
    await admin.query(createDatabaseSql(staging, props));
    created = true;

    let counts: Record<string, number>;
    {
      let listFile: string | undefined;
      if (picked) {
        for (const p of picked.parents)
          ctx.reporter.emit({ type: 'info', ...said('note.alsoParent', { item, table: p }) });
        for (const p of picked.partitions) {
          const table = `${p.schema}.${p.table}`;
          ctx.reporter.emit({ type: 'info', ...said('note.alsoPartition', { item, table }) });
          if (!selection!.some((x) => x.schema === p.schema && x.table === p.table)) selection!.push(p);
        }
        for (const s of picked.skipped) {
          const id = s.why === 'view' ? 'note.notRestoredView' : 'note.notRestoredNeedsTable';
          ctx.reporter.emit({ type: 'warning', item, ...said(id, { what: s.what }) });
        }
        await mkdir(ctx.scratchDir, { recursive: true, mode: 0o700 });
        listFile = join(ctx.scratchDir, `${item}.${req.setId}.restore-list`);
        await writeFile(listFile, picked.list, { mode: 0o600 });
      }
      try {
        if (directory) await runDirectoryRestore(run, listFile, picked);
        else await runRestore(run, pgRestoreArgs({ conn, database: staging, listFile }));
      } finally {
        if (listFile) await rm(listFile, { force: true });
      }

      progress(run, said('step.counting'));
      const c = await pg.open(conn, staging, 'checking the restored database');
      try {
        const all = await listTables(c);
        const wanted = selection
          ? all.filter((t) => selection!.some((s) => s.schema === t.schema && s.table === t.table))
          : all;
        counts = await countRows(c, wanted);
        if (picked) await warnTriggersOnLeftOut(run, c, picked, wanted, finalName);
      } finally {
        await c.end().catch(() => undefined);
      }
      const diffs = countDifferences(req.entry.tables, counts, details['rowCounts'], selection);
      if (diffs.length > 0) {
        const message = phrase('pg.countsDiffer', { db: item, diffs: JSON.stringify(diffs) });
        const hint = phrase('pg.countsDifferHint');
        throw new RespaldoError('failed', english(message), english(hint)).withPhrases(message, hint);
      }
      // Last, so the checks above still connect under the default privileges.
      if (!selection) {
        const roles = new Set(
          (await admin.query('SELECT rolname FROM pg_roles')).rows.map((r) => String(r['rolname'])),
        );
        const { statements, skipped } = databasePropertiesSql(staging, props, roles);
        for (const sql of statements) {
          try {
            await admin.query(sql);
          } catch (err) {
            const shown = sql.replace(quoteIdent(staging), quoteIdent(finalName));
            const error = (err as Error).message;
            ctx.reporter.emit({ type: 'warning', item, ...said('note.propertyNotRestored', { sql: shown, error }) });
          }
        }
        for (const s of skipped) ctx.reporter.emit({ type: 'warning', item, ...saidOf(s) });
      }
    }

    if (ctx.signal.aborted) throw new InterruptedError(phrase('error.interruptedBeforeSwapLive'));
    // Swap.
    if (req.target.kind === 'side-by-side' || !liveExists) {
      const latest = await databaseNames(admin);
      if (latest.has(finalName))
        throw new RefusedError(
          `Database "${finalName}" appeared while restoring; not replacing it.`,
          'Choose another name and restore again.',
        );
      await admin.query(renameDatabaseSql(staging, finalName));
      created = false;
      ctx.log('restored', { database: finalName });
      return { tables: counts, restoredTo: finalName };
    }

    progress(run, said('step.swapping', { live, staging }));
    const swap = planPgSwap(live, staging, safetyName);
    await runWhenFree(admin, [live], () => admin.query(swap.setAside).then(() => undefined), {
      terminate: req.terminateConnections,
      ctx,
      item,
    });
    try {
      await admin.query(swap.swapIn);
    } catch (err) {
      try {
        await admin.query(swap.undo);
      } catch (back) {
        // Both renames failed: say where everything is; drop nothing (the restored copy may be wanted).
        created = false;
        throw new RespaldoError(
          'failed',
          `Database ${item}: the live database was renamed to "${safetyName}", but neither the restored copy "${staging}" nor the original could take the name "${live}" (${(err as Error).message}; ${(back as Error).message}). Nothing was dropped.`,
          `Applications see no "${live}" now. Put the original back by hand: ${swap.undo}; (or use the restored copy: ${swap.swapIn};). The next restore also completes or rolls back this swap.`,
        );
      }
      // Put back: the live database has its name again, as it was; the restored copy is dropped below.
      const message = phrase('pg.swapPutBack', { item, live, error: (err as Error).message });
      const hint = phrase('pg.swapPutBackHint', { live, staging });
      throw new RespaldoError('failed', english(message), english(hint)).withPhrases(message, hint);
    }
    created = false;
    ctx.log('restored in place', { database: live, safety: safetyName });
    return { safetyDatabase: safetyName, tables: counts, restoredTo: live };
  } catch (err) {
    // The server restarted or crashed under pg_restore: the session that made the temporary database died with it,
    // and the cleanup needs a new one, once the server takes connections again.
    const cleaner =
      created || createdRoles.length > 0
        ? await CleanupSession.open(pg, conn, admin, [live, staging, finalName], ctx.signal)
        : null;
    let dropped = false;
    if (created && cleaner) {
      dropped = await dropDatabase(cleaner, staging, versionNum).then(
        () => true,
        (e: unknown) => {
          const error = (e as Error).message;
          ctx.reporter.emit({ type: 'warning', item, ...said('note.couldNotDrop', { name: staging, error }) });
          return false;
        },
      );
    }
    // A new session got in where the first one died: the server ended the restore's sessions (a restart, a crash).
    const restarted = dropped && cleaner?.renewed && serverStarted !== null ? await postmasterStart(cleaner) : null;
    for (const sql of dropCreatedRolesSql(createdRoles)) {
      await (cleaner ?? admin).query(sql).catch((e: unknown) => {
        const error = (e as Error).message;
        ctx.reporter.emit({ type: 'warning', item, ...said('note.couldNotDropRole', { sql, error }) });
        rolesLeft = true;
      });
    }
    await cleaner?.end();
    // A phrase: the menu says it in its language (it was English in the Spanish menu's error box).
    if (ctx.signal.aborted) throw new InterruptedError(phrase('error.interruptedBeforeSwapLive'));
    const globals = req.entry.extras?.find((x) => x.role === 'globals');
    if (err instanceof CommandError && globals && !req.createRoles && /role "[^"]*" does not exist/.test(err.message)) {
      throw new CommandError(
        err.message,
        'The backup needs roles this server lacks, and this set stored them: restore again with --create-roles (only missing roles are created; existing ones are not changed).',
        err.details as { command: string; exitCode: number | null; signal: string | null; stderrTail: string },
      );
    }
    if (err instanceof CommandError && !globals && /role "[^"]*" does not exist/.test(err.message)) {
      // pg_restore stops at the first missing role: "create it" alone sends the operator round once per role, each
      // time restoring the whole database again. Without stored roles, all of them are to be created at once.
      throw new CommandError(
        err.message,
        'This set did not store the roles ("globals" was off when it was made), and pg_restore names only the first one missing. Create on this server every role the database\'s objects belong to or are granted to (on the old server, `pg_dumpall --globals-only` writes them all; load that file here with psql), then restore again. With "globals": true in the config, later sets store the roles and --create-roles creates the missing ones.',
        err.details as { command: string; exitCode: number | null; signal: string | null; stderrTail: string },
      );
    }
    const failure = pgError(err, conn, live, 'restoring');
    if (restarted !== null && failure instanceof RespaldoError)
      throw restartedUnder(failure, conn, restarted, restarted !== serverStarted);
    throw failure;
  } finally {
    await admin.end().catch(() => undefined);
    // Kept (the restore completed) or dropped again: the record of the roles it made is done with.
    if (!rolesLeft) await run.forgetRoles?.();
  }
}
