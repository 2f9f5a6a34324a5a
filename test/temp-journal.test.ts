import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sweepTemps, trackTemp } from '../src/engine/temp-journal.js';
import { makeTmpDir } from './helpers/tmp.js';

/** A pid that surely belongs to no running process: one that just exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function record(backupDir: string, name: string, entry: object): void {
  mkdirSync(join(backupDir, '.temp-journal'), { recursive: true });
  writeFileSync(join(backupDir, '.temp-journal', name), JSON.stringify(entry));
}

describe('temporary paths outside the backup folder', () => {
  it('a tracked path of a run that died is removed by the next sweep, with its SQLite side files; the journal goes too', async () => {
    const backupDir = makeTmpDir();
    const elsewhere = makeTmpDir();
    const staging = join(elsewhere, '.copy.db.respaldo-restore-20261122_101010.tmp');
    writeFileSync(staging, 'half a database');
    writeFileSync(`${staging}-wal`, 'wal');
    writeFileSync(join(elsewhere, 'copy-of-something-else.db'), 'keep');
    record(backupDir, '1-a.json', { pid: deadPid(), path: staging, at: '' });
    const done = await sweepTemps(backupDir);
    expect(done.map((d) => d.message)).toEqual([
      `removed ${staging}, left by an interrupted restore`,
      `removed ${staging}-wal, left by an interrupted restore`,
    ]);
    expect(readdirSync(elsewhere)).toEqual(['copy-of-something-else.db']);
    expect(existsSync(join(backupDir, '.temp-journal'))).toBe(false);
  });

  it('a partial folder of restored files is removed whole', async () => {
    const backupDir = makeTmpDir();
    const parent = makeTmpDir();
    const partial = join(parent, '.restored.respaldo-partial-20261122_101010');
    mkdirSync(join(partial, 'config'), { recursive: true });
    writeFileSync(join(partial, 'config', '.env'), 'A=1');
    record(backupDir, '1-b.json', { pid: deadPid(), path: partial, at: '' });
    expect(await sweepTemps(backupDir)).toHaveLength(1);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('never touches what a live run tracks, nor a path without respaldo’s temporary mark; a torn record is dropped', async () => {
    const backupDir = makeTmpDir();
    const elsewhere = makeTmpDir();
    const live = join(elsewhere, '.x.db.respaldo-restore-1.tmp');
    const precious = join(elsewhere, 'production.db');
    writeFileSync(live, 'being written');
    writeFileSync(precious, 'data');
    record(backupDir, '1-live.json', { pid: process.ppid, path: live, at: '' });
    record(backupDir, '2-tampered.json', { pid: deadPid(), path: precious, at: '' });
    writeFileSync(join(backupDir, '.temp-journal', '3-torn.json'), '{"pid": 12');
    expect(await sweepTemps(backupDir)).toEqual([]);
    expect(existsSync(live) && existsSync(precious)).toBe(true);
    expect(readdirSync(join(backupDir, '.temp-journal'))).toEqual(['1-live.json']);
  });

  it('trackTemp records only respaldo temporary names; untracking removes the record', async () => {
    const backupDir = makeTmpDir();
    await expect(trackTemp(backupDir, '/srv/app/data/users.db')).rejects.toThrow(/not a respaldo temporary name/);
    const untrack = await trackTemp(backupDir, '/tmp/.u.db.respaldo-restore-1.tmp');
    expect(readdirSync(join(backupDir, '.temp-journal'))).toHaveLength(1);
    // This process is alive: its own records survive a sweep.
    expect(await sweepTemps(backupDir)).toEqual([]);
    expect(readdirSync(join(backupDir, '.temp-journal'))).toHaveLength(1);
    await untrack();
    expect(existsSync(join(backupDir, '.temp-journal'))).toBe(false);
  });
});
