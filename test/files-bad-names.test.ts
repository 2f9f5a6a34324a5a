/**
 * A name that is not valid UTF-8 (byte 0xff, a Latin-1 name from an old system) cannot be named in the manifest
 * as it is: read as UTF-8 it became another name, the file was "not found" and said to have vanished, and the set
 * stayed COMPLETED without it. It is now a problem of the set (PARTIAL) naming the file with its bad bytes shown.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanFiles, shownName } from '../src/engine/files.js';
import { makeTmpDir } from './helpers/tmp.js';

const bytes = (...parts: (string | number)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : Buffer.from(p))));

describe('shownName', () => {
  it.each([
    ['valid UTF-8 as it is', bytes('año ☃.txt'), 'año ☃.txt'],
    ['a lone 0xff', bytes('bad', 0xff, 'name.txt'), 'bad\\xffname.txt'],
    ['Latin-1 ñ', bytes('a', 0xf1, 'o'), 'a\\xf1o'],
    ['a cut sequence at the end', bytes('x', 0xe2, 0x98), 'x\\xe2\\x98'],
  ])('%s', (_what, name, want) => expect(shownName(name)).toBe(want));
});

describe('a file or folder whose name is not valid UTF-8', () => {
  it('is a problem naming it (the set is PARTIAL), not a file that vanished; the others are stored', async () => {
    const dir = makeTmpDir();
    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'good.txt'), 'ok\n');
    writeFileSync(bytes(app, '/bad', 0xff, 'name.txt'), 'x\n');
    mkdirSync(bytes(app, '/dir', 0xf1));
    writeFileSync(bytes(app, '/dir', 0xf1, '/inner.txt'), 'y\n');
    writeFileSync(bytes(app, '/skip', 0xff, '.log'), 'excluded\n');
    const scan = await scanFiles({
      baseDir: dir,
      databases: [],
      files: { config: [], application: [{ path: app, include: [], exclude: ['*.log'] }] },
    });
    expect(scan.items.map((i) => i.relative)).toEqual(['app/good.txt']);
    expect(scan.warnings).toEqual([]);
    expect(scan.problems.map((p) => [p.phrase.id, p.message])).toEqual([
      [
        'file.badName',
        `${app}/bad\\xffname.txt: its name is not valid UTF-8 (other bytes shown as \\xNN), not stored; rename it to back it up`,
      ],
      [
        'file.badName',
        `${app}/dir\\xf1: its name is not valid UTF-8 (other bytes shown as \\xNN), not stored; rename it to back it up`,
      ],
    ]);
  });
});
