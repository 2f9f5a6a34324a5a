import { createWriteStream, existsSync, promises as fsp } from 'node:fs';
import { checkConfiguredDatabases } from '../config/lookup.js';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { chainOf, noSetAt, planAt, type AtPlan, type ChainSet } from './chain.js';
import { decryptedEntry, decryptSet } from './decrypt-set.js';
import { english, phrase, said, type Phrase, type PhraseId } from '../core/phrases.js';
import { DestinationError, RefusedError, RespaldoError, VerifyError, isDiskFull } from '../core/errors.js';
import { formatBytes } from '../core/format.js';
import type { Reporter } from '../core/events.js';
import type { LoadedConfig, Manifest } from '../core/types.js';
import { setKey, type Destination } from '../destinations/destination.js';
import { destinationConfig } from '../destinations/registry.js';
import { Sha256Pass, withRetries } from './copy.js';
import { FetchProgress } from './fetch-progress.js';
import { makeDirs } from '../core/durable-fs.js';
import {
  DIR_MODE,
  FILE_MODE,
  RESTORE_ROOM,
  ensurePrivateDir,
  freeBytesAt,
  fsyncPath,
  fsyncTree,
  removeTree,
  writeFileAtomic,
} from './fs-util.js';
import { heldAcross, madeGarbage, SMALL_ITEM_COST } from './garbage.js';
import { syncsWhole } from './sync-whole.js';
import { remoteFiles, type RemoteFiles, type ResumedRead } from './remote-read.js';
import {
  notInSets,
  pathsNotStored,
  planRestore,
  planRestoreAt,
  refusalError,
  type RestoreOptions,
  type RestorePlan,
} from './restore-plan.js';
import { heldLock } from './lock.js';
import { entryTexts, MANIFEST_NAME, manifestText, readManifestLean } from './manifest.js';
import { mapLimitedOf } from './limited.js';
import { makeSystemScratch } from './system-scratch.js';
import { trackTemp } from './temp-journal.js';
import { expectedFiles, expectedOfFiles, type ExpectedFile } from './verify.js';
import { withFirstFile } from './decrypt-set.js';
import { choosingPath, normalStoredPath, shownPath } from './restore-files.js';
import { setDir, type SetSelection } from './catalog.js';
import {
  fetchRemoteManifest,
  latestRemoteSet,
  damagedThereHint,
  remoteChainSets,
  type Done,
  sayPassedOver,
  untilAborted,
  withDestination,
} from './remote.js';

/**
 * Fetching a set with its chain from a destination for a restore (`restore --from`, the menu): its manifests first,
 * for the plan and the checks that need no stored file; then its files into a private, journaled folder of
 * backupDir, every file checked on the way, or streamed into the restore (remote-read.ts) when there is no room
 * here and with `--stream`; with `--path`, only the stored files it chooses. Why one file of about 790 lines:
 * choosing the set there (for `--path`, the newest storing it), reading its chains and fetching them share the one
 * open destination and the folder they fill.
 */

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
  /** For `latest`: the newer sets there passed over, each with what it lacks (or its damaged manifest). */
  passedOver?: SetSelection['skipped'];
  /** For `--at`: the sets there ending by then that were passed over, with why (planAt). */
  atSkipped?: AtPlan['skipped'];
  /** For `--at`: the set there was named by the time (planAt's `startedThen`). */
  atStartedThen?: AtPlan['startedThen'];
  /** With `--path`: the stored files a restore fetches (or streams) of those the set stores there (FetchPart). */
  part?: FetchPart;
  /**
   * Of a fetch of the manifests alone (`manifestsOnly`) for a restore that fetches the files first: fetches them now,
   * into the same folder, each checked as it arrives (its destination is still open). A restore from a destination
   * plans, checks the key and asks for confirmation on the manifests, and fetches only then: a wrong key or a target
   * that refuses it is said before the hours a distant set takes to come. When the disk fills meanwhile the result
   * streams them instead (its `streamed`). Absent when the files stream anyway (`--stream`, no room here).
   */
  fetchFiles?: (reporter: Reporter, signal?: AbortSignal) => Promise<FetchedSet>;
}

/**
 * A `--path` restore from a destination: it fetches `count` stored files (`bytes`) of the `storedCount` files
 * (`storedBytes`) the set stores there, its databases' asked for included; the earlier sets of their chains apart.
 */
export interface FetchPart {
  count: number;
  bytes: number;
  storedCount: number;
  storedBytes: number;
}

/**
 * What a restore of set `f` (its manifests fetched, its files not yet) checks before it fetches them: the backup
 * folder's lock free (LockHeldError), the key of each encrypted set it reads (checkKeysThere).
 */
export async function checkBeforeFetch(cfg: Pick<LoadedConfig, 'backupDir'>, f: FetchedSet): Promise<void> {
  const held = heldLock(cfg.backupDir);
  if (held) throw held;
  await checkKeysThere(f);
}

/**
 * Fetches the files of set `f`, planned on its manifests (`plan`, confirmed), and plans the restore again on them:
 * the targets as they are now (one created meanwhile still refuses it: its first refusal is thrown). The plan to
 * carry out, and the set as fetched (its `streamed` when the disk filled meanwhile).
 */
export async function fetchPlanned(
  cfg: LoadedConfig,
  plan: RestorePlan,
  f: FetchedSet,
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<{ plan: RestorePlan; set: FetchedSet }> {
  const {
    filesAt,
    fetchedFrom: _f,
    fetchPart: _p,
    setFolder: _s,
    latestSkipped: _l,
    atSkipped: _a,
    atStartedThen: _t,
    ...asked
  } = plan.options;
  const set = await f.fetchFiles!(reporter, signal);
  const opts = { ...asked, ...fetchedRestoreOptions(set, filesAt!.name) };
  const again = plan.at ? await planRestoreAt(cfg, new Date(plan.at.at), opts) : await planRestore(cfg, set.id, opts);
  const refused = refusalError(again);
  if (refused) throw refused;
  return { plan: again, set };
}

/**
 * Checks, before any stored file of set `f` is fetched, the key of each encrypted set the restore reads (the set, the
 * sets of its chains): the identity against the recipients its manifest names; a passphrase (asked now) against the
 * header of one stored file there. A key that is not the set's is a KeyError. Nothing is fetched or kept.
 */
export async function checkKeysThere(f: FetchedSet): Promise<void> {
  if (!f.streamed) return;
  for (const id of [...f.chainIds, f.id]) {
    // Its head and, for a passphrase, one stored file to check it against (a database's, else the first file's):
    // never every entry (the manifest of a set of 100 000 files read whole held 40 MiB of them).
    const { head, files } = readManifestLean(join(dirname(f.dir), id), { remember: false });
    if (head.encryption) await f.streamed.open(withFirstFile(head, files));
  }
}

/**
 * The options a restore of set `f`, fetched from destination `name`, is planned with: the folder it is in, and how
 * its files are checked — streamed from there and checked as they are read (`filesAt`; a dry run's manifests-only
 * fetch says a run would stream only when it would), or fetched and checked as they arrived (`fetchedFrom`: the
 * restore does not hash them again).
 */
export function fetchedRestoreOptions(
  f: FetchedSet,
  name: string,
): Pick<
  RestoreOptions,
  'setFolder' | 'filesAt' | 'fetchedFrom' | 'fetchPart' | 'latestSkipped' | 'atSkipped' | 'atStartedThen'
> {
  const latest = {
    ...(f.part ? { fetchPart: f.part } : {}),
    ...(f.passedOver ? { latestSkipped: f.passedOver } : {}),
    ...(f.atSkipped ? { atSkipped: f.atSkipped } : {}),
    ...(f.atStartedThen ? { atStartedThen: f.atStartedThen } : {}),
  };
  if (f.streamed) return { setFolder: f.dir, filesAt: { name, streamed: f.streamedBecause !== null }, ...latest };
  return { setFolder: f.dir, fetchedFrom: name, ...latest };
}

/**
 * Every file of `wanted` of set `m` is at the destination with the size its manifest records (checked before
 * a restore streams them; their bytes are checked as they are read).
 */
async function checkPresent(
  cfg: Pick<LoadedConfig, 'backupDir'>,
  dest: Destination,
  source: string,
  m: Manifest,
  wanted: Iterable<ExpectedFile>,
  done: Done,
): Promise<void> {
  const key = setKey(source, m.id);
  const sizes = new Map((await withRetries(() => heldAcross(() => dest.listFiles(key)))).map((f) => [f.path, f.size]));
  for (const w of wanted) {
    const size = sizes.get(w.path);
    const where = { dest: dest.name, file: `${key}/${w.path}` };
    const problem =
      size === undefined
        ? phrase('fetch.missingThere', where)
        : w.bytes !== null && size !== w.bytes
          ? phrase('fetch.sizeThere', { ...where, size, bytes: w.bytes })
          : null;
    if (problem) throw damagedThere(problem, damagedThereHint(cfg, dest.name, m.id, done));
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
  /** How much of `at` was written (chain.ts atWithin): a set that started within it is named by it. */
  atWithin?: number;
  /**
   * With `files`: only the stored files at or below these paths (`restore --files --path`): only those are fetched
   * (or streamed) with the databases asked for, and `latest` is the newest set that stores every one of them.
   */
  paths?: string[];
  /** Stream the files into the restore even when the backup folder has room to fetch them (`--stream`). */
  stream?: boolean;
  /** Fetch only the manifests, for a plan (a dry run): `streamedBecause` still says whether a run would stream. */
  manifestsOnly?: boolean;
  /**
   * A dry run (with `manifestsOnly`): nothing will be fetched after the plan, so the manifests go to a scratch
   * folder of the system's temporary folder, not the backup folder, which a dry run leaves as it was (its hidden
   * fetch folder and the journal record of it changed its listing and mtime).
   */
  planOnly?: boolean;
  /** For a drill (drill-from.ts): what damage found there left undone is said as a drill's. */
  forDrill?: boolean;
}

/** A set at a destination that does not match its manifest (exit 5), said in the operator's language. */
function damagedThere(message: Phrase, hint: Phrase): VerifyError {
  return new VerifyError(english(message), english(hint)).withPhrases(message, hint);
}

/** What a fetch that found damage left undone, said first in its hint (`fetch.damagedHint`'s `done`). */
const nothingDone = (sel: Pick<FetchSelection, 'forDrill'>): Done => (sel.forDrill ? 'drill' : 'restore');

/**
 * Stored files a fetch reads: its databases' (a few, held) and, after them, those of its file entries (gone through
 * again from the manifest each time they are asked for, none held), with how many there are.
 */
interface Wanted extends Iterable<ExpectedFile> {
  readonly count: number;
}

function wantedOf(held: ExpectedFile[], ofEntries?: () => Iterable<ExpectedFile>): Wanted {
  const all = function* (): Generator<ExpectedFile> {
    yield* held;
    if (ofEntries) yield* ofEntries();
  };
  let count = 0;
  for (const _ of all()) count++;
  return { count, [Symbol.iterator]: all };
}

/** Whether any of `items` passes `test` (going through no more of them than it takes). */
function someOf<T>(items: Iterable<T>, test: (item: T) => boolean): boolean {
  for (const item of items) if (test(item)) return true;
  return false;
}

/**
 * The bytes of each of `groups`, stored files of set `key` at `dest`: each file's size from its entry or, for
 * application files, whose entries record no stored size, from the destination's listing of the set, read only then.
 * In a function of its own, so that the listing (100 000 paths: 17 MiB of heap) is not held through the fetch.
 */
async function bytesThere(dest: Destination, key: string, groups: Iterable<ExpectedFile>[]): Promise<number[]> {
  const listed = groups.some((files) => someOf(files, (w) => w.bytes === null))
    ? new Map((await withRetries(() => heldAcross(() => dest.listFiles(key)))).map((f) => [f.path, f.size]))
    : new Map<string, number>();
  return groups.map((files) => {
    let bytes = 0;
    for (const w of files) bytes += w.bytes ?? listed.get(w.path) ?? 0;
    return bytes;
  });
}

/** How many folders a fetch remembers having made (fetchFiles). */
const FOLDERS_REMEMBERED = 64;

const [NODE_MAJOR = 0, NODE_MINOR = 0] = process.versions.node.split('.').map(Number);
/** Whether a write stream fsyncs its file before closing it when asked (`flush`: Node 20.10 and later). */
const WRITES_FLUSH = NODE_MAJOR > 20 || (NODE_MAJOR === 20 && NODE_MINOR >= 10);

/**
 * Fetches files of set `m` into `dir`, `parallel` at once (each costs round trips to a distant destination),
 * checking each one's size and SHA-256 against the manifest on the way (a mismatch is a VerifyError). A file
 * whose fetch fails on a transient error is fetched again whole.
 */
async function fetchFiles(
  dest: Destination,
  source: string,
  m: Manifest,
  dir: string,
  wanted: Iterable<ExpectedFile>,
  progress: FetchProgress,
  cfg: Pick<LoadedConfig, 'backupDir'>,
  parallel: number,
  done: Done,
  each: boolean,
): Promise<void> {
  const hint = damagedThereHint(cfg, dest.name, m.id, done);
  // The folders made lately: the files of one folder come one after another, and a `mkdir -p` for each of them
  // cost a trip to the thread pool per file (a few, not every folder: a set may hold a folder per file).
  const made = new Set<string>();
  await mapLimitedOf(wanted, parallel, async (w) => {
    const target = join(dir, w.path);
    const folder = dirname(target);
    if (!made.has(folder)) {
      await makeDirs(folder, DIR_MODE);
      made.add(folder);
      if (made.size > FOLDERS_REMEMBERED) made.delete(made.values().next().value!);
    }
    let h = new Sha256Pass();
    let counted: ReturnType<FetchProgress['counter']> | undefined;
    await withRetries(async () => {
      counted?.drop();
      h = new Sha256Pass();
      counted = progress.counter();
      await pipeline(
        await dest.get(`${setKey(source, m.id)}/${w.path}`),
        h,
        counted.stream,
        // `each`: fsynced before it is closed (`flush`): opening each file again to fsync it took a third of the
        // fetch's trips to the thread pool. Else the caller syncs them all at once (sync-whole.ts).
        createWriteStream(target, { mode: FILE_MODE, flush: each && WRITES_FLUSH }),
      );
      if (each && !WRITES_FLUSH) await fsyncPath(target);
    }).catch((err: unknown) => {
      // A stored file the manifest lists but the destination lacks: the set there does not match its manifest (5).
      if (err instanceof DestinationError && err.kind === 'notFound')
        throw damagedThere(
          phrase('fetch.missingThere', { dest: dest.name, file: `${setKey(source, m.id)}/${w.path}` }),
          hint,
        );
      throw err;
    });
    counted?.drop();
    progress.fileDone(h.bytes);
    // Its streams and handles are garbage now, counted as a small file's (garbage.ts): with reads sized to the file
    // (no 1 MiB buffer each to make V8 collect), a fetch of 5000 small files otherwise peaked at 166-168 MiB.
    await madeGarbage(SMALL_ITEM_COST);
    if (h.digest() !== w.sha256 || (w.bytes !== null && h.bytes !== w.bytes)) {
      throw damagedThere(
        phrase('fetch.changedThere', { dest: dest.name, file: `${setKey(source, m.id)}/${w.path}` }),
        hint,
      );
    }
  });
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
  // A name the config does not know is said so first, as a local restore says it (not "no set there holds it").
  if (sel.databases?.length) checkConfiguredDatabases(cfg, sel.databases);
  const wantedDbs = sel.databases?.length ? sel.databases : cfg.databases.map((d) => d.name);
  // `--path P`: only the stored files P chooses are fetched; `latest` is the newest set that stores every P.
  const asked = sel.files && sel.paths?.length ? [...new Set(sel.paths.map(normalStoredPath))] : null;
  let realId = id;
  let candidates: string[] = [];
  let passedOver: SetSelection['skipped'] | undefined;
  let atSkipped: AtPlan['skipped'] | undefined;
  let atStartedThen: AtPlan['startedThen'];
  if (!sel.at && id === 'latest') {
    // What a local `latest` means (planRestore): the databases named, or with none every configured one (none when
    // only files are asked for), and the files when asked; a newer set lacking them is passed over, and said so.
    const onlyFiles = sel.files && !sel.databases?.length;
    const latest = await latestRemoteSet(
      cfg,
      name,
      { databases: onlyFiles ? [] : wantedDbs, files: Boolean(sel.files) },
      signal,
    );
    sayPassedOver(reporter, latest.passedOver);
    for (const s of latest.skipped)
      reporter.emit({
        type: 'info',
        ...said('note.passedOverLacking', { set: s.id, dest: name, lacks: s.lacks.join(', ') }),
      });
    realId = latest.id;
    candidates = latest.candidates;
    const damaged = latest.passedOver.map((d) => ({ id: d.id, lacks: ['an intact manifest'] }));
    passedOver = [...latest.skipped, ...damaged].sort((a, b) => (a.id < b.id ? 1 : -1));
  }
  // A dry run writes nothing to the backup folder (not even a hidden folder): its manifests go to a scratch folder
  // of the system's temporary folder, which `recover` clears when the run was killed (system-scratch.ts).
  const planOnly = sel.planOnly === true && sel.manifestsOnly === true;
  const system = planOnly ? await makeSystemScratch('restore') : null;
  if (!system) await ensurePrivateDir(cfg.backupDir);
  const root = system ? system.scratch : join(cfg.backupDir, `.respaldo-restore-fetch-${process.pid}`);
  const untrack = system ? async () => undefined : await trackTemp(cfg.backupDir, root);
  const remove = async () => {
    await removeTree(system?.root ?? root);
    await untrack();
  };
  try {
    const fetched = await withDestination(
      cfg,
      name,
      async (dest, source) => {
        let chainSets: Map<string, ChainSet> | null = null;
        let setId = realId;
        // Whether `latest --path` (or `--at`) read the manifest of the set chosen already, in a folder, to look for P.
        let read = false;
        if (candidates.length > 1 || (asked && candidates.length)) {
          // `latest` as here (selectUsableLatest): a set whose chain there cannot be used for a database asked for (a
          // member missing or damaged, a stored file missing) is passed over for the next one; it refused instead,
          // though an older whole set was there. When none can be used, the first stands and says why below. With
          // `--path`, a set that does not store every P is passed over too: the manifests are read one at a time,
          // newest first, until one stores them (each in a folder of its own, kept for the error when none does).
          const dbsAsked = sel.files && !sel.databases?.length ? [] : wantedDbs;
          const broken: { id: string; lacks: string[]; paths?: boolean }[] = [];
          const looked: string[] = [];
          let usable: string | undefined;
          for (const cid of candidates) {
            if (dbsAsked.length) {
              chainSets ??= await remoteChainSets(dest, source);
              const set = chainSets.get(cid);
              const dbs = Object.keys(set?.entries ?? {}).filter(
                (d) => dbsAsked.includes(d) && !set!.entries[d]!.failed,
              );
              const problem = dbs.map((d) => chainOf([...chainSets!.values()], cid, d)).find((c) => c.problem);
              if (problem) {
                broken.push({ id: cid, lacks: [`a usable chain (${problem.problem})`] });
                continue;
              }
            }
            if (asked) {
              const at = join(root, `.looked-${cid}`);
              await ensurePrivateDir(at);
              const lacks = pathsNotStored(await fetchRemoteManifest(dest, source, cid, at), asked);
              if (lacks.length) {
                looked.push(cid);
                broken.push({ id: cid, lacks, paths: true });
                continue;
              }
              read = true;
            }
            usable = cid;
            break;
          }
          if (!usable && looked.length)
            throw notInSets(
              looked.map((cid) => readManifestLean(join(root, `.looked-${cid}`))),
              asked!,
            );
          for (const cid of looked) await fsp.rm(join(root, `.looked-${cid}`), { recursive: true, force: true });
          if (usable && broken.length) {
            setId = usable;
            for (const b of broken)
              reporter.emit({
                type: 'info',
                ...said('note.passedOverLacking', { set: b.id, dest: name, lacks: b.lacks.join(', ') }),
              });
            passedOver = [...(passedOver ?? []), ...broken].sort((a, b) => (a.id < b.id ? 1 : -1));
          }
          if (usable !== setId) read = false;
        }
        if (sel.at) {
          chainSets = await remoteChainSets(dest, source);
          const atDbs = sel.files && !sel.databases?.length ? [] : wantedDbs;
          const files = Boolean(sel.files);
          const all = [...chainSets.values()];
          let found = planAt(all, sel.at, atDbs, { files, within: sel.atWithin ?? 0 });
          // With `--path`, as `latest`: the newest set of that time that stores every P, their manifests read there
          // one at a time (restore-plan.ts planRestoreAt does the same here).
          const lacking: AtPlan['skipped'] = [];
          const lookedAt = (cid: string) => join(root, `.looked-${cid}`);
          while (asked && !('none' in found)) {
            await ensurePrivateDir(lookedAt(found.setId));
            const lacks = pathsNotStored(
              await fetchRemoteManifest(dest, source, found.setId, lookedAt(found.setId)),
              asked,
            );
            if (!lacks.length) {
              read = true;
              break;
            }
            lacking.push({ id: found.setId, reason: `it does not store ${lacks.join(', ')}` });
            const pool = all.filter((x) => !lacking.some((l) => l.id === x.id));
            found = planAt(pool, sel.at, atDbs, { files, within: sel.atWithin ?? 0 });
          }
          if (lacking.length && 'none' in found)
            throw notInSets(
              lacking.map((l) => readManifestLean(lookedAt(l.id))),
              asked!,
            );
          for (const l of lacking) await fsp.rm(lookedAt(l.id), { recursive: true, force: true });
          if ('none' in found) throw noSetAt(name, atDbs, sel.at, found.skipped, all, files);
          setId = found.setId;
          atSkipped = [...lacking, ...found.skipped];
          atStartedThen = found.startedThen;
        }
        const dir = join(root, setId);
        if (read) await fsp.rename(join(root, `.looked-${setId}`), dir);
        await ensurePrivateDir(dir);
        // Its file entries read again from the copy here as they are needed, none held (read there already: its
        // checks passed, it is read here again only as the file renamed).
        const { head: m, files: entries } = read
          ? readManifestLean(dir, { remember: false })
          : await fetchRemoteManifest(dest, source, setId, dir);
        const onlyFiles = sel.files && !sel.databases?.length;
        const dbs = onlyFiles ? [] : sel.databases?.length ? sel.databases : m.databases.map((d) => d.name);
        // With `--path`, the stored files of the entries it chooses (the plan says which P chooses none: exit 8).
        const chosen = function* () {
          for (const e of entries.entries()) if (!asked || choosingPath(shownPath(e), asked) !== undefined) yield e;
        };
        const withFiles = Boolean(asked) || Boolean(sel.files) || !sel.databases?.length;
        const wanted = wantedOf(
          expectedFiles(m, dbs, false, { forRestore: true }),
          withFiles ? () => expectedOfFiles(chosen(), m.codec) : undefined,
        );
        // The earlier sets each delta entry needs, and which databases of each.
        const members = new Map<string, string[]>();
        for (const db of dbs.filter((d) => m.databases.find((e) => e.name === d)?.base)) {
          chainSets ??= await remoteChainSets(dest, source);
          const chain = chainOf([...chainSets.values()], m.id, db);
          if (chain.problem) {
            const message = phrase('fetch.brokenChain', {
              dest: name,
              set: m.id,
              db,
              reason: chain.problem,
              // The reason's own phrase, its parameters apart (said in the menu's language), as a local refusal has it.
              ...(chain.problemPhrase
                ? Object.fromEntries([
                    ['in.of', chain.problemPhrase.id],
                    ...Object.entries(chain.problemPhrase.params).map(([k, v]) => [`in.${k}`, v]),
                  ])
                : {}),
            });
            // Its chain is sent there again only from a server that holds the set (not from a new server).
            const held = existsSync(join(setDir(cfg, m.id), MANIFEST_NAME));
            const hint = phrase('fetch.brokenChainHint', {
              dest: name,
              done: nothingDone(sel),
              held: held ? 'yes' : '',
            });
            // A member's stored file missing or damaged there is damage (exit 5, as here and as for that set itself);
            // a whole set of the chain gone there (pruned, deleted) makes the chain unusable: refused (exit 9).
            const Err = chain.damaged ? VerifyError : RefusedError;
            throw new Err(english(message), english(hint)).withPhrases(message, hint);
          }
          for (const x of chain.members.slice(0, -1)) members.set(x.id, [...(members.get(x.id) ?? []), db]);
        }
        const chainIds = [...members.keys()].sort();
        const memberFiles = new Map<string, { m: Manifest; files: ReturnType<typeof expectedFiles> }>();
        for (const mid of chainIds) {
          const mdir = join(root, mid);
          await ensurePrivateDir(mdir);
          // Its head: a member gives the restore a database's stored files, never its own files (an encrypted one is
          // read whole when decrypted, its decrypted manifest listing them as it does)
          const mm = (await fetchRemoteManifest(dest, source, mid, mdir)).head;
          memberFiles.set(mid, { m: mm, files: expectedFiles(mm, members.get(mid)!, false, { forRestore: true }) });
        }
        const all = [wanted, ...[...memberFiles.values()].map((x) => x.files)];
        // With `--path`: how much of what the set stores there (every stored file of it) a restore reads.
        const stored = asked
          ? wantedOf(expectedFiles(m, undefined, false), () => expectedOfFiles(entries.entries(), m.codec))
          : null;
        const sizes = await bytesThere(dest, setKey(source, m.id), [...all, ...(stored ? [stored] : [])]);
        const total = sizes.slice(0, all.length).reduce((sum, bytes) => sum + bytes, 0);
        // What the notes say of the set: its id, the sets of its chain fetched with it, its files.
        const count = all.reduce((sum, files) => sum + ('count' in files ? files.count : files.length), 0);
        const about = { id: m.id, chain: chainIds.length, name, count, bytes: total };
        const part: FetchPart | undefined = stored
          ? { count: wanted.count, bytes: sizes[0]!, storedCount: stored.count, storedBytes: sizes[all.length]! }
          : undefined;
        const partSaid: Record<string, string> = part
          ? {
              count: String(part.count),
              bytes: formatBytes(part.bytes),
              stored: String(part.storedCount),
              storedBytes: formatBytes(part.storedBytes),
            }
          : {};
        // An encrypted member of the chain is decrypted beside its fetched copy, one member at a time.
        const decrypting = [...memberFiles.values()].flatMap((x, i) => (x.m.encryption ? [sizes[i + 1]!] : []));
        const needed = total + Math.max(0, ...decrypting);
        // Of the backup folder's disk, where a run would fetch them (a dry run's manifests are elsewhere).
        const free = await freeBytesAt(system ? cfg.backupDir : root);
        /** Why the files stream (the phrase of the note, and the reason as restore plans say it), or a plan. */
        type Why = { note: PhraseId; params: Record<string, string>; because: string } | null;
        const streamed = async (why: Why, rep = reporter): Promise<Fetched> => {
          // Streamed into the restore: what is there is checked now (presence, sizes), every byte as it is read.
          await checkPresent(cfg, dest, source, m, wanted, nothingDone(sel));
          for (const x of memberFiles.values()) await checkPresent(cfg, dest, source, x.m, x.files, nothingDone(sel));
          rep.emit({ type: 'info', ...said(why ? why.note : 'note.planRead', { ...about, ...why?.params }) });
          // Found as it is read, once earlier databases may be restored: nothing is said undone.
          const hint = (id: string) => damagedThereHint(cfg, name, id);
          const resumed = (r: ResumedRead) =>
            rep.emit({
              type: 'warning',
              ...said('note.resumed', { error: r.error.message, after: formatBytes(r.at) }),
            });
          const read = remoteFiles(cfg, dest, source, hint, resumed);
          return {
            id: setId,
            dir,
            chainIds,
            streamed: read,
            streamedBecause: why ? why.because : null,
            ...(part ? { part } : {}),
          };
        };
        if (sel.stream) return streamed({ note: 'note.streamingAsked', params: {}, because: '--stream' });
        if (free !== null && needed + RESTORE_ROOM > free) {
          const room = { needed: formatBytes(needed + RESTORE_ROOM), dir: cfg.backupDir, free: formatBytes(free) };
          return streamed({
            note: 'note.streamingNoRoom',
            params: room,
            because: `no room to fetch it first: it needs ${room.needed}, the disk of ${room.dir} has ${room.free} free`,
          });
        }
        const fetchNow = async (rep: Reporter, stop = signal): Promise<Fetched> => {
          rep.emit({ type: 'info', ...said('note.fetching', about) });
          if (part) rep.emit({ type: 'info', ...said('note.fetchingPart', { id: m.id, name, ...partSaid }) });
          const progress = new FetchProgress(rep, `${m.id} @ ${name}`, total);
          try {
            const parallel = destinationConfig(cfg, name).parallel ?? 4;
            // Many files: none fsynced as it comes, their file system synced once they are all here.
            const each = !syncsWhole(count);
            const done = nothingDone(sel);
            await fetchFiles(dest, source, m, dir, wanted, progress, cfg, parallel, done, each);
            for (const [mid, x] of memberFiles)
              await fetchFiles(dest, source, x.m, join(root, mid), x.files, progress, cfg, parallel, done, each);
            if (!each) await fsyncTree(root, { files: count, ...(stop ? { signal: stop } : {}) });
          } catch (err) {
            if (!isDiskFull(err)) throw err;
            // More than the sizes said (a page per small file, folders): what was fetched goes, the rest streams.
            progress.end();
            await removeFetchedFiles(dir, wanted);
            for (const [mid, x] of memberFiles) await removeFetchedFiles(join(root, mid), x.files);
            return streamed(
              {
                note: 'note.streamingFilled',
                params: { dir: cfg.backupDir },
                because: `the disk of ${cfg.backupDir} filled while fetching it`,
              },
              rep,
            );
          }
          progress.end();
          try {
            for (const [mid, x] of memberFiles)
              if (x.m.encryption) await decryptMember(cfg, join(root, mid), members.get(mid)!, rep, stop);
          } catch (err) {
            if (isDiskFull(err)) throw noRoomToFetch(cfg, name, m.id, needed, await freeBytesAt(root));
            throw err;
          }
          return { id: setId, dir, chainIds, streamed: null, streamedBecause: null, ...(part ? { part } : {}) };
        };
        if (sel.manifestsOnly)
          return {
            ...(await streamed(null)),
            later: (rep: Reporter, signal?: AbortSignal) => untilAborted(dest, () => fetchNow(rep, signal), signal),
          };
        return fetchNow(reporter);
      },
      signal,
      (f) => f.streamed !== null,
    );
    const chosen = {
      ...(passedOver ? { passedOver } : {}),
      ...(atSkipped?.length ? { atSkipped } : {}),
      ...(atStartedThen ? { atStartedThen } : {}),
    };
    const { later, ...got } = fetched;
    // Streamed, or only the manifests fetched: the destination stays open until the set is removed.
    const closeDest = got.streamed?.close;
    const removeAll = async () => {
      await closeDest?.();
      await remove();
    };
    const set: FetchedSet = { ...got, ...chosen, remove: removeAll };
    if (later)
      set.fetchFiles = async (rep, stop) => {
        const full = await later(rep, stop);
        if (!full.streamed) await closeDest?.();
        return { ...full, ...chosen, remove: removeAll };
      };
    return set;
  } catch (err) {
    await remove();
    throw err;
  }
}

/** What the fetch inside the destination returns: the set without its removal; `later` fetches its files later. */
type Fetched = Pick<FetchedSet, 'id' | 'dir' | 'chainIds' | 'streamed' | 'streamedBecause' | 'part'> & {
  later?: (reporter: Reporter, signal?: AbortSignal) => Promise<Fetched>;
};

/** Removes the stored files fetched into `dir` (the manifest stays): a fetch that found no room streams instead. */
async function removeFetchedFiles(dir: string, files: Iterable<ExpectedFile>): Promise<void> {
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
  const message = phrase('fetch.noRoom', {
    set: id,
    dest: name,
    needed: formatBytes(needed),
    dir: cfg.backupDir,
    free: free === null ? '' : formatBytes(free),
  });
  const hint = phrase('fetch.noRoomHint');
  return new RespaldoError('failed', english(message), english(hint), { backupDir: cfg.backupDir }).withPhrases(
    message,
    hint,
  );
}

/**
 * Replaces the fetched encrypted chain member in `dir` by its decrypted copy (files authenticated and
 * checked against the plaintext hashes, manifest as `decryptedView`): a restore applies chain members
 * as they are stored, and only the set restored itself is decrypted by the restore.
 */
async function decryptMember(
  cfg: LoadedConfig,
  dir: string,
  databases: string[],
  reporter: Reporter,
  signal: AbortSignal | undefined,
): Promise<void> {
  // Read lean: its decrypted manifest lists its files as the member's does, written from its entries as they are read
  // again (held, those of a member of 100 000 files were two copies of 40 MiB).
  const { head, files } = readManifestLean(dir, { remember: false });
  const plainDir = `${dir}.decrypted`;
  await ensurePrivateDir(plainDir);
  // `signal` stops it at once (a Ctrl-C, the menu's hang-up), not after every file of the member is decrypted.
  const sel = { databases, files: false, entries: files };
  const { manifest } = await decryptSet(cfg, head, dir, plainDir, sel, reporter, signal);
  await writeFileAtomic(
    join(plainDir, MANIFEST_NAME),
    manifestText(manifest, entryTexts(files.entries(), decryptedEntry)),
  );
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.rename(plainDir, dir);
}
