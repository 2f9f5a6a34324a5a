import { createWriteStream, writeFileSync } from 'node:fs';
import { breathe } from '../../core/breathe.js';
import type { Readable } from 'node:stream';
import { mkdir, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { InterruptedError, RespaldoError, VerifyError } from '../../core/errors.js';
import { said, saidOf } from '../../core/phrases.js';
import { chainSources, isChainEntry, type DumpSource } from './chain.js';
import { parseGlobals, planMissingRoles } from './globals.js';
import { parseTocList, selectTables, tablesNamedIn, TocSelectionError, type TocSelection } from './toc.js';
import { listTriggers } from './catalog.js';
import type { DriverContext, RestoreRequest } from '../driver.js';
import { type PgConnection } from './config.js';
import { pgRestoreListArgs, quoteIdent, type TableRef } from './args.js';
import { where, type PgQueryable, type PgServer } from './connection.js';
import { DUMP_FILE_NAME, MEMBER_ROLE, commandDone, killChild } from './tools.js';
import { makeFifos, planDataFiles, type PipedFile } from './fifo-feed.js';
import { listWithout } from './split-load.js';
import { planSplit, restoreStep, splitSessions, startPgRestore, tocListing } from './restore-steps.js';

/**
 * The steps of a PostgreSQL restore that touch the dump: staging its files, reading its table of contents,
 * pg_restore, and the roles stored with it.
 */

/** What the steps of one restore share (restore.ts builds it once pg_restore is found). */
export interface RestoreRun {
  pg: PgServer;
  req: RestoreRequest;
  ctx: DriverContext;
  /** Scratch folder the files of a directory dump are staged in. */
  stageDir: string;
  conn: PgConnection;
  item: string;
  secrets: string[];
  /** The database pg_restore writes into: `<name>__restore_<set>`. */
  staging: string;
  restoreBin: string;
  /** The entry is a directory dump (`pg-directory`). */
  directory: boolean;
  /** pg_restore's --jobs: the driver's, fewer when the server has fewer free slots (jobsThatFit in catalog.ts). */
  jobs: number;
  /** The server's free connection slots when the restore started (null: not known); the split load fits them. */
  freeSlots: number | null;
  /** The bytes of the dump read so far, as the progress last said them: the steps after the reading keep them. */
  bytesDone?: number;
  /** Forgets the record of the roles this restore created (ctx.journalRoles), once they are kept or dropped. */
  forgetRoles?: (() => Promise<void>) | undefined;
}

/** A step of the restore, in English and as a phrase (the menu says it in its language). */
export type Step = ReturnType<typeof said>;

/**
 * The bytes a restore of `entry` reads: its own, and for a differential or incremental those of the earlier sets of
 * its chain it refers to (`unchangedBytes`), all read back to rebuild the dump. Its own alone made a chain's bar say
 * 3960 % (90 MB of 23 KB).
 */
export function restoreBytes(entry: RestoreRequest['entry']): number {
  const unchanged = isChainEntry(entry) ? Number(entry.details?.['unchangedBytes'] ?? 0) : 0;
  return entry.rawBytes + (Number.isFinite(unchanged) ? unchanged : 0);
}

/**
 * Reports a step of the restore (the progress line of the CLI and the menu) with the bytes read so far (`bytes`, or
 * as last said): they never go back, so the row counts and the swap after pg_restore keep a full bar.
 */
export function progress(run: RestoreRun, step: Step, bytes?: number): void {
  const { req, ctx, item } = run;
  const total = restoreBytes(req.entry);
  run.bytesDone = Math.max(run.bytesDone ?? 0, bytes ?? 0);
  ctx.reporter.emit({
    type: 'item-progress',
    item,
    bytes: run.bytesDone,
    ...(total ? { totalBytes: total } : {}),
    ...step,
  });
}

/** Creates, in one transaction, the stored roles this server lacks; returns their names. */
export async function createMissingRoles(run: RestoreRun, client: PgQueryable): Promise<string[]> {
  const { req, ctx, item } = run;
  if (!req.entry.extras?.some((x) => x.role === 'globals')) {
    throw new RespaldoError(
      'usage',
      `Set ${req.setId} stored no roles for ${item} ("globals" was not enabled when it was made).`,
      'Create the roles by hand (CREATE ROLE …), then restore again without --create-roles.',
    );
  }
  progress(run, said('step.creatingRoles'));
  const sql = await text(req.openPart('globals')); // decodes across chunk boundaries (multi-byte role names)
  const existing = new Set((await client.query('SELECT rolname FROM pg_roles')).rows.map((r) => String(r['rolname'])));
  const plan = planMissingRoles(parseGlobals(sql), existing);
  for (const note of plan.skipped) ctx.reporter.emit({ type: 'warning', item, ...saidOf(note) });
  if (plan.create.length === 0) return [];
  // Recorded first: a run killed once they are made leaves them named (status), not unknown.
  const names = plan.create.map((r) => r.name);
  run.forgetRoles = await ctx.journalRoles?.(where(run.conn), names);
  await client.query('BEGIN');
  try {
    for (const statement of plan.statements) await client.query(statement);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    await run.forgetRoles?.();
    run.forgetRoles = undefined;
    throw new RespaldoError(
      'failed',
      `Creating the roles of ${item} failed: ${(err as Error).message}. No role was created and nothing was restored.`,
      'The configured user needs CREATEROLE (SUPERUSER for superuser or replication roles); or create the roles by hand and restore without --create-roles.',
    );
  }
  for (const r of plan.create)
    ctx.reporter.emit({
      type: 'info',
      ...said('note.roleCreated', { item, role: quoteIdent(r.name), summary: r.summary }),
    });
  ctx.log('created roles', { roles: plan.create.map((r) => r.name) });
  return plan.create.map((r) => r.name);
}

/** Writes the stored `toc.dat` of a directory dump into the scratch folder for pg_restore. */
async function stageToc(run: RestoreRun): Promise<void> {
  const { req, ctx, stageDir } = run;
  await mkdir(stageDir, { recursive: true, mode: 0o700 });
  await pipeline(req.openPart(), createWriteStream(join(stageDir, 'toc.dat'), { flags: 'wx', mode: 0o600 }), {
    signal: ctx.signal,
  });
}

/** The data files of a directory dump as its manifest lists them, each read from the set's stored file. */
function dataFilesOf(run: RestoreRun): DumpSource[] {
  const files: DumpSource[] = [];
  for (const x of run.req.entry.extras ?? []) {
    if (!x.role?.startsWith(MEMBER_ROLE)) continue;
    const name = x.role.slice(MEMBER_ROLE.length);
    if (!DUMP_FILE_NAME.test(name) || name === 'toc.dat') {
      throw new RespaldoError(
        'failed',
        `Database ${run.item}: the manifest names an unexpected dump file ${JSON.stringify(name)}.`,
        'Nothing was replaced. Verify the set (respaldo verify) and try an older set.',
      );
    }
    const role = x.role;
    const whole = run.req.readPartWhole?.bind(run.req);
    files.push({
      name,
      rawBytes: x.rawBytes,
      open: () => run.req.openPart(role),
      ...(whole ? { readWhole: () => whole(role) } : {}),
    });
  }
  return files;
}

/** Room left beside the small dump files written whole in the scratch folder (the table of contents, the log). */
const STAGE_ROOM = 1 << 20;

/**
 * Prepares the data files of the dump in the scratch folder before pg_restore starts: small ones written
 * whole, large ones as named pipes fed while pg_restore reads them (fifo-feed.ts), every one of them when the
 * scratch folder's disk has no room for the small ones; returns the piped ones. `files` leaves out those
 * loaded by sessions of their own (split-load.ts). A chain set's files are read from the sets of the chain
 * storing them, each checked against its recorded SHA-256 as it passes (chain.ts). Every file is written whole
 * where named pipes cannot be made (Windows, no `mkfifo`, a file system without them).
 */
async function prepareDataFiles(
  run: RestoreRun,
  files: readonly DumpSource[],
  onBytes: (n: number) => void,
): Promise<PipedFile[]> {
  const { ctx, stageDir } = run;
  const jobs = run.jobs;
  const byName = new Map(files.map((f) => [f.name, f]));
  const minPipedBytes = run.pg.pipedMinBytes;
  let plan = planDataFiles(files, { fifos: true, ...(minPipedBytes === undefined ? {} : { minPipedBytes }) });
  // No room in the scratch folder (the backup folder's disk) for the small files written whole: all go through pipes.
  const stagedBytes = plan.staged.reduce((n, name) => n + byName.get(name)!.rawBytes, 0);
  const free = await statfs(stageDir).then(
    (st) => st.bavail * st.bsize,
    () => null,
  );
  if (plan.staged.length > 0 && free !== null && stagedBytes + STAGE_ROOM > free) {
    ctx.log('no room to write the small dump files whole; every file goes through a named pipe', { stagedBytes, free });
    plan = planDataFiles(files, { fifos: true, minPipedBytes: 0 });
  }
  if (plan.piped.length > 0 && !(await makeFifos(stageDir, plan.piped))) {
    ctx.log('named pipes unavailable; writing the dump files to disk first', { dir: stageDir });
    plan = planDataFiles(files, { fifos: false });
  }
  const queue = [...plan.staged];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      // A small one read whole and written in one go, without streams (storeWhole's way back).
      const whole = byName.get(name)!.readWhole?.();
      if (whole) {
        ctx.signal?.throwIfAborted();
        writeFileSync(join(stageDir, name), whole, { flag: 'wx', mode: 0o600 });
        onBytes(whole.length);
        await breathe();
        continue;
      }
      const source = byName.get(name)!.open();
      source.on('data', (chunk: Buffer) => onBytes(chunk.length));
      await pipeline(
        source,
        createWriteStream(join(stageDir, name), { flags: 'wx', mode: 0o600, highWaterMark: 1 << 20 }),
        { signal: ctx.signal },
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, Math.max(1, queue.length)) }, worker));
  return plan.piped.map((name) => ({ name, open: () => byName.get(name)!.open() }));
}

/** Progress of a directory restore: bytes decompressed, said at most once a second with the current step. */
class RestoreProgress {
  bytes = 0;
  private last = Date.now();
  constructor(
    private readonly run: RestoreRun,
    public step: Step,
  ) {
    progress(run, step);
  }
  readonly onBytes = (n: number): void => {
    this.bytes += n;
    if (Date.now() - this.last < 1000) return;
    this.last = Date.now();
    progress(this.run, this.step, this.bytes);
  };
  say(step: Step): void {
    this.step = step;
    progress(this.run, step, this.bytes);
  }
}

/**
 * `pg_restore --jobs` of the directory dump into the staging database, its large data files fed through
 * named pipes as pg_restore reads them. With 4 jobs or more, a table of `SPLIT_MIN_BYTES` or more is loaded by
 * `jobs` sessions at once (split-load.ts): the restore then runs schema, data and indexes as three steps. A
 * stored file that cannot be read to its end stops pg_restore before it sees an end of that file; the error
 * names the file.
 */
export async function runDirectoryRestore(
  run: RestoreRun,
  listFile: string | undefined,
  picked: TocSelection | undefined,
): Promise<void> {
  const { req, stageDir } = run;
  const jobs = run.jobs;
  const shown = new RestoreProgress(run, said('step.decompressing'));
  await mkdir(stageDir, { recursive: true, mode: 0o700 });
  if (!picked) await stageToc(run);
  const files = isChainEntry(req.entry) ? await chainSources(req) : dataFilesOf(run);
  const { tables: split, listing } = await planSplit(run, files, picked);
  const loneFiles = files.filter((f) => !split.some((t) => t.file === f.name));
  if (split.length === 0 && loneFiles.length >= (run.pg.besideSchemaFiles ?? BESIDE_SCHEMA_FILES)) {
    const piped = await besideSchema(run, listFile, shown, (r) => prepareDataFiles(r, loneFiles, shown.onBytes));
    shown.say(said('step.pgRestoreJobs', { jobs, db: run.staging }));
    await restoreStep(run, { jobs, listFile, section: ['data', 'post-data'] }, piped, shown.onBytes);
    progress(run, said('step.restored'), restoreBytes(req.entry));
    return;
  }
  const piped = await prepareDataFiles(run, loneFiles, shown.onBytes);
  if (split.length === 0) {
    shown.say(said('step.pgRestoreJobs', { jobs, db: run.staging }));
    await restoreStep(run, { jobs, listFile }, piped, shown.onBytes);
  } else {
    const byName = new Map(files.map((f) => [f.name, f]));
    const dataList = join(stageDir, 'data.list');
    await writeFile(dataList, listWithout(picked?.list ?? listing ?? (await tocListing(run)), split), {
      mode: 0o600,
    });
    shown.say(said('step.schema', { db: run.staging }));
    await restoreStep(run, { jobs: 1, listFile, section: 'pre-data' }, [], shown.onBytes);
    shown.say(said('step.loading', { tables: split.length, jobs }));
    const sessions = split.map((t) => splitSessions(run, t, byName.get(t.file)!));
    await restoreStep(run, { jobs, listFile: dataList, section: 'data' }, piped, shown.onBytes, sessions);
    shown.say(said('step.indexes', { jobs }));
    await restoreStep(run, { jobs, listFile, section: 'post-data' }, [], shown.onBytes);
  }
  progress(run, said('step.restored'), restoreBytes(req.entry));
}

/**
 * Data files from this many on, they are written out for pg_restore while it makes the schema (`--section=pre-data`,
 * the tables and types it creates, one statement after another), then a second pg_restore loads the data and makes
 * the indexes (`--section=data --section=post-data`, its jobs as before). Measured on a dump of 5000 small tables
 * (2026-12-06): writing out its 5000 small files took 6.4 s of a 24.4 s restore, the schema alone 10 s, the data
 * and indexes after it 7.4 s. Below it, a second pg_restore (its start, its reading of the table of contents) costs
 * more than it hides.
 */
export const BESIDE_SCHEMA_FILES = 100;

/**
 * Runs pg_restore's schema step while `staging` (the data files written out) runs, each stopping the other when it
 * fails; returns what `staging` returns. The first failure is the error (the other's, caused by stopping it, is not).
 * The progress says the schema step once the files are written and it still runs.
 */
async function besideSchema<T>(
  run: RestoreRun,
  listFile: string | undefined,
  shown: RestoreProgress,
  staging: (run: RestoreRun) => Promise<T>,
): Promise<T> {
  const stop = new AbortController();
  const both: RestoreRun = { ...run, ctx: { ...run.ctx, signal: AbortSignal.any([run.ctx.signal, stop.signal]) } };
  let first: { error: unknown } | undefined;
  const failed = (error: unknown) => {
    first ??= { error };
    stop.abort();
  };
  let schemaDone = false;
  const [staged] = await Promise.allSettled([
    staging(both).then(
      (value) => {
        if (!schemaDone) shown.say(said('step.schema', { db: run.staging }));
        return value;
      },
      (error: unknown) => {
        failed(error);
        throw error;
      },
    ),
    restoreStep(both, { jobs: 1, listFile, section: 'pre-data' }, [], () => undefined).then(
      () => void (schemaDone = true),
      failed,
    ),
  ]);
  if (run.ctx.signal.aborted) throw new InterruptedError();
  if (first) throw first.error;
  return (staged as PromiseFulfilledResult<T>).value;
}

/** The `--use-list` selection of the chosen tables, from the dump's own table of contents. */
export async function selectFromToc(run: RestoreRun, tables: TableRef[]): Promise<TocSelection> {
  const { req, ctx, conn, item, directory } = run;
  if (directory) {
    await stageToc(run);
    return pickTables(run, await tocListing(run), tables);
  }
  const child = startPgRestore(run, pgRestoreListArgs(), 'pipe');
  let text = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => {
    text += c;
  });
  // pg_restore stops reading after the table of contents: a closed pipe is expected.
  const feeding = pipeline(req.openPart(), child.child.stdin!).catch(() => undefined);
  await Promise.all([
    commandDone(child.done, 'pg_restore', conn, `reading the table of contents of ${item} failed`, ctx.signal),
    feeding,
  ]);
  return pickTables(run, text, tables);
}

/**
 * Selected tables: a trigger of a restored table whose function names a table of the dump that is not restored
 * (an audit log, a stock ledger) is said as a warning: what it wrote there for these rows is not in the new
 * database, and writes to the table there fail until that table exists. pg_restore makes triggers after the data,
 * so the load itself never fires them.
 */
export async function warnTriggersOnLeftOut(
  run: RestoreRun,
  client: PgQueryable,
  picked: TocSelection,
  restored: readonly TableRef[],
  database: string,
): Promise<void> {
  if (picked.leftOut.length === 0) return;
  const { ctx, item } = run;
  for (const t of await listTriggers(client)) {
    if (!restored.some((r) => r.schema === t.schema && r.table === t.table)) continue;
    const named = tablesNamedIn(t.source, picked.leftOut, restored);
    if (named.length === 0) continue;
    const tables = named.map((n) => `${n.schema}.${n.table}`).join(', ');
    const params = { trigger: t.trigger, table: `${t.schema}.${t.table}`, fn: t.fn, tables, db: database };
    ctx.log('trigger names a table not restored', { item, ...params });
    ctx.reporter.emit({ type: 'warning', item, ...said('note.triggerNamesLeftOut', params) });
  }
}

function pickTables(run: RestoreRun, text: string, tables: TableRef[]): TocSelection {
  const { req, item } = run;
  try {
    return selectTables(parseTocList(text), tables);
  } catch (err) {
    if (err instanceof TocSelectionError)
      throw new RespaldoError(
        'usage',
        `Database ${item}: ${err.message}.`,
        `Nothing was changed. \`respaldo show ${req.setId}\` lists the tables of this backup; or restore the whole database beside the live one with --to.`,
      );
    throw err;
  }
}

export async function runRestore(run: RestoreRun, args: string[]): Promise<void> {
  const { req, ctx, conn, item, staging } = run;
  progress(run, said('step.pgRestore', { db: staging }));
  const child = startPgRestore(run, args, 'pipe');
  const source: Readable = req.openPart();
  let bytes = 0;
  let last = Date.now();
  source.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (Date.now() - last > 1000) {
      last = Date.now();
      progress(run, said('step.restoring'), bytes);
    }
  });
  const feeding = pipeline(source, child.child.stdin!);
  const [fed, done] = await Promise.allSettled([
    feeding,
    commandDone(child.done, 'pg_restore', conn, `pg_restore of ${item} failed`, ctx.signal),
  ]);
  // A stored file found damaged as it was read: that, not pg_restore's complaint about its input, is the error.
  if (fed.status === 'rejected' && fed.reason instanceof VerifyError) {
    killChild(child.child);
    throw fed.reason;
  }
  if (done.status === 'rejected') throw done.reason;
  // pg_restore may stop reading once it has what it needs (selected tables): a closed pipe is fine then.
  const code = fed.status === 'rejected' ? (fed.reason as NodeJS.ErrnoException).code : undefined;
  if (fed.status === 'rejected' && code !== 'EPIPE' && code !== 'ERR_STREAM_PREMATURE_CLOSE') {
    killChild(child.child);
    throw new RespaldoError(
      'failed',
      `Reading the stored dump of ${item} failed: ${(fed.reason as Error).message}`,
      'Verify the set (respaldo verify); nothing was replaced.',
    );
  }
  progress(run, said('step.restored'), bytes);
}
