import { existsSync, opendirSync } from 'node:fs';
import { join } from 'node:path';
import { formatLocal } from '../core/format.js';
import { phrase, type Phrase } from '../core/phrases.js';
import type { FileEntry, LoadedConfig, Manifest } from '../core/types.js';
import { DRILLED_NAME, KEEP_MARK, VERIFIED_NAME, listSets, setDir } from './catalog.js';
import { SEALED_SENT_JOURNAL, SEALED_SENT_NAME } from './copy-seal.js';
import { COPIES_NAME } from './copy.js';
import { MANIFEST_NAME } from './manifest.js';
import { notCopiedOf } from './offsite-state.js';

/**
 * What an operator is told before a set goes (`delete`, the menu's delete, `prune`): what the set is to them
 * (a safety copy, the only or newest backup of a database, a database it keeps on the server) and what else its
 * folder holds that respaldo did not write. Nothing here removes anything.
 */

/** The temporary name of an atomic write (durable-fs.ts) that a killed run may have left. */
const ATOMIC_TEMP = /^\.\d+\.\d+\.[a-z0-9]*\.tmp$/;

/**
 * The files in set `m`'s folder (relative paths, sorted) that are neither stored by the set nor respaldo's own
 * marks beside it: put there by someone (notes, a file copied in by hand). Deleting the set would take them too.
 * `files`: the entries of its files when `m.files` does not hold them (a manifest read lean); gone through once, or
 * twice in the rare case below.
 *
 * Neither side is held as text: each path respaldo wrote is kept as a 53-bit hash (8 bytes, read from the entries one
 * at a time), then the folder is read a few entries at a time and each file looked up by its path's hash. Held as
 * strings (every file's path, and a Set of them, while the manifest was read again), the prompt of a set of 100 000
 * files peaked 40 MiB above its details. Two files of the folder with one hash (never seen: about 1 in 10^11 at
 * 100 000 files) make it compare the paths themselves, as it did.
 */
export function strayFiles(dir: string, m: Manifest, files: Iterable<FileEntry> = m.files): string[] {
  const marks = [VERIFIED_NAME, DRILLED_NAME, COPIES_NAME, SEALED_SENT_NAME, SEALED_SENT_JOURNAL];
  const written = new PathHashes();
  for (const p of [MANIFEST_NAME, KEEP_MARK, ...marks]) written.add(p);
  for (const d of m.databases) {
    if (d.file) written.add(d.file);
    for (const x of d.extras ?? []) written.add(x.file);
  }
  for (const f of files) if (f.stored) written.add(f.stored);
  const found = written.done();
  const strays: string[] = [];
  for (const path of folderFiles(dir)) {
    const at = found.indexOf(path);
    if (at < 0) strays.push(path);
    else if (!found.take(at)) return notWrittenByRespaldo([...folderFiles(dir)], m, marks, files);
  }
  return strays.sort();
}

/**
 * The files (and symlinks) under `dir` as relative paths, read a few directory entries at a time, but for the
 * temporary files of writes killed midway.
 */
function* folderFiles(dir: string): Generator<string> {
  const folders = [''];
  for (let rel = folders.pop(); rel !== undefined; rel = folders.pop()) {
    const d = opendirSync(join(dir, rel));
    try {
      for (let e = d.readSync(); e; e = d.readSync()) {
        const path = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) folders.push(path);
        else if (!ATOMIC_TEMP.test(e.name)) yield path;
      }
    } finally {
      d.closeSync();
    }
  }
}

/** Paths as 53-bit hashes (pathHash): added, then sorted once (done) to be looked up, each found one taken once. */
class PathHashes {
  private hashes = new Float64Array(1024);
  private count = 0;
  private taken: Uint8Array | null = null;

  add(path: string): void {
    if (this.count === this.hashes.length) {
      const more = new Float64Array(this.hashes.length * 2);
      more.set(this.hashes);
      this.hashes = more;
    }
    this.hashes[this.count++] = pathHash(path);
  }

  /** Sorted, each hash once: ready for indexOf and take. */
  done(): this {
    const sorted = this.hashes.subarray(0, this.count).sort();
    let n = 0;
    for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[n - 1]) sorted[n++] = sorted[i]!;
    this.hashes = sorted.slice(0, n);
    this.taken = new Uint8Array(n);
    return this;
  }

  /** Where `path`'s hash is, or -1 when no path added has it. */
  indexOf(path: string): number {
    const h = pathHash(path);
    let lo = 0;
    let hi = this.hashes.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = this.hashes[mid]!;
      if (x === h) return mid;
      if (x < h) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Takes the hash at `at`: false when it was taken already (two paths looked up had that hash). */
  take(at: number): boolean {
    if (this.taken![at]) return false;
    this.taken![at] = 1;
    return true;
  }
}

/** A 53-bit hash of `s` (cyrb53: two 32-bit multiply-xor lanes), an integer a double holds exactly. */
function pathHash(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * Pure: of `paths` (relative to set `m`'s folder, here or at a destination), those neither stored by the set, nor
 * its manifest or keep mark, nor one of `marks` (respaldo's other files beside a set), sorted.
 */
export function notWrittenByRespaldo(
  paths: readonly string[],
  m: Manifest,
  marks: readonly string[] = [],
  files: Iterable<FileEntry> = m.files,
): string[] {
  // What is left of `paths` once each path respaldo wrote is taken out (the entries gone through one at a time)
  const left = new Set(paths);
  for (const p of [MANIFEST_NAME, KEEP_MARK, ...marks]) left.delete(p);
  for (const d of m.databases) {
    if (d.file) left.delete(d.file);
    for (const x of d.extras ?? []) left.delete(x.file);
  }
  for (const f of files) if (f.stored) left.delete(f.stored);
  return paths.filter((p) => left.has(p)).sort();
}

/** The stray files of set `m`, or none when it or its folder cannot be read (the deletion says why then). */
export function strayFilesOf(
  cfg: Pick<LoadedConfig, 'backupDir'>,
  m: Manifest | null,
  files?: Iterable<FileEntry>,
): string[] {
  if (!m) return [];
  try {
    return strayFiles(setDir(cfg, m.id), m, files);
  } catch {
    return [];
  }
}

/** What deleting set `m` takes away, one sentence each, in the order an operator should read them. */
export async function deleteNotes(cfg: LoadedConfig, m: Manifest, files?: Iterable<FileEntry>): Promise<Phrase[]> {
  const notes: Phrase[] = [];
  const drops = m.databases.flatMap((d) => (d.safetyDatabase ? [d.safetyDatabase] : []));
  if (drops.length) notes.push(phrase('delete.dropsSafety', { set: m.id, dbs: drops.join(', '), count: drops.length }));
  const strays = strayFilesOf(cfg, m, files);
  if (strays.length)
    notes.push(
      phrase('delete.strayFiles', {
        set: m.id,
        files: strays.slice(0, 3).join(', '),
        more: Math.max(0, strays.length - 3),
        count: strays.length,
      }),
    );
  // Marked keep: someone chose to keep it for good (the menu's prompt said nothing of it, `respaldo delete` did).
  if (existsSync(join(setDir(cfg, m.id), KEEP_MARK))) notes.push(phrase('delete.markedKeep', { set: m.id }));
  if (m.type === 'pre_restore') {
    notes.push(phrase('delete.safetyCopy', { set: m.id, of: m.restoreOf ?? '?', at: formatLocal(m.startedAt) }));
    return notes;
  }
  const sets = (await listSets(cfg)).filter((s) => s.type !== 'pre_restore' && s.status !== 'failed');
  for (const db of m.databases.filter((d) => !d.error).map((d) => d.name)) {
    const holding = sets.filter((s) => s.databases.includes(db));
    if (holding.length === 1 && holding[0]!.id === m.id) notes.push(phrase('delete.onlyBackup', { set: m.id, db }));
    else if (holding[0]?.id === m.id)
      notes.push(phrase('delete.newestBackup', { set: m.id, db, next: holding[1]!.id }));
  }
  // Not yet at a destination it is copied to after a backup: this is the only copy (retention keeps it for that).
  const notThere = notCopiedOf(cfg, { type: m.type, status: m.status, path: setDir(cfg, m.id) });
  if (notThere.length) notes.push(phrase('delete.notCopied', { set: m.id, dests: notThere.join(', ') }));
  return notes;
}
