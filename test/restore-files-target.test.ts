import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { treeSnapshot } from './helpers/sqlite.js';
import { demoSetup, makeTmpDir } from './helpers/tmp.js';

/** Makes the --to path of one case inside `dir`; returns it and what the error must say. */
const cases: [string, (dir: string) => string, RegExp][] = [
  ['an existing file', (d) => (writeFileSync(join(d, 'f.txt'), 'keep me\n'), join(d, 'f.txt')), /f\.txt is a file/],
  [
    'a path below a file',
    (d) => (writeFileSync(join(d, 'f.txt'), 'keep me\n'), join(d, 'f.txt', 'sub')),
    /f\.txt is a file/,
  ],
  [
    'a symlink to an empty folder',
    (d) => (mkdirSync(join(d, 'empty')), symlinkSync(join(d, 'empty'), join(d, 'l')), join(d, 'l')),
    /l is a symlink \(to .*empty\)/,
  ],
  [
    'a symlink to a file',
    (d) => (writeFileSync(join(d, 'f.txt'), 'x'), symlinkSync(join(d, 'f.txt'), join(d, 'l')), join(d, 'l')),
    /l is a symlink/,
  ],
  ['a dangling symlink', (d) => (symlinkSync(join(d, 'nowhere'), join(d, 'l')), join(d, 'l')), /l is a symlink/],
];

describe('restore --files --to PATH that is not a folder is a usage error (exit 2), nothing written', () => {
  it.each(cases)('%s', async (_what, make, said) => {
    const s = demoSetup();
    const c = await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(c.code, describeResult(c)).toBe(0);
    const m = parseJsonOutput<Manifest>(c.stdout);
    const place = makeTmpDir();
    const to = make(place);
    const before = { place: treeSnapshot(place), dir: treeSnapshot(s.dir) };
    for (const args of [
      ['restore', m.id, '--files', '--to', to, '--yes'],
      ['restore', 'latest', '--files', '--to', to, '--dry-run'],
      ['restore', 'latest', '--db', 'users', '--files', '--to', to, '--yes'],
    ]) {
      const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
      expect(r.code, describeResult(r)).toBe(2);
      expect(r.stderr).toMatch(said);
      expect(r.stderr).toContain(`--to ${to}`);
      expect(r.stderr).toContain('hint: Give a new folder');
      expect(r.stderr).not.toMatch(/internal error|ENOTDIR|\n\s+at /);
      expect({ place: treeSnapshot(place), dir: treeSnapshot(s.dir) }).toEqual(before);
    }
  });
});
