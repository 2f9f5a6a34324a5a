/**
 * The menu restores several of a set's files by their stored paths (as `restore --files --path A --path B` does), in
 * the real binary, in a real terminal at 80×24: each path typed (Tab completing it) and added with Enter, Enter on the
 * empty field goes on. Until now the menu took one path, and a second file needed a second restore.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_BIN, describeResult, runCli } from './helpers/cli.js';
import { demoSetup, removeTmpDirs } from './helpers/tmp.js';
import { TmuxScreen } from './helpers/tty.js';

afterAll(() => {
  TmuxScreen.closeAll();
  removeTmpDirs();
});

/** Every file below `dir`, relative to it, sorted. */
function filesBelow(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

describe('the menu, restoring some of the files', () => {
  it('two paths added, a third taken back: only those two restored, into the new folder', async () => {
    const s = demoSetup();
    mkdirSync(join(s.appDir, 'uploads', '2026'), { recursive: true });
    for (const name of ['a.pdf', 'b.pdf', 'c.pdf']) writeFileSync(join(s.appDir, 'uploads', '2026', name), name);
    const made = await runCli(['--config', s.configFile, 'create'], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const [id] = readdirSync(s.backupDir).filter((n) => /^\d{8}_\d{6}$/.test(n));
    const t = await TmuxScreen.open(
      `respaldo-paths-${process.pid}`,
      `cd ${s.dir} && LANG=en_US.UTF-8 LC_ALL= NO_COLOR=1 TERM=xterm-256color node ${CLI_BIN} --config ${s.configFile}; sleep 60`,
      80,
      24,
    );
    await t.waitFor('1. Create backup now');
    await t.key('4');
    await t.waitFor(/› latest/);
    await t.key('Enter');
    await t.waitFor(/\[ \] Files \(\d+\)/);
    // The files alone (below the three databases).
    for (const k of ['Down', 'Down', 'Down', 'Space']) await t.key(k);
    await t.waitFor(/\[x\] Files \(\d+\)/);
    await t.key('Enter');
    await t.waitFor('Folder (empty');
    await t.key('Enter');
    await t.waitFor(/^ {2}application\/ \(\d+ files?\)/m);
    await t.type('application/app/uploads/2026/a');
    await t.key('Tab');
    await t.waitFor('Enter adds this path: 1 file(s)');
    await t.key('Enter');
    await t.waitFor(/Added \(1\):\n {2}application\/app\/uploads\/2026\/a\.pdf/);
    await t.type('application/app/uploads/2026/c.pdf');
    await t.key('Enter');
    await t.waitFor('Added (2)');
    // Taken back: the last one comes back to the field, erased; then the second one wanted.
    await t.key('BSpace');
    await t.waitFor(/Another stored path \(empty: go on\): application\/app\/uploads\/2026\/c\.pdf/);
    for (let i = 0; i < 'c.pdf'.length; i++) await t.key('BSpace');
    await t.type('b.pdf');
    await t.key('Enter');
    const two = await t.waitFor(
      /Added \(2\):\n {2}application\/app\/uploads\/2026\/a\.pdf\n {2}application\/app\/uploads\/2026\/b\.pdf/,
    );
    for (const line of two.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
    await t.waitFor('Enter goes on with the 2 path(s) added');
    await t.key('Enter');
    const plan = await t.waitFor('Type RESTORE');
    expect(plan).toContain("only those of the paths typed: 2 of the set's");
    await t.typeWord('RESTORE');
    await t.key('Enter');
    await t.waitFor('Restore finished', 60_000);
    const into = join(s.dir, 'restored', id!);
    expect(filesBelow(into).filter((p) => p.endsWith('.pdf'))).toEqual([
      join('application', 'app', 'uploads', '2026', 'a.pdf'),
      join('application', 'app', 'uploads', '2026', 'b.pdf'),
    ]);
    expect(readFileSync(join(into, 'application', 'app', 'uploads', '2026', 'b.pdf'), 'utf8')).toBe('b.pdf');
    expect(filesBelow(into).some((p) => p.includes('.env'))).toBe(false);
  });
});
