import type { Phrase } from '../core/phrases.js';
import type { RestoreOutcome, RestorePlan } from './restore.js';

/**
 * How to undo a finished restore, one entry per kind of safety copy (pure; the CLI prints it in
 * English with rollbackLines, the menu in the operator's language):
 * - `restore-set`: the replaced databases were copied into a pre_restore set; restoring them from
 *   it (`command`) puts them back.
 * - `renamed-database`: a server database was kept renamed as `safetyDatabase` (listed in the
 *   pre_restore set `listedIn`); `how` restores that set, which swaps the kept database back in
 *   (the engine's own rollback words when no set lists it).
 * - `rolled-back`: this restore was itself a rollback: `keptDatabase` is live again and set `setId`
 *   no longer lists it.
 * - `raw-copy`: the replaced database could not be read as a consistent one (damaged, or left with a hot journal):
 *   set `setId` keeps its bytes, which no restore takes back; `command`, a dry run, prints how to put them back by
 *   hand (with its -journal or -wal). Advising `respaldo restore` for it gave a command that is refused.
 */
export type RollbackAdvice =
  | { kind: 'restore-set'; setId: string; databases: string[]; command: string }
  | {
      kind: 'renamed-database';
      database: string;
      safetyDatabase: string;
      listedIn: string | null;
      how: string;
      howPhrase?: Phrase;
    }
  | { kind: 'rolled-back'; database: string; keptDatabase: string; setId: string }
  | { kind: 'raw-copy'; setId: string; database: string; command: string };

/**
 * `configFile`: the config the restore ran with when the operator named it (`--config`): each command names it too,
 * so that it runs on the same backups wherever it is typed.
 */
export function rollbackAdvice(plan: RestorePlan, outcome: RestoreOutcome, configFile?: string): RollbackAdvice[] {
  const advice: RollbackAdvice[] = [];
  const config = configFile ? ` --config ${shellWord(configFile)}` : '';
  // Only what was there is in the safety set: a database the restore created (none before) has nothing to roll back.
  const copied = outcome.databases.filter((d) => {
    const planned = plan.databases.find((p) => p.database === d.name);
    return d.ok && !d.safetyDatabase && planned?.replaces && planned.state.exists;
  });
  const fileSet = outcome.safetySetIds.find((id) => id);
  const raw = new Set(outcome.rawSafety ?? []);
  if (fileSet)
    for (const d of copied.filter((x) => raw.has(x.name)))
      advice.push({
        kind: 'raw-copy',
        setId: fileSet,
        database: d.name,
        command: `respaldo restore ${fileSet} --db ${d.name} --dry-run${config}`,
      });
  const restorable = copied.filter((d) => !raw.has(d.name));
  if (restorable.length && fileSet) {
    const databases = restorable.map((d) => d.name);
    advice.push({
      kind: 'restore-set',
      setId: fileSet,
      databases,
      command: `respaldo restore ${fileSet} ${databases.map((d) => `--db ${d}`).join(' ')} --yes${config}`,
    });
  }
  for (const d of outcome.databases) {
    if (!d.safetyDatabase) continue;
    const step = plan.databases.find((p) => p.database === d.name);
    const listedIn = outcome.safetySetIds[outcome.safetySetIds.length - 1] ?? null;
    advice.push({
      kind: 'renamed-database',
      database: d.name,
      safetyDatabase: d.safetyDatabase,
      listedIn,
      ...(listedIn
        ? { how: `respaldo restore ${listedIn} --db ${d.name} --yes${config}` }
        : {
            how: step?.rollback ?? 'rename it back',
            ...(step?.rollbackPhrase ? { howPhrase: step.rollbackPhrase } : {}),
          }),
    });
  }
  const ok = (name: string): boolean => outcome.databases.some((o) => o.name === name && o.ok);
  for (const d of plan.databases) {
    if (d.swapsBack && ok(d.database))
      advice.push({ kind: 'rolled-back', database: d.database, keptDatabase: d.swapsBack, setId: plan.setId });
  }
  return advice;
}

/** rollbackAdvice in operator words (English), one line per entry. */
export function rollbackLines(plan: RestorePlan, outcome: RestoreOutcome, configFile?: string): string[] {
  return rollbackAdvice(plan, outcome, configFile).map((a) =>
    a.kind === 'restore-set'
      ? `Safety copy: set ${a.setId}. To roll back: ${a.command}`
      : a.kind === 'renamed-database'
        ? `Safety copy of ${a.database}: database ${a.safetyDatabase} (listed in set ${a.listedIn ?? '-'}). ` +
          `To roll back: ${a.how}`
        : a.kind === 'raw-copy'
          ? `Safety copy of ${a.database}: set ${a.setId}, its bytes as they were (it could not be read as a consistent ` +
            `database, so no restore takes it back). To put them back by hand: ${a.command} prints how.`
          : `Rolled back ${a.database}: ${a.keptDatabase} is the live database again; set ${a.setId} no longer lists it.`,
  );
}

/** Pure: `word` as one word of a POSIX shell command line (single-quoted unless it needs no quoting). */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
