import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { Manifest } from '../src/core/types.js';
import { listSets } from '../src/engine/catalog.js';
import type { DestinationRetentionOutcome } from '../src/engine/remote-prune.js';
import { engineRetention } from '../src/scheduler/run-job.js';
import { collect, describeResult, parseJsonOutput, startCli, waitFor } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { FakeReporter } from './helpers/reporter.js';
import { demoSetup } from './helpers/tmp.js';
import { logLines } from './helpers/logs.js';

// The sets there (a copy's claims folder, `.respaldo-claims`, is none: copy-claim.ts)
const remoteSets = (root: string) =>
  existsSync(join(root, 'srv1'))
    ? readdirSync(join(root, 'srv1'))
        .filter((n) => !n.startsWith('.'))
        .sort()
    : [];

/** Local retention keeps everything; the destination keeps one set of each job (and of sets made by hand). */
const KEEP_ALL = { keepLast: 50, daily: 0, weekly: 0, monthly: 0, yearly: 0, manual: { days: 30, keepLast: 50 } };
const KEEP_ONE = { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0, manual: { days: 0, keepLast: 1 } };

describe('the scheduler applies the destinations’ retention', () => {
  it('after each successful scheduled backup, each destination keeps what its own retention says', async () => {
    const s = demoSetup({
      retention: KEEP_ALL,
      source: 'srv1',
      destinations: [{ name: 'nas', type: 'folder', path: './nas', retention: KEEP_ONE }],
      schedule: {
        jobs: [{ name: 'often', when: '*/2 * * * * *', type: 'full', databases: ['users'], files: false }],
      },
    });
    const root = join(s.dir, 'nas');
    mkdirSync(root);
    const child = startCli(['scheduler', '--config', s.configFile]);
    const done = collect(child, 90_000);
    await waitFor(
      () => logLines(s.backupDir).filter((l) => l.event === 'retention').length >= 3,
      'three backups pruned',
      60_000,
    );
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code, describeResult(r)).toBe(0);

    const lines = logLines(s.backupDir);
    const ends = lines.filter((l) => l.event === 'job-end');
    const retention = lines.filter((l) => l.event === 'retention');
    expect(retention).toHaveLength(ends.length);
    for (const l of retention) {
      expect(l.removed).toEqual([]); // local retention keeps every set
      expect((l.offsite as DestinationRetentionOutcome[])[0]).toMatchObject({ destination: 'nas', outcome: 'pruned' });
    }
    const removedThere = retention.flatMap((l) => (l.offsite as DestinationRetentionOutcome[])[0]!.removed);
    const made = ends.map((l) => l.setId as string);
    expect(removedThere.sort()).toEqual(made.slice(0, -1).sort());
    expect(remoteSets(root)).toEqual([made.at(-1)]);
    expect(r.stdout).toMatch(/retention: nothing to remove, \d+ set\(s\) kept\n\s+at nas: removed \d{8}_\d{6}/);
    const cfg = await loadConfig({ configPath: s.configFile });
    expect((await listSets(cfg)).map((x) => x.id).sort()).toEqual([...made].sort());
  }, 120_000);

  it('skips a destination the new set was not copied to, and reports a destination that refuses', async () => {
    const s = demoSetup({
      retention: KEEP_ALL,
      source: 'srv1',
      destinations: [
        { name: 'nas', type: 'folder', path: './nas', retention: KEEP_ONE },
        { name: 'usb', type: 'folder', path: './usb', retention: KEEP_ONE },
      ],
    });
    const nas = join(s.dir, 'nas');
    const usb = join(s.dir, 'usb');
    mkdirSync(nas);
    mkdirSync(usb);
    const create = async (code = 0) =>
      parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'], code)).stdout).id;
    const a = await create();
    const b = await create();
    renameSync(nas, `${nas}.unmounted`); // the NAS is away during the third backup: not copied there (exit 12)
    const c = await create(12);
    renameSync(`${nas}.unmounted`, nas);
    // At usb the newest set is made partial behind respaldo's back: pruning there must refuse.
    const usbManifest = join(usb, 'srv1', c, 'manifest.json');
    writeFileSync(usbManifest, JSON.stringify({ ...JSON.parse(readFileSync(usbManifest, 'utf8')), status: 'partial' }));

    const cfg = await loadConfig({ configPath: s.configFile });
    const reporter = new FakeReporter();
    const job = { name: 'daily', when: '0 2 * * *', type: 'full' as const, databases: ['users'], files: false };
    const err = (await engineRetention(cfg)({ job, setId: c, reporter }).catch((e: unknown) => e)) as Error & {
      offsite: DestinationRetentionOutcome[];
      removed: string[];
    };
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('destination "usb": Nothing pruned: the newest backup set');
    expect(err.removed).toEqual([]);
    expect(err.offsite).toMatchObject([
      { destination: 'nas', outcome: 'skipped', removed: [] },
      { destination: 'usb', outcome: 'failed', removed: [] },
    ]);
    expect(err.offsite[0]!.reason).toMatch(new RegExp(`^set ${c} is not copied there: `));
    expect(remoteSets(nas)).toEqual([a, b]);
    expect(remoteSets(usb)).toEqual([a, b, c]);

    // Once the set is copied, the next retention prunes there (never the newest completed set).
    await cli(s, ['copy', c, '--to', 'nas']);
    const ok = await engineRetention({ ...cfg, destinations: cfg.destinations!.slice(0, 1) })({
      job,
      setId: c,
      reporter,
    });
    expect(ok.offsite).toMatchObject([{ destination: 'nas', outcome: 'pruned' }]);
    expect((ok.offsite as DestinationRetentionOutcome[])[0]!.removed.sort()).toEqual([a, b]);
    expect(remoteSets(nas)).toEqual([c]);
  }, 120_000);
});
