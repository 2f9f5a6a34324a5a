import {
  closeSync,
  createReadStream,
  existsSync,
  fchmodSync,
  fchownSync,
  futimesSync,
  openSync,
  promises as fsp,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { addAbortSignal, pipeline, Readable } from 'node:stream';
import { InterruptedError, isDiskFull, RespaldoError, VerifyError } from '../core/errors.js';
import type { CodecName, FileEntry, FileOwner, FolderEntry } from '../core/types.js';
import { idsOf } from './accounts.js';
import { heldYoung, madeGarbage, SMALL_ITEM_COST } from './garbage.js';
import { breathe } from '../core/breathe.js';
import { mapLimitedOf } from './limited.js';
import { decodeWholeSync, decompressorFor } from './codec.js';
import { makeDirs, pipeToNewFile, removeEmptyDirs } from '../core/durable-fs.js';
import { fsyncPath, fsyncTree, readChunkFor, removeTree } from './fs-util.js';
import { heldFiles, isSafeRelative, type ManifestFiles } from './manifest.js';
import { shownName } from '../core/format.js';
import { undecodableIsDamage, type LocalReader, type StoredReader } from './stored-part.js';
import { checkedPlain, checkedPlainWhole, SMALL_FILE, type StoredCheck } from './stored-check.js';

/** Restoring a set's files: into a hidden partial folder beside the target, renamed whole into place. */

/** Files below SMALL_FILE are restored FILES_AT_ONCE at a time. */
const FILES_AT_ONCE = 8;

/**
 * The exact bytes of an entry's `group/relative`, the path it is restored under: `relativeBytes` when the name is
 * not valid UTF-8 (`relative` then shows its other bytes as \xNN), else `relative`.
 */
export function entryPath(e: Pick<FileEntry, 'group' | 'relative' | 'relativeBytes'>): Buffer {
  const rel = e.relativeBytes !== undefined ? Buffer.from(e.relativeBytes, 'base64') : Buffer.from(e.relative);
  return Buffer.concat([Buffer.from(`${e.group}/`), rel]);
}

/**
 * The path an entry is shown by (`show`, `list`, the plan) and chosen by (`restore --files --path`): `group/relative`,
 * the path it is restored under below the restore's folder.
 */
export function shownPath(e: Pick<FileEntry, 'group' | 'relative'>): string {
  return `${e.group}/${e.relative}`;
}

/** Pure: a `--path` as compared with the stored paths: without a leading `./` nor trailing slashes. */
export function normalStoredPath(p: string): string {
  return p.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

/** Pure: the `--path` (normalized) that chooses the stored `path`: itself, or a folder above it; undefined if none. */
export function choosingPath(path: string, paths: readonly string[]): string | undefined {
  return paths.find((p) => path === p || path.startsWith(`${p}/`));
}

/** The entries of `files` that `paths` (normalized) choose, read again from the manifest each time as `files` is. */
export function selectedFiles(files: ManifestFiles, paths: readonly string[]): ManifestFiles {
  const entries = function* (): Generator<FileEntry> {
    for (const e of files.entries()) if (choosingPath(shownPath(e), paths) !== undefined) yield e;
  };
  let count = 0;
  let bytes = 0;
  const groups = new Set<FileEntry['group']>();
  for (const e of entries()) {
    count++;
    bytes += e.size;
    groups.add(e.group);
  }
  return { count, bytes, groups, entries };
}

/** The folders `paths` (normalized) choose: those at or below one of them (the folders above are made 0700). */
export function selectedFolders(folders: readonly FolderEntry[], paths: readonly string[]): FolderEntry[] {
  return folders.filter((d) => choosingPath(shownPath(d), paths) !== undefined);
}

/** A symlink entry's target as written back: its exact bytes when they are not valid UTF-8. */
export function entryLinkTarget(e: Pick<FileEntry, 'linkTarget' | 'linkTargetBytes'>): string | Buffer {
  return e.linkTargetBytes !== undefined ? Buffer.from(e.linkTargetBytes, 'base64') : (e.linkTarget ?? '');
}

/**
 * Creates the parent folders of `path` (the exact bytes of `group/relative`, shown as `rel`) under `root`, refusing
 * to pass through a symlink or a file. Nothing is created unless the whole final path is a safe relative path inside
 * `root` (manifest.ts checks that the bytes are those `rel` shows).
 */
async function safeParent(root: string, rel: string, path: Buffer, made: Set<string>): Promise<Buffer> {
  const dest = Buffer.concat([Buffer.from(`${root}/`), path]);
  if (!isSafeRelative(rel) || !resolve(join(root, rel)).startsWith(resolve(root) + sep)) {
    const where = `Entry ${JSON.stringify(rel)} would be written outside ${root}.`;
    throw new VerifyError(where, 'This set was tampered with; do not use it.');
  }
  let cur = Buffer.from(root);
  let start = 0;
  for (let slash = path.indexOf(0x2f); slash !== -1; slash = path.indexOf(0x2f, start)) {
    cur = Buffer.concat([cur, Buffer.from('/'), path.subarray(start, slash)]);
    start = slash + 1;
    // A folder this restore made or found to be one stays one: symlinks are made last, never below another entry.
    const key = cur.toString('latin1');
    if (made.has(key)) continue;
    try {
      const st = await fsp.lstat(cur);
      if (!st.isDirectory())
        throw new VerifyError(
          `Restoring ${rel}: ${shownName(cur)} is ${st.isSymbolicLink() ? 'a symlink' : 'not a folder'}; refusing to write through it.`,
          'The set contains conflicting entries; restore the files by hand.',
        );
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // Made meanwhile by a file restored beside this one: checked again as the loop would.
      await fsp.mkdir(cur, { mode: 0o700 }).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST' || !(await fsp.lstat(cur)).isDirectory()) throw e;
      });
    }
    made.add(key);
  }
  return dest;
}

/**
 * Gives a restored file, symlink or folder its recorded owner (by name where this machine knows it) when the restore
 * runs as root: restored as root-owned, an application's `.env` of mode 0640 could not be read by the application
 * once copied back into place. Run as another user, what it writes stays its own (it cannot give files away).
 * Root that may not give it away (a container whose user ids do not include the owner's: EINVAL; a share that maps
 * root to nobody: EPERM) keeps it, and `kept` says why: that failed the whole restore, or a drill, as an internal
 * error.
 */
async function ownAs(path: string | Buffer, owner: FileOwner | undefined, kept: (err: Error) => void): Promise<void> {
  if (!owner || process.geteuid?.() !== 0) return;
  const { uid, gid } = idsOf(owner);
  await fsp.lchown(path, uid, gid).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EINVAL' && err.code !== 'EPERM') throw err;
    kept(err);
  });
}

/**
 * The decoded bytes of entry `e` (a file under SMALL_FILE) from `src`, its stored file read whole through a reader that
 * checks it (and decrypts it) as it passes (a destination's: remote-read.ts), decoded in one call: streamed from a
 * destination, 100 000 small files each went through a decompressor stream and a write stream of its own. Undefined
 * where its streams must say what is wrong: more bytes than any encoding of such a file, or data that does not decode
 * in one call to its size (it is then read again through them).
 */
async function readWholeFrom(src: Readable, e: FileEntry, codec: CodecName): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of src as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > 2 * SMALL_FILE) return undefined; // the loop's end destroys the stream
    chunks.push(chunk);
  }
  return decodeWholeSync(codec, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes), e.size);
}

/**
 * Writes `data`, a small file's bytes, as new file `dest` (mode 0600 until written) and gives it the entry's owner (as
 * ownAs), mode and time through its descriptor, on the calling thread: the steps a restore takes for each file,
 * without a trip to the thread pool for each.
 */
function writeWholeFile(dest: Buffer, data: Buffer, e: FileEntry, kept: (err: Error) => void): void {
  const fd = openSync(dest, 'wx', 0o600);
  try {
    for (let done = 0; done < data.length;) done += writeSync(fd, data, done, data.length - done);
    if (e.owner && process.geteuid?.() === 0) {
      const { uid, gid } = idsOf(e.owner);
      try {
        fchownSync(fd, uid, gid);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EINVAL' && code !== 'EPERM') throw err;
        kept(err as Error);
      }
    }
    fchmodSync(fd, e.mode & 0o777);
    futimesSync(fd, new Date(e.mtime), new Date(e.mtime));
  } finally {
    closeSync(fd);
  }
}

/** Heap one path remembered by checkFileEntries takes, about (its string and its entry in the map). */
const PATH_HELD = 128;

/**
 * Refuses, before anything is written, entries that repeat a path or sit below a symlink or file entry. Paths are
 * compared as bytes (one byte a character), so a name that is not UTF-8 and one shown like it are two paths.
 *
 * Every path is held meanwhile (13 MiB for 100 000 files). `count`, how many entries there are: when that is much, what
 * the work before left (a fetch of those files: 40 MiB of garbage) is collected first, or V8 grew its heap to hold
 * both (64 -> 94 MiB, a restore of 100 000 files from a destination peaking at 166-174 MiB RSS).
 */
export function checkFileEntries(entries: Iterable<FileEntry>, folders: FolderEntry[] = [], count = 0): void {
  heldYoung(() => checkPaths(entries, folders), (count + folders.length) * PATH_HELD);
}

function checkPaths(entries: Iterable<FileEntry>, folders: FolderEntry[]): void {
  const kinds = new Map<string, FileEntry['kind'] | 'folder'>();
  const all = function* () {
    yield* entries;
    for (const d of folders) yield { ...d, kind: 'folder' as const };
  };
  for (const e of all()) {
    const p = entryPath(e).toString('latin1');
    // A folder listed twice is made once: sets made with config entries `conf` and `conf/sub` listed `conf/sub` twice.
    if (e.kind === 'folder' && kinds.get(p) === 'folder') continue;
    if (kinds.has(p))
      throw new VerifyError(
        `The manifest lists ${JSON.stringify(shownName(Buffer.from(p, 'latin1')))} twice.`,
        'This set was tampered with; do not use it.',
      );
    kinds.set(p, e.kind);
  }
  for (const p of kinds.keys()) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      const kind = kinds.get(parent);
      if (kind && kind !== 'folder')
        throw new VerifyError(
          `The manifest puts ${JSON.stringify(shownName(Buffer.from(p, 'latin1')))} below ${JSON.stringify(shownName(Buffer.from(parent, 'latin1')))}, which is a ${kind === 'symlink' ? 'symlink' : 'file'}; refusing to restore through it.`,
          'This set was tampered with; do not use it.',
        );
    }
  }
}

function isHeld(entries: readonly FileEntry[] | ManifestFiles): entries is readonly FileEntry[] {
  return Array.isArray(entries);
}

/** Restores files into `to` (new or empty): regular files first, symlinks last, never following any. */
/**
 * Writes the files of a set into a hidden `.<to>.respaldo-partial-<set>` folder beside `to` and
 * renames it to `to` once complete, so `to` never holds half a restore. `to` may exist if empty.
 * The stored files are read from the set's folder `setRoot`, or through a reader (a destination's stream).
 * `onFile` gets the size of each regular file once it is written.
 */
export async function restoreFiles(
  setRoot: string | StoredReader,
  entries: readonly FileEntry[] | ManifestFiles,
  to: string,
  opts: {
    setId: string;
    codec?: CodecName;
    /** Journals a temporary path (and the folders made for it, deepest first) for a killed run's successor. */
    track?: (path: string, opts?: { madeDirs?: string[] }) => Promise<() => Promise<void>>;
    onFile?: (bytes: number) => void;
    /** The set's folders (Manifest.folders): made, empty ones too, then given their mode, time and owner. */
    folders?: FolderEntry[];
    /** Small files restored at once (default FILES_AT_ONCE); streamed from a destination, its `parallel`. */
    parallel?: number;
    /** Each stored file (read from the folder `setRoot`) checked against its manifest as it is read: StoredCheck. */
    check?: StoredCheck;
    /** Stops the restore at once (the file being written too): nothing is left, InterruptedError is thrown. */
    signal?: AbortSignal;
  },
): Promise<{ ownersKept: number; ownersKeptBecause: string | null }> {
  const folders = opts.folders ?? [];
  let ownersKept = 0;
  let ownersKeptBecause: string | null = null;
  const kept = (err: Error): void => {
    ownersKept++;
    ownersKeptBecause ??= (err as NodeJS.ErrnoException).code ?? err.message;
  };
  // Gone through once for each pass below (read again from the manifest each time), none held.
  const list: ManifestFiles = isHeld(entries) ? heldFiles(entries) : entries;
  const pass = function* (keep: (e: FileEntry) => boolean): Generator<FileEntry> {
    for (const e of list.entries()) if (keep(e)) yield e;
  };
  checkFileEntries(list.entries(), folders, list.count);
  const check = opts.check;
  const { signal } = opts;
  // The folder the stored files are read from: `setRoot`, or a localReader's (a set here, its files checked before).
  const localDir = typeof setRoot === 'string' ? setRoot : (setRoot as Partial<LocalReader>).dir;
  // A stream read for a file ends (destroyed) as soon as the signal is given, not at the end of that file.
  const stoppable = (src: Readable): Readable => (signal ? addAbortSignal(signal, src) : src);
  const partial = join(dirname(to), `.${basename(to)}.respaldo-partial-${opts.setId}`);
  // The folders made for `to` (deepest first): removed when the restore fails or is stopped and they are empty, and
  // journaled with the partial folder, so a killed run's are named by status and removed by the next run too.
  const madeAbove = await makeDirs(dirname(to), 0o700);
  const madeDirs: string[] = [];
  if (madeAbove)
    for (let d = resolve(dirname(to)); ; d = dirname(d)) {
      madeDirs.push(d);
      if (d === resolve(madeAbove) || dirname(d) === d) break;
    }
  await removeTree(partial);
  const untrack = opts.track
    ? await opts.track(partial, { madeDirs }).catch(async (err: unknown) => {
        await removeEmptyDirs(madeDirs);
        throw err;
      })
    : undefined;
  try {
    await fsp.mkdir(partial, { mode: 0o700 });
    const made = new Set<string>();
    for (const d of folders) {
      const at = await safeParent(partial, `${d.group}/${d.relative}`, entryPath(d), made);
      await fsp.mkdir(at, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
    }
    let written = 0; // files and symlinks: how many fsyncTree makes durable
    const restoreOne = async (e: FileEntry): Promise<void> => {
      if (signal?.aborted) throw new InterruptedError();
      written++;
      if (!isSafeRelative(e.relative) || (e.stored && !isSafeRelative(e.stored)))
        throw new VerifyError(
          `Unsafe path in the manifest: ${JSON.stringify(e.relative)}`,
          'This set was tampered with; do not use it.',
        );
      const dest = await safeParent(partial, `${e.group}/${e.relative}`, entryPath(e), made);
      if (e.kind === 'symlink') {
        await fsp.symlink(entryLinkTarget(e), dest);
        await ownAs(dest, e.owner, kept);
        return;
      }
      // A small file read, checked and decoded whole, and written so (a file that needs its streams to say what is
      // wrong with it goes through them below).
      const whole =
        e.size >= SMALL_FILE
          ? undefined
          : localDir !== undefined
            ? await checkedPlainWhole(localDir, e, check, opts.codec ?? 'gzip')
            : typeof setRoot !== 'string' && e.size > 0
              ? await readWholeFrom(stoppable(setRoot(e.stored!, e)), e, opts.codec ?? 'gzip')
              : undefined;
      if (whole) {
        writeWholeFile(dest, whole, e, kept);
        opts.onFile?.(e.size);
        await madeGarbage(SMALL_ITEM_COST);
        await breathe();
        return;
      }
      if (check && typeof setRoot === 'string') {
        await pipeToNewFile(stoppable(await checkedPlain(setRoot, e, check, opts.codec ?? 'gzip')), dest, {
          mode: 0o600,
        });
      } else if (e.size === 0) {
        // Sets before 2026-12 stored an empty file as 0 bytes, which no decompressor reads: nothing to read.
        await fsp.writeFile(dest, '', { flag: 'wx', mode: 0o600 });
      } else {
        // Closed before a failure is reported, so removing the partial folder cannot race a late-created file.
        const src =
          typeof setRoot === 'string'
            ? createReadStream(join(setRoot, e.stored!), {
                highWaterMark: readChunkFor(e.size + 1024), // about the stored file
              })
            : setRoot(e.stored!, e);
        const decoded = pipeline(stoppable(src), decompressorFor(opts.codec ?? 'gzip'), () => undefined);
        // Checked before (its hashes, an encrypted one's plaintext too): data that does not decode is damage (exit 5).
        const plain = Readable.from(undecodableIsDamage(decoded, e.stored!, `${e.group}/${e.relative}`), {
          objectMode: false,
        });
        await pipeToNewFile(plain, dest, { mode: 0o600 });
      }
      await ownAs(dest, e.owner, kept);
      await fsp.chmod(dest, e.mode & 0o777);
      await fsp.utimes(dest, new Date(e.mtime), new Date(e.mtime));
      opts.onFile?.(e.size);
      await madeGarbage(SMALL_ITEM_COST);
    };
    // Small files several at once (each is a dozen trips to the disk, or to a destination it is streamed from), the
    // larger one at a time (each decoded on every core already), symlinks last: none is ever written through. A
    // failure lets those under way end before it is thrown, so nothing is written once the partial folder goes.
    await mapLimitedOf(
      pass((e) => e.kind === 'file' && e.size < SMALL_FILE),
      opts.parallel ?? FILES_AT_ONCE,
      restoreOne,
    );
    for (const e of pass((x) => x.kind === 'file' && x.size >= SMALL_FILE)) await restoreOne(e);
    for (const e of pass((x) => x.kind === 'symlink')) await restoreOne(e);
    if (signal?.aborted) throw new InterruptedError();
    await fsyncTree(partial, { files: written, ...(signal ? { signal } : {}) });
    // Folders last, deepest first: their times set once nothing more is written in them, and a mode without write
    // for its owner set once its files are there. The restore's own folder (and `config/`, `application/`) stay 0700.
    for (const d of [...folders].sort((a, b) => entryPath(b).length - entryPath(a).length)) {
      const at = Buffer.concat([Buffer.from(`${partial}/`), entryPath(d)]);
      await ownAs(at, d.owner, kept);
      await fsp.chmod(at, d.mode & 0o3777); // setgid and sticky kept: a shared folder's group, a tmp folder
      await fsp.utimes(at, new Date(d.mtime), new Date(d.mtime));
    }
    if (folders.length) await fsyncPath(partial);
    if (existsSync(to)) await fsp.rmdir(to); // empty (the plan refuses a folder with anything in it)
    await fsp.rename(partial, to);
    await fsyncPath(dirname(to));
    return { ownersKept, ownersKeptBecause };
  } catch (err) {
    await removeTree(partial);
    // The folders made above `to` for it go too, those still empty: a failed restore leaves nothing it made.
    await removeEmptyDirs(madeDirs);
    // Stopped: whatever the stream that was cut said of it (an AbortError), the restore was interrupted.
    if (signal?.aborted) throw new InterruptedError();
    // Said of the disk it fills, `--to`'s: the generic words sent the operator to free the backup folder's disk.
    if (isDiskFull(err))
      throw new RespaldoError(
        'failed',
        `No space left on the disk of ${to} for the restored files (${(err as Error).message}). ${to} was not made; what was written is removed.`,
        'Free space on that disk; a restore can put the files on another disk with --to DIR.',
      );
    throw err;
  } finally {
    await untrack?.();
  }
}
