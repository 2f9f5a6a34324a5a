import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import type { CopyResult } from '../src/engine/copy.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli, localFiles, newServerDay, tree } from './helpers/offsite.js';
import { rcloneSftpConfig, startSshd, stopAllSshd, type SshServer } from './helpers/sshd.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

afterEach(stopAllSshd);

/** An rclone remote defined only by config (passed as RCLONE_CONFIG_* variables): its sftp backend on our sshd. */
function withRclone(s: DemoSetup, srv: SshServer, config: Record<string, string> = {}): void {
  const dest = {
    name: 'cloud',
    type: 'rclone',
    remote: 'offsite',
    path: srv.root,
    source: 'srv1',
    config: rcloneSftpConfig(srv, config),
  };
  writeFileSync(
    s.configFile,
    JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), destinations: [dest] }),
  );
}

describe('rclone destination (sftp backend against sshd)', () => {
  it('create copies the set through rclone rcat; rerun sends nothing; verify --read-data finds a changed file', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    withRclone(s, srv);
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    expect(tree(join(srv.root, 'srv1', m.id))).toEqual(localFiles(s, m.id));
    expect(parseJsonOutput<CopyResult[]>((await cli(s, ['copy', m.id, '--json'])).stdout)).toMatchObject([
      { ok: true, filesSent: 0 },
    ]);
    await cli(s, ['verify', m.id, '--from', 'cloud', '--read-data']);
    const file = join(srv.root, 'srv1', m.id, m.databases[0]!.file!);
    const bytes = readFileSync(file);
    bytes[bytes.length - 5]! ^= 0x10;
    writeFileSync(file, bytes);
    expect((await cli(s, ['verify', m.id, '--from', 'cloud', '--read-data'], 5)).stdout).toContain('sha256 mismatch');
  });

  it('the new-server day through rclone', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    withRclone(s, srv);
    await newServerDay(s, 'cloud');
  });

  it('server down, then an unknown host key: clear errors, set intact; the next copy completes', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    withRclone(s, srv);
    await srv.stop();
    const r = await cli(s, ['create', '--json'], 12);
    const m = parseJsonOutput<Manifest>(r.stdout);
    expect(r.stderr).toMatch(/NOT copied to cloud: .*unreachable/);
    await srv.restart();
    const other = await startSshd();
    withRclone(s, srv, { known_hosts_file: other.knownHosts.replace(/known_hosts$/, 'nothing') });
    writeFileSync(
      other.knownHosts.replace(/known_hosts$/, 'nothing'),
      readFileSync(other.knownHosts, 'utf8').replace(String(other.port), String(srv.port)),
    );
    const bad = await cli(s, ['copy', '--json'], 12);
    expect(bad.stderr).toContain('host key is unknown or changed');
    expect(readdirSync(srv.root)).toEqual([]);
    withRclone(s, srv);
    expect(parseJsonOutput<CopyResult[]>((await cli(s, ['copy', '--json'])).stdout)).toMatchObject([
      { setId: m.id, ok: true },
    ]);
    await cli(s, ['verify', m.id]);
  });
});
