/**
 * `verify --read-data` promises the same here and at a destination (README): every stored file read whole, hashed,
 * decrypted (an encrypted set) and decompressed in the same read. A stored file whose data does not decompress, its
 * hashes rewritten with it in the manifest there (as an old build's bug or a hand edit leaves it), fails the set
 * (exit 5), named with its problem; `verify --from NAME --read-data` only hashed it and said it was OK.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';
import { ageKeygen } from './helpers/age.js';

const hashes = (b: Buffer) => ({
  md5: createHash('md5').update(b).digest('hex'),
  sha256: createHash('sha256').update(b).digest('hex'),
});

/** Puts `bytes` in place of stored file `file` of set `id` in folder `dir`, the manifest's hashes rewritten. */
function replaceStored(dir: string, id: string, file: string, bytes: Buffer, plain?: Buffer): void {
  writeFileSync(join(dir, id, file), bytes);
  const path = join(dir, id, 'manifest.json');
  const m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  const d = m.databases.find((x) => x.file === file)!;
  Object.assign(d, hashes(bytes), { storedBytes: bytes.length });
  if (plain) Object.assign(d, { plain: { bytes: plain.length, ...hashes(plain) } });
  writeFileSync(path, JSON.stringify(m, null, 2));
}

function withNas(s: DemoSetup, extra: Record<string, unknown> = {}): string {
  const nas = join(s.dir, 'nas');
  mkdirSync(nas);
  const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(
    s.configFile,
    JSON.stringify({ ...doc, ...extra, destinations: [{ name: 'nas', type: 'folder', path: nas, source: 'srv1' }] }),
  );
  return join(nas, 'srv1');
}

describe('verify --read-data at a destination decompresses, as here', () => {
  it('plain: a stored file there that does not decompress, its hashes rewritten, fails the set (exit 5)', async () => {
    const s = demoSetup({ compression: { codec: 'zstd' } });
    const there = withNas(s);
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout);
    const users = m.databases[0]!.file!;
    await cli(s, ['verify', m.id, '--from', 'nas', '--read-data'], 0);
    replaceStored(there, m.id, users, Buffer.from('not a zstd frame'));
    replaceStored(s.backupDir, m.id, users, Buffer.from('not a zstd frame'));
    for (const from of [['--from', 'nas'], []]) {
      const v = await cli(s, ['verify', m.id, ...from, '--read-data'], 5);
      expect(v.stdout, from.join(' ')).toMatch(
        new RegExp(`${users.replaceAll('.', '\\.')}: does not decompress \\(.*\\): the data it holds is damaged`),
      );
    }
    // Without --read-data the sizes alone are checked there: it matches its (rewritten) manifest.
    await cli(s, ['verify', m.id, '--from', 'nas'], 0);
  }, 60_000);

  it('encrypted: decrypted and authenticated there, then not decompressed: exit 5', async () => {
    const s = demoSetup({ compression: { codec: 'zstd' } });
    const identityFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(identityFile);
    const there = withNas(s, { encryption: { recipients: [recipient], identityFile } });
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout);
    const users = m.databases[0]!.file!;
    expect(users.endsWith('.age')).toBe(true);
    await cli(s, ['verify', m.id, '--from', 'nas', '--read-data'], 0);
    const junk = randomBytes(4000);
    replaceStored(there, m.id, users, execFileSync('age', ['-r', recipient], { input: junk }), junk);
    const v = await cli(s, ['verify', m.id, '--from', 'nas', '--read-data'], 5);
    expect(v.stdout).toMatch(/does not decompress \(.*\): the data it holds is damaged/);
  }, 60_000);
});
