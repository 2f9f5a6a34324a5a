import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatLocal } from '../../src/core/format.js';
import { expect } from 'vitest';
import type { Manifest } from '../../src/core/types.js';
import { SEALED_SENT_JOURNAL } from '../../src/engine/copy-seal.js';
import type { RemoteSetSummary } from '../../src/engine/remote.js';
import { CLI_BIN, collect, describeResult, parseJsonOutput, runCli, startNode, type CliResult } from './cli.js';
import { S3RVER_KEY, s3Destination, type S3Server } from './s3rver.js';
import { dbDigest } from './sqlite.js';
import { demoSetup, type DemoSetup } from './tmp.js';

/** Helpers shared by the off-site copy tests. */

export const SECRET = 'S3RVER';

export async function cli(s: DemoSetup, args: string[], expectCode = 0, env: Record<string, string> = {}) {
  const r = await runCli([...args, '--config', s.configFile], {
    cwd: s.dir,
    env: { S3_KEY_ID: S3RVER_KEY, S3_SECRET_KEY: SECRET, ...env },
  });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

/** Every file below `dir` with its bytes, relative paths sorted. */
export function tree(dir: string, skip: (name: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (skip(e.name)) continue;
      if (e.isDirectory()) walk(p);
      else out[p] = readFileSync(join(dir, p)).toString('base64');
    }
  };
  walk('');
  return out;
}

/** A folder destination at `<dir>/nas` (created, as a mounted NAS would be, unless `mounted` is false). */
export const localFiles = (s: DemoSetup, id: string) =>
  tree(join(s.backupDir, id), (n) => n === 'copies.json' || n === 'verified.json');

/**
 * Backs up twice, loses the server's backups and users.db, and restores users from the destination: fetched, then
 * streamed (`--stream`) beside it. (Files streamed: offsite-memory from S3, offsite-fetch-faults from SFTP.)
 */
export async function newServerDay(s: DemoSetup, dest = 'nas'): Promise<void> {
  const before = dbDigest(s.dbs.users);
  await cli(s, ['create', '--db', 'inventario', '--no-files']);
  const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
  rmSync(s.backupDir, { recursive: true, force: true });
  rmSync(s.dbs.users, { force: true });
  for (const x of ['-wal', '-shm']) rmSync(s.dbs.users + x, { force: true });
  const listed = parseJsonOutput<RemoteSetSummary[]>((await cli(s, ['list', '--from', dest, '--json'])).stdout);
  expect(listed[0]!.id).toBe(m.id);
  expect(listed).toHaveLength(2);
  const text = await cli(s, ['list', '--from', dest]);
  expect(text.stdout).toContain(m.id);
  // dates in local time as `list` shows them, not the manifest's UTC text
  expect(text.stdout).toContain(formatLocal(m.startedAt));
  expect(text.stdout).not.toContain(m.startedAt);
  const r = await cli(s, ['restore', 'latest', '--from', dest, '--db', 'users', '--yes']);
  expect(r.stdout).toContain(`Set ${m.id} fetched from destination "${dest}"`);
  expect(dbDigest(s.dbs.users)).toEqual(before);
  expect(
    readdirSync(s.backupDir).filter(
      (n) => n.startsWith('.respaldo-') || n.startsWith('.tmp-') || n === '.temp-journal',
    ),
  ).toEqual([]);
  expect(readdirSync(s.backupDir).filter((n) => /^\d{8}_/.test(n))).toEqual([]); // nothing of the set kept locally

  // Streamed: no stored file of the set is written here at any point; each is checked as it is read.
  const side = join(s.dir, 'users-streamed.db');
  const streamed = await cli(s, ['restore', m.id, '--from', dest, '--db', 'users', '--stream', '--to', side, '--yes']);
  expect(streamed.stdout).toContain(
    `Set ${m.id} at destination "${dest}": its files are there with the sizes its manifest records; each is streamed into the restore and checked as it is read (--stream).`,
  );
  expect(dbDigest(side)).toEqual(before);
  expect(readdirSync(s.backupDir).filter((n) => /^\d{8}_/.test(n) || n.startsWith('.respaldo-'))).toEqual([]);
}

/** Adds a folder destination `nas` (in the setup folder) and the S3 server `srv` to the config; returns the folder. */
export function addFolderAndS3(s: DemoSetup, srv: S3Server): string {
  const nas = join(s.dir, 'nas');
  mkdirSync(nas);
  writeFileSync(
    s.configFile,
    JSON.stringify({
      ...JSON.parse(readFileSync(s.configFile, 'utf8')),
      destinations: [
        { name: 'nas', type: 'folder', path: nas, source: 'srv1', copyAfterBackup: false },
        s3Destination(srv, { forcePathStyle: true, source: 'srv1', copyAfterBackup: false }),
      ],
    }),
  );
  return nas;
}

/** After a run: nothing temporary left in the backup folder, and `secret` in none of its logs. */
export function expectNothingLeftNorLogged(s: DemoSetup, secret: string): void {
  const left = readdirSync(s.backupDir).filter((n) => n.startsWith('.respaldo-') || n.startsWith('.tmp-'));
  expect(left).toEqual([]);
  const logs = join(s.backupDir, 'logs');
  for (const f of existsSync(logs) ? readdirSync(logs) : [])
    expect(readFileSync(join(logs, f), 'utf8')).not.toContain(secret);
}

/**
 * Runs the CLI and returns its peak RSS in MiB (VmHWM of /proc/self/status, written at exit). Not
 * `process.resourceUsage().maxRSS`: Linux keeps that across exec, so a child of the test's worker reported the
 * worker's own size (312 MiB for every run, whatever it did).
 */
export async function peakRss(s: DemoSetup, args: string[], expectCode = 0): Promise<number> {
  const { mib, r } = await peakRssOf(s, args);
  expect(r.code, describeResult(r)).toBe(expectCode);
  return mib;
}

/** peakRss, with what the CLI said, whatever its exit code. */
export async function peakRssOf(s: DemoSetup, args: string[]): Promise<{ mib: number; r: CliResult }> {
  const preload = join(s.dir, 'max-rss.mjs');
  const out = join(s.dir, 'max-rss.txt');
  writeFileSync(
    preload,
    `import { readFileSync, writeFileSync } from 'node:fs';\n` +
      `process.on('exit', () => writeFileSync(${JSON.stringify(out)}, ` +
      `/VmHWM:\\s*(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]));\n`,
  );
  const r = await collect(
    startNode(['--import', preload, CLI_BIN, ...args, '--config', s.configFile], {
      cwd: s.dir,
      env: { S3_KEY_ID: S3RVER_KEY, S3_SECRET_KEY: SECRET },
    }),
  );
  return { mib: Number(readFileSync(out, 'utf8')) / 1024, r };
}

/** A set of the three demo databases copied to folder destination `nas`, the local backups then lost. */
export async function copiedAway(
  s: DemoSetup,
  patch: Record<string, unknown> = {},
): Promise<{ m: Manifest; nas: string }> {
  const nas = withNas(s, patch);
  const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--no-files', '--json'])).stdout);
  rmSync(s.backupDir, { recursive: true, force: true });
  return { m, nas };
}

/** Adds folder destination `nas` (`<dir>/nas`, made; source srv1) and `patch` to the config of `s`; its path. */
export function withNas(s: DemoSetup, patch: Record<string, unknown> = {}): string {
  const nas = join(s.dir, 'nas');
  mkdirSync(nas);
  const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(
    s.configFile,
    JSON.stringify({ ...doc, ...patch, destinations: [{ name: 'nas', type: 'folder', path: nas, source: 'srv1' }] }),
  );
  return nas;
}

/** Changes one byte in the middle of `file`; its size stays (a listing shows nothing wrong). */
export function flipMiddle(file: string): void {
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1]! ^= 0x40;
  writeFileSync(file, bytes);
}

/** Nothing of a fetch, a scratch folder or a set is left in backupDir (the logs only; a dry run makes none). */
export function nothingLeft(s: DemoSetup): void {
  const left = existsSync(s.backupDir) ? readdirSync(s.backupDir) : [];
  expect(left.filter((n) => n !== 'logs')).toEqual([]);
}

/**
 * A full set then an incremental of `users` (no files), each copied after it is made to the folder destination
 * `nas` (`./nas`, source srv1): the setup, both manifests, and where each set is here and there.
 */
export async function fullThenIncremental() {
  const s = demoSetup();
  const config = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  config['destinations'] = [{ name: 'nas', type: 'folder', path: './nas', source: 'srv1' }];
  writeFileSync(s.configFile, JSON.stringify(config, null, 2));
  mkdirSync(join(s.dir, 'nas'));
  const create = async (type: string) =>
    parseJsonOutput<Manifest>(
      (await cli(s, ['create', '--type', type, '--db', 'users', '--no-files', '--json'])).stdout,
    );
  const full = await create('full');
  const inc = await create('incremental');
  expect(inc.databases[0]!.base).toBe(full.id);
  return {
    s,
    full,
    inc,
    here: (id: string) => join(s.backupDir, id),
    there: (id: string) => join(s.dir, 'nas', 'srv1', id),
  };
}

/**
 * The paths the record of an encrypted copy (SEALED_SENT_JOURNAL in the set folder `dir`) says were sent to
 * `destination`, in the order recorded; lines cut short skipped.
 */
export function sealedSentPaths(dir: string, destination: string): string[] {
  const file = join(dir, SEALED_SENT_JOURNAL);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        const x = JSON.parse(line) as { destination?: string; path?: string };
        return x.destination === destination && x.path ? [x.path] : [];
      } catch {
        return [];
      }
    });
}
