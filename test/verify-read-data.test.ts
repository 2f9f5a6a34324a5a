import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Encrypter } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';
import { ageKeygen } from './helpers/age.js';

/**
 * Local `verify --read-data`: an encrypted set is decrypted with the key and its plaintext checked
 * against the manifest, which finds what re-hashing the ciphertext cannot (a file re-encrypted by
 * whoever rewrote the manifest's ciphertext hashes too).
 */

function setConfig(s: DemoSetup, patch: Record<string, unknown>): void {
  writeFileSync(s.configFile, JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), ...patch }, null, 2));
}

function manifestOf(s: DemoSetup, id: string): Manifest {
  return JSON.parse(readFileSync(join(s.backupDir, id, 'manifest.json'), 'utf8')) as Manifest;
}

/** Replaces a stored file's bytes and makes the manifest's ciphertext hashes agree. */
function replaceStored(s: DemoSetup, id: string, file: string, bytes: Buffer): void {
  writeFileSync(join(s.backupDir, id, file), bytes);
  const m = manifestOf(s, id);
  const d = m.databases.find((x) => x.file === file)!;
  Object.assign(d, {
    storedBytes: bytes.length,
    md5: createHash('md5').update(bytes).digest('hex'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  });
  writeFileSync(join(s.backupDir, id, 'manifest.json'), JSON.stringify(m, null, 2));
}

/** Replaces an application file's stored bytes and makes the manifest's hashes agree (files record no size). */
function replaceStoredFile(s: DemoSetup, id: string, file: string, bytes: Buffer): void {
  writeFileSync(join(s.backupDir, id, file), bytes);
  const m = manifestOf(s, id);
  Object.assign(
    m.files.find((x) => x.stored === file)!,
    {
      md5: createHash('md5').update(bytes).digest('hex'),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    },
  );
  writeFileSync(join(s.backupDir, id, 'manifest.json'), JSON.stringify(m, null, 2));
}

interface Report {
  setId: string;
  ok: boolean;
  files: { path: string; ok: boolean; problem?: string }[];
}

describe('verify --read-data (local)', () => {
  it('decrypts an encrypted set and checks the plaintext; needs the key; a plain set is accepted as it is', async () => {
    const s = demoSetup();
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    const plain = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout);
    expect((await cli(s, ['verify', plain.id, '--read-data'])).stdout).toContain(`${plain.id}: OK`);

    setConfig(s, { encryption: { recipients: [recipient] } }); // the server holds only the public key
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--no-files', '--json'])).stdout);
    expect(m.encryption).toBeDefined();
    expect((await cli(s, ['verify', m.id])).stdout).toContain(`${m.id}: OK`);
    const noKey = await cli(s, ['verify', m.id, '--read-data'], 13);
    expect(noKey.stderr).toContain('names no identity');

    setConfig(s, { encryption: { recipients: [recipient], identityFile: keyFile } });
    const ok = parseJsonOutput<Report>((await cli(s, ['verify', m.id, '--read-data', '--json'])).stdout);
    expect(ok).toMatchObject({ setId: m.id, ok: true });
    expect(ok.files.length).toBe(m.databases.length);

    // Re-encrypted with other content, ciphertext hashes rewritten: only the plaintext check finds it.
    const users = m.databases.find((d) => d.name === 'users')!.file!;
    const e = new Encrypter();
    e.addRecipient(recipient);
    replaceStored(s, m.id, users, Buffer.from(await e.encrypt(Buffer.from('not the database'))));
    expect((await cli(s, ['verify', m.id])).stdout).toContain(`${m.id}: OK`);
    const swapped = await cli(s, ['verify', m.id, '--read-data'], 5);
    expect(swapped.stdout).toContain(`${users}: decrypted content does not match the manifest`);

    // A flipped byte with the ciphertext hashes rewritten: age's authentication fails.
    const inventario = m.databases.find((d) => d.name === 'inventario')!.file!;
    const bytes = readFileSync(join(s.backupDir, m.id, inventario));
    bytes[bytes.length - 20]! ^= 0x01;
    replaceStored(s, m.id, inventario, bytes);
    const flipped = parseJsonOutput<Report>((await cli(s, ['verify', m.id, '--read-data', '--json'], 5)).stdout);
    expect(flipped.files.find((f) => f.path === inventario)).toMatchObject({
      ok: false,
      problem: 'failed authentication while decrypting (changed or damaged)',
    });
    expect(JSON.parse(readFileSync(join(s.backupDir, m.id, 'verified.json'), 'utf8'))).toMatchObject({ ok: false });
  });

  it('a passphrase-protected identity: from RESPALDO_PASSPHRASE_FILE without a terminal, else exit 13', async () => {
    const s = demoSetup();
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    setConfig(s, { encryption: { recipients: [recipient] } });
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout);
    const e = new Encrypter();
    e.setPassphrase('read data words');
    e.setScryptWorkFactor(12);
    const locked = join(s.dir, 'key.age');
    writeFileSync(locked, await e.encrypt(readFileSync(keyFile)), { mode: 0o600 });
    rmSync(keyFile);
    setConfig(s, { encryption: { recipients: [recipient], identityFile: locked } });
    expect((await cli(s, ['verify', m.id, '--read-data'], 13)).stderr).toContain('RESPALDO_PASSPHRASE_FILE');
    const pass = join(s.dir, 'pass.txt');
    writeFileSync(pass, 'read data words\n', { mode: 0o600 });
    const r = await cli(s, ['verify', m.id, '--read-data'], 0, { RESPALDO_PASSPHRASE_FILE: pass });
    expect(r.stdout).toContain(`${m.id}: OK`);
  });

  it.each(['zstd', 'gzip'] as const)(
    'a %s set: a stored file that does not decompress, its hashes rewritten, fails --read-data (exit 5), named',
    async (codec) => {
      const s = demoSetup();
      setConfig(s, { compression: { codec } });
      const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
      expect(m.codec).toBe(codec);
      expect((await cli(s, ['verify', m.id, '--read-data'])).stdout).toContain(`${m.id}: OK`);
      // Other bytes in place of a database and of an application file, the manifest's hashes rewritten to them
      const users = m.databases.find((d) => d.name === 'users')!.file!;
      replaceStored(s, m.id, users, Buffer.from('x'.repeat(3000)));
      const app = m.files.find((f) => f.stored && f.size > 0)!.stored!;
      replaceStoredFile(s, m.id, app, Buffer.from('not compressed at all'));
      expect((await cli(s, ['verify', m.id])).stdout).toContain(`${m.id}: OK`);
      const r = await cli(s, ['verify', m.id, '--read-data'], 5);
      expect(r.stdout).toContain(`${m.id}: FAILED`);
      expect(r.stdout).toMatch(new RegExp(`${users}: does not decompress \\(.+\\): the data it holds is damaged`));
      expect(r.stdout).toContain(`${app}: does not decompress (`);
      expect(r.stderr).toContain(
        'hint: Do not restore from this set: a stored file whose hashes match does not decompress',
      );
      const json = parseJsonOutput<Report>((await cli(s, ['verify', m.id, '--read-data', '--json'], 5)).stdout);
      expect(
        json.files
          .filter((f) => !f.ok)
          .map((f) => f.path)
          .sort(),
      ).toEqual([app, users].sort());
      expect(JSON.parse(readFileSync(join(s.backupDir, m.id, 'verified.json'), 'utf8'))).toMatchObject({ ok: false });
    },
  );

  it.each(['zstd', 'gzip'] as const)(
    'a %s set: a small file that decodes to more than its entry says (it grew while stored) still reads through',
    async (codec) => {
      const s = demoSetup();
      setConfig(s, { compression: { codec } });
      const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
      // Decoded in one call whose output may not pass the entry's size by more than a byte; past it, the stream
      const grown = m.files.find((f) => f.stored && f.size > 2)!;
      const edited = manifestOf(s, m.id);
      edited.files.find((f) => f.stored === grown.stored)!.size = 1;
      writeFileSync(join(s.backupDir, m.id, 'manifest.json'), JSON.stringify(edited, null, 2));
      const json = parseJsonOutput<Report>((await cli(s, ['verify', m.id, '--read-data', '--json'])).stdout);
      expect(json.ok).toBe(true);
      expect(json.files.find((f) => f.path === grown.stored)).toMatchObject({ ok: true });
    },
  );

  it('an encrypted set: other bytes encrypted in place, ciphertext and plaintext hashes rewritten, do not decompress', async () => {
    const s = demoSetup();
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    setConfig(s, { encryption: { recipients: [recipient], identityFile: keyFile } });
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout);
    const users = m.databases.find((d) => d.name === 'users')!.file!;
    const other = Buffer.from('not the database, nor zstd');
    const e = new Encrypter();
    e.addRecipient(recipient);
    replaceStored(s, m.id, users, Buffer.from(await e.encrypt(other)));
    const m2 = manifestOf(s, m.id);
    m2.databases.find((d) => d.name === 'users')!.plain = {
      bytes: other.length,
      md5: createHash('md5').update(other).digest('hex'),
      sha256: createHash('sha256').update(other).digest('hex'),
    };
    writeFileSync(join(s.backupDir, m.id, 'manifest.json'), JSON.stringify(m2, null, 2));
    const r = await cli(s, ['verify', m.id, '--read-data'], 5);
    expect(r.stdout).toContain(`${users}: does not decompress (`);
  });
});
