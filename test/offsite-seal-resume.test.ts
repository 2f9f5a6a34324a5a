import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import type { CopyResult } from '../src/engine/copy.js';
import { sealedAlreadySent, SEALED_SENT_JOURNAL } from '../src/engine/copy-seal.js';
import { collect, parseJsonOutput, startCli, waitFor } from './helpers/cli.js';
import { cli, sealedSentPaths, SECRET } from './helpers/offsite.js';
import { S3RVER_KEY, startS3rver, stopAllS3rvers, s3Destination } from './helpers/s3rver.js';
import { demoSetup } from './helpers/tmp.js';
import { ageKeygen } from './helpers/age.js';

/**
 * An encrypted copy (local sets plain, `encrypt: true` at the destination) killed in the middle:
 * the rerun sends only the files not yet there, though age never encrypts the same bytes the same way.
 */

afterEach(async () => {
  await stopAllS3rvers();
});

const hashes = (n: number, sha = 'a'.repeat(64)) => ({ bytes: n, md5: 'b'.repeat(32), sha256: sha });
const enc = { format: 'age' as const, recipients: ['age1x'], passphrase: false };

describe('sealedAlreadySent (pure)', () => {
  const parts = [
    { path: 'a.zst', size: 10, sha256: 'a'.repeat(64) },
    { path: 'b.zst', size: 10, sha256: 'a'.repeat(64) },
    { path: 'c.zst', size: 10, sha256: 'c'.repeat(64) },
    { path: 'd.zst', size: 10, sha256: 'a'.repeat(64) },
  ];
  const rec = {
    encryption: enc,
    files: {
      'a.zst': { plain: hashes(10), sealed: hashes(210) },
      'b.zst': { plain: hashes(10), sealed: hashes(210) },
      'c.zst': { plain: hashes(10), sealed: hashes(210) }, // the local file changed since
    },
  };
  it.each([
    ['the recorded files there with their size', enc, { 'a.zst.age': 210, 'c.zst.age': 210 }, ['a.zst']],
    ['none when another size is there', enc, { 'a.zst.age': 209 }, []],
    ['none for other recipients', { ...enc, recipients: ['age1y'] }, { 'a.zst.age': 210 }, []],
    ['a file not recorded is sent (d)', enc, { 'b.zst.age': 210, 'd.zst.age': 210 }, ['b.zst']],
  ])('%s', (_what, encryption, there, expected) => {
    const remote = new Map(Object.entries(there));
    expect([...sealedAlreadySent(parts, rec, encryption, remote).keys()]).toEqual(expected);
  });
  it('nothing without a record', () => {
    expect(sealedAlreadySent(parts, undefined, enc, new Map([['a.zst.age', 210]])).size).toBe(0);
  });
  it.each([
    ['no files', { encryption: enc }],
    ['an entry without its hashes', { encryption: enc, files: { 'a.zst': {} } }],
    ['files of another shape', { encryption: enc, files: 'a.zst' }],
  ])('a damaged record (%s): nothing counts as sent, nothing throws', (_what, damaged) => {
    const remote = new Map([['a.zst.age', 210]]);
    expect(sealedAlreadySent(parts, damaged as unknown as typeof rec, enc, remote).size).toBe(0);
  });
});

describe('an encrypted copy killed mid-copy', () => {
  it('s3: the rerun sends only the files not yet there, and the copy reads back whole', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    for (let i = 0; i < 8; i++) writeFileSync(join(s.appDir, `blob${i}.bin`), randomBytes(8 * 1024 * 1024));
    writeFileSync(
      s.configFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(s.configFile, 'utf8')),
        source: 'srv1',
        encryption: { recipients: [recipient], identityFile: keyFile, local: false },
        destinations: [s3Destination(srv, { encrypt: true, copyAfterBackup: false, parallel: 1 })],
      }),
    );
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const record = join(s.backupDir, m.id, SEALED_SENT_JOURNAL);
    const recorded = () => sealedSentPaths(join(s.backupDir, m.id), 'offsite');

    const child = startCli(['copy', '--config', s.configFile], {
      cwd: s.dir,
      env: { S3_KEY_ID: S3RVER_KEY, S3_SECRET_KEY: SECRET },
    });
    const done = collect(child);
    await waitFor(() => recorded().length >= 2, 'two files sent encrypted');
    child.kill('SIGKILL');
    await done;
    const sentBefore = recorded();
    const total = m.databases.filter((d) => d.file).length + m.files.filter((f) => f.stored).length;
    expect(sentBefore.length).toBeLessThan(total);

    const again = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', '--json'])).stdout);
    expect(again).toMatchObject([{ setId: m.id, ok: true, filesAlreadyThere: sentBefore.length }]);
    expect(again[0]!.filesSent).toBe(total - sentBefore.length + 1); // and the manifest
    expect(existsSync(record)).toBe(false);
    expect((await cli(s, ['verify', m.id, '--from', 'offsite', '--read-data'])).stdout).toContain('OK');
    // Complete now: a third run sends nothing.
    expect(parseJsonOutput<CopyResult[]>((await cli(s, ['copy', m.id, '--json'])).stdout)[0]!.filesSent).toBe(0);
  });
});
