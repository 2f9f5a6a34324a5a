import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * The large data files of a directory dump reach pg_restore through named pipes (FIFOs) that respaldo
 * feeds from the stored, decompressed stream when pg_restore opens them, instead of being written whole
 * to the scratch folder first: decompressing overlaps with pg_restore, and no uncompressed copy touches
 * the disk.
 *
 * pg_restore --jobs opens the files in an order respaldo does not control, and some never (tables left out
 * by --use-list). Opening a FIFO for writing blocks until a reader has it open, so respaldo never does that:
 * it polls open(O_WRONLY|O_NONBLOCK), which fails with ENXIO until a reader is there, then writes through a
 * net.Socket on that descriptor (a pipe to libuv: no thread of the pool waits). A reader sees the end of a
 * file only when every writer closed it, so a second descriptor (the guard) stays open until the stored
 * stream ended cleanly: when reading or decompressing fails mid-way, pg_restore is stopped while it is still
 * waiting for more bytes, and never reads a cut file as complete. The guards are closed once pg_restore is
 * gone, so no writer and no reader waits forever.
 */

/** Smallest raw size of a data file fed through a named pipe; smaller files are written to disk first. */
export const MIN_PIPED_BYTES = 8 << 20;

/** One data file of a directory dump, with its raw (uncompressed) size as recorded. */
export interface DataFile {
  name: string;
  rawBytes: number;
}

/**
 * Pure: which data files go through named pipes and which are written to the scratch folder before
 * pg_restore starts. Small files are staged: each piped file costs pg_restore the wait until respaldo sees
 * it opened (a few milliseconds), which matters only when the file itself takes little time.
 */
export function planDataFiles(
  files: readonly DataFile[],
  opts: { fifos: boolean; minPipedBytes?: number },
): { staged: string[]; piped: string[] } {
  const min = opts.minPipedBytes ?? MIN_PIPED_BYTES;
  const staged: string[] = [];
  const piped: string[] = [];
  for (const f of files) (opts.fifos && f.rawBytes >= min ? piped : staged).push(f.name);
  return { staged, piped };
}

/**
 * Makes the named pipes `names` in `dir` (mode 0600) with the system's `mkfifo`. Returns false, leaving
 * none of them, where that is not possible: on Windows, without `mkfifo`, or on a file system without FIFOs;
 * the caller then writes the files to disk.
 */
export async function makeFifos(dir: string, names: readonly string[]): Promise<boolean> {
  if (process.platform === 'win32') return false;
  const paths = names.map((n) => join(dir, n));
  for (let i = 0; i < paths.length; i += 200) {
    const ok = await new Promise<boolean>((resolve) => {
      const child = spawn('mkfifo', ['-m', '600', '--', ...paths.slice(i, i + 200)], { stdio: 'ignore' });
      child.once('error', () => resolve(false));
      child.once('close', (code) => resolve(code === 0));
    });
    if (!ok) {
      await Promise.all(paths.map((p) => rm(p, { force: true })));
      return false;
    }
  }
  return true;
}

/** A data file fed through a named pipe: `open` gives its decompressed content, read once. */
export interface PipedFile {
  name: string;
  open(): Readable;
}

/** What feeding ended with (FifoFeeder.stop). */
export interface FeedOutcome {
  /** The first failure reading a stored file (damaged, truncated, unreadable), and that file. */
  failed?: { name: string; error: Error };
  /** Files pg_restore opened but that were not fed to their end. */
  unfinished: string[];
  /** Files pg_restore never opened. */
  unopened: string[];
}

interface Feeding {
  source: Readable;
  socket: Socket;
  guard: number;
}

/**
 * Feeds `files`, named pipes in `dir`, each when a reader opens it. `onFailure` is called once, when
 * a stored file cannot be read to its end: the caller stops the reader (its files stay open, without an end,
 * until `stop`).
 */
export class FifoFeeder {
  private readonly pending = new Map<string, PipedFile>();
  private readonly active = new Map<string, Feeding>();
  private failed: FeedOutcome['failed'];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly dir: string,
    files: readonly PipedFile[],
    private readonly hooks: { onBytes(n: number): void; onFailure(error: Error): void },
  ) {
    for (const f of files) this.pending.set(f.name, f);
  }

  /** Starts watching for readers. */
  start(): void {
    this.poll();
  }

  /**
   * Once the reader is gone (its process and workers exited): stops watching, ends what is being fed without
   * an end of file reaching anyone, and says how feeding went.
   */
  stop(): FeedOutcome {
    this.stopped = true;
    clearTimeout(this.timer);
    const unfinished = [...this.active.keys()];
    for (const [name, f] of this.active) {
      f.source.destroy();
      f.socket.destroy();
      closeSync(f.guard);
      this.active.delete(name);
    }
    const unopened = [...this.pending.keys()];
    this.pending.clear();
    return { ...(this.failed ? { failed: this.failed } : {}), unfinished, unopened };
  }

  private poll(): void {
    if (this.stopped) return;
    for (const [name, file] of this.pending) {
      const path = join(this.dir, name);
      let fd: number;
      try {
        fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENXIO') continue; // no reader yet
        this.pending.delete(name);
        this.fail(name, err as Error);
        continue;
      }
      this.pending.delete(name);
      let guard: number;
      try {
        guard = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (err) {
        closeSync(fd);
        this.fail(name, err as Error);
        continue;
      }
      this.feed(file, fd, guard);
    }
    if (this.pending.size === 0) return;
    // A few milliseconds between looks; longer when many files wait, so that looking stays cheap.
    this.timer = setTimeout(() => this.poll(), Math.min(50, Math.max(2, this.pending.size / 20)));
  }

  private feed(file: PipedFile, fd: number, guard: number): void {
    let socket: Socket | undefined;
    let source: Readable;
    try {
      socket = new Socket({ fd, readable: false, writable: true });
      source = file.open();
    } catch (err) {
      if (socket) socket.destroy();
      else closeSync(fd);
      closeSync(guard);
      this.fail(file.name, err as Error);
      return;
    }
    // A failed write is also passed to the source by pipeline: only an error of the source's own is a read error.
    let writeError: Error | undefined;
    let readError: Error | undefined;
    socket.once('error', (err) => (writeError ??= err));
    source.once('error', (err) => {
      if (err !== writeError) readError ??= err;
    });
    source.on('data', (chunk: Buffer) => this.hooks.onBytes(chunk.length));
    this.active.set(file.name, { source, socket, guard });
    pipeline(source, socket).then(
      () => {
        // Everything is in the pipe: the last writer closing is the reader's end of file.
        if (this.active.delete(file.name)) closeSync(guard);
      },
      () => {
        // Without a read error, writing failed: the reader went away (pg_restore failed or was stopped), and
        // its own error says why.
        if (readError) this.fail(file.name, readError);
      },
    );
  }

  private fail(name: string, error: Error): void {
    if (this.failed || this.stopped) return;
    this.failed = { name, error };
    this.hooks.onFailure(error);
  }
}

/**
 * Resolves once `child` is gone with every process holding its output (pg_restore's workers): its pipes
 * closed. Waits at most `graceMs` after the child itself exited.
 */
export function childGone(child: ChildProcess, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    child.once('close', () => resolve());
    child.once('exit', () => setTimeout(resolve, graceMs).unref());
    // Asked after it exited: its events may be past; the grace period still bounds the wait.
    if (child.exitCode !== null || child.signalCode !== null) setTimeout(resolve, graceMs).unref();
  });
}
