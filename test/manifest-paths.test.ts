import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileEntry, Manifest } from '../src/core/types.js';
import { codecProblem, hashProblem, pathProblem } from '../src/engine/manifest.js';
import { restoreFiles } from '../src/engine/restore.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { execSql, rowCounts, treeSnapshot } from './helpers/sqlite.js';
import { demoSetup, makeTmpDir, type DemoSetup } from './helpers/tmp.js';

const file = (over: Partial<FileEntry> = {}): FileEntry => ({
  group: 'application',
  source: '/srv/app/a.txt',
  relative: 'app/a.txt',
  kind: 'file',
  stored: 'application/app/a.txt.gz',
  linkTarget: null,
  size: 1,
  mode: 0o644,
  mtime: '2026-01-01T00:00:00.000Z',
  md5: 'x',
  sha256: 'y',
  ...over,
});
const link = (over: Partial<FileEntry> = {}) =>
  file({ kind: 'symlink', stored: null, linkTarget: '../shared/x', md5: null, sha256: null, ...over });
const db = (over: Record<string, unknown> = {}) => ({
  name: 'users',
  engine: 'sqlite',
  file: 'databases/users_20260101_000000.sqlite.gz',
  extras: [],
  ...over,
});

function manifest(over: Record<string, unknown> = {}): Manifest {
  return {
    schemaVersion: 1,
    id: '20260101_000000',
    databases: [db()],
    files: [file(), link()],
    ...over,
  } as unknown as Manifest;
}

describe('pathProblem: every path-like field of a manifest', () => {
  it.each<[string, Record<string, unknown>, RegExp | null]>([
    ['a sound manifest', {}, null],
    ['a symlink target outside is data, not a path', { files: [link({ linkTarget: '/etc/passwd' })] }, null],
    [
      'a server safety copy (no stored file)',
      { databases: [db({ file: null, safetyDatabase: 'users__pre_restore_x' })] },
      null,
    ],
    ['set id with ..', { id: '../20260101_000000' }, /set id/],
    ['set id with a slash', { id: '20260101_000000/x' }, /set id/],
    ['database name ..', { databases: [db({ name: '..' })] }, /database name/],
    ['database name with a slash', { databases: [db({ name: 'a/b' })] }, /database name/],
    ['base set ../other', { databases: [db({ base: '../20250101_000000' })] }, /base set of users/],
    ['base set that is no set id', { databases: [db({ base: 'latest' })] }, /base set of users/],
    ['database name with NUL', { databases: [db({ name: 'us\0ers' })] }, /database name/],
    ['database name with a line break', { databases: [db({ name: 'users\n20261231_000000  full' })] }, /database name/],
    ['database name with an escape sequence', { databases: [db({ name: 'users\u001b[2K' })] }, /database name/],
    ['database name with a space', { databases: [db({ name: 'users x' })] }, /database name/],
    ['database file ..', { databases: [db({ file: '../../etc/passwd' })] }, /stored path of users/],
    ['database file absolute', { databases: [db({ file: '/etc/passwd' })] }, /stored path of users/],
    ['database file not a string', { databases: [db({ file: 7 })] }, /stored path of users/],
    [
      'extras file ..',
      { databases: [db({ extras: [{ file: 'databases/../../x', role: 'globals' }] })] },
      /stored path of users/,
    ],
    ['extras not a list', { databases: [db({ extras: 'x' })] }, /extras of users/],
    ['group ../..', { files: [file({ group: '../..' as FileEntry['group'] })] }, /file group/],
    ['group with a slash', { files: [file({ group: 'application/x' as FileEntry['group'] })] }, /file group/],
    ['group absolute', { files: [file({ group: '/tmp' as FileEntry['group'] })] }, /file group/],
    ['relative ..', { files: [file({ relative: 'app/../../x' })] }, /file path/],
    ['relative with a backslash (a character of a name on Linux)', { files: [file({ relative: 'app\\..\\x' })] }, null],
    ['relative with NUL', { files: [file({ relative: 'a\0b' })] }, /file path/],
    ['stored ..', { files: [file({ stored: '../outside.gz' })] }, /stored path of app\/a.txt/],
    ['a file without a stored path', { files: [file({ stored: null })] }, /stored path of app\/a.txt/],
    ['a symlink with a stored path', { files: [link({ stored: 'x.gz' })] }, /stored path of symlink/],
    ['a symlink target with NUL', { files: [link({ linkTarget: 'a\0b' })] }, /link target/],
    ['an unknown kind', { files: [file({ kind: 'fifo' as FileEntry['kind'] })] }, /kind of/],
  ])('%s', (_what, over, problem) => {
    const got = pathProblem(manifest(over));
    if (problem) expect(got).toMatch(problem);
    else expect(got).toBeNull();
  });
});

describe('hashProblem: every stored file has its md5 and sha256', () => {
  const md5 = 'a'.repeat(32);
  const sha256 = 'b'.repeat(64);
  const hashed = (over: Record<string, unknown> = {}) => ({ md5, sha256, ...over });
  it.each<[string, Record<string, unknown>, string | null]>([
    ['all hashed', { databases: [db(hashed())], files: [file(hashed()), link()] }, null],
    [
      'a failed database (no file, no hashes)',
      { databases: [db({ file: null, md5: null, sha256: null })], files: [] },
      null,
    ],
    [
      'a database without sha256',
      { databases: [db(hashed({ sha256: undefined }))], files: [] },
      'missing or malformed sha256 of databases/users_20260101_000000.sqlite.gz',
    ],
    [
      'a database md5 that is not one',
      { databases: [db(hashed({ md5: 'x' }))], files: [] },
      'missing or malformed md5',
    ],
    [
      'an extra without md5',
      { databases: [db(hashed({ extras: [{ file: 'databases/g.gz', role: 'globals', sha256 }] }))], files: [] },
      'missing or malformed md5 of databases/g.gz',
    ],
    [
      'a file without its hashes',
      { databases: [], files: [file({ md5: null, sha256: null })] },
      'missing or malformed md5 of application/app/a.txt.gz',
    ],
  ])('%s', (_what, over, problem) => {
    const got = hashProblem(manifest(over));
    if (problem === null) expect(got).toBeNull();
    else expect(got).toContain(problem);
  });

  it("a real set whose manifest lost a file's sha256: verify and list say the set is damaged (exit 5)", async () => {
    const s = demoSetup();
    const m = await createSet(s);
    const victim = m.files.find((f) => f.kind === 'file')!.stored!;
    tamper(s, m.id, (doc) => {
      delete (doc.files.find((f) => f.stored === victim) as Partial<FileEntry>).sha256;
    });
    const v = await cli(s, ['verify', m.id]);
    expect(v.code, describeResult(v)).toBe(5);
    expect(v.stderr).toContain(`missing or malformed sha256 of ${victim}`);
    const l = await cli(s, ['list']);
    expect(l.code, describeResult(l)).toBe(5);
    expect(l.stdout).toContain(`DAMAGED set ${m.id}`);
  });
});

describe('codecProblem: a codec this respaldo does not know', () => {
  it.each<[string, Record<string, unknown>, RegExp | null]>([
    ['no codec anywhere (a set made before zstd: gzip)', {}, null],
    [
      'zstd files and databases',
      { codec: 'zstd', databases: [db({ codec: 'zstd', extras: [{ file: 'x', codec: 'zstd' }] })] },
      null,
    ],
    ['an unknown codec of the files', { codec: 'brotli' }, /unknown codec "brotli"/],
    ['an unknown codec of a database', { databases: [db({ codec: 'lz4' })] }, /unknown codec "lz4"/],
    ['an unknown codec of an extra', { databases: [db({ extras: [{ file: 'x', codec: 7 }] })] }, /unknown codec 7/],
  ])('%s', (_what, over, problem) => {
    const got = codecProblem(manifest(over));
    if (problem) expect(got).toMatch(problem);
    else expect(got).toBeNull();
  });
});

async function createSet(s: DemoSetup, args: string[] = []): Promise<Manifest> {
  const r = await runCli(['create', '--json', ...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, describeResult(r)).toBe(0);
  return parseJsonOutput<Manifest>(r.stdout);
}

function tamper(s: DemoSetup, id: string, edit: (m: Manifest) => void): void {
  const path = join(s.backupDir, id, 'manifest.json');
  const doc = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  edit(doc);
  writeFileSync(path, JSON.stringify(doc, null, 2));
}

const cli = (s: DemoSetup, args: string[]) => runCli([...args, '--config', s.configFile], { cwd: s.dir });

describe('a manifest with an unsafe group is a damaged set (exit 5) before anything is created', () => {
  it('restore, verify and list say so; nothing is created inside or outside the target', async () => {
    const s = demoSetup();
    const good = await createSet(s);
    const bad = await createSet(s);
    tamper(s, bad.id, (m) => {
      const f = m.files.find((x) => x.kind === 'file' && x.relative.includes('/'))!;
      f.group = '../..' as FileEntry['group'];
    });
    const to = join(s.dir, 'a', 'b', 'out');
    const before = treeSnapshot(s.dir);
    for (const args of [
      ['restore', bad.id, '--files', '--to', to, '--yes'],
      ['restore', bad.id, '--db', 'users', '--files', '--yes'],
      ['restore', bad.id, '--files', '--to', to, '--dry-run'],
    ]) {
      const r = await cli(s, args);
      expect(r.code, describeResult(r)).toBe(5);
      expect(r.stderr).toContain('unsafe file group "../.."');
      expect(treeSnapshot(s.dir)).toEqual(before);
    }
    const v = await cli(s, ['verify', bad.id]);
    expect(v.code, describeResult(v)).toBe(5);
    expect(v.stderr).toContain('unsafe file group');
    const all = await cli(s, ['verify', '--all']);
    expect(all.code, describeResult(all)).toBe(5);
    expect(all.stdout).toContain(`${bad.id}: FAILED`);
    expect(all.stdout).toContain(`${good.id}: OK`);

    const l = await cli(s, ['list']);
    expect(l.code, describeResult(l)).toBe(5);
    expect(l.stdout).toContain(good.id);
    expect(l.stdout).toMatch(new RegExp(`DAMAGED set ${bad.id}: .*unsafe file group`));
    const lj = await cli(s, ['list', '--json']);
    expect(lj.code, describeResult(lj)).toBe(5);
    expect(parseJsonOutput<{ id: string }[]>(lj.stdout).map((x) => x.id)).toEqual([good.id]);
    expect(lj.stderr).toContain(`DAMAGED set ${bad.id}`);

    // latest passes over the damaged set, and says so
    const plan = await cli(s, ['restore', 'latest', '--dry-run']);
    expect(plan.code, describeResult(plan)).toBe(0);
    expect(plan.stdout).toContain(`latest is set ${good.id}`);
    expect(plan.stdout).toContain(`${bad.id} (an intact manifest)`);
  });

  it('a set folder whose manifest names another set: list, verify --all and status --check name it, as restore does', async () => {
    const s = demoSetup();
    const good = await createSet(s);
    const other = await createSet(s);
    tamper(s, other.id, (m) => void (m.id = good.id));
    const l = await cli(s, ['list']);
    expect(l.code, describeResult(l)).toBe(5);
    expect(l.stdout).toMatch(
      new RegExp(`DAMAGED set ${other.id}: it holds the manifest of set ${good.id} \\(folder and manifest disagree\\)`),
    );
    const all = await cli(s, ['verify', '--all']);
    expect(all.code, describeResult(all)).toBe(5);
    expect(all.stdout).toContain(`${other.id}: FAILED`);
    const st = await cli(s, ['status', '--check']);
    expect(st.code, describeResult(st)).toBe(10);
    const r = await cli(s, ['restore', other.id, '--db', 'users', '--to', join(s.dir, 'x.db'), '--yes']);
    expect(r.code, describeResult(r)).toBe(5);
    expect(r.stderr).toContain(`holds the manifest of set ${good.id}, not ${other.id}`);
  });

  it('a set folder whose manifest.json is gone, or a set id that is a file: named as damaged, never "no sets yet"', async () => {
    const s = demoSetup();
    const m = await createSet(s);
    rmSync(join(s.backupDir, m.id, 'manifest.json'));
    writeFileSync(join(s.backupDir, '20200101_000000'), 'x');
    const before = treeSnapshot(s.dir);
    const l = await cli(s, ['list']);
    expect(l.code, describeResult(l)).toBe(5);
    expect(l.stdout).toContain(`DAMAGED set ${m.id}: ${join(s.backupDir, m.id)} has no manifest.json`);
    expect(l.stdout).toContain(`DAMAGED set 20200101_000000: ${join(s.backupDir, '20200101_000000')} is a file`);
    const all = await cli(s, ['verify', '--all']);
    expect(all.code, describeResult(all)).toBe(5);
    expect(all.stdout).toContain(`${m.id}: FAILED`);
    const st = await cli(s, ['status', '--check']);
    expect(st.code, describeResult(st)).toBe(10);
    expect(st.stdout).toContain(`backup set ${m.id}: ${join(s.backupDir, m.id)} has no manifest.json`);
    for (const args of [
      ['restore', 'latest', '--db', 'users', '--yes'],
      ['verify', 'latest'],
    ]) {
      const r = await cli(s, args);
      expect(r.code, describeResult(r)).toBe(8);
      expect(r.stderr).not.toContain('no backup sets yet');
      expect(r.stderr).toContain(`2 set(s) here are damaged and passed over (the newest, ${m.id}: `);
      expect(r.stderr).toContain('hint: Inspect the damaged sets');
    }
    const byId = await cli(s, ['restore', m.id, '--db', 'users', '--yes']);
    expect(byId.code, describeResult(byId)).toBe(5);
    expect(byId.stderr).toContain(`Set ${m.id} is damaged: ${join(s.backupDir, m.id)} has no manifest.json`);
    expect(treeSnapshot(s.dir)).toEqual(before);
  });

  it('a conflicting file entry stops a restore of databases and files before any database is touched', async () => {
    const s = demoSetup();
    const m = await createSet(s);
    tamper(s, m.id, (doc) => {
      const t = doc.files.find((f) => f.kind === 'file' && f.group === 'application')!;
      doc.files.push({
        ...t,
        kind: 'symlink',
        relative: 'app/link',
        stored: null,
        md5: null,
        sha256: null,
        size: 0,
        linkTarget: '/tmp',
      });
      doc.files.push({ ...t, relative: 'app/link/x' });
    });
    execSql(s.dbs.users, "INSERT INTO roles (name) VALUES ('made after the backup')");
    const rows = rowCounts(s.dbs.users);
    const sets = readdirSync(s.backupDir).sort();
    const r = await cli(s, ['restore', m.id, '--db', 'users', '--files', '--to', join(s.dir, 'out'), '--yes']);
    expect(r.code, describeResult(r)).toBe(5);
    expect(r.stderr).toContain('app/link');
    expect(rowCounts(s.dbs.users)).toEqual(rows);
    expect(readdirSync(s.backupDir).sort()).toEqual(sets);
    expect(existsSync(join(s.dir, 'out'))).toBe(false);
  });
});

describe('restoreFiles creates no folder before the whole path is known to be inside the target', () => {
  it.each(['../..', '..', '../x'])('group %j', async (group) => {
    const root = makeTmpDir();
    const to = join(root, 'a', 'b', 'out');
    const entries = [file({ group: group as FileEntry['group'], relative: 'evil/deep/x.txt' })];
    const err = await restoreFiles(join(root, 'set'), entries, to, { setId: '20260101_000000' }).catch(
      (e: unknown) => e,
    );
    expect(String(err)).toMatch(/outside/);
    const left = Object.keys(treeSnapshot(root)).filter((p) => p.includes('evil'));
    expect(left).toEqual([]);
    expect(existsSync(to)).toBe(false);
  });
});
