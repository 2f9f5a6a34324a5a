import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decrypter, Encrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgeDecrypter, parseAgeHeader } from '../src/engine/age-header.js';
import { scryptIdentity } from '../src/engine/age-scrypt.js';
import { x25519Header, x25519Identity, x25519Keys, x25519RecipientOf } from '../src/engine/age-x25519.js';
import { ageKeygen } from './helpers/age.js';

/**
 * An age file's header read by respaldo (src/engine/age-header.ts) instead of age-encryption, which a restore no
 * longer loads: the same file key, and the same refusals, as age-encryption's Decrypter for headers made by the age
 * CLI, by age-encryption and by respaldo, each byte of them changed, and each cut short.
 */

let dir: string;
const keys: { identity: string; recipient: string; file: string }[] = [];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'respaldo-age-header-'));
  for (let i = 0; i < 2; i++) {
    const file = join(dir, `key${i}.txt`);
    const recipient = ageKeygen(file);
    const identity = execFileSync('grep', ['^AGE-SECRET-KEY-', file], { encoding: 'utf8' }).trim();
    keys.push({ identity, recipient, file });
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The header of the age file `file`: through the end of its MAC line. */
function headerOf(file: Uint8Array): Uint8Array {
  const buf = Buffer.from(file);
  const mac = buf.indexOf('\n--- ');
  return new Uint8Array(buf.subarray(0, buf.indexOf('\n', mac + 1) + 1));
}

/** What a decrypter says of `header`: the file key, a key that opens nothing, or another refusal. */
async function outcome(d: { decryptHeader(h: Uint8Array): Promise<Uint8Array> }, header: Uint8Array) {
  try {
    return `key ${Buffer.from(await d.decryptHeader(header)).toString('hex')}`;
  } catch (err) {
    return /no identity matched/.test((err as Error).message) ? 'no identity matched' : 'refused';
  }
}

/** Every header `header` changed at one byte (three ways) or cut short: respaldo's outcome and age-encryption's. */
async function compareChanged(header: Uint8Array, mine: () => AgeDecrypter, theirs: () => Decrypter) {
  const variants: Uint8Array[] = [];
  for (let i = 0; i < header.length; i++)
    for (const change of [(b: number) => b ^ 0x01, () => 0x0a, () => 0x20, () => 0xc3]) {
      const v = new Uint8Array(header);
      v[i] = change(header[i]!);
      if (v[i] !== header[i]) variants.push(v);
    }
  for (let n = 0; n < header.length; n++) variants.push(header.subarray(0, n));
  // A line of the body made longer, and a stanza with no body line at all.
  const text = Buffer.from(header).toString('latin1');
  variants.push(new Uint8Array(Buffer.from(text.replace(/\n([A-Za-z0-9+/]{43})\n/, '\n$1AAAA\n'), 'latin1')));
  variants.push(new Uint8Array(Buffer.from(text.replace(/(-> [^\n]*\n)[^\n]*\n/, '$1'), 'latin1')));
  const m = mine();
  const t = theirs();
  let refused = 0;
  for (const v of variants) {
    const [a, b] = [await outcome(m, v), await outcome(t, v)];
    expect(a, `header ${JSON.stringify(Buffer.from(v).toString('latin1'))}`).toBe(b);
    if (!a.startsWith('key ')) refused++;
  }
  return { variants: variants.length, refused };
}

describe('age headers read without age-encryption, as age-encryption reads them', () => {
  it('X25519 headers of the age CLI and of respaldo, to two recipients: the same file key, every change the same', async () => {
    const plain = join(dir, 'plain.txt');
    writeFileSync(plain, 'hola');
    const sealed = execFileSync('age', ['-r', keys[0]!.recipient, '-r', keys[1]!.recipient, plain]);
    const made = x25519Header(x25519Keys(keys.map((k) => k.recipient))!);
    for (const header of [headerOf(sealed), headerOf(made.prefix)]) {
      for (const k of keys) {
        const mine = () => {
          const d = new AgeDecrypter();
          d.addIdentity(x25519Identity(k.identity)!);
          return d;
        };
        const theirs = () => {
          const d = new Decrypter();
          d.addIdentity(k.identity);
          return d;
        };
        const key = await outcome(mine(), header);
        expect(key).toMatch(/^key [0-9a-f]{32}$/);
        expect(key).toBe(await outcome(theirs(), header));
        // Every byte is under the MAC (or is the MAC): whatever changed is refused, by both
        const { variants, refused } = await compareChanged(header, mine, theirs);
        expect(variants).toBeGreaterThan(4 * header.length);
        expect(refused).toBe(variants);
      }
    }
    expect(await outcome(new AgeDecrypter(), headerOf(made.prefix))).toBe('no identity matched');
  });

  it('a passphrase (scrypt) header of age-encryption: the same file key, every change the same', async () => {
    const e = new Encrypter();
    e.setPassphrase('correct horse');
    e.setScryptWorkFactor(4);
    const header = headerOf(await e.encrypt('hola'));
    const mine = () => {
      const d = new AgeDecrypter();
      d.addIdentity(scryptIdentity('correct horse'));
      return d;
    };
    const theirs = () => {
      const d = new Decrypter();
      d.addPassphrase('correct horse');
      return d;
    };
    expect(await outcome(mine(), header)).toMatch(/^key [0-9a-f]{32}$/);
    expect(await outcome(mine(), header)).toBe(await outcome(theirs(), header));
    const { variants, refused } = await compareChanged(header, mine, theirs);
    expect(refused).toBe(variants);
    const other = new AgeDecrypter();
    other.addIdentity(scryptIdentity('wrong horse'));
    expect(await outcome(other, header)).toBe('no identity matched');
  });

  it('a post-quantum identity is handed to age-encryption, which opens its own header', async () => {
    const identity = await generateIdentity(); // X25519 from age-encryption: given as a string, it is theirs to read
    const pq = (await import('age-encryption')).generateHybridIdentity;
    const hybrid = await pq();
    const e = new Encrypter();
    e.addRecipient(await identityToRecipient(hybrid));
    const header = headerOf(await e.encrypt('hola'));
    const d = new AgeDecrypter();
    d.addIdentity(x25519Identity(identity)!);
    d.addIdentity(hybrid);
    expect(await outcome(d, header)).toMatch(/^key [0-9a-f]{32}$/);
  });

  it('parses what age writes: the arguments, a body of 48-byte lines ending in a shorter one, the MAC and what it is over', () => {
    const made = x25519Header(x25519Keys([keys[0]!.recipient])!);
    const h = parseAgeHeader(headerOf(made.prefix));
    expect(h.stanzas).toHaveLength(1);
    expect(h.stanzas[0]!.args[0]).toBe('X25519');
    expect(h.stanzas[0]!.body).toHaveLength(32);
    expect(h.mac).toHaveLength(32);
    expect(Buffer.from(h.headerNoMAC).toString('latin1')).toMatch(/^age-encryption\.org\/v1\n-> X25519 \S+\n\S+\n---$/);
    const long = Buffer.from(`age-encryption.org/v1\n-> a b\n${'A'.repeat(64)}\n\n--- ${'A'.repeat(43)}\n`);
    expect(parseAgeHeader(long).stanzas[0]).toEqual({ args: ['a', 'b'], body: new Uint8Array(48) });
    for (const bad of ['age-encryption.org/v2\n--- A\n', 'age-encryption.org/v1\n-> a\nAA=\n--- A\n', 'x'])
      expect(() => parseAgeHeader(Buffer.from(bad))).toThrow();
  });

  it("an X25519 identity's recipient as age-encryption and age-keygen say it; null for what is not one", async () => {
    for (const k of keys) {
      expect(x25519RecipientOf(k.identity)).toBe(k.recipient);
      expect(x25519RecipientOf(k.identity)).toBe(await identityToRecipient(k.identity));
    }
    expect(x25519RecipientOf('AGE-SECRET-KEY-1XYZ')).toBeNull();
    expect(x25519RecipientOf(keys[0]!.recipient)).toBeNull();
  });
});
