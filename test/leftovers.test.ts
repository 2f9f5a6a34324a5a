import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LoadedConfig } from '../src/core/types.js';
import { cleanLeftovers } from '../src/engine/create.js';
import { emptyJobState } from '../src/scheduler/state.js';
import { describeResult, runCli } from './helpers/cli.js';
import { demoSetup, makeTmpDir, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

describe('cleanLeftovers', () => {
  it('removes staging folders of killed runs but not the scratch of a restore running in this process', async () => {
    const backupDir = makeTmpDir();
    // Other tools' files in a shared folder are never touched, nor the scratch of a live restore.
    const others = [
      '.tmp-build',
      '.tmp-restore-notapid',
      '.deleting-mine',
      '20261122_020202',
      `.tmp-restore-${process.ppid}`,
    ];
    const names = [
      '.tmp-20261122_010101',
      '.tmp-restore-999999999',
      '.deleting-20261101_000000-42',
      `.tmp-restore-${process.pid}`,
      ...others,
    ];
    for (const n of names) mkdirSync(join(backupDir, n));
    const removed = await cleanLeftovers({ backupDir, secrets: [] } as unknown as LoadedConfig);
    expect(removed.map((r) => r.message).sort()).toEqual([
      'removed .deleting-20261101_000000-42 (left by an interrupted run)',
      'removed .tmp-20261122_010101 (left by an interrupted run)',
      `removed ${join(backupDir, '.tmp-restore-999999999')}, left by an interrupted run`,
    ]);
    expect(existsSync(join(backupDir, `.tmp-restore-${process.pid}`))).toBe(true);
    for (const n of others) expect(existsSync(join(backupDir, n)), n).toBe(true);
  });
});

describe('the next restore removes the scratch folder of a restore that was killed', () => {
  it('.tmp-restore-<pid> of a dead run is removed (with its pg_restore-like files), a live run’s is kept', async () => {
    const s = demoSetup();
    await cli(s, ['create', '--no-files']);
    const dead = spawnSync('true').pid!; // exited: its pid names no process now
    const deadScratch = join(s.backupDir, `.tmp-restore-${dead}`);
    mkdirSync(join(deadScratch, 'pg-directory-inventario'), { recursive: true });
    for (const f of ['toc.dat', '3345.dat']) writeFileSync(join(deadScratch, 'pg-directory-inventario', f), 'x');
    // The staging folder of a killed create (or of the safety copy of a killed restore in place)
    mkdirSync(join(s.backupDir, '.tmp-20261122_010101', 'databases'), { recursive: true });
    const alive = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const liveScratch = join(s.backupDir, `.tmp-restore-${alive.pid}`);
      mkdirSync(liveScratch);
      // Side by side: no pre_restore set is taken (whose backup would clean up as a create does).
      const r = await cli(s, ['restore', 'latest', '--db', 'users', '--to', join(s.dir, 'users-copy.db'), '--yes']);
      expect(r.stdout).toContain(`recovered: removed ${deadScratch}, left by an interrupted run`);
      expect(r.stdout).toContain('recovered: removed .tmp-20261122_010101 (left by an interrupted run)');
      expect(existsSync(deadScratch)).toBe(false);
      expect(existsSync(liveScratch)).toBe(true);
      expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.tmp-'))).toEqual([`.tmp-restore-${alive.pid}`]);
    } finally {
      alive.kill('SIGKILL');
    }
  });

  it('status: while a live run holds the lock, its working folders are not called leftovers', async () => {
    const s = demoSetup();
    mkdirSync(s.backupDir, { recursive: true });
    const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      const pid = live.pid!;
      mkdirSync(join(s.backupDir, `.tmp-restore-${pid}`));
      const lock = { pid, host: hostname(), purpose: 'restore 20261203_120000', startedAt: new Date().toISOString() };
      writeFileSync(join(s.backupDir, '.respaldo.lock'), JSON.stringify(lock));
      const held = await runCli(['status', '--config', s.configFile], { cwd: s.dir });
      expect(held.code, describeResult(held)).toBe(0);
      expect(held.stdout).toContain(
        `Working:     .tmp-restore-${pid} (a restore 20261203_120000 runs now (pid ${pid}): they may be its own; leave them`,
      );
      expect(held.stdout).not.toContain('Leftovers:');
    } finally {
      live.kill('SIGKILL');
      await new Promise((r) => live.once('exit', r));
    }
    // the holder is gone: the lock is stale, and what it left is left over
    const after = await runCli(['status', '--config', s.configFile], { cwd: s.dir });
    expect(after.stdout).toMatch(/Leftovers: {3}\.tmp-restore-\d+ \(removed by the next create or restore\)/);
  });

  it('status: a scheduler killed without a word is not called running (its state file still says so)', async () => {
    const s = demoSetup();
    mkdirSync(s.backupDir, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // a pid whose process is gone
    const job = {
      ...emptyJobState(),
      lastRun: new Date().toISOString(),
      lastOutcome: 'completed',
      lastDurationMs: 4000,
    };
    const state = {
      version: 1,
      updatedAt: new Date().toISOString(),
      scheduler: { pid: dead, host: hostname(), startedAt: new Date().toISOString(), running: true },
      jobs: { nightly: job },
    };
    writeFileSync(join(s.backupDir, '.scheduler-state.json'), JSON.stringify(state));
    const r = await runCli(['status', '--config', s.configFile], { cwd: s.dir });
    expect(r.stdout).toContain(`Scheduler: not running: its process is gone (killed?)`);
    expect(r.stdout).toContain(`(pid ${dead} on ${hostname()})`);
    expect(r.stdout).not.toMatch(/Scheduler: running/);
  });

  it('status: a run that started after the last recorded end is interrupted when its scheduler is gone, running when it runs (it said completed, with the previous duration)', async () => {
    const s = demoSetup();
    mkdirSync(s.backupDir, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const job = {
      ...emptyJobState(),
      lastRun: '2026-12-03T02:00:00.000Z',
      lastEnd: '2026-12-02T02:00:04.000Z',
      lastOutcome: 'completed',
      lastDurationMs: 4000,
      lastSetId: '20261202_020000',
    };
    const write = (pid: number) =>
      writeFileSync(
        join(s.backupDir, '.scheduler-state.json'),
        JSON.stringify({
          version: 1,
          updatedAt: new Date().toISOString(),
          scheduler: { pid, host: hostname(), startedAt: new Date().toISOString(), running: true },
          jobs: { nightly: job },
        }),
      );
    write(dead);
    const r = await runCli(['status', '--config', s.configFile], { cwd: s.dir });
    const row = r.stdout.split('\n').find((l) => l.startsWith('nightly'))!;
    expect(row).toMatch(/ interrupted /);
    expect(row).not.toMatch(/completed|4s/);
    const j = await runCli(['status', '--json', '--config', s.configFile], { cwd: s.dir });
    const doc = JSON.parse(j.stdout) as { scheduler: { jobs: Record<string, Record<string, unknown>> } };
    expect(doc.scheduler.jobs['nightly']).toMatchObject({
      lastOutcome: 'interrupted',
      lastDurationMs: null,
      lastSetId: null,
      unfinished: 'interrupted',
    });
    write(process.pid); // a live scheduler: the run is under way
    const live = await runCli(['status', '--config', s.configFile], { cwd: s.dir });
    expect(live.stdout.split('\n').find((l) => l.startsWith('nightly'))).toMatch(/ running /);
  });
});

describe('the safety set of a restore in place killed before its swap', () => {
  it('is removed by the next run when nothing was replaced, said; kept when the target was swapped', async () => {
    const { loadConfig } = await import('../src/config/load.js');
    const { planRestore } = await import('../src/engine/restore.js');
    const { keepReplacedFiles } = await import('../src/engine/restore-stage.js');
    const { journalSafetySet } = await import('../src/engine/safety-journal.js');
    const { silentReporter } = await import('../src/core/events.js');
    const s = demoSetup();
    await cli(s, ['create', '--no-files']);
    const cfg = await loadConfig({ configPath: s.configFile });
    /** The state a restore in place killed right after its safety copy leaves: the set, its dead scratch folder. */
    const killedAfterSafetyCopy = async (): Promise<string> => {
      const plan = await planRestore(cfg, 'latest', { databases: ['users'] });
      const safety = (await keepReplacedFiles(cfg, plan, plan.setId, silentReporter, new AbortController().signal))!;
      const scratch = join(s.backupDir, `.tmp-restore-${spawnSync('true').pid!}`);
      mkdirSync(scratch);
      const targets = [...safety.identities].map(([database, identity]) => ({
        database,
        identity,
        target: plan.databases[0]!.restoreTarget,
      }));
      await journalSafetySet(scratch, safety.id, targets);
      return safety.id;
    };

    const unchanged = await killedAfterSafetyCopy();
    const r = await cli(s, ['restore', 'latest', '--db', 'inventario', '--to', join(s.dir, 'inv.db'), '--yes']);
    expect(r.stdout).toContain(
      `recovered: removed safety set ${unchanged}, taken by a restore killed before it replaced anything`,
    );
    expect(existsSync(join(s.backupDir, unchanged))).toBe(false);

    // A create recovers too, and says so (it removed the set and said nothing but in the log).
    const again = await killedAfterSafetyCopy();
    const created = await cli(s, ['create', '--no-files']);
    expect(created.stdout + created.stderr).toContain(
      `removed safety set ${again}, taken by a restore killed before it replaced anything`,
    );
    // (the new set may take the freed id within the same second: no safety set under it any more)
    const left = join(s.backupDir, again, 'manifest.json');
    expect(existsSync(left) && (JSON.parse(readFileSync(left, 'utf8')) as { type: string }).type).not.toBe(
      'pre_restore',
    );

    const swapped = await killedAfterSafetyCopy();
    // the killed run had swapped the file in: another file under the live name now
    const { copyFileSync, renameSync } = await import('node:fs');
    copyFileSync(s.dbs.users, `${s.dbs.users}.new`);
    renameSync(`${s.dbs.users}.new`, s.dbs.users);
    await cli(s, ['create', '--no-files']); // a create recovers too
    expect(existsSync(join(s.backupDir, swapped, 'manifest.json'))).toBe(true);
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.tmp-restore-'))).toEqual([]);

    // A real restore in place records its safety set in its scratch folder while it restores (gone at its end).
    const { executeRestore } = await import('../src/engine/restore.js');
    const plan = await planRestore(cfg, 'latest', { databases: ['users'] });
    const journal = join(s.backupDir, `.tmp-restore-${process.pid}`, 'safety-set.json');
    let seen: string | null = null;
    const reporter = {
      emit: (e: { type: string; item?: string }) => {
        if (e.type === 'item-start' && e.item === 'users' && existsSync(journal)) seen = readFileSync(journal, 'utf8');
      },
    };
    const outcome = await executeRestore(cfg, plan, reporter as never);
    expect(seen).toContain(outcome.safetySetIds[0]!);
    expect(existsSync(journal)).toBe(false);
  });
});
