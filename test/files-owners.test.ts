/**
 * The new-server day for application files: restored as root, each file, symlink and folder gets its owner back (by
 * name where this machine has the same user, as tar does), folders their modes and times, and empty folders (an
 * application's `logs/`, `uploads/`) are there again. Before, everything restored was root's and every folder 0700:
 * copied back into place, an application running as its own user could read neither its `.env` nor its folders.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { idsOf, parseAccounts } from '../src/engine/accounts.js';
import { pathProblem } from '../src/engine/manifest.js';
import { cliCommandLine, describeResult, parseJsonOutput, runCli, runShell } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

const APP_UID = 4242;
const APP_GID = 4343;

describe('owners, modes and folders of stored files', () => {
  it('are restored as they were when the restore runs as root; empty folders too', async (ctx) => {
    if (process.geteuid?.() !== 0) {
      console.log('SKIPPED files-owners: giving files away needs root (CI runs as root).');
      return ctx.skip();
    }
    const s = demoSetup({ files: { config: ['./data/app/.env'], application: [{ path: './data/app', include: [] }] } });
    const app = s.appDir;
    mkdirSync(join(app, 'logs'), { recursive: true });
    mkdirSync(join(app, 'shared'), { recursive: true });
    writeFileSync(join(app, '.env'), 'DB_PASSWORD=x\n');
    writeFileSync(join(app, 'shared', 'upload.bin'), 'u');
    symlinkSync('shared/upload.bin', join(app, 'latest'));
    for (const p of ['.env', 'logs', 'shared', 'shared/upload.bin', '']) lchownSync(join(app, p), APP_UID, APP_GID);
    lchownSync(join(app, 'latest'), APP_UID, APP_GID);
    chmodSync(join(app, '.env'), 0o640);
    chmodSync(join(app, 'logs'), 0o750);
    chmodSync(join(app, 'shared'), 0o2775);
    utimesSync(join(app, 'logs'), new Date('2021-03-04T05:06:07Z'), new Date('2021-03-04T05:06:07Z'));
    const made = await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const m = parseJsonOutput<Manifest>(made.stdout);
    expect(m.files.find((f) => f.relative === 'app/.env')?.owner).toMatchObject({ uid: APP_UID, gid: APP_GID });
    expect(m.folders?.find((d) => d.relative === 'app/logs')).toMatchObject({ mode: 0o750, group: 'application' });

    const to = join(s.dir, 'restored');
    const r = await runCli(['restore', m.id, '--files', '--to', to, '--yes', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(0);
    const back = join(to, 'application', 'app');
    const owner = (p: string) => {
      const st = lstatSync(join(back, p));
      return { uid: st.uid, gid: st.gid };
    };
    for (const p of ['', '.env', 'logs', 'shared', 'shared/upload.bin', 'latest'])
      expect(owner(p), p || 'the folder itself').toEqual({ uid: APP_UID, gid: APP_GID });
    expect(statSync(join(back, '.env')).mode & 0o7777).toBe(0o640);
    expect(statSync(join(back, 'logs')).isDirectory()).toBe(true); // empty, and there
    expect(statSync(join(back, 'logs')).mode & 0o7777).toBe(0o750);
    expect(statSync(join(back, 'shared')).mode & 0o7777).toBe(0o2775);
    expect(statSync(join(back, 'logs')).mtime.toISOString()).toBe('2021-03-04T05:06:07.000Z');
    // The restore's own folder stays private: what it holds is readable only through it.
    expect(statSync(to).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(back, '.env'), 'utf8')).toBe('DB_PASSWORD=x\n');

    // A drill of the files makes the same folders (its check would fail on a folder it cannot make).
    const drill = await runCli(['drill', m.id, '--files', '--config', s.configFile], { cwd: s.dir });
    expect(drill.code, describeResult(drill)).toBe(0);

    // Copied back into place with cp -a on a new server, the application's user owns its files again.
    const placed = join(s.dir, 'placed');
    execFileSync('cp', ['-a', back, placed]);
    expect(statSync(join(placed, '.env')).uid).toBe(APP_UID);
  });

  it('with the default include patterns (`**`), empty folders are made again too', async () => {
    // The README's example and the default: every folder was walked, but only `include: []` recorded the empty ones,
    // so an application's empty `logs/` and `uploads/` were missing from a restore of its files.
    const s = demoSetup(); // application: [{ path: './data/app', include: ['**'], exclude: [..., 'tmp/**'] }]
    mkdirSync(join(s.appDir, 'logs'), { recursive: true });
    mkdirSync(join(s.appDir, 'uploads', '2026'), { recursive: true });
    mkdirSync(join(s.appDir, 'tmp', 'cache'), { recursive: true });
    const made = await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const m = parseJsonOutput<Manifest>(made.stdout);
    const to = join(s.dir, 'restored');
    const r = await runCli(['restore', m.id, '--files', '--to', to, '--yes', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(0);
    const back = join(to, 'application', 'app');
    expect(statSync(join(back, 'logs')).isDirectory()).toBe(true);
    expect(statSync(join(back, 'uploads', '2026')).isDirectory()).toBe(true);
    expect(() => statSync(join(back, 'tmp')), 'an excluded folder stays out').toThrow(/ENOENT/);
  });

  it('a config folder and a folder inside it, both config entries, make a set whose files restore', async () => {
    // Walked twice, the inner folder was listed twice in the manifest, and the restore refused the set as tampered
    // with (exit 5): every set made with such a config was one whose files could not be restored.
    const s = demoSetup({ files: { config: ['./data/app/conf', './data/app/conf/sub'], application: [] } });
    mkdirSync(join(s.appDir, 'conf', 'sub'), { recursive: true });
    writeFileSync(join(s.appDir, 'conf', 'a.ini'), 'a=1\n');
    writeFileSync(join(s.appDir, 'conf', 'sub', 'b.ini'), 'b=2\n');
    const made = await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const m = parseJsonOutput<Manifest>(made.stdout);
    expect(m.folders?.map((d) => d.relative)).toEqual(['data/app/conf', 'data/app/conf/sub']);
    const restore = (to: string) =>
      runCli(['restore', m.id, '--files', '--to', to, '--yes', '--config', s.configFile], { cwd: s.dir });
    const r = await restore(join(s.dir, 'restored'));
    expect(r.code, describeResult(r)).toBe(0);
    expect(readFileSync(join(s.dir, 'restored', 'config', 'data', 'app', 'conf', 'sub', 'b.ini'), 'utf8')).toBe(
      'b=2\n',
    );

    // A set made before this was fixed, listing the folder twice, restores too.
    const manifestFile = join(s.backupDir, m.id, 'manifest.json');
    const doc = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    doc.folders = [...doc.folders!, doc.folders![1]!];
    writeFileSync(manifestFile, JSON.stringify(doc, null, 2));
    const again = await restore(join(s.dir, 'restored-again'));
    expect(again.code, describeResult(again)).toBe(0);
  });

  it('restored as root where the owners cannot be given (a container without their ids): kept, said, not failed', async (ctx) => {
    // root in a user namespace that maps root alone, as in a rootless container: chown to 4242 is EINVAL there.
    const inContainer = (args: string[]) => runShell(`unshare -U -r ${cliCommandLine(args)}`);
    if (process.geteuid?.() !== 0 || (await runShell('unshare -U -r true')).code !== 0) {
      console.log('SKIPPED files-owners: needs root and unshare -U (CI runs as root).');
      return ctx.skip();
    }
    const s = demoSetup({ databases: [], files: { application: [{ path: './data/app' }] } });
    mkdirSync(join(s.appDir, 'sub'), { recursive: true });
    writeFileSync(join(s.appDir, 'sub', '.env'), 'A=1\n');
    chmodSync(join(s.appDir, 'sub', '.env'), 0o640);
    execFileSync('chown', ['-R', `${APP_UID}:${APP_GID}`, s.appDir]);
    const made = await runCli(['create', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const to = join(s.dir, 'restored');
    const r = await inContainer(['restore', 'latest', '--files', '--to', to, '--yes', '--config', s.configFile]);
    // It was an internal error (exit 1): EINVAL, lchown, nothing restored.
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout + r.stderr).toMatch(
      /\d+ restored file\(s\), symlink\(s\) or folder\(s\) are owned by root.*\(EINVAL/,
    );
    const env = join(to, 'application', 'app', 'sub', '.env');
    expect(readFileSync(env, 'utf8')).toBe('A=1\n');
    expect(statSync(env).mode & 0o7777).toBe(0o640);
    // A drill there passes: it checks that the files restore, which they do (it failed, a drill-failure alert).
    const drill = await inContainer(['drill', 'latest', '--files', '--config', s.configFile]);
    expect(drill.code, describeResult(drill)).toBe(0);
  });

  it('a user this machine knows by the recorded name gets its id here; an unknown name keeps the recorded id', () => {
    expect(idsOf({ uid: 4242, gid: 4343, user: 'root', group: 'root' })).toEqual({ uid: 0, gid: 0 });
    expect(idsOf({ uid: 4242, gid: 4343, user: 'no-such-user-here', group: 'no-such-group' })).toEqual({
      uid: 4242,
      gid: 4343,
    });
    expect(idsOf({ uid: 4242, gid: 4343 })).toEqual({ uid: 4242, gid: 4343 });
    expect(
      parseAccounts('root:x:0:0:root:/root:/bin/bash\n# note\nbad\napp:x:1001:1001::/srv/app:/bin/sh\n', 2),
    ).toEqual([
      ['root', 0],
      ['app', 1001],
    ]);
  });

  it('an owner or folder a manifest should not hold is damage', () => {
    const base = {
      id: '20261204_120000',
      databases: [],
      files: [] as Manifest['files'],
    } as unknown as Manifest;
    const file = {
      group: 'application',
      source: '/srv/app/a',
      relative: 'app/a',
      kind: 'file',
      stored: 'application/app/a.zst',
      linkTarget: null,
      size: 1,
      mode: 0o644,
      mtime: '2026-12-04T12:00:00.000Z',
      md5: null,
      sha256: null,
    } as Manifest['files'][number];
    const folder = { group: 'application', relative: 'app', mode: 0o755, mtime: '2026-12-04T12:00:00.000Z' } as const;
    expect(pathProblem({ ...base, files: [{ ...file, owner: { uid: 1, gid: 1, user: 'app' } }] })).toBeNull();
    expect(pathProblem({ ...base, files: [{ ...file, owner: { uid: -1, gid: 1 } }] })).toMatch(
      /unsafe owner of app\/a/,
    );
    expect(pathProblem({ ...base, files: [{ ...file, owner: { uid: 1, gid: 1, user: 'a:b' } }] })).toMatch(/owner/);
    expect(pathProblem({ ...base, folders: [folder] })).toBeNull();
    expect(pathProblem({ ...base, folders: [{ ...folder, relative: '../etc' }] })).toMatch(/unsafe folder path/);
    expect(pathProblem({ ...base, folders: [{ ...folder, mode: 0o70000 }] })).toMatch(/unsafe mode of folder app/);
    expect(pathProblem({ ...base, folders: [{ ...folder, group: 'etc' as 'config' }] })).toMatch(/folder group/);
  });
});
