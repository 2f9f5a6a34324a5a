import type { Command } from 'commander';
import { EXIT } from '../../core/exit-codes.js';
import type { DrillResult } from '../../core/types.js';
import { runDrill, type DrillOutcome } from '../../engine/drill.js';
import { runDrillFrom } from '../../engine/drill-from.js';
import { addCommonOptions, collect, runAction, type CommandIO } from '../context.js';
import { foldLine, formatDuration, outputWidth } from '../format.js';

/** One drill result in operator words: the outcome line, then one line per check. */
export function printDrillResult(io: CommandIO, r: DrillResult): void {
  io.out(
    `${r.ok ? 'passed' : 'FAILED'}  ${r.database}${r.engine ? ` (${r.engine})` : ''} in ${formatDuration(r.durationMs)}`,
  );
  for (const c of r.checks) {
    const state = c.skipped ? 'skipped' : c.ok ? 'ok' : 'FAILED';
    io.out(`    ${c.name}: ${state}${c.skipped ? ` (${c.skipped})` : c.detail ? ` (${c.detail})` : ''}`);
  }
  if (r.error) io.out(foldLine(`    error: ${r.error}`, outputWidth()));
  if (r.hint) io.out(foldLine(`    hint: ${r.hint}`, outputWidth()));
}

export function register(program: Command): void {
  addCommonOptions(
    program
      .command('drill')
      .description(
        'restore a set into scratch targets (a temporary file or database), check it and remove it; ' +
          'never touches live data',
      )
      .argument('[id]', 'set id, or latest (default: latest)')
      .option('--db <name>', 'only this database (repeatable)', collect)
      .option('--files', "also extract the set's files into a scratch folder and check them")
      .option(
        '--from <name>',
        'drill the copy at this destination: fetched (with its chain) into the backup folder, each file checked as it arrives, drilled, removed',
      ),
  ).action(
    runAction({ db: 'list', files: 'flag', from: 'text' }, async (io, opts, id?: string) => {
      const cfg = await io.config();
      const drillOpts = {
        ...(opts.db ? { databases: opts.db } : {}),
        ...(opts.files ? { files: true } : {}),
        signal: io.signal,
      };
      const outcome: DrillOutcome & { chainIds?: string[] } = opts.from
        ? await runDrillFrom(cfg, opts.from, id ?? 'latest', drillOpts, io.reporter)
        : await runDrill(cfg, id ?? 'latest', drillOpts, io.reporter);
      // The phrases are the menu's (its languages); the JSON keeps their English words.
      const { recoveredPhrases: _recovered, ...plain } = outcome;
      if (io.json)
        io.printJson({
          ...plain,
          results: outcome.results.map(({ phrases: _p, ...r }) => ({
            ...r,
            checks: r.checks.map(({ phrases: _, ...c }) => c),
          })),
        });
      else {
        for (const r of outcome.recovered) io.out(`recovered: ${r}`);
        const chain = outcome.chainIds?.length ? ` with the sets of its chain (${outcome.chainIds.join(', ')})` : '';
        const from = outcome.from ? ` fetched from destination "${outcome.from}"${chain}` : '';
        io.out(`Drill of set ${outcome.setId}${from}: ${outcome.ok ? 'passed' : 'FAILED'}`);
        for (const r of outcome.results) printDrillResult(io, r);
        if (outcome.from) io.out(`the fetched copy was removed from ${cfg.backupDir}`);
        if (outcome.notHere && outcome.results.length)
          io.out(`not recorded: set ${outcome.setId} is not in ${cfg.backupDir}, so there is no drilled.json to write`);
        else if (outcome.recorded) io.out(`recorded in ${outcome.setId}/drilled.json`);
        else if (outcome.results.length)
          io.out(`not recorded: ${outcome.setId}/drilled.json could not be written (see the warning above)`);
      }
      return outcome.ok ? EXIT.ok : EXIT.drillFailed;
    }),
  );
}
