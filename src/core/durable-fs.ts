import { once } from 'node:events';
import { createWriteStream, existsSync, promises as fsp } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';

/**
 * Writing so that a crash loses nothing: fsync and the atomic write of a small file (a manifest, a
 * journal record). Used by the engine (fs-util.ts re-exports these) and by drivers for their own
 * journals and swaps, so there is one way to make a write durable.
 */

/** Folders respaldo creates are 0700 and files 0600, whatever the umask. */
export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/**
 * Makes `dir` and the folders above it that are missing (`mkdir -p`), each with `mode`; returns the first folder it
 * made (the highest), or undefined when `dir` was there. Its error names the real cause: Node's recursive mkdir says
 * ENOENT where a folder cannot be made on a read-only file system (EROFS), and a backup folder or a restore's `--to`
 * on a disk remounted read-only was reported as a missing folder, or as a bug.
 */
export async function makeDirs(dir: string, mode: number): Promise<string | undefined> {
  try {
    return await fsp.mkdir(dir, { recursive: true, mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    let first = resolve(dir);
    while (dirname(first) !== first && !existsSync(dirname(first))) first = dirname(first);
    await fsp.mkdir(first, { mode }); // the first folder missing, alone: this throws the true error (EROFS, …)
    await fsp.mkdir(dir, { recursive: true, mode });
    return first;
  }
}

export async function fsyncPath(path: string | Buffer): Promise<void> {
  const fh = await fsp.open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Text gathered before each write of a file written from pieces (writeFileAtomic), encoded into one buffer kept for
 * the whole file: each batch written as a string was a new buffer of its bytes (and a batch of 256 KiB a string in
 * V8's large-object space), 60 MB of garbage for the manifest of a set of 100 000 files, 10–25 MiB of it held at
 * once at the end of its create.
 */
const WRITE_BATCH = 64 << 10;

/**
 * Writes a file atomically: temp file beside it, fsync, rename, fsync the folder. `content` may come in pieces (a
 * manifest of many files), written as they come so that the whole text is never held.
 */
export async function writeFileAtomic(
  file: string,
  content: string | Iterable<string>,
  mode: number = FILE_MODE,
): Promise<void> {
  const tmp = join(dirname(file), `.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  const fh = await fsp.open(tmp, 'wx', FILE_MODE);
  try {
    if (typeof content === 'string') await fh.writeFile(content);
    else {
      // Three bytes of UTF-8 at most for each UTF-16 unit of a string: a batch of a longer piece is written as it is.
      const bytes = Buffer.allocUnsafeSlow(3 * 2 * WRITE_BATCH);
      const write = async (text: string): Promise<void> => {
        if (3 * text.length > bytes.length) return fh.writeFile(text);
        const length = bytes.write(text);
        for (let done = 0; done < length;) done += (await fh.write(bytes, done, length - done)).bytesWritten;
      };
      let batch = '';
      for (const piece of content) {
        batch += piece;
        if (batch.length < WRITE_BATCH) continue;
        await write(batch);
        batch = '';
      }
      await write(batch);
    }
    await fh.chmod(mode);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }); // e.g. a full disk: no stray temp file
    throw err;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncPath(dirname(file));
}

/**
 * Streams `source` into the new file `file` (`wx`: never over an existing one). When the copy fails, it
 * rejects only once the file is closed: a write stream destroyed before its open finished still creates
 * the file afterwards, so a caller removing the file on failure would otherwise leave it behind.
 */
export async function pipeToNewFile(
  source: NodeJS.ReadableStream,
  file: string | Buffer,
  opts: { mode: number; signal?: AbortSignal; highWaterMark?: number },
): Promise<void> {
  const out = createWriteStream(file, {
    flags: 'wx',
    mode: opts.mode,
    ...(opts.highWaterMark ? { highWaterMark: opts.highWaterMark } : {}),
  });
  try {
    if (opts.signal) await pipeline(source, out, { signal: opts.signal });
    else await pipeline(source, out);
  } catch (err) {
    if (!out.closed) await once(out, 'close').catch(() => undefined);
    throw err;
  }
}

/**
 * Removes `dirs` (deepest first) while each is empty, stopping at the first that is not (or is gone): a folder a run
 * made and left empty, never one holding anything. Returns those removed.
 */
export async function removeEmptyDirs(dirs: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const d of dirs) {
    try {
      await fsp.rmdir(d);
    } catch {
      break;
    }
    removed.push(d);
  }
  return removed;
}
