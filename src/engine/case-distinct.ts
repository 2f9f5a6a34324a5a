import { createHash } from 'node:crypto';

/**
 * The longest name given, in bytes: the 255 of ext4, xfs, btrfs (exFAT and NTFS count 255 characters), less room for
 * the `.age` a copy encrypted for its destination adds (as files.ts storedPath keeps).
 */
const ROOM = 255 - '.age'.length;

/**
 * The stored paths of a set's files, made distinct where they differ only by case (pure). Linux keeps `LICENSE` and
 * `license` (or the folders `App/` and `app/`) apart; a destination on a disk that does not (an exFAT or NTFS USB
 * drive, an SMB share of a NAS, OneDrive) would write the second over the first, or merge the two folders, and the
 * copy there would restore the wrong bytes for one of them (found only at its restore, by its hash). The first path
 * keeps its name; a later name (of a file or a folder) that differs from one already taken in the same folder only by
 * case gets `~` and a hash of the name, before `suffixes` (the codec's extension) on a file's. The manifest's
 * `stored` records what was chosen; restores go by it and write each file under its own name.
 */
export function caseDistinct(paths: readonly string[], suffixes: string): string[] {
  const distinct = distinctOne(suffixes);
  return paths.map(distinct);
}

/**
 * As caseDistinct, the paths given one by one (none held), and only those it changes kept: by their place among
 * those given. A create of 100 000 files held every stored path, with the list they were made from, until stored.
 */
export function caseChanges(paths: Iterable<string>, suffixes: string): Map<number, string> {
  const distinct = distinctOne(suffixes);
  const changed = new Map<number, string>();
  let k = 0;
  for (const path of paths) {
    const made = distinct(path);
    if (made !== path) changed.set(k, made);
    k++;
  }
  return changed;
}

/** Gives each path of a set its distinct stored path, the paths given before it taken into account. */
function distinctOne(suffixes: string): (path: string) => string {
  const root = folder();
  return (path) => {
    const parts = path.split('/');
    let at = root;
    return parts
      .map((part, i) => {
        // A file's name and a folder's are kept apart even when alike (a file `notes` is `notes.zst`, beside a
        // folder `notes.zst/`): one path cannot be both.
        const last = i === parts.length - 1;
        const key = last ? `file:${part}` : `folder:${part}`;
        // Each path is a file of its own: two given the same stored name (the 64-bit hash of two long names that
        // clash) are kept apart as well, never written to one path.
        let child = last ? undefined : at.children.get(key);
        if (!child) {
          let stored = part;
          for (let n = 0; at.taken.has(fold(stored)); n++) stored = tagged(part, last ? suffixes : '', n);
          at.taken.add(fold(stored));
          // A file is never looked up again: no folder of its own (a Map and a Set a file, 100 000 files held them
          // all until the last path was made).
          if (last) return stored;
          child = { stored, folder: folder() };
          at.children.set(key, child);
        }
        at = child.folder;
        return child.stored;
      })
      .join('/');
  };
}

interface Folder {
  children: Map<string, { stored: string; folder: Folder }>;
  /** The names taken in this folder, folded. */
  taken: Set<string>;
}

const folder = (): Folder => ({ children: new Map(), taken: new Set() });

/**
 * A name as a disk that ignores case compares it. Through upper case first: letters with one capital but two small
 * forms (σ and ς, μ and µ, s and ſ) are one name on a disk that folds case as Unicode does (APFS, ext4's casefold)
 * or by capitals; a name folded too far (ß and ss) is only tagged when it need not be.
 */
const fold = (name: string): string => name.normalize('NFC').toUpperCase().toLowerCase();

/** `name` (without `suffixes`) with `~` and a hash of it (and of `n`, past the first), cut to fit ROOM. */
function tagged(name: string, suffixes: string, n: number): string {
  const base = suffixes && name.endsWith(suffixes) ? name.slice(0, -suffixes.length) : name;
  const end = base === name ? '' : suffixes;
  const hash = `~${createHash('sha256')
    .update(n ? `${name}\0${n}` : name)
    .digest('hex')
    .slice(0, 16)}`;
  let prefix = '';
  for (const ch of base) {
    if (Buffer.byteLength(prefix + ch + hash + end) > ROOM) break;
    prefix += ch;
  }
  return `${prefix}${hash}${end}`;
}
