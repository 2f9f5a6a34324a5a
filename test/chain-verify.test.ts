import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { Manifest } from '../src/core/types.js';
import { engineJobRunner } from '../src/scheduler/run-job.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { FakeReporter } from './helpers/reporter.js';
import { execSql } from './helpers/sqlite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

/** node:zlib's zstd (Node 24), which this @types/node does not declare yet. */
const { zstdCompressSync, zstdDecompressSync } = zlib as unknown as Record<
  'zstdCompressSync' | 'zstdDecompressSync',
  (b: Buffer) => Buffer
>;

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

async function create(s: DemoSetup, type: string): Promise<Manifest> {
  return parseJsonOutput<Manifest>(
    (await cli(s, ['create', '--type', type, '--db', 'users', '--no-files', '--json'])).stdout,
  );
}

/** Changes one byte of `file` in its middle (its size stays). */
function flip(file: string): void {
  const b = readFileSync(file);
  b[b.length >> 1]! ^= 0x20;
  writeFileSync(file, b);
}

describe('verify --chain', () => {
  it('hashes the whole chain when a member failed an earlier verification and was repaired since', async () => {
    const s = demoSetup();
    const full = await create(s, 'full');
    execSql(s.dbs.users, 'CREATE TABLE a (x); INSERT INTO a VALUES (1);');
    const middle = await create(s, 'incremental');
    execSql(s.dbs.users, 'INSERT INTO a VALUES (2);');
    const last = await create(s, 'incremental');

    // The middle set is found damaged, then repaired from a good copy (as from an off-site copy).
    const stored = join(s.backupDir, middle.id, middle.databases[0]!.file!);
    copyFileSync(stored, join(s.dir, 'good'));
    flip(stored);
    await cli(s, ['verify', middle.id], 5);
    copyFileSync(join(s.dir, 'good'), stored);
    // Meanwhile the full under it was damaged, its size unchanged.
    flip(join(s.backupDir, full.id, full.databases[0]!.file!));

    const r = await cli(s, ['verify', '--chain', last.id, '--json'], 5);
    const out = JSON.parse(r.stdout) as { ok: boolean; chain: string[]; sets: { setId: string; ok: boolean }[] };
    expect(out.chain).toEqual([full.id, middle.id, last.id]);
    expect(out.sets.find((x) => x.setId === full.id)?.ok).toBe(false);
    expect(out.ok).toBe(false);
    const text = await cli(s, ['verify', '--chain', last.id], 5);
    expect(text.stdout).toContain(`Chain of ${last.id}: ${full.id} → ${middle.id} → ${last.id}`);
    expect(text.stdout).toMatch(new RegExp(`${full.id}: FAILED`));
  });
});

describe('a SQLite incremental whose page map alone is missing', () => {
  it('verifies and restores with a warning naming the map; the next incremental is a differential on the full, saying why', async () => {
    const s = demoSetup();
    const full = await create(s, 'full');
    execSql(s.dbs.users, 'CREATE TABLE a (x); INSERT INTO a VALUES (1);');
    const inc = await create(s, 'incremental');
    const entry = inc.databases[0]!;
    const map = entry.extras!.find((x) => x.role === 'pagemap')!.file;
    rmSync(join(s.backupDir, inc.id, map));
    execSql(s.dbs.users, 'INSERT INTO a VALUES (2);');

    // Still in the manifest and gone: verify names it, as a warning, and the set is not called damaged
    const v = await cli(s, ['verify', inc.id]);
    expect(v.stdout).toContain(`${inc.id}: OK (2 file(s) checked)`);
    expect(v.stderr).toContain(
      `${map}: missing; only a differential or incremental of users made on this set reads it`,
    );
    const json = parseJsonOutput<{ ok: boolean; warnings: string[]; files: { path: string; ok: boolean }[] }>(
      (await cli(s, ['verify', inc.id, '--json'])).stdout,
    );
    expect(json.ok).toBe(true);
    expect(json.warnings).toEqual([expect.stringContaining(`${map}: missing;`)]);
    expect(json.files.find((f) => f.path === map)).toMatchObject({ ok: false });
    await cli(s, ['verify', '--chain', inc.id]);

    const to = join(s.dir, 'restored.db');
    await cli(s, ['restore', inc.id, '--db', 'users', '--to', to, '--yes']);
    const db = new Database(to, { readonly: true });
    expect(db.prepare('SELECT x FROM a ORDER BY x').all()).toEqual([{ x: 1 }]);
    db.close();
    await cli(s, ['restore', 'latest', '--db', 'users', '--to', join(s.dir, 'latest.db'), '--yes']);

    const why =
      `the newest backup of users (${inc.id}) cannot be a base: ` +
      `stored file ${map} is missing (only a backup made on this set reads it; the set restores without it)`;
    const dry = await cli(s, ['create', '--type', 'incremental', '--db', 'users', '--no-files', '--dry-run']);
    expect(dry.stdout).toContain('Would create a differential backup set');
    expect(dry.stdout).toContain(`differential on set ${full.id} (not an incremental: ${why})`);
    const said = await cli(s, ['create', '--type', 'incremental', '--db', 'users', '--no-files']);
    const note = `users: stored as a differential on the full ${full.id}, not an incremental: ${why}`;
    expect(said.stdout.replace(/\n\s+/g, ' ')).toContain(`note: ${note}`);
    const id = /\d{8}_\d{6}(?:_\d+)?/.exec(said.stdout)![0];
    const next = parseJsonOutput<Manifest>((await cli(s, ['show', id, '--json'])).stdout);
    expect(next).toMatchObject({ type: 'differential', requestedType: 'incremental', base: full.id });
    expect(next.databases[0]).toMatchObject({ format: 'sqlite-pages', base: full.id });
    expect(next.chainNotes).toEqual([note]);
    const back = join(s.dir, 'next.db');
    await cli(s, ['restore', next.id, '--db', 'users', '--to', back, '--yes']);
    const nextDb = new Database(back, { readonly: true });
    expect(nextDb.prepare('SELECT x FROM a ORDER BY x').all()).toEqual([{ x: 1 }, { x: 2 }]);
    nextDb.close();
    // The chain goes on from it: the incremental after it is one
    execSql(s.dbs.users, 'INSERT INTO a VALUES (3);');
    const dryNext = await cli(s, ['create', '--type', 'incremental', '--db', 'users', '--no-files', '--dry-run']);
    expect(dryNext.stdout).toContain('Would create an incremental backup set');
    expect(await create(s, 'incremental')).toMatchObject({ type: 'incremental', base: next.id });

    // A data file of the chain missing is still damage
    rmSync(join(s.backupDir, inc.id, entry.file!));
    expect((await cli(s, ['verify', inc.id], 5)).stdout).toContain(`${entry.file}: missing`);
    await cli(s, ['restore', inc.id, '--db', 'users', '--to', join(s.dir, 'again.db'), '--yes'], 5);
  });
});

describe('the scheduled verification', () => {
  const job = { name: 'verify', when: 'daily at 01:00', type: 'verify' as const, databases: ['users'], files: false };
  const runJob = async (s: DemoSetup) =>
    engineJobRunner(await loadConfig({ configPath: s.configFile }))(job, {
      signal: new AbortController().signal,
      reporter: new FakeReporter(),
      reason: 'scheduled',
    });

  it('hashes the chain of the newest set: a damaged full under the newest incremental fails it', async () => {
    const s = demoSetup();
    const full = await create(s, 'full');
    execSql(s.dbs.users, 'CREATE TABLE a (x); INSERT INTO a VALUES (1);');
    const inc = await create(s, 'incremental');
    expect(await runJob(s)).toMatchObject({ outcome: 'verified', setIds: [inc.id] });
    const stored = full.databases[0]!.file!;
    flip(join(s.backupDir, full.id, stored));
    const r = await runJob(s);
    expect(r.outcome).toBe('verify-failed');
    expect(r.error).toContain(`${full.id}: ${stored} md5 mismatch`);
    expect(r.error).toContain(`${inc.id}: chain broken: users in set ${full.id} (needed by ${inc.id})`);
  });

  it('a newest incremental whose base was deleted by hand fails it, naming the missing set', async () => {
    const s = demoSetup();
    const full = await create(s, 'full');
    execSql(s.dbs.users, 'CREATE TABLE a (x); INSERT INTO a VALUES (1);');
    const inc = await create(s, 'incremental');
    rmSync(join(s.backupDir, full.id), { recursive: true });
    const r = await runJob(s);
    expect(r.outcome).toBe('verify-failed');
    expect(r.error).toBe(
      `${inc.id}: chain broken: set ${full.id} (needed by ${inc.id}) is missing (pruned or deleted)`,
    );
  });
});

describe('verify ID and verify --all', () => {
  it('a set whose own files match but whose base was deleted by hand is not OK: the chain is named, exit 5', async () => {
    const s = demoSetup();
    const full = await create(s, 'full');
    execSql(s.dbs.users, 'CREATE TABLE a (x); INSERT INTO a VALUES (1);');
    const middle = await create(s, 'incremental');
    execSql(s.dbs.users, 'INSERT INTO a VALUES (2);');
    const last = await create(s, 'incremental');
    rmSync(join(s.backupDir, middle.id), { recursive: true });

    const broken = `chain BROKEN: set ${middle.id} (needed by ${last.id}) is missing (pruned or deleted)`;
    const all = await cli(s, ['verify', '--all'], 5);
    expect(all.stdout).toContain(`${last.id}: OK (`);
    expect(all.stdout).toContain(`${broken} (respaldo verify --chain ${last.id})`);
    expect(all.stdout).not.toMatch(new RegExp(`${full.id}: OK \\(.*\\n  chain`));
    expect((await cli(s, ['verify', 'latest'], 5)).stdout).toContain(broken);
    const json = JSON.parse((await cli(s, ['verify', last.id, '--json'], 5)).stdout) as {
      ok: boolean;
      chainProblems?: string[];
    };
    expect(json).toMatchObject({ ok: true, chainProblems: [broken.replace('chain BROKEN: ', '')] });
    // the full alone is whole
    await cli(s, ['verify', full.id]);
  });
});

describe('prune --dry-run of a broken chain', () => {
  it('says restore latest takes an older set only when one restores, and so does the refusal of restore latest', async () => {
    const s = demoSetup();
    const full = await create(s, 'full');
    execSql(s.dbs.users, 'CREATE TABLE a (x); INSERT INTO a VALUES (1);');
    const middle = await create(s, 'incremental');
    execSql(s.dbs.users, 'INSERT INTO a VALUES (2);');
    const last = await create(s, 'incremental');
    rmSync(join(s.backupDir, middle.id), { recursive: true });
    const older = (await cli(s, ['prune', '--dry-run'])).stdout;
    expect(older).toContain(`so ${last.id} cannot be restored (restore latest takes an older set;`);

    // The full gone too: no set of users restores, and restore latest indeed refuses.
    rmSync(join(s.backupDir, full.id), { recursive: true });
    const none = (await cli(s, ['prune', '--dry-run'])).stdout;
    expect(none).toContain(
      `so ${last.id} cannot be restored, and no older set restores its databases (\`respaldo create --type full\` makes one now)`,
    );
    expect(none).not.toContain('takes an older set');
    const refused = await cli(s, ['restore', 'latest', '--db', 'users', '--to', join(s.dir, 'x.db'), '--yes'], 9);
    // Its hint does not send the operator to older sets that do not restore either.
    expect(refused.stderr).toContain('no older set here restores users either');
    expect(refused.stderr).not.toContain('restore an older set');
  });
});

describe('a SQLite incremental whose page map is of its size but altered', () => {
  it('verify warns naming it; the next incremental is a differential on the full, saying why', async () => {
    const s = demoSetup();
    const full = await create(s, 'full');
    execSql(s.dbs.users, 'CREATE TABLE a (x); INSERT INTO a VALUES (1);');
    const inc = await create(s, 'incremental');
    const map = inc.databases[0]!.extras!.find((x) => x.role === 'pagemap')!.file;
    flip(join(s.backupDir, inc.id, map)); // by hand: its size stays, readChainSets sees nothing
    execSql(s.dbs.users, 'INSERT INTO a VALUES (2);');

    const v = await cli(s, ['verify', inc.id]);
    expect(v.stdout).toContain(`${inc.id}: OK (2 file(s) checked)`);
    expect(v.stderr.replace(/\n\s+/g, ' ')).toContain(
      `${map}: md5 mismatch (content changed); only a differential or incremental of users made on this set reads ` +
        'it (the next incremental is a differential on the full instead): the set restores without it',
    );

    const why =
      `the newest backup of users (${inc.id}) cannot be a base: stored file ${map} does not match its manifest ` +
      '(only a backup made on this set reads it; the set restores without it)';
    const dry = await cli(s, ['create', '--type', 'incremental', '--db', 'users', '--no-files', '--dry-run']);
    expect(dry.stdout).toContain(`differential on set ${full.id} (not an incremental: ${why})`);
    const next = await create(s, 'incremental');
    expect(next).toMatchObject({ type: 'differential', requestedType: 'incremental', base: full.id });
    expect(next.databases[0]).toMatchObject({ format: 'sqlite-pages', base: full.id });
    expect(next.chainNotes).toEqual([
      `users: stored as a differential on the full ${full.id}, not an incremental: ${why}`,
    ]);
    const to = join(s.dir, 'next.db');
    await cli(s, ['restore', next.id, '--db', 'users', '--to', to, '--yes']);
    const db = new Database(to, { readonly: true });
    expect(db.prepare('SELECT x FROM a ORDER BY x').all()).toEqual([{ x: 1 }, { x: 2 }]);
    db.close();
  });
});

describe('a SQLite incremental whose page map matches its manifest but cannot be read', () => {
  it('the next incremental is a differential on the full, saying why, not a full', async () => {
    const s = demoSetup();
    const full = await create(s, 'full');
    execSql(s.dbs.users, 'CREATE TABLE a (x); INSERT INTO a VALUES (1);');
    const inc = await create(s, 'incremental');
    const extra = inc.databases[0]!.extras!.find((x) => x.role === 'pagemap')!;
    const path = join(s.backupDir, inc.id, extra.file);
    // A map of another version (as a newer respaldo might write), stored and recorded as a backup would: its hashes
    // in the manifest are its own, so nothing but reading it tells.
    const map = zstdDecompressSync(readFileSync(path));
    map.writeUInt32BE(2, 8);
    const stored = zstdCompressSync(map);
    writeFileSync(path, stored);
    const manifestFile = join(s.backupDir, inc.id, 'manifest.json');
    const m = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    Object.assign(
      m.databases[0]!.extras!.find((x) => x.role === 'pagemap')!,
      {
        storedBytes: stored.length,
        md5: createHash('md5').update(stored).digest('hex'),
        sha256: createHash('sha256').update(stored).digest('hex'),
      },
    );
    writeFileSync(manifestFile, JSON.stringify(m, null, 2));
    execSql(s.dbs.users, 'INSERT INTO a VALUES (2);');

    const why =
      `the newest backup of users (${inc.id}) cannot be a base: stored file ${extra.file} matches its manifest but ` +
      "cannot be read (A stored SQLite page map is damaged or not respaldo's.) (only a backup made on this set " +
      'reads it; the set restores without it)';
    const dry = await cli(s, ['create', '--type', 'incremental', '--db', 'users', '--no-files', '--dry-run']);
    expect(dry.stdout.replace(/\n\s+/g, ' ')).toContain(`differential on set ${full.id} (not an incremental: ${why})`);
    const next = await create(s, 'incremental');
    expect(next).toMatchObject({ type: 'differential', requestedType: 'incremental', base: full.id });
    expect(next.databases[0]).toMatchObject({ format: 'sqlite-pages', base: full.id });
    expect(next.databases[0]!.details?.['chainFallback']).toBeUndefined();
    expect(next.chainNotes).toEqual([
      `users: stored as a differential on the full ${full.id}, not an incremental: ${why}`,
    ]);
    const to = join(s.dir, 'next.db');
    await cli(s, ['restore', next.id, '--db', 'users', '--to', to, '--yes']);
    const db = new Database(to, { readonly: true });
    expect(db.prepare('SELECT x FROM a ORDER BY x').all()).toEqual([{ x: 1 }, { x: 2 }]);
    db.close();
  });
});
