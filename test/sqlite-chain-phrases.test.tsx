/**
 * A SQLite chain the driver refuses to rebuild (its full left out, a gap, a member that is not a page delta, a
 * damaged delta) says why in the menu's language: the driver's errors carry their phrases, and the menu's error box
 * shows them with no English left inside. The sets are real (made by the CLI), the restore is the real driver's, on
 * real files; the target is never touched.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import Database from 'better-sqlite3';
import { RespaldoError } from '../src/core/errors.js';
import type { DatabaseConfig, Manifest } from '../src/core/types.js';
import { driverFor } from '../src/drivers/registry.js';
import type { DriverContext, RestoreRequest } from '../src/drivers/driver.js';
import { silentReporter } from '../src/core/events.js';
import { openStoredPart } from '../src/engine/stored-part.js';
import { ErrorBox } from '../src/ui/components/ErrorBox.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';
import { renderUi } from './ui-fake-facade.js';

afterEach(() => cleanup());

async function create(s: DemoSetup, type: string): Promise<Manifest> {
  const r = await runCli(['create', '--type', type, '--db', 'users', '--no-files', '--json', '--config', s.configFile]);
  expect(r.code, describeResult(r)).toBe(0);
  return parseJsonOutput<Manifest>(r.stdout);
}

function change(file: string, n: number): void {
  const db = new Database(file);
  db.prepare('UPDATE users SET full_name = ? WHERE id = ?').run(`changed ${n}`, n);
  db.close();
}

describe('a SQLite chain the driver refuses, in the menu’s language', () => {
  it('its full left out, a gap, a member that is no delta, a damaged delta: said in Spanish, the target untouched', async () => {
    const s = demoSetup({ files: { config: [], application: [] } });
    const full = await create(s, 'full');
    change(s.dbs.users, 1);
    const inc1 = await create(s, 'incremental');
    change(s.dbs.users, 2);
    const inc2 = await create(s, 'incremental');
    expect([inc1.type, inc2.type]).toEqual(['incremental', 'incremental']);
    const member = (m: Manifest) => {
      const entry = m.databases.find((d) => d.name === 'users')!;
      return { setId: m.id, entry, openPart: (role?: string) => openStoredPart(join(s.backupDir, m.id), entry, role) };
    };
    const db: DatabaseConfig = { name: 'users', engine: 'sqlite', path: s.dbs.users };
    const target = join(s.dir, 'users-restored.db');
    const live = dbDigest(s.dbs.users);
    const restore = (chain: ReturnType<typeof member>[], last: ReturnType<typeof member>) => {
      const req: RestoreRequest = {
        db,
        entry: last.entry,
        setId: last.setId,
        target: { kind: 'side-by-side', name: target },
        openPart: last.openPart,
        terminateConnections: false,
        ...(chain.length ? { chain } : {}),
      };
      const ctx: DriverContext = {
        reporter: silentReporter,
        signal: new AbortController().signal,
        scratchDir: s.dir,
        log: () => undefined,
      };
      return driverFor('sqlite')
        .restore(req, ctx)
        .then(
          () => null,
          (e: unknown) => e,
        );
    };
    const notDelta = { ...member(inc1), entry: { ...member(inc1).entry, format: 'sqlite-db' as const } };
    const damaged = { ...member(inc2), openPart: () => Readable.from([Buffer.from('not a delta of pages at all')]) };
    const cases: [string, unknown, RegExp][] = [
      [
        'its full left out',
        await restore([member(inc1)], member(inc2)),
        new RegExp(`^La copia ${inc2.id} guarda solo las páginas de users que cambiaron desde la copia ${inc1.id};`),
      ],
      [
        'a gap',
        await restore([member(full)], member(inc2)),
        new RegExp(`se aplica sobre la copia ${inc1.id}, no sobre la ${full.id}: a la cadena le falta un eslabón`),
      ],
      [
        'a member that is not a delta',
        await restore([member(full), notDelta], member(inc2)),
        new RegExp(`^La copia ${inc1.id} de la cadena de users no es un delta de páginas \\(sqlite-db\\)`),
      ],
      [
        'a damaged delta',
        await restore([member(full), member(inc1)], damaged),
        /^Un delta de páginas SQLite guardado está dañado o no es de respaldo\./,
      ],
    ];
    for (const [label, err, said] of cases) {
      expect(err, label).toBeInstanceOf(RespaldoError);
      const box = renderUi(<ErrorBox error={err} />, { lang: 'es' })
        .lastFrame()!
        .replace(/[\s│╭╮╰╯┌┐└┘─]+/g, ' ');
      const [message, hint] = box
        .replace(/^ ?Error: /, '')
        .trim()
        .split(' Qué hacer: ');
      expect(message, label).toMatch(said);
      expect(hint, label).toMatch(/^(Restáurela|Restaure|Verifique)/);
      expect(box, label).not.toMatch(/\b(stores|the chain|not a page|is damaged|Restore|Verify|Nothing)\b/);
      expect(existsSync(target), label).toBe(false);
      cleanup();
    }
    expect(dbDigest(s.dbs.users)).toEqual(live);
  });
});
