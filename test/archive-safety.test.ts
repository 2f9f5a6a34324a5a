import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileEntry, Manifest } from '../src/core/types.js';
import { isSafeRelative } from '../src/engine/manifest.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { treeSnapshot } from './helpers/sqlite.js';
import { demoSetup, makeTmpDir, type DemoSetup } from './helpers/tmp.js';

describe('isSafeRelative', () => {
  it.each([
    ['app/config/app.ini', true],
    ['a', true],
    ['.env', true],
    ['data/app/.env', true],
    ['a/..b/c', true],
    ['..a', true],
    ['a/b..', true],
    ['../evil', false],
    ['../../evil', false],
    ['a/../../evil', false],
    ['a/../b', false],
    ['a/./b', false],
    ['./a', false],
    ['..', false],
    ['.', false],
    ['/etc/evil', false],
    ['//etc/evil', false],
    ['C:/evil', false],
    ['c:evil', false],
    // on Linux a backslash is a character of a name: one file in its root, not a way out of it
    ['a\\..\\..\\evil', true],
    ['\\\\server\\share', true],
    ['a//b', false],
    ['a/', false],
    ['', false],
    ['a\0b', false],
  ])('%j → %s', (p, safe) => {
    expect(isSafeRelative(p)).toBe(safe);
  });
});

describe('names Linux allows that other systems do not', () => {
  it('a backslash or a line break in a file name: stored, listed and restored under that name, inside the target', async () => {
    const s = demoSetup();
    const names = ['back\\slash', 'new\nline.txt', '\\\\server\\share', 'a\\..\\..\\evil'];
    for (const [i, n] of names.entries()) writeFileSync(join(s.appDir, n), `content ${i}`);
    const r = await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(0);
    const m = parseJsonOutput<Manifest>(r.stdout);
    for (const n of names)
      expect(
        m.files.some((f) => f.relative.endsWith(`/${n}`)),
        n,
      ).toBe(true);
    const listed = await runCli(['list', '--config', s.configFile], { cwd: s.dir });
    expect(listed.code, describeResult(listed)).toBe(0);
    const to = join(makeTmpDir(), 'out');
    const restored = await runCli(['restore', m.id, '--files', '--to', to, '--yes', '--config', s.configFile], {
      cwd: s.dir,
    });
    expect(restored.code, describeResult(restored)).toBe(0);
    const appRel = m.files.find((f) => f.relative.endsWith(`/${names[0]}`))!.relative.slice(0, -names[0]!.length);
    for (const [i, n] of names.entries())
      expect(readFileSync(join(to, 'application', appRel, n), 'utf8'), n).toBe(`content ${i}`);
  });
});

interface Crafted {
  s: DemoSetup;
  m: Manifest;
  to: string;
}

async function createSet(): Promise<{ s: DemoSetup; m: Manifest }> {
  const s = demoSetup();
  const r = await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir });
  expect(r.code, describeResult(r)).toBe(0);
  return { s, m: parseJsonOutput<Manifest>(r.stdout) };
}

function tamper(s: DemoSetup, m: Manifest, edit: (files: FileEntry[], template: FileEntry) => FileEntry[]): void {
  const file = join(s.backupDir, m.id, 'manifest.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  const template = doc.files.find((f) => f.kind === 'file' && f.group === 'application')!;
  doc.files = edit(doc.files, template);
  writeFileSync(file, JSON.stringify(doc, null, 2));
}

async function restoreFiles({ s, m, to }: Crafted) {
  return runCli(['restore', m.id, '--files', '--to', to, '--yes', '--config', s.configFile], { cwd: s.dir });
}

describe('archive entries cannot escape the restore target', () => {
  it.each(['../../evil', '/etc/evil-respaldo-test', 'a/../../evil', '../evil'])(
    'a file entry with relative %j is refused (exit 5) and nothing is written',
    async (rel) => {
      const { s, m } = await createSet();
      const to = join(s.dir, 'deep', 'er', 'out');
      tamper(s, m, (files, t) => [...files, { ...t, relative: rel }]);
      const before = treeSnapshot(s.dir);
      const r = await restoreFiles({ s, m, to });
      expect(r.code, describeResult(r)).toBe(5);
      expect(r.stderr).toContain(JSON.stringify(rel));
      expect(r.stderr).toMatch(/tampered/);
      expect(existsSync(to)).toBe(false);
      expect(existsSync(resolve(to, 'application', rel))).toBe(false);
      expect(existsSync('/etc/evil-respaldo-test')).toBe(false);
      expect(treeSnapshot(s.dir)).toEqual(before);
      // verify names the problem too
      const v = await runCli(['verify', m.id, '--config', s.configFile], { cwd: s.dir });
      expect(v.code, describeResult(v)).toBe(5);
    },
  );

  it('a stored path that escapes the set folder is refused', async () => {
    const { s, m } = await createSet();
    tamper(s, m, (files) => files.map((f, i) => (i === 0 && f.stored ? { ...f, stored: '../../../etc/passwd' } : f)));
    const r = await restoreFiles({ s, m, to: join(s.dir, 'out') });
    expect(r.code, describeResult(r)).toBe(5);
    expect(r.stderr).toContain('unsafe stored path');
    expect(existsSync(join(s.dir, 'out'))).toBe(false);
  });

  it('symlink trick: a symlink entry to an outside folder followed by a file entry below it', async () => {
    const { s, m } = await createSet();
    const outside = mkdtempSync(join(tmpdir(), 'respaldo-outside-'));
    try {
      tamper(s, m, (files, t) => [
        ...files,
        {
          ...t,
          kind: 'symlink',
          relative: 'app/link',
          stored: null,
          md5: null,
          sha256: null,
          size: 0,
          linkTarget: outside,
        },
        { ...t, relative: 'app/link/x' },
      ]);
      // the stored files are untouched, so verification alone passes
      const v = await runCli(['verify', m.id, '--config', s.configFile], { cwd: s.dir });
      expect(v.code, describeResult(v)).toBe(0);
      const to = join(makeTmpDir(), 'out');
      const r = await restoreFiles({ s, m, to });
      expect(readdirSync(outside)).toEqual([]);
      expect(r.code, describeResult(r)).toBe(5);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.stderr).toContain('app/link');
      expect(existsSync(to), 'nothing is written before the entries are checked').toBe(false);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('symlink trick, symlinks only: a symlink below a symlink entry is never created through it', async () => {
    const { s, m } = await createSet();
    const outside = mkdtempSync(join(tmpdir(), 'respaldo-outside-'));
    try {
      tamper(s, m, (files, t) => [
        ...files,
        {
          ...t,
          kind: 'symlink',
          relative: 'app/link',
          stored: null,
          md5: null,
          sha256: null,
          size: 0,
          linkTarget: outside,
        },
        {
          ...t,
          kind: 'symlink',
          relative: 'app/link/planted',
          stored: null,
          md5: null,
          sha256: null,
          size: 0,
          linkTarget: '/etc/passwd',
        },
      ]);
      const to = join(makeTmpDir(), 'out');
      const r = await restoreFiles({ s, m, to });
      expect(readdirSync(outside)).toEqual([]);
      expect(r.code, describeResult(r)).toBe(5);
      expect(r.stderr).toContain('symlink');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('a legitimate symlink pointing outside is restored as a link, and nothing is written through it', async () => {
    const { s, m } = await createSet();
    const outside = mkdtempSync(join(tmpdir(), 'respaldo-outside-'));
    try {
      tamper(s, m, (files, t) => [
        ...files,
        {
          ...t,
          kind: 'symlink',
          relative: 'app/ext',
          stored: null,
          md5: null,
          sha256: null,
          size: 0,
          linkTarget: outside,
        },
      ]);
      const to = join(makeTmpDir(), 'out');
      const r = await restoreFiles({ s, m, to });
      expect(r.code, describeResult(r)).toBe(0);
      expect(readdirSync(outside)).toEqual([]);
      expect(treeSnapshot(to)['application/app/ext']).toBe(`link -> ${outside}`);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
