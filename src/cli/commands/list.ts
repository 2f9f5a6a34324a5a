import type { Command } from 'commander';
import { DUMP_MEMBER_ROLE, type FileEntry, type SetSummary } from '../../core/types.js';
import { configuredDatabase } from '../../config/lookup.js';
import { listDamagedSets, listSets, readDrillRecord, readManifestLeanOf, setDir } from '../../engine/catalog.js';
import { entryTexts, manifestText } from '../../engine/manifest.js';
import { printable, printedName } from '../../core/format.js';
import { EXIT } from '../../core/exit-codes.js';
import { addCommonOptions, runAction } from '../context.js';
import {
  fitTable,
  foldLine,
  formatBytes,
  formatLocal,
  outputWidth,
  table,
  tableWidth,
  wrapWords,
  tableLines,
} from '../format.js';
import { withOffsite } from '../../engine/offsite-state.js';
import { withChainProblems } from '../../engine/chain-sets.js';
import { listFrom } from './offsite.js';

function verifiedText(s: SetSummary, form: 'long' | 'short' | 'word' = 'long'): string {
  if (!s.lastVerified) return 'never';
  const word = s.lastVerified.ok ? 'ok' : 'FAILED';
  return form === 'word' ? word : `${word} ${formatLocal(s.lastVerified.at, { short: form === 'short' })}`;
}

function drilledText(s: SetSummary, form: 'long' | 'short' | 'word' = 'long'): string {
  if (!s.lastDrill) return 'never';
  const word = s.lastDrill.ok ? 'ok' : form === 'word' ? 'FAILED' : `FAILED(${s.lastDrill.failed.join(',')})`;
  return form === 'word' ? word : `${word} ${formatLocal(s.lastDrill.at, { short: form === 'short' })}`;
}

/**
 * The STATUS cell, as the menu's list says it: DAMAGED for a set whose own last verification failed (a stored file
 * does not match: see damagedNotes), else BROKEN for a set whose chain cannot be restored (its files may match: see
 * brokenChainNotes), else its run's status (`--json` keeps the run's status).
 */
const statusOf = (s: SetSummary): string =>
  s.lastVerified?.ok === false ? 'DAMAGED' : s.chainProblems?.length ? 'BROKEN' : s.status;

/** One line per set whose own last verification failed: when, and the command that says what failed. */
export function damagedNotes(sets: SetSummary[]): string[] {
  return sets
    .filter((s) => s.lastVerified?.ok === false)
    .map(
      (s) =>
        `DAMAGED: set ${s.id} failed its verification on ${formatLocal(s.lastVerified!.at)}: do not restore from it (respaldo verify ${s.id} says what failed)`,
    );
}

/**
 * One line per problem of the sets' chains (a set deleted by hand or pruned, a member damaged): the sets it leaves
 * unrestorable, and the command that checks the chain.
 */
export function brokenChainNotes(sets: SetSummary[]): string[] {
  const byProblem = new Map<string, string[]>();
  for (const s of sets) for (const p of s.chainProblems ?? []) byProblem.set(p, [...(byProblem.get(p) ?? []), s.id]);
  return [...byProblem].map(([problem, ids]) => {
    const oldest = [...ids].sort()[0]!;
    const which = ids.length === 1 ? `set ${oldest}` : `${oldest} and ${ids.length - 1} later set(s)`;
    return `BROKEN chain: ${problem}: ${which} cannot be restored (respaldo verify --chain ${oldest})`;
  });
}

/**
 * The sets as a table. Piped (`width` null) every column is whole, one line per set. On a terminal
 * narrower than that: dates lose the year, the FILES count goes and the databases fold at commas
 * onto a second line; then the verification keeps only its word; then the databases (and on a very
 * narrow terminal type, size and verification too) go on indented lines under each set. Nothing
 * is cut inside a word.
 */
export function setsTable(sets: SetSummary[], width: number | null): string {
  const dbsOf = (s: SetSummary): string =>
    [...s.databases, ...s.failedDatabases.map((d) => `${d}(failed)`)].join(',') || '-';
  // Off-site (when destinations exist): a NOT COPIED TO column when the whole table fits, else a `!` after the id.
  const offsite = sets.some((s) => s.notCopiedTo !== undefined);
  const notCopied = (s: SetSummary): string => s.notCopiedTo?.join(',') || '-';
  const id = (s: SetSummary): string => s.id + (s.keep ? '*' : '') + (s.notCopiedTo?.length ? '!' : '');
  const titles = ['ID', 'DATE', 'TYPE', 'STATUS', 'DATABASES', 'FILES', 'SIZE', 'VERIFIED', 'DRILLED'];
  const rows = [[...titles, ...(offsite ? ['NOT COPIED TO'] : [])]];
  for (const s of sets) {
    const size = formatBytes(s.storedBytes);
    const date = formatLocal(s.startedAt);
    const row = [s.id + (s.keep ? '*' : ''), date, s.type, statusOf(s), dbsOf(s), String(s.files), size];
    rows.push([...row, verifiedText(s), drilledText(s), ...(offsite ? [notCopied(s)] : [])]);
  }
  if (width === null || tableWidth(rows) <= width) return table(rows);
  const narrow = (form: 'short' | 'word'): string[][] => [
    ['ID', 'DATE', 'TYPE', 'STATUS', 'SIZE', 'VERIFIED', 'DRILLED', 'DATABASES'],
    ...sets.map((s) => {
      const size = formatBytes(s.storedBytes);
      const date = formatLocal(s.startedAt, { short: true });
      return [id(s), date, s.type, statusOf(s), size, verifiedText(s, form), drilledText(s, form), dbsOf(s)];
    }),
  ];
  const fitted = fitTable(narrow('short'), width, 7) ?? fitTable(narrow('word'), width, 7);
  if (fitted) return fitted;
  // The databases (and, when even that is too wide, the rest) on indented lines under each set.
  const wide = narrow('word').map((r) => r.slice(0, 7));
  const head = tableWidth(wide) <= width ? wide : narrow('word').map((r) => [r[0]!, r[1]!, r[3]!]);
  const rest = (s: SetSummary): string =>
    head === wide
      ? dbsOf(s)
      : `${s.type}, ${formatBytes(s.storedBytes)}, verified ${verifiedText(s, 'short')}, ` +
        `drilled ${drilledText(s, 'short')}: ${dbsOf(s)}`;
  const lines = table(head).split('\n');
  const out = [lines[0]!];
  sets.forEach((s, i) => {
    out.push(lines[i + 1]!);
    out.push(...wrapWords(rest(s).replace(/,(?=\S)/g, ', '), width - 4).map((l) => `    ${l}`));
  });
  return out.join('\n');
}

export function register(program: Command): void {
  addCommonOptions(
    program
      .command('list')
      .description('list backup sets, newest first')
      .option('--db <name>', 'only sets that hold this database')
      .option('--from <name>', 'list the sets at this destination instead (see copy)')
      .option('--all-sources', 'with --from: the sets of every server sharing the destination'),
  ).action(
    runAction({ db: 'text', from: 'text', allSources: 'flag' }, async (io, opts) => {
      if (opts.from) return listFrom(io, opts.from, opts.allSources);
      const cfg = await io.config();
      if (opts.db) configuredDatabase(cfg, opts.db);
      const listed = await listSets(cfg, opts.db ? { database: opts.db } : {});
      const sets = withChainProblems(cfg, withOffsite(cfg, listed));
      // Damaged sets (a manifest that fails its checks) are named after the list, whatever the filter, and
      // make the exit code 5 (verify failed); with --json on stderr, the document staying the list of sets.
      const damaged = await listDamagedSets(cfg);
      const code = damaged.length ? EXIT.verifyFailed : EXIT.ok;
      const sayDamaged = (say: (line: string) => void) => {
        for (const d of damaged) say(`DAMAGED set ${d.id}: ${d.problem}`);
        if (damaged.length) say('  do not restore from a damaged set; move it out of the backup folder once inspected');
      };
      if (io.json) {
        io.printJson(sets);
        sayDamaged(io.err);
        return code;
      }
      if (!sets.length) {
        const usable = damaged.length ? 'usable ' : '';
        // A new server after the old one was lost: where its sets are is what the operator came to find.
        const at = cfg.destinations?.[0]?.name;
        io.out(
          foldLine(
            `No ${usable}backup sets in ${cfg.backupDir}.` +
              (at ? ` Sets copied off-site are listed by: respaldo list --from ${at}.` : '') +
              ' Create one with: respaldo create',
            outputWidth(),
          ),
        );
        sayDamaged(io.out);
        return code;
      }
      const width = outputWidth();
      const text = setsTable(sets, width);
      io.out(text);
      io.out(
        `${sets.length} set(s) in ${cfg.backupDir}${sets.some((s) => s.keep) ? '  (* = kept, never pruned automatically)' : ''}`,
      );
      const pending = sets.filter((s) => s.notCopiedTo?.length);
      if (pending.length) {
        const names = [...new Set(pending.flatMap((s) => s.notCopiedTo!))].join(', ');
        const mark = text.split('\n')[0]!.includes('NOT COPIED TO') ? '' : '! = ';
        const why = '`respaldo copy` (or the next backup) copies them; `respaldo status` says why.';
        io.out(foldLine(`${mark}${pending.length} set(s) not copied to ${names}: ${why}`, width));
      }
      for (const note of [...damagedNotes(sets), ...brokenChainNotes(sets)]) io.out(foldLine(note, width));
      sayDamaged(io.out);
      return code;
    }),
  );

  addCommonOptions(
    program
      .command('show')
      .description('show a backup set: every file with its size, checksums and row counts')
      .argument('<id>', 'set id, or latest'),
  ).action(
    runAction({}, async (io, _opts, id: string) => {
      const cfg = await io.config();
      // Its entries read as they are printed, never held: a set of 100 000 files held them, and their table, whole.
      const { head: m, files } = await readManifestLeanOf(cfg, id);
      if (io.json) {
        // The text JSON.stringify(m, null, 2) gives (manifestText), written a line at a time as the entries are read
        await io.printJsonText(linesOf(manifestText(m, entryTexts(files.entries()))));
        return;
      }
      io.out(`Set ${m.id}  type ${m.type}  status ${m.status}`);
      const [started, completed] = [m.startedAt, m.completedAt].map((at) => formatLocal(at, { seconds: true }));
      io.out(`  started ${started}  completed ${completed}  host ${m.host}  respaldo ${m.tool.version}`);
      if (m.description) io.out(`  description: ${printable(m.description)}`);
      if (m.restoreOf) io.out(`  safety copy taken before restoring set ${m.restoreOf}`);
      for (const n of m.chainNotes ?? []) io.out(`  note: ${n}`);
      for (const d of m.databases) {
        io.out(`\n  database ${d.name} (${d.engine}, ${d.format || '-'})${d.error ? '  FAILED' : ''}`);
        if (d.error) io.out(`    error: ${d.error.message}${d.error.hint ? `\n    hint: ${d.error.hint}` : ''}`);
        if (d.safetyDatabase) io.out(`    kept on the server as database ${d.safetyDatabase}`);
        const damagedThen = d.details['integrityCheck'];
        if (Array.isArray(damagedThen))
          io.out(
            `    kept DAMAGED: it failed integrity_check when a restore replaced it (${damagedThen.slice(0, 3).join('; ')}); restoring it puts it back damaged`,
          );
        if (d.base) io.out(`    changes only, applied on set ${d.base} (respaldo verify --chain ${m.id})`);
        if (d.file) {
          io.out(`    file    ${d.file}`);
          io.out(
            `    size    ${formatBytes(d.rawBytes)} raw, ${formatBytes(d.storedBytes)} stored${d.compressed ? ` (${d.codec ?? 'gzip'})` : ''}`,
          );
          io.out(`    md5     ${d.md5}`);
          io.out(`    sha256  ${d.sha256}`);
        }
        const [members, extras] = partition(d.extras ?? [], (x) => x.role?.startsWith(DUMP_MEMBER_ROLE) ?? false);
        for (const x of extras) io.out(`    ${x.role}: ${x.file}  ${formatBytes(x.storedBytes)}  sha256 ${x.sha256}`);
        if (members.length)
          io.out(
            `    ${members.length} more files of the directory dump (one per table): ${formatBytes(sum(members, 'rawBytes'))} raw, ${formatBytes(sum(members, 'storedBytes'))} stored, each hashed (--json lists them)`,
          );
        if (d.tables)
          io.out(
            `    rows    ${
              Object.entries(d.tables)
                .map(([t, n]) => `${t}=${n}`)
                .join(', ') || '(no tables)'
            }`,
          );
      }
      if (files.count) {
        io.out(`\n  files (${files.count})`);
        const row = (f: FileEntry): string[] => [
          f.group,
          printedName(f.relative), // a newline in a file's name would break the table
          f.kind === 'symlink' ? `-> ${printedName(f.linkTarget ?? '')}` : formatBytes(f.size),
          f.md5 ?? '-',
          f.sha256 ? f.sha256.slice(0, 16) + '…' : '-',
        ];
        // Two passes over the entries (the widths, then the rows), none held; written as they come, with backpressure
        const rows = function* (): Generator<string[]> {
          for (const f of files.entries()) yield row(f);
        };
        const lines = function* (): Generator<string> {
          for (const line of tableLines(rows)) yield `    ${line}\n`;
        };
        await io.printJsonText(lines());
      }
      for (const w of m.warnings) io.out(`  warning: ${w}`);
      const drills = Object.values(readDrillRecord(setDir(cfg, m.id))?.results ?? {});
      if (drills.length) io.out(`\n  restore drills (respaldo drill ${m.id})`);
      for (const r of drills) {
        const checked = r.checks
          .filter((c) => !c.skipped)
          .map((c) => c.name)
          .join(', ');
        const took = `${(r.durationMs / 1000).toFixed(1)} s`;
        const from = r.from ? ` from destination "${r.from}"` : '';
        io.out(`    ${r.database}: ${r.ok ? 'passed' : 'FAILED'}${from} ${formatLocal(r.at)} in ${took} (${checked})`);
        if (r.error) io.out(`      error: ${r.error}${r.hint ? `\n      hint: ${r.hint}` : ''}`);
      }
    }),
  );
}

/** The lines (each with its line break) of text given in pieces: printJsonText masks a line at a time. */
function* linesOf(pieces: Iterable<string>): Generator<string> {
  let pending = '';
  for (const piece of pieces) {
    pending += piece;
    const end = pending.lastIndexOf('\n');
    if (end < 0) continue;
    yield pending.slice(0, end + 1);
    pending = pending.slice(end + 1);
  }
  if (pending) yield pending;
}

/** Items of `xs` for which `test` holds, then the others. */
function partition<T>(xs: readonly T[], test: (x: T) => boolean): [T[], T[]] {
  return [xs.filter(test), xs.filter((x) => !test(x))];
}

function sum<K extends string>(xs: readonly Record<K, number>[], key: K): number {
  return xs.reduce((n, x) => n + x[key], 0);
}
