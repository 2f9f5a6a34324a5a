import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { base64nopad } from '@scure/base';
import type { Identity, Stanza } from 'age-encryption';

/**
 * The header of an age file (https://age-encryption.org/v1, "Header") read here: its stanzas parsed, the file key
 * unwrapped by one of the identities, the header's MAC checked. The same rules and the same errors as age-encryption's
 * `Decrypter.decryptHeader` (test/age-header.test.ts compares the two on every byte of headers changed one at a time).
 *
 * Why: the only thing a restore asked of age-encryption was that, and loading it costs 24 MiB of a process (its
 * post-quantum and WebAuthn code with it): an encrypted restore of 20 000 small files peaked at 184 MiB. X25519 and
 * passphrase identities (age-x25519.ts, age-scrypt.ts) unwrap without it; a decrypter given an identity only
 * age-encryption knows (a post-quantum `AGE-SECRET-KEY-PQ-1…`) hands the whole header to age-encryption.
 */

/** What opens an age file's header: its file key, once an identity unwrapped it and the header's MAC matched. */
export interface Decrypter {
  decryptHeader(header: Uint8Array): Promise<Uint8Array>;
}

const VERSION_LINE = 'age-encryption.org/v1';
/** A stanza's body is base64 in lines of 48 bytes, the last one shorter (empty when the body is a multiple of 48). */
const BODY_LINE = 48;

export interface AgeHeader {
  stanzas: Stanza[];
  /** The header up to and including the `---` of its MAC line: what the MAC is over. */
  headerNoMAC: Uint8Array;
  mac: Uint8Array;
}

/**
 * Parses `header` (an age file's header, through the end of its MAC line) as age-encryption's parseHeader does: the
 * version line, stanzas (`-> ` and non-empty arguments, then a canonical base64 body of 48-byte lines), the MAC line.
 * Any byte outside printable ASCII, a line cut short or anything else is an Error saying what, as age-encryption's.
 */
export function parseAgeHeader(header: Uint8Array): AgeHeader {
  const buf = Buffer.from(header.buffer, header.byteOffset, header.length);
  let at = 0;
  const line = (): string | null => {
    const eol = buf.indexOf(0x0a, at);
    if (eol < 0) return null;
    for (let i = at; i < eol; i++)
      if (buf[i]! < 32 || buf[i]! > 126) throw new Error('invalid non-ASCII byte in header');
    const text = buf.toString('latin1', at, eol);
    at = eol + 1;
    return text;
  };
  const version = line();
  if (version !== VERSION_LINE) throw new Error(`invalid version ${version ?? 'line'}`);
  const stanzas: Stanza[] = [];
  for (;;) {
    const start = at;
    const first = line();
    if (first === null) throw new Error('invalid stanza');
    const args = first.split(' ');
    if (args.length < 2 || args.shift() !== '->') {
      if (!first.startsWith('--- ')) throw new Error('invalid header');
      const mac = base64nopad.decode(first.slice(4));
      return { stanzas, headerNoMAC: header.subarray(0, start + 3), mac };
    }
    if (args.some((a) => a.length === 0)) throw new Error('invalid stanza');
    const lines: Uint8Array[] = [];
    for (;;) {
      const text = line();
      if (text === null) throw new Error('invalid stanza');
      const bytes = base64nopad.decode(text);
      if (bytes.length > BODY_LINE) throw new Error('invalid stanza');
      lines.push(bytes);
      if (bytes.length < BODY_LINE) break;
    }
    stanzas.push({ args, body: new Uint8Array(Buffer.concat(lines)) });
  }
}

/** age-encryption's Decrypter, loaded on first use: for identities only it knows. */
type TheirDecrypter = import('age-encryption').Decrypter;

/**
 * A Decrypter of the identities added (age-encryption's `Identity` objects, or identity strings age-encryption parses),
 * tried in the order added.
 */
export class AgeDecrypter implements Decrypter {
  private readonly identities: (Identity | string)[] = [];
  private theirs: Promise<TheirDecrypter> | null = null;

  addIdentity(identity: Identity | string): void {
    this.identities.push(identity);
    this.theirs = null;
  }

  async decryptHeader(header: Uint8Array): Promise<Uint8Array> {
    if (this.identities.some((i) => typeof i === 'string')) return (await this.theirDecrypter()).decryptHeader(header);
    const h = parseAgeHeader(header);
    let fileKey: Uint8Array | null = null;
    for (const identity of this.identities as Identity[]) {
      fileKey = await identity.unwrapFileKey(h.stanzas);
      if (fileKey) break;
    }
    if (!fileKey) throw new Error("no identity matched any of the file's recipients");
    const macKey = Buffer.from(hkdfSync('sha256', fileKey, Buffer.alloc(0), 'header', 32));
    const mac = createHmac('sha256', macKey).update(h.headerNoMAC).digest();
    if (h.mac.length !== mac.length || !timingSafeEqual(h.mac, mac)) throw new Error('invalid header HMAC');
    return fileKey;
  }

  private theirDecrypter(): Promise<TheirDecrypter> {
    this.theirs ??= import('age-encryption').then(({ Decrypter }) => {
      const d = new Decrypter();
      for (const i of this.identities) d.addIdentity(i);
      return d;
    });
    return this.theirs;
  }
}
