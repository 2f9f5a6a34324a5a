import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { printedName } from '../../core/format.js';
import { listDamagedSets, listSets, readManifestHead } from '../../engine/catalog.js';
import { chainBreaks, chainToVerify } from '../../engine/chain-sets.js';
import { verifySet, type FileCheck, type VerifyReport } from '../../engine/verify.js';
import { SpilledChecks, spilledJsonLines, spilledMark } from './verify-json.js';
import { addCommonOptions, runAction } from '../context.js';
import { verifyFrom } from './offsite.js';

export function register(program: Command): void {
  addCommonOptions(
    program
      .command('verify')
      .description('re-hash stored files against their manifest (a changed, truncated or missing file is named)')
      .argument('[id]', 'set id, or latest (default: latest)')
      .option('--all', 'verify every set')
      .option('--chain', 'verify every set the chain of ID needs (full, differential, incrementals), then ID')
      .option('--from <name>', 'verify the copy at this destination (presence and sizes)')
      .option(
        '--read-data',
        'also decompress every stored file, and decrypt an encrypted set checking its plaintext (needs the key), in ' +
          'the same read: a file that would not restore fails; with --from read back and re-hash every file',
      ),
  ).action(
    runAction({ all: 'flag', chain: 'flag', from: 'text', readData: 'flag' }, async (io, opts, id?: string) => {
      if (opts.from && (opts.all || opts.chain))
        // Checking one set there must not pass for checking them all, or a chain whose base is gone there.
        throw new UsageError(
          `--from checks one set at a destination; ${opts.all ? '--all' : '--chain'} is for the sets here.`,
          `Check each set there: respaldo list --from ${opts.from} lists them, then respaldo verify ID --from ${opts.from}` +
            (opts.chain
              ? ', which also says what breaks its chain there (a set it applies on missing or damaged there).'
              : '.'),
        );
      if (opts.from) return verifyFrom(io, id ?? 'latest', opts.from, opts.readData);
      const cfg = await io.config();
      if (opts.all && id) throw new UsageError('Give a set id or --all, not both.');
      if (opts.chain && opts.all) throw new UsageError('Give --chain ID or --all, not both.');
      const chain = opts.chain
        ? chainToVerify(cfg, (await readManifestHead(cfg, id ?? 'latest', { shared: true })).id)
        : null;
      if (chain && !io.json) {
        io.out(`Chain of ${chain.id}: ${chain.ids.join(' → ')}`);
        for (const p of chain.problems) io.out(`  BROKEN: ${p}`);
      }
      const ids = opts.all
        ? (await listSets(cfg)).map((s) => s.id)
        : chain
          ? chain.ids.filter((x) => !chain.missing.includes(x))
          : [id ?? 'latest'];
      const reports: VerifyReport[] = [];
      // --json: each set's results, every file checked, written aside as they come (verify-json.ts)
      const spills: SpilledChecks[] = [];
      try {
        return await verifyAll();
      } finally {
        for (const s of spills) s.remove();
      }
      async function verifyAll(): Promise<number> {
        // --all: a set whose manifest fails its checks is reported as failed, not skipped.
        for (const d of opts.all ? await listDamagedSets(cfg) : []) {
          const manifest = { path: 'manifest.json', ok: false, problem: d.problem, bytes: 0 };
          reports.push({ setId: d.id, ok: false, files: [manifest] });
          if (!io.json) io.out(`${d.id}: FAILED (damaged manifest)\n  manifest.json: ${d.problem}`);
        }
        for (const one of ids) {
          const spill = io.json ? new SpilledChecks() : null;
          if (spill) spills.push(spill);
          const r: VerifyReport = await verifySet(cfg, one, io.reporter, {
            readData: Boolean(opts.readData),
            ...(spill ? { eachFile: (f: FileCheck) => spill.add(f) } : {}),
          });
          // Its own files matching is not a restorable set: the sets it applies on must be there (--chain hashes them).
          const breaks = chain ? [] : chainBreaks(cfg, r.setId, { damage: !opts.all });
          if (breaks.length) r.chainProblems = breaks;
          reports.push(r);
          if (!io.json) {
            io.out(`${r.setId}: ${r.ok ? 'OK' : 'FAILED'} (${r.checked ?? r.files.length} file(s) checked)`);
            // A file no restore reads (the page map) was said as a warning by verifySet
            for (const f of r.files.filter((x) => !x.ok && !x.nextBackupOf))
              io.out(`  ${printedName(f.path)}: ${f.problem}`);
            for (const b of breaks) io.out(`  chain BROKEN: ${b} (respaldo verify --chain ${r.setId})`);
          }
        }
        if (chain) {
          const problems = chainToVerify(cfg, chain.id).problems; // after this verification
          const ok = !problems.length && reports.every((r) => r.ok);
          if (!io.json) for (const p of problems.filter((x) => !chain.problems.includes(x))) io.out(`  BROKEN: ${p}`);
          if (io.json) await printReports({ setId: chain.id, ok, chain: chain.ids, problems, sets: printed() });
          else io.out(`Chain of ${chain.id}: ${ok ? 'OK' : 'FAILED'} (${reports.length} set(s) verified)`);
          return ok ? EXIT.ok : EXIT.verifyFailed;
        }
        if (io.json) await printReports(opts.all ? printed() : printed()[0]);
        return reports.every((r) => r.ok && !r.chainProblems) ? EXIT.ok : EXIT.verifyFailed;
      }
      // The reports as --json prints them: each verified set's `files`, all its files, from its spill
      function printed(): object[] {
        let spilled = 0;
        return reports.map((r) => {
          if (r.checked === undefined) return r;
          const { checked: _counted, ...shown } = r;
          return { ...shown, files: spilledMark(spilled++) };
        });
      }
      function printReports(doc: unknown): Promise<void> {
        return io.printJsonText(spilledJsonLines(doc, spills));
      }
    }),
  );
}
