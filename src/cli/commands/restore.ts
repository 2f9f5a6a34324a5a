import type { Command } from 'commander';
import { RefusedError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { executeRestore, planRestore, type RestoreOutcome, type RestorePlan } from '../../engine/restore.js';
import { addCommonOptions, collect, runAction, type CommandIO } from '../context.js';
import { formatBytes } from '../format.js';
import { withFetchedSet } from './offsite.js';

export const CONFIRM_WORD = 'RESTORE';

export function printRestorePlan(io: CommandIO, plan: RestorePlan): void {
  io.out(`Restore plan for set ${plan.setId} (${plan.setType}, ${plan.setStatus}, taken ${plan.setStartedAt})`);
  io.out(`  1. verify the stored files against the manifest (md5 + sha256); stop on any mismatch`);
  for (const d of plan.databases) {
    io.out(`\n  database ${d.database} (${d.engine}) -> ${d.target}`);
    io.out(`    ${d.replaces ? `REPLACES the current database${d.state.exists ? ` (${formatBytes(d.state.sizeBytes)})` : ' (it does not exist now)'}` : 'side by side: nothing is replaced'}`);
    io.out(`    stored ${formatBytes(d.storedBytes)}, ${formatBytes(d.rawBytes)} once restored`);
    for (const [i, s] of d.steps.entries()) io.out(`    ${i + 1}. ${s}`);
    io.out(`    safety: ${d.safety.kind === 'pre-restore-set' ? 'a pre_restore backup set is taken first' : d.safety.kind === 'renamed-database' ? `the live database is kept as ${d.safety.name}` : d.safety.reason}`);
    io.out(`    roll back: ${d.rollback}`);
    if (d.state.inUseBy.length) io.out(`    in use by: ${d.state.inUseBy.join(', ')}`);
  }
  if (plan.files) io.out(`\n  files: ${plan.files.count} file(s) and ${plan.files.symlinks} symlink(s), ${formatBytes(plan.files.bytes)}, into ${plan.files.to} (never over live files)`);
  io.out(`\n  safety copy: ${plan.safety}`);
  for (const w of plan.warnings) io.out(`  warning: ${w}`);
  for (const r of plan.refusals) io.out(`  REFUSED: ${r.message}\n    hint: ${r.hint}`);
}

/** How to undo a finished restore, per database, in operator words. */
export function rollbackLines(plan: RestorePlan, outcome: RestoreOutcome): string[] {
  const lines: string[] = [];
  const copied = outcome.databases.filter((d) => d.ok && !d.safetyDatabase && plan.databases.find((p) => p.database === d.name)?.replaces);
  const fileSet = outcome.safetySetIds.find((id) => id);
  if (copied.length && fileSet) lines.push(`Safety copy: set ${fileSet}. To roll back: respaldo restore ${fileSet} ${copied.map((d) => `--db ${d.name}`).join(' ')} --yes`);
  for (const d of outcome.databases.filter((x) => x.safetyDatabase)) {
    const step = plan.databases.find((p) => p.database === d.name);
    lines.push(`Safety copy of ${d.name}: database ${d.safetyDatabase} (listed in set ${outcome.safetySetIds[outcome.safetySetIds.length - 1] ?? '-'}). To roll back: ${step?.rollback ?? 'rename it back'}`);
  }
  return lines;
}

export function register(program: Command): void {
  addCommonOptions(
    program
      .command('restore')
      .description('restore databases and/or files from a backup set, verifying first and keeping a safety copy')
      .argument('<id>', 'set id, or latest')
      .option('--db <name>', 'only this database (repeatable)', collect)
      .option('--files', 'restore config and application files (into --to, or a new folder)')
      .option('--to <path>', 'restore side by side: a file or folder (SQLite, files) or a new database name (PostgreSQL, SQL Server)')
      .option('--table <schema.table>', 'PostgreSQL: only this table, side by side (repeatable)', collect)
      .option('--terminate-connections', 'close sessions connected to the live database at the swap')
      .option('--create-roles', 'PostgreSQL: first create the roles stored with the set ("globals": true) that the server lacks')
      .option('--dry-run', 'print the plan and change nothing')
      .option('--from <name>', 'restore from the copy at this destination (fetched, checked, then restored)')
      .option('-y, --yes', 'do not ask for confirmation'),
  ).action(
    runAction(async (io, opts, id: string) => withFetchedSet(io, opts, id, async (id, setFolder) => {
      const cfg = await io.config();
      const plan = await planRestore(cfg, id, {
        ...(setFolder ? { setFolder } : {}),
        ...(opts.db ? { databases: opts.db as string[] } : {}),
        ...(opts.files ? { files: true } : {}),
        ...(opts.to ? { to: String(opts.to) } : {}),
        ...(opts.table ? { tables: opts.table as string[] } : {}),
        terminateConnections: Boolean(opts.terminateConnections),
        ...(opts.createRoles ? { createRoles: true } : {}),
      });
      if (opts.dryRun) {
        if (io.json) io.printJson(plan);
        else printRestorePlan(io, plan);
        return plan.refusals.length ? EXIT.refused : EXIT.ok;
      }
      if (!io.json) printRestorePlan(io, plan);
      const refusal = plan.refusals[0];
      if (refusal) throw new RefusedError(refusal.message, refusal.hint);
      if (!opts.yes) {
        if (!io.isTTY) throw new RefusedError('Restore needs confirmation and there is no terminal to ask.', 'Review the plan with --dry-run, then pass --yes.');
        const ok = await io.confirmWord(`\nType ${CONFIRM_WORD} to go on (anything else cancels):`, CONFIRM_WORD);
        if (!ok) {
          io.err('Cancelled; nothing was changed.');
          return EXIT.refused;
        }
      }
      const outcome = await executeRestore(cfg, plan, io.reporter, { signal: io.signal });
      if (io.json) io.printJson(outcome);
      else {
        for (const d of outcome.databases) io.out(`${d.ok ? 'restored' : 'FAILED  '} ${d.name}${d.restoredTo ? ` -> ${d.restoredTo}` : ''}${d.safetyDatabase ? ` (previous kept as ${d.safetyDatabase})` : ''}${d.error ? `: ${d.error}${d.hint ? `\n  hint: ${d.hint}` : ''}` : ''}`);
        if (outcome.filesRestoredTo) io.out(`files restored into ${outcome.filesRestoredTo}`);
        for (const r of outcome.recovered) io.out(`recovered: ${r}`);
        for (const line of rollbackLines(plan, outcome)) io.out(line);
      }
      return outcome.ok ? EXIT.ok : EXIT.failed;
    })),
  );
}
