import { entryRawBytes, entryStoredBytes } from '../../engine/manifest.js';
import { Option, type Command } from 'commander';
import { InterruptedError, RespaldoError } from '../../core/errors.js';
import { said } from '../../core/phrases.js';
import { EXIT } from '../../core/exit-codes.js';
import type { BackupType, LoadedConfig, Manifest } from '../../core/types.js';
import { createBackup, fileGroupCounts, planBackup, planOnSets, publishedManifestPath } from '../../engine/create.js';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { drillAfterBackup } from '../../engine/drill.js';
import { ensureRecentBackup, recentBackup } from '../../engine/ensure-recent.js';
import { addCommonOptions, collect, runAction, type CommandIO } from '../context.js';
import type { OptionSpec } from '../options.js';
import { printDrillResult } from './drill.js';
import { foldLine, formatBytes, formatDuration, outputWidth, table } from '../format.js';
import { afterCreate } from './offsite.js';
import type { CopyResult } from '../../engine/copy.js';

/** Exit code of a finished create: ok, or partial when something failed. */
export function createExitCode(m: Manifest): number {
  return m.status === 'completed' ? EXIT.ok : EXIT.partial;
}

/**
 * `drillAfterBackup`: drills the set just made and returns the exit code of the whole command: a failed
 * drill is exit 11 unless the backup itself did not complete (its own code wins). A set not copied
 * off-site (exit 12, afterCreate) only shows when nothing else went wrong.
 */
async function drillAfter(io: CommandIO, cfg: LoadedConfig, m: Manifest): Promise<number> {
  let drilled: Awaited<ReturnType<typeof drillAfterBackup>>;
  try {
    drilled = await drillAfterBackup(cfg, m, io.reporter, { signal: io.signal, operation: 'create' });
  } catch (err) {
    // A drill that could not run (no identity to decrypt, say) is the drill's failure, never the backup's: the set
    // is published, stdout keeps its one document, and the exit is the failed drill's; a missing or wrong key is
    // exit 13 (the set was not drilled, so it did not fail one).
    if (err instanceof InterruptedError || !(err instanceof RespaldoError)) throw err;
    const hint = err.hint ? ` (${err.hint})` : '';
    io.reporter.emit({ type: 'warning', ...said('warn.drillNotRun', { set: m.id, error: `${err.message}${hint}` }) });
    const code = createExitCode(m);
    return code !== EXIT.ok ? code : err.kind === 'key' ? EXIT.key : EXIT.drillFailed;
  }
  if (drilled && !io.json) {
    io.out(`Drill of set ${drilled.setId}: ${drilled.ok ? 'passed' : 'FAILED'}`);
    for (const r of drilled.results) printDrillResult(io, r);
  }
  const code = createExitCode(m);
  return code === EXIT.ok && drilled && !drilled.ok ? EXIT.drillFailed : code;
}

export function printManifestSummary(io: CommandIO, m: Manifest): void {
  const ms = new Date(m.completedAt).getTime() - new Date(m.startedAt).getTime();
  io.out(
    `Backup set ${m.id}: ${m.status.toUpperCase()} (${m.type}) in ${formatDuration(ms)}, ${formatBytes(m.totals.storedBytes)} stored`,
  );
  const bases = m.databases.filter((d) => d.base).map((d) => `${d.name} on ${d.base}`);
  if (bases.length) io.out(`Applies on: ${bases.join(', ')} (respaldo verify --chain ${m.id})`);
  for (const n of m.chainNotes ?? []) io.out(`  note: ${n}`);
  const rows = [['DATABASE', 'ENGINE', 'STATUS', 'RAW', 'STORED', 'SHA-256']];
  for (const d of m.databases)
    rows.push([
      d.name,
      d.engine,
      d.error ? 'FAILED' : 'ok',
      formatBytes(entryRawBytes(d)),
      formatBytes(entryStoredBytes(d)),
      d.sha256 ? d.sha256.slice(0, 16) + '…' : '-',
    ]);
  if (m.databases.length) io.out(table(rows));
  // Counted as it was made: reading `files` of a set of 100 000 files held them all.
  const groups = fileGroupCounts(m) ?? {
    config: m.files.filter((f) => f.group === 'config').length,
    application: m.files.filter((f) => f.group === 'application').length,
  };
  if (groups.config + groups.application)
    io.out(`Files: ${groups.config + groups.application} (${groups.config} config, ${groups.application} application)`);
  for (const d of m.databases.filter((x) => x.error))
    io.out(
      foldLine(`  ${d.name}: ${d.error!.message}${d.error!.hint ? `\n    hint: ${d.error!.hint}` : ''}`, outputWidth()),
    );
  for (const w of m.warnings) io.out(foldLine(`  warning: ${w}`, outputWidth()));
}

/**
 * Prints the manifest of the set just made, as `printJson` prints it: the text of its manifest.json (written as
 * JSON.stringify(m, null, 2) writes it), line by line, never the whole held at once (printJson of a set of 100 000
 * files held its entries and their text: 434 MiB peak RSS).
 */
async function printCreated(io: CommandIO, cfg: LoadedConfig, m: Manifest): Promise<void> {
  const file = publishedManifestPath(cfg.backupDir, m);
  if (!existsSync(file)) return io.printJson(m);
  await io.printJsonText(textLines(file));
}

/** The lines of a text file, each with its line break, read 64 KiB at a time. */
function* textLines(file: string): Generator<string> {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(64 << 10);
    let rest = '';
    const decoder = new StringDecoder('utf8');
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
      const lines = (rest + decoder.write(buf.subarray(0, n))).split('\n');
      rest = lines.pop()!;
      for (const line of lines) yield `${line}\n`;
    }
    rest += decoder.end();
    if (rest) yield rest;
  } finally {
    closeSync(fd);
  }
}

const CREATE_TYPES = ['full', 'differential', 'incremental', 'schema'] as const satisfies readonly BackupType[];

/** The options of `create`. */
const CREATE_OPTIONS = {
  db: 'list',
  type: { choices: CREATE_TYPES },
  files: 'negated',
  description: 'text',
  ifOlderThan: 'text',
  ignoreFreeSpace: 'flag',
  dryRun: 'flag',
} as const satisfies OptionSpec;

export function register(program: Command): void {
  addCommonOptions(
    program
      .command('create')
      .description('back up the configured databases and files now, as one backup set')
      .option('--db <name>', 'only this database (repeatable)', collect)
      .addOption(
        new Option(
          '--type <type>',
          'full, differential (changes since the last full), incremental (since the last backup), or schema only',
        )
          .choices(CREATE_TYPES)
          .default('full'),
      )
      .option('--no-files', 'leave config and application files out')
      .option('--description <text>', 'free text stored in the manifest')
      .option(
        '--if-older-than <age>',
        'only back up when the newest completed set of these databases is older than AGE (30m, 12h, 7d, 2w)',
      )
      .option(
        '--ignore-free-space',
        "back up even when the backup folder is on a PostgreSQL server's data disk with less room than the last set needed",
      )
      .option('--dry-run', 'print the plan and change nothing'),
  ).action(
    runAction(CREATE_OPTIONS, async (io, opts) => {
      const cfg = await io.config();
      let copied: readonly CopyResult[] = [];
      const createOpts = {
        ...(opts.db ? { databases: opts.db } : {}),
        type: opts.type ?? 'full',
        files: opts.files,
        ...(opts.description ? { description: opts.description } : {}),
        signal: io.signal,
        ...(opts.ignoreFreeSpace ? { ignoreFreeSpace: true } : {}),
        onCopied: (results: readonly CopyResult[]) => (copied = results),
      };
      if (opts.dryRun) {
        // With --if-older-than: whether a run would back up at all (a bad age is refused here too; it exited 0).
        const recent = opts.ifOlderThan
          ? await recentBackup({
              config: cfg,
              maxAge: opts.ifOlderThan,
              type: createOpts.type,
              ...(opts.db ? { databases: opts.db } : {}),
            })
          : null;
        if (recent?.recent) {
          if (io.json) io.printJson({ created: false, reason: recent.reason, previous: recent.previous });
          else io.out(`Would not back up: ${recent.reason}`);
          return EXIT.ok;
        }
        if (recent && !io.json) io.out(recent.reason.replace(/; backing up\.$/, ': a run would back up.'));
        const chained = createOpts.type === 'differential' || createOpts.type === 'incremental';
        const plan = chained ? await planOnSets(cfg, createOpts) : planBackup(cfg, createOpts);
        // The JSON is the plan as it always was: the fallbacks' phrases are the menu's.
        const plain = plan.databases.map(({ fallbackPhrase: _, onFullPhrase: __, ...d }) => d);
        if (io.json) io.printJson({ ...plan, databases: plain });
        else {
          io.out(
            `Would create ${plan.setType === 'incremental' ? 'an' : 'a'} ${plan.setType} backup set in ${cfg.backupDir}:`,
          );
          for (const d of plan.databases) {
            const onFull = d.onFull ? ` (not an incremental: ${d.onFull})` : '';
            const kind = d.base ? `, ${d.type} on set ${d.base}${onFull}` : d.fallback ? `, full (${d.fallback})` : '';
            io.out(`  ${d.name} (${d.location}), ${plan.codec} level ${d.compressionLevel}${kind}`);
          }
          io.out(
            `  files: ${plan.files ? `${cfg.files.config.length} config entries, ${cfg.files.application.length} application folders` : 'no'}`,
          );
          if (plan.files) io.out(`  files compression: ${plan.codec} level ${plan.compressionLevel}`);
        }
        return EXIT.ok;
      }
      if (opts.ifOlderThan) {
        const r = await ensureRecentBackup({ config: cfg, maxAge: opts.ifOlderThan, ...createOpts }, io.reporter);
        if (!r.manifest) {
          if (io.json) io.printJson({ created: false, reason: r.reason, previous: r.previous });
          else io.out(r.reason);
          return EXIT.ok;
        }
        if (io.json) await printCreated(io, cfg, r.manifest);
        else printManifestSummary(io, r.manifest);
        return afterCreate(io, cfg, r.manifest, await drillAfter(io, cfg, r.manifest), copied);
      }
      const m = await createBackup(cfg, createOpts, io.reporter);
      if (io.json) await printCreated(io, cfg, m);
      else printManifestSummary(io, m);
      return afterCreate(io, cfg, m, await drillAfter(io, cfg, m), copied);
    }),
  );
}
