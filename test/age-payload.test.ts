import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Decrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK } from '../src/engine/age-payload.js';
import { KeyError, decryptError, decryptFile, openStream, sealerFor } from '../src/engine/crypt.js';
import { VerifyError } from '../src/core/errors.js';

/**
 * The age payload sealed and opened with Node's ChaCha20-Poly1305 (src/engine/age-payload.ts) against the age CLI
 * and age-encryption's own decrypter, around every chunk boundary; then damage of every kind.
 */
const SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 5];

let dir: string;
let identity: string;
let recipient: string;
let keyFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'respaldo-age-payload-'));
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
  keyFile = join(dir, 'key.txt');
  writeFileSync(keyFile, identity + '\n', { mode: 0o600 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `plain` sealed by respaldo's sealer to the test recipient, and the size the sealer announced. */
async function seal(plain: Buffer): Promise<{ sealed: Buffer; announced: number }> {
  const { stream, size } = await sealerFor({ recipients: [recipient] } as never).seal();
  const out: Buffer[] = [];
  stream.on('data', (b: Buffer) => out.push(b));
  const ended = new Promise((resolve, reject) => stream.once('end', resolve).once('error', reject));
  // In pieces that do not line up with the chunks.
  for (let i = 0; i < plain.length; i += 50_000) stream.write(plain.subarray(i, i + 50_000));
  stream.end();
  await ended;
  return { sealed: Buffer.concat(out), announced: size(plain.length) };
}

function decrypter(): Decrypter {
  const d = new Decrypter();
  d.addIdentity(identity);
  return d;
}

/** Opens `sealed` with respaldo's opener, fed in pieces; the plaintext passed on before any error, and the error. */
async function open(sealed: Buffer, d = decrypter()): Promise<{ plain: Buffer; error?: unknown }> {
  const pieces = Array.from({ length: Math.ceil(sealed.length / 40_000) }, (_, i) =>
    sealed.subarray(i * 40_000, (i + 1) * 40_000),
  );
  const got: Buffer[] = [];
  try {
    const plain = await openStream(d, Readable.from(pieces), 'test.age');
    for await (const b of plain) got.push(b as Buffer);
    return { plain: Buffer.concat(got) };
  } catch (error) {
    // As every reader of a decrypted stream maps what fails it (decryptFile, hashDecrypted, decryptingReader).
    return { plain: Buffer.concat(got), error: decryptError(error, 'test.age') };
  }
}

describe('age payload with Node crypto', () => {
  it.each(SIZES)('%i bytes sealed by respaldo open with the age CLI, age-encryption and respaldo', async (n) => {
    const plain = randomBytes(n);
    const { sealed, announced } = await seal(plain);
    expect(sealed.length).toBe(announced);
    const file = join(dir, `r${n}.age`);
    writeFileSync(file, sealed);
    expect(execFileSync('age', ['-d', '-i', keyFile, file], { maxBuffer: 1 << 24 }).equals(plain)).toBe(true);
    expect(Buffer.from(await decrypter().decrypt(new Uint8Array(sealed))).equals(plain)).toBe(true);
    const opened = await open(sealed);
    expect(opened.error).toBeUndefined();
    expect(opened.plain.equals(plain)).toBe(true);
  });

  it.each(SIZES)('%i bytes sealed by the age CLI open with respaldo', async (n) => {
    const plain = randomBytes(n);
    const file = join(dir, `c${n}.age`);
    execFileSync('age', ['-r', recipient, '-o', file], { input: plain });
    const opened = await open(readFileSync(file));
    expect(opened.error).toBeUndefined();
    expect(opened.plain.equals(plain)).toBe(true);
  });

  it('each file has its own file key and nonce', async () => {
    const plain = randomBytes(1000);
    const a = await seal(plain);
    const b = await seal(plain);
    expect(a.sealed.equals(b.sealed)).toBe(false);
  });

  it('a changed chunk fails before its plaintext is passed on; the chunks before it are whole', async () => {
    const plain = randomBytes(3 * CHUNK + 5);
    const { sealed } = await seal(plain);
    const header = sealed.length - (plain.length + 4 * 16);
    const bad = Buffer.from(sealed);
    const at = header + (CHUNK + 16) + 100; // a byte of the second chunk
    bad[at] = bad[at]! ^ 1;
    const opened = await open(bad);
    expect(opened.error).toBeInstanceOf(VerifyError);
    expect(String((opened.error as Error).message)).toMatch(/chunk 1 of the payload failed authentication/);
    expect(opened.plain.equals(plain.subarray(0, CHUNK))).toBe(true);
  });

  it('a file cut at a chunk boundary, cut inside a chunk, or with bytes after its end is damage', async () => {
    const plain = randomBytes(3 * CHUNK);
    const { sealed } = await seal(plain);
    const cuts = [sealed.subarray(0, sealed.length - (CHUNK + 16)), sealed.subarray(0, sealed.length - 7)];
    for (const cut of [...cuts, Buffer.concat([sealed, randomBytes(16)]), Buffer.concat([sealed, sealed])]) {
      const opened = await open(cut);
      expect(opened.error).toBeInstanceOf(VerifyError);
      expect(opened.plain.length).toBeLessThan(plain.length);
    }
  });

  it('a file cut inside its header or nonce, or not age at all, is damage; another key is a KeyError', async () => {
    const { sealed } = await seal(randomBytes(10));
    const header = sealed.length - (10 + 16);
    for (const bad of [sealed.subarray(0, 30), sealed.subarray(0, header - 3), Buffer.from('not an age file\n')]) {
      const opened = await open(bad);
      expect(opened.error).toBeInstanceOf(VerifyError);
      expect(opened.plain.length).toBe(0);
    }
    const other = new Decrypter();
    other.addIdentity(await generateIdentity());
    expect((await open(sealed, other)).error).toBeInstanceOf(KeyError);
  });
});

describe('decryptFile', () => {
  /** `plain` sealed to the test recipient in a file, and its plaintext hashes. */
  async function sealedFile(plain: Buffer, name: string) {
    const file = join(dir, name);
    writeFileSync(file, (await seal(plain)).sealed);
    const hex = (h: string) => createHash(h).update(plain).digest('hex');
    return { file, hashes: { bytes: plain.length, md5: hex('md5'), sha256: hex('sha256') } };
  }

  it.each([0, 100, CHUNK + 1, (1 << 20) - 100, (1 << 20) + 100])(
    '%i bytes: the plaintext, written 0600, whole or streamed',
    async (n) => {
      const plain = randomBytes(n);
      const { file, hashes } = await sealedFile(plain, `d${n}.age`);
      const dest = join(dir, `d${n}.plain`);
      await decryptFile(decrypter(), file, dest, hashes, 'test.age');
      expect(readFileSync(dest).equals(plain)).toBe(true);
      expect(statSync(dest).mode & 0o777).toBe(0o600);
    },
  );

  it('a flipped byte, other plaintext hashes or another key fail, and leave nothing', async () => {
    for (const n of [100, (1 << 20) + 100]) {
      const plain = randomBytes(n);
      const { file, hashes } = await sealedFile(plain, `e${n}.age`);
      const dest = join(dir, `e${n}.plain`);
      const bytes = readFileSync(file);
      bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 1;
      writeFileSync(join(dir, 'flipped.age'), bytes);
      const other = new Decrypter();
      other.addIdentity(await generateIdentity());
      for (const [d, from, want, error] of [
        [decrypter(), join(dir, 'flipped.age'), hashes, /failed authentication/],
        [decrypter(), file, { ...hashes, sha256: '0'.repeat(64) }, /does not match the manifest's plaintext hashes/],
        [other, file, hashes, /no key/i],
      ] as const) {
        const err = await decryptFile(d, from, dest, want, 'test.age').catch((e: unknown) => e);
        expect(err, `${n} ${String(error)}`).toBeInstanceOf(d === other ? KeyError : VerifyError);
        expect(String((err as Error).message)).toMatch(error);
        expect(existsSync(dest)).toBe(false);
      }
    }
  });
});
