/**
 * How rclone's failures are classified (unreachable, refused credentials, not found), through a
 * stand-in `rclone` (binPath) that prints a given stderr and fails like rclone does. Digits in set
 * ids, ports and times never look like HTTP statuses.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DestinationError, RespaldoError } from '../src/core/errors.js';
import { RcloneDestination } from '../src/destinations/rclone.js';
import { sendFile } from '../src/engine/copy.js';
import { makeTmpDir } from './helpers/tmp.js';

function fakeRclone(stderr: string): RcloneDestination {
  const dir = makeTmpDir('respaldo-fake-rclone-');
  const bin = join(dir, 'rclone');
  writeFileSync(bin, `#!/bin/sh\ncat >&2 <<'EOF'\n${stderr}\nEOF\nexit 1\n`);
  chmodSync(bin, 0o755);
  return new RcloneDestination({ name: 'cloud', type: 'rclone', remote: 'offsite', path: '/x', binPath: bin });
}

async function failure(stderr: string): Promise<DestinationError> {
  const err = await fakeRclone(stderr)
    .listFiles('srv1/20261201_040320')
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DestinationError);
  return err as DestinationError;
}

describe('rclone errors', () => {
  it.each([
    [
      'connection refused, with 403 and 401 inside a set id and a time',
      '2026/12/01 04:03:21 Failed to create file system for "offsite:/x/srv1/20261201_040320": NewFs: couldn\'t connect SSH: dial tcp 127.0.0.1:40133: connect: connection refused',
      /unreachable/,
      true,
    ],
    [
      'an S3 403',
      'ERROR : upload failed: AccessDenied: Access Denied status code: 403',
      /refused the credentials/,
      false,
    ],
    [
      'ssh auth',
      "NewFs: couldn't connect SSH: ssh: handshake failed: ssh: unable to authenticate",
      /refused the credentials/,
      false,
    ],
    ['a 503', 'Failed to copy: SlowDown: please reduce your request rate status code: 503', /unreachable/, true],
    [
      'the connection lost in the middle of a cat',
      'ERROR : blob1.bin.zst: Failed to send to output: connection lost\nFailed to cat: connection lost',
      /unreachable/,
      true,
    ],
    [
      'AWS_CA_BUNDLE set for an S3 remote',
      'Failed to create file system for "offsite:/x": LoadCustomCABundleError: unable to load custom CA bundle, ' +
        "HTTPClient's transport unsupported type | caused by: unsupported transport, *fshttp.Transport",
      /cannot use the CA bundle named by AWS_CA_BUNDLE/,
      false,
    ],
  ])('%s', async (_name, stderr, message, transient) => {
    const err = await failure(stderr);
    expect(err.message).toMatch(message);
    expect(err.transient).toBe(transient);
  });
});

describe('a local file that cannot be read when rclone is to send it', () => {
  it('is said as the local problem, not retried as an unreachable remote', async () => {
    const dir = makeTmpDir('respaldo-fake-rclone-');
    const bin = join(dir, 'rclone');
    // `rcat --help` says nothing (no --size); `rcat` takes everything it is given, as rclone does.
    writeFileSync(bin, '#!/bin/sh\n[ "$2" = "--help" ] && exit 0\nexec cat > /dev/null\n');
    chmodSync(bin, 0o755);
    const dest = new RcloneDestination({ name: 'cloud', type: 'rclone', remote: 'r', path: '/x', binPath: bin });
    // A folder where the set's file should be: opening it works, reading it fails (EISDIR), as a failing disk would;
    // found not to be a file.
    mkdirSync(join(dir, 'set', 'databases'), { recursive: true });
    const err = await sendFile(dest, join(dir, 'set'), 'srv1/20261201_040320', {
      path: 'databases',
      size: 10,
      sha256: null,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RespaldoError);
    expect(err).not.toBeInstanceOf(DestinationError);
    expect((err as RespaldoError).message).toMatch(/^Reading the local file .*databases failed \(not a regular file\)/);
    expect((err as RespaldoError).hint).toMatch(/respaldo verify/);
  });
});
