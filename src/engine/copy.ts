/**
 * `respaldo copy`: sets to destinations, each file checked against the manifest on the way, the manifest
 * last, the outcome marked beside the set. Why one file of about 900 lines: copying one set, several sets and
 * the copy after a backup share the file selection, the retries and the marks (encrypted copies: copy-seal.ts; the
 * claim put before sending a set not there yet: copy-claim.ts).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, promises as fsp, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { DestinationError, InterruptedError, RespaldoError, VerifyError } from '../core/errors.js';
import type { Reporter } from '../core/events.js';
import type { FileEntry, LoadedConfig, Manifest, SetSummary } from '../core/types.js';
import {
  folderAmong,
  folderInTheWay,
  setKey,
  type Destination,
  type DestinationConfig,
  type RemoteFile,
} from '../destinations/destination.js';
import { declaredDestination, destinationConfig, openDestination } from '../destinations/registry.js';
import { KEEP_MARK, listSets, readManifestLeanOf, setDir } from './catalog.js';
import { chainToVerify } from './chain-sets.js';
import { writeFileAtomic } from './fs-util.js';
import { processAlive } from './lock.js';
import { mapLimited } from './limited.js';
import { writeLog } from './log.js';
import { heldAcross, heldYoung, madeGarbage } from './garbage.js';
import { startedAtThere } from './remote-head.js';
import { MANIFEST_NAME, nextBackupOnly, type ManifestFiles } from './manifest.js';
import { printedName } from '../core/format.js';
import { isSetId } from './set-id.js';
import { AGE_EXTENSION, sealerFor, type Sealer } from './crypt.js';
import { putSealedManifest, SealedSentRecord, sealedCopyComplete, sendSealed, type LocalPart } from './copy-seal.js';
import { FilesToSend, type FileToSend } from './files-to-send.js';
import { abortOldUploads, oldTemps } from './remote-prune.js';
import { putKeepMark } from './remote-keep.js';
import { copyVerified, type ResentFile } from './copy-repair.js';
import { claimSet, releaseClaim } from './copy-claim.js';
import { english, nestedPhrase, phrase, said, saidOf, type Phrase } from '../core/phrases.js';
import { isLocalSetProblem, localMismatch, localSetProblem } from './copy-local.js';

/** The mark beside a set that records where it was copied (not part of the manifest). */
export const COPIES_NAME = 'copies.json';

/** One destination's entry in `copies.json`. */
export interface CopyMark {
  ok: boolean;
  at: string;
  /** Where the set is on the destination (`s3://bucket/prefix/<source>/<id>`, a folder). */
  where: string;
  error?: string;
  /** `error` as a phrase, when the error has one (the menu says it in its language). */
  errorPhrase?: Phrase;
  /** When `prune --from` or `delete --from` removed the set there: `copy` does not send it again unless named. */
  prunedAt?: string;
  /**
   * A later copy of a set that is whole there that failed before it changed anything there (the mark stays `ok`):
   * when, and its error. Gone with the next copy that succeeds.
   */
  lastFailure?: { at: string; error: string; errorPhrase?: Phrase };
}

/** `copies.json`: by destination name. */
export type CopiesRecord = Record<string, CopyMark>;

/** What copying one set to one destination did. */
export interface CopyResult {
  setId: string;
  destination: string;
  ok: boolean;
  where: string;
  filesSent: number;
  bytesSent: number;
  filesAlreadyThere: number;
  /** S3: whether the store kept SHA-256 checksums of the uploads (null: not asked or nothing sent). */
  storeChecksums?: boolean | null;
  /**
   * SFTP: whether files were read straight into the SSH packets (false: ssh2's own, slower writes, because
   * the installed ssh2 is not the version respaldo drives; null: nothing sent).
   */
  sftpDirectWrites?: boolean | null;
  error?: string;
  /** `error` as a phrase, when the error has one. */
  errorPhrase?: Phrase;
  hint?: string;
  /**
   * The copy failed on this set's own files here (one that does not match its manifest, or cannot be read), not on
   * the destination: the other sets of the run are still copied there (copy-local.ts).
   */
  localProblem?: boolean;
  /**
   * Requests tried again after a transient failure (a connection lost, a timeout, a 5xx answer), when any: the copy
   * completed all the same, over a link that failed on the way.
   */
  retries?: number;
  /** What the first requests tried again failed with (at most RETRY_ERRORS_KEPT, each said once). */
  retryErrors?: string[];
  /** The first of `retryErrors` as a phrase, when it has one (the menu says it in its language). */
  retryErrorPhrase?: Phrase;
  /** With `verify`: the files there read back and re-hashed. */
  reread?: number;
  /** With `verify`: the files of a set already there that were missing or differed, and were sent again. */
  resent?: ResentFile[];
  /**
   * Encrypted only off-site: the files of an earlier unencrypted copy of the set there, removed once its
   * encrypted copy was complete (each readable by whoever holds the destination).
   */
  removedUnencrypted?: string[];
  /**
   * The destination's own folder (`remote:path`), when this copy created it (it did not exist there: rclone); said
   * once, by the first copy to a new (or mistyped) `path`.
   */
  created?: string;
  /**
   * Another set's claim on this id there, left by its copy cut short, that this copy took over (copy-claim.ts): what
   * was said, its unfinished files removed there.
   */
  claimTakenOver?: string;
  /** `claimTakenOver` as a phrase (the menu says it in its language). */
  claimTakenOverPhrase?: Phrase;
}

/** The result of a copy of set `setId` to `destination` before anything was sent (or that sent nothing). */
function nothingSent(setId: string, destination: string): CopyResult {
  return { setId, destination, ok: false, where: '', filesSent: 0, bytesSent: 0, filesAlreadyThere: 0 };
}

export interface CopyOptions {
  signal?: AbortSignal;
  /** Attempts per file on transient errors (default 4); backoff doubles from `backoffMs` (default 250). */
  attempts?: number;
  backoffMs?: number;
  /** Told of each transient failure about to be tried again (copySet counts them: CopyResult.retries). */
  onRetry?: (err: DestinationError) => void;
  /** `copy --verify`: what is there read back and re-hashed, what is missing or differs sent again (copy-repair.ts). */
  verify?: boolean;
  /**
   * `copy ID --to NAME --take-over`: another set's claim on this id there, left by a copy the operator knows will not
   * complete, is taken over at once (copy-claim.ts claimSet), for set ID only (not the sets of its chain sent first).
   */
  takeOver?: boolean;
}

/** Reads a set's `copies.json` ({} when it has none or it is unreadable). */
export function readCopies(dir: string): CopiesRecord {
  try {
    return JSON.parse(readFileSync(join(dir, COPIES_NAME), 'utf8')) as CopiesRecord;
  } catch {
    return {};
  }
}

async function recordCopy(dir: string, name: string, mark: CopyMark): Promise<void> {
  if (!existsSync(dir)) return; // the set was deleted meanwhile
  await writeFileAtomic(join(dir, COPIES_NAME), JSON.stringify({ ...readCopies(dir), [name]: mark }, null, 2) + '\n');
}

/** Hashes bytes passing through with SHA-256. */
export class Sha256Pass extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
  /**
   * `dropped`: the chunks are hashed and dropped (read back to be checked), so each counts towards the collections
   * (garbage.ts) before the next comes: a manifest of 58 MB read back so piled up 30 MiB of chunks at once.
   */
  constructor(private readonly dropped = false) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    const collecting = this.dropped ? madeGarbage(chunk.length) : undefined;
    if (collecting) collecting.then(() => cb(null, chunk), cb);
    else cb(null, chunk);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** How many requests the copies `results` to `dest` tried again, and the first error that made them. */
export function retriedPhrase(
  dest: string,
  results: readonly Pick<CopyResult, 'retries' | 'retryErrors' | 'retryErrorPhrase'>[],
): Phrase {
  const count = results.reduce((n, x) => n + (x.retries ?? 0), 0);
  const first = results.find((x) => x.retryErrors?.length);
  const error = first?.retryErrors?.[0];
  return phrase('dest.retried', { count, dest, ...(error ? { error, ...nestedPhrase(first.retryErrorPhrase) } : {}) });
}

/** How many distinct errors of requests tried again a copy keeps to say (CopyResult.retryErrors). */
export const RETRY_ERRORS_KEPT = 3;

/** Runs `op` again on transient destination errors, waiting `backoffMs`, then twice that, …. */
export async function withRetries<T>(op: () => Promise<T>, opts: CopyOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 4;
  let wait = opts.backoffMs ?? 250;
  for (let i = 1; ; i++) {
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof DestinationError && err.transient) || i >= attempts || opts.signal?.aborted) throw err;
      opts.onRetry?.(err);
      await new Promise((r) => setTimeout(r, wait));
      wait *= 2;
    }
  }
}

/**
 * Refuses (nothing sent) when the destination holds, under this set's id, a set that is not this one (another start
 * time): another config on this server, or another server, copies there under the same `source` (it defaults to the
 * host name), and two daily jobs at 02:00 make sets of one id. Sending would overwrite that set's manifest, leaving
 * its files unlisted there. A manifest there that fails its checks is this copy's to repair, as before.
 */
async function refuseAnotherSet(dest: Destination, source: string, m: Manifest, opts: CopyOptions): Promise<void> {
  // This set's manifest there (a rerun): its start says so. Read whole, a rerun for a set of 100 000 files fetched its
  // 58 MB from the destination to compare this one field, and peaked 10 MiB higher.
  if ((await startedAtThere(dest, `${setKey(source, m.id)}/${MANIFEST_NAME}`, opts.signal)) === m.startedAt) return;
  const { readRemoteManifestLean } = await import('./remote.js');
  let there: Manifest;
  try {
    // Its head: checked whole as it is read, its entries not held (58 MB of manifest for a set of 100 000 files).
    there = (await withRetries(() => readRemoteManifestLean(dest, source, m.id), opts)).head;
  } catch (err) {
    if (err instanceof VerifyError) return;
    throw err;
  }
  if (there.startedAt === m.startedAt) return;
  const message = phrase('copy.anotherSetThere', {
    dest: dest.name,
    set: m.id,
    source,
    thereAt: there.startedAt,
    thereHost: there.host,
    at: m.startedAt,
    host: m.host,
  });
  const hint = phrase('copy.anotherSetThereHint', { source, suggested: `${source}-${m.databases[0]?.name ?? 'app'}` });
  throw new RespaldoError('notCopied', english(message), english(hint)).withPhrases(message, hint);
}

/** Heap one file to send takes in filesToCopy's list, about (its path, its object, the 32 bytes of its SHA-256). */
const FILE_TO_SEND_HELD = 120;
/** Heap one file listed at a destination takes, about (its path, size and time). */
const LISTED_FILE_HELD = 150;

/**
 * What a copy uses of the listing of the set's folder at the destination: the paths and sizes of the files there
 * (`remote`), the temporary files (`temps`), and a folder at a name the copy writes (`inTheWay`; an S3 prefix), refused
 * before anything is written or claimed. One stretch that keeps what it makes, after what listing left is collected
 * (100 000 files: it peaked 20 MiB higher). A function of its own so that the listing is not held by a closure of the
 * copy: once this returns, nothing holds it but what the copy still reads of it.
 */
function listingUsed(
  listed: RemoteFile[],
  files: { path: string }[],
  sealed: boolean,
): { remote: Map<string, number>; temps: RemoteFile[]; inTheWay: string | null } {
  return heldYoung(() => {
    const remote = new Map<string, number>();
    const temps: RemoteFile[] = [];
    for (const f of listed)
      if (f.temp) temps.push(f);
      else remote.set(f.path, f.size);
    const names = [...files.map((f) => (sealed ? f.path + AGE_EXTENSION : f.path)), MANIFEST_NAME];
    return { remote, temps, inTheWay: folderAmong(listed, names) };
  }, listed.length * LISTED_FILE_HELD);
}

/**
 * The files of a set to copy, manifest excluded: path, local size and the manifest's SHA-256 (as storedPaths lists
 * them; FilesToSend keeps the hashes compactly). `entries`: its file entries, when `m` is a head read lean (they are
 * gone through once, none held), `count` of them.
 */
export function filesToCopy(
  m: Manifest,
  dir: string,
  entries: Iterable<FileEntry> = m.files,
  count = m.files.length,
): FileToSend[] {
  // A file no restore reads (SQLite's page map) missing here is not sent (missingNextBackupFiles says which)
  const gone = new Set(missingNextBackupFiles(m, dir).map((x) => x.file));
  const out = new FilesToSend(m.databases.length + count);
  const add = (path: string, sha256: string | null): void => {
    if (gone.has(path)) return;
    let size: number;
    try {
      size = statSync(join(dir, path)).size;
    } catch (err) {
      // Gone or unreadable here (deleted by hand, the disk): the set's own problem, said so (it was a bug's stack)
      throw unreadable(join(dir, path), err);
    }
    out.add(path, size, sha256);
  };
  for (const d of m.databases) {
    if (d.file) add(d.file, d.sha256);
    for (const x of d.extras ?? []) add(x.file, x.sha256);
  }
  for (const f of entries) if (f.stored) add(f.stored, f.sha256);
  return out.files;
}

/** The files of `m` only the next backup reads (manifest.ts nextBackupOnly) missing in `dir`, with their database. */
export function missingNextBackupFiles(m: Manifest, dir: string): { file: string; db: string }[] {
  return m.databases.flatMap((d) =>
    (d.extras ?? [])
      .filter((x) => nextBackupOnly(d, x) && !existsSync(join(dir, x.file)))
      .map((x) => ({ file: x.file, db: d.name })),
  );
}

/**
 * Copies one local set to one destination: sends every stored file missing there or of another
 * size (in parallel, `parallel` at a time, each retried with backoff on transient errors, each
 * re-hashed on the way and checked against the manifest), then the manifest last, so the set is
 * listed there only once whole. Records the outcome in the set's `copies.json`. Destination
 * failures are returned (ok false), not thrown; the local set is never changed but for its mark.
 */
export async function copySet(
  cfg: LoadedConfig,
  id: string,
  destName: string,
  reporter: Reporter,
  given: CopyOptions = {},
): Promise<CopyResult> {
  // As declared: a `${VAR}` of it not set is said by openDestination below, as this copy's failure.
  const dc = declaredDestination(cfg, destName);
  // Its file entries gone through once for the files to send, not held (but for an encrypted copy, below): read
  // whole, a copy of a set of 100 000 files peaked 120 MiB higher than of 5000, in the process of the create too.
  const { head: m, files: entries } = await readManifestLeanOf(cfg, id);
  const dir = setDir(cfg, m.id);
  const t0 = Date.now();
  let dest: Destination | undefined;
  const result = nothingSent(m.id, destName);
  // Each request tried again is counted: said in the result and the log, where a copy over a failing link that
  // completed on its retries looked like any other.
  const opts: CopyOptions = {
    ...given,
    onRetry: (err) => {
      result.retries = (result.retries ?? 0) + 1;
      const said = (result.retryErrors ??= []);
      if (said.length < RETRY_ERRORS_KEPT && !said.includes(err.message)) said.push(err.message);
      if (said.length === 1 && said[0] === err.message && err.phrases?.message)
        result.retryErrorPhrase ??= err.phrases.message;
      given.onRetry?.(err);
    },
  };
  // Interrupted: the destination is closed, which fails what is in flight there (a request a frozen store never
  // answers included); withRetries then retries nothing.
  const onAbort = () => void dest?.close().catch(() => undefined);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let lastError: RespaldoError | null = null;
  let missingRoot: string | null = null;
  try {
    dest = await openDestination(cfg, destName);
    const key = setKey(dc.source!, m.id);
    result.where = `${dest.describe()}/${key}`;
    // One synchronous stretch that keeps what it makes: the young generation held meanwhile (garbage.ts), and what
    // reading the manifest left collected first when that is much (100 000 files: 17 MiB kept).
    const files = heldYoung(
      () => filesToCopy(m, dir, entries.entries(), entries.count),
      entries.count * FILE_TO_SEND_HELD,
    );
    for (const x of missingNextBackupFiles(m, dir)) {
      const why = phrase('verify.nextBackupOnly', { file: printedName(x.file), problem: 'missing', db: x.db });
      reporter.emit({ type: 'warning', ...saidOf(why) });
    }
    // A set not copied there yet (its mark says so): its files are checked while the destination starts and is listed.
    const mark = readCopies(dir)[destName];
    const sealed = Boolean(dc.encrypt && !m.encryption && cfg.encryption);
    if (dest.expectFiles && !opts.verify && !sealed && (!mark?.ok || mark.prunedAt))
      dest.expectFiles(files.map((f) => ({ source: join(dir, f.path), size: f.size })));
    const listed = await withRetries(() => heldAcross(() => dest!.listFiles(key, { temps: true })), opts);
    const { remote, temps, inTheWay } = listingUsed(listed, files, sealed);
    if (inTheWay) throw folderInTheWay(destName, `${key}/${inTheWay}`, `${dest.describe()}/${key}/${inTheWay}`);
    missingRoot = listed.length ? null : await withRetries(async () => (await dest!.missingRoot?.()) ?? null);
    for (const t of [...oldTemps(temps, new Date()), ...deadRunTemps(temps)])
      await dest.delete(`${key}/${t.path}`).catch(() => undefined);
    // Unfinished uploads of killed runs (S3) cost storage: aborted here too; a failure here never fails the copy.
    await abortOldUploads(dest, dc.source!, new Date()).catch((err: unknown) => {
      if (!(err instanceof RespaldoError)) throw err;
    });
    // A set not there yet is claimed first (copy-claim.ts), then its manifest looked at again: two copies of two sets
    // of one id (two configs sharing a source) never both send, however close together they start.
    const claimed = !remote.has(MANIFEST_NAME);
    if (claimed) {
      const { folderEmptied, takenOver } = await claimSet(
        dest,
        dc.source!,
        m,
        (work) => withRetries(work, opts),
        reporter,
        { takeOver: opts.takeOver === true },
      );
      if (takenOver) {
        result.claimTakenOver = takenOver.message;
        result.claimTakenOverPhrase = takenOver.phrase;
      }
      // Another set's unfinished files, taken over: every file of this set is sent.
      if (folderEmptied) remote.clear();
      if (await withRetries(() => dest!.stat(`${key}/${MANIFEST_NAME}`), opts)) {
        await refuseAnotherSet(dest, dc.source!, m, opts).catch(async (err: unknown) => {
          await releaseClaim(dest!, dc.source!, m);
          throw err;
        });
      }
    } else await refuseAnotherSet(dest, dc.source!, m, opts);
    const sealer = dc.encrypt && !m.encryption && cfg.encryption ? sealerFor(cfg.encryption) : undefined;
    const parallel = dc.parallel ?? 4;
    const verified = opts.verify
      ? await copyVerified(
          { destName, dest, source: dc.source!, dir, key, m, entries, files, remote, sealer, result, parallel },
          opts,
        )
      : false;
    const todo = sealer || verified ? [] : files.filter((f) => remote.get(f.path) !== f.size);
    // Those there already are not checked ahead after all.
    if (dest.expectFiles && !opts.verify && !sealed)
      dest.expectFiles(todo.map((f) => ({ source: join(dir, f.path), size: f.size })));
    if (!verified) result.filesAlreadyThere = files.length - todo.length;
    if (sealer && !verified)
      await copySealed(destName, dest, dir, key, { m, entries }, files, remote, sealer, result, parallel, opts);
    await mapLimited(todo, dc.parallel ?? 4, async (f) => {
      await withRetries(() => sendFile(dest!, dir, key, f, opts.signal), opts);
      result.filesSent++;
      result.bytesSent += f.size;
    });
    const manifestSize = statSync(join(dir, MANIFEST_NAME)).size;
    if (!sealer && !verified && (todo.length || remote.get(MANIFEST_NAME) !== manifestSize)) {
      await withRetries(
        () => sendFile(dest!, dir, key, { path: MANIFEST_NAME, size: manifestSize, sha256: null }, opts.signal),
        opts,
      );
      result.filesSent++;
      result.bytesSent += manifestSize;
    }
    // The keep mark goes with the set (prune --from honours it from any server); one there is never removed here.
    if (existsSync(join(dir, KEEP_MARK)) && !remote.has(KEEP_MARK))
      await withRetries(() => putKeepMark(dest!, key, true), opts);
    if (claimed) await releaseClaim(dest, dc.source!, m);
    if (dest.checksumsConfirmed !== undefined) result.storeChecksums = dest.checksumsConfirmed;
    if (dest.directWrites !== undefined) result.sftpDirectWrites = dest.directWrites;
    result.ok = true;
    reporter.emit({
      type: 'info',
      message:
        `set ${m.id} copied to ${destName}: ${result.filesSent} file(s) sent, ${result.filesAlreadyThere} already there` +
        (result.retries ? `, ${result.retries} request(s) retried after a transient failure` : ''),
    });
  } catch (caught) {
    // Stopped by the operator: the destination's connection was closed for it, which it would blame on the server
    // (and a folder's copy stopped with whatever reason the signal carries).
    const stopped = opts.signal?.aborted === true;
    if (!stopped && !(caught instanceof RespaldoError)) throw caught;
    const err = stopped
      ? new InterruptedError('The copy was interrupted; what was sent is kept.')
      : (caught as RespaldoError);
    lastError = err;
    result.error = err.message;
    if (isLocalSetProblem(err)) result.localProblem = true;
    if (err.phrases?.message) result.errorPhrase = err.phrases.message;
    // A destination's hint fits every operation ("run the command again"); a copy also keeps what it sent.
    const kept =
      err instanceof DestinationError && err.transient ? ' What was sent is kept: the next copy sends the rest.' : '';
    if (err.hint) result.hint = err.hint + kept;
    const nested = nestedPhrase(err.phrases?.message);
    reporter.emit({
      type: 'warning',
      ...said('warn.notCopied', { set: m.id, dest: destName, error: err.message, ...nested }),
    });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await dest?.close().catch(() => undefined);
  }
  if (missingRoot && result.filesSent > 0) result.created = missingRoot;
  // A copy of a set that is whole there, failing before it changed anything there (a wrong key, the server down),
  // leaves the set as copied: it marked it "not copied" and made health unhealthy while the set was there whole.
  // Damage found there (VerifyError) or files sent again do change the mark.
  const before = readCopies(dir)[destName];
  const untouched =
    !result.ok &&
    before?.ok === true &&
    !before.prunedAt &&
    result.filesSent === 0 &&
    !result.removedUnencrypted?.length &&
    !(lastError instanceof VerifyError);
  if (untouched)
    await recordCopy(dir, destName, {
      ...before,
      lastFailure: {
        at: new Date().toISOString(),
        error: result.error ?? 'failed',
        ...(result.errorPhrase ? { errorPhrase: result.errorPhrase } : {}),
      },
    }).catch(() => undefined);
  else
    await recordCopy(dir, destName, {
      ok: result.ok,
      at: new Date().toISOString(),
      where: result.where,
      ...(result.error ? { error: result.error } : {}),
      ...(result.errorPhrase ? { errorPhrase: result.errorPhrase } : {}),
    }).catch(() => undefined);
  writeLog(
    cfg.backupDir,
    'copy',
    {
      setId: m.id,
      destination: destName,
      outcome: result.ok ? 'ok' : 'failed',
      filesSent: result.filesSent,
      bytesSent: result.bytesSent,
      ...(result.retries ? { retries: result.retries } : {}),
      ...(result.retryErrors ? { retryErrors: result.retryErrors } : {}),
      error: result.error ?? null,
      ...(result.claimTakenOver ? { claimTakenOver: result.claimTakenOver } : {}),
      durationMs: Date.now() - t0,
    },
    cfg.secrets,
  );
  return result;
}

/**
 * The copy of an unencrypted set to a destination with `encrypt: true` (copy-seal.ts): unless the
 * encrypted copy is complete there, every file not already sent by a copy cut short
 * (`SealedSentRecord`) is sent encrypted, then its manifest, then files of an earlier unencrypted
 * copy of the set are removed.
 */
async function copySealed(
  destName: string,
  dest: Destination,
  dir: string,
  key: string,
  set: { m: Manifest; entries: ManifestFiles },
  files: LocalPart[],
  remote: Map<string, number>,
  sealer: Sealer,
  result: CopyResult,
  parallel: number,
  opts: CopyOptions,
): Promise<void> {
  if (sealedCopyComplete(files, remote)) return;
  const record = new SealedSentRecord(dir, destName, sealer.describe);
  const sent = record.alreadySent(files, remote);
  result.filesAlreadyThere = sent.size;
  await mapLimited(
    files.filter((f) => !sent.has(f.path)),
    parallel,
    async (f) => {
      const r = await withRetries(() => sendSealed(dest, dir, key, f, sealer, opts.signal), opts);
      sent.set(f.path, r);
      record.record(f.path, r);
      result.filesSent++;
      result.bytesSent += r.sealed.bytes;
    },
  ).catch(async (err: unknown) => {
    await record.flush(); // what was sent is skipped by the next copy
    throw err;
  });
  const size = await putSealedManifest(
    dest,
    key,
    set.m,
    () => set.entries.entries(),
    sent,
    sealer,
    (work) => withRetries(work, opts),
  );
  result.filesSent++;
  result.bytesSent += size;
  await record.clear();
  const gone = await removeUnsealed(dest, key, files, remote, opts);
  if (gone.length) result.removedUnencrypted = gone;
}

/**
 * Once an encrypted copy's manifest is written: the files there of an earlier unencrypted copy of the set,
 * readable by whoever holds the destination, are removed: the set's own files by their plain names, nothing else
 * (the keep mark, an operator's notes beside them). Returns the paths removed.
 */
export async function removeUnsealed(
  dest: Destination,
  key: string,
  files: LocalPart[],
  remote: Map<string, number>,
  opts: CopyOptions,
): Promise<string[]> {
  // Only the set's own files in the clear: anything else there (an operator's notes) is not the copy's to remove.
  // Looked up in the listing, where a set of every local path (100 000 of them: 5 MiB of heap at the copy's end)
  // was made even when the listing was empty.
  const gone = files
    .filter((f) => remote.has(f.path))
    .map((f) => f.path)
    .sort();
  for (const path of gone) await withRetries(() => dest.delete(`${key}/${path}`), opts);
  return gone;
}

export async function sendFile(
  dest: Destination,
  dir: string,
  key: string,
  f: { path: string; size: number; sha256: string | null },
  signal?: AbortSignal,
): Promise<void> {
  const putOpts = { ...(f.sha256 ? { sha256: f.sha256 } : {}), ...(signal ? { signal } : {}) };
  const mismatch = () => localMismatch(join(dir, f.path));
  if (dest.putFile) {
    try {
      await dest.putFile(`${key}/${f.path}`, join(dir, f.path), f.size, {
        check: (got, bytes) => {
          if (bytes !== f.size || (f.sha256 && got !== f.sha256)) throw mismatch();
        },
        ...putOpts,
      });
    } catch (err) {
      // nothing was put there; a file of another size already there (why it was sent again) goes, as below
      if (err instanceof VerifyError) await dest.delete(`${key}/${f.path}`).catch(() => undefined);
      // The destination read the local file itself: one gone or not a file is this server's problem, not the
      // destination's (a folder said "not found, check the mount"; a raw EISDIR ended as an internal error).
      const local = await localProblem(join(dir, f.path));
      if (local && !(err instanceof VerifyError)) throw unreadable(join(dir, f.path), { code: local });
      // A read of the local file failed (EIO: the disk), before or while the destination sent it.
      if (
        !(err instanceof RespaldoError) &&
        (err as NodeJS.ErrnoException).code &&
        (err as NodeJS.ErrnoException).syscall
      )
        throw unreadable(join(dir, f.path), err);
      throw err;
    }
    return;
  }
  let got: string;
  if (dest.putChunks) {
    const reader = new ReusedBufferReader(join(dir, f.path));
    await dest.putChunks(`${key}/${f.path}`, reader.chunks(), f.size, putOpts);
    got = reader.digest();
  } else {
    const hasher = new Sha256Pass();
    const source = createReadStream(join(dir, f.path), { highWaterMark: 1 << 20 });
    source.on('error', (err) => hasher.destroy(err));
    const body = source.pipe(hasher);
    try {
      await dest.put(`${key}/${f.path}`, body, f.size, putOpts);
    } finally {
      source.destroy();
    }
    got = hasher.digest();
  }
  if (f.sha256 && got !== f.sha256) {
    await dest.delete(`${key}/${f.path}`).catch(() => undefined);
    throw mismatch();
  }
}

/**
 * Temporary files in this server's own set folder left by a copy of this host that is gone (an interrupted or
 * killed `respaldo copy`: their names carry its pid). Older ones of any run go after a day (`oldTemps`); these
 * can go at once, as no run of this host can still be writing them.
 */
export function deadRunTemps(files: RemoteFile[]): RemoteFile[] {
  return files.filter((f) => {
    const pid = /(?:^|\/)\.respaldo-part-(\d+)-[a-z0-9]*$/.exec(f.path)?.[1];
    return f.temp && pid !== undefined && Number(pid) !== process.pid && !processAlive(Number(pid));
  });
}

/** Why the local file at `path` cannot be sent at all (gone, not a regular file), or null. */
async function localProblem(path: string): Promise<string | null> {
  try {
    return (await fsp.stat(path)).isFile() ? null : 'not a regular file';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'unreadable';
  }
}

/**
 * A local file of the set that could not be read while it was sent: said as this server's problem, never as the
 * destination's (a destination fed by it sees only its input stopping).
 */
function unreadable(path: string, err: unknown): RespaldoError {
  const why = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
  return localSetProblem(
    new RespaldoError(
      'failed',
      `Reading the local file ${path} failed (${why}); it was not copied.`,
      'Check the disk of the backup folder and run `respaldo verify` on this set, then run `respaldo copy` again.',
    ),
  );
}

/**
 * Reads a file into one buffer, reused for every chunk, hashing what it reads (see
 * `Destination.putChunks`: each chunk is valid until the next is asked for).
 */
export class ReusedBufferReader {
  private readonly hash = createHash('sha256');
  constructor(
    private readonly path: string,
    private readonly chunkSize = 1 << 20,
  ) {}

  async *chunks(): AsyncGenerator<Buffer> {
    const fh = await fsp.open(this.path, 'r').catch((err: unknown) => {
      throw unreadable(this.path, err);
    });
    try {
      const buf = Buffer.allocUnsafe(this.chunkSize);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null).catch((err: unknown) => {
          throw unreadable(this.path, err);
        });
        if (bytesRead === 0) return;
        const chunk = buf.subarray(0, bytesRead);
        this.hash.update(chunk);
        yield chunk;
      }
    } finally {
      await fh.close();
    }
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/** The destinations a new set is copied to right after `create`. */
export function copyAfterBackupDestinations(cfg: Pick<LoadedConfig, 'destinations'>): DestinationConfig[] {
  return (cfg.destinations ?? []).filter((d) => d.copyAfterBackup !== false);
}

/**
 * Copies to `to` (or every destination; with `afterBackup` those with copyAfterBackup): set `id`
 * alone, or, without `id` or with `andMissing`, also every local set not yet complete there (the
 * given set first, then the oldest first). Sets are copied one at a time; after a failure at a
 * destination no further set is tried there (the run reports it; the next run tries again).
 */
export async function copySets(
  cfg: LoadedConfig,
  sel: { id?: string; to?: string; afterBackup?: boolean; andMissing?: boolean },
  reporter: Reporter,
  opts: CopyOptions = {},
): Promise<CopyResult[]> {
  const names = sel.to
    ? [destinationConfig(cfg, sel.to).name]
    : (sel.afterBackup ? copyAfterBackupDestinations(cfg) : (cfg.destinations ?? [])).map((d) => d.name);
  const results: CopyResult[] = [];
  const oneId = sel.id ? (await readManifestLeanOf(cfg, sel.id, { shared: true })).head.id : undefined;
  // A differential or incremental alone restores nothing there: the sets its chain needs go first, oldest first
  // (each sends only what is missing there, so those already there cost a listing).
  const chain = oneId && !sel.andMissing ? chainToVerify(cfg, oneId) : null;
  const chainFirst = chain ? chain.ids.filter((x) => x !== oneId && !chain.missing.includes(x)) : [];
  // After a backup: the sets the new one applies on that are not there go before it, so that it is never there
  // without them (a base that cannot be sent keeps it from being sent, and it is said not copied).
  const afterChain = oneId && sel.andMissing ? chainToVerify(cfg, oneId) : null;
  for (const name of names) {
    const ids = oneId ? [...chainFirst, oneId] : [];
    // Copying every set missing there: the sets each one applies on, so that one whose base could not be sent for a
    // problem of the base's own files here is not sent either (the others are).
    const everyMissing = !oneId || sel.andMissing === true;
    const needsOf = new Map<string, readonly string[]>();
    if (everyMissing) {
      const all = await listSets(cfg);
      for (const s of all) needsOf.set(s.id, s.needs ?? []);
      const local = all.filter((s) => s.type !== 'pre_restore' && s.status !== 'failed' && s.id !== oneId);
      const there = await remoteIds(cfg, name, opts.signal);
      const lacking = await lackingFiles(cfg, name, local, there);
      ids.push(
        ...local
          .filter((s) => {
            const mark = readCopies(s.path)[name];
            const prunedThere = mark?.prunedAt && there && !there.has(s.id);
            return (
              mark?.ok !== true ||
              (there && !there.has(s.id) && !mark.prunedAt) ||
              lacking.has(s.id) ||
              (opts.verify && !prunedThere)
            );
          })
          .map((s) => s.id)
          .reverse(),
      );
      if (afterChain) {
        const needed = afterChain.ids.filter(
          (x) => x !== oneId && !afterChain.missing.includes(x) && (ids.includes(x) || (there && !there.has(x))),
        );
        ids.splice(0, ids.length, ...needed, ...ids.filter((x) => !needed.includes(x)));
      }
    }
    // Sets of this run not sent for a problem of their own files here (or of a set they apply on), by id.
    const notSentHere = new Map<string, CopyResult>();
    for (const id of ids) {
      if (opts.signal?.aborted) break;
      const base = (needsOf.get(id) ?? []).flatMap((n) => notSentHere.get(n) ?? [])[0];
      if (base) {
        const r = await chainNotCopied(cfg, id, name, base, reporter);
        results.push(r);
        notSentHere.set(id, r);
        continue;
      }
      const { takeOver: _asked, ...others } = opts;
      const r = await copySet(cfg, id, name, reporter, id === oneId ? opts : others);
      results.push(r);
      if (r.ok) continue;
      // A set damaged here keeps none of the others from going: the destination did not fail.
      if (r.localProblem && everyMissing) {
        notSentHere.set(id, r);
        continue;
      }
      if (oneId && id !== oneId && ids.indexOf(id) < ids.indexOf(oneId))
        results.push(await chainNotCopied(cfg, oneId, name, r, reporter));
      break;
    }
  }
  return results;
}

/** Set `id` not sent to `destName` because `failed`, a set of its chain, could not be sent first: marked and said. */
async function chainNotCopied(
  cfg: LoadedConfig,
  id: string,
  destName: string,
  failed: CopyResult,
  reporter: Reporter,
): Promise<CopyResult> {
  // The base's error in English (copies.json, the CLI), and its phrase nested (the menu says it in its language).
  const why = phrase('warn.chainNotCopied', {
    base: failed.setId,
    error: failed.error ?? '',
    ...nestedPhrase(failed.errorPhrase),
  });
  const error = english(why);
  // A set already whole there (`copy ID` again) stays marked so: only what it applies on failed, not its copy.
  if (readCopies(setDir(cfg, id))[destName]?.ok !== true)
    await recordCopy(setDir(cfg, id), destName, {
      ok: false,
      at: new Date().toISOString(),
      where: '',
      error,
      errorPhrase: why,
    });
  reporter.emit({
    type: 'warning',
    ...said('warn.notCopied', { set: id, dest: destName, error, ...nestedPhrase(why) }),
  });
  return { ...nothingSent(id, destName), error, errorPhrase: why };
}

/**
 * After a published backup: copies the new set, then any earlier set still missing, to every
 * destination with copyAfterBackup. Never throws: a failure is recorded beside the set
 * (`copies.json`) and returned, and the backup itself stands.
 */
export async function copyAfterBackup(
  cfg: LoadedConfig,
  m: Manifest,
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<CopyResult[]> {
  if (m.status === 'failed' || m.type === 'pre_restore' || !copyAfterBackupDestinations(cfg).length) return [];
  try {
    return await copySets(cfg, { id: m.id, afterBackup: true, andMissing: true }, reporter, signal ? { signal } : {});
  } catch (err) {
    reporter.emit({ type: 'warning', ...said('warn.notCopiedOffsite', { set: m.id, error: (err as Error).message }) });
    return copyAfterBackupDestinations(cfg).map((d) => ({
      ...nothingSent(m.id, d.name),
      error: (err as Error).message,
    }));
  }
}

/** Destinations with copyAfterBackup where set `id` is marked as not copied (or not marked at all). */
export function notCopiedTo(cfg: LoadedConfig, id: string): { destination: string; error: string | null }[] {
  const marks = readCopies(setDir(cfg, id));
  return copyAfterBackupDestinations(cfg)
    .filter((d) => marks[d.name]?.ok !== true)
    .map((d) => ({ destination: d.name, error: marks[d.name]?.error ?? null }));
}

/**
 * Ids of this source's sets complete at a destination; null when it cannot be listed (each copy reports why).
 * Where listing the sets already lists every file (s3, rclone; folder: a local walk), the files' sizes by
 * `<id>/<path>` come with them (`files`); sftp lists set folders and one manifest each, and gives none.
 */
async function remoteIds(
  cfg: LoadedConfig,
  name: string,
  signal?: AbortSignal,
): Promise<(Set<string> & { files?: Map<string, number> }) | null> {
  const dc = declaredDestination(cfg, name);
  let dest: Destination | undefined;
  const onAbort = () => void dest?.close().catch(() => undefined); // fails the listing in flight
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const opened = (dest = await openDestination(cfg, name));
    if (opened.type !== 'sftp') {
      const files = new Map((await heldAcross(() => opened.listFiles(dc.source!))).map((f) => [f.path, f.size]));
      const ids = [...files.keys()].map((p) => p.split('/')).filter((p) => p.length === 2 && p[1] === MANIFEST_NAME);
      return Object.assign(new Set(ids.map((p) => p[0]!).filter(isSetId)), { files });
    }
    return new Set((await dest.listSets(dc.source!)).map((s) => s.id));
  } catch (err) {
    if (err instanceof RespaldoError) return null;
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await dest?.close().catch(() => undefined);
  }
}

/**
 * Of the local sets listed at a destination, those whose stored files its listing (`there.files`) shows
 * missing there, or, copied unencrypted, of another size: plain `copy` sends them again. Only local
 * manifests are read; without the files' listing (sftp) none is found.
 */
async function lackingFiles(
  cfg: LoadedConfig,
  name: string,
  local: SetSummary[],
  there: (Set<string> & { files?: Map<string, number> }) | null,
): Promise<Set<string>> {
  const out = new Set<string>();
  if (!there?.files) return out;
  const dc = destinationConfig(cfg, name);
  for (const s of local.filter((x) => there.has(x.id))) {
    let files: ReturnType<typeof filesToCopy>;
    let sealed: boolean;
    try {
      const { head: m, files: entries } = await readManifestLeanOf(cfg, s.id, { shared: true });
      sealed = Boolean(dc.encrypt && !m.encryption && cfg.encryption);
      files = filesToCopy(m, s.path, entries.entries(), entries.count);
    } catch {
      continue; // a set that cannot be read here is not sent anyway (its copy would say why)
    }
    const size = (p: string) => there.files!.get(`${s.id}/${p}${sealed ? AGE_EXTENSION : ''}`);
    if (files.some((f) => size(f.path) === undefined || (!sealed && size(f.path) !== f.size))) out.add(s.id);
    // A keep mark that could not be written there when it was set (the destination was down): sent now, or a server
    // rebuilt from that destination would prune what was kept.
    if (s.keep && !there.files.has(`${s.id}/${KEEP_MARK}`)) out.add(s.id);
  }
  return out;
}

/** A stream of a Buffer, for small files such as manifests. */
export function bufferStream(b: Buffer): Readable {
  return Readable.from([b]);
}
