import { PassThrough, Readable } from 'node:stream';
import { afterEach, expect, it, vi } from 'vitest';
import { DestinationError } from '../src/core/errors.js';
import { SftpDestination } from '../src/destinations/sftp.js';
import { startCutProxy } from './helpers/cut-proxy.js';
import { startSshd, stopAllSshd, sftpDestination } from './helpers/sshd.js';
import { waitFor } from './helpers/cli.js';
import { makeTmpDir } from './helpers/tmp.js';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

afterEach(async () => {
  vi.restoreAllMocks();
  await stopAllSshd();
});

/** Each of `outcomes` (resolving with the error it failed with) settles within 20 s, failed by the lost connection. */
async function expectEachLostTheConnection(outcomes: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.race([
    Promise.all(outcomes),
    new Promise((resolve) => setTimeout(() => resolve('still waiting after 20 s'), 20_000)),
  ]);
  expect(Array.isArray(settled), String(settled)).toBe(true);
  for (const err of settled as unknown[]) {
    expect(err).toBeInstanceOf(DestinationError);
    expect((err as DestinationError).message).toMatch(/unreachable or closed the connection/);
  }
}

it('the connection dropping under several uploads at once fails every one of them (none waits forever), printing nothing', async () => {
  // The library's default listeners print when a connection ends: that would break --json output.
  const printed = [vi.spyOn(console, 'log'), vi.spyOn(console, 'error')];
  const srv = await startSshd();
  const dest = await SftpDestination.connect(sftpDestination(srv));
  // Three uploads whose bodies never end: each stays in flight until the connection goes.
  const bodies = [0, 1, 2].map(() => new PassThrough());
  const outcomes = bodies.map((body, i) => {
    body.write(Buffer.alloc(64 * 1024, i));
    return dest.put(`s/f${i}`, body, 1 << 30).then(
      () => 'resolved',
      (err: unknown) => err,
    );
  });
  const temps = () => (existsSync(join(srv.root, 's')) ? readdirSync(join(srv.root, 's')).length : 0);
  await waitFor(() => temps() === 3, 'three uploads in flight', 20_000);
  await srv.stop();
  await expectEachLostTheConnection(outcomes);
  await dest.close();
  for (const spy of printed) expect(spy.mock.calls).toEqual([]);
});

it('the connection dropping under several putFile at once (packets built by PacketSender) fails each, leaving nothing in place', async () => {
  const srv = await startSshd();
  const dest = await SftpDestination.connect(sftpDestination(srv));
  const source = join(makeTmpDir('respaldo-sftp-lost-'), 'big');
  writeFileSync(source, randomBytes(1 << 20));
  for (let i = 0; i < 7; i++) appendFileSync(source, readFileSync(source)); // 128 MiB
  const checked: string[] = [];
  const outcomes = [0, 1, 2].map((i) =>
    dest.putFile(`s/f${i}`, source, 128 << 20, { check: () => void checked.push(`f${i}`) }).then(
      () => 'resolved',
      (err: unknown) => err,
    ),
  );
  const temps = () => (existsSync(join(srv.root, 's')) ? readdirSync(join(srv.root, 's')).length : 0);
  await waitFor(() => temps() === 3, 'three files being written', 20_000);
  await srv.stop();
  await expectEachLostTheConnection(outcomes);
  expect(checked).toEqual([]);
  expect(readdirSync(join(srv.root, 's')).filter((n) => !n.startsWith('.respaldo-part-'))).toEqual([]);
  await dest.close();
});

it('after the connection dropped, operations that come at once share one reconnection and each succeeds', async () => {
  const srv = await startSshd();
  const proxy = await startCutProxy(srv.port);
  try {
    const dest = await SftpDestination.connect(sftpDestination(srv, { port: proxy.port }));
    for (let i = 0; i < 6; i++) await dest.put(`s/f${i}`, Readable.from([Buffer.from(`file ${i}`)]), 6);
    proxy.cutAfter(1);
    const lost = await dest.stat('s/f0').catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(DestinationError);
    expect((lost as DestinationError).transient).toBe(true);
    // Six files fetched at once, as a restore --from does: the first reconnects, the others wait for it.
    const sizes = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => dest.stat(`s/f${i}`)));
    expect(sizes).toEqual([0, 1, 2, 3, 4, 5].map(() => ({ size: 6 })));
    await dest.close();
  } finally {
    await proxy.close();
  }
});
