/**
 * A restore of the files alone from a local set opens each stored file once: it is checked against its manifest as
 * it is read and decoded (strace counts the opens), where it was hashed in a pass of its own before. One damaged
 * among many, a small one (hashed before it is decoded) or the large one (found at its end, most of it decoded by
 * then), fails the restore with exit 5 and leaves the target as it was: the empty folder named by --to stays empty,
 * no partial folder is left beside it, and the set is recorded as failing its verification. With a database in the
 * restore, a damaged stored file is still found before the database is replaced.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { CLI_BIN, childEnv, collect, describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expected: number) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, describeResult(r)).toBe(expected);
  return r;
}

/** A set of users and an uploads folder: 300 small files (text, random bytes), an empty one, one of 3 MiB. */
async function uploadsSet(s: DemoSetup): Promise<{ m: Manifest; files: Map<string, Buffer> }> {
  const uploads = join(s.dataDir, 'uploads');
  const files = new Map<string, Buffer>();
  for (let i = 0; i < 300; i++)
    files.set(`d${i % 6}/f${i}.bin`, i % 2 ? randomBytes(500 + i * 10) : Buffer.from(`line ${i}\n`.repeat(i)));
  files.set('empty.txt', Buffer.alloc(0));
  files.set('big.bin', Buffer.concat([randomBytes(1 << 20), Buffer.from('text\n'.repeat(400_000))]));
  for (const [name, bytes] of files) {
    mkdirSync(dirname(join(uploads, name)), { recursive: true });
    writeFileSync(join(uploads, name), bytes);
  }
  const made = await cli(s, ['create', '--json', '--db', 'users'], 0);
  return { m: parseJsonOutput<Manifest>(made.stdout), files };
}

const filesConfig = { files: { config: [], application: [{ path: './data/uploads' }] } };

/** Flips a byte in the middle of a stored file (its size unchanged); returns its bytes as they were. */
function damage(s: DemoSetup, m: Manifest, relative: string): { path: string; bytes: Buffer } {
  const path = join(s.backupDir, m.id, m.files.find((f) => f.relative === relative)!.stored!);
  const bytes = readFileSync(path);
  const changed = Buffer.from(bytes);
  changed[changed.length >> 1]! ^= 0xff;
  writeFileSync(path, changed);
  return { path, bytes };
}

const partials = (s: DemoSetup) => readdirSync(s.dir).filter((n) => n.includes('respaldo-partial'));

describe('a restore of the files alone', () => {
  it('opens each stored file once and restores every file whole', async () => {
    const s = demoSetup(filesConfig);
    const { m, files } = await uploadsSet(s);
    const to = join(s.dir, 'restored');
    const trace = join(s.dir, 'opens.txt');
    const args = ['restore', m.id, '--files', '--to', to, '--yes', '--config', s.configFile];
    const strace = ['-f', '-qq', '-e', 'trace=openat', '-o', trace, process.execPath, CLI_BIN, ...args];
    const traced = spawn('strace', strace, { cwd: s.dir, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const r = await collect(traced);
    expect(r.code, describeResult(r)).toBe(0);
    const opened = new Map<string, number>();
    for (const line of readFileSync(trace, 'utf8').split('\n')) {
      const path = /openat\(AT_FDCWD, "([^"]+)", O_RDONLY/.exec(line)?.[1];
      if (path) opened.set(path, (opened.get(path) ?? 0) + 1);
    }
    const stored = m.files.filter((f) => f.stored).map((f) => join(s.backupDir, m.id, f.stored!));
    expect(stored).toHaveLength(files.size);
    const notOnce = stored.filter((p) => opened.get(p) !== 1).map((p) => `${p}: ${opened.get(p) ?? 0}`);
    expect(notOnce).toEqual([]);
    for (const [name, bytes] of files)
      expect(readFileSync(join(to, 'application', 'uploads', name)).equals(bytes), name).toBe(true);
    // The plan says so.
    const plan = await cli(s, ['restore', m.id, '--files', '--dry-run'], 0);
    expect(plan.stdout).toContain('each is checked against the manifest (sha256) as the restore reads it');
  });

  it('one damaged stored file among many, small or large: exit 5, the target as it was, nothing left', async () => {
    const s = demoSetup(filesConfig);
    const { m } = await uploadsSet(s);
    // An empty folder named by --to stays empty; one that was not there, in folders that were not either, is not made.
    const empty = join(s.dir, 'restored');
    mkdirSync(empty);
    for (const [victim, to] of [
      ['uploads/d3/f153.bin', empty],
      ['uploads/big.bin', join(s.dir, 'new', 'place')],
    ] as const) {
      const { path, bytes } = damage(s, m, victim);
      const r = await cli(s, ['restore', m.id, '--files', '--to', to, '--yes'], 5);
      expect(r.stderr).toContain(`${victim}.zst does not match its manifest (sha256)`);
      expect(readdirSync(s.dir).sort(), victim).toEqual(['backup_config.json', 'backups', 'data', 'restored']);
      expect(readdirSync(empty), victim).toEqual([]);
      writeFileSync(path, bytes);
    }
    const listed = parseJsonOutput<{ id: string; lastVerified?: { ok: boolean } }[]>(
      (await cli(s, ['list', '--json'], 0)).stdout,
    );
    expect(listed.find((x) => x.id === m.id)?.lastVerified?.ok).toBe(false);
  });

  it('with a database: a damaged stored file is found before the database is replaced', async () => {
    const s = demoSetup(filesConfig);
    const { m } = await uploadsSet(s);
    const plan = await cli(s, ['restore', m.id, '--db', 'users', '--files', '--dry-run'], 0);
    expect(plan.stdout).toContain('1. verify the stored files against the manifest (md5 + sha256)');
    damage(s, m, 'uploads/d3/f153.bin');
    const users = dbDigest(s.dbs.users);
    const r = await cli(s, ['restore', m.id, '--db', 'users', '--files', '--yes'], 5);
    expect(r.stderr).toContain(`Set ${m.id} failed verification, nothing was restored`);
    expect(dbDigest(s.dbs.users)).toEqual(users);
    expect(partials(s)).toEqual([]);
  });
});
