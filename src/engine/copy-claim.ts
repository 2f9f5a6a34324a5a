import { createHash } from 'node:crypto';
import { promises as fsp, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { hostname } from 'node:os';
import { DestinationError, RespaldoError } from '../core/errors.js';
import type { Reporter } from '../core/events.js';
import { formatAge, formatLocal } from '../core/format.js';
import { english, phrase, said, type Said } from '../core/phrases.js';
import type { Manifest } from '../core/types.js';
import type { Destination, RemoteFile } from '../destinations/destination.js';
import { bootId, processAlive, startTicks } from './lock.js';
import { MANIFEST_NAME } from './manifest.js';
import { makeClaimScratch, removeDeadClaimScratch } from './system-scratch.js';
import { LEFTOVER_AGE_MS, notFromACopy } from './remote-prune.js';

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
 * is refused until it is completed, or until that claim is taken over: its copy is known gone (it ran on this machine,
 * this boot, and its process is not there), or nothing was written beside it nor in the set folder for
 * LEFTOVER_AGE_MS (the age at which `prune --from` removes such a folder), or at once when the operator says its copy
 * will not complete (`copy ID --to NAME --take-over`, never by default). Taking over removes the unfinished files
 * first (and aborts the uploads left pending in the set folder, where the store lists them), then the claim, and
 * only a copy that saw no other claim still sending does it: the two sets never mix. An empty claims folder is removed
 * (folder, sftp). Sound where the destination lists what was just written (folder,
 * sftp, S3; rclone as its remote does).
 */

export const CLAIMS_DIR = '.respaldo-claims';

/** The claim's key of set `m` under `source`. */
export function claimKey(source: string, m: Pick<Manifest, 'id' | 'startedAt'>): string {
  const h = createHash('sha256').update(m.startedAt).digest('hex').slice(0, 16);
  return `${source}/${CLAIMS_DIR}/${m.id}.${h}`;
}

/** What a claim says of the copy that put it (older claims hold only id, startedAt and host). */
interface ClaimDoc {
  id?: string;
  startedAt?: string;
  host?: string;
  pid?: number;
  /** The machine's boot (lock.ts bootId): the same boot is the same machine, where `pid` can be looked at. */
  boot?: string;
  startTicks?: number;
  /** Its PID namespace (`/proc/self/ns/pid`): a container on the same machine shares the boot, not the pids. */
  pidns?: string;
}

/** This process's PID namespace, or undefined where /proc does not tell it. */
function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/**
 * Whether the copy that put claim `doc` is known to run no longer: it was on this machine, this boot, in this PID
 * namespace (a pid of another container means nothing here: that copy may be sending), and is gone.
 */
export function holderGone(doc: ClaimDoc): boolean {
  const boot = bootId();
  const ns = pidNamespace();
  if (!doc.pid || !doc.boot || !boot || doc.boot !== boot || doc.host !== hostname()) return false;
  if (!doc.pidns || !ns || doc.pidns !== ns) return false;
  if (!processAlive(doc.pid)) return true;
  const ticks = startTicks(doc.pid);
  return doc.startTicks !== undefined && ticks !== undefined && doc.startTicks !== ticks;
}

/**
 * Whether the copy that put claim `doc` is known to still run: on this machine, this boot, this PID namespace, its
 * process there (the same one: its start time matches where the claim tells it).
 */
export function holderRuns(doc: ClaimDoc): boolean {
  const boot = bootId();
  const ns = pidNamespace();
  if (!doc.pid || !doc.boot || !boot || doc.boot !== boot || doc.host !== hostname()) return false;
  if (!doc.pidns || !ns || doc.pidns !== ns || !processAlive(doc.pid)) return false;
  const ticks = startTicks(doc.pid);
  return doc.startTicks === undefined || ticks === undefined || doc.startTicks === ticks;
}

/** Whose claim `doc` (the file `claim`) is, for the operator: host, pid and when it was put. */
function claimOwner(doc: ClaimDoc | null, claim: RemoteFile): string {
  const when = claim.modifiedAt ? formatLocal(claim.modifiedAt) : '?';
  return `${claim.path}: host ${doc?.host ?? '?'}, pid ${doc?.pid ?? '?'}, claimed ${when}`;
}

/**
 * Pure: whether another set's claim there, with what its set folder holds, was left by a copy cut short and may be
 * taken over (null: it may not, a copy may be sending). Taken over when its copy is known to be gone (`gone`: it
 * ran on this machine, holderGone), or when neither the claim nor anything in the set folder (temporary files
 * included) was written for LEFTOVER_AGE_MS and no upload is pending there; a time the destination does not tell
 * is never old. Never when the folder holds files no copy writes (someone's own: they are not removed).
 */
export function staleClaimReason(
  claim: RemoteFile,
  folder: readonly RemoteFile[],
  o: { gone: boolean; uploadsPending: boolean; strays: readonly string[]; now: Date },
): { gone: true } | { quietMs: number } | null {
  if (o.strays.length) return null;
  if (o.gone) return { gone: true };
  if (o.uploadsPending) return null;
  const times = [claim, ...folder].map((f) => (f.modifiedAt ? Date.parse(f.modifiedAt) : NaN));
  if (times.some((t) => !(o.now.getTime() - t >= LEFTOVER_AGE_MS))) return null;
  return { quietMs: o.now.getTime() - Math.max(...times) };
}

/**
 * Puts this set's claim there, then refuses (RespaldoError `notCopied`, its claim removed) when another set of its id
 * has one that may still be sending. `retry` wraps each request (withRetries). Another set's claim is removed when
 * that set's manifest is there (its copy completed; any other copy of that id refuses on it), and taken over when its
 * copy was cut short (staleClaimReason): the unfinished files in the set folder are removed first, then its claim,
 * and `reporter` is told. `takeOver` (`copy ID --to NAME --take-over`, the operator's word that its copy will not
 * complete): a claim is taken over at once, saying whose it was (host, pid, when), unless its copy is known to run on
 * this machine or the set folder holds files no copy writes (never removed). Returns whether files were removed from
 * the set folder (what was listed there is gone), and what was said of a claim taken over.
 */
export async function claimSet(
  dest: Destination,
  source: string,
  m: Manifest,
  retry: <T>(work: () => Promise<T>) => Promise<T>,
  reporter?: Reporter,
  opts: { takeOver?: boolean } = {},
): Promise<{ folderEmptied: boolean; takenOver?: Said }> {
  const key = claimKey(source, m);
  const dir = `${source}/${CLAIMS_DIR}`;
  const boot = bootId();
  const ticks = startTicks(process.pid);
  const pidns = pidNamespace();
  const doc = Buffer.from(
    JSON.stringify({
      id: m.id,
      startedAt: m.startedAt,
      host: m.host,
      pid: process.pid,
      ...(boot ? { boot } : {}),
      ...(ticks !== undefined ? { startTicks: ticks } : {}),
      ...(pidns ? { pidns } : {}),
    }) + '\n',
  );
  // Another copy may remove the claims' folder, empty, between its making and this write (releaseClaim): put again.
  for (let attempt = 1; ; attempt++) {
    try {
      await retry(() => putSmall(dest, key, doc));
      break;
    } catch (err) {
      if (!(err instanceof DestinationError && err.kind === 'notFound') || attempt >= 3) throw err;
    }
  }
  const mine = key.slice(dir.length + 1);
  const others = (await retry(() => dest.listFiles(dir))).filter(
    (f) => f.path.startsWith(`${m.id}.`) && f.path !== mine,
  );
  if (!others.length) return { folderEmptied: false };
  const setFolder = `${source}/${m.id}`;
  const refuse = async (runs?: { host: string; pid: number }): Promise<never> => {
    await releaseClaim(dest, source, m);
    const where = `${dest.describe()}/${source}`;
    const other = others.find((f) => f.modifiedAt) ?? others[0]!;
    const claim = `${where}/${CLAIMS_DIR}/${others[0]!.path}`;
    const message = phrase('copy.claimedThere', { dest: dest.name, set: m.id, source, claim });
    const hint = runs
      ? phrase('copy.claimHolderRunsHint', { pid: String(runs.pid), host: runs.host, claim })
      : phrase('copy.claimedThereHint', {
          source,
          where,
          set: m.id,
          claim,
          dest: dest.name,
          ...(other.modifiedAt ? { quiet: formatAge(LEFTOVER_AGE_MS), claimed: formatLocal(other.modifiedAt) } : {}),
        });
    throw new RespaldoError('notCopied', english(message), english(hint)).withPhrases(message, hint);
  };
  // A set's copy completed (its manifest is there and reads whole): no copy of that id sends while it is there, so the
  // claims are left over; this copy then refuses on that manifest, or completes its own. One that fails its checks
  // may be either set's: refused, as before.
  if (await retry(() => dest.stat(`${setFolder}/${MANIFEST_NAME}`))) {
    const { readRemoteManifestLean } = await import('./remote.js');
    // Checked whole as it is read, its entries not held
    const whole = await retry(() => readRemoteManifestLean(dest, source, m.id)).then(
      () => true,
      (err: unknown) => {
        if (err instanceof RespaldoError) return false;
        throw err;
      },
    );
    if (!whole) return refuse();
    for (const o of others) await retry(() => dest.delete(`${dir}/${o.path}`));
    return { folderEmptied: false };
  }
  const folder = await retry(() => dest.listFiles(setFolder, { temps: true }));
  const uploads = dest.listUploads ? await retry(() => dest.listUploads!(setFolder)) : null;
  const strays = notFromACopy(folder.filter((f) => !f.temp).map((f) => f.path));
  const now = new Date();
  const hosts = new Set<string>();
  let quietMs: number | null = null;
  const asked: string[] = [];
  for (const o of others) {
    const held = await readClaim(dest, `${dir}/${o.path}`, retry);
    const why = staleClaimReason(o, folder, {
      gone: held ? holderGone(held) : false,
      uploadsPending: Boolean(uploads?.length),
      strays,
      now,
    });
    if (!why) {
      // Taken over as asked, but never from a copy seen running here, nor over files no copy writes.
      if (!opts.takeOver || strays.length) return refuse();
      if (held?.pid && held.host && holderRuns(held)) return refuse({ host: held.host, pid: held.pid });
      asked.push(claimOwner(held, o));
    }
    hosts.add(held?.host ?? '?');
    if (why && 'quietMs' in why) quietMs = Math.min(quietMs ?? Infinity, why.quietMs);
  }
  // Its uploads pending there (S3: a copy killed in the middle of a multipart upload) will not complete either: aborted
  // now, where the store lists them, rather than kept (and billed) until a copy or prune aborts them a day old.
  const aborted = dest.abortUpload ? (uploads ?? []) : [];
  if (asked.length) {
    // Said before anything is removed: whose claim it was, so that the operator can look that copy up.
    reporter?.emit({
      type: 'warning',
      ...said('warn.claimTakingOver', {
        set: m.id,
        dest: dest.name,
        owner: asked.join('; '),
        files: folder.length,
        uploads: aborted.length,
      }),
    });
  }
  // Cut short: its unfinished files go first (this set's own would be sent over them), then its claim.
  for (const f of folder) await retry(() => dest.delete(`${setFolder}/${f.path}`));
  for (const u of aborted) await retry(() => dest.abortUpload!(u));
  for (const o of others) await retry(() => dest.delete(`${dir}/${o.path}`));
  const params = {
    set: m.id,
    dest: dest.name,
    files: folder.length,
    uploads: aborted.length,
    claim: others.map((o) => o.path).join(', '),
    host: [...hosts].join(', '),
  };
  const told = asked.length
    ? said('warn.claimTakenOverAsked', { ...params, owner: asked.join('; ') })
    : quietMs === null
      ? said('warn.claimTakenOverGone', params)
      : said('warn.claimTakenOver', { ...params, age: formatAge(quietMs) });
  // Taken over as asked: what it was was said before the removal; the outcome is said once, in the result.
  if (!asked.length) reporter?.emit({ type: 'warning', ...told });
  return { folderEmptied: folder.length > 0, takenOver: told };
}

/** The claim at `key`, or null when it is gone or is not one (a file someone put there). */
async function readClaim(
  dest: Destination,
  key: string,
  retry: <T>(work: () => Promise<T>) => Promise<T>,
): Promise<ClaimDoc | null> {
  try {
    const text = await retry(async () => {
      const chunks: Buffer[] = [];
      for await (const c of (await dest.get(key)) as AsyncIterable<Buffer>) {
        chunks.push(c);
        if (chunks.reduce((n, x) => n + x.length, 0) > 4096) break;
      }
      return Buffer.concat(chunks).toString('utf8');
    });
    const doc = JSON.parse(text) as unknown;
    return doc && typeof doc === 'object' ? (doc as ClaimDoc) : null;
  } catch (err) {
    if (err instanceof SyntaxError || err instanceof DestinationError) return null;
    throw err;
  }
}

/**
 * Removes this set's claim once its manifest is written there (a failure is left to the next copy), and the claims'
 * folder when it is left empty (folder, sftp; never with anything in it).
 */
export async function releaseClaim(dest: Destination, source: string, m: Manifest): Promise<void> {
  await dest.delete(claimKey(source, m)).catch(() => undefined);
  await removeEmptyClaims(dest, source);
}

/** Removes `<source>/.respaldo-claims` where it is a folder and holds nothing (a failure changes nothing). */
export async function removeEmptyClaims(dest: Destination, source: string): Promise<void> {
  await dest.removeEmptyDirs?.(`${source}/${CLAIMS_DIR}`).catch(() => undefined);
}

/**
 * Puts the few bytes of `doc` at `key`: from a file, where the destination sends files itself (rclone: through its
 * daemon, where a stream is one `rclone rcat` process, about a tenth of a second for every set copied).
 */
async function putSmall(dest: Destination, key: string, doc: Buffer): Promise<void> {
  if (!dest.putFile) return dest.put(key, Readable.from([doc]), doc.length);
  // A copy killed in the moment it is here (kill -9) left the folder for good: those of copies gone go first.
  await removeDeadClaimScratch();
  const dir = await makeClaimScratch();
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
