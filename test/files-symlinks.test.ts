/**
 * Symlinks the operator names in the config: a `files.config` entry that is a symlink stores the file it points to
 * (a deploy that links `.env` from a shared folder), while symlinks inside folders stay links. Config entries that
 * overlap (a file and its folder) store each file once.
 */
import { lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

describe('a files.config entry that is a symlink', () => {
  it('stores the content of the file it names (COMPLETED), and restore gives that content back', async () => {
    const s = demoSetup((c) => ({
      ...c,
      files: { config: ['./data/conf/app.env', './data/links'], application: [] },
    }));
    mkdirSync(join(s.dataDir, 'shared'));
    mkdirSync(join(s.dataDir, 'conf'));
    writeFileSync(join(s.dataDir, 'shared', 'real.env'), 'SECRET_FROM_SHARED=1\n');
    symlinkSync('../shared/real.env', join(s.dataDir, 'conf', 'app.env'));
    mkdirSync(join(s.dataDir, 'links'));
    symlinkSync('../shared/real.env', join(s.dataDir, 'links', 'inner.env'));

    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--json'])).stdout);
    expect(m.status).toBe('completed');
    expect(m.files.find((f) => f.relative === 'data/conf/app.env')).toMatchObject({
      kind: 'file',
      size: 'SECRET_FROM_SHARED=1\n'.length,
    });
    const inner = m.files.find((f) => f.relative === 'data/links/inner.env')!;
    expect(inner).toMatchObject({ kind: 'symlink', linkTarget: '../shared/real.env' });

    const to = join(s.dir, 'restored');
    await cli(s, ['restore', m.id, '--files', '--to', to, '--yes']);
    const back = join(to, 'config', 'data', 'conf', 'app.env');
    expect(lstatSync(back).isFile()).toBe(true);
    expect(readFileSync(back, 'utf8')).toBe('SECRET_FROM_SHARED=1\n');
    expect(readlinkSync(join(to, 'config', 'data', 'links', 'inner.env'))).toBe('../shared/real.env');
  }, 120_000);
});

describe('an application path that is a symlink to a folder', () => {
  it('is backed up through the link (COMPLETED); symlinks inside it stay links', async () => {
    const s = demoSetup((c) => ({
      ...c,
      files: { config: [], application: [{ path: './data/srv/current', include: ['**'], exclude: [] }] },
    }));
    const release = join(s.dataDir, 'srv', 'releases', '42');
    mkdirSync(join(release, 'lib'), { recursive: true });
    writeFileSync(join(release, 'lib', 'main.py'), 'print("42")\n');
    symlinkSync('lib/main.py', join(release, 'entry.py'));
    symlinkSync('releases/42', join(s.dataDir, 'srv', 'current'));

    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--json'])).stdout);
    expect(m.status).toBe('completed');
    expect(m.files.map((f) => [f.relative, f.kind])).toEqual([
      ['current/entry.py', 'symlink'],
      ['current/lib/main.py', 'file'],
    ]);
    const to = join(s.dir, 'restored');
    await cli(s, ['restore', m.id, '--files', '--to', to, '--yes']);
    expect(readFileSync(join(to, 'application', 'current', 'lib', 'main.py'), 'utf8')).toBe('print("42")\n');
    expect(readlinkSync(join(to, 'application', 'current', 'entry.py'))).toBe('lib/main.py');
  }, 120_000);
});

describe('files.config entries that overlap', () => {
  it('store each file once (a file and its folder, one file twice): the set restores', async () => {
    const s = demoSetup((c) => ({
      ...c,
      files: { config: ['./data/conf/a.env', './data/conf', './data/conf/a.env'], application: [] },
    }));
    mkdirSync(join(s.dataDir, 'conf'));
    writeFileSync(join(s.dataDir, 'conf', 'a.env'), 'A=1\n');
    writeFileSync(join(s.dataDir, 'conf', 'b.env'), 'B=2\n');

    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--json'])).stdout);
    expect(m.files.map((f) => f.relative)).toEqual(['data/conf/a.env', 'data/conf/b.env']);
    const to = join(s.dir, 'restored');
    await cli(s, ['restore', m.id, '--files', '--to', to, '--yes']);
    expect(readFileSync(join(to, 'config', 'data', 'conf', 'a.env'), 'utf8')).toBe('A=1\n');
    expect(readFileSync(join(to, 'config', 'data', 'conf', 'b.env'), 'utf8')).toBe('B=2\n');
  }, 120_000);
});
