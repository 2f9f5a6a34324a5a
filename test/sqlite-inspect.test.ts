import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import type { Manifest, SetSummary } from '../src/core/types.js';
import { INLINE_BYTES, inspectSqliteFile as inspect, integritySummary } from '../src/drivers/sqlite/inspect.js';
import { catalogue } from '../src/ui/i18n/index.js';
import { manifestLines } from '../src/ui/screens/SetDetailsScreen.js';
import { createTheme } from '../src/ui/theme.js';
import { describeResult, parseJsonOutput, REPO_ROOT, runCli } from './helpers/cli.js';
import { demoSetup, makeTmpDir, type DemoSetup } from './helpers/tmp.js';

/**
 * The checks of a SQLite snapshot or restored copy (integrity_check and row counts, each in its own worker
 * thread at once, or one after the other in one beside compression; on the calling thread for a file of 16 MiB or
 * less: every way gives the same outcomes),
 * and what a failed check does to a create: that database fails, nothing of it is stored.
 */

/** A database SQLite opens and counts, but whose index t_b does not match its table: integrity_check fails. */
function brokenIndexDb(file: string, rows = 500): void {
  const db = new Database(file);
  try {
    db.exec(`CREATE TABLE t(a INTEGER, b TEXT); CREATE INDEX t_b ON t(b);
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
      INSERT INTO t SELECT i, 'v' || i FROM n;`);
    db.unsafeMode(true);
    db.pragma('writable_schema = ON');
    db.prepare("UPDATE sqlite_schema SET sql = 'CREATE INDEX t_b ON t(a)' WHERE name = 't_b'").run();
  } finally {
    db.close();
  }
}

/** Overwrites the second page of `file` with noise: SQLite opens it, but integrity_check cannot walk it. */
function damagePage2(file: string): void {
  const bytes = readFileSync(file);
  const pageSize = bytes.readUInt16BE(16);
  for (let i = pageSize; i < 2 * pageSize; i++) bytes[i] = (i * 7919) & 0xff;
  writeFileSync(file, bytes);
}

async function cli(s: DemoSetup, args: string[], expectCode: number) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

const leftovers = (backupDir: string) =>
  readdirSync(backupDir, { recursive: true, encoding: 'utf8' }).filter((n) => /\.scratch-|snapshot|\.tmp/.test(n));

describe.each([
  ['in two worker threads at once', false, 'io'],
  ['in one worker thread, one after the other', false, 'cpu'],
  ['on this thread', true, undefined],
] as const)('inspectSqliteFile %s', (_, inline, alongside) => {
  const inspectSqliteFile = (file: string, opts: { integrity?: boolean } = {}) =>
    inspect(file, { ...opts, inline, ...(alongside ? { alongside } : {}) });

  it('a sound file: integrity ok, every table counted, its page size and count', async () => {
    const file = join(makeTmpDir(), 'ok.db');
    const db = new Database(file);
    db.exec(`CREATE TABLE a(x); CREATE TABLE "b""q"(y); INSERT INTO a VALUES (1), (2), (3);`);
    db.close();
    const info = await inspectSqliteFile(file);
    expect(info.integrity).toEqual(['ok']);
    expect(info.tables).toEqual({ a: 3, 'b"q': 0 });
    expect(info.pageSize).toBe(4096);
    expect(info.pageCount).toBeGreaterThan(1);
    expect(info.sqliteVersion).toMatch(/^3\./);
  });

  it('a file whose index does not match its table: the problems, and the rows still counted', async () => {
    const file = join(makeTmpDir(), 'broken.db');
    brokenIndexDb(file);
    const info = await inspectSqliteFile(file);
    expect(info.integrity[0]).toBe('row 1 missing from index t_b');
    expect(info.tables).toEqual({ t: 500 });
    // without integrity_check (counts only) the same file counts the same
    expect(await inspectSqliteFile(file, { integrity: false })).toMatchObject({
      integrity: ['ok'],
      tables: { t: 500 },
    });
  });

  it('a damaged page that stops integrity_check itself: the outcome is SQLite’s corruption, not an error', async () => {
    const dir = makeTmpDir();
    const file = join(dir, 'paged.db');
    brokenIndexDb(file, 2000);
    damagePage2(file);
    const info = await inspectSqliteFile(file);
    expect(info.integrity).toEqual([expect.stringMatching(/^integrity_check stopped: .+ \(SQLITE_CORRUPT\w*\)$/)]);
  });

  it('a file that is not a database is refused with SQLite’s code', async () => {
    const file = join(makeTmpDir(), 'junk.db');
    writeFileSync(file, Buffer.alloc(8192, 0x5a));
    await expect(inspectSqliteFile(file)).rejects.toMatchObject({ code: 'SQLITE_NOTADB' });
  });

  // A worker terminated while better-sqlite3 is inside SQLite aborts the whole process ("FATAL ERROR:
  // v8::ToLocalChecked Empty MaybeLocal") when SQLite then reports an error, as it does on a cut file: a
  // failed integrity_check used to terminate the row counting that way, and took a test run down with it.
  it('a cut file: both checks run to their end, never stopped inside SQLite, and the process lives', async () => {
    const dir = makeTmpDir();
    const full = join(dir, 'full.db');
    const db = new Database(full);
    db.exec(`CREATE TABLE a(id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE b(n TEXT);
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
      INSERT INTO a(v) SELECT printf('%.100c', 'x') || i FROM n;`);
    db.close();
    const bytes = readFileSync(full);
    const cut = join(dir, 'cut.db');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.1)));

    const terminate = vi.spyOn(Worker.prototype, 'terminate');
    try {
      for (const fraction of [0.1, 0.3, 0.5, 0.9]) {
        const file = join(dir, `cut-${fraction}.db`);
        writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * fraction)));
        const outcome = await inspectSqliteFile(file).then(
          (info) => info.integrity[0],
          (err: unknown) => (err as { code?: string }).code,
        );
        expect(outcome, `cut at ${fraction}`).toMatch(
          /^(integrity_check stopped: .*\(SQLITE_CORRUPT|\*\*\* in database main|Tree|Page|On tree)/,
        );
      }
      expect(terminate).not.toHaveBeenCalled();
    } finally {
      terminate.mockRestore();
    }
    if (inline) return;

    // The race itself, in a process of its own: with a stopped check it aborted in about a third of such runs.
    const module = join(REPO_ROOT, 'dist', 'drivers', 'sqlite', 'inspect.js');
    const script = `const { inspectSqliteFile } = await import(${JSON.stringify(module)});
      for (let i = 0; i < 60; i++) await inspectSqliteFile(process.argv[1], { inline: false, alongside: ${JSON.stringify(alongside)} }).catch(() => undefined);
      console.log('lived');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, cut], { encoding: 'utf8' });
    expect(r.stderr).not.toContain('FATAL ERROR');
    expect({ status: r.status, stdout: r.stdout.trim() }).toEqual({ status: 0, stdout: 'lived' });
  });
});

describe('inspectSqliteFile chooses by size', () => {
  it('a file of 16 MiB or less is checked on this thread, a larger one in two workers, or one beside compression', async () => {
    const dir = makeTmpDir();
    const made = (name: string, bytes: number) => {
      const file = join(dir, name);
      const db = new Database(file);
      db.exec(`CREATE TABLE a(x); INSERT INTO a VALUES (zeroblob(${bytes}));`);
      db.close();
      return file;
    };
    const workers = vi.spyOn(Worker.prototype, 'once');
    try {
      const small = made('small.db', INLINE_BYTES - 1024 * 1024);
      expect(await inspect(small)).toMatchObject({ integrity: ['ok'], tables: { a: 1 } });
      expect(workers).not.toHaveBeenCalled();
      const large = made('large.db', INLINE_BYTES + 1024 * 1024);
      const started = () => workers.mock.calls.filter(([event]) => event === 'exit').length;
      expect(await inspect(large)).toMatchObject({ integrity: ['ok'], tables: { a: 1 } });
      // each worker thread listens once for its exit: two at once beside I/O, one for both beside compression
      expect(started()).toBe(2);
      expect(await inspect(large, { alongside: 'cpu' })).toMatchObject({ integrity: ['ok'], tables: { a: 1 } });
      expect(started()).toBe(3);
    } finally {
      workers.mockRestore();
    }
  });
});

describe('integritySummary', () => {
  it('the first problems on one line, without the database header, and how many more', () => {
    const page = [
      '*** in database main ***',
      ...Array.from({ length: 40 }, (_, i) => `Tree 4 page 10 cell ${40 - i}: bad`),
    ];
    expect(integritySummary([page.join('\n')], 2)).toBe(
      'Tree 4 page 10 cell 40: bad; Tree 4 page 10 cell 39: bad; and 38 more',
    );
    expect(integritySummary(['row 1 missing from index t_b', 'wrong # of entries in index t_b'], 3)).toBe(
      'row 1 missing from index t_b; wrong # of entries in index t_b',
    );
  });
});

describe('a live database that fails integrity_check', () => {
  it('fails its create (the others are stored), and nothing of it is stored or left behind', async () => {
    const s = demoSetup((c) => ({
      ...c,
      databases: [...(c.databases as object[]), { name: 'broken', path: './data/broken.db' }],
    }));
    brokenIndexDb(join(s.dataDir, 'broken.db'), 20000);
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'], 4)).stdout);
    expect(m.status).toBe('partial');
    const broken = m.databases.find((d) => d.name === 'broken')!;
    expect(broken.error?.message).toContain('failed integrity_check: row 1 missing from index t_b');
    expect(broken).toMatchObject({ file: null, md5: null, sha256: null, storedBytes: 0 });
    expect(readdirSync(join(s.backupDir, m.id, 'databases')).filter((n) => n.startsWith('broken'))).toEqual([]);
    for (const d of m.databases.filter((x) => x.name !== 'broken'))
      expect(existsSync(join(s.backupDir, m.id, d.file!))).toBe(true);
    expect(leftovers(s.backupDir)).toEqual([]);
  });

  it('a damaged page: create stores the others (exit 4); restore over it keeps it as it was; its rollback puts it back', async () => {
    const s = demoSetup();
    const good = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'], 0)).stdout);
    const live = join(s.dataDir, 'users.db');
    damagePage2(live);
    const damaged = readFileSync(live);

    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'], 4)).stdout);
    const users = m.databases.find((d) => d.name === 'users')!;
    expect(users.error?.message).toMatch(/snapshot failed integrity_check: integrity_check stopped: .*SQLITE_CORRUPT/);
    expect(m.databases.filter((d) => d.name !== 'users').every((d) => !d.error && d.file)).toBe(true);

    const r = await cli(s, ['restore', good.id, '--db', 'users', '--yes'], 0);
    expect(r.stderr).toMatch(/the database being replaced fails integrity_check; it is kept as it is/);
    expect(r.stderr).not.toContain('[object Object]');
    const rollback = /To roll back: respaldo restore (\S+) --db users --yes/.exec(r.stdout)?.[1];
    expect(rollback, r.stdout).toBeDefined();
    expect((await inspect(live)).integrity).toEqual(['ok']);

    // Before it is rolled back, the plan and show say that this safety copy holds the damaged database
    const plan = await cli(s, ['restore', rollback!, '--db', 'users', '--dry-run'], 0);
    expect(plan.stdout).toContain(
      `warning: users: set ${rollback} kept this database as it was when a restore replaced it, already failing integrity_check (integrity_check stopped:`,
    );
    expect(plan.stdout).toContain('restoring it puts that damaged database back');
    expect((await cli(s, ['restore', good.id, '--db', 'users', '--dry-run'], 0)).stdout).not.toContain('damaged');
    expect((await cli(s, ['show', rollback!], 0)).stdout).toMatch(
      /kept DAMAGED: it failed integrity_check when a restore replaced it \(integrity_check stopped: .*\); restoring it puts it back damaged/,
    );
    // and the menu's details of that set, in both languages
    const kept = parseJsonOutput<Manifest>((await cli(s, ['show', rollback!, '--json'], 0)).stdout);
    const details = (lang: 'en' | 'es') =>
      manifestLines(kept, { t: catalogue(lang), theme: createTheme({ LANG: 'C.UTF-8' }), lang }, null)
        .map((l) => l.text)
        .join('\n');
    expect(details('en')).toContain('kept DAMAGED: it failed integrity_check when a restore replaced it');
    expect(details('es')).toContain('guardada DAÑADA: no pasaba integrity_check');

    const back = await cli(s, ['restore', rollback!, '--db', 'users', '--yes'], 0);
    expect(back.stderr).toContain('restored as it was when it was replaced: it failed integrity_check then');
    // the damaged page is back (the safety copy is SQLite's page copy: its header counters differ from the file's)
    const pageSize = damaged.readUInt16BE(16);
    const page2 = (b: Buffer) => b.subarray(pageSize, 2 * pageSize);
    expect(page2(readFileSync(live)).equals(page2(damaged))).toBe(true);
    expect((await inspect(live)).integrity[0]).toMatch(/^integrity_check stopped/);
    // a drill of that safety set fails: it is not a sound backup
    const drill = await runCli(['drill', rollback!, '--config', s.configFile], { cwd: s.dir });
    expect(drill.code, describeResult(drill)).not.toBe(0);
  });

  it('alone in the config: the create fails (exit 7) and no set is published', async () => {
    const s = demoSetup((c) => ({
      ...c,
      databases: [{ name: 'broken', path: './data/broken.db' }],
      files: undefined,
    }));
    brokenIndexDb(join(s.dataDir, 'broken.db'), 20000);
    const r = await cli(s, ['create'], 7);
    expect(r.stdout + r.stderr).toContain('failed integrity_check');
    const listed = parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--json'], 0)).stdout);
    expect(listed).toEqual([]);
    expect(readdirSync(s.backupDir).filter((n) => /^\d{8}_/.test(n))).toEqual([]);
    expect(leftovers(s.backupDir)).toEqual([]);
  });
});
