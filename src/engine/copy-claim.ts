import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { RespaldoError } from '../core/errors.js';
import { english, phrase } from '../core/phrases.js';
import type { Manifest } from '../core/types.js';
import type { Destination } from '../destinations/destination.js';

/**
 * The claim a copy puts at a destination before it sends a set that is not there yet, so that two copies of two
 * different sets of one id (two configs on one server sharing a `source`, two jobs at 02:00) never both send.
 *
 * `<source>/.respaldo-claims/<id>.<hash of its startedAt>`, outside every set folder (no listing, prune or verify of
 * a set sees it). A copy puts its claim, then lists the claims of its id: another set's claim there means another copy
 * of it is sending, or was cut short and left its files, and this copy refuses, its claim removed, nothing sent. Of two
 * copies at the very same moment at least one sees the other's claim (each put its own before listing): one or both
 * refuse, having sent nothing; never do both send. Only then is the manifest looked at again (copy.ts): a copy that
 * completed removed its claim only after its manifest was written, so a claim gone means its manifest is found. The
 * claim is removed once the manifest is written; a copy that failed leaves it (its files are there), so the other set
 * is refused until it is completed. Sound where the destination lists what was just written (folder, sftp, S3; rclone
 * as its remote does).
 */

export const CLAIMS_DIR = '.respaldo-claims';

/** The claim's key of set `m` under `source`. */
export function claimKey(source: string, m: Pick<Manifest, 'id' | 'startedAt'>): string {
  const h = createHash('sha256').update(m.startedAt).digest('hex').slice(0, 16);
  return `${source}/${CLAIMS_DIR}/${m.id}.${h}`;
}

/**
 * Puts this set's claim there, then refuses (RespaldoError `notCopied`, its claim removed) when another set of its id
 * has one. `retry` wraps each request (withRetries).
 */
export async function claimSet(
  dest: Destination,
  source: string,
  m: Manifest,
  retry: <T>(work: () => Promise<T>) => Promise<T>,
): Promise<void> {
  const key = claimKey(source, m);
  const doc = Buffer.from(JSON.stringify({ id: m.id, startedAt: m.startedAt, host: m.host }) + '\n');
  await retry(() => putSmall(dest, key, doc));
  const mine = key.slice(`${source}/${CLAIMS_DIR}/`.length);
  const others = (await retry(() => dest.listFiles(`${source}/${CLAIMS_DIR}`)))
    .map((f) => f.path)
    .filter((p) => p.startsWith(`${m.id}.`) && p !== mine);
  if (!others.length) return;
  await retry(() => dest.delete(key)).catch(() => undefined);
  const where = `${dest.describe()}/${source}`;
  const claim = `${where}/${CLAIMS_DIR}/${others[0]}`;
  const message = phrase('copy.claimedThere', { dest: dest.name, set: m.id, source, claim });
  const hint = phrase('copy.claimedThereHint', { source, where, set: m.id, claim });
  throw new RespaldoError('notCopied', english(message), english(hint)).withPhrases(message, hint);
}

/** Removes this set's claim once its manifest is written there (a failure is left to the next copy). */
export async function releaseClaim(dest: Destination, source: string, m: Manifest): Promise<void> {
  await dest.delete(claimKey(source, m)).catch(() => undefined);
}

/**
 * Puts the few bytes of `doc` at `key`: from a file, where the destination sends files itself (rclone: through its
 * daemon, where a stream is one `rclone rcat` process, about a tenth of a second for every set copied).
 */
async function putSmall(dest: Destination, key: string, doc: Buffer): Promise<void> {
  if (!dest.putFile) return dest.put(key, Readable.from([doc]), doc.length);
  const dir = await fsp.mkdtemp(join(tmpdir(), 'respaldo-claim-'));
  try {
    const file = join(dir, 'claim');
    await fsp.writeFile(file, doc, { mode: 0o600 });
    const sha256 = createHash('sha256').update(doc).digest('hex');
    await dest.putFile(key, file, doc.length, {
      sha256,
      check: (got, bytes) => {
        if (got !== sha256 || bytes !== doc.length) throw new Error(`the claim ${file} changed while it was sent`);
      },
    });
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
