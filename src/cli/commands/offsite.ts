import type { Command } from 'commander';
import { ConfigError, InterruptedError, UsageError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { formatLocal, printedName } from '../../core/format.js';
import type { LoadedConfig, Manifest } from '../../core/types.js';
import { copySets, notCopiedTo, retriedPhrase, type CopyResult } from '../../engine/copy.js';
import { listRemote, repairThereHint, verifyRemoteSet } from '../../engine/remote.js';
import type { FileCheck } from '../../engine/verify.js';
import { SpilledChecks, spilledJsonLines, spilledMark } from './verify-json.js';
// Types only: remote-fetch plans restores (the driver registry), which list/show must not load.
import type { FetchedSet } from '../../engine/remote-fetch.js';
import { addCommonOptions, runAction, type ActionResult, type CommandIO } from '../context.js';
import { formatBytes, table } from '../format.js';
import { english, phrase } from '../../core/phrases.js';

/** Off-site copies: `copy`, and the `--from NAME` forms of list, verify and restore. */

/** What `respaldo copy` prints of each result (exported for its tests). */
export function printCopyResults(io: Pick<CommandIO, 'out' | 'err'>, results: CopyResult[]): void {
  for (const r of results) {
    if (r.ok) {
      const checks =
        (r.storeChecksums === false
          ? ' (the store keeps no SHA-256 checksums: respaldo checked sizes and hashes itself)'
          : '') +
        (r.sftpDirectWrites === false
          ? " (through ssh2's own writes: the installed ssh2 is not the version respaldo writes packets for;" +
            ' as exact, slower; reinstall with `npm ci`)'
          : '');
      io.out(
        `copied ${r.setId} to ${r.destination}: ${r.filesSent} file(s) sent (${formatBytes(r.bytesSent)}), ${r.filesAlreadyThere} already there${checks}`,
      );
    } else
      io.err(
        `NOT copied: ${r.setId} to ${r.destination}: ${r.error ?? 'failed'}${r.hint ? `\n  hint: ${r.hint}` : ''}`,
      );
    if (r.created) io.out(`  ${english(phrase('dest.created', { path: r.created, dest: r.destination }))}`);
    if (r.retries) (r.ok ? io.out : io.err)(`  ${english(retriedPhrase(r.destination, [r]))}`);
    if (r.resent?.length)
      (r.ok ? io.out : io.err)(
        `  re-sent ${r.resent.length} file(s) that differed at ${r.destination}: ${r.resent.map((f) => `${printedName(f.path)} (${f.problem})`).join(', ')}`,
      );
    else if (r.ok && r.reread !== undefined)
      io.out(`  read back and re-hashed ${r.reread} file(s) at ${r.destination}: every one matches its manifest`);
    if (r.removedUnencrypted?.length)
      io.out(
        `  removed ${r.removedUnencrypted.length} unencrypted file(s) of an earlier copy at ${r.destination} (the set is there encrypted now): ${r.removedUnencrypted.join(', ')}`,
      );
  }
}

/**
 * For `create`: prints where a new set was copied (`copied`, the results of its copies) and where it was not, and
 * returns the exit code: notCopied when the set is complete but a copyAfterBackup destination lacks it (interrupted
 * when a signal stopped that copy), else `code`.
 */
export function afterCreate(
  io: CommandIO,
  cfg: LoadedConfig,
  m: Manifest,
  code: number,
  copied: readonly CopyResult[] = [],
): number {
  if (m.status === 'failed') return code;
  // The copies also send earlier sets still missing there: said with the new set's line of that destination.
  for (const c of io.json ? [] : copied.filter((x) => x.ok && x.setId === m.id)) {
    const there = copied.filter((x) => x.ok && x.destination === c.destination);
    const sent = there.reduce((n, x) => n + x.filesSent, 0);
    const earlier = there.length - 1;
    io.out(`Copied to ${c.destination} (${sent} file(s) sent${earlier ? `, with ${earlier} earlier set(s)` : ''})`);
    const created = there.find((x) => x.created)?.created;
    if (created) io.out(`  ${english(phrase('dest.created', { path: created, dest: c.destination }))}`);
  }
  // Requests tried again on the way, those of the earlier sets sent with this one included (as `copy` says them).
  for (const dest of io.json ? [] : new Set(copied.map((x) => x.destination))) {
    const there = copied.filter((x) => x.destination === dest);
    if (there.some((x) => x.retries))
      (there.every((x) => x.ok) ? io.out : io.err)(`  ${english(retriedPhrase(dest, there))}`);
  }
  const missing = notCopiedTo(cfg, m.id);
  for (const x of missing) {
    // A variable of that destination not set: no later run copies it until it is.
    const unset = cfg.unsetDestinations?.[x.destination];
    const hint = unset
      ? `the set is safe locally. ${unset.hint} Then \`respaldo copy\` copies it.`
      : 'the set is safe locally; `respaldo copy` (or the next backup) copies it again.';
    io.err(`respaldo: set ${m.id} NOT copied to ${x.destination}${x.error ? `: ${x.error}` : ''}\nhint: ${hint}`);
  }
  // Stopped by a signal or a dropped terminal while it copied: interrupted (130; the terminal's 129), not failed.
  if (missing.length && code === EXIT.ok) return io.signal.aborted ? EXIT.interrupted : EXIT.notCopied;
  return code;
}

/**
 * `list --from NAME [--all-sources]`. Sets whose manifest fails its checks are named after the table (on
 * stderr with --json, the document staying the list of sets) and make the exit code 5, as `list` does for
 * local sets; the others are listed all the same.
 */
export async function listFrom(io: CommandIO, name: string, allSources: boolean): Promise<number> {
  const cfg = await io.config();
  const { sets, damaged } = await listRemote(cfg, name, { allSources, signal: io.signal });
  const code = damaged.length ? EXIT.verifyFailed : EXIT.ok;
  const sayDamaged = (say: (line: string) => void) => {
    for (const d of damaged) say(`DAMAGED set ${d.source}/${d.id} at ${name}: ${d.problem}`);
    if (damaged.length)
      say(
        `  do not restore from a damaged set (restore latest --from ${name} passes over it); copy it there again from the server that has it (respaldo copy ID --to ${name}), or remove it there once inspected (respaldo delete ID --from ${name})`,
      );
  };
  if (io.json) {
    io.printJson(sets);
    sayDamaged(io.err);
    return code;
  }
  if (!sets.length) {
    io.out(
      `No ${damaged.length ? 'usable ' : ''}backup sets at destination "${name}"${allSources ? '' : ` for source "${cfg.destinations?.find((d) => d.name === name)?.source}" (--all-sources shows every source)`}.`,
    );
    sayDamaged(io.out);
    return code;
  }
  const rows = [['ID', ...(allSources ? ['SOURCE'] : []), 'DATE', 'TYPE', 'STATUS', 'DATABASES', 'FILES', 'SIZE']];
  for (const s of sets)
    rows.push([
      s.id,
      ...(allSources ? [s.source] : []),
      formatLocal(s.startedAt), // local time, as `list` shows it (it was the manifest's UTC text)
      s.type,
      s.chainProblems?.length ? 'BROKEN' : s.status,
      s.databases.join(',') || '-',
      String(s.files),
      formatBytes(s.storedBytes),
    ]);
  io.out(table(rows));
  io.out(`${sets.length} set(s) at destination "${name}"`);
  for (const s of sets.filter((x) => x.chainProblems?.length))
    io.out(
      `BROKEN chain at ${name}: ${s.chainProblems!.join('; ')}: set ${s.id} cannot be restored from there (respaldo copy ${s.id} --to ${name} sends the sets it applies on, while this server holds them)`,
    );
  sayDamaged(io.out);
  return code;
}

/** `verify [ID] --from NAME [--read-data]`. */
export async function verifyFrom(io: CommandIO, id: string, name: string, readData: boolean): Promise<number> {
  const cfg = await io.config();
  // --json: every file checked, written aside as they come and printed from there (verify-json.ts), as `verify` does
  const spill = io.json ? new SpilledChecks() : null;
  try {
    return await verifyThere(spill);
  } finally {
    spill?.remove();
  }

  async function verifyThere(spill: SpilledChecks | null): Promise<number> {
    const eachFile = spill ? { eachFile: (f: FileCheck) => spill.add(f) } : {};
    const r = await verifyRemoteSet(cfg, name, id, { readData, signal: io.signal, ...eachFile }, io.reporter);
    const hint = r.ok ? undefined : repairThereHint(cfg, name, r.setId);
    // chainProblemPhrases are the menu's (JSON keeps chainProblems, as `verify` does); `files`: all, from the spill
    const { chainProblemPhrases: _phrases, checked: _checked, ...report } = r;
    if (spill) {
      const doc = { ...report, files: spilledMark(0), destination: name, readData, ...(hint ? { hint } : {}) };
      await io.printJsonText(spilledJsonLines(doc, [spill]));
    } else {
      io.out(
        `${r.setId} at ${name}: ${r.ok ? 'OK' : 'FAILED'} (${r.checked ?? r.files.length} file(s) ${readData ? 'read and re-hashed' : 'checked for presence and size'})`,
      );
      for (const f of r.files.filter((x) => !x.ok && !x.nextBackupOf)) io.out(`  ${printedName(f.path)}: ${f.problem}`);
      // As `verify ID` says of a chain here: a set whose own files match is not a set that restores.
      for (const b of r.chainProblems ?? []) io.out(`  chain BROKEN at ${name}: ${b}`);
      if (hint) io.out(`hint: ${hint}`);
      if (r.chainProblems?.length)
        io.out(
          `hint: respaldo copy ${r.setId} --to ${name} sends the sets it applies on there first (while this server holds them); respaldo restore --from ${name} restores another set meanwhile.`,
        );
    }
    return r.ok && !r.chainProblems?.length ? EXIT.ok : EXIT.verifyFailed;
  }
}

/**
 * For `restore ID|latest --from NAME`: fetches the manifests of the set (and of its chains) into a hidden folder
 * of backupDir, runs `restore` on them, and removes them. `restore` plans, checks and asks on the manifests, then
 * fetches the files it reads (`fetched.fetchFiles`) into that folder before it restores; with `--stream`, or when
 * the backup folder has no room for them, it streams them from the destination (`fetched.streamed`); a dry run
 * fetches none. Without --from, runs `restore` as is.
 */
export async function withFetchedSet(
  io: CommandIO,
  opts: {
    from?: string | undefined;
    db?: string[] | undefined;
    files?: boolean;
    /** `--path`: only the stored files it chooses are fetched, and `latest` is the newest set that stores them. */
    path?: string[] | undefined;
    stream?: boolean;
    dryRun?: boolean;
    /** How much of `at` was written (chain.ts atWithin). */
    atWithin?: number;
  },
  id: string,
  at: Date | null,
  restore: (id: string, fetched?: FetchedSet) => ActionResult,
): ActionResult {
  if (!opts.from) return restore(id);
  const cfg = await io.config();
  const sel = {
    ...(opts.db ? { databases: opts.db } : {}),
    ...(opts.files ? { files: true } : {}),
    ...(opts.files && opts.path?.length ? { paths: opts.path } : {}),
    ...(at ? { at, atWithin: opts.atWithin ?? 0 } : {}),
    ...(opts.stream ? { stream: true } : {}),
    // Only the manifests (and that the files are there, with their sizes): a plan needs no stored file, and a
    // restore fetches them once its plan, the key and the operator said yes.
    manifestsOnly: true,
    // A dry run fetches nothing after its plan: the manifests are read outside the backup folder, left as it was.
    ...(opts.dryRun ? { planOnly: true } : {}),
  };
  const { fetchSet } = await import('../../engine/remote-fetch.js');
  const fetched = await fetchSet(cfg, opts.from, id, sel, io.reporter, io.signal);
  try {
    const chain = fetched.chainIds.length ? ` with the sets of its chain (${fetched.chainIds.join(', ')})` : '';
    const p = fetched.part;
    const part = p
      ? ` (only what --path chooses: ${p.count} of the ${p.storedCount} stored file(s), ${formatBytes(p.bytes)} of ${formatBytes(p.storedBytes)})`
      : '';
    const how = opts.dryRun
      ? `a restore ${fetched.streamedBecause ? `streams them (${fetched.streamedBecause})` : 'fetches them first and checks them'}`
      : fetched.streamedBecause
        ? `each is streamed into the restore and checked as it is read (${fetched.streamedBecause})`
        : 'they are fetched and checked against it before anything is restored';
    if (!io.json)
      io.out(
        `Set ${fetched.id}${chain} at destination "${opts.from}": its files are there with the sizes its manifest records; ${how}${part}.`,
      );
    return await restore(fetched.id, fetched);
  } finally {
    await fetched.remove();
  }
}

export function register(program: Command): void {
  addCommonOptions(
    program
      .command('copy')
      .description('copy a backup set (or every set not yet there) to the configured destinations')
      .argument('[id]', 'set id, or latest (default: every set missing at the destination)')
      .option('--to <name>', 'only this destination')
      .option(
        '--verify',
        'read back and re-hash every file of the set(s) at the destination, and send again each one missing or different there',
      )
      .option(
        '--take-over',
        "with ID and --to: take over at once another set's claim on ID there, left by a copy cut short that will not complete (its unfinished files there are removed, its pending multipart uploads aborted; said first whose claim it was)",
      ),
  ).action(
    runAction({ to: 'text', verify: 'flag', takeOver: 'flag' }, async (io, opts, id?: string) => {
      // `copy "$ID" --to nas` with the variable not set: it copied (or with --verify re-read) every set.
      if (id !== undefined && id.trim() === '')
        throw new UsageError(
          'ID needs a value, not an empty one.',
          'An empty value is often a shell variable that was not set; name the set, or leave ID out to copy every set.',
        );
      // Only ever for the one set and the one destination the operator names: never every set, never by default.
      if (opts.takeOver && (!id || !opts.to))
        throw new UsageError(
          '--take-over needs a set ID and --to NAME.',
          'Name the set and the destination whose claim to take over: `respaldo copy ID --to NAME --take-over`.',
        );
      const cfg = await io.config();
      if (!cfg.destinations?.length)
        throw new ConfigError(
          cfg.file,
          'destinations',
          'none is configured; nothing to copy',
          'Add one under "destinations" (see README: Off-site copies); nothing was changed.',
        );
      const results = await copySets(cfg, { ...(id ? { id } : {}), ...(opts.to ? { to: opts.to } : {}) }, io.reporter, {
        signal: io.signal,
        ...(opts.verify ? { verify: true } : {}),
        ...(opts.takeOver ? { takeOver: true } : {}),
      });
      // Interrupted (SIGINT, SIGTERM): the copy stopped; what was sent is kept, the set is not listed there.
      if (io.signal.aborted)
        throw new InterruptedError(
          'Interrupted; what was sent is kept, and the set is listed there only once complete.',
        );
      if (io.json) io.printJson(results);
      else if (!results.length) io.out('Every set is already at every destination.');
      else printCopyResults(io, results);
      return results.every((r) => r.ok) ? EXIT.ok : EXIT.notCopied;
    }),
  );
}
