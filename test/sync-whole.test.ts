/**
 * Many files are made durable by syncing their file system once (`sync -f`: syncfs) instead of an fsync each, on
 * Linux 5.8 and later: a create, a files restore and a fetch from a destination of SYNC_WHOLE_FROM files or more
 * (strace counts the fsyncs and the syncfs of the `sync` child); fewer files are fsynced one by one as before, and a
 * `sync` that fails leaves each file fsynced, the run completing all the same.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SYNC_WHOLE_FROM, syncsWhole } from '../src/engine/sync-whole.js';
import { CLI_BIN, childEnv, collect, describeResult, parseJsonOutput } from './helpers/cli.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

describe('syncsWhole (pure)', () => {
  it.each([
    [SYNC_WHOLE_FROM, 'linux', '5.8.0', true],
    [SYNC_WHOLE_FROM - 1, 'linux', '6.1.0-18-amd64', false],
    [100_000, 'linux', '6.18.44-fc-v1272', true],
    [100_000, 'linux', '5.10.0-28-amd64', true],
    [100_000, 'linux', '5.4.0-150-generic', false],
    [100_000, 'linux', '4.19.0', false],
    [100_000, 'linux', 'weird', false],
    [100_000, 'darwin', '23.1.0', false],
  ])('%d files on %s %s: %s', (files, platform, rel, whole) => {
    expect(syncsWhole(files, { platform, release: rel })).toBe(whole);
  });
});

/** What strace saw of a run: its exit, fsyncs (fsync, fdatasync) and syncfs calls. */
async function traced(
  s: DemoSetup,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string; fsyncs: number; syncfs: number }> {
  const trace = join(s.dir, `trace-${Date.now()}.txt`);
  const strace = ['-f', '-qq', '-e', 'trace=fsync,fdatasync,syncfs', '-o', trace, process.execPath, CLI_BIN, ...args];
  const r = await collect(
    spawn('strace', strace, { cwd: s.dir, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  expect(r.code, describeResult(r)).toBe(0);
  const lines = readFileSync(trace, 'utf8').split('\n');
  // A call's line (`fsync(5) = 0`, or `fsync(5 <unfinished ...>` when another thread's call came between).
  const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
  return {
    code: r.code,
    stdout: r.stdout,
    stderr: r.stderr,
    fsyncs: count(/ f(data)?sync\(/),
    syncfs: count(/ syncfs\(/),
  };
}

/** An uploads folder of `n` small files in the demo setup. */
function uploads(s: DemoSetup, n: number): void {
  for (let i = 0; i < n; i++) {
    const dir = join(s.dataDir, 'uploads', `d${i % 20}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.txt`), `upload ${i}\n`);
  }
}

const whole = syncsWhole(SYNC_WHOLE_FROM);
const config = {
  databases: [],
  files: { config: [], application: [{ path: './data/uploads' }] },
  // Copied by hand (untraced): a folder destination fsyncs each file it writes before renaming it.
  destinations: [{ name: 'nas', type: 'folder', path: './nas', copyAfterBackup: false }],
};

// A kernel before 5.8 (or not Linux) keeps an fsync a file: nothing here to see, said loudly rather than passed.
if (!whole) console.warn(`SKIPPED sync-whole: Linux ${release()} fsyncs each file (syncfs from Linux 5.8 only)`);
describe.skipIf(!whole)(`many files synced whole (Linux ${release()})`, () => {
  it('create, restore --files and a fetch from a destination: one syncfs, not an fsync a file', async () => {
    const s = demoSetup(config);
    mkdirSync(join(s.dir, 'nas'));
    const n = SYNC_WHOLE_FROM + 200;
    uploads(s, n);
    const made = await traced(s, ['create', '--json', '--config', s.configFile]);
    const id = parseJsonOutput<{ id: string }>(made.stdout).id;
    expect(made.syncfs).toBe(1);
    // The manifest, the set's folders and the backup folder are fsynced on their own: far fewer than the files.
    expect(made.fsyncs).toBeLessThan(n / 4);
    const copied = await collect(
      spawn(process.execPath, [CLI_BIN, 'copy', id, '--config', s.configFile], { cwd: s.dir, env: childEnv() }),
    );
    expect(copied.code, describeResult(copied)).toBe(0);
    const to = join(s.dir, 'restored');
    const back = await traced(s, ['restore', id, '--files', '--to', to, '--yes', '--config', s.configFile]);
    expect(back.syncfs).toBe(1);
    expect(back.fsyncs).toBeLessThan(n / 4);
    expect(readFileSync(join(to, 'application', 'uploads', 'd7', 'f7.txt'), 'utf8')).toBe('upload 7\n');
    expect(readdirSync(join(to, 'application', 'uploads', 'd0'))).toHaveLength(n / 20);
    // The new-server day: the backup folder gone, the set fetched from nas (synced once), then restored (once more).
    const fresh = join(s.dir, 'from-nas');
    const far = await traced(s, [
      'restore',
      id,
      '--from',
      'nas',
      '--files',
      '--to',
      fresh,
      '--yes',
      '--config',
      s.configFile,
    ]);
    expect(far.syncfs).toBe(2);
    // Its fetched copy is removed after the result is said (seconds at this count): said too.
    expect(far.stdout).toMatch(/files restored into .*\n$/);
    expect(far.stderr).toContain(`Removing the copy of set ${id} fetched from "nas" (${n} files)…`);
    expect(far.fsyncs).toBeLessThan(n / 4);
    expect(readFileSync(join(fresh, 'application', 'uploads', 'd3', 'f1103.txt'), 'utf8')).toBe('upload 1103\n');
  });

  it('a few files: each fsynced, no syncfs; a `sync` that fails: each fsynced, the create completes', async () => {
    const s = demoSetup({ ...config, destinations: undefined });
    uploads(s, 40);
    const few = await traced(s, ['create', '--config', s.configFile]);
    expect(few.syncfs).toBe(0);
    expect(few.fsyncs).toBeGreaterThanOrEqual(40);
    uploads(s, SYNC_WHOLE_FROM);
    const bin = join(s.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'sync'), '#!/bin/sh\necho "sync: invalid option -- \'f\'" >&2\nexit 1\n');
    chmodSync(join(bin, 'sync'), 0o755);
    const failing = await traced(s, ['create', '--json', '--config', s.configFile], {
      PATH: `${bin}:${process.env['PATH'] ?? ''}`,
    });
    expect(failing.syncfs).toBe(0);
    expect(failing.fsyncs).toBeGreaterThanOrEqual(SYNC_WHOLE_FROM);
    const m = parseJsonOutput<{ status: string; files: unknown[] }>(failing.stdout);
    expect(m.status).toBe('completed');
    expect(m.files).toHaveLength(SYNC_WHOLE_FROM);
  });
});
