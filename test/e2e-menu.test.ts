/**
 * End to end: the real built binary (`node bin/respaldo.js`) in a real terminal (tmux), on real
 * SQLite databases. Keys are sent one at a time and the screen is polled with capture-pane until
 * the expected text appears. Needs `npx tsc -p .` first (npm test builds) and tmux.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCliInTmux, TmuxScreen } from './helpers/tty.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'respaldo.js');
const DIST = join(ROOT, 'dist', 'cli', 'main.js');

let dir: string;

function makeDemo(root: string): void {
  execFileSync('mkdir', ['-p', join(root, 'data'), join(root, 'app')]);
  const tables: Record<string, string> = {
    users: 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, nombre TEXT, alta TEXT)',
    inventario:
      'CREATE TABLE inventario (id INTEGER PRIMARY KEY, sku TEXT NOT NULL, descripcion TEXT, cantidad INTEGER, precio REAL)',
    auditoria: 'CREATE TABLE auditoria (id INTEGER PRIMARY KEY, momento TEXT, usuario TEXT, accion TEXT, detalle BLOB)',
  };
  for (const [name, ddl] of Object.entries(tables)) {
    const db = new Database(join(root, 'data', `${name}.db`));
    db.exec(ddl);
    const insert =
      name === 'users'
        ? db.prepare('INSERT INTO users (email, nombre, alta) VALUES (?, ?, ?)')
        : name === 'inventario'
          ? db.prepare('INSERT INTO inventario (sku, descripcion, cantidad, precio) VALUES (?, ?, ?, ?)')
          : db.prepare('INSERT INTO auditoria (momento, usuario, accion, detalle) VALUES (?, ?, ?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= 250; i++) {
        if (name === 'users')
          insert.run(`u${i}@example.com`, `Usuario ${i} ñandú`, `2026-01-${String((i % 28) + 1).padStart(2, '0')}`);
        else if (name === 'inventario') insert.run(`SKU-${i}`, `Artículo ${i}`, i * 3, i * 1.25);
        else
          insert.run(
            `2026-11-22T10:${String(i % 60).padStart(2, '0')}:00Z`,
            `u${i % 7}`,
            i % 2 ? 'alta' : 'baja',
            Buffer.from([i % 256, 1, 2]),
          );
      }
    })();
    db.close();
  }
  writeFileSync(join(root, 'app', '.env'), 'APP_MODE=production\n');
  writeFileSync(
    join(root, 'backup_config.json'),
    JSON.stringify(
      {
        backupDir: 'backups',
        databases: ['users', 'inventario', 'auditoria'].map((name) => ({
          name,
          engine: 'sqlite',
          path: `data/${name}.db`,
        })),
        files: { config: ['app/.env'] },
        schedule: { jobs: [{ name: 'daily', when: 'daily at 02:00', type: 'full', databases: ['*'], files: true }] },
      },
      null,
      2,
    ),
  );
}

/** The menu of the demo folder in its own tmux session (see TmuxScreen). */
const Terminal = {
  open: (name: string, env: string, width = 100, height = 30): Promise<TmuxScreen> =>
    TmuxScreen.open(
      name,
      `cd ${dir} && env ${env} node ${BIN} --config ${join(dir, 'backup_config.json')}; echo EXIT=$?; sleep 60`,
      width,
      height,
    ),
};

function rows(file: string, table: string): unknown[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT * FROM ${table} ORDER BY id`).all();
  } finally {
    db.close();
  }
}

describe('menu end to end (real binary in tmux, real SQLite databases)', () => {
  beforeAll(() => {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: build first with \`npx tsc -p .\` (npm test does).`);
    execFileSync('tmux', ['-V']);
    dir = mkdtempSync(join(tmpdir(), 'respaldo-menu-e2e-'));
    makeDemo(dir);
  });

  afterAll(() => {
    TmuxScreen.closeAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates a backup, lists it, opens its details, restores one database side by side after the typed word, quits', async () => {
    const t = await Terminal.open(
      `respaldo-e2e-${process.pid}`,
      'LANG=en_US.UTF-8 LC_ALL= NO_COLOR=1 TERM=xterm-256color',
    );

    // Main menu and header.
    let s = await t.waitFor((x) => x.includes('1. Create backup now') && x.includes('no backups yet'));
    expect(s).toContain(`Config: ${join(dir, 'backup_config.json')}`);
    expect(s).toContain(`Backups: ${join(dir, 'backups')}`);
    expect(s).toContain('WARNING: users, inventario, auditoria have never been backed up successfully');
    expect(s).not.toContain('To restore from'); // no destination configured
    expect(s).toContain('7. Quit');
    expect(s).toContain('q quit');

    // 1: create a backup of everything.
    await t.key('1');
    s = await t.waitFor('Start backup');
    expect(s).toContain('[x] users');
    expect(s).toContain('[x] inventario');
    expect(s).toContain('[x] auditoria');
    await t.key('Enter');
    s = await t.waitFor('Backup finished', 60_000);
    const setId = /Set\s+(\d{8}_\d{6})/.exec(s)?.[1];
    expect(setId).toBeTruthy();
    expect(s).toMatch(/Status\s+OK/);
    expect(s).toMatch(/Checksums\s+verified, 4 files match MD5 and SHA-256/);
    for (const db of ['users', 'inventario', 'auditoria']) expect(s).toMatch(new RegExp(`${db}\\s+\\S+\\s+100%.*OK`));

    // Back to the main menu: the header counts the set and the warning is gone.
    await t.key('Escape');
    s = await t.waitFor((x) => x.includes('1. Create backup now') && x.includes('1 set'));
    expect(s).not.toContain('WARNING');

    // 3: the list shows the set.
    await t.key('3');
    s = await t.waitFor(new RegExp(`› ${setId} \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d full`));
    expect(s).toMatch(new RegExp(`${setId}.*users,inventario(,auditoria)? \\+\\d.*OK\\s+OK .*never`));
    expect(s).toContain('1-1 of 1');

    // Its details: each stored file with size, md5, sha256 and row counts.
    await t.key('Enter');
    s = await t.waitFor(`Backup set ${setId}`);
    s = await t.waitFor('rows (1 table): users 250');
    expect(s).toMatch(/Status\s+OK/);
    expect(s).toMatch(/file databases\/\S*users\S*\s+\S+ \S+ \(\S+ \S+\)/);
    expect(s).toMatch(/md5\s+[0-9a-f]{32}/);
    expect(s).toMatch(/sha256 [0-9a-f]{64}/);

    // r: restore inventario from this set, side by side.
    await t.key('r');
    s = await t.waitFor('[ ] inventario (sqlite)');
    expect(s).toContain(`Restore: ${setId}`);
    await t.key('Down');
    await t.key('Space');
    await t.waitFor('[x] inventario (sqlite)');
    await t.key('Enter');
    await t.waitFor('Where to restore');
    await t.key('Down');
    await t.waitFor('New path or name');
    const target = join(dir, 'restored', 'inventario-copy.db');
    await t.type(target);
    await t.waitFor(target);
    await t.key('Enter');

    // The plan comes first; nothing has happened yet.
    s = await t.waitFor('Type RESTORE and press Enter');
    expect(s).toContain('Restore plan: nothing has changed yet');
    expect(s).toContain(`From set: ${setId}`);
    expect(s).toContain(`Will create inventario → ${target}`);
    expect(s).toContain('Safety copy: none needed: nothing live is replaced');
    expect(s).toContain('To roll back:');
    expect(existsSync(target)).toBe(false);

    // A wrong word does nothing.
    await t.typeWord('RESTORX');
    await t.key('Enter');
    await t.waitFor('That is not RESTORE. Nothing was done.');
    expect(existsSync(target)).toBe(false);

    // The word goes on.
    await t.typeWord('RESTORE');
    await t.key('Enter');
    s = await t.waitFor('Restore finished', 60_000);
    expect(s).toContain(`OK inventario → ${target}`);
    expect(existsSync(target)).toBe(true);

    // The restored database equals the original, row for row; the live one was not touched.
    expect(rows(target, 'inventario')).toEqual(rows(join(dir, 'data', 'inventario.db'), 'inventario'));
    expect(rows(target, 'inventario')).toHaveLength(250);

    // Esc back to details, list, main menu; q quits with 0.
    await t.key('Escape');
    await t.waitFor(`Backup set ${setId}`);
    await t.key('Escape');
    await t.waitFor('1-1 of 1');
    await t.key('Escape');
    await t.waitFor('1. Create backup now');
    await t.key('q');
    await t.waitFor('EXIT=0');
  });

  it('degrades to ASCII on a non-UTF-8 locale, and speaks Spanish when LANG is es_*', async () => {
    const ascii = await Terminal.open(`respaldo-e2e-ascii-${process.pid}`, 'LANG=C LC_ALL=C NO_COLOR=1', 80, 24);
    let s = await ascii.waitFor('> 1. Create backup now');
    expect(s).toContain('Up/Down/j k move | 1-7 choose');
    expect(s).not.toMatch(/[^\x00-\x7e]/);
    await ascii.key('q');
    await ascii.waitFor('EXIT=0');

    // Its own verified set (not the first test's), newest, so it is the selected row of the list.
    const config = ['--config', join(dir, 'backup_config.json')];
    execFileSync(process.execPath, [BIN, 'create', ...config], { cwd: dir, stdio: 'ignore' });
    execFileSync(process.execPath, [BIN, 'verify', 'latest', ...config], { cwd: dir, stdio: 'ignore' });
    const es = await Terminal.open(`respaldo-e2e-es-${process.pid}`, 'LANG=es_ES.UTF-8 NO_COLOR=1', 80, 24);
    s = await es.waitFor('1. Crear copia ahora');
    expect(s).toContain('Menú principal');
    expect(s).toContain('7. Salir');
    // The list at 80 columns: every row fits, the set made above is there, completed and verified; no date column
    // (the id is the local date and time), and what does not fit of its databases is counted ("+2", not "users,…").
    await es.key('3');
    s = await es.waitFor(/› \d{8}_\d{6} completa\s+users,inventario \+2\s+\S+ \S+ OK\s+OK/);
    expect(s).toContain('Esc volver');
    for (const line of s.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    await es.key('Escape');
    await es.waitFor('1. Crear copia ahora');
    await es.key('7');
    await es.waitFor('EXIT=0');
  });

  it('runs the scheduler in the foreground: the missed daily job catches up, the tail and counts show it, q stops', async () => {
    const t = await Terminal.open(`respaldo-e2e-sched-${process.pid}`, 'LANG=en_US.UTF-8 NO_COLOR=1');
    await t.waitFor('1. Create backup now');
    await t.key('5');
    // The catch-up plan comes first: what will run before the schedule starts; Enter runs it.
    let s = await t.waitFor('Missed while the scheduler was not running');
    expect(s).toMatch(/daily: full backup, missed \d{4}-\d\d-\d\d 02:00/);
    await t.key('Enter');
    s = await t.waitFor('Scheduler (foreground)');
    const row = /daily\s+daily at 02:00\s+\d\d-\d\d 02:00 \(in \d+ (h|min|s)\)\s+OK/;
    // The counts and the job's row come from separate scheduler events: wait until both show it.
    s = await t.waitFor(
      (x) => /daily: OK \d{8}_\d{6}/.test(x) && x.includes('since start: 1 succeeded, 0 failed') && row.test(x),
      60_000,
    );
    expect(s).toContain('catch-up: running daily once now');
    await t.key('q');
    await t.waitFor('Stopped.');
    await t.key('Escape');
    s = await t.waitFor('1. Create backup now');
    await t.key('q');
    await t.waitFor('EXIT=0');
  });

  it("a config it cannot load: its error and what to do in the menu's language, folded at spaces at 80 columns", async () => {
    const bad = join(dir, 'bad_config.json');
    writeFileSync(
      bad,
      JSON.stringify({ backupDir: './b', databases: [{ name: 'u', engine: 'sqlite', path: './u.db', x: 1 }] }),
    );
    const tty = startCliInTmux(['--lang', 'es', '--config', bad], dir, { width: 80, height: 24 });
    try {
      expect(await tty.exitCode()).toBe(3);
      const text = tty
        .screen()
        .split('\n')
        .map((l) => l.trim())
        .join(' ');
      // in the menu's language: the field's path, then what is wrong with it and what to do
      expect(text).toContain(`Error: ${bad}: databases[0].x: no es un campo que respaldo conozca aquí`);
      expect(text).toContain('Qué hacer: Corrija cómo está escrito o quítelo; los campos de aquí: name, engine,');
      expect(text).toContain('Después repita la orden; no se cambió nada.');
      // every line ends at a space: no word cut by the terminal's own wrapping
      expect(tty.screen()).not.toMatch(/\w\n\w/);
    } finally {
      tty.kill();
    }
  });

  it("escape sequences Ink has no key for (a terminal's reply, a pasted colour) are ignored: the menu goes on", async () => {
    const t = await Terminal.open(
      `respaldo-e2e-esc-${process.pid}`,
      'LANG=en_US.UTF-8 LC_ALL= NO_COLOR=1 TERM=xterm-256color',
      80,
      24,
    );
    await t.waitFor('1. Create backup now');
    // Each of these made Ink 6 throw in useInput: the menu died with a stack (exit 1), also mid-restore.
    for (const seq of ['\x1b[0n', '\x1b[31m', '\x1b[5n', '\x1b[0m']) await t.sequence(seq);
    await t.key('3');
    const s = await t.waitFor((x) => /\d{8}_\d{6}/.test(x) && !x.includes('1. Create backup now'));
    expect(s).not.toMatch(/TypeError|EXIT=/);
    await t.key('Escape');
    await t.waitFor('1. Create backup now');
    await t.key('q');
    await t.waitFor('EXIT=0');
  });

  it('without a terminal the menu is not opened: a hint and the usage exit code', async () => {
    const r = await run('node', [BIN, '--config', join(dir, 'backup_config.json')], { cwd: dir }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/terminal/i);
  });
});
