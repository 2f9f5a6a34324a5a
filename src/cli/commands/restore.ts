import type { Command } from 'commander';
import { RefusedError, UsageError } from '../../core/errors.js';
import { ambiguousAtTime, atInFuture, atWithin, parseAtTime, startedThenPhrases } from '../../engine/chain.js';
import { EXIT } from '../../core/exit-codes.js';
import type { RestoreOutcome } from '../../engine/restore.js';
import { english, phrase, type Phrase } from '../../core/phrases.js';
import {
  executeRestore,
  planRestore,
  planRestoreAt,
  refusalError,
  selectionPhrases,
  type RestorePlan,
} from '../../engine/restore.js';
import type { DatabaseRestorePlan } from '../../engine/restore.js';
import { rollbackLines } from '../../engine/rollback-advice.js';
import { addCommonOptions, collect, runAction, type CommandIO } from '../context.js';
import { foldLine, formatBytes, formatLocal, outputWidth } from '../format.js';
import { printedName } from '../../core/format.js';
import type { OptionSpec } from '../options.js';
import { withFetchedSet } from './offsite.js';
import { checkBeforeFetch, fetchPlanned, fetchedRestoreOptions, type FetchedSet } from '../../engine/remote-fetch.js';
import { heldLock } from '../../engine/lock.js';

export const CONFIRM_WORD = 'RESTORE';

/**
 * The plan in operator words, starting with which set was chosen and why; on a terminal each line is
 * folded to its width at word boundaries (piped, lines are left whole).
 */
export function printRestorePlan(io: CommandIO, plan: RestorePlan, width: number | null = outputWidth()): void {
  const out = (line: string): void => io.out(foldLine(line, width));
  if (plan.at) printAtPreview(out, plan.at);
  const chosen = plan.selection && !plan.at ? selectionPhrases(plan.selection) : [];
  for (const [i, p] of chosen.entries()) out(`${i ? '  ' : ''}${english(p)}`);
  out(
    `Restore plan for set ${plan.setId} (${plan.setType}, ${plan.setStatus}, taken ${formatLocal(plan.setStartedAt)})`,
  );
  const at = plan.options.filesAt;
  // `--path` at a destination: only the stored files it chooses (and the databases') are read there.
  const p = plan.options.fetchPart;
  const part = p
    ? ` (only what --path chooses: ${p.count} of the ${p.storedCount} stored file(s), ${formatBytes(p.bytes)} of ${formatBytes(p.storedBytes)})`
    : '';
  if (at?.streamed) {
    out(
      `  1. stream each stored file${part} from destination "${at.name}" into the restore, checking its size and sha256 as it is read; a mismatch stops that database before its swap (its target is left as it was)${plan.databases.length > 1 ? ', and the databases after it' : ''}`,
    );
  } else if (at) {
    out(
      `  1. fetch the stored files${part} from destination "${at.name}" into the backup folder, checking each one's size and sha256 as it arrives; a mismatch stops the restore before anything is restored`,
    );
  } else if (plan.options.fetchedFrom) {
    out(
      `  1. the stored files${part} were fetched from destination "${plan.options.fetchedFrom}", each checked against the manifest (size + sha256) as it arrived; check they are all here`,
    );
  } else if (plan.options.checkAsRead && !plan.databases.length && plan.encrypted) {
    out(
      '  1. check the stored files are there; each is decrypted as the restore reads it (age authenticates every chunk) and checked against the manifest (sha256 of the stored file, then of the decrypted file), and a mismatch stops the restore and removes what it wrote (the target is left as it was)',
    );
  } else if (plan.options.checkAsRead && !plan.databases.length) {
    out(
      '  1. check the stored files are there; each is checked against the manifest (sha256) as the restore reads it, and a mismatch stops the restore and removes what it wrote (the target is left as it was)',
    );
  } else if (plan.options.checkAsRead) {
    out(
      '  1. check the stored files are there with their sizes; each is checked against the manifest (sha256) as the restore reads it, and a mismatch stops the restore before its swap (its target is left as it was)',
    );
  } else {
    out('  1. verify the stored files against the manifest (md5 + sha256); stop on any mismatch');
  }
  for (const d of plan.databases) {
    out(`\n  database ${d.database} (${d.engine}) -> ${d.target}`);
    out(
      `    ${d.replaces ? (d.state.exists ? `REPLACES the current database (${formatBytes(d.state.sizeBytes)})` : 'CREATES it in place: it does not exist now, nothing is replaced') : 'side by side: nothing is replaced'}`,
    );
    out(`    ${sizeLine(d)}`);
    if (d.chain) out(`    ${english(chainPhrase(d.database, d.chain))}`);
    for (const [i, s] of d.steps.entries()) out(`    ${i + 1}. ${s}`);
    const nothingThere = d.replaces && !d.state.exists;
    out(
      `    safety: ${nothingThere ? 'nothing to keep (it does not exist now)' : d.safety.kind === 'pre-restore-set' ? 'a pre_restore backup set is taken first' : d.safety.kind === 'renamed-database' ? `the live database is kept as ${d.safety.name}` : d.safety.reason}`,
    );
    out(`    roll back: ${d.rollback}`);
    if (d.state.inUseBy.length) out(`    in use by: ${d.state.inUseBy.join(', ')}`);
  }
  const f = plan.files;
  if (f?.paths && f.ofSet) {
    out(
      `\n  files: ${f.count} file(s) and ${f.symlinks} symlink(s) of the ${f.ofSet.count} file(s) and ${f.ofSet.symlinks} symlink(s) stored`,
    );
    out(`    into ${f.to} (${formatBytes(f.bytes)}; never over live files)`);
    for (const p of f.paths) out(`    --path ${printedName(p.path)}: ${p.count} file(s), ${p.symlinks} symlink(s)`);
  } else if (f)
    out(
      `\n  files: ${f.count} file(s) and ${f.symlinks} symlink(s), ${formatBytes(f.bytes)}, into ${f.to} (never over live files)`,
    );
  out(`\n  safety copy: ${plan.safety}`);
  for (const w of plan.warnings) out(`  warning: ${w}`);
  for (const r of plan.refusals) out(`  REFUSED: ${r.message}\n    hint: ${r.hint}`);
}

/** The sets an entry with a base applies, in order, with their stored size (`plan.chain`). */
export function chainPhrase(database: string, chain: NonNullable<DatabaseRestorePlan['chain']>): Phrase {
  const sets = chain.map((x) => `${x.id} (${x.type})`).join(' → ');
  const bytes = formatBytes(chain.reduce((t, x) => t + x.storedBytes, 0));
  return phrase('plan.chain', { db: database, count: String(chain.length), sets, bytes });
}

/**
 * The preview of `restore --at`: the point reached (to the second: sets can end seconds apart), the sets applied
 * in order and their total stored size. A set's end is said in the second it fell in (02:06:31.4 as 02:06:31): a time
 * typed to the second stands for all of that second (planAt `within`), so typed back it reaches that set.
 */
function printAtPreview(out: (line: string) => void, at: NonNullable<RestorePlan['at']>): void {
  const asked = formatLocal(at.at, { seconds: true });
  const point = formatLocal(at.point, { seconds: true });
  // A time written to the second or minute a set started names that set: which one, why, and the one before it
  const named = startedThenPhrases(at).map(english);
  if (!at.databases.length) {
    out(named[0] ?? `Restore as of ${asked}: set ${at.setId}, the newest holding files ending at or before that time.`);
    out(`  The files are those set ${at.setId} stored (it ended ${point}); no database is restored.`);
    for (const s of at.skipped.slice(0, 5)) out(`  passed over ${s.id}: ${s.reason}`);
    if (named[1]) out(`  ${named[1]}`);
    return;
  }
  if (at.stopAt) {
    out(`Restore as of ${asked}: set ${at.setId}, the first whose log backups pass that time.`);
    out(`  The result is the data as of ${point} (STOPAT inside set ${at.setId}).`);
  } else {
    out(named[0] ?? `Restore as of ${asked}: set ${at.setId}, the newest ending at or before that time.`);
    // Each database's snapshot is taken when its backup begins: the data is from within the set's run, not its end.
    const from = at.taken ? formatLocal(at.taken, { seconds: true }) : point;
    if (from === point) out(`  The result is the data as of ${point}.`);
    else
      out(
        `  The result is the data as set ${at.setId} took it, between ${from} and ${point} (each database as of its snapshot).`,
      );
  }
  out(`  Sets applied, in order (${at.order.length}, ${formatBytes(at.totalBytes)} stored in total):`);
  for (const d of at.databases) {
    out(
      `    ${d.database}: ${d.chain.members.map((m) => `${m.id} ${m.type} ${formatBytes(m.storedBytes)}`).join(' → ')}`,
    );
  }
  for (const s of at.skipped.slice(0, 5)) out(`  passed over ${s.id}: ${s.reason}`);
  if (named[1]) out(`  ${named[1]}`);
}

/** The plan's size line: stored size and the estimated size once restored, saying where the estimate comes from. */
export function sizeLine(d: DatabaseRestorePlan): string {
  const about = `about ${formatBytes(d.estimatedRestoredBytes ?? d.rawBytes)}`;
  if (d.swapsBack) return `rolls back: the kept database ${d.swapsBack} (${about}) becomes the live database again`;
  const source =
    d.estimateSource === 'recorded-database-size'
      ? 'estimate: the database size when the backup was taken'
      : d.estimateSource === 'database-file'
        ? 'the size of the stored database file'
        : 'estimate from the dump size: this set recorded no database size, so the restored database may be much larger';
  return `stored ${formatBytes(d.storedBytes)}, ${about} once restored (${source})`;
}

/** The options of `restore`. */
const RESTORE_OPTIONS = {
  at: 'text',
  db: 'list',
  files: 'flag',
  path: 'list',
  to: 'text',
  table: 'list',
  terminateConnections: 'flag',
  ignoreFreeSpace: 'flag',
  createRoles: 'flag',
  dryRun: 'flag',
  from: 'text',
  stream: 'flag',
  yes: 'flag',
} as const satisfies OptionSpec;

export function register(program: Command): void {
  addCommonOptions(
    program
      .command('restore')
      .description('restore databases and/or files from a backup set, verifying first and keeping a safety copy')
      .argument('[id]', 'set id, or latest (or --at TIME instead)')
      .option(
        '--at <time>',
        'restore the data as of this time ("2026-11-22 14:30", local): the newest set ending at or before it, with its chain (here, or at --from)',
      )
      .option('--db <name>', 'only this database (repeatable)', collect)
      .option('--files', 'restore config and application files (into --to, or a new folder)')
      .option(
        '--path <stored path>',
        'with --files: only this stored file, or the files below this folder, as `show` lists it (config/app.conf; repeatable)',
        collect,
      )
      .option(
        '--to <path>',
        'restore side by side: a file or folder (SQLite, files) or a new database name (PostgreSQL, SQL Server)',
      )
      .option('--table <schema.table>', 'PostgreSQL: only this table, side by side (repeatable)', collect)
      .option('--terminate-connections', 'close sessions connected to the live database at the swap')
      .option(
        '--ignore-free-space',
        "restore even when the database server's disk (on this machine) has less room than the restore needs",
      )
      .option(
        '--create-roles',
        'PostgreSQL: first create the roles stored with the set ("globals": true) that the server lacks',
      )
      .option('--dry-run', 'print the plan and change nothing')
      .option(
        '--from <name>',
        'restore from the copy at this destination (fetched and checked, then restored; streamed when there is no room to fetch it)',
      )
      .option(
        '--stream',
        'with --from: stream the files into the restore, each checked as it is read, instead of fetching the set first',
      )
      .option('-y, --yes', 'do not ask for confirmation'),
  ).action(
    runAction(RESTORE_OPTIONS, async (io, opts, given: string | undefined) => {
      if (opts.at !== undefined && given)
        throw new UsageError(
          `Give a set id or --at, not both (got ${given} and --at ${opts.at}).`,
          'respaldo restore --at "2026-11-22 14:30" --dry-run',
        );
      if (opts.at === undefined && !given)
        throw new UsageError(
          'Name the set to restore (an id, or latest), or a time with --at.',
          'respaldo list shows the sets; respaldo restore --at "2026-11-22 14:30" --dry-run previews a point in time.',
        );
      const at = opts.at === undefined ? null : parseAtTime(opts.at);
      const twice = opts.at === undefined || at ? null : ambiguousAtTime(opts.at);
      if (twice)
        throw new UsageError(
          `--at "${opts.at}" is a time this machine's clock showed twice (it was set back that night): respaldo does not guess which.`,
          `Add the offset: --at "${twice[0]}" for the first, --at "${twice[1]}" for the second.`,
        );
      if (opts.at !== undefined && !at)
        throw new UsageError(
          `--at "${opts.at}" is not a time respaldo understands.`,
          'Use local time as YYYY-MM-DD HH:MM (e.g. --at "2026-11-22 14:30"; not a time a clock change skipped), ' +
            'or an ISO time with Z or an offset from -12:00 to +14:00, or UTC as `date -u "+%F %T %Z"` prints it.',
        );
      if (at && atInFuture(at, new Date()))
        throw new UsageError(
          `--at "${opts.at}" (${formatLocal(at, { seconds: true })}) is ahead of this machine's clock (now ${formatLocal(new Date(), { seconds: true })}): no backup is from then.`,
          'Check the date (the year, the month); to restore the newest set, use `latest`.',
        );
      // With --files alone no database is restored: its --table was passed over without a word (exit 0).
      if (opts.table && opts.files && !opts.db)
        throw new UsageError(
          '--table chooses tables of a database, and --files alone restores no database.',
          'Name the database: respaldo restore latest --db inventario --to inv_check --table public.orders --yes',
        );
      if (opts.path && !opts.files)
        throw new UsageError(
          '--path chooses some of the stored config and application files: it needs --files.',
          'respaldo restore latest --files --path config/app.conf --to /tmp/app-conf --dry-run',
        );
      if (opts.stream && !opts.from)
        throw new UsageError(
          '--stream streams a set from a destination: it needs --from NAME.',
          'respaldo restore latest --from offsite --stream --db users --dry-run',
        );
      const within = opts.at === undefined ? 0 : atWithin(opts.at);
      return withFetchedSet(io, { ...opts, atWithin: within }, given ?? '', at, async (id, fetched) => {
        const cfg = await io.config();
        const restoreOpts = {
          ...(at ? { atWithin: within } : {}),
          ...(fetched && opts.from ? fetchedRestoreOptions(fetched, opts.from) : {}),
          ...(opts.db ? { databases: opts.db } : {}),
          ...(opts.files ? { files: true } : {}),
          ...(opts.path ? { paths: opts.path } : {}),
          ...(opts.to ? { to: opts.to } : {}),
          ...(opts.table ? { tables: opts.table } : {}),
          terminateConnections: opts.terminateConnections,
          ...(opts.ignoreFreeSpace ? { ignoreFreeSpace: true } : {}),
          ...(opts.createRoles ? { createRoles: true } : {}),
          checkAsRead: true,
        };
        const plan = at ? await planRestoreAt(cfg, at, restoreOpts) : await planRestore(cfg, id, restoreOpts);
        if (opts.dryRun) {
          if (io.json) io.printJson(plan);
          else printRestorePlan(io, plan);
          // A damaged set the chain needs is damage, as for that set itself (exit 5); other refusals are 9.
          if (plan.refusals.some((r) => r.kind === 'damaged-chain')) return EXIT.verifyFailed;
          // Roles the server lacks: exit 7, as when pg_restore stopped at one; so is a SQLite folder not there.
          if (plan.refusals[0]?.kind === 'missing-roles' || plan.refusals[0]?.kind === 'no-folder') return EXIT.failed;
          return plan.refusals.length ? EXIT.refused : EXIT.ok;
        }
        if (!io.json) printRestorePlan(io, plan);
        const refused = refusalError(plan);
        if (refused) throw refused;
        // What needs no stored file is checked before the confirmation, and before a set at a destination is fetched.
        const held = fetched?.fetchFiles ? null : heldLock(cfg.backupDir);
        if (held) throw held;
        if (fetched?.fetchFiles) await checkBeforeFetch(cfg, fetched);
        if (!opts.yes) {
          if (!io.isTTY)
            throw new RefusedError(
              'Restore needs confirmation and there is no terminal to ask.',
              'Review the plan with --dry-run, then pass --yes.',
            );
          // With --json the plan is not on stdout: asked without it, the operator confirmed what they had not seen.
          if (io.json) printRestorePlan({ ...io, out: (line) => io.err(line) }, plan);
          const ok = await io.confirmWord(`\nType ${CONFIRM_WORD} to go on (anything else cancels):`, CONFIRM_WORD);
          if (!ok) {
            io.err('Cancelled; nothing was changed.');
            return EXIT.refused;
          }
        }
        let run = plan;
        let remote = fetched?.streamed ?? null;
        let full: FetchedSet | undefined;
        if (fetched?.fetchFiles && opts.from) {
          // The files come now, each checked as it arrives; the plan is made again on them (the targets as they are
          // now: one created meanwhile refuses it still).
          ({ plan: run, set: full } = await fetchPlanned(cfg, plan, fetched, io.reporter, io.signal));
          const chain = full.chainIds.length ? ` with the sets of its chain (${full.chainIds.join(', ')})` : '';
          if (!io.json)
            io.out(
              full.streamed
                ? `Set ${full.id}${chain} at destination "${opts.from}": each is streamed into the restore and checked as it is read (${full.streamedBecause}).`
                : `Set ${full.id}${chain} fetched from destination "${opts.from}" and checked against its manifest.`,
            );
          remote = full.streamed;
        }
        const named = opts.config ? cfg.file : undefined;
        const outcome = await executeRestore(cfg, run, io.reporter, {
          signal: io.signal,
          ...(named ? { configFile: named } : {}),
          ...(remote ? { remote } : {}),
        });
        // The phrases of what recovery did are the menu's; the JSON keeps their English words.
        const { recoveredPhrases: _recovered, ...plain } = outcome;
        if (io.json) io.printJson({ ...plain, databases: plain.databases.map(({ phrases: _, ...d }) => d) });
        else {
          for (const d of outcome.databases)
            io.out(
              foldLine(
                `${d.ok ? 'restored' : 'FAILED  '} ${d.name}${d.restoredTo ? ` -> ${d.restoredTo}` : ''}${d.safetyDatabase ? ` (previous kept as ${d.safetyDatabase})` : ''}${d.error ? `: ${d.error}${d.hint ? `\n  hint: ${d.hint}` : ''}` : ''}`,
                outputWidth(),
              ),
            );
          if (outcome.filesRestoredTo) io.out(`files restored into ${outcome.filesRestoredTo}`);
          for (const r of outcome.recovered) io.out(`recovered: ${r}`);
          for (const id of outcome.removedSafetySetIds)
            io.out(`Nothing was replaced, so the safety copy taken for this restore (set ${id}) was removed.`);
          for (const line of rollbackLines(run, outcome, named)) io.out(foldLine(line, outputWidth()));
          // The fetched copy goes once this returns (withFetchedSet): 100 000 files took 12 s, said lest it look hung.
          const count = run.files?.count ?? 0;
          if (full && !full.streamed && count >= REMOVAL_SAID_FROM)
            io.err(`Removing the copy of set ${full.id} fetched from "${opts.from}" (${count} files)…`);
        }
        return restoreExit(outcome);
      });
    }),
  );
}

/** From how many files a restore says it removes the copy it fetched from a destination (seconds of its end). */
const REMOVAL_SAID_FROM = 1000;

/**
 * The exit code of a restore that ran: damage found (5) first; some databases restored and others not, 4 (partial:
 * the codes of failures say nothing was changed); failures all of one kind (refused: a session connected meanwhile,
 * a target name not allowed, 9; bad input, 2) that kind's code; else 7.
 */
export function restoreExit(outcome: RestoreOutcome): number {
  if (outcome.ok) return EXIT.ok;
  if (outcome.databases.some((d) => d.damaged)) return EXIT.verifyFailed;
  if (outcome.databases.some((d) => d.ok)) return EXIT.partial;
  const kinds = new Set(outcome.databases.filter((d) => !d.ok).map((d) => d.errorKind ?? 'failed'));
  const [only] = kinds;
  return kinds.size === 1 && only ? EXIT[only] : EXIT.failed;
}
