/**
 * The config and application files of a backup: finding them (scanFiles) and storing them (storeFiles). One file
 * (about 790 lines) because the scan marks what the store treats apart (symlinks, SQLite databases and their side
 * files, files that vanish or change while read) and both share the same warnings.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  promises as fsp,
  readSync,
  realpathSync,
  type BigIntStats,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import type { ApplicationFolder, FileEntry, FolderEntry, LoadedConfig } from '../core/types.js';
import { isDiskFull } from '../core/errors.js';
import { ownerOf } from './accounts.js';
import { ensurePrivateDir, readChunkFor, removeTree } from './fs-util.js';
import type { CodecName } from '../core/types.js';
import { caseChanges } from './case-distinct.js';
import { codec } from './codec.js';
import { storeStream, storeWhole, WHOLE_SYNC_BYTES, type StoredResult } from './store.js';
import { AGE_EXTENSION, type Sealer } from './crypt.js';
import { said, type Said } from '../core/phrases.js';
import type { FileEntrySpill } from './file-spill.js';
import { isUtf8Name, shownName } from '../core/format.js';
import { WalkList } from './walk-list.js';

export { shownName };

/** A config or application file found on disk, before it is stored. */
export interface FileItem {
  group: 'config' | 'application';
  source: string;
  relative: string;
  kind: 'file' | 'symlink';
  size: number;
  mode: number;
  /** Milliseconds since the epoch, as `stat().mtime` holds them (a number: a Date is one more object a file). */
  mtime: number;
  uid: number;
  gid: number;
  linkTarget: string | null;
  /**
   * The exact bytes of `source` and `relative` when they are not valid UTF-8 (both then show those bytes as `\xNN`):
   * the file is read by these and restored under them.
   */
  exact?: { source: Buffer; relative: Buffer };
  /** The exact bytes of `linkTarget` when they are not valid UTF-8 (it then shows them as `\xNN`). */
  linkTargetBytes?: Buffer;
  /**
   * A SQLite database (stored from a snapshot, see storeFiles) or one of its -wal/-shm/-journal (`side`, stored
   * only when its database could not be snapshotted), with the path of the database.
   */
  sqlite?: { role: 'database' | 'side'; database: string };
}

/**
 * A folder walked (FolderEntry before it is stored); `all`: every name in it is stored (no include patterns, or
 * patterns that take the folder whole, as the default `**` does).
 */
export interface FolderItem {
  group: FileItem['group'];
  relative: string;
  /** The exact bytes of `relative` when they are not valid UTF-8. */
  exact?: Buffer;
  mode: number;
  /** As FileItem.mtime. */
  mtime: number;
  uid: number;
  gid: number;
  all: boolean;
}

export interface FileScan {
  /** The files found, in the order found (held compactly: walk-list.ts). */
  items: WalkList;
  /** Every folder walked, in the order walked (a folder before what it holds). */
  folders: FolderItem[];
  /** Problems that make the set partial (missing or unreadable files), each a warning of the backup. */
  problems: Said[];
  /** Things skipped on purpose (databases of `databases` entries) or gone since listed, each a warning. */
  warnings: Said[];
}

/**
 * What a file or folder that was listed and then could not be read means: gone meanwhile (a session, a cache file),
 * a warning as tar and restic give, or a failure of that file, which makes the set partial. `exact`: the bytes of a
 * path that is not valid UTF-8 (`path` shows them as \xNN; Node's error names it read as UTF-8).
 */
export function unreadable(path: string, err: unknown, exact?: Buffer): { vanished: boolean; said: Said } {
  const e = err as NodeJS.ErrnoException;
  const named = e.path === undefined || e.path === path || (exact !== undefined && e.path === exact.toString());
  if (e.code === 'ENOENT' && named) return { vanished: true, said: said('file.vanished', { path }) };
  return { vanished: false, said: said('file.error', { path, error: e.message }) };
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const SQLITE_SIDE_FILE = /-(wal|shm|journal)$/;

/**
 * Whether the file at `path` begins as a SQLite database does. Its 16 bytes are read on this thread (not blocking if
 * it became a FIFO): three trips to the thread pool for each file cost a scan of 5000 small files about 0.8 s.
 */
function isSqliteFile(path: string, size: number): boolean {
  if (size < 16) return false;
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(16);
    return readSync(fd, buf, 0, 16, 0) === 16 && buf.equals(SQLITE_MAGIC);
  } finally {
    closeSync(fd);
  }
}

/** Whether `path` is a SQLite database, or a -wal/-shm/-journal with one beside it, and which. */
async function sqliteRole(path: string, size: number): Promise<FileItem['sqlite']> {
  const side = SQLITE_SIDE_FILE.exec(path);
  if (!side) return isSqliteFile(path, size) ? { role: 'database', database: path } : undefined;
  const database = path.slice(0, side.index);
  try {
    const st = await fsp.stat(database);
    if (st.isFile() && isSqliteFile(database, st.size)) return { role: 'side', database };
  } catch {
    /* no database beside it: an ordinary file */
  }
  return undefined;
}

/**
 * Path of a config file inside the set: relative to the config folder, or its absolute path without the leading `/`.
 */
export function configRelative(baseDir: string, file: string): string {
  const rel = relative(baseDir, file);
  const inside = rel && !rel.startsWith('..') && !isAbsolute(rel);
  return (inside ? rel : file.replace(/^[A-Za-z]:/, '').replace(/^[/\\]+/, '')).split(sep).join('/');
}

/** One pattern of a list: whether it matches a path relative to the folder root (`isDir` for a folder). */
type Rule = (rel: string, isDir: boolean) => boolean;

/**
 * A pattern read as in .gitignore: one with no slash but a trailing one matches the name at any depth (`*.log`,
 * `.env`, `node_modules/`); one with a slash is anchored to the folder root (`tmp/**`, `/build`, `config/*.ini`); a
 * trailing slash matches folders only. An anchored pattern that matches what a folder holds (`tmp/**`) matches it.
 */
function globRule(pattern: string): Rule {
  const dirOnly = pattern.endsWith('/');
  const body = pattern.replace(/\/+$/, '');
  const anchored = body.includes('/');
  const match = picomatch(body.replace(/^\/+/, ''), { dot: true });
  return (rel, isDir) => {
    if (dirOnly && !isDir) return false;
    if (!anchored) return match(rel.slice(rel.lastIndexOf('/') + 1));
    return match(rel) || (isDir && match(`${rel}/x`));
  };
}

/**
 * Whether a path relative to an application folder (`a/b/c.txt`) is matched by `patterns` (see globRule), itself or
 * through one of its folders. picomatch never matches a line break (its `*` and `**` are regex dots): a name holding
 * one is matched with a space in its place.
 */
export function globMatcher(patterns: string[]): (rel: string, isDir: boolean) => boolean {
  const rules = patterns.map(globRule);
  const any = (rel: string, isDir: boolean) => rules.some((r) => r(rel, isDir));
  return (rel, isDir) => {
    const parts = rel.replace(/[\r\n]/g, ' ').split('/');
    for (let i = 1; i < parts.length; i++) if (any(parts.slice(0, i).join('/'), true)) return true;
    return any(parts.join('/'), isDir);
  };
}

/** Names the application folders inside the set by their base name, made unique. */
export function applicationRoots(folders: ApplicationFolder[]): string[] {
  const used = new Map<string, number>();
  return folders.map((f) => {
    const base = basename(f.path) || 'app';
    const n = (used.get(base) ?? 0) + 1;
    used.set(base, n);
    return n === 1 ? base : `${base}-${n}`;
  });
}

/**
 * Finds the files to store. Symlinks are recorded as symlinks and never followed, except a `files.config` entry
 * that is one itself: the operator named it, so the file (or folder) it points to is stored. SQLite databases
 * (by their header) and their -wal/-shm/-journal are marked for storeFiles, which stores a snapshot; one in an
 * application folder that is a `databases` entry is skipped with a warning (its driver backs it up).
 */
export async function scanFiles(
  cfg: Pick<LoadedConfig, 'baseDir' | 'files' | 'databases'> & { backupDir?: string },
): Promise<FileScan> {
  const scan: FileScan = { items: new WalkList(), folders: [], problems: [], warnings: [] };
  // The backup folder inside an application folder: never stored (each set would hold the ones before it, its own
  // staging folder and the lock), said once.
  const backupDir = cfg.backupDir;
  // By real paths too: an application folder named through a symlink (a deploy's `current`), or a backupDir that is
  // one, was not seen to hold it, and every set stored all the sets before it.
  const realBackupDir = backupDir ? realOrSelf(backupDir) : undefined;
  const within = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}${sep}`);
  const isBackupDir = (abs: string): boolean => {
    if (!backupDir || !realBackupDir) return false;
    if (!within(abs, backupDir) && !within(realOrSelf(abs), realBackupDir)) return false;
    if (!scan.warnings.some((w) => w.phrase.id === 'file.backupDir'))
      scan.warnings.push(said('file.backupDir', { path: backupDir }));
    return true;
  };
  const listedUnreadable = (path: string, err: unknown, exact?: Buffer): void => {
    const r = unreadable(path, err, exact);
    (r.vanished ? scan.warnings : scan.problems).push(r.said);
  };
  const seen = new Set<string>();
  const walked = new Set<string>();
  const configured = new Set(cfg.databases.map((d) => d.path).filter((p): p is string => typeof p === 'string'));

  // `named`: the path is a `files.config` entry itself, whose symlink is followed (stat, not lstat). `exact`: the
  // bytes of a path that is not valid UTF-8 (`source` and `rel` then show them as \xNN).
  const consider = async (
    group: FileItem['group'],
    source: string,
    rel: string,
    fromApp: boolean,
    named = false,
    exact?: FileItem['exact'],
  ): Promise<void> => {
    // Config entries may overlap (a file and its folder, one file twice): each path goes in once. By its bytes: a
    // name that shows as another's (`a\xf1o` and a file named so) is another file.
    // Not those of application folders: each has a name of its own in the set (applicationRoots) and each of its
    // folders is walked once, so none is found twice (a key a file held 100 000 of them through the store).
    if (group === 'config') {
      const key = exact ? `\0${group}/${exact.relative.toString('latin1')}` : `${group}/${rel}`;
      if (seen.has(key)) return;
      seen.add(key);
    }
    const at = exact?.source ?? source;
    let st;
    try {
      st = named ? await fsp.stat(at) : await fsp.lstat(at);
    } catch (err) {
      if (!named) return listedUnreadable(source, err, exact?.source); // found by a listing: it may have gone since
      scan.problems.push(
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? said('file.notFound', { path: source })
          : said('file.error', { path: source, error: (err as Error).message }),
      );
      return;
    }
    if (st.isSymbolicLink()) {
      const target = await fsp.readlink(at, { encoding: 'buffer' });
      scan.items.push({
        group,
        source,
        relative: rel,
        kind: 'symlink',
        size: 0,
        mode: st.mode & 0o7777,
        mtime: st.mtime.getTime(),
        uid: st.uid,
        gid: st.gid,
        linkTarget: shownName(target),
        ...(exact ? { exact } : {}),
        ...(isUtf8Name(target) ? {} : { linkTargetBytes: target }),
      });
      return;
    }
    if (st.isDirectory()) {
      await walk(
        group,
        source,
        Buffer.from(source),
        rel,
        () => true,
        () => false,
        () => true,
      );
      return;
    }
    if (!st.isFile()) {
      scan.warnings.push(said('file.notRegular', { path: source }));
      return;
    }
    let sqlite: FileItem['sqlite'];
    try {
      // SQLite opens a database by a name as text: one whose name is not valid UTF-8 is stored byte for byte.
      sqlite = exact ? undefined : await sqliteRole(source, st.size);
    } catch (err) {
      listedUnreadable(source, err); // this file, not the set
      return;
    }
    if (sqlite && fromApp && configured.has(sqlite.database)) {
      scan.warnings.push(said('file.sqliteConfigured', { path: source }));
      return;
    }
    scan.items.push({
      group,
      source,
      relative: rel,
      kind: 'file',
      size: st.size,
      mode: st.mode & 0o7777,
      mtime: st.mtime.getTime(),
      uid: st.uid,
      gid: st.gid,
      linkTarget: null,
      ...(exact ? { exact } : {}),
      ...(sqlite ? { sqlite } : {}),
    });
  };

  // `dir` is the folder as text (bytes that are not UTF-8 shown as \xNN), `dirBytes` its exact path; `rootRel` is
  // the path inside the application folder so far, as bytes. Patterns are matched on the name as shown.
  const walk = async (
    group: FileItem['group'],
    dir: string,
    dirBytes: Buffer,
    relBase: string,
    included: (rel: string) => boolean,
    excluded: (rel: string) => boolean,
    whole: (rel: string) => boolean,
    rootRel = Buffer.alloc(0),
  ): Promise<void> => {
    // A folder reached twice (config entries `conf` and `conf/sub`) is walked once: listed twice, the set's manifest
    // named it twice, which a restore takes for tampering.
    const folderKey = Buffer.concat([
      Buffer.from(`${group}/${relBase}`),
      ...(rootRel.length ? [SLASH, rootRel] : []),
    ]).toString('latin1');
    if (walked.has(folderKey)) return;
    walked.add(folderKey);
    let entries;
    try {
      entries = await fsp.readdir(dirBytes, { withFileTypes: true, encoding: 'buffer' });
      // Its mode, time and owner, restored with it (a configured folder that is a symlink: the folder it names).
      const st = await fsp.stat(dirBytes);
      const relative = rootRel.length ? `${relBase}/${shownName(rootRel)}` : relBase;
      scan.folders.push({
        group,
        relative,
        ...(isUtf8Name(rootRel) ? {} : { exact: Buffer.concat([Buffer.from(`${relBase}/`), rootRel]) }),
        mode: st.mode & 0o7777,
        mtime: st.mtime.getTime(),
        uid: st.uid,
        gid: st.gid,
        all: whole(shownName(rootRel)),
      });
    } catch (err) {
      listedUnreadable(dir, err, dirBytes); // a folder entry or one listed: it was there a moment ago
      return;
    }
    const named = entries.map((e) => ({ e, name: shownName(e.name) }));
    named.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const { e, name } of named) {
      const innerBytes = rootRel.length ? Buffer.concat([rootRel, SLASH, e.name]) : e.name;
      const inner = shownName(innerBytes);
      const abs = join(dir, name);
      const absBytes = Buffer.concat(dirBytes.at(-1) === SLASH[0] ? [dirBytes, e.name] : [dirBytes, SLASH, e.name]);
      if (excluded(inner) || (e.isDirectory() ? excluded(`${inner}/`) : !included(inner))) continue;
      if (e.isDirectory()) {
        if (isBackupDir(abs)) continue;
        await walk(group, abs, absBytes, relBase, included, excluded, whole, innerBytes);
      } else {
        const exact = isUtf8Name(innerBytes)
          ? undefined
          : { source: absBytes, relative: Buffer.concat([Buffer.from(`${relBase}/`), innerBytes]) };
        await consider(group, abs, `${relBase}/${inner}`, group === 'application', false, exact);
      }
    }
  };

  for (const file of cfg.files.config) await consider('config', file, configRelative(cfg.baseDir, file), false, true);
  const roots = applicationRoots(cfg.files.application);
  for (const [i, folder] of cfg.files.application.entries()) {
    // With no include patterns every name is in. `walk` asks about a folder as `rel` and again as `rel/`.
    const incGlob = folder.include.length ? globMatcher(folder.include) : null;
    const inc = (rel: string) => !incGlob || incGlob(rel, false);
    const exc = globMatcher(folder.exclude);
    const excluded = (rel: string) => (rel.endsWith('/') ? exc(rel.slice(0, -1), true) : exc(rel, false));
    try {
      // The configured folder may itself be a symlink (`/srv/app/current -> releases/42`): followed, not those inside.
      const st = await fsp.stat(folder.path);
      if (!st.isDirectory()) {
        scan.problems.push(said('file.notFolder', { path: folder.path }));
        continue;
      }
    } catch {
      scan.problems.push(said('file.notFound', { path: folder.path }));
      continue;
    }
    if (isBackupDir(folder.path)) continue;
    // A folder the include patterns take whole (`**`, the default; `uploads/`) is made again even when empty.
    const whole = (rel: string) => !incGlob || (rel !== '' && incGlob(rel, true));
    await walk('application', folder.path, Buffer.from(folder.path), roots[i]!, inc, excluded, whole);
  }
  return scan;
}

const SLASH = Buffer.from('/');

/** The longest file name ext4, xfs, btrfs and most others take, in bytes. */
const NAME_MAX = 255;

/**
 * Path of a file inside the set: `group/relative` plus the codec's extension (and `.age` when sealed). A name that
 * would pass NAME_MAX bytes with its extensions (room is always kept for the `.age` a sealing copy adds) is cut to a
 * prefix and a hash of the whole name; the manifest's `stored` records it and every reader goes by that. A path that
 * is not valid UTF-8 (`exact`, its bytes; `relative` shows them as \xNN) always has the hash, of those bytes: its
 * stored name is text, and not that of a file whose name is its shown form.
 */
export function storedPath(
  group: string,
  relative: string,
  extension: string,
  sealed: boolean,
  exact?: Buffer,
): string {
  const cut = relative.lastIndexOf('/');
  const name = relative.slice(cut + 1);
  const suffixes = `${extension}${sealed ? AGE_EXTENSION : ''}`;
  const room = NAME_MAX - Buffer.byteLength(`${extension}${AGE_EXTENSION}`);
  if (!exact && Buffer.byteLength(name) <= room) return `${group}/${relative}${suffixes}`;
  const hash = `~${createHash('sha256')
    .update(exact ?? name)
    .digest('hex')
    .slice(0, 16)}`;
  let prefix = '';
  for (const ch of name) {
    if (Buffer.byteLength(prefix + ch + hash) > room) break;
    prefix += ch;
  }
  return `${group}/${relative.slice(0, cut + 1)}${prefix}${hash}${suffixes}`;
}

/** Files below this size are stored FILES_AT_ONCE at a time (each is one compressed block). */
const SMALL_FILE = 1 << 20;
const FILES_AT_ONCE = 8;

/** How many times a file that keeps changing while it is read is read, before its last read is kept with a warning. */
export const READ_ATTEMPTS = 3;

/** What an inode says of its content: a write between two looks changes one of these (tar compares the same). */
const fingerprint = (st: BigIntStats): string => `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;

/**
 * Stores one regular file, read through one descriptor whose stat is taken before and after the read. A file
 * written meanwhile (a log, a config the application rewrites) may be stored torn: it is read again, up to
 * READ_ATTEMPTS times, and the last read is kept with `changed` set. The hashes are always those of the read kept.
 */
async function storeRegular(
  item: FileItem,
  from: string | Buffer,
  dest: string,
  compression: { codec: CodecName; level: number; sealer?: Sealer | undefined },
  signal: AbortSignal | undefined,
  onRead: ((item: FileItem, bytes: number) => void) | undefined,
): Promise<{ result: StoredResult; stat: BigIntStats; changed: boolean; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    const whole =
      compression.sealer && !compression.sealer.sealWhole
        ? undefined
        : await storeSmall(from, dest, compression, signal, onRead, item);
    if (whole) {
      const changed = fingerprint(whole.before) !== fingerprint(whole.after);
      if (!changed || attempt === READ_ATTEMPTS)
        return { result: whole.result, stat: whole.after, changed, attempts: attempt };
      await fsp.rm(dest, { force: true });
      continue;
    }
    const fh = await fsp.open(from, 'r');
    try {
      const before = await fh.stat({ bigint: true });
      const highWaterMark = readChunkFor(Number(before.size));
      const result = await storeStream(fh.createReadStream({ highWaterMark, autoClose: false }), dest, {
        compress: true,
        codec: compression.codec,
        level: compression.level,
        signal,
        ...(onRead ? { onProgress: (bytes: number) => onRead(item, bytes) } : {}),
        ...(compression.sealer ? { sealer: compression.sealer } : {}),
      });
      const after = await fh.stat({ bigint: true });
      const changed = fingerprint(before) !== fingerprint(after);
      if (!changed || attempt === READ_ATTEMPTS) return { result, stat: after, changed, attempts: attempt };
    } finally {
      await fh.close();
    }
    await fsp.rm(dest, { force: true });
  }
}

/**
 * storeRegular's way for a small file (unsealed, or sealed whole: Sealer.sealWhole): opened, looked at, read whole
 * and closed on this thread, then stored whole (storeWhole): for an uploads folder of small files, their trips to the
 * thread pool and streams cost more than the work. Undefined, the file closed, when it holds more than
 * WHOLE_SYNC_BYTES (or more than its size says).
 */
async function storeSmall(
  from: string | Buffer,
  dest: string,
  compression: { codec: CodecName; level: number; sealer?: Sealer | undefined },
  signal: AbortSignal | undefined,
  onRead: ((item: FileItem, bytes: number) => void) | undefined,
  item: FileItem,
): Promise<{ result: StoredResult; before: BigIntStats; after: BigIntStats } | undefined> {
  // Not blocking if it became a FIFO since the scan: that is left to the stream, as before.
  const fd = openSync(from, constants.O_RDONLY | constants.O_NONBLOCK);
  let data: Buffer;
  let before: BigIntStats;
  let after: BigIntStats;
  try {
    before = fstatSync(fd, { bigint: true });
    if (!before.isFile() || before.size > BigInt(WHOLE_SYNC_BYTES)) return undefined;
    // One byte more than its size: a file that holds more than it says is read as a stream.
    data = Buffer.allocUnsafe(Number(before.size) + 1);
    let filled = 0;
    for (;;) {
      const n = readSync(fd, data, filled, data.length - filled, filled);
      if (n === 0) break;
      filled += n;
      if (filled === data.length) return undefined;
    }
    data = data.subarray(0, filled);
    after = fstatSync(fd, { bigint: true });
  } finally {
    closeSync(fd);
  }
  const result = await storeWhole(data, dest, {
    compress: true,
    codec: compression.codec,
    level: compression.level,
    ...(signal ? { signal } : {}),
    ...(onRead ? { onProgress: (bytes: number) => onRead(item, bytes) } : {}),
    ...(compression.sealer ? { sealer: compression.sealer } : {}),
  });
  return { result, before, after };
}

/**
 * Where storeFiles takes the snapshots of SQLite databases, inside the staging folder (removed with it after a
 * crash); `~` keeps it apart from a database's `.scratch-<name>`, as no database name holds one.
 */
const SNAPSHOTS = '.scratch~files';

/**
 * A snapshot of the SQLite database `item` at `snapshot` (sqlite/file-snapshot.ts, loaded only now) with what
 * `PRAGMA quick_check` found wrong in it (null: nothing), or undefined when it cannot be taken: SQLite cannot read
 * the file (damaged, locked past the timeout, a hot journal) or could not be loaded. The file is then stored byte
 * for byte with a warning naming it; a full disk is thrown.
 */
async function sqliteSnapshot(
  item: FileItem,
  snapshot: string,
  warnings: Said[],
): Promise<{ path: string; problems: string | null } | undefined> {
  await ensurePrivateDir(dirname(snapshot));
  try {
    const { snapshotSqliteFile } = await import('../drivers/sqlite/file-snapshot.js');
    const problems = await snapshotSqliteFile(item.source, snapshot);
    return { path: snapshot, problems };
  } catch (err) {
    await fsp.rm(snapshot, { force: true });
    if (isDiskFull(err)) throw err;
    // Gone since the scan: the byte copy says it vanished.
    if (
      await fsp.stat(item.source).then(
        () => true,
        () => false,
      )
    ) {
      const error = err instanceof Error ? err.message : String(err);
      warnings.push(said('file.sqliteCopied', { path: item.source, error }));
    }
    return undefined;
  }
}

/**
 * Stores scanned files under `setRoot` (each regular file compressed with `codec`) and returns their manifest entries;
 * a file deleted since the scan is a warning, not a problem, and so is one that kept changing while it was read
 * (stored as last read). A SQLite database is stored as a snapshot taken with SQLite's backup API (a byte copy of a
 * live one is torn, or lacks the commits still in its -wal); its -wal/-shm/-journal are then not stored (the
 * snapshot holds every commit; -shm is SQLite's index of the -wal, rebuilt when opened); a snapshot that fails
 * `PRAGMA quick_check` is stored all the same, with a warning saying what the check found. A database SQLite cannot
 * read is stored byte for byte with a warning, and its side files with it. `onRead` is told the bytes of a file
 * read so far. `items`: the scan's (held compactly, each made again as it is stored), or FileItems.
 */
export async function storeFiles(
  items: WalkList | readonly FileItem[],
  setRoot: string,
  compression: { codec: CodecName; level: number; sealer?: Sealer | undefined },
  signal: AbortSignal | undefined,
  onStored: (item: FileItem, bytes: number) => void,
  onRead?: (item: FileItem, bytes: number) => void,
  spill?: FileEntrySpill,
): Promise<{ entries: FileEntry[]; storedBytes: number; problems: Said[]; warnings: Said[]; diskFull: boolean }> {
  const list = items instanceof WalkList ? items : WalkList.of(items);
  // By each item's place in `items`. With a spill, each entry goes there as it is made instead.
  const stored: (FileEntry | undefined)[] = new Array(spill ? 0 : list.length);
  spill?.reserve(list.length);
  const keep = (n: number, entry: FileEntry): void => {
    if (spill) spill.put(n, entry);
    else stored[n] = entry;
  };
  let storedBytes = 0;
  const problems: Said[] = [];
  const warnings: Said[] = [];
  let diskFull = false;
  const scratch = join(setRoot, SNAPSHOTS);
  const snapshotted = new Set<string>();
  let snapshots = 0;
  // Databases before side files, which are stored only when their database could not be snapshotted. Places as
  // typed arrays (an array of numbers was 8 bytes a file each, four of them).
  const where = (keep: (n: number) => boolean): Uint32Array => {
    let count = 0;
    for (let n = 0; n < list.length; n++) if (keep(n)) count++;
    const found = new Uint32Array(count);
    for (let n = 0, k = 0; n < list.length; n++) if (keep(n)) found[k++] = n;
    return found;
  };
  const sides = where((n) => list.sqliteRole(n) === 'side');
  const databases = where((n) => list.sqliteRole(n) === 'database');
  const small = where((n) => !list.sqliteRole(n) && list.size(n) < SMALL_FILE);
  const large = where((n) => !list.sqliteRole(n) && list.size(n) >= SMALL_FILE);
  const extension = codec(compression.codec).extension;
  const suffixes = `${extension}${compression.sealer ? AGE_EXTENSION : ''}`;
  // Each file's stored path is made again as it is stored; only those caseDistinct changes are held, by place.
  const pathOf = (i: FileItem): string =>
    storedPath(i.group, i.relative, extension, Boolean(compression.sealer), i.exact?.relative);
  const places = where((n) => !list.isSymlink(n));
  const changed = new Map<number, string>();
  function* toStore(): Generator<string> {
    for (const n of places) yield pathOf(list.get(n));
  }
  for (const [k, path] of caseChanges(toStore(), suffixes)) changed.set(places[k]!, path);
  const madeDirs = new Set<string>();
  const storeOne = async (n: number): Promise<void> => {
    try {
      await storeItem(n, list.get(n));
    } finally {
      changed.delete(n);
    }
  };
  const storeItem = async (n: number, item: FileItem): Promise<void> => {
    if (item.sqlite?.role === 'side' && snapshotted.has(item.sqlite.database)) return;
    const base = {
      group: item.group,
      source: item.source,
      relative: item.relative,
      kind: item.kind,
      size: item.size,
      mode: item.mode,
      mtime: new Date(item.mtime).toISOString(),
      linkTarget: item.linkTarget,
      owner: ownerOf(item.uid, item.gid),
      ...(item.exact ? { relativeBytes: item.exact.relative.toString('base64') } : {}),
      ...(item.linkTargetBytes ? { linkTargetBytes: item.linkTargetBytes.toString('base64') } : {}),
    };
    if (item.kind === 'symlink') {
      keep(n, { ...base, stored: null, md5: null, sha256: null });
      return;
    }
    const path = changed.get(n) ?? pathOf(item);
    const dest = join(setRoot, path);
    let snapshot: { path: string; problems: string | null } | undefined;
    try {
      if (!madeDirs.has(dirname(dest))) {
        await ensurePrivateDir(dirname(dest));
        madeDirs.add(dirname(dest));
      }
      if (item.sqlite?.role === 'database')
        snapshot = await sqliteSnapshot(item, join(scratch, `${snapshots++}.sqlite`), warnings);
      const {
        result: r,
        stat,
        changed,
        attempts,
      } = await storeRegular(
        item,
        snapshot?.path ?? item.exact?.source ?? item.source,
        dest,
        compression,
        signal,
        onRead,
      );
      if (changed) warnings.push(said('file.changed', { path: item.source, attempts: String(attempts) }));
      if (snapshot) snapshotted.add(item.source);
      if (snapshot?.problems)
        warnings.push(said('file.sqliteCheck', { path: item.source, problem: snapshot.problems }));
      keep(n, {
        ...base,
        size: r.rawBytes,
        // A snapshot's own mode and times are the scratch file's, not the database's.
        ...(snapshot ? {} : { mode: Number(stat.mode) & 0o7777, mtime: stat.mtime.toISOString() }),
        stored: path,
        md5: r.md5,
        sha256: r.sha256,
        ...(r.plain ? { plain: r.plain } : {}),
      });
      storedBytes += r.storedBytes;
      onStored(item, r.storedBytes);
    } catch (err) {
      if (signal?.aborted) throw err;
      await fsp.rm(dest, { force: true });
      if (isDiskFull(err)) {
        diskFull = true;
        problems.push(said('file.noSpace', { path: item.source }));
        return;
      }
      const r = unreadable(item.source, err, item.exact?.source);
      (r.vanished ? warnings : problems).push(r.said);
    } finally {
      if (snapshot) await fsp.rm(snapshot.path, { force: true });
    }
  };
  try {
    // SQLite databases one at a time (closing a descriptor of a file drops every lock this process holds on it), then
    // small files several at once: each costs a dozen trips to the disk (open, stat, write, fsync, rename, …); 5000
    // files of 100 bytes took 10.7 s one at a time, 6.2–7.2 s eight at a time (2 cores, loaded). Larger files one at a
    // time, each compressed on every core already (memory stays that of one). Side files last: stored only when
    // their database could not be snapshotted.
    for (const n of databases) await storeOne(n);
    await eachLimited(small, FILES_AT_ONCE, storeOne);
    for (const n of large) await storeOne(n);
    for (const n of sides) await storeOne(n);
  } finally {
    await removeTree(scratch);
  }
  const entries = stored.filter((e) => e !== undefined);
  return { entries, storedBytes, problems, warnings, diskFull };
}

/**
 * Runs `work` on each place of `places`, `limit` at once (mapLimited without its array of results, nor an array of
 * the places: 1.6 MiB held through the store of 100 000 files). After a failure none starts; the first is thrown
 * once the running ones have settled.
 */
async function eachLimited(places: Uint32Array, limit: number, work: (n: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < places.length)
      try {
        await work(places[next++]!);
      } catch (err) {
        failed = true;
        throw err;
      }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, places.length) }, lane));
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
}

/** `path` with its symlinks resolved, or as it is when it cannot be (gone, unreadable). */
function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * The folders of a set's manifest: each folder walked whose every name was stored (no include patterns: empty ones
 * too, as an application expects its `logs/` or `uploads/` to be there), and each that holds a stored file.
 */
export function folderEntries(folders: FolderItem[], files: FileEntry[] | ReadonlySet<string>): FolderEntry[] {
  // `files`: the entries, or the folders that hold one (`group/a/b`, as FileEntrySpill gathers them).
  let holding: ReadonlySet<string>;
  if (Array.isArray(files)) {
    const found = new Set<string>();
    for (const f of files) {
      const parts = `${f.group}/${f.relative}`.split('/');
      for (let i = 2; i < parts.length; i++) found.add(parts.slice(0, i).join('/'));
    }
    holding = found;
  } else holding = files as ReadonlySet<string>;
  return folders
    .filter((d) => d.all || holding.has(`${d.group}/${d.relative}`))
    .map((d) => ({
      group: d.group,
      relative: d.relative,
      ...(d.exact ? { relativeBytes: d.exact.toString('base64') } : {}),
      mode: d.mode,
      mtime: new Date(d.mtime).toISOString(),
      owner: ownerOf(d.uid, d.gid),
    }));
}
