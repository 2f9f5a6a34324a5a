import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import {
  cliCommandLine,
  describeResult,
  parseJsonOutput,
  runCli,
  runShell,
  startCli,
  waitFor,
  type CliResult,
} from './helpers/cli.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup, writeConfig, type DemoSetup } from './helpers/tmp.js';

/**
 * Output through a pipe read slowly (`respaldo list --json | jq` on a busy machine) must arrive
 * whole: no command may end before stdout and stderr are flushed. A pipe holds 64 KiB; every
 * output checked here is well over that.
 */
const BIG = 100 * 1024;

/**
 * Runs the CLI with stdout and stderr on pipes that are not read until the child has ended or this
 * side has buffered what it holds (from then on a writer that waits for its reader is blocked).
 * The listeners are attached first and the streams paused: Node resumes a child's streams when it
 * exits, and whatever arrives then must still be collected (and 'end' must not be missed).
 */
async function runSlowlyRead(args: string[], cwd: string): Promise<CliResult> {
  const child = startCli(args, { cwd });
  const collect = (s: NodeJS.ReadableStream & { readableLength: number; readableHighWaterMark: number }) => {
    let acc = '';
    const done = new Promise<string>((resolve) => s.once('end', () => resolve(acc)));
    s.setEncoding('utf8');
    s.on('data', (d: string) => (acc += d));
    s.pause();
    return done;
  };
  const out = child.stdout!;
  const err = child.stderr!;
  const texts = Promise.all([collect(out), collect(err)]);
  const exit = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (c, s) => resolve([c, s])),
  );
  let exited = false;
  void exit.then(() => (exited = true));
  const full = (s: typeof out) => s.readableLength >= s.readableHighWaterMark;
  try {
    await waitFor(() => exited || full(out) || full(err), 'the child to end or fill the pipe', 60_000, 5);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  out.resume();
  err.resume();
  const [[stdout, stderr], [code, signal]] = await Promise.all([texts, exit]);
  return { code, signal, stdout, stderr };
}

/** The set id of a time (UTC). */
const idAt = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace(/-|:/g, '').replace('T', '_');

/** Adds `count` copies of the set `id` (same content, new ids a minute apart from 2020-01-01). */
function cloneSet(backupDir: string, id: string, count: number, from: number, type: Manifest['type'] = 'full'): void {
  const src = join(backupDir, id);
  const manifest = readFileSync(join(src, 'manifest.json'), 'utf8');
  for (let i = 0; i < count; i++) {
    const at = new Date(from + i * 60_000);
    const iso = at.toISOString();
    const newId = idAt(at.getTime());
    const dst = join(backupDir, newId);
    mkdirSync(dst, { mode: 0o700 });
    for (const sub of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
      if (sub === 'manifest.json') continue;
      if (statSync(join(src, sub)).isDirectory()) mkdirSync(join(dst, sub), { recursive: true, mode: 0o700 });
      else cpSync(join(src, sub), join(dst, sub.replaceAll(id, newId)));
    }
    const m = JSON.parse(manifest.replaceAll(id, newId)) as Manifest;
    m.type = type;
    m.startedAt = iso;
    m.completedAt = new Date(at.getTime() + 1000).toISOString();
    writeFileSync(join(dst, 'manifest.json'), JSON.stringify(m, null, 2), { mode: 0o600 });
  }
}

/** An application folder of `n` small files with long names (a manifest entry each). */
function manyFiles(dir: string, n: number): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    writeFileSync(join(dir, `document-with-a-rather-long-name-${String(i).padStart(5, '0')}.txt`), `file ${i}\n`);
  }
}

function parseLines(text: string): unknown[] {
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
}

describe('output through a slowly read pipe is never cut', () => {
  let root = '';
  let s: DemoSetup;
  let bigSet = '';
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'respaldo-piped-'));
    s = writeConfig(root, (c) => ({
      ...c,
      databases: (c.databases as object[]).slice(0, 1),
      files: { config: [], application: [{ path: './data/many', include: ['**'] }] },
    }));
    manyFiles(join(s.dataDir, 'many'), 1500);
    // The ids are read from the folder, not from stdout: the fixture must not depend on what is tested.
    const sets = () => readdirSync(s.backupDir).filter((n) => /^\d{8}_\d{6}/.test(n));
    const big = await runCli(['create', '--config', s.configFile], { cwd: s.dir });
    expect(big.code, describeResult(big)).toBe(0);
    bigSet = sets()[0]!;
    const small = await runCli(['create', '--no-files', '--config', s.configFile], { cwd: s.dir });
    expect(small.code, describeResult(small)).toBe(0);
    const smallId = sets().find((n) => n !== bigSet)!;
    cloneSet(s.backupDir, smallId, 1500, Date.UTC(2020, 0, 1));
    // Safety sets are listed one by one by status.
    cloneSet(s.backupDir, smallId, 300, Date.UTC(2021, 0, 1), 'pre_restore');
    // Folders of killed runs are listed one by one by status.
    for (let i = 0; i < 6000; i++) mkdirSync(join(s.backupDir, `.tmp-${idAt(Date.UTC(2019, 0, 1) + i * 1000)}`));
  }, 300_000);
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runSlowlyRead([...args, '--config', s.configFile], s.dir);

  it('list --json: every set', async () => {
    const r = await cli('list', '--json');
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(BIG);
    expect(parseJsonOutput<unknown[]>(r.stdout)).toHaveLength(1802);
  });

  it('list: every row and the count line', async () => {
    const r = await cli('list');
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(BIG);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^1802 set\(s\) in /);
  });

  it.each([['show'], ['verify']])('%s --json of a set with 1500 files', async (cmd) => {
    const r = await cli(cmd, bigSet, '--json');
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(BIG);
    const doc = parseJsonOutput<{ files?: unknown[] }>(r.stdout);
    if (cmd === 'show') expect(doc.files).toHaveLength(1500);
  });

  it('show of a set with 1500 files: the text goes to the last line', async () => {
    const r = await cli('show', bigSet);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(BIG);
    expect(r.stdout).toContain('document-with-a-rather-long-name-01499.txt');
  });

  it.each([[['status', '--json']], [['status']]])('%j: every safety set and leftover', async (args) => {
    const r = await cli(...args);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(BIG);
    if (args.includes('--json')) {
      const st = parseJsonOutput<{ leftovers: string[]; safetySets: string[] }>(r.stdout);
      expect(st.leftovers).toHaveLength(6000);
      expect(st.safetySets).toHaveLength(300);
    } else expect(r.stdout).toContain(`.tmp-${idAt(Date.UTC(2019, 0, 1) + 5999 * 1000)}`);
  });

  it.each([[['prune', '--dry-run', '--json']], [['prune', '--dry-run']]])('%j: every set', async (args) => {
    const r = await cli(...args);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(BIG);
    const json = args.includes('--json');
    if (json) expect(parseJsonOutput<{ sets: unknown[] }>(r.stdout).sets.length).toBeGreaterThan(1000);
    else expect(r.stdout).toMatch(/set\(s\) would be removed, \d+ kept\.\n/);
  });
});

describe('create --json through slowly read pipes', () => {
  it('stdout carries the whole manifest and stderr every warning line', async () => {
    const s = demoSetup((c) => ({
      ...c,
      databases: (c.databases as object[]).slice(0, 1),
      files: { config: [], application: [{ path: './data/many', include: ['**'] }] },
    }));
    const many = join(s.dataDir, 'many');
    manyFiles(many, 1500);
    // Each FIFO is skipped with a warning: one JSON line on stderr.
    const fifos = Array.from({ length: 1200 }, (_, i) => join(many, `a-named-pipe-that-is-not-a-file-${i}`));
    execFileSync('mkfifo', fifos);
    const r = await runSlowlyRead(['create', '--json', '--config', s.configFile], s.dir);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(BIG);
    expect(r.stderr.length).toBeGreaterThan(BIG);
    expect(parseJsonOutput<Manifest>(r.stdout).files).toHaveLength(1500);
    const lines = parseLines(r.stderr) as { type: string }[];
    expect(lines).toHaveLength(1200);
    expect(lines.every((l) => l.type === 'warning')).toBe(true);
  });
});

describe('stdout on a full disk (`> file` where there is no room left)', () => {
  it('list --json exits 7 saying the output is incomplete: it exited 0 with the file empty', async () => {
    const s = demoSetup();
    expect((await runCli(['create', '--config', s.configFile])).code).toBe(0);
    const r = await runShell(`${cliCommandLine(['list', '--json', '--config', s.configFile])} > /dev/full`);
    expect(r.code, describeResult(r)).toBe(7);
    expect(r.stderr).toContain('respaldo: the output could not be written to stdout (ENOSPC');
  });

  it('a restore is not ended by it with a stack (exit 1) between two steps: it runs whole, then exits 7', async () => {
    const s = demoSetup();
    expect((await runCli(['create', '--config', s.configFile])).code).toBe(0);
    const stored = dbDigest(s.dbs.users);
    execFileSync('sqlite3', [s.dbs.users, 'DELETE FROM users']);
    const cmd = cliCommandLine(['restore', 'latest', '--db', 'users', '--yes', '--config', s.configFile]);
    const r = await runShell(`${cmd} > /dev/full`);
    expect(r.code, describeResult(r)).toBe(7);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).toContain('what the command did was done all the same');
    expect(dbDigest(s.dbs.users)).toEqual(stored);
    const sets = parseJsonOutput<{ type: string }[]>(
      (await runCli(['list', '--json', '--config', s.configFile])).stdout,
    );
    expect(sets.map((x) => x.type)).toEqual(['pre_restore', 'full']);
  });
});
