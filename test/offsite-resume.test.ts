/**
 * A connection dropped in the middle of a file read from a destination (`restore --from`), the server staying up:
 * a streamed restore resumes the file from the byte where it stopped, a fetch fetches the file again, and both
 * restore every byte. The drop is real: a TCP proxy on loopback between respaldo and the real server (sshd, s3rver,
 * rclone's sftp backend) resets the connection once it has carried a given number of bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, describeResult } from './helpers/cli.js';
import { startCutProxy, type CutProxy } from './helpers/cut-proxy.js';
import { SECRET, cli } from './helpers/offsite.js';
import { S3RVER_KEY, startS3rver, stopAllS3rvers, s3Destination } from './helpers/s3rver.js';
import { rcloneSftpConfig, startSshd, stopAllSshd, sftpDestination } from './helpers/sshd.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

const proxies: CutProxy[] = [];
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.close();
  await stopAllS3rvers();
  await stopAllSshd();
});

const MiB = 1024 * 1024;

/** Four 8 MiB incompressible application files, backed up and copied to `destination` (through the proxy). */
async function setThere(s: DemoSetup, destination: Record<string, unknown>): Promise<Map<string, string>> {
  const sums = new Map<string, string>();
  for (let i = 0; i < 4; i++) {
    const bytes = randomBytes(8 * MiB);
    writeFileSync(join(s.appDir, `blob${i}.bin`), bytes);
    sums.set(`blob${i}.bin`, createHash('sha256').update(bytes).digest('hex'));
  }
  writeFileSync(
    s.configFile,
    JSON.stringify({
      ...JSON.parse(readFileSync(s.configFile, 'utf8')),
      destinations: [{ source: 'srv1', ...destination }],
    }),
  );
  await cli(s, ['create'], 0, { S3_KEY_ID: S3RVER_KEY, S3_SECRET_KEY: SECRET });
  return sums;
}

/** SHA-256 of every `blob*.bin` below `dir`, by name. */
function blobsBelow(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile() && /^blob\d\.bin$/.test(e.name))
      out.set(
        e.name,
        createHash('sha256')
          .update(readFileSync(join(e.parentPath, e.name)))
          .digest('hex'),
      );
  return out;
}

/**
 * `restore latest --from NAME --files` fetched, then streamed, each with the connection cut once after 12 MiB
 * (in the middle of the second file): both restore every file intact, exit 0, and say what happened.
 */
async function restoresThroughADrop(
  s: DemoSetup,
  name: string,
  proxy: CutProxy,
  sums: Map<string, string>,
  modes = [false, true],
) {
  for (const stream of modes) {
    const to = join(s.dir, stream ? 'streamed' : 'fetched');
    const before = proxy.cuts;
    proxy.cutAfter(12 * MiB);
    const args = ['restore', 'latest', '--from', name, '--files', '--to', to, '--yes', '--config', s.configFile];
    const r = await runCli([...args, ...(stream ? ['--stream'] : [])], {
      cwd: s.dir,
      env: { S3_KEY_ID: S3RVER_KEY, S3_SECRET_KEY: SECRET },
    });
    expect(r.code, describeResult(r)).toBe(0);
    expect(proxy.cuts, 'the connection was cut').toBe(before + 1);
    expect(blobsBelow(to)).toEqual(sums);
    if (stream)
      expect(r.stderr).toMatch(
        new RegExp(
          `warning: destination "${name}": reading \\S+/blob1\\.bin\\.zst: .*; resuming that file where it stopped, after \\d`,
        ),
      );
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.'))).toEqual([]);
  }
}

describe('a connection dropped in the middle of a file read from a destination', () => {
  it('sftp: the streamed restore resumes the file where it stopped, the fetch fetches it again', async () => {
    const srv = await startSshd();
    const proxy = await startCutProxy(srv.port);
    proxies.push(proxy);
    const s = demoSetup();
    const sums = await setThere(s, sftpDestination(srv, { port: proxy.port }));
    await restoresThroughADrop(s, 'ssh', proxy, sums);
  });

  it('S3 (s3rver): the same, through ranged reads; verify --read-data reads the file again', async () => {
    const srv = await startS3rver();
    const proxy = await startCutProxy(srv.port);
    proxies.push(proxy);
    const s = demoSetup();
    const endpoint = `http://127.0.0.1:${proxy.port}`;
    const sums = await setThere(s, s3Destination({ ...srv, endpoint }, { forcePathStyle: true }));
    await restoresThroughADrop(s, 'offsite', proxy, sums);

    // verify --read-data reads a file cut short again whole; it used to hash the two reads as one: "content changed".
    const before = proxy.cuts;
    proxy.cutAfter(12 * MiB);
    const args = ['verify', 'latest', '--from', 'offsite', '--read-data', '--config', s.configFile];
    const r = await runCli(args, { cwd: s.dir, env: { S3_KEY_ID: S3RVER_KEY, S3_SECRET_KEY: SECRET } });
    expect(r.code, describeResult(r)).toBe(0);
    expect(proxy.cuts).toBe(before + 1);
  });

  it('rclone (sftp backend): the streamed restore, through rclone cat --offset', async () => {
    const srv = await startSshd();
    const proxy = await startCutProxy(srv.port);
    proxies.push(proxy);
    const s = demoSetup();
    const knownHosts = join(s.dir, 'known_hosts');
    const key = readFileSync(srv.knownHosts, 'utf8').split(' ').slice(1).join(' ');
    writeFileSync(knownHosts, `[127.0.0.1]:${proxy.port} ${key}`);
    const sums = await setThere(s, {
      name: 'cloud',
      type: 'rclone',
      remote: 'offsite',
      path: srv.root,
      config: rcloneSftpConfig(srv, { port: String(proxy.port), known_hosts_file: knownHosts }),
    });
    await restoresThroughADrop(s, 'cloud', proxy, sums, [true]); // a fetch is retried as for the others (slow here)
  });
});
