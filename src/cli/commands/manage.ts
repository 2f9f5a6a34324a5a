import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { RefusedError, UsageError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { english } from '../../core/phrases.js';
import { deleteNotes } from '../../engine/before-delete.js';
import {
  KEEP_MARK,
  chainBaseRefusal,
  chainDependents,
  deleteSet,
  listSets,
  readManifestLeanOf,
  setDir,
} from '../../engine/catalog.js';
import { isSetId } from '../../engine/set-id.js';
import { parseRound } from '../../drivers/shared/names.js';
import { getStatus } from '../../engine/status.js';
import { addCommonOptions, runAction, type CommandIO } from '../context.js';
import type { LoadedConfig } from '../../core/types.js';
import {
  fitTable,
  foldLine,
  formatAge,
  formatBytes,
  formatDuration,
  formatLocal,
  outputWidth,
  table,
} from '../format.js';

export function register(program: Command): void {
  addCommonOptions(
    program
      .command('delete')
      .description('delete a backup set (and the server-side safety database a pre_restore set holds)')
      .argument('<id>', 'set id')
      .option('-y, --yes', 'do not ask for confirmation')
      .option('--from <name>', 'delete the copy of the set at this destination instead (the local set stays)'),
  ).action(
    runAction({ yes: 'flag', from: 'text' }, async (io, opts, id: string) => {
      const cfg = await io.config();
      // A set is deleted by its id, never by a word that names whichever set is newest now.
      if (!isSetId(parseRound(id).setId))
        throw new UsageError(
          `delete takes a set id (YYYYMMDD_HHMMSS), not "${id}".`,
          `Name the set to delete: \`respaldo list${opts.from ? ` --from ${opts.from}` : ''}\` shows the ids.`,
        );
      if (opts.from) return deleteFrom(io, cfg, opts.from, id, opts.yes);
      // Its entries read as its folder is compared with them (deleteNotes), not held
      const { head: m, files } = await readManifestLeanOf(cfg, id, { shared: true });
      const kept = existsSync(join(setDir(cfg, m.id), KEEP_MARK)); // made deliberately: said before and after
      // Refused before anything is asked: a differential or incremental applies on it.
      const dependents = await chainDependents(cfg, m.id);
      if (dependents.length) throw chainBaseRefusal(m.id, dependents);
      if (!opts.yes && !io.isTTY)
        throw new RefusedError(
          `Deleting set ${m.id} needs confirmation and there is no terminal to ask.`,
          'Pass --yes.',
        );
      // What the set is, said first (on stderr, --yes too): the way back of a restore, the last backup of a database
      for (const note of await deleteNotes(cfg, m, { [Symbol.iterator]: () => files.entries() })) io.err(english(note));
      if (!opts.yes) {
        if (!(await io.confirmWord(`Type ${m.id} to delete that set:`, m.id))) {
          io.err('Cancelled; nothing was deleted.');
          return EXIT.refused;
        }
      }
      await deleteSet(cfg, m.id);
      if (io.json) io.printJson({ deleted: m.id, ...(kept ? { wasMarkedKeep: true } : {}) });
      else io.out(`Deleted set ${m.id}${kept ? ' (it was marked keep)' : ''}.`);
    }),
  );

  addCommonOptions(
    program
      .command('status')
      .description('sets, sizes, newest set per database, health (overdue, failures, size and duration), free disk')
      .option('--check', 'only the health: one line per problem and exit 10 when there is any (for monitoring)'),
  ).action(
    runAction({ check: 'flag' }, async (io, opts) => {
      const cfg = await io.config();
      const { getHealth } = await import('../../engine/health.js');
      if (opts.check) {
        const { checkHealthAndAlert } = await import('../../engine/health-alerts.js');
        const health = await getHealth(cfg);
        // Said first, then the channels told, one attempt each: a mail server that does not answer held the
        // answer back for 48 s (monitoring gave up first), and an alert not sent is sent again by the next check.
        if (io.json) io.printJson(health);
        else if (health.healthy)
          io.out(
            cfg.schedule.jobs.length
              ? `healthy: ${health.databases.length} database(s) backed up as the schedule promises`
              : `healthy: ${health.databases.length} database(s) backed up (no schedule: no backup is due at a time)`,
          );
        else for (const p of health.problems) io.out(p);
        await checkHealthAndAlert(cfg, new Date(health.at), { health, notify: { attempts: 1 } });
        return health.healthy ? EXIT.ok : EXIT.unhealthy;
      }
      const [s, health] = await Promise.all([getStatus(cfg, new Date(), { databases: true }), getHealth(cfg)]);
      if (io.json) {
        io.printJson({ ...s, health });
        return;
      }
      io.out(`Config:      ${s.configFile}`);
      io.out(`Backups in:  ${s.backupDir}`);
      io.out(`Sets:        ${s.sets} (${formatBytes(s.totalBytes)}), free disk ${formatBytes(s.freeBytes)}`);
      if (s.safetySets.length) io.out(`Safety sets: ${s.safetySets.join(', ')} (pre_restore)`);
      io.out(`Lock:        ${s.lock.held ? `held (${s.lock.holder})` : (s.lock.holder ?? 'free')}`);
      // While a run holds the lock, what it works on looks like what a killed run leaves: said so, not "left over".
      const running = s.lock.held && s.lock.purpose ? `a ${s.lock.purpose} runs now (pid ${s.lock.pid})` : null;
      if (s.leftovers.length)
        io.out(
          running
            ? `Working:     ${s.leftovers.join(', ')} (${running}: they may be its own; leave them, the next create or restore after it removes what a killed run left)`
            : `Leftovers:   ${s.leftovers.join(', ')} (${s.leftoversHint})`,
        );
      if (s.createdRoles.length) io.out('Roles made by killed restores (--create-roles; nothing may use them):');
      for (const r of s.createdRoles)
        io.out(
          `  ${r.database}: ${r.roles.map((n) => JSON.stringify(n)).join(', ')} on ${r.server} (set ${r.setId}, ${formatLocal(r.at, { seconds: true })}); if unwanted: ${r.dropSql}`,
        );
      const onServers = (s.databaseLeftovers ?? []).filter((d) => d.leftovers.length || d.error);
      if (onServers.length)
        io.out(
          running
            ? `Restores running or interrupted (${running}: a temporary database may be its own; leave it):`
            : 'Interrupted restores:',
        );
      for (const d of onServers) {
        for (const line of d.leftovers) io.out(`  ${d.database}: ${line}`);
        if (d.error) io.out(`  ${d.database}: could not check (${d.error})`);
      }
      // How the last restore of each database ended: after a dropped SSH session, without reading the log.
      if (s.lastRestores.length) io.out('Last restores:');
      for (const r of s.lastRestores) io.out(foldLine(`  ${r.database}: ${r.saidEn}`, outputWidth()));
      io.out('');
      const drilled = (name: string): string => {
        const d = health.databases.find((x) => x.database === name)?.lastDrill;
        if (!d) return 'never';
        return `${d.ok ? 'passed' : 'FAILED'} ${formatAge(Date.now() - new Date(d.at).getTime())} ago (set ${d.setId})`;
      };
      const ageOf = (d: (typeof s.newestPerDatabase)[number]) =>
        d.ageSeconds === null ? 'never' : `${formatAge(d.ageSeconds * 1000)} ago`;
      // A newest set whose own verification failed is DAMAGED, as `list` and the menu say it (health says why).
      const damaged = new Set((await listSets(cfg)).filter((x) => x.lastVerified?.ok === false).map((x) => x.id));
      const header = ['DATABASE', 'ENGINE', 'NEWEST SET', 'AGE', 'LAST DRILL'];
      const rows = s.newestPerDatabase.map((d) => [
        d.database,
        d.engine,
        d.setId
          ? `${d.setId}${d.type !== 'full' ? ` (${d.type})` : ''}${damaged.has(d.setId) ? ' DAMAGED' : ''}`
          : 'none',
        ageOf(d),
        drilled(d.database),
      ]);
      // On a terminal, the last drill (the longest cell) folds within its width at spaces, never mid-word.
      const width = outputWidth();
      io.out((width !== null ? fitTable([header, ...rows], width, 4, 3) : null) ?? table([header, ...rows]));
      if (s.offsite.length) {
        io.out('');
        const ago = (at: string) => `${formatAge(Date.now() - new Date(at).getTime())} ago`;
        const newestThere = (d: (typeof s.offsite)[number]) =>
          // What this server copied there (its marks): the destination is not asked, and may hold other sets.
          d.newestCopied ? `${d.newestCopied.setId} (${ago(d.newestCopied.at)})` : 'none from here';
        const pending = (d: (typeof s.offsite)[number]) =>
          d.notCopied.length ? `${d.notCopied.length}${d.copyAfterBackup ? '' : ' (copied by hand)'}` : '0';
        const offsiteRows = s.offsite.map((d) => [d.destination, d.type, newestThere(d), pending(d)]);
        io.out(table([['DESTINATION', 'TYPE', 'NEWEST SET THERE', 'NOT COPIED'], ...offsiteRows]));
        for (const d of s.offsite) {
          const e = d.lastError;
          const line = e ? `  ${d.destination}: set ${e.setId} NOT copied ${ago(e.at)}: ${e.error}` : null;
          if (line) io.out(foldLine(line, outputWidth()));
        }
        const missing = s.offsite.some((d) => d.notCopied.length);
        if (missing) io.out('  `respaldo copy` copies what is missing (the next backup does too).');
      }
      io.out('');
      io.out(health.healthy ? 'Health: healthy' : `Health: ${health.problems.length} problem(s)`);
      for (const p of health.problems) io.out(foldLine(`  ${p}`, outputWidth()));
      const jobs = Object.entries(s.scheduler.jobs);
      if (jobs.length) {
        const sched = s.scheduler.scheduler;
        io.out(
          `\nScheduler: ${sched ? `${sched.running ? 'running' : sched.gone ? 'not running: its process is gone (killed?); the last run shown may not have finished' : 'stopped'} (pid ${sched.pid} on ${sched.host})` : 'never ran'}`,
        );
        io.out(
          table([
            ['JOB', 'LAST RUN', 'OUTCOME', 'DURATION', 'NEXT RUN'],
            ...jobs.map(([name, j]) => [
              name,
              j.lastRun ? formatLocal(j.lastRun) : 'never',
              j.unfinished === 'running' ? 'running' : (j.lastOutcome ?? '-'),
              j.lastDurationMs === null ? '-' : formatDuration(j.lastDurationMs),
              formatLocal(j.nextRun),
            ]),
          ]),
        );
      }
    }),
  );
}

/** `delete ID --from NAME`: the set's copy at a destination, once what it is there was said and confirmed. */
async function deleteFrom(io: CommandIO, cfg: LoadedConfig, name: string, id: string, yes: boolean): Promise<number> {
  const { deleteFromDestination } = await import('../../engine/remote-delete.js');
  const { check, deleted } = await deleteFromDestination(cfg, name, id, async (c) => {
    if (!yes && !io.isTTY)
      throw new RefusedError(
        `Deleting set ${id} at destination "${name}" needs confirmation and there is no terminal to ask.`,
        'Pass --yes.',
      );
    // What the set is there, said first (on stderr, --yes too).
    const what =
      c.state === 'damaged'
        ? `its manifest fails its checks (${c.problem}); `
        : c.state === 'incomplete'
          ? 'it has no manifest (an unfinished copy); '
          : '';
    io.err(`Set ${id} at "${name}" (${c.where}): ${what}${c.files} file(s), ${formatBytes(c.bytes)}.`);
    for (const note of c.notes) io.err(english(note));
    if (c.keep) io.err(`Set ${id} is marked keep (\`respaldo keep\`): retention never removes it.`);
    if (yes) return true;
    const ok = await io.confirmWord(`Type ${id} to delete that set at ${name}:`, id);
    if (!ok) io.err(`Cancelled; nothing was deleted at ${name}.`);
    return ok;
  });
  if (!deleted) return EXIT.refused;
  if (io.json)
    io.printJson({
      deleted: id,
      destination: name,
      where: check.where,
      state: check.state,
      localCopy: check.localCopy,
      ...(check.keep ? { wasMarkedKeep: true } : {}),
    });
  else
    io.out(
      `Deleted set ${id} at destination "${name}"${check.keep ? ' (it was marked keep)' : ''}.` +
        (check.localCopy ? ` The local set stays; \`respaldo copy ${id} --to ${name}\` sends it there again.` : ''),
    );
  return EXIT.ok;
}
