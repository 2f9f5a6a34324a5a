import type { LoadedConfig, SetSummary } from '../core/types.js';
import { readCopies } from './copy.js';

/**
 * Where each local set is off-site, from the marks `copy` leaves beside it (copies.json): what
 * `list`, `status` and the menu show. Reads only local files; never contacts a destination.
 */

/** Whether a set is meant to be copied off-site (safety copies and failed sets are not). */
export function isCopied(s: Pick<SetSummary, 'type' | 'status'>): boolean {
  return s.type !== 'pre_restore' && s.status !== 'failed';
}

/**
 * The destinations with copyAfterBackup that set `s` is not (yet) copied to: never tried, or the
 * last copy failed. Empty for sets that are not copied (safety copies, failed sets).
 */
export function notCopiedOf(
  cfg: Pick<LoadedConfig, 'destinations'>,
  s: Pick<SetSummary, 'type' | 'status' | 'path'>,
): string[] {
  if (!isCopied(s)) return [];
  const marks = readCopies(s.path);
  return (cfg.destinations ?? [])
    .filter((d) => d.copyAfterBackup !== false && marks[d.name]?.ok !== true)
    .map((d) => d.name);
}

/** The sets with `notCopiedTo` filled in (only when the config has destinations). */
export function withOffsite(cfg: Pick<LoadedConfig, 'destinations'>, sets: SetSummary[]): SetSummary[] {
  if (!cfg.destinations?.length) return sets;
  return sets.map((s) => ({ ...s, notCopiedTo: notCopiedOf(cfg, s) }));
}

/** One destination as `status` shows it. */
export interface DestinationState {
  destination: string;
  type: string;
  copyAfterBackup: boolean;
  /** The newest local set copied there (by the marks), and when it was copied. */
  newestCopied: { setId: string; at: string } | null;
  /** Local sets not copied there, newest first. */
  notCopied: string[];
  /** The newest failed copy there of a set still not copied. */
  lastError: { setId: string; at: string; error: string } | null;
}

/** Per destination: the newest set there, the sets not copied, the last error (local sets newest first). */
export function offsiteState(cfg: Pick<LoadedConfig, 'destinations'>, sets: SetSummary[]): DestinationState[] {
  const copied = sets.filter(isCopied).map((s) => ({ s, marks: readCopies(s.path) }));
  return (cfg.destinations ?? []).map((d) => {
    // A set removed there by delete --from or prune --from (prunedAt) is not there any more.
    const good = copied.find((x) => x.marks[d.name]?.ok === true && !x.marks[d.name]?.prunedAt);
    const failed = copied
      .map((x) => ({ setId: x.s.id, mark: x.marks[d.name] }))
      .filter((x) => x.mark && !x.mark.ok)
      .sort((a, b) => (a.mark!.at < b.mark!.at ? 1 : -1))[0];
    return {
      destination: d.name,
      type: d.type,
      copyAfterBackup: d.copyAfterBackup !== false,
      newestCopied: good ? { setId: good.s.id, at: good.marks[d.name]!.at } : null,
      notCopied: copied.filter((x) => x.marks[d.name]?.ok !== true).map((x) => x.s.id),
      lastError: failed ? { setId: failed.setId, at: failed.mark!.at, error: failed.mark!.error ?? 'failed' } : null,
    };
  });
}
