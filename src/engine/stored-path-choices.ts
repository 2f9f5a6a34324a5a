import type { FileEntry, FolderEntry } from '../core/types.js';
import { choosingPath, normalStoredPath, shownPath } from './restore-files.js';

/**
 * What a set stores below a typed path, one level at a time, as a shell lists a folder on Tab: the menu's restore of
 * some of a set's files (`restore --files --path` in the CLI) shows them and completes the path typed.
 */

/** A name stored right below the typed path's folder: a file (or symlink), or a folder and how many files it holds. */
export interface PathChoice {
  /** The whole stored path (`group/relative`); a folder's ends with `/`. */
  path: string;
  folder: boolean;
  /** Files and symlinks at or below it. */
  files: number;
}

export interface PathChoices {
  /** The path these choices were listed for, as typed. */
  typed: string;
  /** The first `limit` choices, sorted by path. */
  choices: PathChoice[];
  /** Choices past the limit. */
  more: number;
  /** Files and symlinks whose path begins with the typed path (every choice's, the ones past the limit too). */
  matched: number;
  /**
   * Files and symlinks a restore of the typed path takes (`restore --files --path`): the file of that path, or those
   * below the folder of that path; all of them when nothing is typed. A name typed in part begins some but takes none.
   */
  chosen: number;
}

/**
 * Pure: the stored paths of `entries` (files and symlinks) and `folders` that start with `typed` (`./` in front
 * dropped), each cut after the segment the typed path ends in: typing `application/ap` lists `application/app/`
 * (a folder, with its files counted) and `application/app.conf` (a file). `limit` choices at most are kept; the memory
 * is that of the distinct choices, whatever the number of entries.
 */
export function pathChoices(
  entries: Iterable<Pick<FileEntry, 'group' | 'relative'>>,
  folders: Iterable<Pick<FolderEntry, 'group' | 'relative'>>,
  typed: string,
  limit: number,
): PathChoices {
  const prefix = typed.replace(/^(\.\/)+/, '');
  const dirEnd = prefix.lastIndexOf('/') + 1;
  const asPath = normalStoredPath(prefix);
  const found = new Map<string, PathChoice>();
  let matched = 0;
  let chosen = 0;
  const note = (path: string, file: boolean): void => {
    // The folder typed itself (`config/`) is what is listed, not one of its choices.
    if (!path.startsWith(prefix) || (!file && path === prefix)) return;
    const slash = path.indexOf('/', dirEnd);
    const folder = slash >= 0;
    const key = folder ? path.slice(0, slash + 1) : path;
    let choice = found.get(key);
    if (!choice) found.set(key, (choice = { path: key, folder, files: 0 }));
    if (file) {
      choice.files++;
      matched++;
      if (!asPath || choosingPath(path, [asPath]) !== undefined) chosen++;
    }
  };
  for (const e of entries) note(shownPath(e), true);
  for (const d of folders) note(`${shownPath(d)}/`, false);
  const all = [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { typed, choices: all.slice(0, limit), more: Math.max(0, all.length - limit), matched, chosen };
}

/**
 * Pure: the longest path every choice starts with, when longer than `typed` (what Tab completes to); `typed` itself
 * otherwise. A single folder completes to its name and slash, so the next Tab lists inside it.
 */
export function completedPath(typed: string, listed: PathChoices): string {
  const paths = listed.choices.map((c) => c.path);
  if (listed.more > 0 || paths.length === 0) return typed;
  let common = paths[0]!;
  for (const p of paths.slice(1)) {
    let i = 0;
    while (i < common.length && i < p.length && common[i] === p[i]) i++;
    common = common.slice(0, i);
  }
  return common.length > typed.length ? common : typed;
}

/**
 * Pure: what `listed` (the last listing) says of the path `text` typed since. It applies while the path typed goes on
 * from the one listed (`current`; null when it does not, when it goes past a folder listed, or when that listing was
 * cut at its limit and the path typed goes past it); `shown`, the choices the path still begins; `chosen`, the files
 * a restore of it takes: as listed when it is the path listed, else the choice it names (a file: 1; a folder: its
 * files), 0 when it names none.
 */
export function typedChoices(
  listed: PathChoices | null,
  text: string,
): { current: PathChoices | null; shown: PathChoice[]; chosen: number } {
  const typed = text.replace(/^(\.\/)+/, '');
  const listedTyped = listed?.typed.replace(/^(\.\/)+/, '') ?? '';
  const same = typed === listedTyped;
  const current = listed && (same || (listed.more === 0 && typed.startsWith(listedTyped))) ? listed : null;
  // Typed past a folder listed (`application/uploads/…` from the top): that listing cannot tell, until one of it.
  const past = (c: PathChoice) => c.folder && typed.length > c.path.length && typed.startsWith(c.path);
  if (!current || (!same && current.choices.some(past))) return { current: null, shown: [], chosen: 0 };
  const shown = current.choices.filter((c) => c.path.startsWith(typed));
  const asPath = normalStoredPath(typed);
  const named = shown.find((c) => normalStoredPath(c.path) === asPath);
  const chosen = same ? current.chosen : named ? (named.folder ? named.files : 1) : 0;
  return { current, shown, chosen };
}
