/**
 * Faults of off-site copies against real servers: a destination that is full (a small tmpfs under
 * a folder destination and under sshd's folder, also through rclone's sftp backend; needs root, as
 * CI has) or remounted read-only, a file changed at the destination behind respaldo's back, and SFTP with a password (a
 * throwaway local user; root).
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import type { CopyResult } from '../src/engine/copy.js';
import type { RemoteSetSummary } from '../src/engine/remote.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli, localFiles, tree } from './helpers/offsite.js';
import {
  makeThrowawayUser,
  startSshd,
  stopAllSshd,
  throwawayUserProblem,
  type ThrowawayUser,
  rcloneSftpConfig,
  sftpDestination,
} from './helpers/sshd.js';
import { mountSmallDisk, tmpfsProblem, unmountAllSmallDisks } from './helpers/tmpfs.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

const users: ThrowawayUser[] = [];
afterEach(async () => {
  await stopAllSshd();
  unmountAllSmallDisks();
  for (const u of users.splice(0)) u.remove();
});

const diskSkip = tmpfsProblem();
if (diskSkip) console.log(`SKIPPED full-destination tests: ${diskSkip}`);
const userSkip = throwawayUserProblem();
if (userSkip) console.log(`SKIPPED SFTP password test: ${userSkip}`);

const MB = 1024 * 1024;

function withDestination(s: DemoSetup, dest: Record<string, unknown>): void {
  writeFileSync(
    s.configFile,
    JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), destinations: [{ source: 'srv1', ...dest }] }),
  );
}

/** Incompressible application files: a set of about `mb` MB. */
function bigFiles(s: DemoSetup, mb: number): void {
  for (let i = 0; i < mb; i++) writeFileSync(join(s.appDir, `blob${i}.bin`), randomBytes(MB));
}

/** Files below `dir` whose name starts with `.respaldo-part-`. */
function temps(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.startsWith('.respaldo-part-'))
    .map((e) => e.name);
}

describe.skipIf(diskSkip !== null)('a full destination', () => {
  it('folder on a full disk: create exits 12 naming the full disk, no temporary file left; with room, copy completes', async () => {
    const s = demoSetup();
    const disk = mountSmallDisk(join(s.dir, 'nas'), 2 * MB);
    bigFiles(s, 6);
    withDestination(s, { name: 'nas', type: 'folder', path: disk.dir });
    const r = await cli(s, ['create', '--json'], 12);
    const m = parseJsonOutput<Manifest>(r.stdout);
    expect(r.stderr).toContain(`NOT copied to nas: destination "nas": writing srv1/${m.id}/`);
    expect(r.stderr).toContain(`no space left on ${disk.dir}`);
    expect(temps(disk.dir)).toEqual([]);
    await cli(s, ['verify', m.id]);
    expect(parseJsonOutput<RemoteSetSummary[]>((await cli(s, ['list', '--from', 'nas', '--json'])).stdout)).toEqual([]);
    disk.resize(64 * MB);
    expect(parseJsonOutput<CopyResult[]>((await cli(s, ['copy', '--json'])).stdout)).toMatchObject([
      { setId: m.id, ok: true },
    ]);
    expect(tree(join(disk.dir, 'srv1', m.id))).toEqual(localFiles(s, m.id));
  });

  it('folder on a disk remounted read-only: said so (it was "not found", "list the destination"); read-write, copy completes', async () => {
    const s = demoSetup();
    const disk = mountSmallDisk(join(s.dir, 'nas'), 64 * MB);
    withDestination(s, { name: 'nas', type: 'folder', path: disk.dir });
    // what the kernel does to a disk with errors (errors=remount-ro)
    const remount = (how: string) => expect(spawnSync('mount', ['-o', `remount,${how}`, disk.dir]).status).toBe(0);
    remount('ro');
    const r = await cli(s, ['create', '--json'], 12);
    const m = parseJsonOutput<Manifest>(r.stdout);
    // its first write there is the copy's claim of the set (copy-claim.ts)
    expect(r.stderr).toContain(`NOT copied to nas: destination "nas": writing srv1/.respaldo-claims/${m.id}.`);
    expect(r.stderr).toContain(`${disk.dir} is on a read-only file system (EROFS)`);
    expect(r.stderr).not.toContain('not found');
    const again = await cli(s, ['copy', '--to', 'nas'], 12);
    expect(again.stderr).toContain('mount it read-write');
    remount('rw');
    expect(parseJsonOutput<CopyResult[]>((await cli(s, ['copy', '--json'])).stdout)).toMatchObject([
      { setId: m.id, ok: true },
    ]);
    expect(tree(join(disk.dir, 'srv1', m.id))).toEqual(localFiles(s, m.id));
  });

  it('sftp server with a full disk: create exits 12 with a clear error, no temporary file left; with room, copy completes', async () => {
    const s = demoSetup();
    const disk = mountSmallDisk(join(s.dir, 'sftp-disk'), 2 * MB);
    const srv = await startSshd();
    bigFiles(s, 6);
    withDestination(s, sftpDestination(srv, { path: disk.dir }));
    const r = await cli(s, ['create', '--json'], 12);
    const m = parseJsonOutput<Manifest>(r.stdout);
    expect(r.stderr).toContain(`NOT copied to ssh: destination "ssh": writing srv1/${m.id}/`);
    expect(r.stderr).toMatch(/the server could not write it \(disk full or quota\?/);
    expect(temps(disk.dir)).toEqual([]);
    await cli(s, ['verify', m.id]);
    disk.resize(64 * MB);
    expect(parseJsonOutput<CopyResult[]>((await cli(s, ['copy', '--json'])).stdout)).toMatchObject([
      { setId: m.id, ok: true },
    ]);
    await cli(s, ['verify', m.id, '--from', 'ssh', '--read-data']);
  });

  it('rclone (sftp backend) on a full disk: exit 12 saying disk full, not "run rclone by hand"; with room, copy completes', async () => {
    const s = demoSetup();
    const disk = mountSmallDisk(join(s.dir, 'rclone-disk'), 2 * MB);
    const srv = await startSshd();
    bigFiles(s, 6);
    withDestination(s, {
      name: 'cloud',
      type: 'rclone',
      remote: 'offsite',
      path: disk.dir,
      config: rcloneSftpConfig(srv),
    });
    const r = await cli(s, ['create', '--json'], 12);
    const m = parseJsonOutput<Manifest>(r.stdout);
    expect(r.stderr).toContain(`NOT copied to cloud: destination "cloud": writing srv1/${m.id}/`);
    expect(r.stderr).toMatch(/the remote could not write it \(disk full or quota\?/);
    const again = await cli(s, ['copy'], 12); // still full: the hint is the destination's own
    expect(again.stderr).toMatch(/hint: Free space at the remote .*respaldo prune --from cloud/);
    expect(again.stderr).not.toContain('rclone command by hand');
    await cli(s, ['verify', m.id]);
    disk.resize(64 * MB);
    expect(parseJsonOutput<CopyResult[]>((await cli(s, ['copy', '--json'])).stdout)).toMatchObject([
      { setId: m.id, ok: true },
    ]);
    await cli(s, ['verify', m.id, '--from', 'cloud', '--read-data']);
  });
});

describe("a file changed at the destination behind respaldo's back", () => {
  it('sftp: verify --from checks sizes (passes), --read-data re-hashes and finds it (exit 5)', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    withDestination(s, sftpDestination(srv));
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const file = join(srv.root, 'srv1', m.id, m.databases[0]!.file!);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1]! ^= 0x40;
    writeFileSync(file, bytes);
    await cli(s, ['verify', m.id, '--from', 'ssh']);
    const bad = await cli(s, ['verify', m.id, '--from', 'ssh', '--read-data'], 5);
    expect(bad.stdout).toContain(`${m.databases[0]!.file}: sha256 mismatch (content changed)`);
  });
});

describe.skipIf(userSkip !== null)('SFTP with a password (a throwaway local user)', () => {
  it('copies with the password from ${VAR}; a wrong password is refused clearly; the password is never shown', async () => {
    const user = makeThrowawayUser();
    users.push(user);
    const srv = await startSshd({ passwords: true });
    const s = demoSetup();
    withDestination(s, {
      name: 'ssh',
      type: 'sftp',
      host: '127.0.0.1',
      port: srv.port,
      user: user.name,
      password: '${SFTP_PASSWORD}',
      hostKey: srv.hostKey,
      path: user.home,
    });
    const wrong = await cli(s, ['create', '--json'], 12, { SFTP_PASSWORD: 'not-the-password' });
    expect(wrong.stderr).toContain(`refused the login of "${user.name}"`);
    const r = await cli(s, ['copy', '--json'], 0, { SFTP_PASSWORD: user.password });
    const [copied] = parseJsonOutput<CopyResult[]>(r.stdout);
    expect(copied).toMatchObject({ ok: true });
    expect(tree(join(user.home, 'srv1', copied!.setId))).toEqual(localFiles(s, copied!.setId));
    await cli(s, ['verify', copied!.setId, '--from', 'ssh', '--read-data'], 0, { SFTP_PASSWORD: user.password });
    const logs = readdirSync(join(s.backupDir, 'logs'))
      .map((f) => readFileSync(join(s.backupDir, 'logs', f), 'utf8'))
      .join('');
    for (const text of [
      r.stdout,
      r.stderr,
      wrong.stderr,
      logs,
      readFileSync(join(s.backupDir, copied!.setId, 'copies.json'), 'utf8'),
    ])
      expect(text).not.toContain(user.password);
  });
});
