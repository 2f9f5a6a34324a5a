import { formatBytes } from '../core/format.js';
import { phrase, type Phrase } from '../core/phrases.js';
import type { LoadedConfig } from '../core/types.js';
import { listSets, readManifestHead } from './catalog.js';

/** A database an in-place restore replaces, and how its safety copy is kept. */
export interface Replaced {
  database: string;
  /** Kept renamed on its server (PostgreSQL, SQL Server), not as files of a pre_restore set. */
  renamed: boolean;
  /**
   * Renamed: the safety copies of this database its server holds now (`TargetState.keptSafeties`), when the
   * driver says. A copy a pre_restore set names that the server no longer has (a server rebuilt, a copy dropped by
   * hand) takes no room there, and is not said to.
   */
  keptNow?: readonly string[];
}

/**
 * Warnings for a restore plan: the safety copies that earlier in-place restores of the databases this one replaces
 * still keep. Retention never removes them, so each restore of the same database on a bad day adds one: for a
 * server database a whole copy on its server's disk (a third restore needs room for a third), for a file database
 * its pre_restore set in the backup folder. Each warning names them and the commands that remove them (which
 * drop a renamed database with its set); none when there are none.
 */
export async function earlierSafetyWarnings(
  cfg: Pick<LoadedConfig, 'backupDir'>,
  replaced: readonly Replaced[],
): Promise<Phrase[]> {
  if (!replaced.length) return [];
  const safetySets = (await listSets(cfg, { type: 'pre_restore' })).reverse(); // oldest first
  const out: Phrase[] = [];
  for (const r of replaced) {
    const sets = safetySets.filter((s) => s.databases.includes(r.database));
    if (!sets.length) continue;
    // `delete` takes one set: a command for each, run one after the other.
    if (r.renamed) {
      const names: string[] = [];
      const onServer: string[] = [];
      for (const s of sets) {
        const kept = (await readManifestHead(cfg, s.id, { shared: true }).catch(() => null))?.databases.find(
          (d) => d.name === r.database,
        )?.safetyDatabase;
        if (!kept || (r.keptNow && !r.keptNow.includes(kept))) continue;
        names.push(kept);
        onServer.push(s.id);
      }
      if (!names.length) continue;
      out.push(
        phrase('plan.earlierSafetyRenamed', {
          db: r.database,
          count: String(names.length),
          names: names.join(', '),
          commands: onServer.map((id) => `respaldo delete ${id}`).join(' && '),
        }),
      );
    } else {
      const commands = sets.map((s) => `respaldo delete ${s.id}`).join(' && ');
      const size = formatBytes(sets.reduce((n, s) => n + s.storedBytes, 0));
      out.push(phrase('plan.earlierSafetySets', { db: r.database, count: String(sets.length), size, commands }));
    }
  }
  return out;
}
