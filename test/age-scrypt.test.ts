import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Decrypter, Encrypter, Stanza, generateIdentity } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scryptIdentity, scryptRecipient } from '../src/engine/age-scrypt.js';
import { openStream, sealerFor, unlockIdentity } from '../src/engine/crypt.js';
import { TmuxScreen } from './helpers/tty.js';

/**
 * age's passphrase stanza with Node's scrypt (src/engine/age-scrypt.ts): files age-encryption and the age CLI
 * encrypt to a passphrase open, files sealed here open with them, and the process keeps running while scrypt works.
 */

const PASS = 'correct horse battery staple';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'respaldo-age-scrypt-'));
});
afterAll(() => {
  TmuxScreen.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

const stanza = (args: string[], body: Uint8Array): Stanza => new Stanza(args, body);

async function decryptWith(identity: ReturnType<typeof scryptIdentity> | string, file: Uint8Array): Promise<Buffer> {
  const d = new Decrypter();
  if (typeof identity === 'string') d.addPassphrase(identity);
  else d.addIdentity(identity);
  return Buffer.from(await d.decrypt(file));
}

describe('age scrypt stanza with Node crypto', () => {
  it('opens what age-encryption encrypts to a passphrase; another passphrase matches nothing', async () => {
    const plain = randomBytes(1000);
    const e = new Encrypter();
    e.setPassphrase(PASS);
    e.setScryptWorkFactor(10);
    const file = await e.encrypt(plain);
    expect((await decryptWith(scryptIdentity(PASS), file)).equals(plain)).toBe(true);
    await expect(decryptWith(scryptIdentity('not it'), file)).rejects.toThrow(/no identity matched/);
  });

  it('what it seals opens with age-encryption, and is refused with another passphrase', async () => {
    const plain = randomBytes(1000);
    const e = new Encrypter();
    e.addRecipient(scryptRecipient(PASS, 10, stanza));
    const file = await e.encrypt(plain);
    expect(Buffer.from(file).toString('latin1')).toMatch(/\n-> scrypt [A-Za-z0-9+/]{22} 10\n/);
    expect((await decryptWith(PASS, file)).equals(plain)).toBe(true);
    await expect(decryptWith('not it', file)).rejects.toThrow(/no identity matched/);
  });

  it('refuses the stanzas age refuses: beside another, a bad salt, a work factor over 2^20', async () => {
    const body = new Uint8Array(32);
    const salt = randomBytes(16).toString('base64').replace(/=+$/, '');
    const id = scryptIdentity(PASS);
    await expect(
      id.unwrapFileKey([stanza(['scrypt', salt, '10'], body), stanza(['X25519', 'x'], body)]),
    ).rejects.toThrow('scrypt recipient is not the only one in the header');
    await expect(id.unwrapFileKey([stanza(['scrypt', salt + '==', '10'], body)])).rejects.toThrow(
      'invalid scrypt stanza',
    );
    await expect(id.unwrapFileKey([stanza(['scrypt', 'AAAA', '10'], body)])).rejects.toThrow('invalid scrypt stanza');
    await expect(id.unwrapFileKey([stanza(['scrypt', salt, '010'], body)])).rejects.toThrow('invalid scrypt stanza');
    await expect(id.unwrapFileKey([stanza(['scrypt', salt, '21'], body)])).rejects.toThrow('work factor is too high');
    expect(await id.unwrapFileKey([stanza(['X25519', 'x'], body)])).toBeNull();
  });

  it('a set encrypted to a passphrase: each stored file opens with age-encryption and with openStream', async () => {
    const passFile = join(dir, 'backups.pass');
    writeFileSync(passFile, PASS + '\n', { mode: 0o600 });
    const sealer = sealerFor({ passphraseFile: passFile });
    const plain = randomBytes(200_000);
    const { stream } = await sealer.seal();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((resolve, reject) => stream.on('end', resolve).on('error', reject));
    stream.end(plain);
    await ended;
    const file = Buffer.concat(chunks);
    expect((await decryptWith(PASS, file)).equals(plain)).toBe(true);
    const d = new Decrypter();
    d.addIdentity(scryptIdentity(PASS));
    const opened: Buffer[] = [];
    for await (const c of await openStream(d, Readable.from([file]), 'users.sqlite.zst.age')) opened.push(c as Buffer);
    expect(Buffer.concat(opened).equals(plain)).toBe(true);
  });

  it('the process keeps running while a protected identity as `age -p` writes it (2^18) is opened', async () => {
    const identity = await generateIdentity();
    const locked = join(dir, 'key.age');
    const e = new Encrypter();
    e.addRecipient(scryptRecipient(PASS, 18, stanza));
    writeFileSync(locked, await e.encrypt(identity + '\n'), { mode: 0o600 });
    let last = Date.now();
    let longest = 0;
    const ticks = setInterval(() => {
      longest = Math.max(longest, Date.now() - last);
      last = Date.now();
    }, 10);
    const started = Date.now();
    try {
      await unlockIdentity(locked, PASS);
    } finally {
      clearInterval(ticks);
    }
    // The pause up to now counts too (a thread held to the end leaves no tick after it).
    longest = Math.max(longest, Date.now() - last);
    const took = Date.now() - started;
    // age-encryption's scrypt held the thread for the whole opening (the longest pause was all of it).
    expect(took).toBeGreaterThan(100);
    expect(longest).toBeLessThan(took / 2);
  });

  it('the age CLI decrypts what it seals, and it opens what `age -p` encrypts (a terminal asks the passphrase)', async () => {
    const plain = randomBytes(5000);
    const e = new Encrypter();
    e.addRecipient(scryptRecipient(PASS, 12, stanza));
    const ours = join(dir, 'ours.age');
    writeFileSync(ours, await e.encrypt(plain));
    const out = join(dir, 'ours.out');
    const byCli = await TmuxScreen.open(
      `age-d-${process.pid}`,
      `age -d -o '${out}' '${ours}'; echo "END=$?"; sleep 60`,
    );
    await byCli.waitFor(/Enter passphrase/i);
    await byCli.type(PASS);
    await byCli.key('Enter');
    await byCli.waitFor('END=0');
    expect(readFileSync(out).equals(plain)).toBe(true);

    const input = join(dir, 'plain.bin');
    writeFileSync(input, plain);
    const theirs = join(dir, 'theirs.age');
    const encrypting = await TmuxScreen.open(
      `age-p-${process.pid}`,
      `age -p -o '${theirs}' '${input}'; echo "END=$?"; sleep 60`,
    );
    await encrypting.waitFor(/Enter passphrase/i);
    await encrypting.type(PASS);
    await encrypting.key('Enter');
    await encrypting.waitFor(/Confirm passphrase/i);
    await encrypting.type(PASS);
    await encrypting.key('Enter');
    await encrypting.waitFor('END=0');
    const file = readFileSync(theirs);
    expect(file.toString('latin1')).toMatch(/\n-> scrypt \S+ 18\n/);
    expect((await decryptWith(scryptIdentity(PASS), file)).equals(plain)).toBe(true);
  }, 60_000);
});
