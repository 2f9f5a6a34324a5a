import type { Command } from 'commander';
import { EXIT } from '../../core/exit-codes.js';
import { UsageError } from '../../core/errors.js';
import { readManifestHead } from '../../engine/catalog.js';
import { english, keepFailureWhy, phrase } from '../../core/phrases.js';
import { keepSet, setRemoteKeep } from '../../engine/remote-keep.js';
import { pruneSets } from '../../engine/prune.js';
import { DEFAULT_MANUAL_RETENTION } from '../../engine/retention.js';
import { addCommonOptions, runAction } from '../context.js';
import { foldLine, foldedTable, formatBytes, outputWidth } from '../format.js';
import { pruneFrom, pruneRow } from './offsite-prune.js';

/** `respaldo prune [--dry-run] [--from NAME]` and `respaldo keep <id> [--unset] [--from NAME]`. */
export function register(program: Command): void {
  addCommonOptions(
    program
      .command('prune')
      .description(
        'apply the retention policy: show why each set is kept or removed, then remove (refuses after a failed or partial backup)',
      )
      .option('--dry-run', 'show the decisions and remove nothing')
      .option('--from <name>', 'apply the retention at this destination (and remove what killed copies left there)'),
  ).action(
    runAction({ dryRun: 'flag', from: 'text' }, async (io, opts) => {
      if (opts.from) return pruneFrom(io, opts.from, opts.dryRun);
      const cfg = await io.config();
      const r = await pruneSets(cfg, { dryRun: opts.dryRun }, { emit: () => undefined });
      const rows = r.plan.map((p) => ({
        ...pruneRow(p, r.removed),
        ...(p.lacking ? { lacking: p.lacking } : {}),
        error: r.failed.find((f) => f.id === p.set.id)?.error ?? null,
      }));
      const code = r.failed.length ? EXIT.failed : EXIT.ok;
      if (io.json) {
        io.printJson({
          dryRun: r.dryRun,
          refused: r.refused,
          retention: cfg.retention,
          sets: rows,
          removed: r.removed,
          failed: r.failed,
          kept: r.kept,
          notCopied: r.notCopied,
        });
        return code;
      }
      const p = cfg.retention;
      // Folded to the terminal's width, as list is (piped: whole lines).
      const width = outputWidth();
      const say = (line: string): void => io.out(foldLine(line, width));
      say(
        `Retention: keepLast ${p.keepLast}, daily ${p.daily}, weekly ${p.weekly}, monthly ${p.monthly}, yearly ${p.yearly}${r.dryRun ? '  (dry run: nothing is removed)' : ''}`,
      );
      const m = { ...DEFAULT_MANUAL_RETENTION, ...p.manual };
      const byHand = `sets made by hand: ${m.days} days, and at least the newest ${m.keepLast}`;
      say(`Each job's sets are kept by these rules; ${byHand}.`);
      if (rows.length === 0) {
        io.out('No backup sets.');
        return code;
      }
      const verb = (x: (typeof rows)[number]): string =>
        x.action === 'keep' ? 'keep' : r.dryRun ? 'would remove' : x.removed ? 'removed' : 'NOT REMOVED';
      io.out(
        foldedTable(
          [
            ['SET', 'TYPE', 'STATUS', 'JOB', 'SIZE', 'ACTION', 'WHY'],
            ...rows.map((x) => [
              x.id,
              x.type,
              x.status,
              x.type === 'pre_restore' ? '-' : (x.job ?? 'by hand'),
              formatBytes(x.storedBytes),
              verb(x),
              x.reasons.join('; '),
            ]),
          ],
          width,
        ),
      );
      const byId = new Map(r.plan.map((p) => [p.set.id, p.set]));
      const chainThere = (id: string): boolean => {
        const set = byId.get(id);
        return Boolean(set) && (set!.needs ?? []).every((n) => n < id && chainThere(n));
      };
      const chained = rows.filter((x) => x.needs?.length);
      if (chained.length) io.out(`\nChains (a kept set needs every set it applies on; those are kept too):`);
      for (const x of chained) {
        const word = (id: string) => x.lacking?.find((l) => l.id === id)?.problem.toUpperCase();
        say(`  ${x.id} (${x.type}) needs ${x.needs!.map((n) => (word(n) ? `${n} (${word(n)})` : n)).join(' → ')}`);
        // An older set whose chain is all there restores what it holds; without one, restore latest has none to take.
        const older = r.plan.some(
          ({ set: o }) =>
            o.id < x.id &&
            chainThere(o.id) &&
            o.status === 'completed' &&
            (o.type === 'full' || o.type === 'differential' || o.type === 'incremental') &&
            o.databases.some((d) => x.databases.includes(d)),
        );
        if (x.lacking)
          say(
            older
              ? `    so ${x.id} cannot be restored (restore latest takes an older set; \`respaldo create --type full\` starts a new chain)`
              : `    so ${x.id} cannot be restored, and no older set restores its databases (\`respaldo create --type full\` makes one now)`,
          );
      }
      const removing = rows.filter((x) => x.action === 'remove');
      // Those kept only for a copy not made yet: a destination that stays unreachable holds them here.
      const held = r.notCopied.length
        ? ` (${r.notCopied.length} of them until copied off-site: \`respaldo status\` says why each copy failed)`
        : '';
      if (r.dryRun) say(`\n${removing.length} set(s) would be removed, ${r.kept} kept${held}.`);
      else say(`\n${r.removed.length} set(s) removed, ${r.kept} kept${held}.`);
      if (r.refused) say(`Note: a real prune would refuse now. ${r.refused}`);
      for (const f of r.failed) io.err(`respaldo: could not remove ${f.id}: ${f.error}`);
      return code;
    }),
  );

  addCommonOptions(
    program
      .command('keep')
      .description(
        'mark a set so retention never removes it, here and at the destinations it is copied to (--unset to clear the mark)',
      )
      .argument('<id>', 'set id (or latest)')
      .option('--unset', 'remove the keep mark')
      .option(
        '--from <name>',
        'mark (or clear) the set at this destination only (a set this server may no longer hold)',
      ),
  ).action(
    runAction({ unset: 'flag', from: 'text' }, async (io, opts, id: string) => {
      const cfg = await io.config();
      const keep = !opts.unset;
      const word = keep ? 'is marked keep' : 'is no longer marked keep';
      if (opts.from) {
        if (id === 'latest')
          throw new UsageError(
            'keep --from needs the id of the set.',
            `See the ids with respaldo list --from ${opts.from}.`,
          );
        await setRemoteKeep(cfg, opts.from, id, keep, io.signal);
        if (io.json) io.printJson({ id, keep, destinations: [opts.from], failed: [] });
        else
          io.out(
            `Set ${id} ${word} at ${opts.from}: prune --from ${opts.from} ${keep ? 'never removes it' : 'decides as for any set'}.`,
          );
        return;
      }
      const m = await readManifestHead(cfg, id, { shared: true });
      // The mark follows the set to where it is copied, so that prune --from there honours it from any server.
      const { destinations: marked, failed } = await keepSet(cfg, m.id, keep, io.signal);
      if (io.json) io.printJson({ id: m.id, keep, destinations: marked, failed });
      else {
        io.out(
          keep
            ? `Set ${m.id} is marked keep: retention never removes it.`
            : `Set ${m.id} is no longer marked keep: retention decides as for any set.`,
        );
        if (marked.length) io.out(`The mark is ${keep ? 'set' : 'cleared'} at ${marked.join(', ')} too.`);
      }
      for (const f of failed) {
        // a set removed there, a folder where the mark goes: no destination out of reach, a retry fails the same way
        const why = keepFailureWhy(f);
        const hint = why
          ? english(phrase('keep.notAtHint', { keep: String(keep), set: m.id, dest: f.destination, why }))
          : `run respaldo keep ${m.id}${keep ? '' : ' --unset'} --from ${f.destination} once it is reachable.`;
        io.err(
          `respaldo: the keep mark could not be ${keep ? 'written' : 'removed'} at ${f.destination}: ${f.error}\n` +
            `  hint: ${hint}`,
        );
      }
      return failed.length ? EXIT.notCopied : EXIT.ok;
    }),
  );
}
