import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import type { Identity, Recipient, Stanza } from 'age-encryption';

/**
 * age's passphrase stanza (https://age-encryption.org/v1, "The scrypt recipient type") with Node's own scrypt and
 * ChaCha20-Poly1305 instead of age-encryption's JavaScript ones, as its `Identity` and `Recipient` objects.
 *
 * Why: age-encryption derives the key with a synchronous scrypt on the main thread. A passphrase-protected identity
 * as `age -p` writes it (work factor 2^18) took seconds in which nothing else ran: the menu did not draw "Opening
 * the key…", dropped or misplaced what was typed meanwhile and could not take a Ctrl-C; a set encrypted to a
 * passphrase stopped every other upload, hash and progress line for a quarter second per stored file. Node's
 * `crypto.scrypt` runs on the thread pool (OpenSSL's, also faster): the process keeps answering while it works.
 *
 * The stanza is `-> scrypt <salt, base64 without padding> <log2 N>` over the file key sealed with
 * ChaCha20-Poly1305 under the key scrypt(passphrase, "age-encryption.org/v1/scrypt" || salt, N, r 8, p 1) and a
 * zero nonce. The same rules as age-encryption's: the only stanza of its header, a 16-byte salt, a work factor of at
 * most 2^20 (test/age-scrypt.test.ts checks both ways against age-encryption, and against the age CLI).
 */

const LABEL = 'age-encryption.org/v1/scrypt';
/** The highest work factor opened (2^20: one GiB of memory for scrypt), as age-encryption and the age CLI. */
const MAX_LOG_N = 20;
const ZERO_NONCE = Buffer.alloc(12);
const TAG = 16;

/** The stanza's key: scrypt of the passphrase, salted with the label and `salt`, on the thread pool. */
function stanzaKey(passphrase: string, salt: Uint8Array, logN: number): Promise<Buffer> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) =>
    scrypt(
      passphrase,
      Buffer.concat([Buffer.from(LABEL), salt]),
      32,
      // scrypt needs 128·N·r bytes; Node refuses more than maxmem (32 MiB unless given).
      { N, r: 8, p: 1, maxmem: 256 * N * 8 },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

/** A stanza's body: the file key sealed with ChaCha20-Poly1305 under `key` and a zero nonce (every native stanza). */
export function sealFileKey(key: Uint8Array, fileKey: Uint8Array): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: TAG });
  return Buffer.concat([c.update(fileKey), c.final(), c.getAuthTag()]);
}

/** The file key in a stanza's 32-byte `body` sealed under `key`, or null when `key` does not open it. */
export function openFileKey(key: Uint8Array, body: Uint8Array): Uint8Array | null {
  const d = createDecipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: TAG });
  d.setAuthTag(body.subarray(16));
  try {
    return new Uint8Array(Buffer.concat([d.update(body.subarray(0, 16)), d.final()]));
  } catch {
    return null;
  }
}

/** Base64 without padding, as age writes its stanzas' arguments; null when `text` is not that. */
export function fromBase64NoPad(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]*$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64').replace(/=+$/, '') === text ? bytes : null;
}

/** An identity that opens a file encrypted to `passphrase` (Decrypter.addIdentity). */
export function scryptIdentity(passphrase: string): Identity {
  return {
    async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
      for (const s of stanzas) {
        if (s.args[0] !== 'scrypt') continue;
        if (stanzas.length !== 1) throw new Error('scrypt recipient is not the only one in the header');
        const [, saltText = '', logText = ''] = s.args;
        const salt = s.args.length === 3 ? fromBase64NoPad(saltText) : null;
        if (!salt || salt.length !== 16 || !/^[1-9][0-9]*$/.test(logText) || s.body.length !== 32)
          throw new Error('invalid scrypt stanza');
        const logN = Number(logText);
        if (logN > MAX_LOG_N) throw new Error('scrypt work factor is too high');
        return openFileKey(await stanzaKey(passphrase, salt, logN), s.body); // null: another passphrase
      }
      return null;
    },
  };
}

/**
 * A recipient that seals the file key to `passphrase` with work factor 2^`logN` (Encrypter.addRecipient): the one
 * recipient of its file, as age requires of a passphrase. `stanza` makes age-encryption's Stanza (its class).
 */
export function scryptRecipient(
  passphrase: string,
  logN: number,
  stanza: (args: string[], body: Uint8Array) => Stanza,
): Recipient {
  return {
    async wrapFileKey(fileKey: Uint8Array): Promise<Stanza[]> {
      const salt = randomBytes(16);
      const key = await stanzaKey(passphrase, salt, logN);
      const body = sealFileKey(key, fileKey);
      return [stanza(['scrypt', salt.toString('base64').replace(/=+$/, ''), String(logN)], new Uint8Array(body))];
    },
  };
}
