import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  LOG_KEEP_DAYS,
  LOG_ROTATION,
  localDate,
  logFile,
  readDailyLog,
  setLogRotation,
  writeLog,
} from '../src/engine/log.js';
import { lastFailedBackup } from '../src/engine/prune.js';
import { REPO_ROOT, collect, describeResult, startNode } from './helpers/cli.js';
import { makeTmpDir } from './helpers/tmp.js';

const DEFAULTS = { ...LOG_ROTATION };
afterEach(() => setLogRotation(DEFAULTS));

/** The daily log's files, oldest first (`.N` … `.1`, then the file itself). */
function logFiles(backupDir: string): string[] {
  const base = logFile(backupDir);
  const rotation = (f: string) => Number(/\.log\.(\d+)$/.exec(f)?.[1] ?? 0);
  return readdirSync(join(backupDir, 'logs'))
    .map((f) => join(backupDir, 'logs', f))
    .filter((f) => f.startsWith(base))
    .sort((a, b) => rotation(b) - rotation(a));
}

const seqOf = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { seq: number }).seq);

describe('the daily log is rotated by size', () => {
  it('past the limit the log becomes .1 (then .2 …), at most `keep` kept, every file 0600; no line lost or reordered', () => {
    const dir = makeTmpDir();
    setLogRotation({ maxBytes: 1000, keep: 3 });
    for (let seq = 0; seq < 60; seq++) writeLog(dir, 'tick', { seq, pad: 'x'.repeat(40) });

    const files = logFiles(dir);
    const base = logFile(dir);
    expect(files).toEqual([`${base}.3`, `${base}.2`, `${base}.1`, base]);
    for (const f of files) {
      expect(statSync(f).mode & 0o777).toBe(0o600);
      expect(statSync(f).size).toBeLessThanOrEqual(1000);
    }
    // What is kept is the newest lines, in order, through the last one written; the oldest files were dropped.
    const kept = seqOf(files.map((f) => readFileSync(f, 'utf8')).join(''));
    expect(kept.at(-1)).toBe(59);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 60 - kept.length + i));
    expect(kept.length).toBeGreaterThan(15);
    expect(seqOf(readDailyLog(dir, new Date()))).toEqual(kept);
  });

  it('two processes appending to the same log across rotations: every line of both, whole, each in its order', async () => {
    const dir = makeTmpDir();
    const logModule = pathToFileURL(join(REPO_ROOT, 'dist', 'engine', 'log.js')).href;
    const writer = (who: string) =>
      collect(
        startNode([
          '--input-type=module',
          '-e',
          `const { setLogRotation, writeLog } = await import(${JSON.stringify(logModule)});
           setLogRotation({ maxBytes: 4000, keep: 1000 });
           for (let seq = 0; seq < 400; seq++) writeLog(${JSON.stringify(dir)}, 'tick', { who: '${who}', seq });`,
        ]),
      );
    const results = await Promise.all([writer('scheduler'), writer('cli')]);
    for (const r of results) expect(r.code, describeResult(r)).toBe(0);

    setLogRotation({ keep: 1000 });
    const files = logFiles(dir);
    // Rotated many times (a process that finds the other rotating appends meanwhile, so files can pass the limit).
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(files.some((f) => f.endsWith('.rotating'))).toBe(false);
    const lines = readDailyLog(dir, new Date())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { who: string; seq: number });
    for (const who of ['scheduler', 'cli'])
      expect(lines.filter((l) => l.who === who).map((l) => l.seq)).toEqual(Array.from({ length: 400 }, (_, i) => i));
  });

  it('a rotation that cannot be done (.1 is a folder) still writes every line, to the file as it is', () => {
    const dir = makeTmpDir();
    setLogRotation({ maxBytes: 200, keep: 1 });
    writeLog(dir, 'tick', { seq: 0 });
    const base = logFile(dir);
    mkdirSync(`${base}.1`);
    writeFileSync(join(`${base}.1`, 'x'), '');
    for (let seq = 1; seq < 10; seq++) writeLog(dir, 'tick', { seq, pad: 'x'.repeat(40) });
    expect(seqOf(readFileSync(base, 'utf8'))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(existsSync(`${base}.rotating`)).toBe(false);
  });

  it('readers of the log find lines already rotated: a failed backup logged in .1 is still the last failure', () => {
    const dir = makeTmpDir();
    writeLog(dir, 'tick', {});
    const base = logFile(dir);
    const failed = { time: new Date().toISOString(), event: 'create-end', setId: '20261122_020000', outcome: 'failed' };
    writeFileSync(`${base}.1`, JSON.stringify(failed) + '\n', { mode: 0o600 });
    expect(lastFailedBackup(dir, new Date())).toEqual({ at: failed.time, setId: '20261122_020000' });
  });
});

describe('daily logs past LOG_KEEP_DAYS', () => {
  it("are removed when a day's log starts; younger ones, other files and today's are kept", () => {
    const backupDir = makeTmpDir();
    const dir = join(backupDir, 'logs');
    mkdirSync(dir, { recursive: true });
    const day = (daysAgo: number) => localDate(new Date(Date.now() - daysAgo * 86_400_000));
    const old = [
      `backup_${day(LOG_KEEP_DAYS + 1)}.log`,
      `backup_${day(LOG_KEEP_DAYS + 1)}.log.1`,
      'backup_2020-01-01.log',
    ];
    const kept = [
      `backup_${day(LOG_KEEP_DAYS - 1)}.log`,
      `backup_${day(1)}.log`,
      'notes.txt',
      'backup_2020-01-01.log.bak',
    ];
    for (const name of [...old, ...kept]) writeFileSync(join(dir, name), 'x\n');
    writeLog(backupDir, 'test', { n: 1 });
    expect(readdirSync(dir).sort()).toEqual([...kept, `backup_${day(0)}.log`].sort());
    // Not on later lines of the same day: a log put back meanwhile stays until the next day's first line.
    writeFileSync(join(dir, old[2]!), 'x\n');
    writeLog(backupDir, 'test', { n: 2 });
    expect(existsSync(join(dir, old[2]!))).toBe(true);
  });
});
