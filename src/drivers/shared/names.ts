import { readlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * One vocabulary for what a restore or a drill makes beside a live database, in every engine: server
 * databases `<live>__restore_<set>` (the staging copy pg_restore or RESTORE writes into),
 * `<live>__pre_restore_<set>` (the safety copy an in-place restore keeps) and `<live>__drill_<set>` (a drill's
 * scratch database); SQLite files `.respaldo-restore-…` (staging) and `.respaldo-aside-…` (the live file set
 * aside during the swap) beside the database. Recovery recognises leftovers by these marks alone, so they never
 * change (docs/architecture.md, "The recovery journal").
 */

/** What a derived database is for, and the word its name carries. */
export type DerivedKind = 'restore' | 'pre_restore' | 'drill';

/** The mark between a live database's name and the set id: `__<kind>_`. */
export function derivedMark(kind: DerivedKind): string {
  return `__${kind}_`;
}

/** Every kind, the longest mark first (`__pre_restore_` ends with `__restore_`'s letters). */
export const DERIVED_KINDS: readonly DerivedKind[] = ['pre_restore', 'restore', 'drill'];

/**
 * The file a path names, symlinks followed (a link that names no file yet: the file it names): SQLite opens that
 * file and keeps its -wal and -journal beside it, so a restore swaps it and recovery looks beside it. A path that is
 * not a link is returned as it is.
 */
export function fileNamedBy(path: string): string {
  let file = path;
  for (let hop = 0; hop < 40; hop++) {
    let to: string;
    try {
      to = readlinkSync(file);
    } catch {
      return file; // not a link, or nothing there
    }
    file = resolve(dirname(file), to);
  }
  return file;
}

/** SQLite: the staging copy of a restore, beside the database (`.respaldo-restore-<set>-<pid>…`). */
export const FILE_STAGING_MARK = '.respaldo-restore-';
/** SQLite: the live file set aside while the restored copy takes its place (`.respaldo-aside-…`). */
export const FILE_ASIDE_MARK = '.respaldo-aside-';

/**
 * The id part of the safety copy kept by the `round`-th in-place restore of one set while the earlier ones
 * are still kept: `<set>`, then `<set>__2`, `<set>__3`… (set ids never hold `__`). Restoring the same set
 * again, say after the application wrote into the first restore, keeps what it replaces beside the first copy.
 */
export function roundId(setId: string, round: number): string {
  return round <= 1 ? setId : `${setId}__${round}`;
}

/** `<set>__2` → the set and round 2; an id without a round is round 1. Pure. */
export function parseRound(id: string): { setId: string; round: number } {
  const m = /^(.+)__([1-9]\d{0,3})$/.exec(id);
  return m ? { setId: m[1]!, round: Number(m[2]) } : { setId: id, round: 1 };
}

/** The first round whose safety copy name (`nameOf(roundId(setId, round))`) is not taken. */
export function firstFreeRound(
  setId: string,
  nameOf: (id: string) => string,
  taken: (name: string) => boolean,
): number {
  let round = 1;
  while (taken(nameOf(roundId(setId, round)))) round++;
  return round;
}
