/**
 * A set's manifest: its name, how it is written (manifestText) and read (whole, or with its files not held:
 * readManifestLean), and every check of what it holds. One file of about 575 lines: both readers run the same checks
 * of each entry of `files` (fileShapeProblem, filePathProblem, …), in the order the whole checks give their errors.
 */
import { printable, shownName } from '../core/format.js';
import { closeSync, fstatSync, openSync, readFileSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { VerifyError } from '../core/errors.js';
import { firstNonUtf8Line } from '../config/interpolate.js';
import type {
  CodecName,
  DatabaseEntry,
  FileEntry,
  FileOwner,
  FolderEntry,
  Manifest,
  StoredFile,
} from '../core/types.js';
import { DUMP_MEMBER_ROLE } from '../core/types.js';
import { capabilitiesOf } from '../drivers/capabilities.js';
import { isSetId } from './set-id.js';
import { heldYoung, holdYoung } from './garbage.js';
import { manifestPieces, parseManifestInPieces } from './manifest-stream.js';

export const MANIFEST_NAME = 'manifest.json';

/**
 * Whether a path stored in a manifest is a plain relative path that stays inside its root:
 * no absolute paths, no `..`, no NUL, no empty segments. A backslash is a character of a name here, as on
 * Linux (a file `back\slash` is stored and restored under that name), never a separator.
 */
/**
 * The text of `m` as `JSON.stringify(m, null, 2)` followed by a newline writes it, in pieces: each top-level field,
 * and each entry of its `files` and `folders`, on its own. A set of 20 000 files has a manifest of about 15 MB, which
 * written whole was held twice at once (the text and its bytes): 20 MiB of its create's peak RSS. `files`: the text
 * of each entry of `files` (FileEntrySpill.texts), in place of `m.files`.
 */
export function* manifestText(m: Manifest, files?: Iterable<string>): Generator<string> {
  const fields = Object.entries(m).filter(([, v]) => v !== undefined);
  if (fields.length === 0) {
    yield '{}\n';
    return;
  }
  yield '{';
  for (const [n, [key, value]] of fields.entries()) {
    yield `${n ? ',' : ''}\n  ${JSON.stringify(key)}: `;
    if (key === 'files' && files) {
      let i = 0;
      for (const text of files) yield `${i++ ? ',' : '['}\n    ${text}`;
      yield i ? '\n  ]' : '[]';
      continue;
    }
    if (!Array.isArray(value) || value.length === 0 || (key !== 'files' && key !== 'folders')) {
      yield (JSON.stringify(value, null, 2) ?? 'null').replace(/\n/g, '\n  ');
      continue;
    }
    for (const [i, item] of value.entries()) yield `${i ? ',' : '['}\n    ${entryText(item)}`;
    yield '\n  ]';
  }
  yield '\n}\n';
}

/** The text of an entry of a manifest's `files` or `folders` as manifestText writes it (its lines indented there). */
export function entryText(entry: unknown): string {
  return (JSON.stringify(entry, null, 2) ?? 'null').replace(/\n/g, '\n    ');
}

/** The texts of `entries` (entryText), each as `as` gives it, for manifestText's `files`: made as they are read. */
export function* entryTexts<T>(entries: Iterable<T>, as: (entry: T) => unknown = (e) => e): Generator<string> {
  for (const e of entries) yield entryText(as(e));
}

export function isSafeRelative(p: string): boolean {
  if (!p || p.includes('\0') || isAbsolute(p) || /^[A-Za-z]:/.test(p)) return false;
  const parts = p.split('/');
  if (parts.some((s) => s === '' || s === '.' || s === '..')) return false;
  return !normalize(p).startsWith('..' + sep);
}

/** Every stored path of a manifest (database files, extras, files). */
export function storedPaths(m: Manifest): string[] {
  const out: string[] = [];
  for (const d of m.databases) {
    if (d.file) out.push(d.file);
    for (const x of d.extras ?? []) out.push(x.file);
  }
  for (const f of m.files) if (f.stored) out.push(f.stored);
  return out;
}

/**
 * Pure: whether extra `x` of entry `d` only serves the next differential or incremental (its driver's
 * `nextBackupRoles`: SQLite's page map). No restore reads it: missing or damaged, it is a warning, not damage.
 */
export function nextBackupOnly(d: Pick<DatabaseEntry, 'engine'>, x: Pick<StoredFile, 'role'>): boolean {
  return x.role !== undefined && capabilitiesOf(d.engine).nextBackupRoles.includes(x.role);
}

/**
 * Pure: the bytes a database entry stores in all before compression, as entryStoredBytes counts its stored bytes:
 * its file and each extra (globals, SQLite's page map), the members of a directory dump once (its file's rawBytes
 * already holds them). An incremental of SQLite stores a few changed pages and a page map of every page: without
 * the page map its original size was a few bytes beside a stored size of kilobytes.
 */
export function entryRawBytes(entry: Pick<DatabaseEntry, 'rawBytes' | 'extras'>): number {
  const others = (entry.extras ?? []).filter((x) => !x.role?.startsWith(DUMP_MEMBER_ROLE));
  return entry.rawBytes + others.reduce((sum, x) => sum + x.rawBytes, 0);
}

/** Pure: what a database entry stores in all, its file and every extra (globals, the members of a directory dump). */
export function entryStoredBytes(entry: Pick<DatabaseEntry, 'storedBytes' | 'extras'>): number {
  return entry.storedBytes + (entry.extras ?? []).reduce((sum, x) => sum + x.storedBytes, 0);
}

/**
 * Reads and checks a set's manifest: JSON, schema version, and every path-like field (pathProblem).
 * A manifest that fails is reported as a verify failure (the set is damaged).
 */
export function readManifestFile(setDir: string): Manifest {
  const size = statSync(join(setDir, MANIFEST_NAME), { throwIfNoEntry: false })?.size ?? 0;
  return heldYoung(() => checkedManifest(setDir), size);
}

function checkedManifest(setDir: string): Manifest {
  const file = join(setDir, MANIFEST_NAME);
  // In pieces (manifest-stream.ts); anything that reads so is read whole, for the error it always gave.
  const inPieces = parseManifestInPieces(file);
  if (inPieces) return checkedShape(file, inPieces);
  let m: Manifest;
  try {
    const buf = readFileSync(file);
    // respaldo writes its manifests as UTF-8 (JSON.stringify), as JSON must be: a byte that is no UTF-8 was changed
    // after (a bit flipped on a disk, an edit saved as Latin-1). Decoded anyway it became U+FFFD and the set was
    // taken as intact, its text silently not what was written: damage, as unreadable JSON is.
    const line = firstNonUtf8Line(buf);
    if (line !== null)
      throw new VerifyError(
        `${file}: unreadable manifest (not valid UTF-8 at line ${line}: a byte changed there, or the file was saved in another encoding)`,
      );
    m = JSON.parse(buf.toString('utf8')) as Manifest;
  } catch (err) {
    if (err instanceof VerifyError) throw err;
    // JSON.parse quotes the bytes it choked on: from a destination they may be anything (escape sequences).
    throw new VerifyError(`${file}: unreadable manifest (${printable((err as Error).message)})`);
  }
  return checkedShape(file, m);
}

/**
 * A set's manifest with its `files` not held: `head` is the manifest but for `files`, which is empty there unless
 * the manifest was read whole (text this does not read in pieces); `files` goes through them. Checked as
 * readManifestFile checks it, with the same errors: each entry of `files` as it is parsed, then kept by none. The
 * manifest of a set of 100 000 files parsed whole held about 40 MiB of entries: `list`, `verify` and a files
 * restore need each entry one at a time. `remember: false`: a copy about to be removed (a destination's, read in a
 * scratch folder), neither looked up among the last reads nor kept with them. `shared`: the head kept among the last
 * reads itself, not a copy of it, for a caller that only looks (never changes it): copying the head of a set of 5000
 * tables costs what reading it does.
 */
export function readManifestLean(
  setDir: string,
  opts: { remember?: boolean; shared?: boolean } = {},
): { head: Manifest; files: ManifestFiles } {
  const file = join(setDir, MANIFEST_NAME);
  const st = statSync(file, { throwIfNoEntry: false });
  const stamp = st ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}` : '';
  const known = st && opts.remember !== false ? leanRead.get(file) : undefined;
  // Each caller gets its own head (some add to what they are given); `files` reads the file again, as it was.
  if (known?.stamp === stamp)
    return { head: opts.shared ? known.read.head : structuredClone(known.read.head), files: known.read.files };
  const read = heldYoung(() => leanManifest(file, st), st?.size ?? 0);
  if (st && read.head.files.length === 0 && opts.remember !== false) {
    forget(file);
    const head = opts.shared ? read.head : structuredClone(read.head);
    // The head's size: the file's when small, else its text's (the `files` of a set of 100 000 are 57 MB of it).
    const bytes = st.size < 1 << 20 ? st.size : JSON.stringify(head, null, 2).length;
    leanRead.set(file, { stamp, bytes, read: { head, files: read.files } });
    leanBytes += bytes;
    while (leanRead.size > LEAN_READS_KEPT || (leanBytes > LEAN_READS_BYTES && leanRead.size > 1))
      forget(leanRead.keys().next().value!);
  }
  return read;
}

/**
 * The last lean reads of manifests (their heads: a few KiB each, MiB for a set of thousands of tables), by file, with
 * the stat they were read at: the menu reads a set's manifest for its list, its header, its details, its drills and
 * its copies, and each read of the manifest of a set of 100 000 files (57 MB) took about half a second. A manifest
 * respaldo rewrites is a new file renamed in (another inode), one changed in place has another size or time: it is
 * read again.
 */
const leanRead = new Map<string, { stamp: string; bytes: number; read: { head: Manifest; files: ManifestFiles } }>();
const LEAN_READS_KEPT = 256;
/**
 * The heads' sizes kept at most, as JSON text (a head takes about as much heap): the head of a set of 5000 PostgreSQL
 * tables is 2.4 MB of text and 2.2 MiB of heap, and 256 of them were all kept.
 */
const LEAN_READS_BYTES = 32 << 20;
let leanBytes = 0;

/** How many heads the last reads keep, and their sizes as JSON text (tests). */
export function leanReadsKept(): { count: number; bytes: number } {
  return { count: leanRead.size, bytes: leanBytes };
}

function forget(file: string): void {
  const known = leanRead.get(file);
  if (!known) return;
  leanRead.delete(file);
  leanBytes -= known.bytes;
}

/** The entries of a manifest's `files` (readManifestLean): read again from the file each time unless held. */
export interface ManifestFiles {
  readonly count: number;
  /** The entries' sizes added up (original bytes). */
  readonly bytes: number;
  /** The groups of the entries (`config`, `application`). */
  readonly groups: ReadonlySet<FileEntry['group']>;
  /**
   * Each entry in order, checked again as it is read (a manifest replaced or changed since is a VerifyError, as is
   * an entry that no longer passes its checks).
   */
  entries(): Generator<FileEntry>;
}

/** ManifestFiles of entries held (a manifest read whole, a set's decrypted copy). */
export function heldFiles(entries: readonly FileEntry[]): ManifestFiles {
  return {
    count: entries.length,
    bytes: entries.reduce((sum, f) => sum + f.size, 0),
    groups: new Set(entries.map((f) => f.group)),
    *entries() {
      yield* entries;
    },
  };
}

/** The first problem of each kind found with an entry of `files` (checkedShape). */
interface FilesProblems {
  shape: string | null;
  path: string | null;
  hash: string | null;
  plain: string | null;
}

function leanManifest(file: string, st: Stats | undefined): { head: Manifest; files: ManifestFiles } {
  const found: FilesProblems = { shape: null, path: null, hash: null, plain: null };
  let count = 0;
  let bytes = 0;
  const groups = new Set<FileEntry['group']>();
  const onFile = (entry: unknown): void => {
    const f = entry as FileEntry;
    count++;
    if (f !== null && typeof f === 'object') groups.add(f.group);
    if (f !== null && typeof f === 'object' && typeof f.size === 'number') bytes += f.size;
    found.shape ??= fileShapeProblem(f);
    found.path ??= filePathProblem(f);
    found.hash ??= fileHashProblem(f);
    found.plain ??= filePlainProblem(f);
  };
  const head = st ? parseManifestInPieces(file, undefined, { onFile }) : undefined;
  if (!head) {
    const m = checkedManifest(dirname(file));
    return { head: m, files: heldFiles(m.files) };
  }
  checkedShape(file, head, found);
  const changed = () =>
    new VerifyError(
      `${file}: the manifest changed while it was read`,
      'Another program replaced or edited it; run the command again, and verify the set if it was not respaldo.',
    );
  const same = (now: Stats) =>
    now.ino === st!.ino && now.dev === st!.dev && now.size === st!.size && now.mtimeMs === st!.mtimeMs;
  return {
    head,
    files: {
      count,
      bytes,
      groups,
      *entries() {
        const fd = openSync(file, 'r');
        const release = holdYoung();
        try {
          if (!same(fstatSync(fd))) throw changed();
          const queue: FileEntry[] = [];
          let seen = 0;
          for (const step of manifestPieces(fd, undefined, (e) => queue.push(e as FileEntry))) {
            if (step === undefined) throw changed();
            for (const f of queue) {
              const problem =
                fileShapeProblem(f) ??
                filePathProblem(f) ??
                fileHashProblem(f) ??
                (head.encryption ? filePlainProblem(f) : null);
              if (problem) throw new VerifyError(`${file}: ${problem}`, DAMAGED_HINT);
              seen++;
              yield f;
            }
            queue.length = 0;
          }
          if (seen !== count || !same(fstatSync(fd))) throw changed();
        } finally {
          release();
          closeSync(fd);
        }
      },
    },
  };
}

const DAMAGED_HINT = 'This manifest was tampered with or damaged; do not restore from it.';

/**
 * `m`, parsed from `file`, when it is a respaldo manifest with nothing amiss; else a VerifyError saying what is.
 * `files`: what was found of the entries of its `files` as they were parsed (then not in `m.files`).
 */
function checkedShape(file: string, m: Manifest, files?: FilesProblems): Manifest {
  if (
    m === null ||
    typeof m !== 'object' ||
    m.schemaVersion !== 1 ||
    !Array.isArray(m.databases) ||
    !Array.isArray(m.files) ||
    typeof m.id !== 'string'
  ) {
    throw new VerifyError(
      `${file}: not a respaldo manifest (schemaVersion 1 expected)`,
      'The set may come from a newer respaldo version, or the file was damaged.',
    );
  }
  const problem = files
    ? (shapeProblem(m) ??
      files.shape ??
      pathProblem(m, files.path) ??
      hashProblem(m) ??
      files.hash ??
      codecProblem(m) ??
      encryptionProblem(m, files.plain))
    : (shapeProblem(m) ?? pathProblem(m) ?? hashProblem(m) ?? codecProblem(m) ?? encryptionProblem(m));
  if (problem) throw new VerifyError(`${file}: ${problem}`, DAMAGED_HINT);
  return m;
}

/**
 * Pure: a field every listing, retention and restore reads that is missing or not what respaldo writes (its type,
 * status and times, its totals, each database's name), or null. Without this a set whose `totals` were removed
 * made `list` fail on it and leave it out without a word (and retention and `delete` blind to what it needs).
 */
export function shapeProblem(m: Manifest): string | null {
  const when = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
  if (!['full', 'differential', 'incremental', 'schema', 'pre_restore'].includes(m.type as string))
    return `type ${JSON.stringify(m.type)} is not a set type`;
  if (!['completed', 'partial', 'failed'].includes(m.status as string))
    return `status ${JSON.stringify(m.status)} is not a set status`;
  if (!when(m.startedAt)) return `startedAt ${JSON.stringify(m.startedAt)} is not a time`;
  if (!when(m.completedAt)) return `completedAt ${JSON.stringify(m.completedAt)} is not a time`;
  const t = m.totals as unknown as Record<string, unknown> | null | undefined;
  if (!t || typeof t !== 'object' || !['storedBytes', 'rawBytes', 'files'].every((k) => count(t[k])))
    return 'totals (storedBytes, rawBytes, files) missing or not whole numbers from 0';
  const bad = m.databases.findIndex((d) => !d || typeof d !== 'object' || typeof d.name !== 'string');
  if (bad >= 0) return `databases[${bad}] has no name`;
  // One database stored twice in a set is none respaldo writes: a restore took one entry and the plan named both.
  const twice = m.databases.find((d, i) => m.databases.findIndex((e) => e.name === d.name) !== i);
  if (twice) return `database ${twice.name} is listed twice`;
  // Row counts are what a restore is checked against: -4 failed a good restore as "does not match the backup".
  for (const d of m.databases) {
    const tables = d.tables as unknown;
    if (tables === null || tables === undefined) continue;
    if (typeof tables !== 'object' || Array.isArray(tables)) return `tables of ${d.name} is not a list of row counts`;
    for (const [t, n] of Object.entries(tables as Record<string, unknown>))
      if (!count(n)) return `row count ${JSON.stringify(n)} of table ${JSON.stringify(t)} of ${d.name} is not a count`;
  }
  // Sizes are counted bytes: the room a restore or fetch needs and the progress are summed from them (1e300 or -5
  // made a restore refuse for want of room no disk has, or pass a room check it should not).
  const sized = [...m.databases, ...m.databases.flatMap((d) => d.extras ?? [])] as unknown as Record<string, unknown>[];
  for (const e of sized)
    for (const k of ['rawBytes', 'storedBytes'])
      if (e[k] !== undefined && !count(e[k]))
        return `${k} ${JSON.stringify(e[k])} of ${String(e['file'] ?? e['name'])} is not a size`;
  return firstProblem(m.files, fileShapeProblem);
}

/** The first problem `check` finds with an entry of `entries`, or null. */
function firstProblem<T>(entries: readonly T[], check: (e: T) => string | null): string | null {
  for (const e of entries) {
    const p = check(e);
    if (p) return p;
  }
  return null;
}

/** Pure: shapeProblem of one entry of `files`. */
function fileShapeProblem(entry: FileEntry): string | null {
  const when = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
  // A file's mode and time are set on what is restored: a mode that was none restored it as 0000 without a word.
  const f = entry as unknown as Record<string, unknown>;
  if (!f || typeof f !== 'object') return null; // pathProblem names it
  const of = `of ${String(f['relative'])}`;
  if (!count(f['size'])) return `size ${JSON.stringify(f['size'])} ${of} is not a size`;
  if (!count(f['mode']) || (f['mode'] as number) > 0o7777)
    return `mode ${JSON.stringify(f['mode'])} ${of} is not a file mode`;
  if (!when(f['mtime'])) return `mtime ${JSON.stringify(f['mtime'])} ${of} is not a time`;
  return null;
}

/** A count of bytes or files: a whole number from 0 that a double holds exactly. */
function count(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Pure: a stored file whose MD5 or SHA-256 is missing or not one (every file respaldo stores is hashed as it is
 * written), or null. Without this a file whose hashes were removed from the manifest would be skipped by
 * `verify` and the check before a restore, and pass for checked.
 */
export function hashProblem(m: Manifest): string | null {
  const md5 = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{32}$/.test(v);
  const sha = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
  const check = (path: unknown, h: { md5?: unknown; sha256?: unknown }): string | null =>
    !md5(h.md5)
      ? `missing or malformed md5 of ${String(path)}`
      : !sha(h.sha256)
        ? `missing or malformed sha256 of ${String(path)}`
        : null;
  for (const d of m.databases) {
    if (typeof d.file === 'string') {
      const p = check(d.file, d);
      if (p) return p;
    }
    for (const x of d.extras ?? []) {
      const p = check(x.file, x);
      if (p) return p;
    }
  }
  return firstProblem(m.files, fileHashProblem);
}

/** Pure: hashProblem of one entry of `files`. */
function fileHashProblem(f: FileEntry): string | null {
  if (f.kind !== 'file') return null;
  const md5 = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{32}$/.test(v);
  const sha = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
  return !md5(f.md5)
    ? `missing or malformed md5 of ${String(f.stored)}`
    : !sha(f.sha256)
      ? `missing or malformed sha256 of ${String(f.stored)}`
      : null;
}

const CODECS: readonly unknown[] = [undefined, 'gzip', 'zstd'] satisfies (CodecName | undefined)[];

/** Pure: a codec this respaldo does not know (the set comes from a newer version, or was damaged), or null. */
export function codecProblem(m: Manifest): string | null {
  const entries = [m, ...m.databases, ...m.databases.flatMap((d) => d.extras ?? [])] as { codec?: unknown }[];
  const bad = entries.find((e) => !CODECS.includes(e.codec));
  return bad ? `unknown codec ${JSON.stringify(bad.codec)}` : null;
}

/**
 * Pure: an `encryption` this respaldo does not know, or an encrypted set with a stored file not named `.age`; or null.
 */
export function encryptionProblem(m: Manifest, plainFile = firstProblem(m.files, filePlainProblem)): string | null {
  const e = m.encryption as unknown as { format?: unknown; recipients?: unknown; passphrase?: unknown } | undefined;
  if (e === undefined) return null;
  const known = e !== null && typeof e === 'object' && e.format === 'age' && typeof e.passphrase === 'boolean';
  if (!known || !Array.isArray(e.recipients) || e.recipients.some((r) => typeof r !== 'string'))
    return `unknown encryption ${JSON.stringify(e)}`;
  const plain = storedPaths({ ...m, files: [] }).find((p) => !p.endsWith('.age'));
  return plain ? `encrypted set with a stored file not encrypted: ${JSON.stringify(plain)}` : plainFile;
}

/** Pure: an entry of `files` whose stored file is not named `.age` (encryptionProblem of an encrypted set), or null. */
function filePlainProblem(f: FileEntry): string | null {
  return f.stored && !f.stored.endsWith('.age')
    ? `encrypted set with a stored file not encrypted: ${JSON.stringify(f.stored)}`
    : null;
}

/**
 * Whether `v` is the exact bytes of a name shown as `shown` (FileEntry.relativeBytes, linkTargetBytes): canonical
 * base64 of bytes that shownName shows so. The shown name is checked as a path; its bytes then are the same path.
 */
function bytesOf(v: unknown, shown: unknown): boolean {
  if (typeof v !== 'string' || !v) return false;
  const bytes = Buffer.from(v, 'base64');
  return bytes.toString('base64') === v && shownName(bytes) === shown;
}

const FILE_GROUPS: readonly unknown[] = ['config', 'application'] satisfies FileEntry['group'][];

/**
 * A database name as the config allows it (`databases[].name` in the schema), so as every manifest respaldo writes
 * has it. A name with a line break or an escape sequence, printed in `list --from`, forged rows of sets that do not
 * exist there.
 */
const DATABASE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;

/** A single path segment: a safe relative path without separators. */
function isSafeName(s: unknown): boolean {
  return typeof s === 'string' && isSafeRelative(s) && !s.includes('/');
}

/**
 * Pure: the first problem with a path-like field of a manifest (those that name files or folders
 * respaldo writes or reads), or null. The set id is one path segment, each database name one the config allows;
 * stored paths (`databases[].file`, extras, `files[].stored`) and `files[].relative` are safe
 * relative paths; `files[].group` is `config` or `application`; a file entry has a stored path and a
 * symlink entry a link target without NUL (the target is data, restored as it is, never followed); the exact bytes
 * of a name or target that is not UTF-8 (`relativeBytes`, `linkTargetBytes`) are those it shows.
 */
export function pathProblem(m: Manifest, files = firstProblem(m.files, filePathProblem)): string | null {
  const bad = (what: string, v: unknown) => `unsafe ${what} ${JSON.stringify(v)}`;
  if (!isSetId(m.id)) return bad('set id', m.id);
  for (const d of m.databases as unknown[] as Partial<DatabaseEntry>[]) {
    if (d === null || typeof d !== 'object' || !isSafeName(d.name) || !DATABASE_NAME.test(d.name!))
      return bad('database name', d?.name);
    const stored = `stored path of ${d.name}`;
    if (d.file !== null && !(typeof d.file === 'string' && isSafeRelative(d.file))) return bad(stored, d.file);
    // The set a delta entry builds on is found by its id (locally a folder of that name, remotely a key).
    if (d.base !== undefined && !(typeof d.base === 'string' && isSetId(d.base)))
      return bad(`base set of ${d.name}`, d.base);
    if (d.extras !== undefined && !Array.isArray(d.extras)) return bad(`extras of ${d.name}`, d.extras);
    for (const x of d.extras ?? []) {
      if (typeof x?.file !== 'string' || !isSafeRelative(x.file)) return bad(stored, x?.file);
    }
  }
  if (files) return files;
  if (m.folders !== undefined && !Array.isArray(m.folders)) return bad('folders', m.folders);
  for (const d of (m.folders ?? []) as unknown[] as Partial<FolderEntry>[]) {
    if (d === null || typeof d !== 'object') return bad('folder entry', d);
    if (!FILE_GROUPS.includes(d.group)) return bad('folder group', d.group);
    if (typeof d.relative !== 'string' || !isSafeRelative(d.relative)) return bad('folder path', d.relative);
    if (d.relativeBytes !== undefined && !bytesOf(d.relativeBytes, d.relative))
      return `folders[].relativeBytes of ${d.relative} is not the base64 of its name: ${JSON.stringify(d.relativeBytes)}`;
    if (!Number.isInteger(d.mode) || d.mode! < 0 || d.mode! > 0o7777)
      return bad(`mode of folder ${d.relative}`, d.mode);
    if (typeof d.mtime !== 'string' || isNaN(Date.parse(d.mtime))) return bad(`time of folder ${d.relative}`, d.mtime);
    if (d.owner !== undefined && !isOwner(d.owner)) return bad(`owner of folder ${d.relative}`, d.owner);
  }
  return null;
}

/** Pure: pathProblem of one entry of `files`. */
function filePathProblem(entry: FileEntry): string | null {
  const bad = (what: string, v: unknown) => `unsafe ${what} ${JSON.stringify(v)}`;
  const f = entry as Partial<FileEntry> | null;
  const at = f?.relative;
  if (f === null || typeof f !== 'object') return bad('file entry', f);
  if (!FILE_GROUPS.includes(f.group)) return bad('file group', f.group);
  if (typeof f.relative !== 'string' || !isSafeRelative(f.relative)) return bad('file path', f.relative);
  if (f.relativeBytes !== undefined && !bytesOf(f.relativeBytes, f.relative))
    return `files[].relativeBytes of ${at} is not the base64 of its name: ${JSON.stringify(f.relativeBytes)}`;
  if (f.kind === 'file') {
    if (typeof f.stored !== 'string' || !isSafeRelative(f.stored)) return bad(`stored path of ${at}`, f.stored);
  } else if (f.kind === 'symlink') {
    if (f.stored !== null && f.stored !== undefined) return bad(`stored path of symlink ${f.relative}`, f.stored);
    const target = f.linkTarget;
    if (typeof target !== 'string' || !target || target.includes('\0')) return bad(`link target of ${at}`, target);
    if (f.linkTargetBytes !== undefined && !bytesOf(f.linkTargetBytes, target))
      return `files[].linkTargetBytes of ${at} is not the base64 of its target: ${JSON.stringify(f.linkTargetBytes)}`;
  } else return bad(`kind of ${f.relative}`, f.kind);
  if (f.owner !== undefined && !isOwner(f.owner)) return bad(`owner of ${at}`, f.owner);
  return null;
}

/** An owner as respaldo records it: ids a uid_t holds, names without `:` or a line break (as /etc/passwd has). */
function isOwner(o: unknown): o is FileOwner {
  if (o === null || typeof o !== 'object') return false;
  const r = o as Record<string, unknown>;
  const id = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
  const name = (v: unknown) => v === undefined || (typeof v === 'string' && v !== '' && !/[:\n\0]/.test(v));
  return id(r['uid']) && id(r['gid']) && name(r['user']) && name(r['group']);
}
