import type { Command } from 'commander';
import type { SetSummary } from '../../core/types.js';
import { listSets, readManifest } from '../../engine/catalog.js';
import { addCommonOptions, runAction } from '../context.js';
import { listFrom } from './offsite.js';
import { formatBytes, table } from '../format.js';

function localTime(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function verifiedText(s: SetSummary): string {
  if (!s.lastVerified) return 'never';
  return `${s.lastVerified.ok ? 'ok' : 'FAILED'} ${localTime(s.lastVerified.at)}`;
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
    runAction(async (io, opts) => {
      if (opts.from) return listFrom(io, String(opts.from), Boolean(opts.allSources));
      const cfg = await io.config();
      const sets = await listSets(cfg, opts.db ? { database: String(opts.db) } : {});
      if (io.json) {
        io.printJson(sets);
        return;
      }
      if (!sets.length) {
        io.out(`No backup sets in ${cfg.backupDir}. Create one with: respaldo create`);
        return;
      }
      const rows = [['ID', 'DATE', 'TYPE', 'STATUS', 'DATABASES', 'FILES', 'SIZE', 'VERIFIED']];
      for (const s of sets) {
        const dbs = [...s.databases, ...s.failedDatabases.map((d) => `${d}(failed)`)].join(',') || '-';
        rows.push([s.id + (s.keep ? '*' : ''), localTime(s.startedAt), s.type, s.status, dbs, String(s.files), formatBytes(s.storedBytes), verifiedText(s)]);
      }
      io.out(table(rows));
      io.out(`${sets.length} set(s) in ${cfg.backupDir}${sets.some((s) => s.keep) ? '  (* = kept, never pruned automatically)' : ''}`);
    }),
  );

  addCommonOptions(program.command('show').description('show a backup set: every file with its size, checksums and row counts').argument('<id>', 'set id, or latest')).action(
    runAction(async (io, _opts, id: string) => {
      const cfg = await io.config();
      const m = await readManifest(cfg, id);
      if (io.json) {
        io.printJson(m);
        return;
      }
      io.out(`Set ${m.id}  type ${m.type}  status ${m.status}`);
      io.out(`  started ${m.startedAt}  completed ${m.completedAt}  host ${m.host}  respaldo ${m.tool.version}`);
      if (m.description) io.out(`  description: ${m.description}`);
      if (m.restoreOf) io.out(`  safety copy taken before restoring set ${m.restoreOf}`);
      for (const d of m.databases) {
        io.out(`\n  database ${d.name} (${d.engine}, ${d.format || '-'})${d.error ? '  FAILED' : ''}`);
        if (d.error) io.out(`    error: ${d.error.message}${d.error.hint ? `\n    hint: ${d.error.hint}` : ''}`);
        if (d.safetyDatabase) io.out(`    kept on the server as database ${d.safetyDatabase}`);
        if (d.file) {
          io.out(`    file    ${d.file}`);
          io.out(`    size    ${formatBytes(d.rawBytes)} raw, ${formatBytes(d.storedBytes)} stored${d.compressed ? ' (gzip)' : ''}`);
          io.out(`    md5     ${d.md5}`);
          io.out(`    sha256  ${d.sha256}`);
        }
        for (const x of d.extras ?? []) io.out(`    ${x.role}: ${x.file}  ${formatBytes(x.storedBytes)}  sha256 ${x.sha256}`);
        if (d.tables) io.out(`    rows    ${Object.entries(d.tables).map(([t, n]) => `${t}=${n}`).join(', ') || '(no tables)'}`);
      }
      if (m.files.length) {
        io.out(`\n  files (${m.files.length})`);
        const rows = m.files.map((f) => [f.group, f.relative, f.kind === 'symlink' ? `-> ${f.linkTarget}` : formatBytes(f.size), f.md5 ?? '-', f.sha256 ? f.sha256.slice(0, 16) + '…' : '-']);
        io.out(table(rows).replace(/^/gm, '    '));
      }
      for (const w of m.warnings) io.out(`  warning: ${w}`);
    }),
  );
}
