import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import type { CopyResult } from '../src/engine/copy.js';
import type { RemoteSetSummary } from '../src/engine/remote.js';
import { collect, describeResult, parseJsonOutput, startCli, waitFor } from './helpers/cli.js';
import { S3RVER_KEY, startS3rver, stopAllS3rvers, s3Destination } from './helpers/s3rver.js';
import { SECRET, cli } from './helpers/offsite.js';
import { startSshd, stopAllSshd, sftpDestination } from './helpers/sshd.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

afterEach(async () => {
  await stopAllS3rvers();
  await stopAllSshd();
});

/** Files below `dir` (recursively), or [] when it does not exist. */
function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** Whether `file` holds complete JSON (a file being written does not). */
function isJson(file: string): boolean {
  try {
    JSON.parse(readFileSync(file, 'utf8'));
    return true;
  } catch {
    return false;
  }
}

/** A set with several incompressible files, so that a copy takes long enough to be cut in the middle. */
async function bigSet(s: DemoSetup, destination: Record<string, unknown>): Promise<Manifest> {
  for (let i = 0; i < 6; i++) writeFileSync(join(s.appDir, `blob${i}.bin`), randomBytes(12 * 1024 * 1024));
  writeFileSync(
    s.configFile,
    JSON.stringify({
      ...JSON.parse(readFileSync(s.configFile, 'utf8')),
      destinations: [{ ...destination, copyAfterBackup: false, parallel: 2 }],
    }),
  );
  return parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
}

async function copyCutShort(s: DemoSetup, started: () => boolean, stop: () => Promise<void>) {
  const child = startCli(['copy', '--json', '--config', s.configFile], {
    cwd: s.dir,
    env: { S3_KEY_ID: S3RVER_KEY, S3_SECRET_KEY: SECRET },
  });
  const done = collect(child);
  await waitFor(started, 'the first file at the destination', 60_000);
  await stop();
  return done;
}

describe('a destination that goes away in the middle of a copy', () => {
  it('copying again a set already whole there with a wrong key: exit 12, but the set stays marked copied (it is there)', async () => {
    const srv = await startS3rver();
    const s = demoSetup((base) => ({ ...base, destinations: [{ ...s3Destination(srv), source: 'srv1' }] }));
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const marks = () =>
      JSON.parse(readFileSync(join(s.backupDir, m.id, 'copies.json'), 'utf8')) as Record<string, { ok: boolean }>;
    expect(marks()['offsite']!.ok).toBe(true);
    const wrong = await cli(s, ['copy', m.id, '--to', 'offsite'], 12, { S3_KEY_ID: 'NOBODY' });
    expect(wrong.stdout + wrong.stderr).toContain('offsite');
    // It said NOT COPIED and made health unhealthy, the set being whole there.
    expect(marks()['offsite']!.ok).toBe(true);
    expect((await cli(s, ['list'])).stdout).toMatch(new RegExp(`^${m.id} .* -$`, 'm')); // the NOT COPIED TO column
    expect((await cli(s, ['status', '--check'])).stdout).not.toMatch(/not copied to offsite/);
  });

  it('s3rver killed mid-copy: exit 12, nothing listed there, local set intact; the next copy sends only the rest', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    const m = await bigSet(s, s3Destination(srv, { source: 'srv1' }));
    const setObjects = join(srv.dir, srv.bucket, 'p', 'srv1', m.id);
    const r = await copyCutShort(
      s,
      // s3rver creates an object's file when its upload starts; the metadata is written once it finished
      () => filesBelow(setObjects).some((f) => f.endsWith('._S3rver_metadata.json') && isJson(f)),
      () => srv.kill(),
    );
    expect(r.code, describeResult(r)).toBe(12);
    expect(r.stderr).toContain('unreachable');
    expect(existsSync(join(setObjects, 'manifest.json._S3rver_object'))).toBe(false);
    await cli(s, ['verify', m.id]);
    await srv.restart();
    expect(parseJsonOutput<RemoteSetSummary[]>((await cli(s, ['list', '--from', 'offsite', '--json'])).stdout)).toEqual(
      [],
    );
    const again = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', '--json'])).stdout);
    expect(again).toMatchObject([{ setId: m.id, ok: true }]);
    expect(again[0]!.filesAlreadyThere).toBeGreaterThan(0);
    await cli(s, ['verify', m.id, '--from', 'offsite', '--read-data']);
  });

  it('sshd killed mid-copy: exit 12, nothing listed there, local set intact; the next copy completes', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    const m = await bigSet(s, sftpDestination(srv, { source: 'srv1' }));
    const r = await copyCutShort(
      s,
      () => filesBelow(join(srv.root, 'srv1', m.id)).length > 1,
      () => srv.stop(),
    );
    expect(r.code, describeResult(r)).toBe(12);
    expect(r.stderr).toMatch(/unreachable|closed the connection/);
    expect(existsSync(join(srv.root, 'srv1', m.id, 'manifest.json'))).toBe(false);
    await cli(s, ['verify', m.id]);
    await srv.restart();
    expect(parseJsonOutput<RemoteSetSummary[]>((await cli(s, ['list', '--from', 'ssh', '--json'])).stdout)).toEqual([]);
    expect(parseJsonOutput<CopyResult[]>((await cli(s, ['copy', '--json'])).stdout)).toMatchObject([
      { setId: m.id, ok: true },
    ]);
    await cli(s, ['verify', m.id, '--from', 'ssh', '--read-data']);
  });

  it('sshd frozen mid-copy (connections open, nothing answers): exit 12 after timeoutSeconds, not never', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    const m = await bigSet(s, sftpDestination(srv, { source: 'srv1', timeoutSeconds: 1 }));
    const t0 = Date.now();
    let frozenAt = 0;
    const r = await copyCutShort(
      s,
      () => filesBelow(join(srv.root, 'srv1', m.id)).length > 1,
      async () => {
        srv.freeze();
        frozenAt = Date.now();
      },
    ).finally(() => srv.thaw());
    expect(r.code, describeResult(r)).toBe(12);
    expect(r.stderr).toMatch(/Keepalive timeout|Timed out while waiting for handshake/);
    // the keepalives (every second, two unanswered), then the retries' reconnections (1 s handshakes): about 7 s
    expect(Date.now() - frozenAt, `frozen after ${frozenAt - t0} ms`).toBeLessThan(30_000);
    expect(existsSync(join(srv.root, 'srv1', m.id, 'manifest.json'))).toBe(false);
    await cli(s, ['verify', m.id]);
    // thawed, the next copy completes
    expect(parseJsonOutput<CopyResult[]>((await cli(s, ['copy', '--json'])).stdout)).toMatchObject([
      { setId: m.id, ok: true },
    ]);
  });
});

describe('a destination that stops answering in the middle of a restore from it', () => {
  it('sshd frozen mid-fetch: SIGINT stops the restore at once (exit 130), nothing restored, nothing left', async () => {
    // Closing the SFTP connection waited for the server to close its side, which a frozen server (or a dead link)
    // never does: Ctrl-C, or the hang-up of a dropped SSH session, left the restore waiting until the server woke.
    const srv = await startSshd();
    const s = demoSetup();
    const m = await bigSet(s, sftpDestination(srv, { source: 'srv1' }));
    await cli(s, ['copy', m.id, '--to', 'ssh']);
    rmSync(s.backupDir, { recursive: true, force: true }); // the new server: nothing here
    const to = join(s.dir, 'restored-files');
    const args = ['restore', 'latest', '--from', 'ssh', '--files', '--to', to, '--yes', '--config', s.configFile];
    const child = startCli(args, { cwd: s.dir });
    const exited = collect(child, 30_000);
    const fetched = () => filesBelow(s.backupDir).filter((f) => f.includes('/application/')).length > 0;
    await waitFor(fetched, 'the first stored file fetched', 60_000, 5);
    srv.freeze();
    const t0 = Date.now();
    child.kill('SIGINT');
    const r = await exited.finally(() => srv.thaw());
    expect(r.code, describeResult(r)).toBe(130);
    expect(Date.now() - t0, 'stopped at once, not when the server answers again').toBeLessThan(10_000);
    expect(existsSync(to)).toBe(false);
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.respaldo-restore-fetch-'))).toEqual([]);
  });
});

describe('a destination that answers nothing when a restore from it starts', () => {
  it('sshd frozen before the restore connects: SIGINT stops it at once (exit 130), not at the handshake timeout', async () => {
    // Opening the destination was not raced with the interruption: Ctrl-C waited for the SSH handshake's timeout
    // (15 s, timeoutSeconds when set) and then ended as "unreachable", exit 7.
    const srv = await startSshd();
    const s = demoSetup();
    const m = await bigSet(s, sftpDestination(srv, { source: 'srv1' }));
    await cli(s, ['copy', m.id, '--to', 'ssh']);
    srv.freeze();
    const args = ['restore', 'latest', '--from', 'ssh', '--files', '--to', join(s.dir, 'out'), '--yes'];
    const child = startCli([...args, '--config', s.configFile], { cwd: s.dir });
    const exited = collect(child, 30_000);
    // The TCP connection is made (the kernel accepts it for the frozen server); the SSH handshake then waits.
    const connected = () =>
      spawnSync('ss', ['-Htn', 'state', 'established', 'dport', '=', `:${srv.port}`], { encoding: 'utf8' }).stdout
        .length > 0;
    await waitFor(connected, 'the restore to connect to the frozen server', 30_000, 10);
    const t0 = Date.now();
    child.kill('SIGINT');
    const r = await exited.finally(() => srv.thaw());
    expect(r.code, describeResult(r)).toBe(130);
    expect(Date.now() - t0, 'stopped at once, not at the handshake timeout').toBeLessThan(5_000);
    expect(existsSync(join(s.dir, 'out'))).toBe(false);
  });
});

describe('an sftp "privateKey" respaldo cannot use', () => {
  it('the .pub, or a key with a passphrase not given: exit 7 naming the file and what to fix; the passphrase never shown', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    const locked = join(s.dir, 'locked_key');
    const made = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'Key-Passphrase-1', '-f', locked]);
    expect(made.status).toBe(0);
    const use = (extra: Record<string, unknown>) =>
      writeFileSync(
        s.configFile,
        JSON.stringify({
          ...JSON.parse(readFileSync(s.configFile, 'utf8')),
          destinations: [{ ...sftpDestination(srv, extra), source: 'srv1' }],
        }),
      );
    const fails = async () =>
      parseJsonOutput<{ message: string; hint: string }>((await cli(s, ['list', '--from', 'ssh', '--json'], 7)).stdout);
    use({ privateKey: `${srv.clientKey}.pub` });
    const pub = await fails();
    expect(pub.message).toContain(`cannot use the private key ${srv.clientKey}.pub`);
    expect(pub.hint).toContain('Point "privateKey" at the OpenSSH private key');
    use({ privateKey: locked });
    const noPass = await fails();
    expect(noPass.message).toContain(`cannot use the private key ${locked}`);
    expect(noPass.hint).toContain('protected by a passphrase: give it in "passphrase"');
    use({ privateKey: locked, passphrase: 'Wrong-Passphrase-2' });
    const r = await cli(s, ['list', '--from', 'ssh', '--json'], 7);
    expect(r.stdout + r.stderr).toContain(`cannot use the private key ${locked}`);
    expect(r.stdout + r.stderr).not.toContain('Wrong-Passphrase-2');
  });
});
