/**
 * `restore ID --files --path P` restores only the stored files at P (a stored path as `show` lists it, group first),
 * or below it (a folder, its structure kept under --to): one file, a folder with its symlink, two paths; from an
 * encrypted set, from a folder destination (--from) and as of a time (--at). A P the set does not store is exit 8
 * naming it with the closest stored paths, nothing written. The plan says how many files of how many, and which paths.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import type { RestorePlan } from '../src/engine/restore.js';
import { ageKeygen } from './helpers/age.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expected: number) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expected);
  return r;
}

/** The site's files: a config file, a folder with a subfolder and a symlink, another file. */
const SITE: Record<string, string> = {
  'app.conf': 'port=8080\nname=ventas\n',
  'conf/a.ini': '[a]\nx=1\n',
  'conf/sub/b.ini': '[b]\ny=2\n',
  'other.txt': 'other\n',
  'public/index.html': '<p>hola</p>\n',
};

/** A set of users and the site (./data/site as application files, its app.conf as a config file too). */
async function siteSet(extra: Record<string, unknown> = {}, options: { encrypted?: boolean } = {}) {
  const s = demoSetup({
    files: { config: ['./data/site/app.conf'], application: [{ path: './data/site' }] },
    ...extra,
  });
  const site = join(s.dataDir, 'site');
  for (const [name, text] of Object.entries(SITE)) {
    mkdirSync(join(site, name, '..'), { recursive: true });
    writeFileSync(join(site, name), text);
  }
  symlinkSync('a.ini', join(site, 'conf', 'link.ini'));
  if (options.encrypted) {
    const key = join(s.dir, 'key.txt');
    const recipient = ageKeygen(key);
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(s.configFile, JSON.stringify({ ...doc, encryption: { recipients: [recipient], identityFile: key } }));
  }
  const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json', '--db', 'users'], 0)).stdout);
  return { s, m };
}

/** Every file and symlink below `dir`, as paths relative to it (symlinks as `path -> target`). */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string): void => {
    for (const name of readdirSync(at)) {
      const p = join(at, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else out.push(st.isSymbolicLink() ? `${relative(dir, p)} -> ${readlinkSync(p)}` : relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

const partials = (s: DemoSetup) => readdirSync(s.dir).filter((n) => n.includes('respaldo-partial'));

describe('restore --files --path', () => {
  it('restores one file of the set, and the plan says how many of how many and which path', async () => {
    const { s, m } = await siteSet();
    const to = join(s.dir, 'one');
    const dry = await cli(s, ['restore', m.id, '--files', '--path', 'application/site/app.conf', '--dry-run'], 0);
    const stored = m.files.filter((f) => f.kind === 'file').length;
    expect(stored).toBe(6);
    expect(dry.stdout).toContain('files: 1 file(s) and 0 symlink(s) of the 6 file(s) and 1 symlink(s) stored');
    expect(dry.stdout).toContain('    --path application/site/app.conf: 1 file(s), 0 symlink(s)');
    const json = parseJsonOutput<RestorePlan>(
      (await cli(s, ['restore', m.id, '--files', '--path', 'application/site/app.conf', '--dry-run', '--json'], 0))
        .stdout,
    );
    expect(json.files).toMatchObject({
      count: 1,
      symlinks: 0,
      bytes: SITE['app.conf']!.length,
      paths: [{ path: 'application/site/app.conf', count: 1, symlinks: 0 }],
      ofSet: { count: 6, symlinks: 1 },
    });
    await cli(s, ['restore', m.id, '--files', '--path', 'application/site/app.conf', '--to', to, '--yes'], 0);
    expect(tree(to)).toEqual(['application/site/app.conf']);
    expect(readFileSync(join(to, 'application/site/app.conf'), 'utf8')).toBe(SITE['app.conf']);
  });

  it('restores a folder with its structure and symlink, and two paths together', async () => {
    const { s, m } = await siteSet();
    const folder = join(s.dir, 'folder');
    await cli(s, ['restore', m.id, '--files', '--path', 'application/site/conf/', '--to', folder, '--yes'], 0);
    expect(tree(folder)).toEqual([
      'application/site/conf/a.ini',
      'application/site/conf/link.ini -> a.ini',
      'application/site/conf/sub/b.ini',
    ]);
    expect(readFileSync(join(folder, 'application/site/conf/sub/b.ini'), 'utf8')).toBe(SITE['conf/sub/b.ini']);
    const two = join(s.dir, 'two');
    const args = ['--path', 'config/data/site/app.conf', '--path', 'application/site/public'];
    const dry = await cli(s, ['restore', m.id, '--files', ...args, '--to', two, '--dry-run'], 0);
    expect(dry.stdout).toContain('files: 2 file(s) and 0 symlink(s) of the 6 file(s) and 1 symlink(s) stored');
    expect(dry.stdout).toContain('--path config/data/site/app.conf: 1 file(s)');
    expect(dry.stdout).toContain('--path application/site/public: 1 file(s)');
    await cli(s, ['restore', m.id, '--files', ...args, '--to', two, '--yes'], 0);
    expect(tree(two)).toEqual(['application/site/public/index.html', 'config/data/site/app.conf']);
    expect(readFileSync(join(two, 'config/data/site/app.conf'), 'utf8')).toBe(SITE['app.conf']);
  });

  it('a path the set does not store is exit 8 naming it with the closest stored paths, nothing written', async () => {
    const { s, m } = await siteSet();
    const to = join(s.dir, 'none');
    for (const extra of [['--dry-run'], ['--to', to, '--yes']]) {
      const r = await cli(s, ['restore', m.id, '--files', '--path', 'app.conf', ...extra], 8);
      expect(r.stderr).toContain('"app.conf"');
      expect(r.stderr).toMatch(/Closest stored: .*application\/site\/app\.conf/);
      expect(r.stderr).toContain('config/data/site/app.conf');
    }
    // One found and one not: nothing restored either.
    const r = await cli(
      s,
      ['restore', m.id, '--files', '--path', 'application/site/other.txt', '--path', 'application/site/conf/c.ini'],
      8,
    );
    expect(r.stderr).toContain('"application/site/conf/c.ini"');
    expect(r.stderr).toContain('application/site/conf/a.ini');
    expect(existsSync(to)).toBe(false);
    expect(existsSync(join(s.dir, 'restored'))).toBe(false);
    expect(partials(s)).toEqual([]);
    // Without --files it is a usage error.
    await cli(s, ['restore', m.id, '--path', 'application/site/app.conf', '--dry-run'], 2);
  });

  it('from an encrypted set: only the chosen files are decrypted and restored', async () => {
    const { s, m } = await siteSet({}, { encrypted: true });
    expect(m.encryption).toBeDefined();
    const to = join(s.dir, 'enc');
    await cli(s, ['restore', m.id, '--files', '--path', 'application/site/conf', '--to', to, '--yes'], 0);
    expect(tree(to)).toEqual([
      'application/site/conf/a.ini',
      'application/site/conf/link.ini -> a.ini',
      'application/site/conf/sub/b.ini',
    ]);
    expect(readFileSync(join(to, 'application/site/conf/a.ini'), 'utf8')).toBe(SITE['conf/a.ini']);
  });

  it('from a folder destination (--from), and as of a time (--at)', async () => {
    const nas = join(makeNas(), 'nas');
    mkdirSync(nas, { recursive: true });
    const { s, m } = await siteSet({ destinations: [{ name: 'nas', type: 'folder', path: nas }] });
    const at = join(s.dir, 'at');
    const after = new Date(Date.parse(m.completedAt) + 1000).toISOString();
    await cli(s, ['restore', '--at', after, '--files', '--path', 'application/site/other.txt', '--to', at, '--yes'], 0);
    expect(tree(at)).toEqual(['application/site/other.txt']);
    rmSync(s.backupDir, { recursive: true, force: true });
    const to = join(s.dir, 'from');
    const dry = await cli(
      s,
      ['restore', 'latest', '--from', 'nas', '--files', '--path', 'application/site/app.conf', '--dry-run'],
      0,
    );
    expect(dry.stdout).toContain('files: 1 file(s) and 0 symlink(s) of the 6 file(s) and 1 symlink(s) stored');
    await cli(
      s,
      ['restore', 'latest', '--from', 'nas', '--files', '--path', 'application/site/app.conf', '--to', to, '--yes'],
      0,
    );
    expect(tree(to)).toEqual(['application/site/app.conf']);
    expect(readFileSync(join(to, 'application/site/app.conf'), 'utf8')).toBe(SITE['app.conf']);
    const missing = await cli(
      s,
      ['restore', 'latest', '--from', 'nas', '--files', '--path', 'application/site/app.cnf', '--to', to + '2'],
      8,
    );
    expect(missing.stderr).toContain('Closest stored: application/site/app.conf');
    expect(existsSync(to + '2')).toBe(false);
  });
});

function makeNas(): string {
  return demoSetup({}, { demo: false }).dir;
}
