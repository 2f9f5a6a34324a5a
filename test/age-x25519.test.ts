import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  Decrypter,
  Encrypter,
  Stanza,
  generateHybridIdentity,
  generateIdentity,
  identityToRecipient,
} from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK, PayloadSealer, openWhole, sealWhole } from '../src/engine/age-payload.js';
import { x25519Header, x25519Identity, x25519Keys, x25519Recipient } from '../src/engine/age-x25519.js';
import { openStream, sealerFor } from '../src/engine/crypt.js';

/**
 * age's X25519 stanza and header made with Node's crypto (src/engine/age-x25519.ts), and small files sealed and
 * opened whole (age-payload.ts sealWhole, openWhole), against the age CLI and age-encryption both ways.
 */
const SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5];

let dir: string;
const ids: { identity: string; recipient: string; keyFile: string }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'respaldo-age-x25519-'));
  for (let i = 0; i < 2; i++) {
    const identity = await generateIdentity();
    const keyFile = join(dir, `key${i}.txt`);
    writeFileSync(keyFile, identity + '\n', { mode: 0o600 });
    ids.push({ identity, recipient: await identityToRecipient(identity), keyFile });
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stanza = (args: string[], body: Uint8Array) => new Stanza(args, body);

/** A decrypter holding respaldo's X25519 identity of `identity` (not age-encryption's). */
function ours(identity: string): Decrypter {
  const d = new Decrypter();
  d.addIdentity(x25519Identity(identity)!);
  return d;
}

/** The age CLI's plaintext of `sealed` with `keyFile`. */
function ageCli(sealed: Buffer, keyFile: string): Buffer {
  const file = join(dir, 'sealed.age');
  writeFileSync(file, sealed);
  return execFileSync('age', ['-d', '-i', keyFile, file], { maxBuffer: 1 << 24 });
}

describe("age's X25519 with Node's crypto", () => {
  it.each(SIZES)(
    '%i bytes sealed whole to two recipients open with the age CLI, age-encryption and respaldo',
    async (n) => {
      const plain = randomBytes(n);
      const sealer = sealerFor({ recipients: ids.map((x) => x.recipient) } as never);
      const sealed = sealer.sealWhole!(plain);
      for (const { identity, keyFile } of ids) {
        expect(ageCli(sealed, keyFile).equals(plain)).toBe(true);
        const theirs = new Decrypter();
        theirs.addIdentity(identity);
        expect(Buffer.from(await theirs.decrypt(new Uint8Array(sealed))).equals(plain)).toBe(true);
        expect((await openWhole(ours(identity), sealed))?.equals(plain)).toBe(true);
      }
    },
  );

  it('sealed whole, the bytes are those the stream sealer writes for the same file key and nonce', async () => {
    const keys = x25519Keys([ids[0]!.recipient])!;
    for (const n of SIZES) {
      const plain = randomBytes(n);
      const { fileKey, prefix } = x25519Header(keys);
      const stream = new PayloadSealer(fileKey, prefix);
      const out: Buffer[] = [];
      stream.on('data', (b: Buffer) => out.push(b));
      const ended = new Promise((resolve) => stream.once('end', resolve));
      stream.end(plain);
      await ended;
      expect(Buffer.concat(out).equals(sealWhole(fileKey, prefix, plain))).toBe(true);
    }
  });

  it('every file has its own file key, ephemeral share and nonce', () => {
    const keys = x25519Keys([ids[0]!.recipient])!;
    const a = x25519Header(keys);
    const b = x25519Header(keys);
    expect(a.fileKey.equals(b.fileKey)).toBe(false);
    const share = (p: Buffer) => /^-> X25519 (\S+)$/m.exec(p.toString('latin1'))![1];
    expect(share(a.prefix)).not.toBe(share(b.prefix));
    expect(a.prefix.subarray(-16).equals(b.prefix.subarray(-16))).toBe(false);
  });

  it.each(SIZES)(
    '%i bytes sealed by the age CLI and by age-encryption open with respaldo, whole and streamed',
    async (n) => {
      const plain = randomBytes(n);
      const file = join(dir, `c${n}.age`);
      execFileSync('age', ['-r', ids[0]!.recipient, '-r', ids[1]!.recipient, '-o', file], { input: plain });
      const e = new Encrypter();
      e.addRecipient(ids[1]!.recipient);
      for (const sealed of [readFileSync(file), Buffer.from(await e.encrypt(new Uint8Array(plain)))]) {
        const d = ours(ids[1]!.identity);
        expect((await openWhole(d, sealed))?.equals(plain)).toBe(true);
        const got: Buffer[] = [];
        for await (const b of await openStream(d, Readable.from([sealed]), 'test.age')) got.push(b as Buffer);
        expect(Buffer.concat(got).equals(plain)).toBe(true);
      }
    },
  );

  it("respaldo's recipient seals what age-encryption's decrypter and the age CLI open", async () => {
    const e = new Encrypter();
    e.addRecipient(x25519Recipient(ids[0]!.recipient, stanza)!);
    const plain = randomBytes(5000);
    const sealed = Buffer.from(await e.encrypt(new Uint8Array(plain)));
    expect(ageCli(sealed, ids[0]!.keyFile).equals(plain)).toBe(true);
  });

  it('a file that does not open whole is undefined (its stream says why): another key, a changed or cut byte', async () => {
    const plain = randomBytes(3 * CHUNK + 5);
    const sealed = sealerFor({ recipients: [ids[0]!.recipient] } as never).sealWhole!(plain);
    const header = sealed.length - (plain.length + 16 + 4 * 16);
    const flipped = (at: number) => {
      const b = Buffer.from(sealed);
      b[at] = b[at]! ^ 1;
      return b;
    };
    const bad = [
      flipped(40), // the stanza
      flipped(header - 20), // the MAC
      flipped(header + 5), // the nonce
      flipped(header + 16 + CHUNK + 100), // the second chunk
      sealed.subarray(0, sealed.length - 1),
      sealed.subarray(0, sealed.length - (5 + 16)), // the last chunk gone: the one before is not flagged last
      Buffer.concat([sealed, randomBytes(16)]),
      sealed.subarray(0, 30),
      Buffer.from('not an age file\n'),
    ];
    const d = ours(ids[0]!.identity);
    expect((await openWhole(d, sealed))?.equals(plain)).toBe(true);
    for (const b of bad) expect(await openWhole(d, b)).toBeUndefined();
    expect(await openWhole(ours(ids[1]!.identity), sealed)).toBeUndefined();
  });

  it('refuses the X25519 stanzas age refuses, and passes over those of other types', async () => {
    const identity = x25519Identity(ids[0]!.identity)!;
    const other = x25519Identity(ids[1]!.identity)!;
    const [good] = await x25519Recipient(ids[0]!.recipient, stanza)!.wrapFileKey(new Uint8Array(16));
    const share = good!.args[1]!;
    // the same share written with other padding bits: decodes to the same bytes, not canonical
    const b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const uncanonical = share.slice(0, -1) + b64[b64.indexOf(share.at(-1)!) + 1];
    expect(Buffer.from(uncanonical, 'base64').equals(Buffer.from(share, 'base64'))).toBe(true);
    const zeros = Buffer.alloc(32).toString('base64').replace(/=+$/, '');
    for (const s of [
      new Stanza(['X25519'], good!.body),
      new Stanza(['X25519', share, 'x'], good!.body),
      new Stanza(['X25519', uncanonical], good!.body),
      new Stanza(['X25519', share.slice(0, -2)], good!.body),
      new Stanza(['X25519', share], good!.body.subarray(0, 31)),
      new Stanza(['X25519', zeros], good!.body),
    ])
      expect(() => identity.unwrapFileKey([s]), s.args.join(' ')).toThrow(/invalid/);
    expect(identity.unwrapFileKey([new Stanza(['scrypt', 'x', '10'], good!.body), good!])).toEqual(new Uint8Array(16));
    expect(other.unwrapFileKey([good!])).toBeNull();
  });

  it('post-quantum recipients and identities are left to age-encryption', async () => {
    const pq = await generateHybridIdentity();
    const pqRecipient = await identityToRecipient(pq);
    expect(x25519Recipient(pqRecipient, stanza)).toBeNull();
    expect(x25519Identity(pq)).toBeNull();
    expect(x25519Keys([ids[0]!.recipient, pqRecipient])).toBeNull();
    expect(sealerFor({ recipients: [ids[0]!.recipient, pqRecipient] } as never).sealWhole).toBeUndefined();
    expect(x25519Keys([ids[0]!.recipient])).toHaveLength(1);
    expect(x25519Recipient('age1notarecipient', stanza)).toBeNull();
  });
});
