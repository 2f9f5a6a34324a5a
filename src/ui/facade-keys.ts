import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { english, phrase } from '../core/phrases.js';
import type { LoadedConfig, Manifest } from '../core/types.js';
import { readManifestLeanOf, setDir } from '../engine/catalog.js';
import {
  KeyError,
  identityNeedsPassphrase,
  passphraseNeeded,
  unlockIdentity,
  unlockPassphrase,
} from '../engine/crypt.js';
import { openStored, samplePart, withFirstFile } from '../engine/decrypt-set.js';
import { readManifestLean, type ManifestFiles } from '../engine/manifest.js';
import { readRemoteManifestSample, withDestination, withRemoteFiles } from '../engine/remote.js';
import type { EngineFacade, KeyLock, KeySubject } from './engine-facade.js';
import { setKey } from '../destinations/destination.js';

/**
 * The facade's keyLocked and unlockKey (see EngineFacade): which passphrase decrypting needs that the
 * menu must ask (a protected identity file's, or a set's encrypted to a passphrase no file gives), and
 * opening it with what the operator typed. Sets are read here, where fetched, or at a destination.
 */

/**
 * An encrypted set keyLocked looks at, and how to open its stored files (here, where fetched, or at a destination).
 * Its manifest holds, of its files, the first stored one alone (the sample a passphrase is checked against): the
 * entries of a set of 100 000 files held took 40 MiB, each time the menu asked.
 */
interface EncryptedSet {
  m: Manifest;
  open: (path: string) => Promise<Readable>;
}

export function facadeKeys(config: () => LoadedConfig): Pick<EngineFacade, 'keyLocked' | 'unlockKey'> {
  /** Runs `work` over the encrypted sets `of` decrypts, each with an opener of its stored files. */
  const withEncrypted = async <T>(of: KeySubject, work: (sets: EncryptedSet[]) => Promise<T>): Promise<T> => {
    if (!('options' in of)) {
      if (of.from) {
        const m = await withDestination(config(), of.from, (dest, source) =>
          readRemoteManifestSample(dest, source, of.setId),
        );
        if (!m.encryption) return work([]);
        return withRemoteFiles(config(), of.from, m.id, (open) => work([{ m, open }]));
      }
      const { head, files } = await readManifestLeanOf(config(), of.setId);
      const m = withFirstFile(head, files);
      return work(m.encryption ? [{ m, open: openStored(setDir(config(), m.id)) }] : []);
    }
    const folder = of.options.setFolder;
    const dirOf = (id: string): string => (folder ? join(dirname(folder), id) : setDir(config(), id));
    const ids = of.at?.order ?? [of.setId];
    const sample = (read: { head: Manifest; files: ManifestFiles }) => withFirstFile(read.head, read.files);
    const manifests = await Promise.all(
      ids.map(async (id) =>
        sample(folder ? readManifestLean(dirOf(id), { remember: false }) : await readManifestLeanOf(config(), id)),
      ),
    );
    const encrypted = manifests.filter((m) => m.encryption);
    // Planned on the manifests of a set at a destination (its files fetched once confirmed, or streamed): there.
    const at = of.options.filesAt;
    if (folder && at && encrypted.length)
      return withDestination(config(), at.name, (dest, source) =>
        work(encrypted.map((m) => ({ m, open: (path) => dest.get(`${setKey(source, m.id)}/${path}`) }))),
      );
    return work(encrypted.map((m) => ({ m, open: openStored(dirOf(m.id)) })));
  };
  // Sets opened by a passphrase typed in this process: asked about again, they are not checked again.
  const opened = new Set<string>();
  /** Whether set `x` is encrypted to a passphrase the menu must ask for (see keyLocked). */
  const passphraseLocked = async (x: EncryptedSet): Promise<boolean> => {
    const sample = samplePart(x.m);
    if (sample === null || opened.has(x.m.id)) return false;
    return passphraseNeeded(config(), x.m.encryption!, () => x.open(sample), `${sample} of set ${x.m.id}`);
  };
  /** The identity file when it is protected and not opened yet, else null. */
  const lockedIdentity = async (): Promise<string | null> => {
    const path = config().encryption?.identityFile;
    return path && (await identityNeedsPassphrase(path)) ? path : null;
  };
  const byKey = (sets: EncryptedSet[]): boolean => sets.some((x) => !x.m.encryption!.passphrase);
  const keyLocked = async (of?: KeySubject): Promise<KeyLock | null> => {
    const identity = await lockedIdentity();
    if (!of) return identity ? 'identity' : null;
    return withEncrypted(of, async (sets) => {
      if (identity && byKey(sets)) return 'identity';
      for (const x of sets) if (await passphraseLocked(x)) return 'passphrase';
      return null;
    });
  };
  const unlockKey = async (passphrase: string, of?: KeySubject): Promise<void> => {
    const identity = await lockedIdentity();
    if (!of) return identity ? unlockIdentity(identity, passphrase) : undefined;
    await withEncrypted(of, async (sets) => {
      if (identity && byKey(sets)) return unlockIdentity(identity, passphrase);
      const opens: string[] = [];
      const locked: { id: string; error: unknown }[] = [];
      for (const x of sets) {
        if (!(await passphraseLocked(x))) continue;
        const sample = samplePart(x.m)!;
        await unlockPassphrase(passphrase, () => x.open(sample), x.m.id, `${sample} of set ${x.m.id}`).then(
          () => (opened.add(x.m.id), opens.push(x.m.id)),
          (error: unknown) => locked.push({ id: x.m.id, error }),
        );
      }
      if (!locked.length) return;
      if (!opens.length) throw locked[0]!.error;
      const message = phrase('error.otherPassphrase', { opened: opens.join(', '), locked: locked[0]!.id });
      const hint = phrase('error.otherPassphraseHint', { locked: locked[0]!.id });
      throw new KeyError(english(message), english(hint)).withPhrases(message, hint);
    });
  };
  return { keyLocked, unlockKey };
}
