import { createWriteStream, existsSync, promises as fsp } from 'node:fs';
import { constants } from 'node:buffer';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { decrypterFor } from './crypt.js';
import { passphraseSample, withFirstFile } from './decrypt-set.js';
import { pipeline } from 'node:stream/promises';
import { DestinationError, InterruptedError, NotFoundError, UsageError, VerifyError } from '../core/errors.js';
import { formatBytes } from '../core/format.js';
import type { Reporter } from '../core/events.js';
import type { FileEntry, LoadedConfig, Manifest, SetSummary } from '../core/types.js';
import { setKey, type Destination } from '../destinations/destination.js';
import { SOURCE_PATTERN } from '../destinations/config.js';
import { destinationConfig, openDestination } from '../destinations/registry.js';
import { chooseLatest, lacksOf, setDir, summaryFromManifest, type LatestWant, type SetSelection } from './catalog.js';
import { withRetries } from './copy.js';
import { FILE_MODE } from './fs-util.js';
import { heldAcross, leftGarbage, madeGarbage } from './garbage.js';
import { eachLimitedOf, mapLimited } from './limited.js';
import { chainOf, chainSetOf, type ChainSet } from './chain.js';
import { writeLog } from './log.js';
import { MANIFEST_NAME, nextBackupOnly, readManifestFile, readManifestLean, type ManifestFiles } from './manifest.js';
import { isSetId } from './set-id.js';
import { readHead } from './remote-head.js';
import {
  chained,
  expectedFiles,
  expectedOfFiles,
  nextBackupWarning,
  readThroughCheck,
  sizeProblem,
  type ExpectedFile,
  type FileCheck,
  type VerifyReport,
} from './verify.js';
import { readThrough } from './stored-check.js';
import { english, phrase, said, saidOf, type Phrase } from '../core/phrases.js';

/**
 * Reading a destination: listing its sets (damaged ones named, not fatal), reading their manifests, and verifying
 * a set there (sizes, or every byte re-hashed with --read-data); with the destination's opening and closing on
 * interruption that fetching a set for a restore (remote-fetch.ts) shares. Copying is copy.ts, pruning
 * remote-prune.ts. Why one file of about 650 lines: listing, reading the manifests, the chains they make there and
 * verifying a set are each a reading of the same listing and manifests.
 */

/**
 * What to do about set `id` at destination `name` whose stored files do not match its manifest: while this
 * server still holds the set, repair it from here (`copy ID --to NAME --verify` sends again each file that
 * differs there); else (a new server) restore another set.
 */
/** What a restore or drill that found a set damaged at a destination left undone, said first in its hint. */
export type Done = 'restore' | 'drill';

/**
 * The hint for set `id` found damaged at destination `name` (`fetch.damagedHint`): what was left undone (`done`),
 * then how to mend it there: from this server when it still holds the set, or not at all from here.
 */
export function damagedThereHint(cfg: Pick<LoadedConfig, 'backupDir'>, name: string, id: string, done?: Done): Phrase {
  const held = isSetId(id) && existsSync(join(setDir(cfg, id), MANIFEST_NAME));
  return phrase('fetch.damagedHint', { done: done ?? '', held: held ? 'yes' : '', dest: name, set: id });
}

/** damagedThereHint's English, with nothing said undone (`verify --from`). */
export function repairThereHint(cfg: Pick<LoadedConfig, 'backupDir'>, name: string, id: string): string {
  return english(damagedThereHint(cfg, name, id));
}

/** A set on a destination, as `list --from` shows it. */
export interface RemoteSetSummary extends SetSummary {
  source: string;
  destination: string;
}

/**
 * Opens `name`, runs `work`, closes it (unless `keepOpen` says its result still reads there: it closes it then).
 * When `signal` aborts (SIGINT, SIGTERM) the destination is closed, which
 * fails what is in flight there (a request to a store that answers nothing included), and an InterruptedError is
 * thrown at once.
 */
export async function withDestination<T>(
  cfg: LoadedConfig,
  name: string,
  work: (dest: Destination, source: string) => Promise<T>,
  signal?: AbortSignal,
  keepOpen?: (result: T) => boolean,
): Promise<T> {
  const dc = destinationConfig(cfg, name);
  if (signal?.aborted) throw interrupted();
  const dest = await openUntilAborted(openDestination(cfg, name), signal);
  let kept = false;
  try {
    const result = await untilAborted(dest, () => work(dest, dc.source!), signal);
    kept = Boolean(keepOpen?.(result));
    return result;
  } finally {
    if (!kept) await dest.close().catch(() => undefined);
  }
}

const interrupted = () => new InterruptedError(phrase('error.interruptedUnchanged'));

/**
 * The destination `opening` opens, or an InterruptedError at once when `signal` aborts first (a server that answers
 * nothing holds a connection up to its handshake timeout); one that opens after that is closed.
 */
async function openUntilAborted(opening: Promise<Destination>, signal?: AbortSignal): Promise<Destination> {
  if (!signal) return opening;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      void opening.then((d) => d.close()).catch(() => undefined);
      reject(interrupted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([opening, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}

/**
 * Runs `work` on the open destination `dest`. When `signal` aborts, `dest` is closed, which fails what is in flight
 * there, and an InterruptedError is thrown at once (a store that answers nothing would otherwise hold it).
 */
export async function untilAborted<T>(dest: Destination, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work();
  if (signal.aborted) throw interrupted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      void dest.close().catch(() => undefined);
      reject(interrupted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work(), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}

/**
 * Runs `work` with an opener of the stored files of set `id` at destination `name` (e.g. to check a
 * passphrase against one file's header), closing the destination afterwards.
 */
export function withRemoteFiles<T>(
  cfg: LoadedConfig,
  name: string,
  id: string,
  work: (open: (path: string) => Promise<Readable>) => Promise<T>,
): Promise<T> {
  return withDestination(cfg, name, (dest, source) => work((path) => dest.get(`${setKey(source, id)}/${path}`)));
}

/**
 * The largest manifest read from a destination: the longest string this Node holds (about 512 MiB), as no manifest
 * respaldo writes (one JSON.stringify) is longer. A bigger one there is refused as it streams past that size,
 * never held in memory nor written whole (a 6 GiB manifest.json at a destination took 19 GB of memory to be refused).
 */
export const REMOTE_MANIFEST_MAX_BYTES = constants.MAX_STRING_LENGTH;

/** Streams `key` at `dest` into `file`; false, having stopped reading, once it passes `limit` bytes. */
async function download(dest: Destination, key: string, file: string, limit: number): Promise<boolean> {
  const over = new Error('over the limit');
  let bytes = 0;
  // Each chunk read (a new buffer) is garbage once written: collected as it goes (garbage.ts), the 58 MB manifest of
  // a set of 100 000 files left about 50 MiB of it uncollected.
  const count = new Transform({
    transform: (c: Buffer, _e, cb) => {
      bytes += c.length;
      if (bytes > limit) return cb(over);
      const collecting = madeGarbage(c.length);
      if (collecting) collecting.then(() => cb(null, c), cb);
      else cb(null, c);
    },
  });
  try {
    await pipeline(await dest.get(key), count, createWriteStream(file, { mode: FILE_MODE }));
    await leftGarbage();
    return true;
  } catch (err) {
    if (err !== over) throw err;
    await fsp.rm(file, { force: true });
    return false;
  }
}

/**
 * The first `limit` bytes of `key` at `dest` as latin1 text (reading stops there): what a damaged manifest there still
 * says of its chain (catalog.ts damagedNeedsOf), however large or broken it is.
 */
export async function readRemoteHead(dest: Destination, key: string, limit: number): Promise<string> {
  return withRetries(async () => (await readHead(dest, key, limit)).toString('latin1'));
}

/**
 * Reads and checks a set's manifest on a destination (the same checks as a local one: schema
 * version, safe paths, and that it is the manifest of `id`).
 */
export async function readRemoteManifest(
  dest: Destination,
  source: string,
  id: string,
  scratch?: string,
): Promise<Manifest> {
  return readRemoteWith(dest, source, id, scratch, readManifestFile);
}

/** A manifest at a destination read lean (readRemoteManifestLean). */
export interface LeanRemoteManifest {
  /** The manifest but for its files: `files` holds the first of them alone. */
  head: Manifest;
  /** What all its file entries are. */
  files: { count: number; bytes: number; groups: ReadonlySet<FileEntry['group']> };
}

/**
 * readRemoteManifest with none but the first `first` entries of its `files` kept (each checked as it is read,
 * manifest.ts readManifestLean), for what needs the head and how many files the set has: read whole, the manifest of
 * a set of 100 000 files there held 40 MiB of entries, and the menu's list of a destination held every set's at once.
 */
export async function readRemoteManifestLean(
  dest: Destination,
  source: string,
  id: string,
  first = 0,
  each?: EntriesReader,
): Promise<LeanRemoteManifest> {
  let files: LeanRemoteManifest['files'] | undefined;
  const head = await readRemoteWith(dest, source, id, undefined, (dir) => {
    const read = readManifestLean(dir, { remember: false });
    each?.({ source, id }, read.head, read.files);
    const kept: FileEntry[] = [];
    if (first > 0 && read.head.files.length === 0)
      for (const f of read.files.entries()) if (kept.push(f) >= first) break;
    files = { count: read.files.count, bytes: read.files.bytes, groups: read.files.groups };
    return { ...read.head, files: read.head.files.length ? read.head.files.slice(0, first) : kept };
  });
  return { head, files: files! };
}

/**
 * A set's manifest at a destination with, of its files, only the first stored one (decrypt-set.ts withFirstFile): what
 * checking a key against one of its stored files needs, its entries checked as they are read and not held.
 */
export async function readRemoteManifestSample(dest: Destination, source: string, id: string): Promise<Manifest> {
  return readRemoteWith(dest, source, id, undefined, (dir) => {
    const read = readManifestLean(dir, { remember: false });
    return withFirstFile(read.head, read.files);
  });
}

/**
 * A manifest at a destination fetched into folder `scratch`, kept there, and read lean (manifest.ts readManifestLean):
 * its file entries are read again from that copy each time they are gone through, none held. A restore from there of
 * a set of 100 000 files, its manifest read whole, peaked 108 MiB higher than of one of 5000.
 */
export async function fetchRemoteManifest(
  dest: Destination,
  source: string,
  id: string,
  scratch: string,
): Promise<{ head: Manifest; files: ManifestFiles }> {
  let files: ManifestFiles | undefined;
  const head = await readRemoteWith(dest, source, id, scratch, (dir) => {
    const read = readManifestLean(dir, { remember: false });
    files = read.files;
    return read.head;
  });
  return { head, files: files! };
}

async function readRemoteWith(
  dest: Destination,
  source: string,
  id: string,
  scratch: string | undefined,
  read: (dir: string) => Manifest,
): Promise<Manifest> {
  if (!isSetId(id))
    throw new UsageError(
      `"${id}" is not a backup set id (YYYYMMDD_HHMMSS).`,
      `Run \`respaldo list --from ${dest.name}\` to see the set ids.`,
    );
  // A manifest that fails its checks is named as it is at the destination, not by the scratch copy read here.
  const bad = (problem: string) =>
    new VerifyError(
      `destination "${dest.name}": set ${setKey(source, id)} has a bad manifest: ${problem}`,
      `Nothing was changed. Restore another set (\`respaldo list --from ${dest.name}\`). To repair this one, copy it there again from the server that still has it (\`respaldo copy ${id} --to ${dest.name}\`); or, once inspected, remove ${dest.describe()}/${setKey(source, id)} by hand.`,
    );
  const check = async (dir: string): Promise<Manifest> => {
    const key = `${setKey(source, id)}/${MANIFEST_NAME}`;
    const limit = REMOTE_MANIFEST_MAX_BYTES;
    let whole: boolean;
    try {
      whole = await withRetries(() => download(dest, key, join(dir, MANIFEST_NAME), limit));
    } catch (err) {
      // A folder made in its place (listed: listSets lists whatever is at the name): damage, never read.
      if (err instanceof DestinationError && err.notAFile) throw bad(`${MANIFEST_NAME} is ${err.notAFile}, not a file`);
      throw err;
    }
    if (!whole) throw bad(`larger than ${formatBytes(limit)}, more than any manifest respaldo writes`);
    try {
      return read(dir);
    } catch (err) {
      if (!(err instanceof VerifyError)) throw err;
      throw bad(err.message.replace(`${join(dir, MANIFEST_NAME)}: `, ''));
    }
  };
  let m: Manifest;
  if (scratch) {
    m = await check(scratch);
  } else {
    const dir = await fsp.mkdtemp(join((await import('node:os')).tmpdir(), 'respaldo-manifest-'));
    try {
      m = await check(dir);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }
  if (m.id !== id)
    throw new VerifyError(
      `destination "${dest.name}": ${setKey(source, id)} holds the manifest of set ${m.id}.`,
      'Do not restore from it; check who wrote to the destination.',
    );
  return m;
}

/** A set at a destination whose manifest is there but fails its checks (never restored, pruned or counted). */
export interface RemoteDamagedSet {
  source: string;
  id: string;
  destination: string;
  /** What is wrong with its manifest, without the `destination "NAME": ` prefix. */
  problem: string;
}

/** What `list --from` shows: the sets whose manifests pass their checks, and those whose manifests do not. */
export interface RemoteListing {
  /** Newest first. */
  sets: RemoteSetSummary[];
  /** Newest first. */
  damaged: RemoteDamagedSet[];
}

/**
 * A manifest readRemoteManifests read, lean: `m.files` is empty (the head alone); `files` says what its entries are.
 */
export interface RemoteManifestRead {
  source: string;
  m: Manifest;
  files: LeanRemoteManifest['files'];
}

/**
 * What goes through the entries of a manifest read lean from a destination (readRemoteManifestLean) while its copy
 * is at hand (they are read from it, none held; it is removed after): the set asked for, the manifest's head, its
 * entries. A manifest found damaged after (another set's) is not returned, whatever this made of it.
 */
export type EntriesReader = (ref: { source: string; id: string }, head: Manifest, files: ManifestFiles) => void;

/** Manifests read from a destination at once (list --from, chains, prune there). */
export const MANIFESTS_AT_ONCE = 8;

/**
 * Reads and checks the manifest of each of `refs` at `dest`, lean (their heads kept, their entries counted): a
 * manifest that fails its checks (a VerifyError) makes its set damaged, named in `damaged`, and the others are still
 * read; any other error is thrown. `each` goes through the entries of each as it is read.
 */
export async function readRemoteManifests(
  dest: Destination,
  refs: { source: string; id: string }[],
  opts: { each?: EntriesReader } = {},
): Promise<{ manifests: RemoteManifestRead[]; damaged: RemoteDamagedSet[] }> {
  const manifests: RemoteManifestRead[] = [];
  const damaged: RemoteDamagedSet[] = [];
  const readOne = async (r: { source: string; id: string }): Promise<Omit<RemoteManifestRead, 'source'>> => {
    const { head, files } = await readRemoteManifestLean(dest, r.source, r.id, 0, opts.each);
    return { m: head, files };
  };
  // Several at once: each read costs round trips (SFTP: stat, open, read, close), 40 ms each to a distant server.
  const read = await mapLimited(refs, MANIFESTS_AT_ONCE, async (r) => {
    try {
      return { r, read: await readOne(r) };
    } catch (err) {
      if (!(err instanceof VerifyError)) throw err;
      return { r, read: null, problem: err.message.replace(`destination "${dest.name}": `, '') };
    }
  });
  for (const x of read) {
    if (x.read) manifests.push({ source: x.r.source, m: x.read.m, files: x.read.files });
    else damaged.push({ source: x.r.source, id: x.r.id, destination: dest.name, problem: x.problem });
  }
  damaged.sort((a, b) => (a.id === b.id ? (a.source < b.source ? -1 : 1) : a.id < b.id ? 1 : -1));
  return { manifests, damaged };
}

/**
 * Sets on a destination (this server's source, or every source), newest first, with their manifests'
 * summaries; sets whose manifest fails its checks are in `damaged` (one bad set never hides the others).
 */
export async function listRemote(
  cfg: LoadedConfig,
  name: string,
  opts: { allSources?: boolean; signal?: AbortSignal } = {},
): Promise<RemoteListing> {
  return withDestination(
    cfg,
    name,
    async (dest, source) => {
      // A folder there whose name no config allows as a source was not written by respaldo (a line break in it
      // forged rows of the table): not listed, as a folder whose name is not a set id.
      const refs = (await withRetries(() => dest.listSets(opts.allSources ? null : source))).filter((r) =>
        SOURCE_PATTERN.test(r.source),
      );
      // A mistyped `path` of a remote that lists a missing folder as an empty one (rclone) is said, not "no sets".
      const missing = refs.length ? null : await withRetries(async () => (await dest.missingRoot?.()) ?? null);
      if (missing) {
        const said = phrase('dest.pathMissing', { dest: name, path: missing });
        const hint = phrase('dest.pathMissingHint', { dest: name });
        throw new DestinationError(
          name,
          english(said).replace(/^destination "[^"]*": /, ''),
          english(hint),
        ).withPhrases(said, hint);
      }
      // Their heads alone: the list says how many files each set has, never which (one held 40 MiB at 100 000 files).
      const { manifests, damaged } = await readRemoteManifests(dest, refs);
      // A differential or incremental whose chain there lacks a set (never copied, deleted or pruned there): BROKEN,
      // as `list` says of one here; read from the manifests alone (`verify ID --from` also checks the files' sizes).
      const chainSets = new Map<string, ChainSet[]>();
      for (const { source: src, m, files } of manifests)
        chainSets.set(src, [...(chainSets.get(src) ?? []), chainSetOf(m, {}, {}, files.count)]);
      const sets = manifests.map(({ source: src, m, files }) => {
        const breaks = m.databases
          .filter((d) => d.base && !d.error)
          .map((d) => chainOf(chainSets.get(src) ?? [], m.id, d.name))
          .filter((c) => c.problem && c.brokenAt !== m.id)
          .map((c) => c.problemPhrase ?? phrase('chain.raw', { text: c.problem! }));
        const phrases = breaks.filter((p, i) => breaks.findIndex((q) => english(q) === english(p)) === i);
        return {
          ...summaryFromManifest(
            m,
            `${dest.describe()}/${setKey(src, m.id)}`,
            { keep: false, lastVerified: null },
            files,
          ),
          ...(phrases.length ? { chainProblems: phrases.map(english), chainProblemPhrases: phrases } : {}),
          source: src,
          destination: name,
        };
      });
      sets.sort((a, b) => (a.startedAt === b.startedAt ? (a.id < b.id ? 1 : -1) : a.startedAt < b.startedAt ? 1 : -1));
      return { sets, damaged };
    },
    opts.signal,
  );
}

/**
 * The newest completed (or partial) set of this source at a destination holding every given database,
 * and the damaged sets newer than it that were passed over.
 */
export async function latestRemoteSet(
  cfg: LoadedConfig,
  name: string,
  want: LatestWant = { databases: [], files: false },
  signal?: AbortSignal,
): Promise<{
  id: string;
  passedOver: RemoteDamagedSet[];
  skipped: SetSelection['skipped'];
  /** Every set there that holds what was asked, newest first (`id` first): the next ones when its chain is broken. */
  candidates: string[];
}> {
  const { sets, damaged } = await listRemote(cfg, name, signal ? { signal } : {});
  // As a local `latest` (chooseLatest): every database asked for stored without error, the files when asked.
  const found = chooseLatest(sets, want);
  if (!found) {
    const bad = damaged.length
      ? ` (${damaged.length} set(s) there have a damaged manifest: ${damaged.map((d) => d.id).join(', ')})`
      : '';
    const asked = [...want.databases, ...(want.files ? ['files'] : [])];
    throw new NotFoundError(
      `Destination "${name}" holds no backup set${asked.length ? ` with ${asked.join(', ')}` : ''} of source "${destinationConfig(cfg, name).source}"${bad}.`,
      `Run \`respaldo list --from ${name} --all-sources\` to see every source there (set "source" in the config to the old server's name), or name fewer with --db.`,
    );
  }
  const id = found.chosen.id;
  const candidates = sets
    .filter((s) => s.type !== 'pre_restore' && s.type !== 'schema' && s.status !== 'failed' && !lacksOf(s, want).length)
    .map((s) => s.id);
  return { id, passedOver: damaged.filter((d) => d.id > id), skipped: found.skipped, candidates };
}

/** The id of `latestRemoteSet` holding `databases`. */
export async function latestRemoteSetId(cfg: LoadedConfig, name: string, databases: string[] = []): Promise<string> {
  return (await latestRemoteSet(cfg, name, { databases, files: false })).id;
}

/** Says which damaged sets `latest` passed over (a warning: the operator should know a newer set there is bad). */
export function sayPassedOver(reporter: Reporter, passedOver: RemoteDamagedSet[]): void {
  for (const d of passedOver)
    reporter.emit({
      type: 'warning',
      ...said('warn.passedOver', {
        set: d.id,
        dest: d.destination,
        problem: d.problem.replace(`set ${d.source}/${d.id} `, 'it '),
      }),
    });
}

/**
 * Every set of this source at a destination as chains see it (chain.ts), each manifest read and
 * checked; an entry whose stored files are missing there or of another size is marked unusable.
 */
export async function remoteChainSets(dest: Destination, source: string): Promise<Map<string, ChainSet>> {
  const sizes = new Map<string, number>();
  for (const f of await withRetries(() => heldAcross(() => dest.listFiles(source)))) sizes.set(f.path, f.size);
  const out = new Map<string, ChainSet>();
  // A set whose manifest is damaged is no member of any chain: a chain that needs it is broken.
  const refs = await withRetries(() => dest.listSets(source));
  const { manifests } = await readRemoteManifests(dest, refs);
  for (const { m, files } of manifests) {
    const problems: Record<string, Phrase> = {};
    for (const d of m.databases) {
      // A file only the next backup reads (SQLite's page map) is never fetched for a restore: not needed there
      const extras = (d.extras ?? []).filter((x) => !nextBackupOnly(d, x));
      for (const f of [...(d.file ? [{ file: d.file, storedBytes: d.storedBytes }] : []), ...extras]) {
        const size = sizes.get(`${m.id}/${f.file}`);
        if (size === undefined) problems[d.name] = phrase('chain.fileMissingAt', { file: f.file, dest: dest.name });
        else if (size !== f.storedBytes)
          problems[d.name] = phrase('chain.fileSizeAt', { file: f.file, dest: dest.name });
        if (problems[d.name]) break;
      }
    }
    out.set(m.id, chainSetOf(m, problems, {}, files.count));
  }
  return out;
}

/**
 * Checks a set on a destination against its manifest: every stored file present, database files of
 * the manifest's size; with `readData` every file is read back and re-hashed (SHA-256).
 */
export async function verifyRemoteSet(
  cfg: LoadedConfig,
  name: string,
  id: string,
  opts: { readData?: boolean; signal?: AbortSignal; eachFile?: (f: FileCheck) => void },
  reporter: Reporter,
): Promise<VerifyReport> {
  return withDestination(
    cfg,
    name,
    async (dest, source) => {
      let realId = id;
      if (id === 'latest') {
        const latest = await latestRemoteSet(cfg, name, undefined, opts.signal);
        sayPassedOver(reporter, latest.passedOver);
        realId = latest.id;
      }
      // Its entries read as they are checked, from a copy of the manifest in a scratch folder, none held (as verify
      // here): read whole, with a result kept for each file, a set of 100 000 files peaked 136 MiB higher than 5000.
      const scratch = await fsp.mkdtemp(join(tmpdir(), 'respaldo-manifest-'));
      try {
        return await verifyThere(dest, source, await fetchRemoteManifest(dest, source, realId, scratch));
      } finally {
        await fsp.rm(scratch, { recursive: true, force: true });
      }
    },
    opts.signal,
  );

  async function verifyThere(
    dest: Destination,
    source: string,
    { head: m, files: entries }: { head: Manifest; files: ManifestFiles },
  ): Promise<VerifyReport> {
    const key = setKey(source, m.id);
    const there = new Map(
      (await withRetries(() => heldAcross(() => dest.listFiles(key)))).map((f) => [f.path, f.size]),
    );
    // Reading the data of an encrypted set also decrypts it: the key is needed, and the plaintext is checked.
    const sample = passphraseSample(withFirstFile(m, entries), (path) => withRetries(() => dest.get(`${key}/${path}`)));
    const decrypter = opts.readData && m.encryption ? await decrypterFor(cfg, m.encryption, m.id, sample) : null;
    const check = async (e: ExpectedFile): Promise<FileCheck> => {
      const size = there.get(e.path);
      if (size === undefined) return { path: e.path, ok: false, problem: 'missing', bytes: 0 };
      const problem = sizeProblem(size, e.bytes);
      if (problem) return { path: e.path, ok: false, problem, bytes: size };
      if (!opts.readData) return { path: e.path, ok: true, bytes: size };
      // Read once as a local verify --read-data reads it: hashed, decrypted (an encrypted set) and decompressed in
      // the same pass (readThrough); a read cut short is read again whole, through new stages.
      const label = `${e.path} of set ${m.id} at ${name}`;
      const how = {
        codec: e.codec ?? null,
        ...(decrypter ? { decrypt: { decrypter, label, plain: e.plain } } : {}),
      };
      const h = await withRetries(() =>
        readThrough({ size, open: () => dest.get(`${key}/${e.path}`) }, how, undefined, opts.signal),
      );
      return readThroughCheck(e, h);
    };
    // Several files at once (`parallel` of the destination): each costs round trips to a distant one. Only the
    // files that fail are kept, the others counted (and handed to `eachFile`, for `--json`).
    const files: FileCheck[] = [];
    let checked = 0;
    await eachLimitedOf(
      chained(expectedFiles(m, undefined, false), expectedOfFiles(entries.entries(), m.codec)),
      destinationConfig(cfg, name).parallel ?? 4,
      async (e) => {
        const found = await check(e);
        return e.nextBackupOf ? { ...found, nextBackupOf: e.nextBackupOf } : found;
      },
      (f) => {
        checked++;
        opts.eachFile?.(f);
        if (!f.ok) files.push(f);
      },
    );
    // A file no restore reads (SQLite's page map) missing or damaged there is a warning, as here
    const warningPhrases = files.filter((f) => !f.ok && f.nextBackupOf).map(nextBackupWarning);
    for (const w of warningPhrases) reporter.emit({ type: 'warning', ...saidOf(w) });
    const ok = files.every((f) => f.ok || f.nextBackupOf);
    // A differential or incremental whose own files are all there restores nothing there without the sets it
    // applies on: a set of its chain missing there (never copied, deleted or pruned there) or damaged there.
    const deltas = m.databases.filter((d) => d.base && !d.error);
    const sets = deltas.length ? [...(await remoteChainSets(dest, source)).values()] : [];
    const breaks = deltas
      .map((d) => chainOf(sets, m.id, d.name))
      .filter((c) => c.problem && c.brokenAt !== m.id)
      .map((c) => c.problemPhrase ?? phrase('chain.raw', { text: c.problem! }));
    const chainProblemPhrases = breaks.filter((p, i) => breaks.findIndex((q) => english(q) === english(p)) === i);
    const which = { set: m.id, dest: name };
    reporter.emit(
      ok ? { type: 'info', ...said('note.remoteOk', which) } : { type: 'warning', ...said('warn.remoteFailed', which) },
    );
    writeLog(
      cfg.backupDir,
      'verify-remote',
      {
        setId: m.id,
        destination: name,
        readData: Boolean(opts.readData),
        outcome: ok ? 'ok' : 'failed',
        problems: files.filter((f) => !f.ok && !f.nextBackupOf).map((f) => `${f.path}: ${f.problem}`),
        ...(warningPhrases.length ? { warnings: warningPhrases.map(english) } : {}),
        ...(chainProblemPhrases.length ? { chainProblems: chainProblemPhrases.map(english) } : {}),
      },
      cfg.secrets,
    );
    return {
      setId: m.id,
      ok,
      files,
      checked,
      ...(warningPhrases.length ? { warnings: warningPhrases.map(english), warningPhrases } : {}),
      ...(chainProblemPhrases.length ? { chainProblems: chainProblemPhrases.map(english), chainProblemPhrases } : {}),
    };
  }
}
