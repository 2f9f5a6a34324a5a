import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest, SetSummary } from '../src/core/types.js';
import { collect, describeResult, parseJsonOutput, runCli, startCli } from './helpers/cli.js';
import { useBigDb } from './helpers/big-db.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

const bigDb = useBigDb(200);
const LOCK_MESSAGE = 'Another respaldo process is working on this backup folder';
const BOOT_ID = '/proc/sys/kernel/random/boot_id';

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function writeLock(s: DemoSetup, info: Record<string, unknown>): string {
  mkdirSync(s.backupDir, { recursive: true, mode: 0o700 });
  const file = join(s.backupDir, '.respaldo.lock');
  writeFileSync(
    file,
    JSON.stringify({ purpose: 'create', startedAt: new Date(Date.now() - 3600_000).toISOString(), ...info }),
  );
  return file;
}

async function list(s: DemoSetup): Promise<SetSummary[]> {
  const r = await runCli(['list', '--json', '--config', s.configFile], { cwd: s.dir });
  expect(r.code, describeResult(r)).toBe(0);
  return parseJsonOutput<SetSummary[]>(r.stdout);
}

describe('one writer per backup folder', () => {
  it('two concurrent creates: exactly one fails at once with the lock exit code', async () => {
    const s = demoSetup((c) => ({ ...c, databases: [{ name: 'big', path: bigDb() }, ...(c.databases as object[])] }));
    const args = ['create', '--json', '--config', s.configFile];
    const t0 = Date.now();
    const a = collect(startCli(args, { cwd: s.dir }));
    const b = collect(startCli(args, { cwd: s.dir }));
    const results = await Promise.all([
      a.then((r) => ({ ...r, ms: Date.now() - t0 })),
      b.then((r) => ({ ...r, ms: Date.now() - t0 })),
    ]);
    const codes = results.map((r) => r.code).sort();
    expect(codes, results.map(describeResult).join('\n')).toEqual([0, 6]);
    const loser = results.find((r) => r.code === 6)!;
    const winner = results.find((r) => r.code === 0)!;
    // the loser did not wait for the winner
    expect(loser.ms).toBeLessThan(winner.ms);
    const err = parseJsonOutput<{ error: string; message: string; hint: string; exitCode: number }>(loser.stdout);
    expect(err.error).toBe('lockHeld');
    expect(err.exitCode).toBe(6);
    expect(err.message).toContain(LOCK_MESSAGE);
    expect(loser.stderr).toContain(LOCK_MESSAGE);
    expect(loser.stderr).toContain('hint:');
    const m = parseJsonOutput<Manifest>(winner.stdout);
    expect((await list(s)).map((x) => x.id)).toEqual([m.id]);
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.tmp-') || n.startsWith('.respaldo.lock'))).toEqual([]);
  });

  it('a lock left by a dead process on this host is taken over (exit 0) and released', async () => {
    const s = demoSetup();
    const lock = writeLock(s, { pid: deadPid(), host: hostname() });
    const st = parseJsonOutput<{ lock: { held: boolean; holder: string } }>(
      (await runCli(['status', '--json', '--config', s.configFile], { cwd: s.dir })).stdout,
    );
    expect(st.lock.held).toBe(false);
    expect(st.lock.holder).toContain('stale');
    const r = await runCli(['create', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(0);
    expect(existsSync(lock)).toBe(false);
    expect(await list(s)).toHaveLength(1);
  });

  it('an empty lock file is held while fresh (another process is writing it), and stale once old', async () => {
    const s = demoSetup();
    mkdirSync(s.backupDir, { recursive: true });
    const lock = join(s.backupDir, '.respaldo.lock');
    writeFileSync(lock, '');
    const fresh = await runCli(['create', '--config', s.configFile], { cwd: s.dir });
    expect(fresh.code, describeResult(fresh)).toBe(6);
    expect(existsSync(lock)).toBe(true);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const r = await runCli(['create', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });

  it('a lock held by a live process blocks create, restore, delete and prune with exit 6 and names the holder', async () => {
    const s = demoSetup();
    const first = await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(first.code, describeResult(first)).toBe(0);
    const id = parseJsonOutput<Manifest>(first.stdout).id;
    const lock = writeLock(s, { pid: process.pid, host: hostname() });
    // prune: said once, before any table or removal (it listed every set, then failed each one with exit 7)
    for (const args of [['create'], ['restore', id, '--yes'], ['delete', id, '--yes'], ['prune']]) {
      const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
      expect(r.code, `${args.join(' ')}\n${describeResult(r)}`).toBe(6);
      expect(r.stderr).toContain(`pid ${process.pid}`);
      expect(r.stderr).toContain(lock);
      if (args[0] === 'prune') expect(r.stdout).toBe('');
    }
    expect(existsSync(lock)).toBe(true);
    expect((await list(s)).map((x) => x.id)).toEqual([id]);
    // reading commands do not need the lock
    const v = await runCli(['verify', id, '--config', s.configFile], { cwd: s.dir });
    expect(v.code, describeResult(v)).toBe(0);
    const dry = await runCli(['prune', '--dry-run', '--config', s.configFile], { cwd: s.dir });
    expect(dry.code, describeResult(dry)).toBe(0);
  });

  it.each([
    ['of an earlier boot (a power cut)', () => ({ boot: '00000000-0000-4000-8000-000000000000' })],
    ['of a killed process, its pid reused', () => ({ boot: readFileSync(BOOT_ID, 'utf8').trim(), startTicks: 1 })],
  ])('a lock %s, its pid now another process, is stale: create runs (it exited 6)', async (_, holder) => {
    const s = demoSetup();
    // this test process stands for the process that now has the pid: alive, and no respaldo
    const lock = writeLock(s, { pid: process.pid, host: hostname(), ...holder() });
    const st = parseJsonOutput<{ lock: { held: boolean } }>(
      (await runCli(['status', '--json', '--config', s.configFile], { cwd: s.dir })).stdout,
    );
    expect(st.lock.held).toBe(false);
    const r = await runCli(['create', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(0);
    expect(existsSync(lock)).toBe(false);
    expect(await list(s)).toHaveLength(1);
  });

  it('status does not call a scheduler running on a pid of the new boot: its lock is of an earlier one', async () => {
    const s = demoSetup();
    mkdirSync(join(s.backupDir, '.scheduler'), { recursive: true, mode: 0o700 });
    const scheduler = { pid: process.pid, host: hostname(), startedAt: new Date(Date.now() - 86400_000).toISOString() };
    writeFileSync(
      join(s.backupDir, '.scheduler-state.json'),
      JSON.stringify({
        version: 1,
        updatedAt: scheduler.startedAt,
        scheduler: { ...scheduler, running: true },
        jobs: {},
      }),
    );
    const boot = '00000000-0000-4000-8000-000000000000';
    writeFileSync(
      join(s.backupDir, '.scheduler', '.respaldo.lock'),
      JSON.stringify({ ...scheduler, purpose: 'scheduler', boot }),
    );
    const r = await runCli(['status', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(0);
    const st = parseJsonOutput<{ scheduler: { scheduler: { running: boolean; gone?: boolean } } }>(r.stdout);
    expect(st.scheduler.scheduler).toMatchObject({ running: false, gone: true });
  });

  it('a lock from another host is never taken over', async () => {
    const s = demoSetup();
    writeLock(s, { pid: deadPid(), host: `not-${hostname()}` });
    const r = await runCli(['create', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(6);
  });
});
