import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest, SetSummary } from '../src/core/types.js';
import { REPO_ROOT, describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { dbDigest, execSql, rowCounts, treeSnapshot } from './helpers/sqlite.js';
import { startCliInTmux, TMUX_SERVER } from './helpers/tty.js';
import { readStored, STORED_EXT } from './helpers/stored.js';
import { demoConfig, demoSetup, type DemoSetup } from './helpers/tmp.js';

const CHINOOK = join(REPO_ROOT, 'test', 'fixtures', 'chinook', 'Chinook_Sqlite.sqlite');
const OUTSIDE_MARK = 'OUTSIDE-CONTENT-must-not-be-archived-7f3a';

interface Setup extends DemoSetup {
  chinook: string;
  outsideFile: string;
  all: Record<string, string>;
}

/** Demo databases + a copy of Chinook + an app folder with a symlink that points outside it. */
function setup(): Setup {
  const s = demoSetup((c) => ({
    ...c,
    databases: [...(c.databases as object[]), { name: 'chinook', path: './data/chinook.sqlite' }],
  }));
  const chinook = join(s.dataDir, 'chinook.sqlite');
  copyFileSync(CHINOOK, chinook);
  const outside = join(s.dir, 'outside');
  mkdirSync(outside);
  const outsideFile = join(outside, 'secret.txt');
  writeFileSync(outsideFile, OUTSIDE_MARK + '\n');
  symlinkSync(outsideFile, join(s.appDir, 'link-to-outside.txt'));
  symlinkSync(outside, join(s.appDir, 'link-to-outside-dir'));
  symlinkSync('settings.json', join(s.appDir, 'settings-alias.json'));
  return { ...s, chinook, outsideFile, all: { ...s.dbs, chinook } };
}

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

async function create(s: DemoSetup, args: string[] = []): Promise<Manifest> {
  const r = await cli(s, ['create', '--json', ...args]);
  return parseJsonOutput<Manifest>(r.stdout);
}

function digests(files: Record<string, string>) {
  return Object.fromEntries(Object.entries(files).map(([n, f]) => [n, dbDigest(f)]));
}

function fileHash(file: string, algo: 'md5' | 'sha256'): string {
  return createHash(algo).update(readFileSync(file)).digest('hex');
}

function mutate(s: Setup): void {
  execSql(
    s.chinook,
    'PRAGMA foreign_keys=OFF; DELETE FROM InvoiceLine WHERE InvoiceLineId % 3 = 0; DROP TABLE PlaylistTrack; UPDATE Artist SET Name = upper(Name);',
  );
  execSql(s.dbs.users, 'DELETE FROM users WHERE id > 50; UPDATE users SET active = 0;');
  execSql(s.dbs.inventario, 'DROP TABLE stock_movements;');
  execSql(
    s.dbs.auditoria,
    "INSERT INTO events (at, actor, action, entity, details) VALUES ('2027-01-01', 'intruder', 'delete', 'users', '{}');",
  );
}

describe('round trip on Chinook and the demo databases', () => {
  it('create --json stores checksummed files whose row counts match the live databases', async () => {
    const s = setup();
    const live = Object.fromEntries(Object.entries(s.all).map(([n, f]) => [n, rowCounts(f)]));
    const m = await create(s);
    expect(m.id).toMatch(/^\d{8}_\d{6}(_\d+)?$/);
    expect(m.status).toBe('completed');
    expect(m.type).toBe('full');
    expect(m.databases.map((d) => d.name).sort()).toEqual(Object.keys(s.all).sort());
    const setDir = join(s.backupDir, m.id);
    for (const d of m.databases) {
      expect(d.error).toBeNull();
      expect(d.file).toBe(`databases/${d.name}_${m.id}.sqlite${STORED_EXT}`);
      const stored = join(setDir, d.file!);
      expect(d.md5).toBe(fileHash(stored, 'md5'));
      expect(d.sha256).toBe(fileHash(stored, 'sha256'));
      expect(d.storedBytes).toBe(statSync(stored).size);
      expect(readStored(stored).length).toBe(d.rawBytes);
      expect(d.tables).toEqual(live[d.name]);
    }
    expect(m.databases.find((d) => d.name === 'chinook')!.tables!['Track']).toBe(3503);
    for (const f of m.files.filter((x) => x.kind === 'file')) {
      const stored = join(setDir, f.stored!);
      expect(f.md5).toBe(fileHash(stored, 'md5'));
      expect(f.sha256).toBe(fileHash(stored, 'sha256'));
      expect(readStored(stored).equals(readFileSync(f.source))).toBe(true);
    }
  });

  it('restore in place brings every row back; the pre_restore set holds the replaced state', async () => {
    const s = setup();
    const before = digests(s.all);
    const m = await create(s);
    mutate(s);
    const mutated = digests(s.all);
    expect(mutated.chinook).not.toEqual(before.chinook);
    expect(mutated.inventario!.tables['stock_movements']).toBeUndefined();

    await cli(s, ['restore', m.id, '--yes']);
    expect(digests(s.all)).toEqual(before);
    for (const f of Object.values(s.all)) {
      expect(existsSync(`${f}-wal`) && statSync(`${f}-wal`).size > 0).toBe(false);
      expect(
        readdirSync(s.dataDir).filter((n) => n.includes('respaldo-restore') || n.includes('respaldo-aside')),
      ).toEqual([]);
    }

    const sets = parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--json'])).stdout);
    const safety = sets.filter((x) => x.type === 'pre_restore');
    expect(safety).toHaveLength(1);
    const safetyManifest = parseJsonOutput<Manifest>((await cli(s, ['show', safety[0]!.id, '--json'])).stdout);
    expect(safetyManifest.type).toBe('pre_restore');
    expect(safetyManifest.restoreOf).toBe(m.id);
    expect(safetyManifest.databases.map((d) => d.name).sort()).toEqual(Object.keys(s.all).sort());

    // rolling back: the safety copy restores the mutated state
    await cli(s, ['restore', safety[0]!.id, '--yes']);
    expect(digests(s.all)).toEqual(mutated);
  });

  it('restore --db restores only the named database', async () => {
    const s = setup();
    const before = digests(s.all);
    const m = await create(s);
    mutate(s);
    const mutated = digests(s.all);
    await cli(s, ['restore', m.id, '--db', 'chinook', '--yes']);
    const now = digests(s.all);
    expect(now.chinook).toEqual(before.chinook);
    expect(now.users).toEqual(mutated.users);
    expect(now.inventario).toEqual(mutated.inventario);
  });

  it('--to restores side by side and leaves the live databases untouched', async () => {
    const s = setup();
    const before = digests(s.all);
    const m = await create(s);
    mutate(s);
    const liveTree = treeSnapshot(s.dataDir);
    const side = join(s.dir, 'side');
    mkdirSync(side);
    await cli(s, ['restore', m.id, '--db', 'chinook', '--to', join(side, 'chinook-copy.sqlite'), '--yes']);
    expect(dbDigest(join(side, 'chinook-copy.sqlite'))).toEqual(before.chinook);
    // all databases into a folder
    await cli(s, ['restore', m.id, '--to', join(side, 'all') + '/', '--yes']);
    expect(readdirSync(join(side, 'all')).sort()).toEqual(
      Object.values(s.all)
        .map((f) => f.split('/').pop()!)
        .sort(),
    );
    for (const [name, file] of Object.entries(s.all))
      expect(dbDigest(join(side, 'all', file.split('/').pop()!)), name).toEqual(before[name]);
    expect(treeSnapshot(s.dataDir)).toEqual(liveTree);
    const sets = parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--json'])).stdout);
    expect(sets.filter((x) => x.type === 'pre_restore')).toEqual([]);
    // a side-by-side restore never overwrites
    const again = await cli(
      s,
      ['restore', m.id, '--db', 'chinook', '--to', join(side, 'chinook-copy.sqlite'), '--yes'],
      9,
    );
    expect(again.stderr).toContain('already exists');
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    const s = setup();
    const m = await create(s);
    mutate(s);
    const tree = treeSnapshot(s.dir);
    const r = await cli(s, ['restore', m.id, '--dry-run']);
    expect(r.stdout).toContain('REPLACES the current database');
    expect(r.stdout).toContain(s.chinook);
    const j = await cli(s, ['restore', m.id, '--dry-run', '--json', '--files']);
    const plan = parseJsonOutput<{
      setId: string;
      databases: { database: string; replaces: boolean }[];
      files: { to: string } | null;
    }>(j.stdout);
    expect(plan.setId).toBe(m.id);
    expect(plan.databases.every((d) => d.replaces)).toBe(true);
    expect(plan.files?.to).toBe(join(s.dir, 'restored', m.id));
    expect(treeSnapshot(s.dir)).toEqual(tree);
  });

  it('without --yes and without a terminal the restore is refused (exit 9) and nothing changes', async () => {
    const s = setup();
    const m = await create(s);
    mutate(s);
    const tree = treeSnapshot(s.dir);
    const r = await cli(s, ['restore', m.id], 9);
    expect(r.stderr).toContain('--yes');
    expect(treeSnapshot(s.dir)).toEqual(tree);
  });

  it('--files restores config and application files with identical content; symlinks stay symlinks and are never followed', async () => {
    const s = setup();
    const m = await create(s);
    // the symlinks are archived as symlinks: no stored file, and the outside content is not in the set
    const links = m.files.filter((f) => f.kind === 'symlink');
    expect(links.map((f) => f.relative).sort()).toEqual([
      'app/link-to-outside-dir',
      'app/link-to-outside.txt',
      'app/settings-alias.json',
    ]);
    for (const l of links) expect(l.stored).toBeNull();
    expect(links.find((l) => l.relative === 'app/link-to-outside.txt')!.linkTarget).toBe(s.outsideFile);
    const setDir = join(s.backupDir, m.id);
    const storedFiles: string[] = [];
    const walk = (d: string) =>
      readdirSync(d, { withFileTypes: true }).forEach((e) =>
        e.isDirectory() ? walk(join(d, e.name)) : storedFiles.push(join(d, e.name)),
      );
    walk(setDir);
    for (const f of storedFiles) {
      const text = readStored(f).toString('latin1');
      expect(text.includes(OUTSIDE_MARK), `${relative(setDir, f)} holds the content of a symlink target`).toBe(false);
    }
    expect(m.files.some((f) => f.source.startsWith(join(s.dir, 'outside')))).toBe(false);
    // excluded files are not there
    expect(m.files.some((f) => f.relative.endsWith('server.log'))).toBe(false);
    expect(m.files.some((f) => f.group === 'application' && f.relative.endsWith('.env'))).toBe(false);

    const to = join(s.dir, 'files-restored');
    const liveApp = treeSnapshot(s.appDir);
    await cli(s, ['restore', m.id, '--files', '--to', to, '--yes']);
    expect(treeSnapshot(s.appDir)).toEqual(liveApp);
    for (const f of m.files) {
      const dest = join(to, f.group, f.relative);
      const st = lstatSync(dest);
      if (f.kind === 'symlink') {
        expect(st.isSymbolicLink(), dest).toBe(true);
        expect(readlinkSync(dest)).toBe(readlinkSync(f.source));
      } else {
        expect(st.isFile(), dest).toBe(true);
        expect(readFileSync(dest).equals(readFileSync(f.source)), dest).toBe(true);
      }
    }
    expect(readFileSync(join(to, 'config', 'data', 'app', '.env'), 'utf8')).toContain('DB_PASSWORD=');
    expect(readFileSync(join(to, 'application', 'app', 'config', 'app.ini'), 'utf8')).toContain('port = 8080');
    // written into a hidden partial folder and renamed whole: nothing of it is left beside the target
    expect(readdirSync(s.dir).filter((n) => n.includes('respaldo-partial'))).toEqual([]);
    expect(existsSync(join(s.backupDir, '.temp-journal'))).toBe(false);
    // restoring the files never touches the databases
    const sets = parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--json'])).stdout);
    expect(sets.map((x) => x.type)).toEqual(['full']);

    // without --to: a new folder beside the config; a second time it refuses to overwrite
    await cli(s, ['restore', m.id, '--files', '--yes']);
    expect(readFileSync(join(s.dir, 'restored', m.id, 'application', 'app', 'settings.json'), 'utf8')).toBe(
      readFileSync(join(s.appDir, 'settings.json'), 'utf8'),
    );
    const again = await cli(s, ['restore', m.id, '--files', '--yes'], 9);
    expect(again.stderr).toContain('not empty');
  });

  it('the shipped demo config shape round-trips from the repository root layout', async () => {
    const s = demoSetup();
    expect(Object.keys(demoConfig())).toContain('files');
    const before = digests(s.dbs);
    const m = await create(s, ['--description', 'round trip']);
    expect(m.description).toBe('round trip');
    execSql(s.dbs.users, 'DELETE FROM users');
    await cli(s, ['restore', 'latest', '--yes']);
    expect(digests(s.dbs)).toEqual(before);
  });
});

describe('confirmation on a terminal', () => {
  it('restore without --yes asks to type RESTORE; anything else cancels and changes nothing', async () => {
    const s = setup();
    const before = digests(s.all);
    const m = await create(s);
    mutate(s);
    const mutated = digests(s.all);

    const cancel = startCliInTmux(['restore', m.id, '--db', 'users', '--config', s.configFile], s.dir);
    try {
      await cancel.waitForScreen(/Type RESTORE to go on/);
      cancel.type('restore', true); // wrong case: not the word
      expect(await cancel.exitCode()).toBe(9);
      expect(cancel.screen()).toContain('Cancelled; nothing was changed.');
    } finally {
      cancel.kill();
    }
    expect(digests(s.all)).toEqual(mutated);

    const ok = startCliInTmux(['restore', m.id, '--db', 'users', '--config', s.configFile], s.dir);
    try {
      await ok.waitForScreen(/Type RESTORE to go on/);
      expect(ok.screen()).toContain('REPLACES the current database');
      ok.type('RESTORE', true);
      expect(await ok.exitCode()).toBe(0);
    } finally {
      ok.kill();
    }
    expect(digests(s.all).users).toEqual(before.users);
    expect(digests(s.all).inventario).toEqual(mutated.inventario);
  });

  it('Ctrl-C at the prompt: interrupted (exit 130), nothing changed; not a bug with its stack', async () => {
    const s = setup();
    const m = await create(s);
    mutate(s);
    const mutated = digests(s.all);
    const tty = startCliInTmux(['restore', m.id, '--db', 'users', '--config', s.configFile], s.dir);
    try {
      await tty.waitForScreen(/Type RESTORE to go on/);
      tty.type('RESTO'); // half typed, then the operator thinks better of it
      execFileSync('tmux', [...TMUX_SERVER, 'send-keys', '-t', tty.name, 'C-c']);
      expect(await tty.exitCode()).toBe(130);
      expect(tty.screen()).toContain('Interrupted at the confirmation; nothing was changed.');
      expect(tty.screen()).not.toContain('internal error');
    } finally {
      tty.kill();
    }
    expect(digests(s.all)).toEqual(mutated);
    expect(readdirSync(s.backupDir).filter((n) => !n.startsWith('.') && n !== 'logs')).toEqual([m.id]);
  });

  it('restore --json without --yes shows the plan (on stderr) before it asks: it asked to confirm an unseen plan', async () => {
    const s = setup();
    const m = await create(s);
    mutate(s);
    const mutated = digests(s.all);
    const tty = startCliInTmux(['restore', m.id, '--db', 'users', '--json', '--config', s.configFile], s.dir, {
      width: 80,
      height: 24,
    });
    try {
      const screen = await tty.waitForScreen(/Type RESTORE to go on/);
      expect(screen).toContain(`Restore plan for set ${m.id}`);
      expect(screen).toContain('REPLACES the current database');
      tty.type('no', true);
      expect(await tty.exitCode()).toBe(9);
    } finally {
      tty.kill();
    }
    expect(digests(s.all)).toEqual(mutated);
  });
});
