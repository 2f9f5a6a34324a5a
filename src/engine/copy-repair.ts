/**
 * `respaldo copy --verify`: a set already at a destination is read back there file by file and re-hashed
 * against what the destination's manifest records (for a copy encrypted only off-site, the ciphertext's
 * hashes: copy-seal.ts), and each file missing or different there is sent again through the copy's own path
 * (temporary name then rename, or an upload the store completes whole), the manifest last. A local file is
 * checked against its manifest before it replaces anything: a damaged local file is never sent.
 */
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DestinationError, VerifyError } from '../core/errors.js';
import { localSetProblem } from './copy-local.js';
import type { Manifest, PlainHashes } from '../core/types.js';
import type { Destination } from '../destinations/destination.js';
import { Sha256Pass, removeUnsealed, sendFile, withRetries, type CopyOptions, type CopyResult } from './copy.js';
import { putSealedManifest, sendSealed, type LocalPart } from './copy-seal.js';
import { SealedFiles } from './sealed-files.js';
import { AGE_EXTENSION, type Sealer } from './crypt.js';
import { MANIFEST_NAME, type ManifestFiles } from './manifest.js';
import { madeGarbage, SMALL_ITEM_COST } from './garbage.js';
import { mapLimited } from './limited.js';
import { readRemoteManifestLean } from './remote.js';
import { sizeProblem } from './verify.js';

/** A stored file found missing or different at a destination by `copy --verify`, and sent again. */
export interface ResentFile {
  path: string;
  problem: string;
}

/** What `copyVerified` needs of the set and the destination. */
export interface VerifiedCopy {
  destName: string;
  dest: Destination;
  source: string;
  dir: string;
  key: string;
  /** The set's head, read lean, and its file entries (an encrypted copy's manifest lists them all). */
  m: Manifest;
  entries: ManifestFiles;
  files: LocalPart[];
  /** Sizes of the files there, by stored path. */
  remote: Map<string, number>;
  sealer: Sealer | undefined;
  result: CopyResult;
  parallel: number;
}

/** SHA-256 and length of the file at `k` (null: not there, removed since the listing). */
async function hashThere(dest: Destination, k: string, opts: CopyOptions): Promise<PlainHashes | null> {
  let h = new Sha256Pass(true);
  try {
    await withRetries(async () => {
      h = new Sha256Pass(true);
      h.resume();
      await pipeline(await dest.get(k, opts.signal ? { signal: opts.signal } : {}), h);
    }, opts);
  } catch (err) {
    if (err instanceof DestinationError && err.kind === 'notFound') return null;
    throw err;
  }
  // What reading it left besides its chunks (a stream, the destination's request) is counted towards the collections
  // too, as a small file sent or fetched is: read back file by file, 100 000 files left 300 MiB of it in V8's old
  // generation before V8 collected it. Counted a quarter of SMALL_ITEM_COST, a plain copy --verify of them peaked at
  // 198–200 MiB instead of 153–154, in 19–20 s instead of 25–28 (15.7 s and 445 MiB uncounted).
  await madeGarbage(SMALL_ITEM_COST);
  return { bytes: h.bytes, md5: '', sha256: h.digest() };
}

async function hashLocal(path: string): Promise<string> {
  const h = new Sha256Pass(true);
  h.resume();
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), h);
  return h.digest();
}

/** What is wrong with the file at `k` against the expected size (null: not recorded) and SHA-256; null: nothing. */
async function problemThere(
  c: VerifiedCopy,
  path: string,
  expected: { bytes: number | null; sha256: string | null },
  opts: CopyOptions,
): Promise<string | null> {
  const size = c.remote.get(path);
  if (size === undefined) return 'missing';
  const wrong = sizeProblem(size, expected.bytes);
  if (wrong) return wrong;
  if (!expected.sha256) return null;
  const got = await hashThere(c.dest, `${c.key}/${path}`, opts);
  c.result.reread = (c.result.reread ?? 0) + 1;
  if (!got) return 'missing';
  return got.sha256 === expected.sha256 ? null : 'sha256 mismatch (content changed)';
}

/**
 * Of `todo`, the local files that do not match their manifest (each read and re-hashed): they are not sent,
 * and the copy fails naming them once the others are sent.
 */
async function damagedLocally(c: VerifiedCopy, todo: LocalPart[]): Promise<string[]> {
  const bad: string[] = [];
  for (const f of todo) {
    const got = await hashLocal(join(c.dir, f.path)).catch(() => null);
    if (f.sha256 && got !== f.sha256) bad.push(f.path);
  }
  return bad;
}

function refuseDamaged(c: VerifiedCopy, bad: string[]): VerifyError {
  return localSetProblem(
    new VerifyError(
      `Local file(s) of set ${c.m.id} do not match their manifest (sha256): ${bad.join(', ')}; they were not sent, and the copy at ${c.destName}, which differs too, was left as it is.`,
      `Run \`respaldo verify ${c.m.id}\`; repair ${c.destName} from another server that holds a good copy of the set, or copy a newer set.`,
    ),
  );
}

/**
 * `copy --verify` of one set to one destination: every stored file there (and the manifest) read back and
 * re-hashed, those missing or different sent again (a local file checked first), the manifest last. Fills
 * `result` (`resent`: what differed at a destination that listed the set). Returns false when nothing of an
 * encrypted copy's manifest is there yet: the caller then copies as usual.
 */
export async function copyVerified(c: VerifiedCopy, opts: CopyOptions): Promise<boolean> {
  c.result.reread = 0;
  return c.sealer ? verifySealed(c, c.sealer, opts) : verifyPlain(c, opts);
}

async function verifyPlain(c: VerifiedCopy, opts: CopyOptions): Promise<boolean> {
  const listed = c.remote.has(MANIFEST_NAME);
  const differing: (LocalPart & { problem: string })[] = [];
  await mapLimited(c.files, c.parallel, async (f) => {
    const problem = await problemThere(c, f.path, { bytes: f.size, sha256: f.sha256 }, opts);
    if (problem) differing.push({ path: f.path, size: f.size, sha256: f.sha256, problem }); // not spread: FileToSend
  });
  // Hashed and sent as a stream, as the files (read whole, the manifest of 100 000 files is 58 MB held to the end).
  const localManifest = {
    path: MANIFEST_NAME,
    size: statSync(join(c.dir, MANIFEST_NAME)).size,
    sha256: await hashLocal(join(c.dir, MANIFEST_NAME)),
  };
  const manifestProblem = await problemThere(
    c,
    MANIFEST_NAME,
    { bytes: localManifest.size, sha256: localManifest.sha256 },
    opts,
  );
  differing.sort((a, b) => (a.path < b.path ? -1 : 1));
  c.result.filesAlreadyThere = c.files.length - differing.length;
  const bad = await damagedLocally(c, differing);
  const todo = differing.filter((f) => !bad.includes(f.path));
  await mapLimited(todo, c.parallel, async (f) => {
    await withRetries(() => sendFile(c.dest, c.dir, c.key, f, opts.signal), opts);
    c.result.filesSent++;
    c.result.bytesSent += f.size;
  });
  c.result.resent = todo
    .filter((f) => listed || f.problem !== 'missing')
    .map((f) => ({ path: f.path, problem: f.problem }));
  if (bad.length) throw refuseDamaged(c, bad);
  if (todo.length || manifestProblem) {
    await withRetries(() => sendFile(c.dest, c.dir, c.key, localManifest, opts.signal), opts);
    c.result.filesSent++;
    c.result.bytesSent += localManifest.size;
    if (listed && manifestProblem) c.result.resent.push({ path: MANIFEST_NAME, problem: manifestProblem });
  }
  return true;
}

/**
 * What an encrypted copy's manifest there records of each file, by the local stored path (without `.age`): the local
 * file's hashes (`plain`) and the ciphertext's, its size the manifest's (a database's) or the listing's (a file's,
 * whose entry has none); `unplain`: files recorded without `plain`; `whole`: why every file is to be sent again (then
 * nothing is recorded). Its entries are gone through as the manifest is read (lean) and kept compactly: read whole
 * into a map of objects, the manifest of 100 000 files there held over 100 MiB while the files were read back.
 */
async function recordedThere(
  c: VerifiedCopy,
  sealer: Sealer,
): Promise<{ recorded: SealedFiles; unplain: Set<string>; whole: string | null }> {
  const recorded = new SealedFiles(c.files.length);
  const unplain = new Set<string>();
  // The local file's own path when it is the next one listed here (both lists are in the manifest's order), so the
  // record holds no second copy of it; else the path cut out of the stored one (a V8 slice, which keeps that alive).
  let next = 0;
  const local = (stored: string): string => {
    const p = stored.endsWith(AGE_EXTENSION) ? stored.slice(0, -AGE_EXTENSION.length) : stored;
    const f = c.files[next];
    if (f?.path !== p) return p;
    next++;
    return f.path;
  };
  const add = (
    stored: string,
    h: { md5: string | null; sha256: string | null; plain?: PlainHashes },
    bytes?: number,
  ) => {
    const path = local(stored);
    if (!h.md5 || !h.sha256) return;
    if (!h.plain) unplain.add(path);
    else
      recorded.set(path, {
        plain: h.plain,
        sealed: { bytes: bytes ?? c.remote.get(stored) ?? 0, md5: h.md5, sha256: h.sha256 },
      });
  };
  let whole: string | null = null;
  try {
    await readRemoteManifestLean(c.dest, c.source, c.m.id, 0, (_, head, files) => {
      if (JSON.stringify(head.encryption) !== JSON.stringify(sealer.describe)) {
        whole = head.encryption
          ? 'encrypted there for other recipients than the config names'
          : 'copied there unencrypted';
        return;
      }
      for (const d of head.databases) {
        if (d.file) add(d.file, d, d.storedBytes);
        for (const x of d.extras ?? []) add(x.file, x, x.storedBytes);
      }
      for (const f of files.entries()) if (f.stored) add(f.stored, f);
    });
  } catch (err) {
    if (!(err instanceof VerifyError)) throw err;
    whole = 'the manifest there is damaged';
  }
  return whole ? { recorded: new SealedFiles(), unplain: new Set(), whole } : { recorded, unplain, whole };
}

/**
 * An unencrypted set copied encrypted (copy-seal.ts): the destination's manifest records each `.age` file's
 * ciphertext hashes and, as `plain`, the local file's. A file is good there when its manifest entry was made
 * from the local file's bytes (`plain.sha256`) and the ciphertext there still has the recorded SHA-256; the
 * others are encrypted and sent again, and the manifest is rewritten with their new ciphertext hashes, last.
 */
async function verifySealed(c: VerifiedCopy, sealer: Sealer, opts: CopyOptions): Promise<boolean> {
  if (!c.remote.has(MANIFEST_NAME)) return false;
  // What the manifest there records, each file's record replaced as it is sent again: what the new manifest lists
  // (a file found good keeps its record; a damaged local file stops the copy before any manifest is written).
  const { recorded: sent, unplain, whole } = await recordedThere(c, sealer);
  const differing: (LocalPart & { problem: string })[] = [];
  await mapLimited(c.files, c.parallel, async (f) => {
    const e = sent.get(f.path);
    let problem: string | null;
    if (whole) problem = whole;
    else if (!e && !unplain.has(f.path)) problem = 'not in the manifest there';
    else if (!e || (f.sha256 && e.plain.sha256 !== f.sha256))
      problem = 'encrypted from other bytes than the local file';
    else problem = await problemThere(c, f.path + AGE_EXTENSION, e.sealed, opts);
    if (problem) differing.push({ path: f.path, size: f.size, sha256: f.sha256, problem }); // not spread: FileToSend
  });
  differing.sort((a, b) => (a.path < b.path ? -1 : 1));
  c.result.filesAlreadyThere = c.files.length - differing.length;
  const bad = await damagedLocally(c, differing);
  const todo = differing.filter((f) => !bad.includes(f.path));
  await mapLimited(todo, c.parallel, async (f) => {
    const r = await withRetries(() => sendSealed(c.dest, c.dir, c.key, f, sealer, opts.signal), opts);
    sent.set(f.path, r);
    c.result.filesSent++;
    c.result.bytesSent += r.sealed.bytes;
  });
  c.result.resent = todo.map((f) => ({ path: f.path + AGE_EXTENSION, problem: f.problem }));
  if (bad.length) throw refuseDamaged(c, bad);
  if (todo.length) {
    const size = await putSealedManifest(
      c.dest,
      c.key,
      c.m,
      () => c.entries.entries(),
      sent,
      sealer,
      (work) => withRetries(work, opts),
    );
    c.result.filesSent++;
    c.result.bytesSent += size;
  }
  const gone = await removeUnsealed(c.dest, c.key, c.files, c.remote, opts);
  if (gone.length) c.result.removedUnencrypted = gone;
  return true;
}
