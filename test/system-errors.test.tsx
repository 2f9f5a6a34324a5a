/**
 * A reason that quotes the system (`EROFS: read-only file system, open '/x'`, `connect ECONNREFUSED …`) reads in the
 * menu's language: the common error codes as a short phrase of each language, the path or address kept, others as
 * the system said them. The live case: a database on a disk mounted read-only, restored in place (needs a tmpfs: root,
 * as CI runs).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { loadConfig } from '../src/config/load.js';
import { silentReporter } from '../src/core/events.js';
import { phrase } from '../src/core/phrases.js';
import { executeRestore, planRestore } from '../src/engine/restore.js';
import { ErrorBox } from '../src/ui/components/ErrorBox.js';
import { say, sayMessage } from '../src/ui/i18n/index.js';
import { saySystemErrors } from '../src/ui/i18n/system-errors.js';
import { uiContext } from '../src/ui/app.js';
import { outcomeRows } from '../src/ui/screens/restore-rows.js';
import { describeResult, runCli } from './helpers/cli.js';
import { dbDigest } from './helpers/sqlite.js';
import { mountSmallDisk, tmpfsProblem, unmountAllSmallDisks } from './helpers/tmpfs.js';
import { demoSetup } from './helpers/tmp.js';
import { FakeFacade, renderUi } from './ui-fake-facade.js';

afterEach(() => {
  cleanup();
  unmountAllSmallDisks();
});

describe('the system’s words in a reason', () => {
  it.each([
    [
      "EACCES: permission denied, open '/srv/b/x.db'",
      'permiso denegado: /srv/b/x.db',
      'permission denied: /srv/b/x.db',
    ],
    ["EPERM: operation not permitted, unlink '/b/x'", 'operación no permitida: /b/x', 'operation not permitted: /b/x'],
    ["ENOENT: no such file or directory, rename '/a' -> '/b'", 'no existe: /a → /b', 'not found: /a → /b'],
    ['ENOSPC: no space left on device, write', 'no queda espacio en el disco', 'no space left on the disk'],
    // a SQLite scratch copy refused before it began (src/drivers/sqlite/snapshot.ts roomFor): its tail said too
    [
      'ENOSPC: no space left on device, 73728 bytes to copy, 4096 free',
      'no queda espacio en el disco: hay 73728 bytes que copiar y 4096 libres',
      'no space left on the disk: 73728 bytes to copy, 4096 free',
    ],
    [
      "EROFS: read-only file system, mkdir '/m/b'",
      'sistema de archivos de solo lectura: /m/b',
      'read-only file system: /m/b',
    ],
    [
      'EIO: i/o error, read',
      'error de entrada/salida (revise el disco: dmesg)',
      'input/output error (check the disk: dmesg)',
    ],
    ["ENOTDIR: not a directory, scandir '/b/f'", 'no es una carpeta: /b/f', 'not a folder: /b/f'],
    ["EISDIR: illegal operation on a directory, read '/b'", 'es una carpeta: /b', 'is a folder: /b'],
    ["EEXIST: file already exists, link '/a' -> '/b'", 'ya existe: /a → /b', 'already exists: /a → /b'],
    ['connect ECONNREFUSED 127.0.0.1:5432', 'conexión rechazada: 127.0.0.1:5432', 'connection refused: 127.0.0.1:5432'],
    ['connect ETIMEDOUT 10.0.0.9:22', 'tiempo de espera agotado: 10.0.0.9:22', 'timed out: 10.0.0.9:22'],
    ['connect EHOSTUNREACH 10.0.0.9:22', 'equipo inalcanzable: 10.0.0.9:22', 'host unreachable: 10.0.0.9:22'],
    ['ETIMEDOUT', 'tiempo de espera agotado', 'timed out'],
    ['EROFS', 'sistema de archivos de solo lectura', 'read-only file system'],
    // other codes, and a code that is a word of a sentence, stay as they are
    ["EMFILE: too many open files, open '/b/x'", "EMFILE: too many open files, open '/b/x'", null],
    ['spawn pg_dump ENOENT', 'spawn pg_dump ENOENT', null],

    ['ERROFS', 'ERROFS', null],
  ])('%s', (system, es, en) => {
    expect(saySystemErrors('es', system)).toBe(es);
    expect(saySystemErrors('en', system)).toBe(en ?? system);
    // inside a phrase's Spanish sentence, said once where the menu says phrases (the path kept)
    const p = phrase('sqlite.cantOpen', { db: 'users', file: '/srv/b/x.db', error: system });
    expect(say('es', p, '')).toBe(`Base SQLite users: no se puede abrir /srv/b/x.db (${es}).`);
  });

  it.skipIf(tmpfsProblem() !== null)(
    'a database on a disk mounted read-only, restored in place: its failure and a raw error read in Spanish',
    async () => {
      const s = demoSetup({ files: { config: [], application: [] } });
      const disk = mountSmallDisk(join(s.dir, 'disk'), 8 * 1024 * 1024);
      const live = join(disk.dir, 'inventario.db');
      copyFileSync(s.dbs.inventario, live);
      const doc = { backupDir: s.backupDir, databases: [{ name: 'inventario', engine: 'sqlite', path: live }] };
      writeFileSync(s.configFile, JSON.stringify(doc));
      const made = await runCli(['create', '--config', s.configFile]);
      expect(made.code, describeResult(made)).toBe(0);
      const r = spawnSync('mount', ['-o', 'remount,ro', disk.dir], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const before = dbDigest(live);

      const cfg = await loadConfig({ configPath: s.configFile, env: {} });
      const plan = await planRestore(cfg, 'latest', { databases: ['inventario'] });
      const outcome = await executeRestore(cfg, plan, silentReporter);
      const failed = outcome.databases.find((d) => !d.ok)!;
      expect(failed.error).toMatch(/^EROFS: read-only file system, open '.*\.inventario\.db\.respaldo-restore-/);
      const staging = /'([^']+)'/.exec(failed.error!)![1]!;
      const es = uiContext(new FakeFacade(), { TERM: 'xterm-256color', LANG: 'C.UTF-8' }, 'es');
      const rows = outcomeRows(outcome, plan, es, 400)
        .map((row) => row.map((g) => g.text).join(''))
        .join('\n');
      expect(rows).toContain(`sistema de archivos de solo lectura: ${staging}`);
      expect(rows).not.toMatch(/EROFS|read-only file system/);
      expect(sayMessage('en', undefined, failed.error!)).toBe(`read-only file system: ${staging}`);
      expect(dbDigest(live)).toEqual(before);

      // A raw error of the system reaching the menu's error box: said as respaldo's operator error, in Spanish.
      let raw: unknown;
      try {
        writeFileSync(join(disk.dir, 'x'), 'x');
      } catch (err) {
        raw = err;
      }
      const box = renderUi(<ErrorBox error={raw} />, { lang: 'es' })
        .lastFrame()!
        .replace(/[\s│╭╮╰╯┌┐└┘─]+/g, ' ');
      // the system's words about that same path are not said again after it
      expect(box).toContain(`Sistema de archivos de solo lectura en ${join(disk.dir, 'x')}. Qué hacer: `);
      expect(box).toContain('Ese disco está montado solo para lectura');
      expect(box).not.toMatch(/EROFS|read-only file system|That disk/);
    },
  );
});
