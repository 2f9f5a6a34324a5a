/**
 * End to end: a restore drill started from the menu's set details, with the real built binary in a
 * real terminal (tmux, 80×24) on real SQLite databases backed up by the CLI. The drill restores each
 * database into a scratch file, checks it and removes it; the outcome is recorded beside the set
 * and shown by the details, the list and the CLI. The live databases are not touched.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runCli } from './helpers/cli.js';
import { dbDigest } from './helpers/sqlite.js';
import { makeTmpDir, removeTmpDirs } from './helpers/tmp.js';
import { TmuxScreen } from './helpers/tty.js';

let dir: string;
const DBS = ['users', 'inventario'];

function makeDemo(root: string): void {
  mkdirSync(join(root, 'data'), { recursive: true });
  for (const name of DBS) {
    const db = new Database(join(root, 'data', `${name}.db`));
    db.exec(`CREATE TABLE ${name} (id INTEGER PRIMARY KEY, nombre TEXT NOT NULL, nota TEXT)`);
    const insert = db.prepare(`INSERT INTO ${name} (nombre, nota) VALUES (?, ?)`);
    db.transaction(() => {
      for (let i = 1; i <= 500; i++) insert.run(`${name} ${i} ñandú`, 'x'.repeat(i % 40));
    })();
    db.close();
  }
  const databases = DBS.map((name) => ({ name, engine: 'sqlite', path: `data/${name}.db` }));
  writeFileSync(join(root, 'backup_config.json'), JSON.stringify({ backupDir: 'backups', databases }, null, 2));
}

describe('menu end to end: a restore drill from the set details (tmux, real SQLite)', () => {
  beforeAll(() => {
    dir = makeTmpDir('respaldo-e2e-drill-');
    makeDemo(dir);
  });
  afterAll(() => {
    TmuxScreen.closeAll();
    removeTmpDirs();
  });

  it('t on the details drills the set: progress, then every database PASSED with its checks; recorded and shown', async () => {
    const config = join(dir, 'backup_config.json');
    const created = await runCli(['create', '--config', config, '--json'], { cwd: dir });
    expect(created.code, created.stderr).toBe(0);
    const setId = (JSON.parse(created.stdout) as { id: string }).id;
    const live = Object.fromEntries(DBS.map((n) => [n, dbDigest(join(dir, 'data', `${n}.db`))]));
    const mtimes = DBS.map((n) => statSync(join(dir, 'data', `${n}.db`)).mtimeMs);

    const t = await TmuxScreen.open(
      `respaldo-e2e-drill-${process.pid}`,
      `cd ${dir} && env LANG=en_US.UTF-8 LC_ALL= NO_COLOR=1 TERM=xterm-256color node ${CLI_BIN} --config ${config}; echo EXIT=$?; sleep 60`,
      80,
      24,
    );
    await t.waitFor('1. Create backup now');
    await t.key('3');
    let s = await t.waitFor(new RegExp(`› ${setId}`));
    expect(s).toMatch(new RegExp(`${setId}.*never\\s+never`));
    await t.key('Enter');
    s = await t.waitFor(/Drilled\s+never/);
    expect(s).toContain('t drill');

    await t.key('t');
    s = await t.waitFor((x) => x.includes(`Drill of set ${setId} passed`) || x.includes('FAILED'), 60_000);
    expect(s).toContain(`Drill of set ${setId} passed: it restores, and every check passed`);
    for (const db of DBS) expect(s).toMatch(new RegExp(`${db}: PASSED in `));
    expect(s).toContain('✓ stored files match the manifest');
    expect(s).toMatch(/✓ restore: into\s+\S*\.tmp-drill-\d+\/users\.db/);
    expect(s).toContain('✓ row counts against the manifest: 1 table(s)');
    expect(s).toContain('✓ integrity_check: ok');

    // Recorded beside the set; no scratch file is left; the live databases were not touched.
    const record = JSON.parse(readFileSync(join(dir, 'backups', setId, 'drilled.json'), 'utf8')) as {
      results: Record<string, { ok: boolean; checks: unknown[] }>;
    };
    expect(Object.keys(record.results).sort()).toEqual([...DBS].sort());
    for (const db of DBS) expect(record.results[db]?.ok).toBe(true);
    expect(readdirSync(join(dir, 'backups')).filter((n) => n.startsWith('.tmp'))).toEqual([]);
    for (const n of DBS) expect(dbDigest(join(dir, 'data', `${n}.db`))).toEqual(live[n]);
    expect(DBS.map((n) => statSync(join(dir, 'data', `${n}.db`)).mtimeMs)).toEqual(mtimes);

    // Back on the details and the list, the drill is shown.
    await t.key('Escape');
    s = await t.waitFor(/Drilled\s+\S+ \S+ ago ✓ restored and checked/);
    await t.key('Escape');
    s = await t.waitFor(new RegExp(`${setId}.*✓ \\S+ \\S+`));
    await t.key('Escape');
    await t.waitFor('1. Create backup now');
    await t.key('q');
    await t.waitFor('EXIT=0');

    const list = await runCli(['list', '--config', config], { cwd: dir, env: { COLUMNS: '200' } });
    expect(list.stdout).toMatch(new RegExp(`${setId}.*\\bok \\d{4}-\\d\\d-\\d\\d`));
    expect(existsSync(join(dir, 'backups', setId, 'drilled.json'))).toBe(true);
  });
});
