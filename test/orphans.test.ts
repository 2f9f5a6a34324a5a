import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoadedConfig } from '../src/core/types.js';
import { cleanLeftovers, stopOrphansOfDeadRuns } from '../src/engine/create-recover.js';
import { processesMentioning } from '../src/exec/orphans.js';
import { makeTmpDir } from './helpers/tmp.js';

/**
 * What a killed run left running is stopped by the next run: the processes whose command line names the
 * private scratch folder of a run that is gone (pg_restore and its workers waiting on a named pipe nobody
 * feeds, left by a `kill -9` of a restore or a drill), and only those.
 */

const started: ChildProcess[] = [];
const spawned = new Map<ChildProcess, Promise<unknown>>();
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** A process that runs until killed, with `arg` in its command line (as pg_restore has its folder). */
function runningWith(arg: string): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', arg], { stdio: 'ignore' });
  started.push(child);
  spawned.set(child, new Promise((r) => child.once('spawn', r)));
  return child;
}

const exited = (c: ChildProcess) =>
  new Promise<NodeJS.Signals | number | null>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) resolve(c.signalCode ?? c.exitCode);
    else c.once('exit', (code, signal) => resolve(signal ?? code));
  });

/** The pid of a process that has ended: the run that was killed. */
async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await exited(c);
  return c.pid!;
}

describe('processes an interrupted run left running', () => {
  it("stops those naming a dead run's scratch folder; a live run's, a look-alike folder's and others stay", async () => {
    const backupDir = makeTmpDir();
    const dead = join(backupDir, `.tmp-restore-${await deadPid()}`);
    mkdirSync(dead);
    const liveRun = runningWith('a live run');
    const live = join(backupDir, `.tmp-drill-${liveRun.pid}`);
    mkdirSync(live);

    const orphans = [runningWith(`${dead}/pg-directory-users-1/`), runningWith(`--dir=${dead}/pg-directory-users-1`)];
    const others = [runningWith(`${live}/pg-directory-users-2/`), runningWith(`${dead}0/not-that-folder`)];
    await Promise.all([...orphans, ...others].map((c) => spawned.get(c)));
    expect((await processesMentioning(`${dead}/`)).sort()).toEqual(orphans.map((c) => c.pid).sort());

    expect((await stopOrphansOfDeadRuns(backupDir)).map((s) => s.message)).toEqual([
      'stopped 2 process(es) an interrupted run left running (pg_restore and its workers)',
    ]);
    for (const c of orphans) expect(await exited(c)).toBe('SIGKILL');
    expect(await processesMentioning(`${dead}/`)).toEqual([]);
    for (const c of [liveRun, ...others]) expect(c.exitCode === null && c.signalCode === null).toBe(true);
    // nothing left to stop: nothing said
    expect(await stopOrphansOfDeadRuns(backupDir)).toEqual([]);
  });

  it("a killed backup's pg_dump, writing into the set's hidden .tmp-<id> folder, is stopped before that folder is removed", async () => {
    const backupDir = makeTmpDir();
    const staging = join(backupDir, '.tmp-20261204_210040');
    mkdirSync(join(staging, 'databases'), { recursive: true });
    // As pg_dump -Fd --jobs and its workers run: the folder in their --file argument.
    const orphans = [1, 2, 3].map(() => runningWith(`--file=${staging}/databases/pg-directory`));
    const other = runningWith(`${backupDir}/.tmp-20261204_2100400/not-that-folder`);
    await Promise.all([...orphans, other].map((c) => spawned.get(c)));

    const cfg = { backupDir, secrets: [] } as unknown as LoadedConfig;
    const said = (await cleanLeftovers(cfg)).map((s) => s.message);
    expect(said).toContain('stopped 3 process(es) an interrupted backup left running (pg_dump and its workers)');
    expect(said).toContain('removed .tmp-20261204_210040 (left by an interrupted run)');
    for (const c of orphans) expect(await exited(c)).toBe('SIGKILL');
    expect(existsSync(staging)).toBe(false);
    expect(other.exitCode === null && other.signalCode === null).toBe(true);
  });
});
