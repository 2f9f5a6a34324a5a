import { createHash } from 'node:crypto';
import { constants as fsConstants, existsSync, promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { DestinationError } from '../core/errors.js';
import { english, phrase } from '../core/phrases.js';
import { DIR_MODE, FILE_MODE, fsyncPath, readChunkFor } from '../engine/fs-util.js';
import { makeDirs } from '../core/durable-fs.js';
import { isSetId } from '../engine/set-id.js';
import {
  folderInTheWay,
  type Destination,
  type DestinationConfig,
  type DestinationFactory,
  type RemoteFile,
} from './destination.js';
import { folderRules } from './rules.js';

/** Files a listing asks the size and time of at once (listFiles). */
const STATS_AT_ONCE = 32;

/** Temporary names of files being written; never listed, replaced by the next copy. */
export const PART_MARK = '.respaldo-part-';

/**
 * Whether `name` is a temporary name as a copy makes it (`.respaldo-part-<pid>-<random>`, no extension). A stored
 * file never is, whatever it was called: its name ends in its codec's extension (an application file named
 * `.respaldo-part-1-notes` is stored as `….zst`), so it is never hidden from a listing nor removed as a leftover.
 */
export function isPartName(name: string): boolean {
  return /^\.respaldo-part-\d+-[a-z0-9]*$/.test(name);
}

/**
 * A folder (a NAS or USB mount): each file is written under a temporary name beside its final one,
 * fsynced, renamed, and its folder fsynced. Folders 0700, files 0600.
 */
export class FolderDestination implements Destination {
  readonly type = 'folder' as const;
  constructor(
    readonly name: string,
    private readonly root: string,
  ) {}

  describe(): string {
    return this.root;
  }

  private fail(err: unknown, doing: string): never {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new DestinationError(
        this.name,
        `${doing}: not found`,
        // the folder there and the file not in it: a set it does not hold, not a disk that is not mounted
        existsSync(this.root)
          ? `Run \`respaldo list --from ${this.name}\` to see what the destination holds.`
          : `Check that ${this.root} is mounted.`,
        { kind: 'notFound' },
      );
    if (code === 'EROFS')
      throw new DestinationError(
        this.name,
        `${doing}: ${this.root} is on a read-only file system (EROFS)`,
        'Check that disk (a disk with errors is often remounted read-only: dmesg), mount it read-write, then run `respaldo copy` again.',
      );
    if (code === 'EACCES' || code === 'EPERM') {
      throw new DestinationError(
        this.name,
        `${doing}: permission denied (${code})`,
        `Let the user running respaldo write ${this.root}.`,
      );
    }
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new DestinationError(
        this.name,
        `${doing}: no space left on ${this.root}`,
        'Free space there (or remove old sets from it), then run `respaldo copy` again.',
      );
    }
    if (code === 'EIO' || code === 'ESTALE' || code === 'ETIMEDOUT') {
      throw new DestinationError(this.name, `${doing}: ${code}`, `Check the mount of ${this.root}.`, {
        transient: true,
      });
    }
    throw err;
  }

  private async mkdirs(dir: string): Promise<void> {
    await makeDirs(dir, DIR_MODE);
  }

  put(key: string, body: Readable, size: number, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.putChunks(key, body, size, opts).catch((err: unknown) => {
      body.destroy();
      throw err;
    });
  }

  /** Each chunk is written before the next is asked for (see `Destination.putChunks`). */
  async putChunks(
    key: string,
    chunks: AsyncIterable<Buffer>,
    _size: number,
    opts: { signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.writeInPlace(key, async (tmp) => {
      const fh = await fsp.open(tmp, 'wx', FILE_MODE);
      try {
        for await (const chunk of chunks) {
          opts.signal?.throwIfAborted();
          for (let at = 0; at < chunk.length;) at += (await fh.write(chunk, at)).bytesWritten;
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
  }

  /**
   * Copies in the kernel (copy_file_range, as `cp` does), then reads the copy back to hash it while it is
   * being flushed to the disk (see `Destination.putFile`).
   */
  async putFile(
    key: string,
    source: string,
    size: number,
    opts: { check: (sha256: string, bytes: number) => void; sha256?: string; signal?: AbortSignal },
  ): Promise<void> {
    await this.writeInPlace(key, async (tmp) => {
      await fsp.copyFile(source, tmp, fsConstants.COPYFILE_EXCL);
      opts.signal?.throwIfAborted();
      const fh = await fsp.open(tmp, 'r+');
      try {
        // copyFile gives the copy the local file's mode; CIFS shares refuse chmod with EPERM (as libuv allows)
        await fh.chmod(FILE_MODE).catch((err: unknown) => {
          if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
        });
        const [hashed] = await Promise.all([hashOpenFile(fh, size, opts.signal), fh.sync()]);
        opts.check(hashed.sha256, hashed.bytes);
      } finally {
        await fh.close();
      }
    });
  }

  /**
   * Runs `write` to write the file `key` under a temporary name beside it (which it must create, complete and
   * fsync), then renames it into place and fsyncs its folder. On failure the temporary file is removed.
   */
  private async writeInPlace(key: string, write: (tmp: string) => Promise<void>): Promise<void> {
    const target = join(this.root, key);
    const tmp = join(dirname(target), `${PART_MARK}${process.pid}-${Math.random().toString(36).slice(2)}`);
    // an unmounted NAS or USB disk: never fill the disk under the mount point
    await this.requireRoot('Mount it (or create the folder), then run `respaldo copy`.');
    try {
      await this.mkdirs(dirname(target));
      await write(tmp);
      await fsp.rename(tmp, target);
      await this.syncDir(dirname(target));
    } catch (err) {
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      // A folder at the file's name (made by hand there): the rename's raw EISDIR read as the local file's failure.
      if ((err as NodeJS.ErrnoException).code === 'EISDIR') throw folderInTheWay(this.name, key, target);
      this.fail(err, `writing ${key}`);
    }
  }

  /** Per folder: the fsync waiting to start (shared by every rename done before it starts) and the one running. */
  private readonly dirSyncs = new Map<string, { next?: Promise<void>; running?: Promise<void> }>();

  /**
   * Fsyncs `dir` after a rename into it. Files written at the same time share one fsync that starts
   * after their renames, rather than one each.
   */
  private syncDir(dir: string): Promise<void> {
    let s = this.dirSyncs.get(dir);
    if (!s) this.dirSyncs.set(dir, (s = {}));
    const state = s;
    state.next ??= (async () => {
      await state.running?.catch(() => undefined);
      state.running = state.next;
      state.next = undefined;
      await fsyncPath(dir);
    })();
    return state.next;
  }

  /**
   * A file there, read from `offset`. Anything else at its name (a folder, a FIFO, a device) is not one respaldo
   * wrote: it is said not found, never read (a FIFO blocked the open, and the restore, forever; a folder was an
   * internal error).
   */
  async get(key: string, opts: { offset?: number } = {}): Promise<Readable> {
    const file = join(this.root, key);
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        await this.requireRoot('Mount it, then run the command again.');
      this.fail(err, `reading ${key}`);
    }
    const st = await fh.stat().catch(async (err: unknown) => (await fh.close(), this.fail(err, `reading ${key}`)));
    if (!st.isFile()) {
      await fh.close();
      const what = st.isDirectory() ? 'a folder' : 'a FIFO, socket or device';
      throw new DestinationError(
        this.name,
        `reading ${key}: not a file (${what})`,
        `respaldo writes only files there: check who put it at ${file}.`,
        { kind: 'notFound', notAFile: what },
      );
    }
    // Reads about the file's size (readChunkFor): a new 1 MiB buffer for each small file of a set made V8 collect every
    // few files (a fetch of 5000 files: 2.2 s of its main thread in the collector).
    const start = opts.offset ?? 0;
    return fh.createReadStream({ highWaterMark: readChunkFor(Math.max(0, st.size - start)), start });
  }

  /**
   * Throws when the folder itself is not there: an unmounted NAS or USB disk is said to be one, not taken for
   * a destination without sets (on the new-server day that sent the operator to the `source` setting).
   */
  private async requireRoot(hint: string): Promise<void> {
    const st = await fsp.stat(this.root).catch(() => null);
    if (st?.isDirectory()) return;
    // A file there (a typo, an archive named for the folder) exists: "not mounted, mount it" sent the operator astray.
    if (st)
      throw new DestinationError(
        this.name,
        `${this.root} is not a folder`,
        `Point "path" of destination "${this.name}" at the folder the sets go in (a NAS or USB mount).`,
      ).withPhrases(
        phrase('dest.notAFolder', { dest: this.name, path: this.root }),
        phrase('dest.notAFolderHint', { dest: this.name }),
      );
    throw new DestinationError(this.name, `${this.root} does not exist (not mounted?)`, hint).withPhrases(
      phrase('dest.notMounted', { dest: this.name, path: this.root }),
      ...(hint === english(phrase('dest.mountHint')) ? [phrase('dest.mountHint')] : []),
    );
  }

  async listSets(source: string | null): Promise<{ source: string; id: string }[]> {
    await this.requireRoot('Mount it, then run the command again.');
    const sources = source ? [source] : await this.dirNames(this.root);
    const out: { source: string; id: string }[] = [];
    for (const s of sources) {
      for (const id of await this.dirNames(join(this.root, s))) {
        if (!isSetId(id)) continue;
        // A manifest that is no file (a folder made in its place) is listed too: read, it makes the set damaged.
        if (await this.present(`${s}/${id}/manifest.json`)) out.push({ source: s, id });
      }
    }
    return out;
  }

  private async dirNames(dir: string): Promise<string[]> {
    try {
      return (await fsp.readdir(dir, { withFileTypes: true }))
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && dir !== this.root) return [];
      this.fail(err, `listing ${dir.endsWith('/') ? dir : `${dir}/`}`);
    }
  }

  async listFiles(dir: string, opts: { temps?: boolean } = {}): Promise<RemoteFile[]> {
    await this.requireRoot('Mount it, then run the command again.');
    const out: RemoteFile[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries;
      try {
        entries = await fsp.readdir(join(this.root, dir, rel), { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        this.fail(err, `listing ${dir.endsWith('/') ? dir : `${dir}/`}`);
      }
      const path = (e: { name: string }): string => (rel ? `${rel}/${e.name}` : e.name);
      for (let i = 0; i < entries.length;) {
        if (entries[i]!.isDirectory()) {
          await walk(path(entries[i++]!));
          continue;
        }
        // The files up to the next folder, STATS_AT_ONCE at a time (one after another, the 100 000 files of a set took
        // 3.5 s to list), in the folder's order.
        const run: string[] = [];
        for (; i < entries.length && run.length < STATS_AT_ONCE && !entries[i]!.isDirectory(); i++) {
          const e = entries[i]!;
          if (e.isFile() && (opts.temps || !isPartName(e.name))) run.push(path(e));
        }
        const stats = await Promise.all(run.map((p) => fsp.stat(join(this.root, dir, p)).catch(() => null)));
        run.forEach((p, k) => {
          const st = stats[k];
          if (!st) return; // renamed or removed meanwhile
          const temp = isPartName(p.slice(p.lastIndexOf('/') + 1));
          out.push({ path: p, size: st.size, modifiedAt: st.mtime.toISOString(), ...(temp ? { temp } : {}) });
        });
      }
    };
    await walk('');
    return out;
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const st = await fsp.stat(join(this.root, key));
      return st.isFile() ? { size: st.size } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      this.fail(err, `reading ${key}`);
    }
  }

  /** Whether anything is at `key` (a file, a folder, a FIFO…). */
  private async present(key: string): Promise<boolean> {
    try {
      await fsp.stat(join(this.root, key));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      this.fail(err, `reading ${key}`);
    }
  }

  async delete(key: string): Promise<void> {
    const target = join(this.root, key);
    await fsp.rm(target, { force: true }).catch((err: unknown) => {
      // a folder made by hand where the file was: Node's `Path is a directory: rm returned EISDIR`
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_FS_EISDIR' || code === 'EISDIR') throw folderInTheWay(this.name, key, target, true);
      return this.fail(err, `removing ${key}`);
    });
  }

  async removeEmptyDirs(dir: string): Promise<void> {
    const walk = async (abs: string): Promise<void> => {
      const entries = await fsp.readdir(abs, { withFileTypes: true }).catch(() => []);
      for (const e of entries) if (e.isDirectory()) await walk(join(abs, e.name));
      await fsp.rmdir(abs).catch(() => undefined); // fails while not empty
    };
    await walk(join(this.root, dir));
  }

  async close(): Promise<void> {}
}

export const folderFactory = {
  ...folderRules,
  async open(cfg: DestinationConfig) {
    return new FolderDestination(cfg.name, cfg.path!);
  },
} satisfies DestinationFactory;

/** SHA-256 and length of an open file, read from its start. */
async function hashOpenFile(
  fh: fsp.FileHandle,
  size: number,
  signal?: AbortSignal,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  // A buffer about the file's size (readChunkFor): a new 1 MiB one for each small file of a set made V8 collect every
  // few files (a copy of 5000 files: 0.7 s of its main thread in the collector).
  const buf = Buffer.allocUnsafe(readChunkFor(size));
  let bytes = 0;
  for (let n = 0; ; n++) {
    if (n % 8 === 0) signal?.throwIfAborted(); // not at every read: on a combined signal this walks its sources
    const { bytesRead } = await fh.read(buf, 0, buf.length, bytes);
    if (bytesRead === 0) return { sha256: hash.digest('hex'), bytes };
    hash.update(buf.subarray(0, bytesRead));
    bytes += bytesRead;
  }
}
