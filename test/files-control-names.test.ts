/**
 * A file name holding a newline or a tab (legal on Linux) is printed in text output with those characters as
 * `\xNN`, as bytes that are not UTF-8 are: a raw newline split the line of `show`, `verify` and `verify --from`
 * into one that started with half a file name. --json keeps the exact name.
 */
import { appendFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { printedName } from '../src/core/format.js';
import type { Manifest } from '../src/core/types.js';
import type { VerifyReport } from '../src/engine/verify.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { demoSetup } from './helpers/tmp.js';

/** Every file below `dir`, absolute. */
const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );

/** Every line of `text` starts as respaldo writes it, never with the rest of a file name. */
const noHalfNames = (text: string) => {
  for (const line of text.split('\n')) expect(line, text).not.toMatch(/^(break|here)/);
};

describe('printedName', () => {
  it.each([
    ['plain text as it is', 'año ☃.txt', 'año ☃.txt'],
    ['a newline', 'a\nb', 'a\\x0ab'],
    ['a tab and a carriage return', 'a\tb\r', 'a\\x09b\\x0d'],
    ['an escape and DEL', '\u001b[31m\u007f', '\\x1b[31m\\x7f'],
    ['a C1 control as its UTF-8 bytes', 'a\u0085b', 'a\\xc2\\x85b'],
  ])('%s', (_what, name, want) => expect(printedName(name)).toBe(want));
});

describe('a file name with a newline or a tab', () => {
  it('is shown escaped by show, verify and verify --from, and exact in --json', async () => {
    const s = demoSetup({ destinations: [{ name: 'nas', type: 'folder', path: './nas' }] });
    mkdirSync(join(s.dir, 'nas'));
    writeFileSync(join(s.appDir, 'line\nbreak.txt'), 'a\n');
    writeFileSync(join(s.appDir, 'tab\there.txt'), 'b\n');
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    expect(m.files.map((f) => f.relative)).toEqual(
      expect.arrayContaining(['app/line\nbreak.txt', 'app/tab\there.txt']),
    );

    const show = (await cli(s, ['show', m.id])).stdout;
    expect(show).toMatch(/ {2}application {2}app\/line\\x0abreak\.txt {2,}2 B /);
    expect(show).toMatch(/ {2}application {2}app\/tab\\x09here\.txt {2,}2 B /);
    noHalfNames(show);

    // Both stored files damaged, here and at the destination.
    const damage = (dir: string) => {
      const hit = walk(dir).filter((f) => /line\nbreak|tab\there/.test(f));
      expect(hit).toHaveLength(2);
      for (const f of hit) appendFileSync(f, 'x');
    };
    damage(join(s.backupDir, m.id));
    damage(join(s.dir, 'nas'));

    const verify = await cli(s, ['verify', m.id], 5);
    expect(verify.stdout).toContain('  application/app/line\\x0abreak.txt.zst: md5 mismatch');
    expect(verify.stdout).toContain('  application/app/tab\\x09here.txt.zst: md5 mismatch');
    noHalfNames(verify.stdout);
    noHalfNames(verify.stderr);
    const json = parseJsonOutput<VerifyReport>((await cli(s, ['verify', m.id, '--json'], 5)).stdout);
    expect(json.files.filter((f) => !f.ok).map((f) => f.path)).toEqual([
      'application/app/line\nbreak.txt.zst',
      'application/app/tab\there.txt.zst',
    ]);

    const there = await cli(s, ['verify', m.id, '--from', 'nas', '--read-data'], 5);
    expect(there.stdout).toMatch(/ {2}application\/app\/line\\x0abreak\.txt\.zst: sha256 mismatch/);
    expect(there.stdout).toMatch(/ {2}application\/app\/tab\\x09here\.txt\.zst: sha256 mismatch/);
    noHalfNames(there.stdout);
    noHalfNames(there.stderr);

    const restore = await cli(s, ['restore', m.id, '--files', '--yes'], 5);
    expect(restore.stderr).toContain('application/app/line\\x0abreak.txt.zst');
    noHalfNames(restore.stdout);
    noHalfNames(restore.stderr);
  });
});
