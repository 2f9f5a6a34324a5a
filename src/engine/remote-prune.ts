import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RefusedError, RespaldoError, errorMessage } from '../core/errors.js';
import { formatAge, printedName, someNames } from '../core/format.js';
import type { Reporter } from '../core/events.js';
import type { LoadedConfig, RetentionConfig, SetSummary } from '../core/types.js';
import { ranBy } from '../core/who.js';
import {
  setKey,
  type Destination,
  type DestinationConfig,
  type PendingUpload,
  type RemoteFile,
} from '../destinations/destination.js';
import { destinationConfig } from '../destinations/registry.js';
import { KEEP_MARK, damagedNeedsOf, lastDrillOf, readDrillRecord, summaryFromManifest } from './catalog.js';
import { COPIES_NAME, readCopies, withRetries } from './copy.js';
import { writeFileAtomic } from './fs-util.js';
import { jobsFromLog } from './log-jobs.js';
import { writeLog } from './log.js';
import { mapLimited } from './limited.js';
import { MANIFEST_NAME } from './manifest.js';
import { pruneRefusal } from './prune.js';
import { readRemoteHead, readRemoteManifests, withDestination, type RemoteDamagedSet } from './remote.js';
import { jobOf, jobTimeZonesOf, planPrune, type PruneDecision } from './retention.js';
import { keepForDamaged, keepForStrays } from './retention-keep.js';
import { notWrittenByRespaldo } from './before-delete.js';
import { isSetId } from './set-id.js';
import { english, nestedPhrase, phrase, said, type Phrase } from '../core/phrases.js';
import { CLAIMS_DIR, removeEmptyClaims } from './copy-claim.js';
import { heldAcross } from './garbage.js';

/**
 * Retention at a destination (`respaldo prune --from NAME`), and the clean-up of what killed runs
 * left there. `planRemotePrune` is pure (tested as tables); `pruneRemote` lists, plans and deletes.
 *
 * - Complete sets (manifest present) follow the same rules as local ones (retention.ts), with the
 *   destination's `retention` over the top-level one. A set is kept when it is marked keep there (its
 *   `keep` file, remote-keep.ts) or in the local backup folder; the newest completed set of each
 *   database is never removed, nor a set whose folder there holds files respaldo did not write (keepForStrays);
 *   pruning refuses when the newest set there is not completed.
 * - A set folder without its manifest (a copy running, or cut short) is kept, unless it is an old
 *   leftover: nothing in it was written for LEFTOVER_AGE_MS and no `respaldo copy` will complete it
 *   (the local set is gone, or was pruned here before).
 * - Temporary files (`.respaldo-part-*` of folder and sftp destinations) not written for
 *   LEFTOVER_AGE_MS are removed; younger ones may belong to a copy running now. Unfinished multipart
 *   uploads (S3) under this source's prefix started that long ago are aborted the same way.
 * - A copy's claim (`.respaldo-claims/<id>.<hash>`, copy-claim.ts) goes with its set: before a set removed here (while
 *   its manifest is still there, no copy of that id sends), or with an incomplete set removed here once the claim too
 *   was not written for LEFTOVER_AGE_MS; a claim of an id with nothing there goes once that old (a copy cut short
 *   before it sent anything, or a refusal that could not remove its own), and so does one of a set there complete
 *   (its copy could not remove it). The claims' folder goes once empty.
 * - Every manifest is read and checked before anything is removed: a set whose manifest fails its checks
 *   is damaged: kept, named (`damaged`), and neither counted nor removed by the retention; what it may need there
 *   is kept (keepForDamaged, as local prune does); the others are pruned as usual.
 * Why one file of about 680 lines: the plan (pure) and its execution at a destination share the decisions'
 * types, and the scheduler's retention at the destinations is that execution once per destination.
 */

/**
 * How much of a damaged manifest at a destination is read for the chain it names: its databases (and their bases)
 * come before its files, so a manifest of many files is not read whole.
 */
const DAMAGED_MANIFEST_HEAD_BYTES = 16 * 1024 * 1024;

/** A file or set folder not written for this long is a leftover of a run killed long ago. */
export const LEFTOVER_AGE_MS = 24 * 3_600_000;

/** A set folder at the destination without its manifest. */
export interface IncompleteSet {
  id: string;
  files: number;
  bytes: number;
  /** When its newest file was written; null when the destination does not tell. */
  lastWriteAt: string | null;
  /** Whether `respaldo copy` would complete it (the local set exists and was not pruned there). */
  copyWillComplete: boolean;
  /** Files in its folder that no copy writes (`notFromACopy`): someone put them there, so it is never removed. */
  strays?: string[];
}

/** The folders a set's stored files are in (databases/, config/, application/: manifest.ts, files.ts). */
const STORED_FOLDERS = /^(databases|config|application)\//;

/**
 * Pure: of the paths in a set folder without its manifest, those no copy (nor a delete cut short) leaves there:
 * neither a stored file's (under databases/, config/ or application/) nor the manifest or keep mark. Put there by
 * someone (notes, a folder made by hand under a set's name): never a leftover of a killed copy.
 */
export function notFromACopy(paths: readonly string[]): string[] {
  return paths.filter((p) => !STORED_FOLDERS.test(p) && p !== MANIFEST_NAME && p !== KEEP_MARK).sort();
}

/** A copy's claim at the destination (copy-claim.ts). */
export interface ClaimFile {
  /** Its key, relative to the destination's root. */
  key: string;
  /** The set id it claims. */
  id: string;
  modifiedAt: string | null;
  /** Whether anything of set `id` is there (a manifest, or files of an incomplete copy). */
  setThere: boolean;
  /** Whether set `id` is there complete, its manifest whole: its copy completed, no copy of that id sends. */
  setComplete?: boolean;
}

/** A temporary file at the destination (a key relative to the destination's root). */
export interface TempFile {
  key: string;
  bytes: number;
  modifiedAt: string | null;
}

export interface RemotePrunePlan {
  /** Why a real prune would refuse (the newest set there is not completed), or null. */
  refused: string | null;
  /** `refused` as a phrase (the menu says it in its language). */
  refusedPhrase?: Phrase;
  /** What to do about `refused`, when not the usual (copy a completed set there first). */
  refusedHint?: string;
  /** `refusedHint` as a phrase. */
  refusedHintPhrase?: Phrase;
  sets: { set: SetSummary; decision: PruneDecision; job: string | null }[];
  incomplete: { set: IncompleteSet; action: 'keep' | 'remove'; reason: string }[];
  temps: { file: TempFile; action: 'keep' | 'remove'; reason: string }[];
  /** Copies' claims there: removed with their set, or once left over. */
  claims: { claim: ClaimFile; action: 'keep' | 'remove'; reason: string }[];
  /** Unfinished multipart uploads (S3) under this source; null when the store cannot list them. */
  uploads: UploadDecision[] | null;
}

/** What to do with an unfinished multipart upload: abort it (a leftover of a killed run) or keep it. */
export interface UploadDecision {
  upload: PendingUpload;
  action: 'keep' | 'abort';
  reason: string;
}

/**
 * Pure: unfinished multipart uploads started LEFTOVER_AGE_MS ago or more are aborted (no copy runs
 * that long on one file; the store keeps, and bills, their parts); younger ones may belong to a copy
 * running now, and one whose start the store does not tell is kept.
 */
export function planUploads(uploads: PendingUpload[], now: Date): UploadDecision[] {
  return uploads.map((upload) => {
    const a = age(now, upload.initiatedAt);
    if (a === null) return { upload, action: 'keep', reason: 'unfinished upload started at an unknown time' };
    if (a < LEFTOVER_AGE_MS)
      return {
        upload,
        action: 'keep',
        reason: `unfinished upload started ${formatAge(Math.max(0, a))} ago: a copy may be running`,
      };
    return { upload, action: 'abort', reason: `unfinished upload started ${formatAge(a)} ago: left by a killed run` };
  });
}

/**
 * Lists this source's unfinished uploads at `dest` and aborts the leftovers (`planUploads`); what the
 * next copy and \`prune --from\` do. null when the destination has no such uploads or cannot list them.
 */
export async function abortOldUploads(
  dest: Destination,
  source: string,
  now: Date,
): Promise<{ decisions: UploadDecision[]; aborted: string[]; failed: { id: string; error: string }[] } | null> {
  if (!dest.listUploads || !dest.abortUpload) return null;
  const uploads = await withRetries(() => dest.listUploads!(source));
  if (!uploads) return null;
  const decisions = planUploads(uploads, now);
  const aborted: string[] = [];
  const failed: { id: string; error: string }[] = [];
  for (const d of decisions.filter((x) => x.action === 'abort')) {
    try {
      await withRetries(() => dest.abortUpload!(d.upload));
      aborted.push(d.upload.key);
    } catch (err) {
      if (!(err instanceof RespaldoError)) throw err;
      failed.push({ id: `upload of ${d.upload.key}`, error: err.message });
    }
  }
  return { decisions, aborted, failed };
}

/** The retention a destination applies: its own `retention` field by field over the top-level one. */
export function destinationRetention(cfg: Pick<LoadedConfig, 'retention'>, dc: DestinationConfig): RetentionConfig {
  const own = dc.retention ?? {};
  return { ...cfg.retention, ...own, manual: { ...cfg.retention.manual, ...own.manual } } as RetentionConfig;
}

function age(now: Date, at: string | null): number | null {
  return at === null ? null : now.getTime() - Date.parse(at);
}

/** Pure: what `prune --from` keeps and removes at a destination, each with its reason. */
export function planRemotePrune(
  input: {
    sets: SetSummary[];
    incomplete: IncompleteSet[];
    temps: TempFile[];
    uploads?: PendingUpload[] | null;
    claims?: ClaimFile[];
  },
  policy: RetentionConfig,
  now: Date,
  opts: {
    logJobs?: Readonly<Record<string, string>>;
    timeZone?: string;
    /** The scheduler jobs' zones (retention.ts jobTimeZonesOf): each job's periods are its zone's. */
    jobTimeZones?: Readonly<Record<string, string>>;
    /** Files in a set's folder there that respaldo did not write, by set id: the set is kept (keepForStrays). */
    strays?: ReadonlyMap<string, readonly string[]>;
    destination?: string;
    /** This config's databases: a set holding none of them is another config's, never removed (see below). */
    databases?: readonly string[];
    /** Ids of the sets this server's backup folder holds (one holding none of `databases`: they were taken out). */
    madeHere?: ReadonlySet<string>;
    /**
     * The sets each damaged set there may need (catalog.ts damagedNeedsOf of its manifest's text), by its id: kept
     * with their chains (keepForDamaged), as local prune keeps them.
     */
    damagedNeeds?: ReadonlyMap<string, readonly string[]>;
  } = {},
): RemotePrunePlan {
  const byId = new Map(input.sets.map((s) => [s.id, s]));
  // A set holding none of this config's databases is another config's under the same source (two applications on one
  // server share the host name): this config's retention neither counts it nor removes it.
  const own = opts.databases ? new Set(opts.databases) : null;
  const foreign = (x: SetSummary): string[] | null => {
    const held = [...x.databases, ...x.failedDatabases];
    return own && held.length && !held.some((d) => own.has(d)) ? held : null;
  };
  const mine = input.sets.filter((x) => !foreign(x));
  const planned = keepForStrays(
    keepForDamaged(
      planPrune(mine, policy, now, {
        ...(opts.timeZone ? { timeZone: opts.timeZone } : {}),
        ...(opts.jobTimeZones ? { jobTimeZones: opts.jobTimeZones } : {}),
        ...(opts.logJobs ? { logJobs: opts.logJobs } : {}),
      }),
      input.sets,
      opts.damagedNeeds ?? new Map(),
    ),
    mine,
    opts.strays ?? new Map(),
    opts.destination ? { destination: opts.destination } : {},
  );
  const decided = new Map(planned.map((d) => [d.id, d]));
  const newestFirst = [...input.sets].sort(
    (a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );
  const decisions = newestFirst.map(
    (x): PruneDecision =>
      decided.get(x.id) ?? {
        id: x.id,
        action: 'keep',
        reasons: [
          // Said for each such set, kept: a database taken out of the config leaves its sets there until deleted.
          `holds none of this config's databases (${someNames(foreign(x)!)}): ` +
            (opts.madeHere?.has(x.id)
              ? `its database(s) were taken out of this config (this server's backup folder holds the set). `
              : `another config's under the same source, or databases taken out of this config? `) +
            `Never removed by this one's retention (\`respaldo delete ${x.id} --from ${opts.destination ?? 'NAME'}\` removes it)`,
        ],
      },
  );
  // As here: a set dated ahead of the clock would count as the newest there and push out the real ones.
  const refusal = pruneRefusal(mine, null, now);
  const refused = refusal ? phrase('prune.refused', nestedPhrase(refusal.said)) : null;
  const refusedHint =
    refusal?.hint && refusal.newest
      ? phrase('prune.aheadOfClockThereHint', { set: refusal.newest.id, dest: opts.destination ?? 'NAME' })
      : null;
  const incomplete = input.incomplete.map((set) => {
    const a = age(now, set.lastWriteAt);
    const written = a === null ? 'written at an unknown time' : `last written ${formatAge(Math.max(0, a))} ago`;
    if (set.strays?.length)
      return {
        set,
        action: 'keep' as const,
        reason:
          `incomplete (no manifest), but its folder also holds ${set.strays.length} file(s) respaldo did not write ` +
          `(${someNames(set.strays.map(printedName))}): ` +
          (opts.destination
            ? `move them out of it at "${opts.destination}"; the next \`respaldo prune --from ${opts.destination}\` removes it`
            : 'move them out of it; the next `respaldo prune --from` removes it'),
      };
    if (a === null || a < LEFTOVER_AGE_MS)
      return { set, action: 'keep' as const, reason: `incomplete (no manifest), ${written}: a copy may be running` };
    if (set.copyWillComplete)
      return { set, action: 'keep' as const, reason: `incomplete (no manifest): \`respaldo copy\` completes it` };
    return { set, action: 'remove' as const, reason: `incomplete (no manifest), ${written}: left by a copy cut short` };
  });
  const temps = input.temps.map((file) => {
    const a = age(now, file.modifiedAt);
    if (a === null || a < LEFTOVER_AGE_MS)
      return { file, action: 'keep' as const, reason: 'temporary file of a copy that may be running' };
    return {
      file,
      action: 'remove' as const,
      reason: `temporary file not written for ${formatAge(a)}: left by a killed run`,
    };
  });
  const removedSets = new Set(decisions.filter((d) => d.action === 'remove').map((d) => d.id));
  const removedIncomplete = new Set(incomplete.filter((x) => x.action === 'remove').map((x) => x.set.id));
  const claims = (input.claims ?? []).map((claim) => {
    const a = age(now, claim.modifiedAt);
    const old = a !== null && a >= LEFTOVER_AGE_MS;
    const written = a === null ? 'written at an unknown time' : `written ${formatAge(Math.max(0, a))} ago`;
    const keep = (reason: string) => ({ claim, action: 'keep' as const, reason });
    const remove = (reason: string) => ({ claim, action: 'remove' as const, reason });
    if (removedSets.has(claim.id)) return remove(`claim on set ${claim.id}, removed here`);
    if (removedIncomplete.has(claim.id))
      return old
        ? remove(`claim on set ${claim.id}, incomplete and removed here, ${written}`)
        : keep(`claim on set ${claim.id}, ${written}: a copy may be starting`);
    if (claim.setComplete && old)
      return remove(`claim on set ${claim.id}, ${written}: the set is there complete, its copy done`);
    if (claim.setThere) return keep(`claim on set ${claim.id}, there`);
    return old
      ? remove(`claim on set ${claim.id}, ${written}, nothing of it there: left by a copy cut short`)
      : keep(`claim on set ${claim.id}, ${written}: a copy may be starting`);
  });
  return {
    refused: refused ? english(refused) : null,
    ...(refused ? { refusedPhrase: refused } : {}),
    ...(refusedHint ? { refusedHint: english(refusedHint), refusedHintPhrase: refusedHint } : {}),
    sets: decisions.map((decision) => {
      const set = byId.get(decision.id)!;
      return { set, decision, job: jobOf(set, opts.logJobs) };
    }),
    incomplete,
    temps,
    claims,
    uploads: input.uploads ? planUploads(input.uploads, now) : null,
  };
}

/** What `pruneRemote` did. */
export interface RemotePruneResult extends RemotePrunePlan {
  destination: string;
  where: string;
  source: string;
  dryRun: boolean;
  retention: RetentionConfig;
  removed: string[];
  removedTemps: string[];
  /** Keys of the claims removed. */
  removedClaims: string[];
  /** Keys of the unfinished uploads aborted. */
  abortedUploads: string[];
  failed: { id: string; error: string }[];
  /** Sets whose manifest fails its checks: kept, not counted by the retention (`prune --from` exits 5). */
  damaged: RemoteDamagedSet[];
}

/** Temporary files below `dir` (a key) not written for LEFTOVER_AGE_MS, as `listFiles` returned them. */
export function oldTemps(files: RemoteFile[], now: Date): RemoteFile[] {
  return files.filter((f) => f.temp && f.modifiedAt && now.getTime() - Date.parse(f.modifiedAt) >= LEFTOVER_AGE_MS);
}

/**
 * Removes every file of set folder `dir`: its manifest first, so it is no longer listed, then the others 8 at once
 * (a round trip each to a distant destination), then its folders. Where there are folders, one file (the least deep)
 * goes only once the others' folders are removed: a run cut while they are (a walk of the whole tree) leaves that
 * file, an unfinished set that `prune --from` and `delete ID --from` see and remove, not empty folders that no listing
 * shows and that stayed there for good.
 */
export async function removeSetFolder(dest: Destination, dir: string, files: RemoteFile[]): Promise<void> {
  const manifest = files.filter((f) => f.path === MANIFEST_NAME);
  const rest = files.filter((f) => f.path !== MANIFEST_NAME);
  const depth = (f: RemoteFile): number => f.path.split('/').length;
  const last = dest.removeEmptyDirs
    ? rest.reduce<RemoteFile | undefined>((a, f) => (a && depth(a) <= depth(f) ? a : f), undefined)
    : undefined;
  for (const f of manifest) await withRetries(() => dest.delete(`${dir}/${f.path}`));
  await mapLimited(
    rest.filter((f) => f !== last),
    8,
    (f) => withRetries(() => dest.delete(`${dir}/${f.path}`)),
  );
  if (last) {
    await dest.removeEmptyDirs?.(dir);
    await withRetries(() => dest.delete(`${dir}/${last.path}`));
  }
  await dest.removeEmptyDirs?.(dir);
}

/** Records in the local set's copies.json that the set was pruned at `name` (so `copy` does not send it again). */
export async function markPruned(cfg: LoadedConfig, id: string, name: string, at: string): Promise<void> {
  const dir = join(cfg.backupDir, id);
  if (!existsSync(join(dir, MANIFEST_NAME))) return;
  const marks = readCopies(dir);
  const mark = marks[name] ?? { ok: true, at, where: '' };
  await writeFileAtomic(
    join(dir, COPIES_NAME),
    JSON.stringify({ ...marks, [name]: { ...mark, prunedAt: at } }, null, 2) + '\n',
  );
}

/**
 * Applies retention at destination `name` to this server's sets there and removes old leftovers
 * (see the file comment). Reads every manifest first: a bad one makes its set damaged (kept, not
 * counted, named in `damaged`). A real prune refuses (RefusedError) when the newest set there is not
 * completed; a dry run reports it. A set that cannot be removed is reported in `failed`.
 */
export async function pruneRemote(
  cfg: LoadedConfig,
  name: string,
  opts: { dryRun?: boolean; now?: Date; timeZone?: string },
  reporter: Reporter,
): Promise<RemotePruneResult> {
  const dc = destinationConfig(cfg, name);
  const dryRun = opts.dryRun === true;
  const now = opts.now ?? new Date();
  const retention = destinationRetention(cfg, dc);
  return withDestination(cfg, name, async (dest, source) => {
    const t0 = Date.now();
    const complete = new Set((await withRetries(() => dest.listSets(source))).map((r) => r.id));
    const filesBySet = new Map<string, RemoteFile[]>();
    const claimFiles: RemoteFile[] = [];
    for (const f of await withRetries(() => heldAcross(() => dest.listFiles(source, { temps: true })))) {
      const slash = f.path.indexOf('/');
      const id = f.path.slice(0, slash);
      if (id === CLAIMS_DIR && !f.temp) claimFiles.push({ ...f, path: f.path.slice(slash + 1) });
      if (slash < 0 || !isSetId(id)) continue;
      const list = filesBySet.get(id) ?? [];
      list.push({ ...f, path: f.path.slice(slash + 1) });
      filesBySet.set(id, list);
    }
    const sets: SetSummary[] = [];
    // A set whose manifest fails its checks is kept, named, and left out of the retention: it is neither counted
    // nor removed (what it holds cannot be known; the operator inspects it and removes it by hand).
    // Files someone put in a set's folder there (notes, a copy) are never removed by the retention: the set stays.
    // Found as each manifest is read, its entries gone through and not held (100 000 files: 75 MiB of them).
    const strays = new Map<string, string[]>();
    const { manifests, damaged } = await readRemoteManifests(
      dest,
      [...complete].map((id) => ({ source, id })),
      {
        each: (r, head, files) => {
          const listed = (filesBySet.get(r.id) ?? []).filter((f) => !f.temp).map((f) => f.path);
          const found = notWrittenByRespaldo(listed, head, [], files.entries());
          if (found.length) strays.set(r.id, found);
        },
      },
    );
    for (const d of damaged) strays.delete(d.id);
    for (const d of damaged)
      reporter.emit({
        type: 'warning',
        item: d.id,
        ...said('warn.damagedKept', { set: d.id, dest: name, problem: d.problem }),
      });
    for (const { m, files } of manifests) {
      const id = m.id;
      // Kept here (a `keep` mark beside its files, from any server) or in the local backup folder.
      const keep =
        (filesBySet.get(id) ?? []).some((f) => f.path === KEEP_MARK && !f.temp) ||
        existsSync(join(cfg.backupDir, id, KEEP_MARK));
      // A restore drill of the set here that failed is of the same bytes there: the newest set there whose drill did
      // not fail is kept under it, as here (retention.ts).
      const lastDrill = lastDrillOf(readDrillRecord(join(cfg.backupDir, id)));
      sets.push({
        ...summaryFromManifest(m, `${dest.describe()}/${setKey(source, id)}`, { keep, lastVerified: null }, files),
        ...(lastDrill ? { lastDrill } : {}),
      });
    }
    const incomplete: IncompleteSet[] = [];
    const temps: TempFile[] = [];
    for (const [id, files] of filesBySet) {
      for (const f of files.filter((x) => x.temp))
        temps.push({ key: `${setKey(source, id)}/${f.path}`, bytes: f.size, modifiedAt: f.modifiedAt ?? null });
      if (complete.has(id)) continue;
      const real = files.filter((x) => !x.temp);
      const times = files.map((x) => x.modifiedAt).filter((x): x is string => Boolean(x));
      const local = existsSync(join(cfg.backupDir, id, MANIFEST_NAME));
      const strays = notFromACopy(real.map((x) => x.path));
      incomplete.push({
        id,
        files: real.length,
        bytes: real.reduce((n, x) => n + x.size, 0),
        lastWriteAt: times.length === files.length && times.length ? times.sort().at(-1)! : null,
        copyWillComplete: local && !readCopies(join(cfg.backupDir, id))[name]?.prunedAt,
        ...(strays.length ? { strays } : {}),
      });
    }
    const uploads = dest.listUploads ? await withRetries(() => dest.listUploads!(source)) : null;
    // A damaged set there is kept; repaired (copied there again), it must find its chain: what its manifest's text
    // still names, or when it names nothing, every older set back to the newest full before it (as here, prune.ts).
    const damagedNeeds = new Map<string, string[]>();
    for (const d of damaged) {
      let text = '';
      try {
        text = await readRemoteHead(dest, `${setKey(source, d.id)}/${MANIFEST_NAME}`, DAMAGED_MANIFEST_HEAD_BYTES);
      } catch (err) {
        if (!(err instanceof RespaldoError)) throw err;
        /* unreadable: its chain is unknown, kept as such */
      }
      damagedNeeds.set(d.id, damagedNeedsOf(d.id, text, sets));
    }
    const claims: ClaimFile[] = claimFiles
      .filter((f) => !f.path.includes('/') && isSetId(f.path.slice(0, f.path.lastIndexOf('.'))))
      .map((f) => {
        const id = f.path.slice(0, f.path.lastIndexOf('.'));
        return {
          key: `${source}/${CLAIMS_DIR}/${f.path}`,
          id,
          modifiedAt: f.modifiedAt ?? null,
          setThere: complete.has(id) || filesBySet.has(id),
          setComplete: sets.some((x) => x.id === id),
        };
      });
    const plan = planRemotePrune({ sets, incomplete, temps, uploads, claims }, retention, now, {
      damagedNeeds,
      logJobs: jobsFromLog(cfg.backupDir, sets),
      jobTimeZones: jobTimeZonesOf(cfg.schedule.jobs),
      strays,
      destination: name,
      databases: cfg.databases.map((d) => d.name),
      madeHere: new Set(sets.filter((x) => existsSync(join(cfg.backupDir, x.id, MANIFEST_NAME))).map((x) => x.id)),
      ...(opts.timeZone ? { timeZone: opts.timeZone } : {}),
    });
    const result: RemotePruneResult = {
      ...plan,
      destination: name,
      where: `${dest.describe()}/${source}`,
      source,
      dryRun,
      retention,
      removed: [],
      removedTemps: [],
      removedClaims: [],
      abortedUploads: [],
      failed: [],
      damaged,
    };
    if (plan.refused && !dryRun) {
      writeLog(
        cfg.backupDir,
        'prune-remote',
        { destination: name, outcome: 'refused', reason: plan.refused },
        cfg.secrets,
      );
      const message = phrase('prune.refusedAt', { dest: name, ...nestedPhrase(plan.refusedPhrase) });
      const hint = plan.refusedHintPhrase ?? phrase('prune.refusedThereHint');
      throw new RefusedError(english(message), english(hint)).withPhrases(message, hint);
    }
    if (!dryRun) {
      const at = now.toISOString();
      const remove = async (id: string, work: () => Promise<void>) => {
        try {
          await work();
          result.removed.push(id);
        } catch (err) {
          result.failed.push({ id, error: errorMessage(err) });
          reporter.emit({
            type: 'warning',
            item: id,
            ...said('warn.notRemovedAt', { set: id, dest: name, error: errorMessage(err) }),
          });
        }
      };
      for (const t of plan.temps.filter((x) => x.action === 'remove')) {
        try {
          await withRetries(() => dest.delete(t.file.key));
          result.removedTemps.push(t.file.key);
        } catch (err) {
          result.failed.push({ id: t.file.key, error: errorMessage(err) });
        }
      }
      for (const u of (plan.uploads ?? []).filter((x) => x.action === 'abort')) {
        try {
          await withRetries(() => dest.abortUpload!(u.upload));
          result.abortedUploads.push(u.upload.key);
        } catch (err) {
          if (!(err instanceof RespaldoError)) throw err;
          result.failed.push({ id: `upload of ${u.upload.key}`, error: err.message });
        }
      }
      const removing = new Set([
        ...plan.sets.filter((x) => x.decision.action === 'remove').map((x) => x.set.id),
        ...plan.incomplete.filter((x) => x.action === 'remove').map((x) => x.set.id),
      ]);
      const removeClaims = async (ids: readonly string[]) => {
        for (const c of plan.claims.filter((x) => x.action === 'remove' && ids.includes(x.claim.id)))
          await withRetries(() => dest.delete(c.claim.key)).then(() => result.removedClaims.push(c.claim.key));
      };
      for (const p of plan.sets.filter((x) => x.decision.action === 'remove')) {
        await remove(p.set.id, async () => {
          await removeClaims([p.set.id]); // while its manifest is there: no copy of that id is sending
          await removeSetFolder(dest, setKey(source, p.set.id), filesBySet.get(p.set.id) ?? []);
          await markPruned(cfg, p.set.id, name, at);
        });
      }
      for (const p of plan.incomplete.filter((x) => x.action === 'remove')) {
        await remove(p.set.id, async () => {
          await removeClaims([p.set.id]);
          await removeSetFolder(dest, setKey(source, p.set.id), filesBySet.get(p.set.id) ?? []);
        });
      }
      const orphans = plan.claims.filter(
        (x) => x.action === 'remove' && !result.removedClaims.includes(x.claim.key) && !removing.has(x.claim.id),
      );
      for (const c of orphans) {
        try {
          await withRetries(() => dest.delete(c.claim.key));
          result.removedClaims.push(c.claim.key);
        } catch (err) {
          if (!(err instanceof RespaldoError)) throw err;
          result.failed.push({ id: c.claim.key, error: err.message });
        }
      }
      await removeEmptyClaims(dest, source);
    }
    writeLog(
      cfg.backupDir,
      'prune-remote',
      {
        destination: name,
        outcome: dryRun ? 'dry-run' : result.failed.length ? 'failed' : 'ok',
        removed: result.removed,
        removedTemps: result.removedTemps.length,
        removedClaims: result.removedClaims.length,
        abortedUploads: result.abortedUploads.length,
        failed: result.failed,
        durationMs: Date.now() - t0,
        ranBy: ranBy(),
      },
      cfg.secrets,
    );
    return result;
  });
}

/** What the retention after a scheduled backup did at one destination. */
export interface DestinationRetentionOutcome {
  destination: string;
  /** `pruned`; `skipped`: nothing done there, and why (`reason`); `failed`: `error` says why. */
  outcome: 'pruned' | 'skipped' | 'failed';
  removed: string[];
  kept: number;
  reason?: string;
  error?: string;
  /** `error` as a phrase, when it has one (the menu says it in its language). */
  errorPhrase?: Phrase;
}

/**
 * The scheduler's retention at the destinations, after a successful backup (`setId`): `pruneRemote`
 * at each destination with `copyAfterBackup` (those its backups are copied to). A destination the new
 * set is not copied to (`copies.json` says so) is skipped: nothing is pruned there after a failure.
 * `pruneRemote` itself never removes the newest completed set of a database and refuses when the
 * newest set there is not completed. Never throws for one destination: each outcome is returned.
 */
export async function pruneDestinationsAfterBackup(
  cfg: LoadedConfig,
  setId: string | null,
  reporter: Reporter,
  opts: { now?: Date } = {},
): Promise<DestinationRetentionOutcome[]> {
  const out: DestinationRetentionOutcome[] = [];
  for (const dc of (cfg.destinations ?? []).filter((d) => d.copyAfterBackup !== false)) {
    const base = { destination: dc.name, removed: [] as string[], kept: 0 };
    const mark = setId ? readCopies(join(cfg.backupDir, setId))[dc.name] : undefined;
    if (!setId || mark?.ok !== true) {
      const why = mark?.error ? `: ${mark.error}` : '';
      out.push({ ...base, outcome: 'skipped', reason: `set ${setId ?? '?'} is not copied there${why}` });
      continue;
    }
    try {
      const r = await pruneRemote(cfg, dc.name, { ...(opts.now ? { now: opts.now } : {}) }, reporter);
      const kept = r.sets.filter((x) => x.decision.action === 'keep').length;
      if (r.failed.length)
        out.push({
          ...base,
          outcome: 'failed',
          removed: r.removed,
          kept,
          error: r.failed.map((f) => `${f.id} (${f.error})`).join(', '),
        });
      else out.push({ ...base, outcome: 'pruned', removed: r.removed, kept });
    } catch (err) {
      if (!(err instanceof RespaldoError)) throw err;
      const errorPhrase = err.phrases?.aftermath ? undefined : err.phrases?.message;
      out.push({ ...base, outcome: 'failed', error: err.message, ...(errorPhrase ? { errorPhrase } : {}) });
    }
  }
  return out;
}
