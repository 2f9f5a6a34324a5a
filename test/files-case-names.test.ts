/**
 * Names that differ only by case (`LICENSE` and `license`, the folders `App/` and `app/`) are apart on Linux and one
 * name on a case-insensitive disk (an exFAT or NTFS USB drive, an SMB share, OneDrive), where a copy of the set would
 * write one over the other. Their stored paths are made distinct (src/engine/case-distinct.ts), so that no two
 * differ only by case; restore, verify, a copy to a folder destination and a restore from it give each file its
 * own name and bytes.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { caseDistinct } from '../src/engine/case-distinct.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

const folded = (paths: string[]) => new Set(paths.map((p) => p.toLowerCase()));

describe('caseDistinct', () => {
  it('keeps paths that are distinct whatever the case as they are', () => {
    const paths = ['application/app/a.txt.zst', 'application/app/b/a.txt.zst', 'config/etc/A.ini.zst'];
    expect(caseDistinct(paths, '.zst')).toEqual(paths);
  });

  it('tags the later of two files, before the extension; the first keeps its name', () => {
    const out = caseDistinct(['app/LICENSE.zst', 'app/license.zst', 'app/License.zst'], '.zst');
    expect(out[0]).toBe('app/LICENSE.zst');
    expect(out[1]).toMatch(/^app\/license~[0-9a-f]{16}\.zst$/);
    expect(out[2]).toMatch(/^app\/License~[0-9a-f]{16}\.zst$/);
    expect(folded(out).size).toBe(3);
  });

  it('tags a folder once, for every file under it', () => {
    const out = caseDistinct(['app/App/x.zst', 'app/app/x.zst', 'app/app/y.zst', 'app/App/z.zst'], '.zst');
    expect(out[0]).toBe('app/App/x.zst');
    const tagged = /^app\/(app~[0-9a-f]{16})\/x\.zst$/.exec(out[1]!)![1]!;
    expect(out[2]).toBe(`app/${tagged}/y.zst`);
    expect(out[3]).toBe('app/App/z.zst');
    expect(folded(out).size).toBe(4);
  });

  it('keeps a file and a folder of one name apart (a folder `notes.zst/` beside a file `NOTES`)', () => {
    const out = caseDistinct(['app/notes.zst/a.zst', 'app/NOTES.zst'], '.zst');
    expect(out[0]).toBe('app/notes.zst/a.zst');
    expect(out[1]).toMatch(/^app\/NOTES~[0-9a-f]{16}\.zst$/);
  });

  it('keeps a file and a folder apart whose names are alike (a file `notes`, stored `notes.zst`, beside `notes.zst/`)', () => {
    expect(caseDistinct(['app/notes.zst', 'app/notes.zst/a.zst'], '.zst')[1]).toMatch(
      /^app\/notes\.zst~[0-9a-f]{16}\/a\.zst$/,
    );
    expect(caseDistinct(['app/notes.zst/a.zst', 'app/notes.zst'], '.zst')[1]).toMatch(/^app\/notes~[0-9a-f]{16}\.zst$/);
  });

  it('tags names one only as capitals (σ and ς, µ and μ: one capital each), as a disk that ignores case sees them', () => {
    const out = caseDistinct(['app/σοφος.txt.zst', 'app/σοφοσ.txt.zst', 'app/µs.zst', 'app/μs.zst'], '.zst');
    expect(out[0]).toBe('app/σοφος.txt.zst');
    expect(out[1]).toMatch(/^app\/σοφοσ\.txt~[0-9a-f]{16}\.zst$/);
    expect(out[2]).toBe('app/µs.zst');
    expect(out[3]).toMatch(/^app\/μs~[0-9a-f]{16}\.zst$/);
  });

  it('keeps apart two files given one stored name (long names whose 64-bit hashes clash)', () => {
    const out = caseDistinct(['app/x~0123456789abcdef.zst', 'app/x~0123456789abcdef.zst'], '.zst');
    expect(out[0]).toBe('app/x~0123456789abcdef.zst');
    expect(out[1]).toMatch(/^app\/x~0123456789abcdef~[0-9a-f]{16}\.zst$/);
  });

  it('is the same for the same paths (a second set of the same files names them alike), and fits 251 bytes', () => {
    const long = 'L'.repeat(240);
    const paths = [`app/${long}.txt.zst`, `app/${long.toLowerCase()}.txt.zst`];
    const out = caseDistinct(paths, '.zst');
    expect(caseDistinct(paths, '.zst')).toEqual(out);
    expect(out[1]).toMatch(/~[0-9a-f]{16}\.zst$/);
    expect(Buffer.byteLength(out[1]!.slice(4))).toBeLessThanOrEqual(251);
    expect(folded(out).size).toBe(2);
  });
});

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

/** Every file below `dir`, relative, with its content. */
function tree(dir: string, at = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(dir, at), { withFileTypes: true })) {
    const rel = at ? `${at}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, tree(dir, rel));
    else out[rel] = readFileSync(join(dir, rel), 'utf8');
  }
  return out;
}

describe('a set of files whose names differ only by case', () => {
  it('stores them apart, and restores each under its own name, here and from a folder destination', async () => {
    const s = demoSetup((c) => ({
      ...c,
      destinations: [{ name: 'usb', type: 'folder', path: './usb', copyAfterBackup: false }],
    }));
    mkdirSync(join(s.dir, 'usb'));
    const files: Record<string, string> = {
      LICENSE: 'upper\n',
      license: 'lower\n',
      'App/x.txt': 'App x\n',
      'app/x.txt': 'app x\n',
      'app/y.txt': 'app y\n',
    };
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(join(s.appDir, rel, '..'), { recursive: true });
      writeFileSync(join(s.appDir, rel), text);
    }
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--json'])).stdout);
    expect(m.status).toBe('completed');
    const stored = m.files.filter((f) => f.stored).map((f) => f.stored!);
    expect(folded(stored).size).toBe(stored.length);
    await cli(s, ['verify', m.id]);

    const want = Object.fromEntries(Object.entries(files).map(([rel, text]) => [`application/app/${rel}`, text]));
    const here = join(s.dir, 'restored');
    await cli(s, ['restore', m.id, '--files', '--to', here, '--yes']);
    expect(tree(here)).toMatchObject(want);

    // At the destination too every stored path differs from the others whatever the case.
    await cli(s, ['copy', m.id, '--to', 'usb']);
    const copied = Object.keys(tree(join(s.dir, 'usb')));
    expect(folded(copied).size).toBe(copied.length);
    const there = join(s.dir, 'from-usb');
    await cli(s, ['restore', m.id, '--from', 'usb', '--files', '--to', there, '--yes']);
    expect(tree(there)).toMatchObject(want);
  }, 180_000);
});

describe('a file and a folder whose stored names would be one (`notes` beside a folder `notes.zst/`)', () => {
  it('stores both apart and restores each', async () => {
    const s = demoSetup();
    const ext = JSON.parse(readFileSync(s.configFile, 'utf8'))['compression']?.['codec'] === 'gzip' ? '.gz' : '.zst';
    const files: Record<string, string> = { notes: 'the file\n', [`notes${ext}/a.txt`]: 'in the folder\n' };
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(join(s.appDir, rel, '..'), { recursive: true });
      writeFileSync(join(s.appDir, rel), text);
    }
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--json'])).stdout);
    expect(m.status).toBe('completed');
    const here = join(s.dir, 'restored');
    await cli(s, ['restore', m.id, '--files', '--to', here, '--yes']);
    const want = Object.fromEntries(Object.entries(files).map(([rel, text]) => [`application/app/${rel}`, text]));
    expect(tree(here)).toMatchObject(want);
  }, 180_000);
});
