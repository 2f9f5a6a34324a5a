import { Readable } from 'node:stream';
import type { DataFile } from './fifo-feed.js';
import type { TocEntry } from './toc.js';

/**
 * A large table of a directory dump loaded by several sessions at once.
 *
 * pg_restore --jobs loads each table in one session: a database whose size is one big table is loaded by one
 * server backend while the other cores wait (on the benchmark's 608 MiB database, the 386 MB `orders` table
 * took 6 of pg_restore's 10 s, one core busy). Its COPY data is one row per line (text format: a newline in a
 * value is written `\n`), so the file can be cut at line ends and each piece sent to its own session. Such a
 * restore runs in three steps: the schema (`--section=pre-data`), the data (`--section=data`, the large tables
 * left out of pg_restore's list and fed instead to `jobs` pg_restore sessions of their own, each reading its
 * share of the rows from a named pipe), then the indexes and constraints (`--section=post-data`). Each session
 * is pg_restore restoring that one TABLE DATA entry from a folder holding the dump's table of contents and a
 * named pipe in place of the data file, so the COPY statement and the session's settings are pg_restore's own.
 *
 * The rows of such a table usually end up in a different physical order (each session appends its own pages), as after
 * any UPDATE or VACUUM FULL; a query without ORDER BY has no order to keep.
 *
 * It is done from SPLIT_MIN_JOBS jobs (cores) up. Measured on the 2-core machine of this project, the data step
 * of that table fed from plain files took 4.1–4.4 s in two sessions against 6.0–8.1 s in one; fed by respaldo
 * (decompressing, cutting and writing the pipes: a third of a core, plus its collections), whole restores took
 * as long as with one session (four alternating runs each: 10.0–11.5 s against 10.6–12.4 s), both cores being
 * busy already. With more cores there is room for the sessions; pgcopydb's `--split-tables-larger-than` cuts
 * large tables among sessions for the same reason.
 */

/** Smallest raw size of a table's data file loaded by several sessions (a session costs a connection). */
export const SPLIT_MIN_BYTES = 64 << 20;

/** Fewest jobs (cores) with which large tables are loaded by several sessions by default. */
export const SPLIT_MIN_JOBS = 4;

/**
 * Pure: the smallest data file loaded by several sessions with `jobs` jobs: `configured` when given (tests,
 * PostgresDriverDeps.splitMinBytes), else SPLIT_MIN_BYTES from SPLIT_MIN_JOBS jobs up and none below.
 */
export function splitThreshold(jobs: number, configured?: number): number {
  if (configured !== undefined) return configured;
  return jobs >= SPLIT_MIN_JOBS ? SPLIT_MIN_BYTES : Infinity;
}

/** A table whose data a split restore loads with sessions of its own. */
export interface SplitTable {
  /** Dump id of its TABLE DATA entry. */
  id: number;
  /** Its data file in the dump (`<id>.dat`). */
  file: string;
  rawBytes: number;
  /** Its line of the `--use-list` file. */
  line: string;
}

/**
 * Pure: the TABLE DATA entries loaded by sessions of their own: those whose data file is `minBytes` or more,
 * among `chosen` (the dump ids of a `--use-list` selection) when given. None with fewer than two jobs. The data
 * step holds `jobs` connections for pg_restore and `jobs` more per split table, all at once: with `connections`
 * (the server's free slots) only the largest tables that fit are split, in dump order.
 */
export function planSplitLoad(
  entries: readonly TocEntry[],
  files: readonly DataFile[],
  opts: { jobs: number; minBytes?: number; chosen?: ReadonlySet<number> | undefined; connections?: number },
): SplitTable[] {
  if (opts.jobs < 2) return [];
  const min = opts.minBytes ?? SPLIT_MIN_BYTES;
  const sizes = new Map(files.map((f) => [f.name, f.rawBytes]));
  const split: SplitTable[] = [];
  for (const e of entries) {
    if (e.desc !== 'TABLE DATA' || (opts.chosen && !opts.chosen.has(e.id))) continue;
    const file = `${e.id}.dat`;
    const rawBytes = sizes.get(file);
    if (rawBytes !== undefined && rawBytes >= min) split.push({ id: e.id, file, rawBytes, line: e.line });
  }
  if (opts.connections === undefined) return split;
  const fit = Math.max(0, Math.floor((opts.connections - opts.jobs) / opts.jobs));
  const kept = new Set([...split].sort((a, b) => b.rawBytes - a.rawBytes).slice(0, fit));
  return split.filter((t) => kept.has(t));
}

/**
 * Pure: the `--use-list` of the data step, `list` with the entries of the split tables commented out (the
 * sessions of their own load them). pg_restore reads a line starting with `;` as a comment.
 */
export function listWithout(list: string, split: readonly SplitTable[]): string {
  const ids = new Set(split.map((t) => t.id));
  return list
    .split('\n')
    .map((line) => {
      const m = /^\s*(\d+);/.exec(line);
      return m && ids.has(Number(m[1])) ? `;${line}` : line;
    })
    .join('\n');
}

/** One share of the rows, read by one session. */
class Share extends Readable {
  constructor(
    highWaterMark: number,
    private readonly wanted: () => void,
  ) {
    super({ highWaterMark });
  }
  override _read(): void {
    this.wanted();
  }
}

/**
 * Cuts a COPY data stream into `ways` streams at line ends, without copying a byte: the bytes of a chunk up
 * to its first line end go to the stream that holds that line's beginning, and the rest of the chunk to the
 * stream with the least waiting, so every stream holds whole lines. The source is paused while every stream
 * is full. A failure of the source fails every stream (so none of them ends as if complete); a stream
 * destroyed before its end (its session gone) destroys the source.
 */
export function splitLines(source: Readable, ways: number, highWaterMark = 1 << 20): Readable[] {
  const resume = () => {
    if (source.isPaused() && !source.destroyed) source.resume();
  };
  const shares = Array.from({ length: Math.max(1, ways) }, () => new Share(highWaterMark, resume));
  let ended = false;
  for (const s of shares) {
    // The session reading it reports its own errors; this one only keeps an unread failure from crashing.
    s.on('error', () => undefined);
    s.once('close', () => {
      if (!ended) source.destroy();
    });
  }
  let current = shares[0]!;
  /** The last bytes pushed ended inside a line: the next bytes up to a line end go to the same share. */
  let inLine = false;
  const leastWaiting = () => shares.reduce((a, b) => (b.readableLength < a.readableLength ? b : a));
  source.on('data', (chunk: Buffer) => {
    let at = 0;
    if (inLine) {
      const end = chunk.indexOf(10);
      at = end === -1 ? chunk.length : end + 1;
      current.push(at === chunk.length ? chunk : chunk.subarray(0, at));
    }
    if (at < chunk.length) {
      current = leastWaiting();
      current.push(at === 0 ? chunk : chunk.subarray(at));
    }
    if (chunk.length > 0) inLine = chunk[chunk.length - 1] !== 10;
    if (shares.every((s) => s.readableLength >= s.readableHighWaterMark)) source.pause();
  });
  source.once('end', () => {
    ended = true;
    for (const s of shares) s.push(null);
  });
  source.once('error', (err) => {
    ended = true;
    for (const s of shares) s.destroy(err);
  });
  return shares;
}
