/**
 * Local retention keeps a set not yet copied to a destination with copyAfterBackup (a NAS not mounted, a bucket
 * unreachable), with the sets it applies on, until it is: pruned before, the set never reached the destination
 * (nothing else held it), and a destination whose retention keeps longer than the local one lost it for good.
 */
import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SetSummary } from '../src/core/types.js';
import type { PruneDecision } from '../src/engine/retention.js';
import { keepForNotCopied } from '../src/engine/retention-keep.js';
import { collect, describeResult, parseJsonOutput, startCli, waitFor } from './helpers/cli.js';
import { logLines } from './helpers/logs.js';
import { cli } from './helpers/offsite.js';
import { demoSetup } from './helpers/tmp.js';

const setIds = (backupDir: string): string[] =>
  readdirSync(backupDir)
    .filter((n) => /^\d{8}_\d{6}(_\d+)?$/.test(n))
    .sort()
    .reverse();

describe('keepForNotCopied', () => {
  it('keeps a set the plan removes that is not copied, and the sets its chain applies on; nothing else', () => {
    const set = (id: string, needs: string[] = []) => ({ id, needs }) as unknown as SetSummary;
    const sets = [set('F1'), set('I1', ['F1']), set('F2'), set('I2', ['F2']), set('F3')];
    const remove = (id: string): PruneDecision => ({ id, action: 'remove', reasons: ['not kept by any rule'] });
    const decisions: PruneDecision[] = [
      remove('F1'),
      remove('I1'),
      remove('F2'),
      remove('I2'),
      { id: 'F3', action: 'keep', reasons: ['keepLast 1'] },
    ];
    const notCopied = new Map([
      ['I1', ['nas', 'b2']],
      ['F3', ['nas']], // kept already: its reason stays
      ['F2', []], // copied everywhere
    ]);
    expect(keepForNotCopied(decisions, sets, notCopied)).toEqual([
      { id: 'F1', action: 'keep', reasons: ['needed by I1 (kept; chain)'] },
      {
        id: 'I1',
        action: 'keep',
        reasons: [
          'not yet copied to nas, b2: kept until it is (the next backup copies it, or `respaldo copy I1` now; ' +
            '`respaldo delete I1` removes it anyway)',
        ],
      },
      remove('F2'),
      remove('I2'),
      { id: 'F3', action: 'keep', reasons: ['keepLast 1'] },
    ]);
  });
});

describe('prune with a destination the sets did not reach', () => {
  it('keeps them (saying why) until a copy gets them there, then removes them; a destination not copied to after a backup holds nothing', async () => {
    const manual = { days: 0, keepLast: 1 };
    const s = demoSetup({
      retention: { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0, manual },
      destinations: [
        { name: 'nas', type: 'folder', path: './nas' },
        { name: 'archive', type: 'folder', path: './archive', copyAfterBackup: false },
      ],
    });
    // The NAS is not mounted: each backup is made, its copy fails (exit 12).
    for (let i = 0; i < 3; i++) await cli(s, ['create', '--no-files'], 12);
    const [newest, middle, oldest] = setIds(s.backupDir);

    type Row = { id: string; action: string; reasons: string[] };
    const planOf = async (args: string[]) =>
      parseJsonOutput<{ removed: string[]; sets: Row[]; notCopied: string[] }>(
        (await cli(s, ['prune', '--json', ...args])).stdout,
      );
    const held = (id: string | undefined) =>
      `not yet copied to nas: kept until it is (the next backup copies it, or \`respaldo copy ${id}\` now; ` +
      `\`respaldo delete ${id}\` removes it anyway)`;
    const dry = await planOf(['--dry-run']);
    expect(dry.sets.map((r) => [r.id, r.action, r.reasons])).toEqual([
      [newest, 'keep', expect.arrayContaining([expect.stringContaining('newest 1 of 1')])],
      [middle, 'keep', [held(middle)]],
      [oldest, 'keep', [held(oldest)]],
    ]);
    expect(dry.notCopied).toEqual([middle, oldest]);
    const text = await cli(s, ['prune']);
    expect(text.stdout).toContain(held(oldest));
    expect(text.stdout.replace(/\s+/g, ' ')).toContain(
      '0 set(s) removed, 3 kept (2 of them until copied off-site: `respaldo status` says why each copy failed).',
    );
    expect(setIds(s.backupDir)).toEqual([newest, middle, oldest]);

    // Mounted: the copy sends every set missing there, and the next prune removes what retention does not keep.
    mkdirSync(join(s.dir, 'nas'));
    await cli(s, ['copy', '--to', 'nas']);
    const real = await planOf([]);
    expect(real.removed.sort()).toEqual([middle, oldest].sort());
    expect(real.notCopied).toEqual([]);
    expect(setIds(s.backupDir)).toEqual([newest]);

    // Deleting by hand a set not copied yet says first that it is its only copy (a copied one says nothing of it).
    renameSync(join(s.dir, 'nas'), join(s.dir, 'nas-away'));
    await cli(s, ['create', '--no-files'], 12);
    const [unsent] = setIds(s.backupDir);
    const only = `Set ${unsent} is not copied to nas yet: deleting it here deletes its only copy.`;
    expect((await cli(s, ['delete', unsent!, '--yes'])).stderr).toContain(only);
    expect((await cli(s, ['delete', newest!, '--yes'])).stderr).not.toContain('not copied');
  });

  it('the scheduler keeps each set its failed copy left here, and its retention line says which', async () => {
    const s = demoSetup({
      retention: { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0 },
      destinations: [{ name: 'nas', type: 'folder', path: './nas' }],
      schedule: {
        jobs: [{ name: 'often', when: '*/2 * * * * *', type: 'full', databases: ['users'], files: false }],
      },
    });
    // The NAS is not mounted: every backup is made and is not copied.
    const child = startCli(['scheduler', '--config', s.configFile]);
    const done = collect(child, 90_000);
    const retention = () => logLines(s.backupDir).filter((l) => l.event === 'retention');
    await waitFor(() => retention().length >= 3, 'three backups pruned', 60_000);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code, describeResult(r)).toBe(0);
    const made = logLines(s.backupDir)
      .filter((l) => l.event === 'job-end')
      .map((l) => l.setId as string);
    // keepLast 1 would have left one set; each is held until the NAS is back.
    expect(setIds(s.backupDir).sort()).toEqual([...made].sort());
    for (const l of retention()) expect(l.removed).toEqual([]);
    const third = retention()[2]!;
    expect(third.notCopied).toEqual(made.slice(0, 2).reverse());
    expect(r.stdout).toContain(
      `retention: nothing to remove, 3 set(s) kept (2 until copied off-site: ${made[1]}, ${made[0]})`,
    );
  }, 120_000);
});
