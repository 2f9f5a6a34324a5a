/**
 * The files respaldo writes beside a set (verified.json, drilled.json) edited or damaged by hand: `list`, `show` and
 * `status` go on, taking what is unreadable as not there (one bad side file broke `list` with a stack).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

describe('side files of a set with the wrong types', () => {
  it('list, show and status go on; the bad parts count as no verification and no drill', async () => {
    const s = demoSetup();
    const created = await runCli(['create', '--no-files', '--json', '--config', s.configFile]);
    const m = parseJsonOutput<Manifest>(created.stdout);
    const dir = join(s.backupDir, m.id);
    writeFileSync(
      join(dir, 'drilled.json'),
      JSON.stringify({
        setId: m.id,
        results: {
          users: { ok: 'yes', at: 12345 },
          inventario: { database: 'inventario', ok: false, at: '2026-11-20T10:00:00Z', checks: 'none', error: 7 },
        },
      }),
    );
    writeFileSync(join(dir, 'verified.json'), JSON.stringify({ at: '2026-11-20T10:00:00Z', ok: 1, files: 'x' }));
    for (const args of [['list'], ['show', m.id], ['status'], ['list', '--json']]) {
      const r = await runCli([...args, '--config', s.configFile]);
      expect(r.code, describeResult(r)).toBe(0);
      expect(r.stderr).not.toContain('internal error');
    }
    const listed = parseJsonOutput<{ id: string; lastVerified: unknown; lastDrill: unknown }[]>(
      (await runCli(['list', '--json', '--config', s.configFile])).stdout,
    ).find((x) => x.id === m.id)!;
    expect(listed.lastVerified).toBeNull();
    // the well-formed result stays: inventario's failed drill is still said
    expect(listed.lastDrill).toEqual({ at: '2026-11-20T10:00:00Z', ok: false, failed: ['inventario'] });
  });
});

describe('names with control characters in them', () => {
  it('show and a restore print a table named with an escape sequence with ? for it and such a file name with \\xNN, never the escape', async () => {
    const Database = (await import('better-sqlite3')).default;
    const { mkdirSync } = await import('node:fs');
    const s = demoSetup();
    const db = new Database(s.dbs.users);
    db.exec('CREATE TABLE "evil\x1b[2J\x1b[1;31mX" (a); INSERT INTO "evil\x1b[2J\x1b[1;31mX" VALUES (1);');
    db.close();
    const app = join(s.dir, 'data', 'app');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'evil\x1b[31mred\nline.txt'), 'x');
    const m = parseJsonOutput<Manifest>((await runCli(['create', '--json', '--config', s.configFile])).stdout);
    const shown = await runCli(['show', m.id, '--config', s.configFile]);
    expect(shown.code, describeResult(shown)).toBe(0);
    expect(shown.stdout).not.toMatch(/\x1b/);
    expect(shown.stdout).toContain('evil?[2J?[1;31mX=1');
    // a file's name as every file name is printed (printedName): its control bytes as \xNN, one line, no escape
    expect(shown.stdout).toContain('app/evil\\x1b[31mred\\x0aline.txt');
    const restored = await runCli([
      'restore',
      m.id,
      '--files',
      '--to',
      join(s.dir, 'out'),
      '--yes',
      '--config',
      s.configFile,
    ]);
    expect(restored.code, describeResult(restored)).toBe(0);
    expect(restored.stdout + restored.stderr).not.toMatch(/\x1b/);
  });
});
