/**
 * End to end: a restore drill of the copy at a folder destination, from the menu, on a new server whose backup
 * folder is empty, with the real built binary in a real terminal (tmux, 80×24). The restore wizard lists the sets
 * there; `d` drills one (the CLI's `drill ID --from nas`): the set is fetched, checked, drilled and removed; the
 * outcome says so and that nothing was recorded (this server does not hold the set), the daily log has it, nothing
 * is left in the backup folder and the live databases are untouched. Ctrl-C twice while a big set is drilled
 * interrupts it: the fetched copy and the scratch targets are removed, and the menu goes on.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { CLI_BIN, parseJsonOutput } from './helpers/cli.js';
import { useBigDb } from './helpers/big-db.js';
import { cli } from './helpers/offsite.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup, makeTmpDir, removeTmpDirs, writeConfig, type DemoSetup } from './helpers/tmp.js';
import { TmuxScreen } from './helpers/tty.js';

const bigDb = useBigDb(150);

afterAll(() => {
  TmuxScreen.closeAll();
  removeTmpDirs();
});

const nas = { name: 'nas', type: 'folder', path: './nas', source: 'srv1' };

/** What a drill may leave in the backup folder: a fetched copy, a scratch folder, a set's folder. */
function leftInBackupDir(s: DemoSetup): string[] {
  if (!existsSync(s.backupDir)) return [];
  return readdirSync(s.backupDir).filter(
    (n) => n.startsWith('.respaldo-') || n.startsWith('.tmp') || /^\d{8}_/.test(n),
  );
}

/** The menu of `s` in tmux at 80×24, on the restore wizard's sets of destination nas. */
async function onNasSets(s: DemoSetup, name: string): Promise<TmuxScreen> {
  const t = await TmuxScreen.open(
    `respaldo-e2e-drill-from-${name}-${process.pid}`,
    `cd ${s.dir} && env LANG=en_US.UTF-8 LC_ALL= NO_COLOR=1 TERM=xterm-256color node ${CLI_BIN} --config ${s.configFile}; echo EXIT=$?; sleep 60`,
    80,
    24,
  );
  await t.waitFor('1. Create backup now');
  await t.key('4');
  const source = await t.waitFor('Destination "nas" (off-site copy)');
  expect(source.replace(/\s+/g, ' ')).toContain('Press d on a set to drill it instead');
  await t.key('Down');
  await t.key('Enter');
  const sets = await t.waitFor(/at destination "nas"[\s\S]*› latest/, 30_000);
  expect(sets).toContain('d drill');
  return t;
}

describe('menu end to end: a drill of the copy at a folder destination on a new server (tmux, 80×24)', () => {
  it('d on the latest set there: fetched, drilled, PASSED per database, removed, not recorded, logged', async () => {
    const s = demoSetup({ destinations: [nas] });
    mkdirSync(join(s.dir, 'nas'));
    await cli(s, ['create', '--db', 'inventario', '--no-files']);
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    rmSync(s.backupDir, { recursive: true, force: true });
    const live = Object.fromEntries(Object.entries(s.dbs).map(([n, p]) => [n, dbDigest(p)]));

    const t = await onNasSets(s, 'passed');
    await t.key('d');
    let screen = await t.waitFor((x) => x.includes(`Drill of set ${m.id} passed`) || x.includes('FAILED'), 90_000);
    expect(screen).toContain(`Drill of set ${m.id} passed: it restores, and every check passed`);
    expect(screen).toContain('Fetched from destination "nas", each file checked as it arrived.');
    for (const db of ['users', 'inventario', 'auditoria']) expect(screen).toMatch(new RegExp(`${db}: PASSED in `));
    expect(screen).toContain('✓ integrity_check: ok');
    let rest = '';
    for (let i = 0; i < 4; i++) {
      await t.key('NPage');
      rest += await t.screen();
    }
    const said = rest.replace(/\s+/g, ' ');
    expect(said).toMatch(/files: PASSED in /);
    expect(said).toContain(`The fetched copy was removed from ${s.backupDir}.`);
    expect(said).toContain(
      `Not recorded: this server's backup folder does not hold set ${m.id}, so there is no drilled.json to write`,
    );

    // Esc: the same sets of the destination; then out of the menu.
    await t.key('Escape');
    screen = await t.waitFor(/at destination "nas"[\s\S]*› latest/);
    expect(screen).toContain(m.id);
    await t.key('Escape');
    await t.waitFor('Where to restore from');
    await t.key('Escape');
    await t.waitFor('1. Create backup now');
    await t.key('q');
    await t.waitFor('EXIT=0');

    expect(leftInBackupDir(s)).toEqual([]);
    for (const [n, p] of Object.entries(s.dbs)) expect(dbDigest(p)).toEqual(live[n]);
    const logs = readdirSync(join(s.backupDir, 'logs')).map((f) => readFileSync(join(s.backupDir, 'logs', f), 'utf8'));
    const end = logs
      .join('\n')
      .split('\n')
      .filter((l) => l.includes('drill-end'));
    expect(end.join('\n')).toContain('"from":"nas"');
    expect(end.join('\n')).toContain(m.id);
  }, 180_000);

  it('Ctrl-C twice while a big set there is drilled: interrupted, the fetched copy and scratch targets removed', async () => {
    // Three copies of the big database: fetched and drilled one after the other, seconds in all.
    const names = ['big1', 'big2', 'big3'];
    const databases = names.map((name) => ({ name, path: `./data/${name}.db` }));
    const s = writeConfig(makeTmpDir(), (c) => ({ ...c, databases, files: undefined, destinations: [nas] }), {
      demo: false,
    });
    mkdirSync(s.dataDir);
    mkdirSync(join(s.dir, 'nas'));
    for (const n of names) copyFileSync(bigDb(), join(s.dataDir, `${n}.db`));
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    rmSync(s.backupDir, { recursive: true, force: true });
    const stamp = (n: string): string => {
      const st = statSync(join(s.dataDir, `${n}.db`));
      return `${st.size} ${st.mtimeMs}`;
    };
    const live = names.map(stamp);

    const t = await onNasSets(s, 'interrupted');
    await t.key('d');
    await t.waitFor(`Restore drill of set ${m.id} at destination "nas"`);
    // Once the copy is being fetched into the backup folder, Ctrl-C twice (the first asks again).
    const fetching = (): boolean =>
      existsSync(s.backupDir) && readdirSync(s.backupDir).some((n) => n.startsWith('.respaldo-restore-fetch-'));
    for (let i = 0; !fetching(); i++) {
      expect(i, 'the fetch into the backup folder to start').toBeLessThan(300);
      await new Promise((r) => setTimeout(r, 50));
    }
    await t.key('C-c');
    const warned = await t.waitFor('Press Ctrl-C again to interrupt the drill');
    expect(warned.replace(/\s+/g, ' ')).toContain('(the fetched copy and the scratch targets are removed)');
    await t.key('C-c');
    const screen = await t.waitFor(/Error: (Drill i|I)nterrupted/, 60_000);
    expect(screen.replace(/\s+/g, ' ')).toContain(`Nothing fetched was kept in ${s.backupDir}.`);
    expect(screen).not.toContain('passed');
    expect(screen).not.toContain('RUNNING'); // no bar left saying so
    await t.key('Enter');
    await t.waitFor(/at destination "nas"[\s\S]*› latest/);
    await t.key('Escape');
    // One Esc at a time, each screen seen (two read in one write are two keys as well: ui-key-chunks).
    await t.waitFor('Where to restore from');
    await t.key('Escape');
    await t.waitFor('1. Create backup now');
    await t.key('q');
    await t.waitFor('EXIT=0');

    expect(leftInBackupDir(s)).toEqual([]);
    expect(names.map(stamp)).toEqual(live); // the live databases were not touched
  }, 240_000);
});
