import Database from 'better-sqlite3';
import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  realpathSync,
  statfsSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { isDiskFull } from '../../core/errors.js';
import { removeSideFiles } from './connection.js';

/**
 * A consistent copy of a live SQLite file by its bytes, made while a read transaction holds the database still,
 * about ten times faster than the backup API (788 MiB: 0.15–0.5 s against 2.3–4 s; the backup API copies page by
 * page through its cache and fsyncs the copy, though the snapshot is scratch, read once and removed). For a
 * rollback journal this is the copy SQLite's documentation calls safe (no writer can change the file while a read
 * lock is held); for WAL it rests on WAL's own promises to readers, below, and is tested by copies taken while a
 * writer commits and checkpoints every way (test/sqlite-snapshot.test.ts). Whatever the copy, the snapshot must
 * still pass integrity_check before it is stored.
 *
 * - Rollback journal (`delete`, `truncate`, `persist`, `memory`, `off`): the read transaction's SHARED lock keeps
 *   every writer from changing the file until the copy is made (a writer waits, as for the backup API's one step).
 * - WAL: the database file, then its `-wal`. While the read transaction lasts no checkpoint writes into the file a
 *   page newer than the transaction sees, and the WAL frames it reads stay where they are. The copy of the WAL may
 *   hold commits made since, or a frame cut by a writer; opening the copy replays every whole commit it holds
 *   (frames are checksummed: a cut or stale one ends the replay), so the copy is a consistent state at or after the
 *   transaction's. It is then checkpointed into the copied file, which is left without `-wal` or `-shm`.
 *
 * Returns the copy's page count and size, or undefined when the copy came out otherwise than SQLite says the
 * database is (the caller then takes the snapshot with the backup API).
 */
export async function copySnapshot(
  conn: Database.Database,
  file: string,
  snapshot: string,
): Promise<{ pageCount: number; pageSize: number; mode: string } | undefined> {
  // SQLite opens the file a symlink names and keeps its -wal beside that file, not beside the link: a copy of
  // the link's "-wal" (none) left the snapshot without the commits still in the WAL.
  const real = realpathSync(file);
  const { dev, ino } = statSync(real);
  const key = `${dev}:${ino}`;
  // One copy of a file at a time in this process (two config entries can name the same file): closing any
  // descriptor of a file drops every POSIX lock the process holds on it, SQLite's SHARED lock of another copy's
  // read transaction included, and writers then changed the file under that copy (torn snapshots).
  const before = copying.get(key);
  let done!: () => void;
  const mine = new Promise<void>((resolve) => (done = resolve));
  copying.set(key, mine);
  try {
    await before;
    return await copyLocked(conn, real, snapshot);
  } finally {
    done();
    if (copying.get(key) === mine) copying.delete(key);
  }
}

/** Copies of a file under way in this process, by device and inode: each waits for the one before. */
const copying = new Map<string, Promise<void>>();

async function copyLocked(
  conn: Database.Database,
  file: string,
  snapshot: string,
): Promise<{ pageCount: number; pageSize: number; mode: string } | undefined> {
  const mode = String(conn.pragma('journal_mode', { simple: true })).toLowerCase();
  let pageCount: number;
  let pageSize: number;
  conn.exec('BEGIN');
  try {
    // The first read starts the transaction (SHARED lock, or the WAL read mark) and fixes what it sees.
    conn.prepare('SELECT count(*) FROM sqlite_schema').get();
    pageCount = conn.pragma('page_count', { simple: true }) as number;
    pageSize = conn.pragma('page_size', { simple: true }) as number;
    roomFor(snapshot, [file, ...(mode === 'wal' ? [`${file}-wal`] : [])]);
    await copyBytes(file, snapshot);
    if (mode === 'wal') await copyBytes(`${file}-wal`, `${snapshot}-wal`, { missingOk: true });
  } finally {
    conn.exec('COMMIT');
  }
  if (mode === 'wal') {
    let replayed: { pageCount: number; pageSize: number } | undefined;
    try {
      replayed = replayCopiedWal(snapshot);
    } catch (err) {
      // Writing the scratch copy failed, not reading the live database: a full disk is said as such; anything
      // else makes the caller take the backup API instead (it was "disk I/O error" against a sound database).
      if (isDiskFull(err)) throw err;
      const why = err instanceof Error ? err.message : String(err);
      throw new Error(`replaying the copied -wal into the snapshot failed: ${why}`, { cause: err });
    }
    if (!replayed) return undefined;
    ({ pageCount, pageSize } = replayed);
    await removeSideFiles(snapshot);
  }
  // SQLite's size of the database is its page count; a file longer than that (never shortened after a crash, say)
  // is cut to it; a shorter one is not the database.
  const fd = openSync(snapshot, 'r+');
  try {
    const size = fstatSync(fd).size;
    const expected = pageCount * pageSize;
    if (size < expected) return undefined;
    if (size > expected) ftruncateSync(fd, expected);
  } finally {
    closeSync(fd);
  }
  return { pageCount, pageSize, mode };
}

/**
 * Opens the copy (its -wal beside it), which replays the -wal's whole commits, and checkpoints them into the
 * file. In exclusive locking mode from the first access, SQLite keeps the WAL index in memory: no -shm is made
 * beside the copy (a file of 32 KiB SQLite fills before it maps it, which on a full disk failed as a "disk I/O
 * error"). Returns the copy's page count and size, or undefined when the checkpoint did not take every frame.
 */
function replayCopiedWal(snapshot: string): { pageCount: number; pageSize: number } | undefined {
  const copy = new Database(snapshot, { fileMustExist: true });
  try {
    copy.pragma('locking_mode = EXCLUSIVE');
    copy.pragma('synchronous = OFF');
    const [r] = copy.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
    if (!r || r.busy !== 0 || r.log !== r.checkpointed) return undefined;
    // The copy may hold commits made after the transaction began: its own size is what counts.
    return {
      pageCount: copy.pragma('page_count', { simple: true }) as number,
      pageSize: copy.pragma('page_size', { simple: true }) as number,
    };
  } finally {
    copy.close();
  }
}

/**
 * Refuses (ENOSPC, said as a full disk) a copy of `files` that cannot fit beside `snapshot`, before a byte is
 * written: filling the disk with a copy that fails anyway made the other databases of the set, stored at the same
 * time, fail with it.
 */
function roomFor(snapshot: string, files: string[]): void {
  let need = 0;
  for (const f of files) {
    try {
      need += statSync(f).size;
    } catch {
      /* no -wal */
    }
  }
  let free: number;
  try {
    const st = statfsSync(dirname(snapshot));
    free = st.bavail * st.bsize;
  } catch {
    return; // cannot tell: the copy says
  }
  if (need > free)
    throw Object.assign(new Error(`ENOSPC: no space left on device, ${need} bytes to copy, ${free} free`), {
      code: 'ENOSPC',
    });
}

const CHUNK = 1 << 20;
/** Bytes copied between two turns of the event loop (progress and signals are handled in between). */
const SLICE = 32 << 20;

/**
 * Copies `from` to `to` (created 0600, or written over) through one reused buffer. Synchronous reads and
 * writes of 1 MiB were the fastest way here (788 MiB in 0.15 s, the thread pool's 0.2–1.2 s, copy_file_range's
 * 0.25 s, which Node only offers as copyFile, which gives the copy the source's mode).
 */
async function copyBytes(from: string, to: string, opts: { missingOk?: boolean } = {}): Promise<void> {
  let src: number;
  try {
    src = openSync(from, 'r');
  } catch (err) {
    if (opts.missingOk && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    // Written over and cut to its length at the end, not emptied when opened: ext4 writes out a file emptied and
    // written again as it is closed (auto_da_alloc), 0.1 s of flushing a scratch copy.
    const dst = openSync(to, constants.O_WRONLY | constants.O_CREAT, 0o600);
    try {
      const buf = Buffer.allocUnsafe(CHUNK);
      let pos = 0;
      for (;;) {
        const sliceEnd = pos + SLICE;
        let n = 0;
        while (pos < sliceEnd && (n = readSync(src, buf, 0, CHUNK, pos)) > 0) {
          let done = 0;
          while (done < n) done += writeSync(dst, buf, done, n - done, pos + done);
          pos += n;
        }
        if (n === 0) break;
        await yieldToLoop();
      }
      ftruncateSync(dst, pos);
    } finally {
      closeSync(dst);
    }
  } finally {
    closeSync(src);
  }
}
