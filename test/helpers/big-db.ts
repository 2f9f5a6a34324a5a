import { chmodSync, copyFileSync, linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Manifest } from '../../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './cli.js';
import { makeBigDb } from './sqlite.js';
import { makeTmpDir, writeConfig, type DemoSetup } from './tmp.js';

/**
 * One big SQLite database of random blobs (incompressible, so `create` takes seconds) shared by
 * the tests of a file: made in beforeAll, removed in afterAll. Returns a getter for its path.
 */
export function useBigDb(mb = 200): () => string {
  let dir = '';
  let file = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'respaldo-big-'));
    file = join(dir, 'big.db');
    makeBigDb(file, mb);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () => file;
}

/** A test's own folder holding the big database and a set of it. */
export interface BigWithASet {
  s: DemoSetup;
  /** s.dataDir/big.db: a copy of the big database, the content of `set`. */
  live: string;
  set: Manifest;
}

/** The config of a folder of useBigSet: only `big`, at ./data/big.db (the restores replace it), no files. */
const bigOnly = (c: Record<string, unknown>) => ({
  ...c,
  databases: [{ name: 'big', path: './data/big.db' }],
  files: undefined,
});

/** `to` made with the mode of `from`; with `files`, every file below `from` hard-linked into it. */
function likeDir(from: string, to: string, files = false): void {
  mkdirSync(to);
  chmodSync(to, statSync(from).mode & 0o7777);
  if (!files) return;
  for (const e of readdirSync(from, { withFileTypes: true })) {
    if (e.isDirectory()) likeDir(join(from, e.name), join(to, e.name), true);
    else linkSync(join(from, e.name), join(to, e.name));
  }
}

/**
 * For tests that restore a set of the big database (`bigDb` of useBigDb): the set is made once per file (a
 * create of it takes seconds), on first use, and each call gives a fresh folder of the test's own (makeTmpDir)
 * with its own config, its own copy of the live file and the set's stored files hard-linked into its own
 * backup folder. A restore only reads those (respaldo never writes a set's files in place: new files are
 * written under a temp name and renamed), so no test sees another's restores, staging files, logs or sets.
 */
export function useBigSet(bigDb: () => string): () => Promise<BigWithASet> {
  let made: Promise<{ dir: string; set: Manifest }> | null = null;
  let madeDir = '';
  afterAll(() => {
    if (madeDir) rmSync(madeDir, { recursive: true, force: true });
  });
  const make = async () => {
    const t = writeConfig(mkdtempSync(join(tmpdir(), 'respaldo-big-set-')), bigOnly, { demo: false });
    madeDir = t.dir;
    mkdirSync(t.dataDir);
    copyFileSync(bigDb(), join(t.dataDir, 'big.db'));
    const created = await runCli(['create', '--json', '--config', t.configFile], { cwd: t.dir });
    expect(created.code, describeResult(created)).toBe(0);
    return { dir: t.dir, set: parseJsonOutput<Manifest>(created.stdout) };
  };
  return async () => {
    made ??= make();
    const { dir, set } = await made;
    const s = writeConfig(makeTmpDir(), bigOnly, { demo: false });
    mkdirSync(s.dataDir);
    const live = join(s.dataDir, 'big.db');
    copyFileSync(bigDb(), live);
    likeDir(join(dir, 'backups'), s.backupDir);
    likeDir(join(dir, 'backups', set.id), join(s.backupDir, set.id), true);
    return { s, live, set };
  };
}
