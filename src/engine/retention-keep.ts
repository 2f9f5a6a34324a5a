import type { SetSummary } from '../core/types.js';
import { printedName, someNames } from '../core/format.js';
import { transitive, type PruneDecision } from './retention.js';

/**
 * What the retention keeps after its rules (retention.ts planPrune) for what the sets are on disk, pure: the sets a
 * damaged manifest may need, a set whose folder holds files respaldo did not write, a set not yet copied off-site;
 * each with the sets its chain applies on. The executors (prune.ts, remote-prune.ts) find those facts and apply these.
 */

/**
 * Keeps every set a damaged set may need (`damagedNeeds`, catalog.ts damagedSetNeeds), and what those need in turn:
 * repaired, it must find its chain. Pure.
 */
export function keepForDamaged(
  decisions: PruneDecision[],
  sets: readonly SetSummary[],
  damagedNeeds: ReadonlyMap<string, readonly string[]>,
): PruneDecision[] {
  const by = new Map<string, string[]>();
  for (const [damaged, needs] of damagedNeeds) {
    const all = new Set(needs);
    for (const n of needs) for (const t of transitive(sets, n)) all.add(t);
    for (const n of all) by.set(n, [...(by.get(n) ?? []), damaged]);
  }
  return decisions.map((d) => {
    const damaged = by.get(d.id);
    if (!damaged || d.action === 'keep') return d;
    return { id: d.id, action: 'keep', reasons: [`may be needed by ${damaged.join(', ')} (damaged manifest; chain)`] };
  });
}

/**
 * Keeps the sets whose folder holds files respaldo did not write (`strays`, by set id: before-delete.ts): removing
 * the set would remove them, and retention never deletes what an operator put there without asking.
 */
export function keepForStrays(
  decisions: PruneDecision[],
  sets: readonly SetSummary[],
  strays: ReadonlyMap<string, readonly string[]>,
  opts: { destination?: string } = {},
): PruneDecision[] {
  const why = new Map<string, string>();
  for (const [id, files] of strays) {
    if (!files.length) continue;
    why.set(
      id,
      `its folder also holds ${files.length} file(s) respaldo did not write (${someNames(files.map(printedName))}): ` +
        (opts.destination
          ? `move them out of it at "${opts.destination}"; the next \`respaldo prune --from ${opts.destination}\` removes the set`
          : `move them out, or delete the set with \`respaldo delete ${id}\``),
    );
  }
  return keepWithChains(decisions, sets, why);
}

/**
 * Keeps the local sets not yet copied to a destination they are copied to after each backup (`notCopied`, by set id:
 * those destinations, offsite-state.ts notCopiedOf), with the sets they apply on: a set is not safe until it exists
 * somewhere else, and the next backup (or `copy`) sends every set missing there, as PostgreSQL keeps a WAL segment
 * until it is archived. A destination that stays unreachable holds its sets here, said by each prune.
 */
export function keepForNotCopied(
  decisions: PruneDecision[],
  sets: readonly SetSummary[],
  notCopied: ReadonlyMap<string, readonly string[]>,
): PruneDecision[] {
  const why = new Map<string, string>();
  for (const [id, to] of notCopied) {
    if (!to.length) continue;
    why.set(
      id,
      `not yet copied to ${to.join(', ')}: kept until it is (the next backup copies it, or \`respaldo copy ${id}\` now; ` +
        `\`respaldo delete ${id}\` removes it anyway)`,
    );
  }
  return keepWithChains(decisions, sets, why);
}

/** Keeps each set the plan removes that `why` names (its reason), and every set its chain applies on. */
function keepWithChains(
  decisions: PruneDecision[],
  sets: readonly SetSummary[],
  why: ReadonlyMap<string, string>,
): PruneDecision[] {
  const kept = decisions.filter((d) => d.action === 'remove' && why.has(d.id)).map((d) => d.id);
  // A set kept for its own reason keeps the sets it applies on (a differential or incremental needs its chain).
  const neededBy = new Map<string, string[]>();
  for (const id of kept) for (const n of transitive(sets, id)) neededBy.set(n, [...(neededBy.get(n) ?? []), id]);
  return decisions.map((d) => {
    if (d.action === 'keep') return d;
    const reason = why.get(d.id);
    if (reason) return { id: d.id, action: 'keep', reasons: [reason] };
    const by = neededBy.get(d.id);
    return by ? { id: d.id, action: 'keep', reasons: [`needed by ${by.join(', ')} (kept; chain)`] } : d;
  });
}
