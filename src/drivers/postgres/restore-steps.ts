import { copyFile, link, mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { InterruptedError, RespaldoError, VerifyError } from '../../core/errors.js';
import { runCapture, spawnStreaming, type StreamingChild } from '../../exec/spawn.js';
import { childEnv, missingToolHint, pgRestoreDirArgs, pgRestoreListArgs, type RestoreSection } from './args.js';
import type { DumpSource } from './chain.js';
import { FifoFeeder, childGone, makeFifos, type PipedFile } from './fifo-feed.js';
import type { RestoreRun } from './restore-dump.js';
import { planSplitLoad, splitLines, splitThreshold, type SplitTable } from './split-load.js';
import { parseTocList, type TocSelection } from './toc.js';
import { commandDone, killChild } from './tools.js';

/**
 * The pg_restore runs of a directory restore: one of the whole dump, or (when a table is loaded by sessions of
 * its own, split-load.ts) one per section with those sessions beside the data's, each fed through named pipes.
 */

/**
 * The tables loaded by sessions of their own, each with its session folders ready (the table of contents and a
 * named pipe for the data file), and the dump's table of contents listed to find them; none where named pipes
 * cannot be made.
 */
export async function planSplit(
  run: RestoreRun,
  files: readonly DumpSource[],
  picked: TocSelection | undefined,
): Promise<{ tables: SplitTable[]; listing: string | null }> {
  const { pg, stageDir, ctx, jobs } = run;
  const minBytes = splitThreshold(jobs, pg.splitMinBytes);
  if (jobs < 2 || !files.some((f) => f.rawBytes >= minBytes)) return { tables: [], listing: null };
  const listing = await tocListing(run);
  const entries = parseTocList(listing);
  const split = planSplitLoad(entries, files, {
    jobs,
    minBytes,
    chosen: picked ? new Set(picked.ids) : undefined,
    ...(run.freeSlots === null ? {} : { connections: run.freeSlots - 1 }),
  });
  const pipes: string[] = [];
  for (const t of split) {
    for (let k = 1; k <= jobs; k++) {
      const dir = join(stageDir, sessionDir(t, k));
      await mkdir(dir, { mode: 0o700 });
      await link(join(stageDir, 'toc.dat'), join(dir, 'toc.dat')).catch(() =>
        copyFile(join(stageDir, 'toc.dat'), join(dir, 'toc.dat')),
      );
      pipes.push(join(sessionDir(t, k), t.file));
    }
  }
  if (pipes.length > 0 && !(await makeFifos(stageDir, pipes))) {
    ctx.log('named pipes unavailable; every table is loaded by one session', { dir: stageDir });
    return { tables: [], listing };
  }
  return { tables: split, listing };
}

const sessionDir = (t: SplitTable, k: number) => `split-${t.id}-${k}`;

/** Starts pg_restore with `args`: the password only in its environment, stopped with the restore's signal. */
export function startPgRestore(run: RestoreRun, args: string[], stdin?: 'pipe'): StreamingChild {
  const { ctx, conn, secrets, restoreBin } = run;
  return spawnStreaming({
    command: restoreBin,
    args,
    env: childEnv(conn),
    secrets,
    signal: ctx.signal,
    ...(stdin ? { stdin } : {}),
    missingHint: missingToolHint('pg_restore'),
  });
}

/** The dump's table of contents as `pg_restore --list --verbose` prints it (its `toc.dat` is staged). */
export async function tocListing(run: RestoreRun): Promise<string> {
  const { ctx, stageDir, conn, item, secrets, restoreBin } = run;
  const listing = runCapture({
    command: restoreBin,
    args: [...pgRestoreListArgs(), stageDir],
    env: childEnv(conn),
    secrets,
    signal: ctx.signal,
    missingHint: missingToolHint('pg_restore'),
  });
  const listed = await commandDone(
    listing,
    'pg_restore',
    conn,
    `reading the table of contents of ${item} failed`,
    ctx.signal,
  );
  return listed.stdout;
}

/** The sessions loading one split table: a pg_restore each, and the share of the rows its named pipe gets. */
export interface SplitSessions {
  table: SplitTable;
  pipes: PipedFile[];
}

export function splitSessions(run: RestoreRun, table: SplitTable, source: DumpSource): SplitSessions {
  let shares: Readable[] | undefined;
  // The stored file is read once the first session opens its pipe, and cut among all of them.
  const share = (k: number) => () => (shares ??= splitLines(source.open(), run.jobs))[k - 1]!;
  const pipes = Array.from({ length: run.jobs }, (_, i) => ({
    name: join(sessionDir(table, i + 1), table.file),
    open: share(i + 1),
  }));
  return { table, pipes };
}

/**
 * One pg_restore of the staged dump (a `section` of it, or all of it), `piped` fed as it opens them; with
 * `sessions`, the split tables' sessions run beside it. Any of them failing stops the others; a stored file
 * that fails mid-way is the error (exit 5 when it does not match its manifest).
 */
export async function restoreStep(
  run: RestoreRun,
  step: { jobs: number; listFile: string | undefined; section?: RestoreSection | readonly RestoreSection[] },
  piped: PipedFile[],
  onBytes: (n: number) => void,
  sessions: SplitSessions[] = [],
): Promise<void> {
  const { ctx, stageDir, conn, item, staging } = run;
  const children: StreamingChild[] = [];
  const gone: Promise<void>[] = [];
  const start = (args: string[]) => {
    const child = startPgRestore(run, args);
    child.stdout.resume();
    children.push(child);
    gone.push(childGone(child.child)); // from its start: a child that ends at once must still be seen gone
  };
  const stopAll = () => children.forEach((c) => killChild(c.child));
  const lists = new Map<SplitSessions, string>();
  for (const s of sessions) {
    const one = join(stageDir, `${s.table.id}.list`);
    await writeFile(one, `${s.table.line}\n`, { mode: 0o600 });
    lists.set(s, one);
  }
  start(pgRestoreDirArgs({ conn, database: staging, dir: stageDir, ...step }));
  const pipes = [...piped];
  for (const s of sessions) {
    for (const p of s.pipes) {
      const dir = join(stageDir, dirname(p.name));
      start(pgRestoreDirArgs({ conn, database: staging, dir, jobs: 1, listFile: lists.get(s), section: 'data' }));
      pipes.push(p);
    }
  }
  const feeder = new FifoFeeder(stageDir, pipes, { onBytes, onFailure: stopAll });
  feeder.start();
  const what = `pg_restore of ${item} failed`;
  // The first to fail says why: the others, stopped because of it, only say they were terminated.
  let firstFailure: { error: unknown } | undefined;
  await Promise.allSettled(
    children.map((c) =>
      commandDone(c.done, 'pg_restore', conn, what, ctx.signal).catch((error: unknown) => {
        firstFailure ??= { error };
        stopAll(); // one session failing fails the step: the others are not waited for
      }),
    ),
  );
  await Promise.all(gone);
  const fed = feeder.stop();
  if (fed.unopened.length > 0) ctx.log('data files pg_restore did not read', { files: fed.unopened.length });
  if (ctx.signal.aborted) throw new InterruptedError();
  if (fed.failed) {
    // A stored file found damaged as it was read (a restore streaming from a destination) is said as such (exit 5).
    if (fed.failed.error instanceof VerifyError) throw fed.failed.error;
    throw new RespaldoError(
      'failed',
      `Reading the stored dump of ${item} failed (${basename(fed.failed.name)}): ${fed.failed.error.message}`,
      'Verify the set (respaldo verify); nothing was replaced.',
    );
  }
  if (firstFailure) throw firstFailure.error;
  if (fed.unfinished.length > 0) {
    throw new RespaldoError(
      'failed',
      `pg_restore of ${item} ended before reading all of ${[...new Set(fed.unfinished.map((f) => basename(f)))].join(', ')}.`,
      'Nothing was replaced. Run the restore again; if it happens again, report it with the log.',
    );
  }
}
