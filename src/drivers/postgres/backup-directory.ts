import type { ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BackupType, BlockReader } from '../../core/types.js';
import { removeTree } from '../../core/remove-tree.js';
import { runCapture, spawnStreaming, type StreamingChild } from '../../exec/spawn.js';
import { ChainMapRecorder, hashedRead, hashedReader, hashFile } from './chain.js';
import { said } from '../../core/phrases.js';
import { tableDataFiles } from './toc.js';
import type { DriverContext, DumpFacts, DumpMember, OpenedDump } from '../driver.js';
import { type PgConnection } from './config.js';
import { completion, followFile, followReader, type Completion } from './follow.js';
import {
  childEnv,
  finishedDataItem,
  PG_DUMP_NO_SYNC_MAJOR,
  missingToolHint,
  pgDumpDirArgs,
  pgProgressLine,
  pgRestoreListArgs,
  type Relation,
  type TableRef,
} from './args.js';
import { tableKey } from './plan.js';
import type { BackupRequest } from '../driver.js';
import type { StoredRef } from './chain.js';
import { type PgQueryable, type PgServer, pgError } from './connection.js';
import { RowCounter, DUMP_FILE_NAME, MEMBER_ROLE, commandDone } from './tools.js';
import { listPartitioned, listTables, countRows, jobsThatFit } from './catalog.js';

/**
 * Removes a file of pg_dump's scratch folder once stored; one already gone is fine. (`rm` with `force` looks the file
 * up twice before removing it: 0.5 s of the main thread for the 5000 files of a dump of 5000 small tables.)
 */
async function removeScratch(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** The directory dump of a PostgreSQL backup: `pg_dump -Fd --jobs`, each data file stored while it is written. */

/** The warning a dump without an exported snapshot gives: what it does instead. */
export type NoSnapshot = 'pg.noSnapshotJobs' | 'pg.noSnapshotCounts';

/** What openDirectoryDump shares with the rest of a backup (backup.ts). */
export interface BackupRun {
  pg: PgServer;
  req: BackupRequest;
  ctx: DriverContext;
  conn: PgConnection;
  /** The connection holding the exported snapshot (row counts are taken in it). */
  client: PgQueryable;
  type: BackupType;
  secrets: string[];
  lockWait: string | undefined;
  dumpBin: string;
  /** Major version of `dumpBin`. */
  dumpMajor: number;
  /** Running tools, killed by the session's cleanup. */
  children: Set<ChildProcess>;
  contents: ChainMapRecorder;
  /** Delta: the stored files of the base chain, by sha256. */
  known: Map<string, StoredRef> | undefined;
  baseDetails: Record<string, unknown>;
  /** Opens the snapshot; without one, warns `without` (what the dump does instead) and returns undefined. */
  exportSnapshot(without: NoSnapshot): Promise<string | undefined>;
  endClient(): Promise<void>;
}

/**
 * `pg_dump -Fd --jobs` from the exported snapshot into the scratch folder; each table's data file
 * is handed to the engine as soon as it appears and is read while pg_dump writes it (followFile),
 * to its end once pg_dump reports it finished (or exits successfully), then deleted here; its rows
 * are counted from its lines. A delta hands a data file once finished (its hash decides whether it
 * is stored). The other files follow at the end, `toc.dat` last (the main stream). When pg_dump
 * fails, every follower fails with it, and so does the backup.
 */
export async function openDirectoryDump(run: BackupRun): Promise<OpenedDump> {
  const { pg, req, ctx, conn, client, type, secrets, lockWait, dumpBin, dumpMajor, children, contents, known } = run;
  const { baseDetails, exportSnapshot, endClient } = run;
  // pg_dump --jobs=N holds N + 1 connections (its own and the workers'): only what the server has free.
  const wanted = req.db.jobs ?? pg.jobs;
  const { jobs } = await jobsThatFit(client, wanted, { tool: 'pg_dump', held: 1, item: req.db.name, ctx });
  const snapshot = await exportSnapshot('pg.noSnapshotJobs');
  const restoreBin = await pg.resolveTool('pg_restore', req.db);
  await mkdir(ctx.scratchDir, { recursive: true, mode: 0o700 });
  const dir = join(ctx.scratchDir, 'pg-directory');
  await removeTree(dir);
  // Without a snapshot of ours, parallel workers could see different data: one job then.
  const dumpJobs = snapshot ? jobs : 1;
  const noSync = dumpMajor >= PG_DUMP_NO_SYNC_MAJOR;
  const args = pgDumpDirArgs({ conn, type, dir, jobs: dumpJobs, noSync, snapshot, lockWaitTimeout: lockWait });
  const child: StreamingChild = spawnStreaming({
    command: dumpBin,
    args,
    env: childEnv(conn),
    secrets,
    signal: ctx.signal,
    missingHint: missingToolHint('pg_dump'),
    progressLine: pgProgressLine,
    privateFiles: true, // each table's rows, uncompressed, in the scratch folder: 0600 from the first byte
  });
  children.add(child.child);
  child.stdout.resume();

  const queue: string[] = [];
  const handed = new Set<string>(['toc.dat']);
  const rows = new Map<string, RowCounter>();
  let wake: (() => void) | undefined;
  let ended = false;
  let failure: unknown;
  /** Per data file: when pg_dump has written all of it. */
  const completions = new Map<string, Completion>();
  let dumpedOk = false;
  const doneOf = (name: string): Completion => {
    let c = completions.get(name);
    if (!c) {
      c = completion();
      completions.set(name, c);
      if (failure !== undefined) c.fail(failure);
      else if (dumpedOk) c.complete();
    }
    return c;
  };
  const push = (name: string) => {
    if (handed.has(name) || !DUMP_FILE_NAME.test(name)) return;
    handed.add(name);
    queue.push(name);
    wake?.();
  };
  let partial = '';
  child.child.stderr?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const file = finishedDataItem(line);
      if (file) {
        doneOf(file).complete();
        push(file);
      }
    }
  });
  /**
   * Members being read: each settles once its end was read (its rows counted) or its reading stopped. The engine
   * stores several at once, so the last member is handed (and the members' generator ends) before every member is
   * read: the row counts wait for these too.
   */
  const reading = new Set<Promise<void>>();
  const beingRead = (): (() => void) => {
    let settle!: () => void;
    const read = new Promise<void>((resolve) => (settle = resolve));
    reading.add(read);
    return settle;
  };
  /** A data file read into the engine's buffers while pg_dump writes it, its rows counted and its bytes hashed. */
  const dataReader = (name: string): BlockReader => {
    const counter = new RowCounter();
    rows.set(name, counter);
    const source = followReader(join(dir, name), doneOf(name).promise, { signal: ctx.signal });
    const settle = beingRead();
    const reader = hashedReader(
      source,
      (chunk) => counter.count(chunk),
      (sha256, b) => {
        contents.stored(name, sha256, b);
        settle();
      },
    );
    return {
      read: (into) => reader.read(into),
      close: () => reader.close().finally(settle),
    };
  };
  const member = (name: string): DumpMember => ({
    name,
    role: `${MEMBER_ROLE}${name}`,
    open() {
      const counter = new RowCounter();
      const path = join(dir, name);
      if (!DATA_FILE.test(name)) return hashedRead(path, counter, (sha256, b) => contents.stored(name, sha256, b));
      rows.set(name, counter);
      const source = followFile(path, doneOf(name).promise, { signal: ctx.signal });
      const read = hashedRead(source, counter, (sha256, bytes) => contents.stored(name, sha256, bytes));
      read.once('close', beingRead());
      return read;
    },
    ...(DATA_FILE.test(name) ? { reader: () => dataReader(name) } : {}),
    stored: () => removeScratch(join(dir, name)),
  });
  /** Delta: hashes a finished file (counting its rows); when the base chain stores its bytes, refers to them. */
  const unchanged = async (name: string): Promise<boolean> => {
    const counter = new RowCounter();
    const { sha256, bytes } = await hashFile(join(dir, name), counter, ctx.signal);
    if (DATA_FILE.test(name)) rows.set(name, counter);
    const ref = known!.get(sha256);
    if (!ref) return false;
    contents.referenced(name, sha256, bytes, ref);
    await removeScratch(join(dir, name));
    return true;
  };
  async function* members(): AsyncGenerator<DumpMember> {
    for (;;) {
      const next = queue.shift();
      if (next !== undefined) {
        if (!(known && (await unchanged(next)))) yield member(next);
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  }

  const listing = (async () => {
    const tables = await listTables(client);
    return { tables, partitioned: await listPartitioned(client) };
  })();
  listing.catch(() => undefined);
  const toc = new PassThrough();
  // A full hands each data file as soon as it appears, to be read while pg_dump writes it.
  const watching = known ? Promise.resolve() : watchDataFiles(dir, () => ended, push);
  const dumped = (async () => {
    try {
      await commandDone(child.done, 'pg_dump', conn, `pg_dump of ${req.db.name} failed`, ctx.signal);
      dumpedOk = true;
      for (const c of completions.values()) c.complete();
      for (const name of (await readdir(dir)).sort()) push(name);
    } catch (err) {
      failure = err;
      for (const c of completions.values()) c.fail(err);
      toc.destroy(err as Error);
      throw err;
    } finally {
      children.delete(child.child);
      ended = true;
      wake?.();
      await watching;
    }
    pipeline(createReadStream(join(dir, 'toc.dat')), toc).catch(() => undefined);
  })();
  dumped.catch(() => undefined);

  let markConsumed: () => void = () => undefined;
  const consumed = new Promise<void>((resolve) => (markConsumed = resolve));
  const finished = (async (): Promise<DumpFacts> => {
    try {
      await dumped;
      let listed: Awaited<typeof listing>;
      try {
        listed = await listing;
      } catch (err) {
        throw pgError(err, conn, conn.database, 'listing the tables');
      }
      const relations = listed.tables.map((t): Relation => [t.schema, t.table, t.oid ?? 0]);
      let tables: Record<string, number> | null = null;
      if (type !== 'schema') {
        // Which data file holds which table: the dump's own table of contents (TABLE DATA ids → OIDs).
        const list = await commandDone(
          runCapture({
            command: restoreBin,
            args: [...pgRestoreListArgs(), dir],
            env: childEnv(conn),
            secrets,
            signal: ctx.signal,
            missingHint: missingToolHint('pg_restore'),
          }),
          'pg_restore',
          conn,
          `reading the table of contents of ${req.db.name} failed`,
          ctx.signal,
        );
        const fileOf = tableDataFiles(list.stdout);
        // The engine reads every member before `finished` settles the entry; wait for the counts.
        await consumed;
        await Promise.all(reading);
        tables = {};
        const missing: TableRef[] = [];
        for (const t of listed.tables) {
          const counter = rows.get(fileOf.get(t.oid ?? -1) ?? '');
          if (counter) tables[tableKey(t.schema, t.table)] = counter.rows;
          else missing.push(t);
        }
        // Tables whose data pg_dump did not write (none in practice): counted in the snapshot.
        if (missing.length > 0) {
          try {
            Object.assign(
              tables,
              snapshot
                ? await countRows(client, missing)
                : Object.fromEntries(missing.map((t) => [tableKey(t.schema, t.table), 0])),
            );
          } catch (err) {
            throw pgError(err, conn, conn.database, 'counting rows');
          }
        }
      }
      return {
        tables,
        details: {
          ...baseDetails,
          rowCounts: type === 'schema' ? 'none (schema only)' : 'exact',
          rowCountsFrom: 'dump',
          snapshot: Boolean(snapshot),
          jobs: dumpJobs,
          ...(known ? { base: req.base!.setId, unchangedFiles: contents.references.files } : {}),
          ...(known ? { unchangedBytes: contents.references.bytes } : {}),
          relations,
          partitionedTables: listed.partitioned,
          type,
        },
      };
    } finally {
      await endClient();
    }
  })();
  finished.catch(() => undefined);
  async function* tracked(): AsyncGenerator<DumpMember> {
    try {
      yield* members();
    } finally {
      markConsumed();
    }
  }
  return {
    stream: toc,
    finished,
    members: tracked(),
    ...(type === 'schema' ? {} : { settling: said('step.counting') }),
  };
}

/** A table's data file in a directory dump (`3358.dat`). */
const DATA_FILE = /^\d+\.dat$/;

/** How often the scratch folder is listed for new data files while pg_dump runs. */
const WATCH_MS = 50;

/** Lists `dir` until `stop()`, calling `found` with each data file name (again on every look). */
async function watchDataFiles(dir: string, stop: () => boolean, found: (name: string) => void): Promise<void> {
  while (!stop()) {
    try {
      for (const name of await readdir(dir)) if (DATA_FILE.test(name)) found(name);
    } catch {
      // Not created yet by pg_dump (or already gone after a failure): look again.
    }
    await new Promise((resolve) => setTimeout(resolve, WATCH_MS));
  }
}
