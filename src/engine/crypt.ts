import { createReadStream, createWriteStream, promises as fsp, statSync } from 'node:fs';
import { Duplex, Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import type { Recipient } from 'age-encryption';
import { InterruptedError, RespaldoError, VerifyError, isAccessError, isDiskFull } from '../core/errors.js';
import { english, phrase, type Phrase } from '../core/phrases.js';
import { NotRegularFileError, readProblem, readRegularFile, readRegularFileSync } from '../core/regular-file.js';
import type { EncryptionConfig, LoadedConfig, ManifestEncryption, PlainHashes } from '../core/types.js';
import { FILE_MODE, fsyncPath, readChunkFor, readSmallFileSync } from './fs-util.js';
import { madeGarbage, SMALL_ITEM_COST } from './garbage.js';
import { digestOf } from './hash-file.js';
import { AgeDecrypter, type Decrypter } from './age-header.js';
import { PayloadSealer, openPayload, openWhole, sealWhole, sealedSize } from './age-payload.js';
import { scryptIdentity, scryptRecipient } from './age-scrypt.js';
import { x25519Header, x25519Identity, x25519Keys, x25519Recipient, x25519RecipientOf } from './age-x25519.js';

/**
 * Encryption of stored files with age (https://age-encryption.org, the `age-encryption` package):
 * every stored file is compressed, then encrypted to the configured recipients (public keys, so a
 * backup needs no secret) or to a passphrase (scrypt). Each stored file is one ordinary age file,
 * so `age -d -i key.txt users.sqlite.zst.age | zstd -dc` reads it by hand. Decryption needs the
 * identity file (`encryption.identityFile`), which may itself be age-encrypted with a passphrase,
 * or the passphrase of the backups; a passphrase comes from `RESPALDO_PASSPHRASE_FILE`, the terminal or
 * the menu's masked field, never argv or a plain variable.
 *
 * Why one file of about 660 lines: sealing, opening, the passphrase checks and the key files share the age
 * module (loaded lazily), the scrypt settings and the passphrases typed in this process.
 */

/** Suffix of an encrypted stored file. */
export const AGE_EXTENSION = '.age';

/** The environment variable naming a file that holds the passphrase of an identity file (or of the backups). */
export const PASSPHRASE_FILE_ENV = 'RESPALDO_PASSPHRASE_FILE';

/** scrypt work factor of passphrase-encrypted files: 2^16 (64 MiB, a quarter second per file). */
const SCRYPT_LOG_N = 16;

/** The key to decrypt is missing, wrong, or its passphrase could not be had: exit 13. */
export class KeyError extends RespaldoError {
  constructor(message: string, hint: string) {
    super('key', message, hint);
    this.name = 'KeyError';
  }
}

/** Encrypts stored files for a set: one age file per stored file. */
export interface Sealer {
  /** What the manifest records (public recipients only; never a secret). */
  readonly describe: ManifestEncryption;
  /** A stream that encrypts what is written to it into one age file, and the size of that file for `n` bytes in. */
  seal(): Promise<{ stream: Duplex; size(n: number): number }>;
  /**
   * The age file of `plaintext`, sealed whole in one call on this thread (a small file: no stream), when the
   * recipients allow it (every one X25519); absent otherwise.
   */
  sealWhole?(plaintext: Buffer): Buffer;
}

/**
 * The age implementation, loaded on first use: it adds about 25 MiB to a process, which every command
 * would pay (config loading checks recipients) while most configs encrypt nothing.
 */
function age(): Promise<typeof import('age-encryption')> {
  return import('age-encryption');
}

/** Whether local sets are encrypted (`encryption` present and `local` not false). */
export function encryptsLocally(enc: EncryptionConfig | undefined): enc is EncryptionConfig {
  return Boolean(enc) && enc!.local !== false;
}

/** For a path that is no regular file: put the file itself there (nothing was read from it), else null. */
function notRegularHint(err: unknown): Phrase | null {
  return err instanceof NotRegularFileError ? phrase('error.secretNotRegularHint', { kind: err.kind }) : null;
}

/** Which secret file a message names (secretWhatEn in src/core/phrases.ts): `env` names the variable. */
type SecretWhat = { what: 'config' } | { what: 'env'; env: string } | { what: 'identity' };

/** A KeyError said by phrases (the menu says them in its language); `hint` null: none. */
function keyError(message: Phrase, hint: Phrase | null): KeyError {
  const err = new KeyError(english(message), hint ? english(hint) : '');
  return hint ? err.withPhrases(message, hint) : err.withPhrases(message);
}

/** The file `path` could not be read (`err`): why, as phrase parameters (`kind` of a no regular file, else `code`). */
function unreadable(what: SecretWhat, path: string, err: unknown, hint: Phrase | null): KeyError {
  const why: Record<string, string> =
    err instanceof NotRegularFileError ? { kind: err.kind } : { code: readProblem(err) };
  return keyError(phrase('error.secretUnreadable', { ...what, file: path, ...why }), notRegularHint(err) ?? hint);
}

function readSecretFile(path: string, what: SecretWhat, hint: Phrase | null): string {
  let text: string;
  try {
    text = readRegularFileSync(path).toString('utf8');
  } catch (err) {
    throw unreadable(what, path, err, hint);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (!secret) throw keyError(phrase('error.secretEmpty', { ...what, file: path }), hint);
  return secret;
}

/**
 * The secret files in use that other users can read (group or others may read them: anyone on the
 * machine could decrypt the backups), each as a warning with the fix: the identity and passphrase
 * files of `encryption`, and the file RESPALDO_PASSPHRASE_FILE names. They are used anyway (refusing
 * would stop a restore on the day it is needed); the commands say so on every run.
 */
export function looseSecretFiles(
  cfg: Pick<LoadedConfig, 'encryption'>,
  env: NodeJS.ProcessEnv = process.env,
): LooseSecretFile[] {
  const files: [string | undefined, string][] = [
    [cfg.encryption?.identityFile, 'the identity file (encryption.identityFile)'],
    [cfg.encryption?.passphraseFile, 'the passphrase file (encryption.passphraseFile)'],
    [env[PASSPHRASE_FILE_ENV], `the passphrase file named by ${PASSPHRASE_FILE_ENV}`],
  ];
  const out: LooseSecretFile[] = [];
  for (const [path, what] of files) {
    if (!path) continue;
    let mode: number;
    try {
      mode = statSync(path).mode & 0o777;
    } catch {
      continue; // reading it says what is wrong
    }
    if (mode & 0o077) out.push({ path, what, mode: mode.toString(8).padStart(4, '0') });
  }
  return out;
}

/** A secret file other users can read: which (`what`, in English), where, its mode (`0644`). */
export interface LooseSecretFile {
  path: string;
  what: string;
  mode: string;
}

/** The CLI's warning for a loose secret file, with the fix. */
export function looseSecretWarning(f: LooseSecretFile): string {
  return `${f.what} ${f.path} can be read by other users (mode ${f.mode}): run chmod 600 ${f.path}`;
}

/** The sealer of `enc`: to its recipients, or to the passphrase in `passphraseFile`. */
export function sealerFor(enc: EncryptionConfig): Sealer {
  const passphrase = enc.passphraseFile
    ? readSecretFile(enc.passphraseFile, { what: 'config' }, phrase('error.passphraseConfigHint'))
    : null;
  // Every recipient X25519 (as `respaldo key generate` makes them): each file's header made here (age-x25519.ts)
  const keys = passphrase === null ? x25519Keys(enc.recipients ?? []) : null;
  return {
    describe: {
      format: 'age',
      recipients: enc.passphraseFile ? [] : [...(enc.recipients ?? [])],
      passphrase: Boolean(enc.passphraseFile),
    },
    async seal() {
      if (keys) {
        const { fileKey, prefix } = x25519Header(keys);
        return { stream: new PayloadSealer(fileKey, prefix), size: (n: number) => sealedSize(prefix.length, n) };
      }
      if (passphrase === null) return sealToRecipients(enc.recipients ?? []);
      const { Stanza } = await age();
      return sealToRecipients([scryptRecipient(passphrase, SCRYPT_LOG_N, (args, body) => new Stanza(args, body))]);
    },
    ...(keys
      ? {
          sealWhole(plaintext: Buffer): Buffer {
            const { fileKey, prefix } = x25519Header(keys);
            return sealWhole(fileKey, prefix, plaintext);
          },
        }
      : {}),
  };
}

/**
 * One age file to `recipients` (public keys, or the one passphrase recipient of age-scrypt.ts): age-encryption makes
 * its header (a fresh file key wrapped to each recipient, and the header's MAC) and nonce, by sealing an empty
 * payload while a recipient of ours, which adds no stanza, is handed the file key; the payload is then sealed with
 * Node's ChaCha20-Poly1305 (age-payload.ts).
 */
async function sealToRecipients(
  recipients: readonly (string | Recipient)[],
): Promise<{ stream: Duplex; size(n: number): number }> {
  const { Encrypter, Stanza } = await age();
  const e = new Encrypter();
  // An X25519 recipient (`age1…`) through Node's own X25519 (age-x25519.ts), any other through age-encryption
  const stanza = (args: string[], body: Uint8Array) => new Stanza(args, body);
  for (const r of recipients) e.addRecipient(typeof r === 'string' ? (x25519Recipient(r, stanza) ?? r) : r);
  let fileKey: Uint8Array | undefined;
  e.addRecipient({
    wrapFileKey: (key) => {
      fileKey = key;
      return [];
    },
  });
  const empty = await e.encrypt(new Uint8Array(0));
  // What follows the header and nonce is the empty payload's one chunk: its 16-byte tag.
  const prefix = Buffer.from(empty.buffer, empty.byteOffset, empty.length - 16);
  if (!fileKey) throw new Error('age-encryption did not hand over the file key');
  return { stream: new PayloadSealer(fileKey, prefix), size: (n) => sealedSize(prefix.length, n) };
}

/** Where passphrases come from when asked on a terminal (set by the CLI when one is there). */
let terminalPrompt: ((question: string) => Promise<string>) | null = null;

/** Lets the CLI (or the menu) ask passphrases on its terminal. */
export function setPassphrasePrompt(prompt: ((question: string) => Promise<string>) | null): void {
  terminalPrompt = prompt;
}

/** A passphrase: from the file named by RESPALDO_PASSPHRASE_FILE, else asked on the terminal. */
async function askPassphrase(of: { identity: string } | { set: string }): Promise<string> {
  const file = process.env[PASSPHRASE_FILE_ENV];
  if (file) {
    // Named, it is what is read, at a terminal or not (the menu asks nothing then): the hint says how to fix it.
    const env = PASSPHRASE_FILE_ENV;
    try {
      return readSecretFile(file, { what: 'env', env }, null);
    } catch (err) {
      if (!(err instanceof KeyError)) throw err;
      const said = err.phrases?.message;
      const kind = said?.params['kind'];
      const why =
        said?.id === 'error.secretEmpty'
          ? 'empty'
          : kind
            ? `it is ${kind}, not a regular file`
            : (said?.params['code'] ?? '?');
      const message = phrase('error.passphraseFile', { file, env, why, ...(kind ? { kind } : {}) });
      const hint = phrase('error.passphraseFileHint', { env });
      throw new KeyError(english(message), english(hint)).withPhrases(message, hint);
    }
  }
  const what = 'identity' in of ? `the identity file ${of.identity}` : `the backups of set ${of.set}`;
  if (terminalPrompt) return terminalPrompt(`Passphrase of ${what}: `);
  const message = phrase('error.noTerminal', of);
  const hint = phrase('error.noTerminalHint', { env: PASSPHRASE_FILE_ENV });
  throw new KeyError(english(message), english(hint)).withPhrases(message, hint);
}

/** Whether `bytes` is an age file (binary or armored): a passphrase-protected identity file. */
function isAgeFile(text: string): boolean {
  return text.startsWith('age-encryption.org/') || text.trimStart().startsWith('-----BEGIN AGE ENCRYPTED FILE-----');
}

const identityCache = new Map<string, string[]>();

/**
 * Whether opening the identity file at `path` would ask for a passphrase: it is age-encrypted, not
 * opened yet in this process, and RESPALDO_PASSPHRASE_FILE names no file to read it from. False when
 * the file cannot be read (opening it reports that).
 */
export async function identityNeedsPassphrase(path: string): Promise<boolean> {
  if (identityCache.has(path) || process.env[PASSPHRASE_FILE_ENV]) return false;
  try {
    return isAgeFile((await readRegularFile(path)).toString('latin1'));
  } catch {
    return false;
  }
}

/**
 * Opens the passphrase-protected identity file at `path` with `passphrase` (typed in the menu) and
 * keeps its keys for this process, so later restores and drills do not ask again. A wrong passphrase
 * is a KeyError; the passphrase is never kept or logged.
 */
export async function unlockIdentity(path: string, passphrase: string): Promise<void> {
  await identitiesOf(path, passphrase);
}

/** The `AGE-SECRET-KEY-…` lines of an identity file, opening it with its passphrase when it is protected. */
async function identitiesOf(path: string, given?: string): Promise<string[]> {
  const cached = identityCache.get(path);
  if (cached) return cached;
  const hint = phrase('error.identityFileHint');
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(path);
  } catch (err) {
    throw unreadable({ what: 'identity' }, path, err, hint);
  }
  let text = bytes.toString('latin1');
  if (isAgeFile(text)) {
    const passphrase = given ?? (await askPassphrase({ identity: path }));
    const { Decrypter, armor } = await age();
    const d = new Decrypter();
    d.addIdentity(scryptIdentity(passphrase));
    try {
      const file = text.trimStart().startsWith('-----BEGIN') ? armor.decode(text) : new Uint8Array(bytes);
      text = await d.decrypt(file, 'text');
    } catch (err) {
      const wrong = /no identity matched/.test((err as Error).message);
      if (!wrong) throw keyError(phrase('error.identityUnopenable', { path, detail: (err as Error).message }), hint);
      // Typed in the menu (`given`), or read from the terminal or the file RESPALDO_PASSPHRASE_FILE names.
      const message = phrase('error.identityPassphrase', { path });
      // read from the file RESPALDO_PASSPHRASE_FILE names: fix that file; typed in the menu, which asks again: type
      // it again; typed at the terminal, whose command ends here: run it again
      const named = given === undefined ? process.env[PASSPHRASE_FILE_ENV] : undefined;
      const again = named ? phrase('error.identityPassphraseHint', { env: PASSPHRASE_FILE_ENV, file: named }) : null;
      const typed = phrase(given === undefined ? 'error.identityPassphraseTerminal' : 'error.identityPassphraseTyped');
      throw new KeyError(english(message), english(again ?? typed)).withPhrases(message, again ?? typed);
    }
  }
  const keys = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.startsWith('AGE-SECRET-KEY-'));
  if (!keys.length) throw keyError(phrase('error.identityNoKey', { path }), hint);
  identityCache.set(path, keys);
  return keys;
}

/**
 * Passphrases of the backups typed in the menu that opened a set, kept for this process (as an opened
 * identity's keys are): a set encrypted to a passphrase is decrypted with them when neither
 * `encryption.passphraseFile` nor RESPALDO_PASSPHRASE_FILE gives one. Never written anywhere.
 */
const typedPassphrases: string[] = [];

/** Whether one of `passphrases` opens the age file `sample` (only its header is read); damage is thrown. */
async function opensSample(passphrases: string[], sample: Readable, label: string): Promise<boolean> {
  const d = new AgeDecrypter();
  for (const p of passphrases) d.addIdentity(scryptIdentity(p));
  try {
    const plain = await openStream(d, sample, label);
    plain.destroy();
    return true;
  } catch (err) {
    if (err instanceof KeyError) return false;
    throw err;
  } finally {
    sample.destroy();
  }
}

/**
 * Whether decrypting a set encrypted as `enc` would ask the passphrase of the backups: it is encrypted to
 * a passphrase, neither `encryption.passphraseFile` nor RESPALDO_PASSPHRASE_FILE names a file holding it,
 * and no passphrase typed in this process opens `sample()` (one of the set's stored files).
 */
export async function passphraseNeeded(
  cfg: { encryption?: EncryptionConfig | undefined },
  enc: ManifestEncryption,
  sample: () => Promise<Readable>,
  label: string,
): Promise<boolean> {
  if (!enc.passphrase || cfg.encryption?.passphraseFile || process.env[PASSPHRASE_FILE_ENV]) return false;
  return !typedPassphrases.length || !(await opensSample(typedPassphrases, await sample(), label));
}

/**
 * Checks the passphrase of the backups typed in the menu (or at the terminal) against `sample()` (a stored
 * file of set `setId`, header only) and keeps it for this process, so that set's restore, drill and verify
 * decrypt with it. A passphrase that does not open it is a KeyError; a damaged file a VerifyError.
 */
export async function unlockPassphrase(
  passphrase: string,
  sample: () => Promise<Readable>,
  setId: string,
  label: string,
  fromFile?: string,
  configured?: string,
): Promise<void> {
  if (!(await opensSample([passphrase], await sample(), label))) {
    const message = phrase('error.wrongPassphrase', { set: setId });
    // read from the file RESPALDO_PASSPHRASE_FILE names (`fromFile`) or the config's passphraseFile (`configured`),
    // nothing was typed: fix that file
    const hint = configured
      ? phrase('error.wrongPassphraseConfigHint', { file: configured })
      : fromFile
        ? phrase('error.wrongPassphraseFileHint', { env: PASSPHRASE_FILE_ENV, file: fromFile })
        : phrase('error.wrongPassphraseHint');
    throw new KeyError(english(message), english(hint)).withPhrases(message, hint);
  }
  if (!typedPassphrases.includes(passphrase)) typedPassphrases.push(passphrase);
}

/** Labels of the stored files a typed passphrase was checked against in this process (see decrypterFor). */
const checkedSamples = new Set<string>();

/** One stored file of a set to check a passphrase against before decrypting anything (see decrypterFor). */
export interface PassphraseSample {
  open: () => Promise<Readable>;
  label: string;
}

/**
 * A decrypter for a set encrypted as `enc` describes: its identity file (checked to hold a key of
 * one of the set's recipients), or the passphrase of the backups (asked at the terminal when no file gives
 * it: checked against `sample`, one of the set's stored files, when given). Throws a KeyError when the key
 * is missing, unreadable, wrong or not the set's.
 */
export async function decrypterFor(
  cfg: { encryption?: EncryptionConfig | undefined; file?: string },
  enc: ManifestEncryption,
  setId: string,
  sample?: PassphraseSample | null,
): Promise<Decrypter> {
  const d = new AgeDecrypter(); // age-encryption loaded only for an identity it alone reads (age-header.ts)
  if (enc.passphrase) {
    const file = cfg.encryption?.passphraseFile;
    const fromFile = file || process.env[PASSPHRASE_FILE_ENV];
    // Asked at the terminal: checked against one stored file first (a wrong one says so before anything is
    // decrypted) and kept for this process, so the sets of a chain, or a drill's check and its restore, ask once.
    // A stored file already opened that way is not checked again (each check is a scrypt run, seconds).
    if (!fromFile && sample && !checkedSamples.has(sample.label)) {
      if (!(typedPassphrases.length && (await opensSample(typedPassphrases, await sample.open(), sample.label))))
        await unlockPassphrase(await askPassphrase({ set: setId }), sample.open, setId, sample.label);
      checkedSamples.add(sample.label);
    }
    // From RESPALDO_PASSPHRASE_FILE: checked the same way, so a wrong one is "Wrong passphrase", not a key that
    // opens nothing (with a hint about an identity file the config does not have).
    if (!file && fromFile && sample && !checkedSamples.has(sample.label)) {
      const read = await askPassphrase({ set: setId });
      await unlockPassphrase(read, sample.open, setId, sample.label, fromFile);
      checkedSamples.add(sample.label);
    }
    const configured = file ? readSecretFile(file, { what: 'config' }, phrase('error.passphraseConfigReadHint')) : null;
    // From the config's passphraseFile: checked the same way (it may hold a passphrase changed since the set was made).
    if (configured !== null && sample && !checkedSamples.has(sample.label)) {
      await unlockPassphrase(configured, sample.open, setId, sample.label, undefined, file);
      checkedSamples.add(sample.label);
    }
    const passphrases =
      configured !== null
        ? [configured]
        : !fromFile && typedPassphrases.length
          ? typedPassphrases
          : [await askPassphrase({ set: setId })];
    for (const p of passphrases) d.addIdentity(scryptIdentity(p));
    if (sample && checkedSamples.has(sample.label)) provenKeys.add(d);
    return d;
  }
  const path = cfg.encryption?.identityFile;
  if (!path) {
    // The hint is what to write, whole: a config with "encryption" but no recipients is refused (exit 3), so on a
    // new server whose config has none it names the set's own recipients too.
    const recipients = enc.recipients.join(', ');
    const config = cfg.file ?? 'the config';
    const message = phrase('error.noIdentity', { set: setId, recipients });
    const hint = cfg.encryption
      ? phrase('error.noIdentityHint', { config, recipients })
      : phrase('error.noEncryptionHint', { config, quoted: enc.recipients.map((r) => `"${r}"`).join(', ') });
    throw new KeyError(english(message), english(hint)).withPhrases(message, hint);
  }
  const keys = await identitiesOf(path);
  // An X25519 key's recipient worked out here; any other (post-quantum) by age-encryption, loaded for it.
  const recipientOf = async (k: string) => x25519RecipientOf(k) ?? (await age()).identityToRecipient(k);
  const mine = await Promise.all(keys.map((k) => recipientOf(k).catch(() => null)));
  if (mine.every((r) => r === null))
    throw saidKeyError(
      phrase('error.identityUnparsable', { path, count: String(keys.length) }),
      phrase('error.identityUnparsableHint'),
    );
  if (enc.recipients.length && !mine.some((r) => r !== null && enc.recipients.includes(r))) {
    const opens = mine.filter(Boolean).join(', ') || 'nothing';
    const recipients = enc.recipients.join(', ');
    throw saidKeyError(
      phrase('error.wrongIdentity', { path, set: setId, opens, recipients }),
      phrase('error.wrongIdentityHint'),
    );
  }
  for (const k of keys) d.addIdentity(x25519Identity(k) ?? k); // as the recipients, in sealToRecipients
  if (enc.recipients.length) provenKeys.add(d);
  return d;
}

/**
 * Decrypters whose key is known to be the set's: the identity's public key is among the recipients the manifest
 * names, or the passphrase opened a stored file of the set. A file of the set that such a key does not open was
 * changed or damaged (a byte of its header), not encrypted for another key: exit 5, not "use another key".
 */
const provenKeys = new WeakSet<Decrypter>();

/** Hashes bytes passing through with md5 and sha256. */
export class PlainHasher extends Transform {
  bytes = 0;
  private readonly md5 = createHash('md5');
  private readonly sha256 = createHash('sha256');
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.md5.update(chunk);
    this.sha256.update(chunk);
    cb(null, chunk);
  }
  result(): PlainHashes {
    return { bytes: this.bytes, md5: this.md5.digest('hex'), sha256: this.sha256.digest('hex') };
  }
}

/** A decrypting stream of the age file `source` (header read and checked before it resolves). */
export async function openStream(d: Decrypter, source: Readable, label: string): Promise<Readable> {
  try {
    return await openPayload(d, source);
  } catch (err) {
    source.destroy();
    throw decryptError(err, label, provenKeys.has(d));
  }
}

/**
 * A decryption failure as an operator error: no matching key (exit 13) or damage (exit 5); a full disk or a
 * permission error where the plaintext is written is returned as it is (the callers say which disk).
 */
export function decryptError(err: unknown, label: string, keyIsTheSets = false): Error {
  if (err instanceof RespaldoError) return err;
  // Writing the plaintext failed (the disk is full, no permission): the set is not damaged, and is not said to be.
  if (isDiskFull(err) || isAccessError(err)) return err as Error;
  const message = (err as Error).message ?? String(err);
  if (/no identity matched/.test(message) && keyIsTheSets)
    return new VerifyError(
      `${label}: its age header holds no key the set's identity opens, though the set was encrypted for it: it was changed or damaged.`,
    );
  if (/no identity matched/.test(message)) {
    return saidKeyError(phrase('error.noKeyOpens', { label }), phrase('error.noKeyOpensHint'));
  }
  return new VerifyError(`${label} failed authentication while decrypting (${message}): it was changed or damaged.`);
}

/**
 * An encrypted stored file that decrypted and authenticated (its ciphertext as age wrote it) but whose decrypted bytes
 * do not decode (`err`, its decompressor's): not age's failure, its data is damaged; possible only where someone
 * encrypted other bytes in its place and rewrote its hashes (exit 5).
 */
export function decodedDamaged(err: unknown, label: string): VerifyError {
  const message = phrase('error.decodedDamaged', { label, error: (err as Error).message ?? String(err) });
  const hint = phrase('verify.notDecompressingHint');
  return new VerifyError(english(message), english(hint)).withPhrases(message, hint);
}

/**
 * Decrypts the age file `src` into `dest` (new, 0600, fsynced), checking the plaintext's size and
 * hashes against `expected`. `dest` is only complete, and only to be used, once this resolves: a
 * flipped byte anywhere fails age's authentication (VerifyError) and `dest` is removed. `signal` stops it
 * (InterruptedError, `dest` removed).
 */
export async function decryptFile(
  d: Decrypter,
  src: string,
  dest: string,
  expected: PlainHashes | undefined,
  label: string,
  signal?: AbortSignal,
): Promise<void> {
  // A small file opened whole in one call (a stream and a 1 MiB read buffer each made a restore of 5000 small files
  // spend 6 of its 20 s collecting garbage); one that does not open goes through the stream, which says why.
  if (await decryptWhole(d, src, dest, expected, label)) return;
  const hasher = new PlainHasher();
  try {
    const size = statSync(src).size;
    const plain = await openStream(d, createReadStream(src, { highWaterMark: readChunkFor(size) }), label);
    await pipeline(
      plain,
      hasher,
      createWriteStream(dest, { flags: 'wx', mode: FILE_MODE, highWaterMark: 1 << 20 }),
      ...(signal ? [{ signal }] : []),
    ).catch((err: unknown) => {
      if (signal?.aborted) throw new InterruptedError();
      throw decryptError(err, label);
    });
    await fsyncPath(dest);
    const got = hasher.result();
    if (expected && (got.bytes !== expected.bytes || got.md5 !== expected.md5 || got.sha256 !== expected.sha256)) {
      throw new VerifyError(
        `${label}: the decrypted file does not match the manifest's plaintext hashes (changed or damaged).`,
      );
    }
  } catch (err) {
    await fsp.rm(dest, { force: true });
    throw err;
  }
}

/** Files under this size are decrypted whole by decryptFile. */
const DECRYPT_WHOLE_MAX = 1 << 20;

/**
 * decryptFile of a small file: read, opened (openWhole), checked and written whole. False, nothing written, when it
 * is not small or does not open in one call.
 */
async function decryptWhole(
  d: Decrypter,
  src: string,
  dest: string,
  expected: PlainHashes | undefined,
  label: string,
): Promise<boolean> {
  let stored: Buffer | null;
  try {
    stored = readSmallFileSync(src, DECRYPT_WHOLE_MAX);
  } catch {
    return false; // the stream says what is wrong with it
  }
  const plain = stored && (await openWhole(d, stored));
  if (!stored || !plain) return false;
  const got = digestOf(plain);
  if (expected && (got.bytes !== expected.bytes || got.md5 !== expected.md5 || got.sha256 !== expected.sha256))
    throw new VerifyError(
      `${label}: the decrypted file does not match the manifest's plaintext hashes (changed or damaged).`,
    );
  try {
    // Made on the thread pool, several at once (decryptSet): created on this thread, each new file held the others.
    const fh = await fsp.open(dest, 'wx', FILE_MODE);
    try {
      await fh.writeFile(plain);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    await fsp.rm(dest, { force: true });
    throw decryptError(err, label);
  }
  // Its buffers, and the native keys of its header's X25519 that only a collection frees (garbage.ts)
  await madeGarbage(Math.max(stored.length + plain.length, SMALL_ITEM_COST));
  return true;
}

/** Reads an age stream to its end, hashing the plaintext (for `verify --read-data`); throws as decryptFile. */
export async function hashDecrypted(d: Decrypter, source: Readable, label: string): Promise<PlainHashes> {
  const hasher = new PlainHasher();
  hasher.resume();
  const plain = await openStream(d, source, label);
  await pipeline(plain, hasher).catch((err: unknown) => {
    throw decryptError(err, label);
  });
  return hasher.result();
}

/** A new identity in age-keygen's format, and its recipient. */
export async function newIdentity(now = new Date()): Promise<{ text: string; recipient: string }> {
  const { generateIdentity, identityToRecipient } = await age();
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const text = `# created: ${now.toISOString().replace(/\.\d+Z$/, 'Z')}\n# public key: ${recipient}\n${identity}\n`;
  return { text, recipient };
}

/** The problem with an age recipient string, or null. */
export async function recipientProblem(r: string): Promise<string | null> {
  // An X25519 recipient is checked here (its bech32 and length): a config naming only such keys never loads
  // age-encryption, 24 MiB of RSS, for a command that decrypts nothing (a create seals with age-x25519.ts).
  if (x25519Keys([r])) return null;
  try {
    new (await age()).Encrypter().addRecipient(r);
    return null;
  } catch (err) {
    return `not an age recipient (age1…): ${(err as Error).message}`;
  }
}

/** A KeyError said by phrases (the CLI prints their English; the menu says them in its language). */
function saidKeyError(message: Phrase, hint: Phrase): KeyError {
  return new KeyError(english(message), english(hint)).withPhrases(message, hint);
}
