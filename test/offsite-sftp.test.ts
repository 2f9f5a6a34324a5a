import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import type { CopyResult } from '../src/engine/copy.js';
import type { RemoteSetSummary } from '../src/engine/remote.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli, localFiles, newServerDay, tree } from './helpers/offsite.js';
import { startSshd, stopAllSshd, type SshServer, sftpDestination } from './helpers/sshd.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

afterEach(stopAllSshd);

function withSftp(s: DemoSetup, srv: SshServer, extra: Record<string, unknown> = {}): void {
  const dest = sftpDestination(srv, { source: 'srv1', ...extra });
  writeFileSync(
    s.configFile,
    JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), destinations: [dest] }),
  );
}

describe('SFTP destination (OpenSSH sshd on loopback)', () => {
  it('create copies the set with the same files; rerun sends nothing; verify --read-data', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    withSftp(s, srv);
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    expect(tree(join(srv.root, 'srv1', m.id))).toEqual(localFiles(s, m.id));
    expect(parseJsonOutput<CopyResult[]>((await cli(s, ['copy', m.id, '--json'])).stdout)).toMatchObject([
      { ok: true, filesSent: 0 },
    ]);
    await cli(s, ['verify', m.id, '--from', 'ssh', '--read-data']);
  });

  it('folders made there are 0700; a path that is not on the server is an error, never an empty destination, never made', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    withSftp(s, srv);
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    for (const dir of ['srv1', `srv1/${m.id}`, `srv1/${m.id}/databases`])
      expect((statSync(join(srv.root, dir)).mode & 0o777).toString(8), dir).toBe('700');

    // A typo in "path" (or a disk not mounted there): it listed nothing, exit 0, and a copy made the whole tree.
    const typo = join(srv.root, 'not-mounted', 'deep');
    withSftp(s, srv, { path: typo });
    const listed = await cli(s, ['list', '--from', 'ssh'], 7);
    expect(listed.stderr).toContain(`${typo} does not exist on sftp://`);
    expect(listed.stderr).toContain('a typo in "path", or a disk not mounted?');
    const copied = await cli(s, ['copy', m.id, '--to', 'ssh'], 12);
    expect(copied.stdout + copied.stderr).toContain(`${typo} does not exist`);
    expect(existsSync(join(srv.root, 'not-mounted'))).toBe(false);
    await cli(s, ['restore', 'latest', '--from', 'ssh', '--db', 'users', '--to', join(s.dir, 'x.db'), '--yes'], 7);
  });

  it('parallel 32: verify --read-data and restore --from (fetched and streamed) print no listener warning', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    mkdirSync(join(s.appDir, 'many'));
    for (let i = 0; i < 40; i++) writeFileSync(join(s.appDir, 'many', `f${i}.bin`), randomBytes(64 << 10));
    withSftp(s, srv, { parallel: 32 });
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    for (const args of [
      ['verify', m.id, '--from', 'ssh', '--read-data'],
      ['restore', m.id, '--from', 'ssh', '--files', '--to', join(s.dir, 'fetched'), '--yes'],
      ['restore', m.id, '--from', 'ssh', '--files', '--to', join(s.dir, 'streamed'), '--yes', '--stream'],
    ]) {
      const r = await cli(s, args);
      // Node's "MaxListenersExceededWarning: Possible EventEmitter memory leak detected", for an operator to read
      expect(r.stderr, args.join(' ')).not.toMatch(/MaxListeners|memory leak/);
    }
    expect(readFileSync(join(s.dir, 'streamed', 'application', 'app', 'many', 'f39.bin')).length).toBe(64 << 10);
  });

  it('the new-server day from SFTP', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    withSftp(s, srv);
    await newServerDay(s, 'ssh');
  });

  it('an unknown host key is refused, naming the key seen and how to pin it; nothing is sent', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    withSftp(s, srv, { hostKey: 'SHA256:' + 'A'.repeat(43) });
    const r = await cli(s, ['create', '--json'], 12);
    expect(r.stderr).toContain(`presented host key ${srv.hostKey}`);
    expect(r.stderr).toContain(`not the pinned SHA256:${'A'.repeat(43)}`);
    const l = await cli(s, ['list', '--from', 'ssh'], 7);
    expect(l.stderr).toContain(`set "hostKey": "${srv.hostKey}"`);
    expect(tree(srv.root)).toEqual({});
    withSftp(s, srv);
    const ok = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', '--json'])).stdout);
    expect(ok).toMatchObject([{ ok: true }]);
  });

  it('a hostKey written with base64 padding (SHA256:…=, as some tools print it) is the same key: accepted', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    expect(srv.hostKey).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    withSftp(s, srv, { hostKey: `${srv.hostKey}=` });
    await cli(s, ['create']);
    expect(
      parseJsonOutput<RemoteSetSummary[]>((await cli(s, ['list', '--from', 'ssh', '--json'])).stdout),
    ).toHaveLength(1);
  });

  it('sshd stopped: list --from and restore --from give a hint for what they do, not for copy', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    withSftp(s, srv);
    await cli(s, ['create']);
    await srv.stop();
    for (const args of [
      ['list', '--from', 'ssh'],
      ['restore', 'latest', '--from', 'ssh', '--db', 'users', '--dry-run'],
    ]) {
      const r = await cli(s, args, 7);
      expect(r.stderr).toContain('hint: Check the network and the SSH server, then run the command again.');
      expect(r.stderr).not.toContain('respaldo copy');
    }
    const copy = await cli(s, ['copy', 'latest', '--to', 'ssh'], 12);
    expect(copy.stderr).toContain('What was sent is kept');
  });

  it('sshd stopped: create exits 12, set intact; a key that is not authorized is refused; after a restart the copy completes', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    withSftp(s, srv);
    await srv.stop();
    const r = await cli(s, ['create', '--json'], 12);
    const m = parseJsonOutput<Manifest>(r.stdout);
    expect(r.stderr).toMatch(/NOT copied to ssh: .*unreachable/);
    await cli(s, ['verify', m.id]);
    await srv.restart();
    const other = await startSshd(); // its client key is not authorized on `srv`
    withSftp(s, srv, { privateKey: other.clientKey });
    expect((await cli(s, ['copy', '--json'], 12)).stderr).toContain('refused the login of');
    withSftp(s, srv);
    expect(parseJsonOutput<CopyResult[]>((await cli(s, ['copy', '--json'])).stdout)).toMatchObject([
      { setId: m.id, ok: true },
    ]);
    const listed = parseJsonOutput<RemoteSetSummary[]>((await cli(s, ['list', '--from', 'ssh', '--json'])).stdout);
    expect(listed.map((x) => x.id)).toEqual([m.id]);
  });
});
