import { createWriteStream, existsSync, promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable, pipeline as streamPipeline, type Readable } from 'node:stream';
import type { Decrypter } from 'age-encryption';
import { decrypterFor, hashDecrypted } from './crypt.js';
import { decryptSet, encryptedParts, passphraseSample } from './decrypt-set.js';
import { chainOf, chainSetOf, noSetAt, planAt, type ChainSet } from './chain.js';
import { english, phrase } from '../core/phrases.js';
import { pipeline } from 'node:stream/promises';
import {
  DestinationError,
  InterruptedError,
  NotFoundError,
  RefusedError,
  RespaldoError,
  UsageError,
  VerifyError,
  isDiskFull,
} from '../core/errors.js';
import { formatBytes } from '../core/format.js';
import type { Reporter } from '../core/events.js';
import type { LoadedConfig, Manifest, PlainHashes, SetSummary } from '../core/types.js';
import { setKey, type Destination } from '../destinations/destination.js';
import { destinationConfig, openDestination } from '../destinations/registry.js';
import { setDir, summaryFromManifest } from './catalog.js';
import { Sha256Pass, withRetries } from './copy.js';
import { FetchProgress } from './fetch-progress.js';
import { DIR_MODE, FILE_MODE, ensurePrivateDir, freeBytesAt, fsyncPath } from './fs-util.js';
import { writeLog } from './log.js';
import { remoteFiles, type RemoteFiles } from './remote-read.js';
import { MANIFEST_NAME, readManifestFile } from './manifest.js';
import { isSetId } from './set-id.js';
import { trackTemp } from './temp-journal.js';
import { expectedFiles, type FileCheck, type VerifyReport } from './verify.js';

/**
 * Reading a destination: listing its sets (damaged ones named, not fatal), reading their manifests, verifying a
 * set there (sizes, or every byte re-hashed with --read-data), and fetching a set with its chain into a private
 * folder for a restore. Why one file of about 600 lines: these share the destination's opening and closing on
 * interruption, the retries, the manifest checks and the set layout; copying is copy.ts, pruning remote-prune.ts.
 */

/**
 * What to do about set `id` at destination `name` whose stored files do not match its manifest: while this
 * server still holds the set, repair it from here (`copy ID --to NAME --verify` sends again each file that
 * differs there); else (a new server) restore another set.
 */
export function repairThereHint(cfg: Pick<LoadedConfig, 'backupDir'>, name: string, id: string): string {
  const here = isSetId(id) && existsSync(join(setDir(cfg, id), MANIFEST_NAME));
  return here
    ? `This server still holds set ${id}: \`respaldo copy ${id} --to ${name} --verify\` repairs it there (it sends again each file that differs). Or restore another set (\`respaldo list --from ${name}\`).`
    : `Restore another set (\`respaldo list --from ${name}\`); the set can be repaired there only from a server that still holds it.`;
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
  const interrupted = () => new InterruptedError('Interrupted; nothing was changed.');
  if (signal?.aborted) throw interrupted();
  const dest = await openDestination(cfg, name);
  let onAbort: (() => void) | undefined;
  let kept = false;
  try {
    if (!signal) {
      const result = await work(dest, dc.source!);
      kept = Boolean(keepOpen?.(result));
      return result;
    }
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        void dest.close().catch(() => undefined);
        reject(interrupted());
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const result = await Promise.race([work(dest, dc.source!), aborted]);
    kept = Boolean(keepOpen?.(result));
    return result;
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    if (!kept) await dest.close().catch(() => undefined);
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

async function readAll(dest: Destination, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(await dest.get(key), new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) }));
  return Buffer.concat(chunks);
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
  if (!isSetId(id))
    throw new UsageError(
      `"${id}" is not a backup set id (YYYYMMDD_HHMMSS).`,
      'Run `respaldo list --from NAME` to see the set ids.',
    );
  const text = await withRetries(() => readAll(dest, `${setKey(source, id)}/${MANIFEST_NAME}`));
  // A manifest that fails its checks is named as it is at the destination, not by the scratch copy read here.
  const check = (dir: string): Manifest => {
    try {
      return readManifestFile(dir);
    } catch (err) {
      if (!(err instanceof VerifyError)) throw err;
      throw new VerifyError(
        `destination "${dest.name}": set ${setKey(source, id)} has a bad manifest: ${err.message.replace(`${join(dir, MANIFEST_NAME)}: `, '')}`,
        `Nothing was changed. Restore another set (\`respaldo list --from ${dest.name}\`). To repair this one, copy it there again from the server that still has it (\`respaldo copy ${id} --to ${dest.name}\`); or, once inspected, remove ${dest.describe()}/${setKey(source, id)} by hand.`,
      );
    }
  };
  let m: Manifest;
  if (scratch) {
    await fsp.writeFile(join(scratch, MANIFEST_NAME), text, { mode: FILE_MODE });
    m = check(scratch);
  } else {
    const dir = await fsp.mkdtemp(join((await import('node:os')).tmpdir(), 'respaldo-manifest-'));
    try {
      await fsp.writeFile(join(dir, MANIFEST_NAME), text, { mode: FILE_MODE });
      m = check(dir);
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
 * Reads and checks the manifest of each of `refs` at `dest`: a manifest that fails its checks (a VerifyError)
 * makes its set damaged, named in `damaged`, and the others are still read; any other error is thrown.
 */
export async function readRemoteManifests(
  dest: Destination,
  refs: { source: string; id: string }[],
): Promise<{ manifests: { source: string; m: Manifest }[]; damaged: RemoteDamagedSet[] }> {
  const manifests: { source: string; m: Manifest }[] = [];
  const damaged: RemoteDamagedSet[] = [];
  for (const r of refs) {
    try {
      manifests.push({ source: r.source, m: await readRemoteManifest(dest, r.source, r.id) });
    } catch (err) {
      if (!(err instanceof VerifyError)) throw err;
      const problem = err.message.replace(`destination "${dest.name}": `, '');
      damaged.push({ source: r.source, id: r.id, destination: dest.name, problem });
    }
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
      const refs = await withRetries(() => dest.listSets(opts.allSources ? null : source));
      const { manifests, damaged } = await readRemoteManifests(dest, refs);
      const sets = manifests.map(({ source: src, m }) => ({
        ...summaryFromManifest(m, `${dest.describe()}/${setKey(src, m.id)}`, { keep: false, lastVerified: null }),
        source: src,
        destination: name,
      }));
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
  databases: string[] = [],
  signal?: AbortSignal,
): Promise<{ id: string; passedOver: RemoteDamagedSet[] }> {
  const { sets, damaged } = await listRemote(cfg, name, signal ? { signal } : {});
  const found = sets.find(
    (s) => s.type !== 'pre_restore' && s.status !== 'failed' && databases.every((d) => s.databases.includes(d)),
  );
  if (!found) {
    const bad = damaged.length
      ? ` (${damaged.length} set(s) there have a damaged manifest: ${damaged.map((d) => d.id).join(', ')})`
      : '';
    throw new NotFoundError(
      `Destination "${name}" holds no backup set${databases.length ? ` with ${databases.join(', ')}` : ''} of source "${destinationConfig(cfg, name).source}"${bad}.`,
      'Run `respaldo list --from NAME --all-sources` to see every source there; set "source" in the config to the old server\'s name.',
    );
  }
  return { id: found.id, passedOver: damaged.filter((d) => d.id > found.id) };
}

/** The id of `latestRemoteSet`. */
export async function latestRemoteSetId(cfg: LoadedConfig, name: string, databases: string[] = []): Promise<string> {
  return (await latestRemoteSet(cfg, name, databases)).id;
}

/** Says which damaged sets `latest` passed over (a warning: the operator should know a newer set there is bad). */
function sayPassedOver(reporter: Reporter, passedOver: RemoteDamagedSet[]): void {
  for (const d of passedOver)
    reporter.emit({
      type: 'warning',
      message: `passed over set ${d.id} at ${d.destination}, newer but damaged: ${d.problem.replace(`set ${d.source}/${d.id} `, 'it ')}`,
    });
}

/**
 * Checks a set on a destination against its manifest: every stored file present, database files of
 * the manifest's size; with `readData` every file is read back and re-hashed (SHA-256).
 */
export async function verifyRemoteSet(
  cfg: LoadedConfig,
  name: string,
  id: string,
  opts: { readData?: boolean; signal?: AbortSignal },
  reporter: Reporter,
): Promise<VerifyReport> {
  return withDestination(
    cfg,
    name,
    async (dest, source) => {
      let realId = id;
      if (id === 'latest') {
        const latest = await latestRemoteSet(cfg, name, [], opts.signal);
        sayPassedOver(reporter, latest.passedOver);
        realId = latest.id;
      }
      const m = await readRemoteManifest(dest, source, realId);
      const key = setKey(source, m.id);
      const there = new Map((await withRetries(() => dest.listFiles(key))).map((f) => [f.path, f.size]));
      // Reading the data of an encrypted set also decrypts it: the key is needed, and the plaintext is checked.
      const sample = passphraseSample(m, (path) => withRetries(() => dest.get(`${key}/${path}`)));
      const decrypter = opts.readData && m.encryption ? await decrypterFor(cfg, m.encryption, m.id, sample) : null;
      const plainOf = new Map(
        encryptedParts(
          m,
          m.databases.map((d) => d.name),
          true,
        ).map((p) => [p.path, p.plain]),
      );
      const files: FileCheck[] = [];
      for (const e of expectedFiles(m)) {
        const size = there.get(e.path);
        if (size === undefined) files.push({ path: e.path, ok: false, problem: 'missing', bytes: 0 });
        else if (e.bytes !== null && size !== e.bytes)
          files.push({
            path: e.path,
            ok: false,
            problem: `size ${size} bytes, manifest says ${e.bytes} (truncated or changed)`,
            bytes: size,
          });
        else if (!opts.readData) files.push({ path: e.path, ok: true, bytes: size });
        else if (decrypter) files.push(await readSealed(dest, `${key}/${e.path}`, e, plainOf.get(e.path), decrypter));
        else {
          const h = new Sha256Pass();
          h.resume();
          await withRetries(async () => pipeline(await dest.get(`${key}/${e.path}`), h));
          files.push(
            h.digest() === e.sha256
              ? { path: e.path, ok: true, bytes: h.bytes }
              : { path: e.path, ok: false, problem: 'sha256 mismatch (content changed)', bytes: h.bytes },
          );
        }
      }
      const ok = files.every((f) => f.ok);
      reporter.emit({ type: ok ? 'info' : 'warning', message: `set ${m.id} at ${name}: ${ok ? 'OK' : 'FAILED'}` });
      writeLog(
        cfg.backupDir,
        'verify-remote',
        {
          setId: m.id,
          destination: name,
          readData: Boolean(opts.readData),
          outcome: ok ? 'ok' : 'failed',
          problems: files.filter((f) => !f.ok).map((f) => `${f.path}: ${f.problem}`),
        },
        cfg.secrets,
      );
      return { setId: m.id, ok, files };
    },
    opts.signal,
  );
}

/**
 * Reads an encrypted file back from a destination: the ciphertext's SHA-256 against the manifest,
 * then the decrypted bytes (authenticated by age) against the plaintext's hashes.
 */
async function readSealed(
  dest: Destination,
  key: string,
  e: { path: string; sha256: string },
  plain: PlainHashes | undefined,
  decrypter: Decrypter,
): Promise<FileCheck> {
  let h = new Sha256Pass();
  try {
    const got = await withRetries(async () => {
      h = new Sha256Pass();
      return hashDecrypted(
        decrypter,
        streamPipeline(await dest.get(key), h, () => undefined),
        e.path,
      );
    });
    if (h.digest() !== e.sha256)
      return { path: e.path, ok: false, problem: 'sha256 mismatch (content changed)', bytes: h.bytes };
    if (plain && (got.sha256 !== plain.sha256 || got.md5 !== plain.md5 || got.bytes !== plain.bytes))
      return { path: e.path, ok: false, problem: 'decrypted content does not match the manifest', bytes: h.bytes };
    return { path: e.path, ok: true, bytes: h.bytes };
  } catch (err) {
    if (err instanceof VerifyError) {
      const problem = 'failed authentication while decrypting (changed or damaged)';
      return { path: e.path, ok: false, problem, bytes: h.bytes };
    }
    throw err;
  }
}

/** A set fetched from a destination into a hidden folder of backupDir, to be restored from and removed. */
export interface FetchedSet {
  id: string;
  /**
   * The folder holding manifest.json and the fetched files (`<backupDir>/.respaldo-restore-fetch-<pid>/<id>`);
   * the earlier sets its chains need are fetched beside it (`RestoreOptions.setFolder`).
   */
  dir: string;
  /** The sets fetched for the chains (oldest first), without the set itself. */
  chainIds: string[];
  /**
   * Set when only the manifests were fetched and the restore streams the stored files from the destination
   * (`--stream`, no room to fetch them here, or `manifestsOnly`); open until `remove`.
   */
  streamed: RemoteFiles | null;
  /** Why a restore streams the files (`--stream`, or the room needed and free here); null when it fetches them. */
  streamedBecause: string | null;
  /** Removes the folder and its journal record (and closes the destination the restore streamed from). */
  remove(): Promise<void>;
}

/**
 * Room a restore from a fetched set still needs in the backup folder beside the fetched files (its lock, journal,
 * log lines, a PostgreSQL dump's table of contents and small files): with less, the files are streamed instead.
 */
const RESTORE_ROOM = 256 << 10;

/**
 * Every file of `wanted` of set `m` is at the destination with the size its manifest records (checked before
 * a restore streams them; their bytes are checked as they are read).
 */
async function checkPresent(
  cfg: Pick<LoadedConfig, 'backupDir'>,
  dest: Destination,
  source: string,
  m: Manifest,
  wanted: ReturnType<typeof expectedFiles>,
): Promise<void> {
  const key = setKey(source, m.id);
  const sizes = new Map((await withRetries(() => dest.listFiles(key))).map((f) => [f.path, f.size]));
  for (const w of wanted) {
    const size = sizes.get(w.path);
    const problem =
      size === undefined
        ? 'is missing there, though its manifest lists it'
        : w.bytes !== null && size !== w.bytes
          ? `has ${size} bytes there where its manifest records ${w.bytes}`
          : null;
    if (problem)
      throw new VerifyError(
        `destination "${dest.name}": ${key}/${w.path} ${problem}.`,
        `Nothing was restored. ${repairThereHint(cfg, dest.name, m.id)}`,
      );
  }
}

/**
 * What a restore `--from` asks for: the databases, the files, or the point in time (`restore --at`); and
 * whether to stream the files into the restore rather than fetch them first (`--stream`).
 */
export interface FetchSelection {
  databases?: string[];
  files?: boolean;
  /** Pick the newest set ending at or before this time with usable chains (`id` is then ignored). */
  at?: Date;
  /** Stream the files into the restore even when the backup folder has room to fetch them (`--stream`). */
  stream?: boolean;
  /** Fetch only the manifests, for a plan (a dry run): `streamedBecause` still says whether a run would stream. */
  manifestsOnly?: boolean;
}

/**
 * Every set of this source at a destination as chains see it (chain.ts), each manifest read and
 * checked; an entry whose stored files are missing there or of another size is marked unusable.
 */
async function remoteChainSets(dest: Destination, source: string): Promise<Map<string, ChainSet>> {
  const sizes = new Map<string, number>();
  for (const f of await withRetries(() => dest.listFiles(source))) sizes.set(f.path, f.size);
  const out = new Map<string, ChainSet>();
  // A set whose manifest is damaged is no member of any chain: a chain that needs it is broken.
  const { manifests } = await readRemoteManifests(dest, await withRetries(() => dest.listSets(source)));
  for (const { m } of manifests) {
    const problems: Record<string, string> = {};
    for (const d of m.databases) {
      for (const f of [...(d.file ? [{ file: d.file, storedBytes: d.storedBytes }] : []), ...(d.extras ?? [])]) {
        const size = sizes.get(`${m.id}/${f.file}`);
        if (size === undefined) problems[d.name] = `stored file ${f.file} is missing at ${dest.name}`;
        else if (size !== f.storedBytes) problems[d.name] = `stored file ${f.file} has another size at ${dest.name}`;
        if (problems[d.name]) break;
      }
    }
    out.set(m.id, chainSetOf(m, problems));
  }
  return out;
}

/**
 * Fetches files of set `m` into `dir`, checking each one's size and SHA-256 against the manifest on
 * the way (a mismatch is a VerifyError).
 */
async function fetchFiles(
  dest: Destination,
  source: string,
  m: Manifest,
  dir: string,
  wanted: ReturnType<typeof expectedFiles>,
  progress: FetchProgress,
  cfg: Pick<LoadedConfig, 'backupDir'>,
): Promise<void> {
  for (const w of wanted) {
    const target = join(dir, w.path);
    await fsp.mkdir(dirname(target), { recursive: true, mode: DIR_MODE });
    let h = new Sha256Pass();
    const damaged = `Nothing was restored. ${repairThereHint(cfg, dest.name, m.id)}`;
    await withRetries(async () => {
      h = new Sha256Pass();
      await pipeline(
        await dest.get(`${setKey(source, m.id)}/${w.path}`),
        h,
        progress.counter(),
        createWriteStream(target, { mode: FILE_MODE }),
      );
    }).catch((err: unknown) => {
      // A stored file the manifest lists but the destination lacks: the set there does not match its manifest (5).
      if (err instanceof DestinationError && err.kind === 'notFound')
        throw new VerifyError(
          `destination "${dest.name}": ${setKey(source, m.id)}/${w.path} is missing there, though its manifest lists it.`,
          damaged,
        );
      throw err;
    });
    progress.fileDone(h.bytes);
    await fsyncPath(target);
    if (h.digest() !== w.sha256 || (w.bytes !== null && h.bytes !== w.bytes)) {
      throw new VerifyError(
        `destination "${dest.name}": ${setKey(source, m.id)}/${w.path} does not match its manifest (changed or damaged there).`,
        damaged,
      );
    }
  }
}

/**
 * Fetches the manifest and the files a restore needs (the given databases, and the config and
 * application files when `files`) of set `id` (`latest`, or the set of `sel.at`) from a destination
 * into a hidden, journaled folder inside backupDir, checking each file's size and SHA-256 against the
 * manifest on the way. A differential or incremental entry also fetches, beside it, the earlier sets
 * of its chain (their manifests and that database's files, checked the same way); an encrypted one
 * is decrypted there (the key is needed), so the restore reads them as it reads local chains.
 * A mismatch is a VerifyError, a broken chain there a RefusedError; nothing is kept.
 */
export async function fetchSet(
  cfg: LoadedConfig,
  name: string,
  id: string,
  sel: FetchSelection,
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<FetchedSet> {
  const wantedDbs = sel.databases?.length ? sel.databases : cfg.databases.map((d) => d.name);
  let realId = id;
  if (!sel.at && id === 'latest') {
    const latest = await latestRemoteSet(cfg, name, sel.databases ?? [], signal);
    sayPassedOver(reporter, latest.passedOver);
    realId = latest.id;
  }
  await ensurePrivateDir(cfg.backupDir);
  const root = join(cfg.backupDir, `.respaldo-restore-fetch-${process.pid}`);
  const untrack = await trackTemp(cfg.backupDir, root);
  const remove = async () => {
    await fsp.rm(root, { recursive: true, force: true });
    await untrack();
  };
  try {
    const fetched = await withDestination(
      cfg,
      name,
      async (dest, source) => {
        let chainSets: Map<string, ChainSet> | null = null;
        let setId = realId;
        if (sel.at) {
          chainSets = await remoteChainSets(dest, source);
          const found = planAt([...chainSets.values()], sel.at, wantedDbs);
          if ('none' in found)
            throw noSetAt(
              `Destination "${name}" holds no set of ${wantedDbs.join(', ')} ending`,
              sel.at,
              found.skipped,
              'Pick a later time, name fewer databases with --db, or see the sets there with respaldo list --from NAME.',
            );
          setId = found.setId;
        }
        const dir = join(root, setId);
        await ensurePrivateDir(dir);
        const m = await readRemoteManifest(dest, source, setId, dir);
        const onlyFiles = sel.files && !sel.databases?.length;
        const dbs = onlyFiles ? [] : sel.databases?.length ? sel.databases : m.databases.map((d) => d.name);
        const wanted = expectedFiles(m, dbs, Boolean(sel.files) || !sel.databases?.length);
        // The earlier sets each delta entry needs, and which databases of each.
        const members = new Map<string, string[]>();
        for (const db of dbs.filter((d) => m.databases.find((e) => e.name === d)?.base)) {
          chainSets ??= await remoteChainSets(dest, source);
          const chain = chainOf([...chainSets.values()], m.id, db);
          if (chain.problem)
            throw new RefusedError(
              `destination "${name}": ${english(phrase('refuse.brokenChain', { set: m.id, db, reason: chain.problem }))}`,
              `Nothing was restored. Check the sets there with respaldo list --from ${name}; restore an older set, or copy the missing sets there again (respaldo copy --to ${name}).`,
            );
          for (const x of chain.members.slice(0, -1)) members.set(x.id, [...(members.get(x.id) ?? []), db]);
        }
        const chainIds = [...members.keys()].sort();
        const memberFiles = new Map<string, { m: Manifest; files: ReturnType<typeof expectedFiles> }>();
        for (const mid of chainIds) {
          const mdir = join(root, mid);
          await ensurePrivateDir(mdir);
          const mm = await readRemoteManifest(dest, source, mid, mdir);
          memberFiles.set(mid, { m: mm, files: expectedFiles(mm, members.get(mid)!, false) });
        }
        const all = [wanted, ...[...memberFiles.values()].map((x) => x.files)].flat();
        const sizeOf = (files: typeof all) => files.reduce((s, w) => s + (w.bytes ?? 0), 0);
        const total = sizeOf(all);
        const sets = chainIds.length ? ` and ${chainIds.length} earlier set(s) of its chain` : '';
        // An encrypted member of the chain is decrypted beside its fetched copy, one member at a time.
        const decrypting = [...memberFiles.values()].filter((x) => x.m.encryption).map((x) => sizeOf(x.files));
        const needed = total + Math.max(0, ...decrypting);
        const free = await freeBytesAt(root);
        const streamed = async (why: string | null) => {
          // Streamed into the restore: what is there is checked now (presence, sizes), every byte as it is read.
          await checkPresent(cfg, dest, source, m, wanted);
          for (const x of memberFiles.values()) await checkPresent(cfg, dest, source, x.m, x.files);
          const files = `${all.length} file(s)${total ? `, ${total} bytes` : ''}`;
          reporter.emit({
            type: 'info',
            message: why
              ? `streaming set ${m.id}${sets} from ${name} into the restore (${why}): ${files}, each checked as it is read`
              : `read the manifest of set ${m.id}${sets} at ${name} (${files} there, not fetched for a plan)`,
          });
          const hint = (id: string) => repairThereHint(cfg, name, id);
          return { id: setId, dir, chainIds, streamed: remoteFiles(cfg, dest, source, hint), streamedBecause: why };
        };
        if (sel.stream) return streamed('--stream');
        if (free !== null && needed + RESTORE_ROOM > free)
          return streamed(
            `no room to fetch it first: it needs ${formatBytes(needed + RESTORE_ROOM)}, the disk of ${cfg.backupDir} has ${formatBytes(free)} free`,
          );
        if (sel.manifestsOnly) return streamed(null);
        reporter.emit({
          type: 'info',
          message: `fetching set ${m.id}${sets} from ${name}: ${all.length} file(s)${total ? `, ${total} bytes` : ''}`,
        });
        const progress = new FetchProgress(reporter, `${m.id} @ ${name}`, total);
        try {
          await fetchFiles(dest, source, m, dir, wanted, progress, cfg);
          for (const [mid, x] of memberFiles)
            await fetchFiles(dest, source, x.m, join(root, mid), x.files, progress, cfg);
        } catch (err) {
          if (!isDiskFull(err)) throw err;
          // More than the sizes said (a page per small file, folders): what was fetched goes, the rest streams.
          progress.end();
          await removeFetchedFiles(dir, wanted);
          for (const [mid, x] of memberFiles) await removeFetchedFiles(join(root, mid), x.files);
          return streamed(`the disk of ${cfg.backupDir} filled while fetching it`);
        }
        progress.end();
        try {
          for (const [mid, x] of memberFiles)
            if (x.m.encryption) await decryptMember(cfg, x.m, join(root, mid), members.get(mid)!, reporter);
        } catch (err) {
          if (isDiskFull(err)) throw noRoomToFetch(cfg, name, m.id, needed, await freeBytesAt(root));
          throw err;
        }
        return { id: setId, dir, chainIds, streamed: null, streamedBecause: null };
      },
      signal,
      (f) => f.streamed !== null,
    );
    if (!fetched.streamed) return { ...fetched, remove };
    const { close } = fetched.streamed;
    return {
      ...fetched,
      remove: async () => {
        await close();
        await remove();
      },
    };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** Removes the stored files fetched into `dir` (the manifest stays): a fetch that found no room streams instead. */
async function removeFetchedFiles(dir: string, files: ReturnType<typeof expectedFiles>): Promise<void> {
  for (const w of files) await fsp.rm(join(dir, w.path), { force: true });
}

/**
 * The disk of the backup folder filled while the earlier sets of a chain fetched from a destination were decrypted
 * there (a fetch that fills it, or that the manifests' sizes say does not fit, streams the files instead): the
 * operator can stream it, free space there, or fetch onto another disk with a config whose backupDir is there.
 */
function noRoomToFetch(
  cfg: Pick<LoadedConfig, 'backupDir'>,
  name: string,
  id: string,
  needed: number,
  free: number | null,
): RespaldoError {
  return new RespaldoError(
    'failed',
    `Fetching set ${id} from destination "${name}" needs ${formatBytes(needed)} in the backup folder ${cfg.backupDir}, and its disk has ${free === null ? 'not that much' : formatBytes(free)} free. Nothing was restored; what was fetched was removed.`,
    'Run the restore again with --stream: the files are then streamed from the destination into the restore, each checked as it is read, and none is fetched first. Or free space on that disk (`respaldo prune --dry-run` shows what retention would remove, `respaldo delete <id>` removes one set), or run the restore with a copy of the config whose "backupDir" is on a disk with room (`--config FILE`).',
    { backupDir: cfg.backupDir },
  );
}

/**
 * Replaces the fetched encrypted chain member in `dir` by its decrypted copy (files authenticated and
 * checked against the plaintext hashes, manifest as `decryptedView`): a restore applies chain members
 * as they are stored, and only the set restored itself is decrypted by the restore.
 */
async function decryptMember(
  cfg: LoadedConfig,
  m: Manifest,
  dir: string,
  databases: string[],
  reporter: Reporter,
): Promise<void> {
  const plainDir = `${dir}.decrypted`;
  await ensurePrivateDir(plainDir);
  const { manifest } = await decryptSet(cfg, m, dir, plainDir, { databases, files: false }, reporter);
  await fsp.writeFile(join(plainDir, MANIFEST_NAME), JSON.stringify(manifest, null, 2) + '\n', { mode: FILE_MODE });
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.rename(plainDir, dir);
}
