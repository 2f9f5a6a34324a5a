/**
 * A file name that is not valid UTF-8 (byte 0xff, a Latin-1 `año` from an old Windows/Samba share) is stored and
 * restored byte for byte under its exact name: the manifest shows it with its other bytes as `\xNN` (`relative`)
 * and keeps the exact bytes in `relativeBytes` (base64); the stored file has a text name. It used to make every set
 * PARTIAL (and retention never prunes after a partial run), with the file not stored.
 */
import { mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { scanFiles, shownName, storeFiles } from '../src/engine/files.js';
import { pathProblem } from '../src/engine/manifest.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { demoSetup, makeTmpDir } from './helpers/tmp.js';

const bytes = (...parts: (string | number | Buffer)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : Buffer.isBuffer(p) ? p : Buffer.from(p))));

/** Every path below `dir`, as bytes (latin1 strings, one character a byte), with its content or link target. */
function byteTree(dir: Buffer, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { withFileTypes: true, encoding: 'buffer' })) {
    const path = Buffer.concat([dir, Buffer.from('/'), e.name]);
    const rel = `${prefix}${e.name.toString('latin1')}`;
    if (e.isDirectory()) Object.assign(out, byteTree(path, `${rel}/`));
    else if (e.isSymbolicLink()) out[rel] = `-> ${readlinkSync(path, { encoding: 'buffer' }).toString('latin1')}`;
    else out[rel] = readFileSync(path).toString('latin1');
  }
  return out;
}

describe('shownName', () => {
  it.each([
    ['valid UTF-8 as it is', bytes('año ☃.txt'), 'año ☃.txt'],
    ['a lone 0xff', bytes('bad', 0xff, 'name.txt'), 'bad\\xffname.txt'],
    ['Latin-1 ñ', bytes('a', 0xf1, 'o'), 'a\\xf1o'],
    ['a cut sequence at the end', bytes('x', 0xe2, 0x98), 'x\\xe2\\x98'],
  ])('%s', (_what, name, want) => expect(shownName(name)).toBe(want));
});

describe('a file or folder whose name is not valid UTF-8', () => {
  it('is found with its exact bytes, shown as \\xNN, and matched by patterns as shown', async () => {
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
    expect(scan.problems).toEqual([]);
    expect(scan.warnings).toEqual([]);
    expect(scan.items.map((i) => [i.relative, i.source, i.exact?.relative.toString('latin1')])).toEqual([
      ['app/bad\\xffname.txt', `${app}/bad\\xffname.txt`, bytes('app/bad', 0xff, 'name.txt').toString('latin1')],
      ['app/dir\\xf1/inner.txt', `${app}/dir\\xf1/inner.txt`, bytes('app/dir', 0xf1, '/inner.txt').toString('latin1')],
      ['app/good.txt', `${app}/good.txt`, undefined],
    ]);
  });

  it('deleted after the scan is said to have vanished (a warning), as any other file', async () => {
    const dir = makeTmpDir();
    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(bytes(app, '/sesi', 0xf3, 'n'), 'gone soon\n');
    const scan = await scanFiles({
      baseDir: dir,
      databases: [],
      files: { config: [], application: [{ path: app, include: [], exclude: [] }] },
    });
    rmSync(bytes(app, '/sesi', 0xf3, 'n'));
    const stored = await storeFiles(scan.items, makeTmpDir(), { codec: 'zstd', level: 3 }, undefined, () => undefined);
    expect(stored.problems).toEqual([]);
    expect(stored.warnings.map((w) => [w.phrase.id, w.message])).toEqual([
      ['file.vanished', `${app}/sesi\\xf3n: vanished while being backed up (deleted after it was listed), not stored`],
    ]);
  });

  it('is backed up (COMPLETED), copied, and restored byte for byte under its name, locally and from the copy', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    writeFileSync(
      s.configFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(s.configFile, 'utf8')),
        destinations: [{ name: 'nas', type: 'folder', path: nas, source: 'srv1' }],
      }),
    );
    const app = Buffer.from(s.appDir);
    const latin1 = bytes('a', 0xf1, 'os.pdf');
    writeFileSync(bytes(app, '/', latin1), Buffer.from([0x25, 0x50, 0x44, 0x46, 0xf1, 0x00, 0xff]));
    // A file whose valid UTF-8 name is the other's shown form: another file, stored apart.
    writeFileSync(join(s.appDir, 'a\\xf1os.pdf'), 'literal backslash\n');
    mkdirSync(bytes(app, '/informes ', 0xf1));
    writeFileSync(bytes(app, '/informes ', 0xf1, '/2024.txt'), 'año\n');
    symlinkSync(latin1, bytes(app, '/enlace', 0xe9));

    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--json'])).stdout);
    expect(m.status).toBe('completed');
    expect(m.warnings).toEqual([]);
    const entry = m.files.find((f) => f.relative === 'app/a\\xf1os.pdf' && f.relativeBytes)!;
    expect(Buffer.from(entry.relativeBytes!, 'base64')).toEqual(bytes('app/', latin1));
    expect(entry.source).toBe(`${s.appDir}/a\\xf1os.pdf`);
    expect(entry.stored).toMatch(/^application\/app\/a\\xf1os\.pdf~[0-9a-f]{16}\.(zst|gz)$/);
    const link = m.files.find((f) => f.kind === 'symlink')!;
    expect([link.relative, link.linkTarget]).toEqual(['app/enlace\\xe9', 'a\\xf1os.pdf']);
    expect(Buffer.from(link.linkTargetBytes!, 'base64')).toEqual(latin1);
    await cli(s, ['verify', m.id]);
    await cli(s, ['drill', m.id, '--files']);
    const shown = (await cli(s, ['show', m.id])).stdout;
    expect(shown).toContain('app/a\\xf1os.pdf');

    // The demo's application folder also holds its .env (a config file, stored under config/) and an excluded log.
    const want = Object.fromEntries(
      Object.entries(byteTree(app)).filter(([name]) => name !== '.env' && name !== 'server.log'),
    );
    expect(Object.keys(want)).toEqual(
      expect.arrayContaining(
        [latin1, bytes('informes ', 0xf1, '/2024.txt'), bytes('enlace', 0xe9)].map((b) => b.toString('latin1')),
      ),
    );
    const to = join(s.dir, 'restored');
    await cli(s, ['restore', m.id, '--files', '--to', to, '--yes']);
    expect(byteTree(Buffer.from(join(to, 'application', 'app')))).toEqual(want);

    await cli(s, ['copy', m.id]);
    const fromCopy = join(s.dir, 'from-copy');
    await cli(s, ['restore', 'latest', '--from', 'nas', '--files', '--to', fromCopy, '--yes']);
    expect(byteTree(Buffer.from(join(fromCopy, 'application', 'app')))).toEqual(want);
  }, 180_000);

  it('a damaged relativeBytes or linkTargetBytes is damage of the manifest (exit 5) naming the field', async () => {
    const s = demoSetup();
    writeFileSync(bytes(s.appDir, '/a', 0xf1, 'o.txt'), 'x\n');
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--json'])).stdout);
    const file = join(s.backupDir, m.id, 'manifest.json');
    const good = readFileSync(file, 'utf8');
    const damaged = JSON.parse(good) as Manifest;
    damaged.files.find((f) => f.relativeBytes)!.relativeBytes = Buffer.from('app/another').toString('base64');
    writeFileSync(file, JSON.stringify(damaged));
    const r = await cli(s, ['restore', m.id, '--files', '--to', join(s.dir, 'r'), '--yes'], 5);
    expect(r.stderr).toContain('files[].relativeBytes of app/a\\xf1o.txt');
  }, 120_000);
});

describe('pathProblem of relativeBytes and linkTargetBytes', () => {
  const base = {
    group: 'application' as const,
    source: '/srv/app/x',
    stored: 'application/app/x.zst',
    linkTarget: null,
    size: 1,
    mode: 0o600,
    mtime: '2026-12-01T00:00:00.000Z',
    md5: null,
    sha256: null,
  };
  const manifest = (files: object[]) => ({ id: '20261201_000000', databases: [], files }) as unknown as Manifest;
  const b64 = (b: Buffer) => b.toString('base64');
  it.each([
    ['an older entry, without the field', { relative: 'app/a\\xf1o.txt' }, null],
    ['the bytes it shows', { relative: 'app/a\\xf1o.txt', relativeBytes: b64(bytes('app/a', 0xf1, 'o.txt')) }, null],
    ['not base64', { relative: 'app/a\\xf1o.txt', relativeBytes: 'no base64!' }, 'files[].relativeBytes of'],
    ['not a string', { relative: 'app/a\\xf1o.txt', relativeBytes: 7 }, 'files[].relativeBytes of'],
    ['empty', { relative: 'app/a\\xf1o.txt', relativeBytes: '' }, 'files[].relativeBytes of'],
    [
      'bytes of another path (out of the folder)',
      { relative: 'app/a\\xf1o.txt', relativeBytes: b64(bytes('../../etc/a', 0xf1, 'o.txt')) },
      'files[].relativeBytes of',
    ],
  ])('%s', (_what, fields, want) => {
    const p = pathProblem(manifest([{ ...base, kind: 'file', ...fields }]));
    if (want === null) expect(p).toBeNull();
    else expect(p).toContain(want);
  });

  it('a symlink target that is not the bytes it shows', () => {
    const link = { ...base, kind: 'symlink', stored: null, relative: 'app/l', linkTarget: 'a\\xf1o' };
    expect(pathProblem(manifest([{ ...link, linkTargetBytes: b64(bytes('a', 0xf1, 'o')) }]))).toBeNull();
    expect(pathProblem(manifest([{ ...link, linkTargetBytes: b64(bytes('/etc/passwd')) }]))).toContain(
      'files[].linkTargetBytes of app/l',
    );
  });
});
