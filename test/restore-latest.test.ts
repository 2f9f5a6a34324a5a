import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest, SetSummary } from '../src/core/types.js';
import { chooseLatest } from '../src/engine/catalog.js';
import { english } from '../src/core/phrases.js';
import { selectionPhrases, type RestorePlan } from '../src/engine/restore.js';
import { PHRASES_ES } from '../src/ui/i18n/phrases-es.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { treeSnapshot } from './helpers/sqlite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expected: number) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, describeResult(r)).toBe(expected);
  return r;
}

async function create(s: DemoSetup, args: string[] = []): Promise<Manifest> {
  return parseJsonOutput<Manifest>((await cli(s, ['create', '--json', ...args], 0)).stdout);
}

function summary(id: string, databases: string[], more: Partial<SetSummary> = {}): SetSummary {
  const base = {
    type: 'full',
    status: 'completed',
    description: null,
    startedAt: id,
    completedAt: id,
    failedDatabases: [],
  };
  return {
    id,
    ...base,
    databases,
    files: 0,
    storedBytes: 0,
    job: null,
    keep: false,
    lastVerified: null,
    path: id,
    ...more,
  } as SetSummary;
}

describe('chooseLatest (pure)', () => {
  const sets = [
    summary('5', ['users'], { type: 'pre_restore' }),
    summary('4', ['users', 'inventario'], { status: 'failed' }),
    summary('3', ['users'], { failedDatabases: ['inventario'], status: 'partial' }),
    summary('2', ['users', 'inventario'], { files: 0 }),
    summary('1', ['users', 'inventario'], { files: 7 }),
  ];
  it.each([
    [{ databases: ['users'], files: false }, '3', []],
    [{ databases: ['inventario'], files: false }, '2', [{ id: '3', lacks: ['inventario'] }]],
    [{ databases: ['users', 'inventario'], files: false }, '2', [{ id: '3', lacks: ['inventario'] }]],
    [
      { databases: [], files: true },
      '1',
      [
        { id: '3', lacks: ['files'] },
        { id: '2', lacks: ['files'] },
      ],
    ],
    [{ databases: ['auditoria'], files: false }, null, null],
  ])('%j → %s', (want, id, skipped) => {
    const got = chooseLatest(sets, want);
    expect(got?.chosen.id ?? null).toBe(id);
    expect(got?.skipped ?? null).toEqual(skipped);
  });
});

describe('latest is never a schema-only set (its tables would be restored empty)', () => {
  it('chooseLatest passes over it, saying why', () => {
    const sets = [summary('2', ['users'], { type: 'schema' }), summary('1', ['users'])];
    expect(chooseLatest(sets, { databases: ['users'], files: false })).toEqual({
      chosen: sets[1],
      skipped: [{ id: '2', lacks: ['the data (a schema-only set)'] }],
    });
  });

  it('restore latest and drill latest use the newest set with the data; with only schema sets, exit 8 naming one', async () => {
    const s = demoSetup({
      databases: [{ name: 'users', engine: 'sqlite', path: './data/users.db' }],
      files: undefined,
    });
    const only = await create(s, ['--type', 'schema']);
    const refused = await cli(s, ['restore', 'latest', '--db', 'users', '--to', 'x.db', '--yes'], 8);
    expect(refused.stderr).toContain(`There are only schema-only sets (the newest: ${only.id})`);
    expect(existsSync(join(s.dir, 'x.db'))).toBe(false);
    // A drill's hint speaks of a drill (a restore of the schema alone is no drill).
    const notDrilled = await cli(s, ['drill', 'latest'], 8);
    expect(notDrilled.stderr).toContain(
      'hint: Run `respaldo create` for a backup with the data: a drill of a schema-only set would check no rows.',
    );
    expect(existsSync(join(s.backupDir, only.id, 'drilled.json'))).toBe(false);
    const full = await create(s);
    const schema = await create(s, ['--type', 'schema']);
    const plan = parseJsonOutput<RestorePlan>(
      (await cli(s, ['restore', 'latest', '--db', 'users', '--dry-run', '--json'], 0)).stdout,
    );
    expect(plan.setId).toBe(full.id);
    expect(plan.selection?.skipped).toEqual([{ id: schema.id, lacks: ['the data (a schema-only set)'] }]);
    const drilled = await cli(s, ['drill', 'latest', '--json'], 0);
    expect(drilled.stdout).toContain(full.id);
    expect(drilled.stdout).not.toContain(schema.id);
  });
});

describe('selectionPhrases (pure)', () => {
  const skipped = ['7', '6', '5', '4', '3', '2'].map((id) => ({ id, lacks: ['files'] }));
  it.each([
    [
      { asked: '1', setId: '1', holds: { databases: [], failedDatabases: [], files: 0 }, skipped: [] },
      ['Using set 1, which holds: no databases; no files'],
    ],
    [
      {
        asked: 'latest',
        setId: '1',
        holds: { databases: ['users'], failedDatabases: ['inventario'], files: 3 },
        skipped,
      },
      [
        'latest is set 1, which holds: users (failed in it: inventario); 3 file(s)',
        'newer sets passed over, each with what it lacks: 7 (files), 6 (files), 5 (files), 4 (files), 3 (files) … +1',
      ],
    ],
  ])('%j', (sel, lines) => {
    const phrases = selectionPhrases(sel);
    expect(phrases.map(english)).toEqual(lines);
    for (const p of phrases) expect(PHRASES_ES[p.id](p.params)).not.toBe(english(p));
  });
});

describe('restore latest picks the newest set that holds everything asked for', () => {
  it('skips a newer set that lacks databases or files, and says which set it chose and what it holds', async () => {
    const s = demoSetup();
    const full = await create(s);
    const usersOnly = await create(s, ['--db', 'users', '--no-files']);
    expect(usersOnly.id > full.id).toBe(true);

    const all = parseJsonOutput<RestorePlan>((await cli(s, ['restore', 'latest', '--dry-run', '--json'], 0)).stdout);
    expect(all.setId).toBe(full.id);
    expect(all.databases.map((d) => d.database).sort()).toEqual(['auditoria', 'inventario', 'users']);
    expect(all.selection).toMatchObject({
      asked: 'latest',
      setId: full.id,
      skipped: [{ id: usersOnly.id, lacks: ['inventario', 'auditoria'] }],
    });

    const text = await cli(s, ['restore', 'latest', '--dry-run'], 0);
    expect(text.stdout.split('\n')[0]).toBe(
      `latest is set ${full.id}, which holds: users, inventario, auditoria; ${full.files.length} file(s)`,
    );
    expect(text.stdout).toContain(
      `newer sets passed over, each with what it lacks: ${usersOnly.id} (inventario, auditoria)`,
    );

    const files = parseJsonOutput<RestorePlan>(
      (await cli(s, ['restore', 'latest', '--files', '--to', 'out', '--dry-run', '--json'], 0)).stdout,
    );
    expect(files.setId).toBe(full.id);
    expect(files.files?.count).toBeGreaterThan(0);

    const users = parseJsonOutput<RestorePlan>(
      (await cli(s, ['restore', 'latest', '--db', 'users', '--dry-run', '--json'], 0)).stdout,
    );
    expect(users.setId).toBe(usersOnly.id);
    expect(users.selection?.holds).toEqual({ databases: ['users'], failedDatabases: [], files: 0 });

    const named = await cli(s, ['restore', usersOnly.id, '--dry-run'], 0);
    expect(named.stdout.split('\n')[0]).toBe(`Using set ${usersOnly.id}, which holds: users; no files`);
  });

  it('refuses (exit 8) when no set holds everything, naming the newest set per database, and writes nothing', async () => {
    const s = demoSetup();
    const usersOnly = await create(s, ['--db', 'users', '--no-files']);
    const before = treeSnapshot(s.dir);
    const r = await cli(s, ['restore', 'latest', '--yes'], 8);
    expect(r.stderr).toContain(`users: ${usersOnly.id}; inventario: none; auditoria: none`);
    expect(r.stderr).toContain('hint:');
    const f = await cli(s, ['restore', 'latest', '--files', '--to', 'out', '--yes'], 8);
    expect(f.stderr).toContain('files: none');
    expect(existsSync(join(s.dir, 'out'))).toBe(false);
    expect(treeSnapshot(s.dir)).toEqual(before);
  });

  it('drill latest when none holds everything asked: the hint says to drill those sets, not to restore from them', async () => {
    const s = demoSetup();
    const users = await create(s, ['--db', 'users', '--no-files']);
    const r = await cli(s, ['drill', 'latest'], 8);
    expect(r.stderr).toContain(`users: ${users.id}; inventario: none; auditoria: none`);
    expect(r.stderr).toContain(
      'hint: Drill those sets one at a time (respaldo drill <id> --db NAME), name fewer with --db, or run `respaldo create`',
    );
    expect(r.stderr).not.toMatch(/restore/i);
    const files = await cli(s, ['drill', 'latest', '--db', 'users', '--files'], 8);
    expect(files.stderr).toContain('hint: Drill those sets one at a time (respaldo drill <id> --db NAME, or --files)');
    expect(existsSync(join(s.backupDir, users.id, 'drilled.json'))).toBe(false);
    // A restore keeps its own words.
    const restore = await cli(s, ['restore', 'latest', '--yes'], 8);
    expect(restore.stderr).toContain('hint: Restore from those sets one at a time (respaldo restore <id> --db NAME)');
  });
});

describe('an unknown --db name is named, with the configured ones, exit 8', () => {
  it.each([
    [['restore', 'latest', '--db', 'user', '--dry-run']],
    [['restore', 'latest', '--db', 'users', '--db', 'user', '--yes']],
    [['list', '--db', 'nope']],
    [['list', '--db', 'nope', '--json']],
    [['create', '--db', 'nope']],
    [['create', '--db', 'nope', '--if-older-than', '1d']],
  ])('respaldo %j', async (args) => {
    const s = demoSetup();
    await create(s, ['--db', 'users']);
    const sets = readdirSync(s.backupDir).sort();
    const r = await cli(s, args, 8);
    const name = args[args.indexOf('nope') >= 0 ? args.indexOf('nope') : args.indexOf('user')]!;
    expect(r.stderr).toContain(`No database named "${name}"`);
    expect(r.stderr).toContain('users, inventario, auditoria');
    expect(r.stderr).not.toMatch(/respaldo create|no backup set/i);
    expect(readdirSync(s.backupDir).sort()).toEqual(sets);
  });

  it('restore of a named set with an unknown --db', async () => {
    const s = demoSetup();
    const m = await create(s);
    const r = await cli(s, ['restore', m.id, '--db', 'nope', '--yes'], 8);
    expect(r.stderr).toContain('No database named "nope"');
    expect(r.stderr).toContain('users, inventario, auditoria');
  });
});

describe('a config whose database of that name is another engine now', () => {
  it('the restore is refused before anything runs, naming both engines (pg_restore failed half-way on SQLite pages)', async () => {
    const s = demoSetup({
      databases: [{ name: 'users', engine: 'sqlite', path: './data/users.db' }],
      files: undefined,
    });
    const m = await create(s);
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as { databases: object[] };
    doc.databases = [{ name: 'users', engine: 'postgres', url: 'postgresql://app@127.0.0.1:1/users' }];
    writeFileSync(s.configFile, JSON.stringify(doc));
    const r = await cli(s, ['restore', m.id, '--db', 'users', '--to', 'users_copy', '--yes'], 9);
    expect(r.stdout + r.stderr).toContain(
      `Set ${m.id} stores users as a sqlite database, and the config's users is postgres now.`,
    );
  });
});
