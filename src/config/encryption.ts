import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { EncryptionConfig } from '../core/types.js';
import type { DestinationConfig } from '../destinations/destination.js';
import { recipientProblem } from '../engine/crypt.js';

/**
 * Checks `encryption` (after schema validation): recipients or a passphrase file (not both), every
 * recipient a valid age public key (never a secret key), and that destinations with `encrypt: true`
 * have an `encryption` to use. Resolves file paths against `baseDir`. Throws a ConfigError naming the field.
 */
export async function normalizeEncryption(
  file: string,
  doc: { encryption?: EncryptionConfig; destinations?: DestinationConfig[] },
  baseDir: string,
): Promise<EncryptionConfig | undefined> {
  const enc = doc.encryption;
  const encrypting = (doc.destinations ?? []).findIndex((d) => d.encrypt === true);
  if (!enc) {
    if (encrypting >= 0)
      throw new ConfigError(
        file,
        `destinations[${encrypting}].encrypt`,
        'needs "encryption" (the recipients to encrypt to)',
        'Add "encryption": { "recipients": ["age1…"] } (`respaldo key generate FILE` prints a recipient).',
      );
    return undefined;
  }
  if (enc.recipients && enc.passphraseFile)
    throw new ConfigError(
      file,
      'encryption.passphraseFile',
      'use either "recipients" or "passphraseFile", not both',
      'Recipients (public keys) are recommended: backing up then needs no secret on the server.',
    );
  if (!enc.recipients && !enc.passphraseFile)
    throw new ConfigError(
      file,
      'encryption.recipients',
      'required (the age public keys sets are encrypted to), or "passphraseFile"',
      enc.identityFile
        ? // a server that restores with a key it already has: that key's recipient, never a new key
          `Put the public key of ${enc.identityFile} here: its "# public key:" line, or what \`age-keygen -y ${enc.identityFile}\` prints (protected by a passphrase: \`age -d ${enc.identityFile} | age-keygen -y\`).`
        : 'Run `respaldo key generate /safe/place/key.txt` and put the recipient it prints here.',
    );
  for (const [i, r] of (enc.recipients ?? []).entries()) {
    if (r.startsWith('AGE-SECRET-KEY-'))
      throw new ConfigError(
        file,
        `encryption.recipients[${i}]`,
        'is a secret key (AGE-SECRET-KEY-…), not a recipient',
        'Put only the public key (age1…, the "# public key:" line of the identity file) here; keep the secret key off the config, in "identityFile".',
      );
    const problem = await recipientProblem(r);
    if (problem)
      throw new ConfigError(
        file,
        `encryption.recipients[${i}]`,
        problem,
        'Copy the recipient exactly as `respaldo key generate` or `age-keygen -y KEYFILE` prints it.',
      );
  }
  const abs = (p: string | undefined) => (p === undefined ? undefined : isAbsolute(p) ? p : resolve(baseDir, p));
  const identityFile = abs(enc.identityFile);
  const passphraseFile = abs(enc.passphraseFile);
  return {
    ...enc,
    ...(identityFile ? { identityFile } : {}),
    ...(passphraseFile ? { passphraseFile } : {}),
    local: enc.local ?? true,
  };
}
