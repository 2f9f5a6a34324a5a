import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VerifyError } from '../src/core/errors.js';
import { printCopyResults } from '../src/cli/commands/offsite.js';
import { loadConfig } from '../src/config/load.js';
import { CollectingReporter } from '../src/core/events.js';
import type { Manifest } from '../src/core/types.js';
import { SftpDestination } from '../src/destinations/sftp.js';
import { PacketSender } from '../src/destinations/sftp-packets.js';
import { copySets, type CopyResult } from '../src/engine/copy.js';
import { parseJsonOutput, runCli } from './helpers/cli.js';
import { startSshd, stopAllSshd, sftpDestination, type SshServer } from './helpers/sshd.js';
import { demoSetup, makeTmpDir } from './helpers/tmp.js';

afterEach(async () => {
  vi.restoreAllMocks();
  await stopAllSshd();
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Local files of the given sizes (random bytes), named by their size. */
function localFiles(sizes: number[]): { path: string; body: Buffer }[] {
  const dir = makeTmpDir('respaldo-sftp-packets-');
  return sizes.map((n) => {
    const body = randomBytes(n);
    const path = join(dir, `f${n}`);
    writeFileSync(path, body);
    return { path, body };
  });
}

/** putFile of every file to `s/<name>` at once; returns what `check` was given for each. */
async function putAll(dest: SftpDestination, files: { path: string }[]) {
  const checked = new Map<string, { sha256: string; bytes: number }>();
  await Promise.all(
    files.map((f) => {
      const name = f.path.split('/').pop()!;
      return dest.putFile(`s/${name}`, f.path, 0, {
        check: (sha, bytes) => void checked.set(name, { sha256: sha, bytes }),
      });
    }),
  );
  return checked;
}

function expectSame(srv: SshServer, files: { path: string; body: Buffer }[], checked: Map<string, unknown>) {
  for (const f of files) {
    const name = f.path.split('/').pop()!;
    expect(checked.get(name), name).toEqual({ sha256: sha256(f.body), bytes: f.body.length });
    expect(sha256(readFileSync(join(srv.root, 's', name))), name).toBe(sha256(f.body));
  }
  expect(readdirSync(join(srv.root, 's')).sort()).toEqual(files.map((f) => f.path.split('/').pop()!).sort());
}

describe('SFTP putFile: the file read straight into the SSH packets (OpenSSH sshd on loopback)', () => {
  // around a packet (32 KiB), a request (7 packets with OpenSSH) and a read batch (1 MiB)
  const sizes = [0, 1, 32_700, 229_346, 229_347, 229_348, 1 << 20, (1 << 20) + 1, 5 * 1048576 + 12_345];

  it('sends files of every size, several at once, exactly; check sees the SHA-256 and length of what was sent', async () => {
    const srv = await startSshd();
    const dest = await SftpDestination.connect(sftpDestination(srv));
    const direct = vi.spyOn(PacketSender.prototype, 'writeFile');
    const files = localFiles(sizes);
    expect(dest.directWrites).toBeNull(); // nothing sent yet
    expectSame(srv, files, await putAll(dest, files));
    expect(direct).toHaveBeenCalledTimes(files.length); // ssh2's internals are the ones PacketSender knows
    expect(dest.directWrites).toBe(true);
    await dest.close();
  });

  it.each([
    { only: 'chacha20-poly1305@openssh.com', config: ['Ciphers chacha20-poly1305@openssh.com'] },
    { only: 'aes256-gcm@openssh.com', config: ['Ciphers aes256-gcm@openssh.com'] },
    { only: 'aes128-ctr + hmac-sha2-256-etm', config: ['Ciphers aes128-ctr', 'MACs hmac-sha2-256-etm@openssh.com'] },
    { only: 'aes256-ctr + hmac-sha2-512', config: ['Ciphers aes256-ctr', 'MACs hmac-sha2-512'] },
  ])('a server that offers only $only gets the same bytes', async ({ config }) => {
    const srv = await startSshd({ config });
    const dest = await SftpDestination.connect(sftpDestination(srv));
    const files = localFiles([1, 229_348, 3 * 1048576 + 7]);
    expectSame(srv, files, await putAll(dest, files));
    await dest.close();
  });

  it('keys exchanged again and again in the middle of the writes (RekeyLimit 1M) change nothing sent', async () => {
    const srv = await startSshd({ config: ['RekeyLimit 1M'] });
    const dest = await SftpDestination.connect(sftpDestination(srv));
    const proto = (dest as unknown as { client: { client: { _protocol: { _cipher: unknown } } } }).client.client
      ._protocol;
    const firstKeys = proto._cipher;
    // packets made before an exchange and sent after it go through ssh2's channelData, into the new layout
    const ssh2 = proto as unknown as { channelData: (id: number, d: Buffer) => void };
    const channelData = ssh2.channelData.bind(ssh2);
    let copied = 0;
    ssh2.channelData = (id, d) => {
      if (d.length > 1000) copied++;
      channelData(id, d);
    };
    const files = localFiles([20 * 1048576 + 3, 7 * 1048576]);
    expectSame(srv, files, await putAll(dest, files));
    expect(proto._cipher).not.toBe(firstKeys);
    expect(copied).toBeGreaterThan(0);
    await dest.close();
  });

  it('when check throws, nothing is put in place (no temporary file either) and its error is thrown as is', async () => {
    const srv = await startSshd();
    const dest = await SftpDestination.connect(sftpDestination(srv));
    const [f] = localFiles([3 * 1048576]);
    const refused = new VerifyError('does not match its manifest', 'verify it');
    let seen: { sha256: string; bytes: number } | undefined;
    const put = dest.putFile('s/x', f!.path, f!.body.length, {
      check: (sha, bytes) => {
        seen = { sha256: sha, bytes };
        throw refused;
      },
    });
    await expect(put).rejects.toBe(refused);
    expect(seen).toEqual({ sha256: sha256(f!.body), bytes: f!.body.length });
    expect(existsSync(join(srv.root, 's')) ? readdirSync(join(srv.root, 's')) : []).toEqual([]);
    await dest.close();
  });

  it('with ssh2 internals it does not know, writes through SFTP.write, as exactly', async () => {
    const srv = await startSshd();
    const unknown = vi.spyOn(PacketSender, 'of').mockReturnValue(null);
    const direct = vi.spyOn(PacketSender.prototype, 'writeFile');
    const dest = await SftpDestination.connect(sftpDestination(srv));
    const files = localFiles([0, 229_348, 2 * 1048576 + 5]);
    expectSame(srv, files, await putAll(dest, files));
    expect(unknown).toHaveBeenCalled();
    expect(direct).not.toHaveBeenCalled();
    expect(dest.directWrites).toBe(false);
    await dest.close();
  });

  it('a copy through ssh2 internals it does not know says so (--json and text), and a direct one does not', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    writeFileSync(
      s.configFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(s.configFile, 'utf8')),
        destinations: [sftpDestination(srv, { source: 'srv1', copyAfterBackup: false })],
      }),
    );
    const m = parseJsonOutput<Manifest>(
      (await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir })).stdout,
    );
    const cfg = await loadConfig({ configPath: s.configFile });
    const copy = () => copySets(cfg, { id: m.id, to: 'ssh' }, new CollectingReporter());
    const printed = (results: CopyResult[]) => {
      const lines: string[] = [];
      printCopyResults({ out: (l) => lines.push(l), err: (l) => lines.push(l) }, results);
      return lines.join('\n');
    };

    vi.spyOn(PacketSender, 'of').mockReturnValue(null);
    const slow = await copy();
    expect(slow).toMatchObject([{ ok: true, sftpDirectWrites: false }]);
    expect(slow[0]!.filesSent).toBeGreaterThan(0);
    expect(printed(slow)).toContain("through ssh2's own writes: the installed ssh2 is not the version respaldo");
    expect(await copy()).toMatchObject([{ ok: true, filesSent: 0, sftpDirectWrites: null }]); // nothing to send

    vi.restoreAllMocks();
    rmSync(join(srv.root, 'srv1'), { recursive: true });
    const direct = await copy();
    expect(direct).toMatchObject([{ ok: true, sftpDirectWrites: true }]);
    expect(printed(direct)).not.toContain('ssh2');
  });

  it('PacketSender.of refuses an object without the internals it needs', () => {
    expect(PacketSender.of({}, undefined)).toBeNull();
    expect(PacketSender.of({ outgoing: { id: 0, window: 1, packetSize: 32768, state: 'open' } }, undefined)).toBeNull();
  });
});
