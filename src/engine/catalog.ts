import { english, phrase, PHRASES_EN, type Phrase } from '../core/phrases.js';
import { existsSync, promises as fsp, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError, RefusedError, RespaldoError, UsageError, VerifyError, errorMessage } from '../core/errors.js';
import type {
  DrillRecord,
  DrillResult,
  ErrorPhrases,
  LoadedConfig,
  Manifest,
  SetSummary,
  SetType,
} from '../core/types.js';
import { removeTree, writeFileAtomic } from './fs-util.js';
import { withLock } from './lock.js';
import { writeLog } from './log.js';
import { heldFiles, readManifestFile, readManifestLean, type ManifestFiles } from './manifest.js';
import { ranBy } from '../core/who.js';
import { isSetId } from './set-id.js';

/**
 * The sets in the backup folder as the commands see them: listing and summarizing them, choosing `latest`, the
 * marks beside each set (verified, drilled, keep) and deleting one (never a base that later sets need). Why one
 * file of about 650 lines: every reader and writer of a set's folder and its marks is here, so what `list` shows and
 * what `delete` or a drill writes agree on the same names.
 */

export const KEEP_MARK = 'keep';
export const VERIFIED_NAME = 'verified.json';
/** Drill outcomes beside a set (see recordDrilled). */
export const DRILLED_NAME = 'drilled.json';
/** Names the journals of swap backs in flight (`.swapback-<set id>.json`; restore-safety-sets.ts writes them). */
export const SWAP_JOURNAL_PREFIX = '.swapback-';

export function setDir(cfg: Pick<LoadedConfig, 'backupDir'>, id: string): string {
  if (!isSetId(id))
    throw new UsageError(
      `"${id}" is not a backup set id (YYYYMMDD_HHMMSS).`,
      'Run `respaldo list` to see the set ids.',
    );
  return join(cfg.backupDir, id);
}

/** Pure: what `list` shows of a set, from its manifest and the marks beside it. */
export function summaryFromManifest(
  m: Manifest,
  dir: string,
  marks: { keep: boolean; lastVerified: SetSummary['lastVerified'] },
  files: Pick<ManifestFiles, 'count' | 'groups'> = heldFiles(m.files),
): SetSummary {
  const needs = [...new Set(m.databases.flatMap((d) => (d.base && !d.error ? [d.base] : [])))].sort();
  const fileGroups = (['config', 'application'] as const).filter((g) => files.groups.has(g));
  return {
    id: m.id,
    type: m.type,
    status: m.status,
    description: m.description,
    startedAt: m.startedAt,
    completedAt: m.completedAt,
    databases: m.databases.filter((d) => !d.error).map((d) => d.name),
    failedDatabases: m.databases.filter((d) => d.error).map((d) => d.name),
    files: files.count,
    ...(fileGroups.length ? { fileGroups } : {}),
    storedBytes: m.totals.storedBytes,
    job: m.job,
    keep: marks.keep,
    lastVerified: marks.lastVerified,
    path: dir,
    ...(needs.length ? { needs } : {}),
  };
}

function summarize(m: Manifest, dir: string, files: ManifestFiles): SetSummary {
  // Written by respaldo; one edited or damaged by hand is taken as no verification, never as a crash of `list`.
  const v = readVerified(dir);
  const lastVerified: SetSummary['lastVerified'] = v
    ? { at: v.at, ok: v.ok, ...(!v.ok && v.damaged ? { damaged: v.damaged } : {}) }
    : null;
  const summary = summaryFromManifest(m, dir, { keep: existsSync(join(dir, KEEP_MARK)), lastVerified }, files);
  return { ...summary, lastDrill: lastDrillOf(readDrillRecord(dir)) };
}

/** Published sets only (a folder named like a set id with a readable manifest), newest first. */
export async function listSets(
  cfg: Pick<LoadedConfig, 'backupDir'>,
  filter: { database?: string; type?: SetType } = {},
): Promise<SetSummary[]> {
  if (!existsSync(cfg.backupDir)) return [];
  const out: SetSummary[] = [];
  for (const name of readdirSync(cfg.backupDir)) {
    if (!isSetId(name)) continue;
    const dir = join(cfg.backupDir, name);
    try {
      if (!statSync(dir).isDirectory()) continue;
      // Its files counted as they are read, none kept (a set of 100 000 files held about 40 MiB of them).
      // Only looked at (its summary is made of it): the head kept, not a copy.
      const { head, files } = readManifestLean(dir, { shared: true });
      if (head.id !== name) continue;
      out.push(summarize(head, dir, files));
    } catch {
      continue;
    }
  }
  return out
    .filter(
      (s) => !filter.database || s.databases.includes(filter.database) || s.failedDatabases.includes(filter.database),
    )
    .filter((s) => !filter.type || s.type === filter.type)
    .sort((a, b) => (a.startedAt === b.startedAt ? (a.id < b.id ? 1 : -1) : a.startedAt < b.startedAt ? 1 : -1));
}

/** Where the sets are looked for: the backup folder, and the destinations a hint names when it holds none. */
type SetsAt = Pick<LoadedConfig, 'backupDir' | 'destinations'>;

/**
 * The hint when this server's backup folder holds no set: create one, or check the config; with destinations, that
 * their copies are listed and restored (or drilled) from there, which on a new server after the old one was lost
 * is what the operator wants.
 */
export function noSetsHint(cfg: SetsAt, command: 'restore' | 'drill' | 'show' = 'restore'): string {
  const at = cfg.destinations?.[0]?.name;
  if (!at) return 'Run `respaldo create` first, or check --config / backupDir.';
  const from = command === 'show' ? '' : `; \`respaldo ${command} latest --from ${at} …\` ${command}s from there`;
  return (
    `This server holds no set. Its copies may be at a destination: \`respaldo list --from ${at}\` lists them${from}. ` +
    'Otherwise run `respaldo create` first, or check --config / backupDir.'
  );
}

/** The hint when set `id` is not in the backup folder: with destinations, that it may be at one. */
function notHereHint(cfg: SetsAt, id: string): string | undefined {
  const at = cfg.destinations?.[0]?.name;
  if (!at) return undefined;
  return `Run \`respaldo list\` to see the sets here; set ${id} may be at a destination: \`respaldo list --from ${at}\` lists them, \`respaldo restore ${id} --from ${at} …\` restores from there.`;
}

/** The newest completed set holding all the given databases (any when none given). */
export async function latestSetId(cfg: SetsAt, databases: string[] = []): Promise<string> {
  const sets = await listSets(cfg);
  // A schema-only set holds no rows: `latest` never means it (restored, it would empty the tables).
  const found = sets.find(
    (s) =>
      s.type !== 'pre_restore' &&
      s.type !== 'schema' &&
      s.status !== 'failed' &&
      databases.every((d) => s.databases.includes(d)),
  );
  if (found) return found.id;
  const note = await damagedNote(cfg);
  const none = note ? 'There are no usable backup sets.' : 'There are no backup sets yet.';
  throw new NotFoundError(
    (databases.length ? `No backup set holds ${databases.join(', ')}.` : none) + note,
    note
      ? DAMAGED_HINT
      : // Sets here, none holding those databases: the destinations are not what is missing.
        noSetsHint(
          sets.some((s) => s.type !== 'pre_restore' && s.status !== 'failed') ? { backupDir: cfg.backupDir } : cfg,
          'show',
        ),
  );
}

/** A folder named like a set whose manifest fails its checks (unreadable, tampered paths). */
export interface DamagedSet {
  id: string;
  path: string;
  problem: string;
}

/**
 * Sets `listSets` leaves out because their manifest exists but fails readManifestFile: shown by
 * `list` and checked by `verify --all` as damaged, never restored or pruned. Oldest first.
 */
export async function listDamagedSets(cfg: Pick<LoadedConfig, 'backupDir'>): Promise<DamagedSet[]> {
  if (!existsSync(cfg.backupDir)) return [];
  const out: DamagedSet[] = [];
  for (const name of readdirSync(cfg.backupDir).filter(isSetId).sort()) {
    const dir = join(cfg.backupDir, name);
    const lost = lostManifest(dir);
    if (lost) {
      out.push({ id: name, path: dir, problem: lost });
      continue;
    }
    try {
      const m = readManifestLean(dir, { shared: true }).head; // its id alone is read
      // A folder copied or renamed by hand: `list` leaves it out (restore refuses it), so it is said here.
      if (m.id !== name)
        out.push({
          id: name,
          path: dir,
          problem: `it holds the manifest of set ${m.id} (folder and manifest disagree)`,
        });
    } catch (err) {
      if (err instanceof VerifyError) out.push({ id: name, path: dir, problem: err.message });
    }
  }
  return out;
}

/**
 * Why `dir`, named like a set in the backup folder, is no set at all, or null when it holds a manifest. A set is
 * published by renaming its finished folder, manifest inside, so a set folder without one lost it (a damaged disk,
 * a file removed by hand): `list` and `verify --all` said nothing of it, and `latest` said there were no sets yet.
 */
function lostManifest(dir: string): string | null {
  let st;
  try {
    st = statSync(dir);
  } catch {
    return null;
  }
  if (!st.isDirectory()) return `${dir} is a file, not a set folder`;
  if (existsSync(join(dir, 'manifest.json'))) return null;
  return `${dir} has no manifest.json (the list of its stored files and their hashes is gone)`;
}

/**
 * What `latest` adds when no set answers it and some sets are damaged: without it the operator read "no backup
 * sets yet" beside a backup folder full of them. Empty when none is damaged.
 */
async function damagedNote(cfg: Pick<LoadedConfig, 'backupDir'>): Promise<string> {
  const damaged = await listDamagedSets(cfg);
  const newest = damaged[damaged.length - 1];
  if (!newest) return '';
  return (
    ` ${damaged.length} set(s) here are damaged and passed over (the newest, ${newest.id}: ${newest.problem}); ` +
    '`respaldo list` names them.'
  );
}

/** The hint of a `latest` that found only damaged sets. */
const DAMAGED_HINT =
  'Inspect the damaged sets (`respaldo list`; do not restore from them), restore from a copy at a destination ' +
  '(`respaldo list --from NAME`) if there is one, and run `respaldo create` for a new set.';

/** What a restore asks of `latest`: these databases stored without error, and files when `files`. */
export interface LatestWant {
  databases: readonly string[];
  files: boolean;
}

/** How the set of a restore was chosen, for the plan (CLI and menu say it before the plan). */
export interface SetSelection {
  /** What the operator named: a set id, or `latest`. */
  asked: string;
  setId: string;
  /** Databases the set holds (stored without error), those that failed in it, and its file count. */
  holds: { databases: string[]; failedDatabases: string[]; files: number };
  /**
   * For `latest`: newer sets passed over (newest first), each with what it lacks; `paths` when what it lacks is
   * stored paths a `restore --files --path` asked for (`lacks` names them).
   */
  skipped: { id: string; lacks: string[]; paths?: boolean }[];
}

/** What a set lacks of `want` (database names, and `files`); empty when it holds everything. */
export function lacksOf(s: SetSummary, want: LatestWant): string[] {
  const lacks: string[] = want.databases.filter((d) => !s.databases.includes(d));
  if (want.files && s.files === 0) lacks.push('files');
  return lacks;
}

/**
 * Pure: `latest` for a restore is the newest completed set (not a safety copy, not failed) that
 * holds every database asked for, stored without error, and files when asked. `sets` newest first.
 * A schema-only set is passed over, said (restored, it would leave the tables empty; named by its id it
 * restores). Null when no set holds it all.
 */
export function chooseLatest(
  sets: readonly SetSummary[],
  want: LatestWant,
): { chosen: SetSummary; skipped: SetSelection['skipped'] } | null {
  const skipped: SetSelection['skipped'] = [];
  for (const s of sets) {
    if (s.type === 'pre_restore' || s.status === 'failed') continue;
    if (s.type === 'schema') {
      skipped.push({ id: s.id, lacks: ['the data (a schema-only set)'] });
      continue;
    }
    const lacks = lacksOf(s, want);
    if (!lacks.length) return { chosen: s, skipped };
    skipped.push({ id: s.id, lacks });
  }
  return null;
}

/**
 * The set `latest` means for a restore (see chooseLatest), or for a drill (`command`). When none holds everything,
 * a NotFoundError names, per database asked for (and for files), the newest set that holds it, and says to run that
 * command on those sets.
 */
export async function selectLatest(
  cfg: SetsAt,
  want: LatestWant,
  command: 'restore' | 'drill' = 'restore',
): Promise<SetSelection> {
  const sets = await listSets(cfg);
  const found = chooseLatest(sets, want);
  if (found) {
    const { chosen } = found;
    const newer = (await listDamagedSets(cfg)).filter((d) => d.id > chosen.id);
    const damaged = newer.map((d) => ({ id: d.id, lacks: ['an intact manifest'] }));
    const skipped = [...found.skipped, ...damaged].sort((a, b) => (a.id < b.id ? 1 : -1));
    const holds = { databases: chosen.databases, failedDatabases: chosen.failedDatabases, files: chosen.files };
    return { asked: 'latest', setId: chosen.id, holds, skipped };
  }
  const usable = sets.filter((s) => s.type !== 'pre_restore' && s.type !== 'schema' && s.status !== 'failed');
  const schema = sets.find((s) => s.type === 'schema' && s.status !== 'failed');
  if (!usable.length && schema)
    throw new NotFoundError(
      `There are only schema-only sets (the newest: ${schema.id}): \`latest\` never means one, its tables would be restored empty.`,
      command === 'drill'
        ? 'Run `respaldo create` for a backup with the data: a drill of a schema-only set would check no rows.'
        : `Run \`respaldo create\` for a backup with the data, or name the set to restore the schema alone (respaldo restore ${schema.id} …).`,
    );
  const note = await damagedNote(cfg);
  if (!usable.length && note) throw new NotFoundError(`There are no usable backup sets.${note}`, DAMAGED_HINT);
  if (!usable.length) throw new NotFoundError('There are no backup sets yet.', noSetsHint(cfg, command));
  const newest = (one: LatestWant) => usable.find((s) => !lacksOf(s, one).length)?.id ?? 'none';
  const per = want.databases.map((d) => `${d}: ${newest({ databases: [d], files: false })}`);
  if (want.files) per.push(`files: ${newest({ databases: [], files: true })}`);
  const asked = [...want.databases, ...(want.files ? ['files'] : [])].join(', ');
  throw new NotFoundError(
    `No backup set holds everything asked for (${asked}). Newest set holding each: ${per.join('; ')}.${note}`,
    (command === 'drill'
      ? 'Drill those sets one at a time (respaldo drill <id> --db NAME' + (want.files ? ', or --files' : '') + '), '
      : 'Restore from those sets one at a time (respaldo restore <id> --db NAME), ') +
      'name fewer with --db, or run `respaldo create` to make a set that holds them all.',
  );
}

/** Reads a published set's manifest; `latest` means the newest completed set. */
export async function readManifest(cfg: Pick<LoadedConfig, 'backupDir'>, id: string): Promise<Manifest> {
  return readManifestWith(cfg, id, readManifestFile);
}

/**
 * readManifest with the entries of its `files` not held (manifest.ts readManifestLean): `head.files` is empty unless
 * the manifest was read whole; `files` goes through them. `shared`: as readManifestLean's (a head only looked at).
 */
export async function readManifestLeanOf(
  cfg: Pick<LoadedConfig, 'backupDir'>,
  id: string,
  opts: { shared?: boolean } = {},
): Promise<{ head: Manifest; files: ManifestFiles }> {
  let files: ManifestFiles | undefined;
  const head = await readManifestWith(cfg, id, (dir) => {
    const read = readManifestLean(dir, opts);
    files = read.files;
    return read.head;
  });
  return { head, files: files! };
}

/**
 * A published set's manifest but for its `files` (empty unless the manifest was read whole): what most callers need (a
 * database's entry, the set's id, type, warnings). The manifest of a set of 100 000 files read whole held 40 MiB of
 * entries and took half a second: `status` read every set's so. `shared`: as readManifestLean's (only looked at).
 */
export async function readManifestHead(
  cfg: Pick<LoadedConfig, 'backupDir'>,
  id: string,
  opts: { shared?: boolean } = {},
): Promise<Manifest> {
  return (await readManifestLeanOf(cfg, id, opts)).head;
}

async function readManifestWith(cfg: SetsAt, id: string, read: (dir: string) => Manifest): Promise<Manifest> {
  const realId = id === 'latest' ? await latestSetId(cfg) : id;
  const dir = setDir(cfg, realId);
  const lost = lostManifest(dir);
  if (lost) throw new VerifyError(`Set ${realId} is damaged: ${lost}.`);
  if (!existsSync(join(dir, 'manifest.json')))
    throw new NotFoundError(`No backup set ${realId} in ${cfg.backupDir}.`, notHereHint(cfg, realId));
  const m = read(dir);
  // A folder copied or renamed by hand: acting on the manifest's id would touch another set.
  if (m.id !== realId)
    throw new VerifyError(
      `Folder ${dir} holds the manifest of set ${m.id}, not ${realId}.`,
      `Rename the folder back to ${m.id} (or remove the copy); respaldo will not act on a set whose folder and manifest disagree.`,
    );
  return m;
}

/** Reads `drilled.json` of the set folder `dir`; null when the set was never drilled (or the record is unreadable). */
export function readDrillRecord(dir: string): DrillRecord | null {
  let r: { setId?: unknown; results?: unknown } | null;
  try {
    r = JSON.parse(readFileSync(join(dir, DRILLED_NAME), 'utf8')) as typeof r;
  } catch {
    return null;
  }
  if (!r || typeof r.results !== 'object' || r.results === null) return null;
  // Written by respaldo; a result edited or damaged by hand (`"ok": "yes"`, a number for a time) is left out rather
  // than crash `list` and `show` on the day they are needed.
  const results: DrillRecord['results'] = {};
  for (const [name, x] of Object.entries(r.results as Record<string, Partial<DrillResult> | null>)) {
    if (!x || typeof x.ok !== 'boolean' || !isTime(x.at)) continue;
    const { error, hint } = x;
    results[name] = {
      database: typeof x.database === 'string' ? x.database : name,
      engine: typeof x.engine === 'string' ? x.engine : null,
      ok: x.ok,
      at: x.at,
      durationMs: typeof x.durationMs === 'number' && Number.isFinite(x.durationMs) ? x.durationMs : 0,
      scratch: typeof x.scratch === 'string' ? x.scratch : '',
      checks: Array.isArray(x.checks) ? x.checks.filter((c) => c && typeof c.name === 'string') : [],
      ...(typeof error === 'string' ? { error } : {}),
      ...(typeof hint === 'string' ? { hint } : {}),
      ...(typeof x.from === 'string' ? { from: x.from } : {}),
      ...errorPhrases(x.phrases),
    };
  }
  return { setId: typeof r.setId === 'string' ? r.setId : '', results };
}

/**
 * The phrases of a drill's error as respaldo wrote them (its message, hint and aftermath), those edited by hand left
 * out: the menu says the hint in its language too, not only the error.
 */
function errorPhrases(p: ErrorPhrases | undefined): { phrases?: ErrorPhrases } {
  const message = readPhrase(p?.message);
  const hint = readPhrase(p?.hint);
  const aftermath = Array.isArray(p?.aftermath) ? p.aftermath.map(readPhrase) : [];
  const phrases: ErrorPhrases = {
    ...(message ? { message } : {}),
    ...(hint ? { hint } : {}),
    ...(aftermath.length && aftermath.every(Boolean) ? { aftermath: aftermath as Phrase[] } : {}),
  };
  return Object.keys(phrases).length ? { phrases } : {};
}

/** A phrase as respaldo writes one (a known id, text parameters), else undefined: one edited by hand is left out. */
function readPhrase(p: unknown): Phrase | undefined {
  const x = p as { id?: unknown; params?: unknown } | null | undefined;
  if (!x || typeof x.id !== 'string' || !Object.hasOwn(PHRASES_EN, x.id)) return undefined;
  if (!x.params || typeof x.params !== 'object' || Array.isArray(x.params)) return undefined;
  if (!Object.values(x.params).every((v) => typeof v === 'string')) return undefined;
  return { id: x.id as Phrase['id'], params: x.params as Phrase['params'] };
}

/** A time as respaldo writes one (ISO 8601) that parses. */
function isTime(v: unknown): v is string {
  return typeof v === 'string' && !Number.isNaN(Date.parse(v));
}

/** Pure: a set's newest drill as `list` and the menu show it: the newest time, all passed, which failed. */
export function lastDrillOf(r: DrillRecord | null): SetSummary['lastDrill'] {
  const results = Object.values(r?.results ?? {});
  if (!results.length) return null;
  const at = results
    .map((x) => x.at)
    .sort()
    .at(-1)!;
  const failed = results.filter((x) => !x.ok).map((x) => x.database);
  return { at, ok: !failed.length, failed };
}

/** Records drill results beside the set, merged over the previous ones (each database keeps its newest). */
export async function recordDrilled(
  cfg: Pick<LoadedConfig, 'backupDir'>,
  id: string,
  results: DrillResult[],
): Promise<void> {
  const dir = setDir(cfg, id);
  const previous = readDrillRecord(dir)?.results ?? {};
  const merged: DrillRecord = { setId: id, results: { ...previous } };
  for (const r of results) merged.results[r.database] = r;
  await writeFileAtomic(join(dir, DRILLED_NAME), JSON.stringify(merged, null, 2) + '\n');
}

/**
 * A database's drill that stands for its health: the drill of its newest drilled set, with that set.
 * `errorPhrase`: the error as a phrase, when respaldo's own words (health says it in the alerts' language).
 */
export type LastDrill = Pick<DrillResult, 'at' | 'ok' | 'error'> & { setId: string; errorPhrase?: Phrase };

/**
 * The drill of the newest drilled set of each database (and of `files`); reads only. By set, not by when the drill
 * ran: a passing drill of an older set says nothing of a newer set that failed its drill, whose failure stands until
 * a drill of it or of a newer set passes (a passing drill of the old set made status healthy).
 */
export async function lastDrills(cfg: Pick<LoadedConfig, 'backupDir'>): Promise<Record<string, LastDrill>> {
  const out: Record<string, LastDrill> = {};
  // newest set first (listSets): the first drill of a database found is its newest set's
  for (const s of await listSets(cfg)) {
    for (const r of Object.values(readDrillRecord(s.path)?.results ?? {})) {
      if (out[r.database]) continue;
      out[r.database] = {
        at: r.at,
        ok: r.ok,
        setId: s.id,
        ...(r.error ? { error: r.error } : {}),
        ...(r.error && r.phrases?.message ? { errorPhrase: r.phrases.message } : {}),
      };
    }
  }
  return out;
}

/**
 * Records the outcome of a verification of every stored file of the set beside it (not part of the manifest), with
 * the stored files found damaged: only the chains of the databases they belong to are broken by them (chain-sets.ts).
 */
export async function recordVerified(
  cfg: Pick<LoadedConfig, 'backupDir'>,
  id: string,
  ok: boolean,
  damaged: readonly string[] = [],
): Promise<void> {
  const record = { at: new Date().toISOString(), ok, ...(ok ? {} : { damaged: [...damaged] }) };
  await writeFileAtomic(join(setDir(cfg, id), VERIFIED_NAME), JSON.stringify(record));
}

/**
 * Records stored files of the set found damaged by a check of some of them (a restore, a drill): a failed
 * verification naming them and those an earlier one named. A record naming none (written before the files were
 * named) stays so: the whole set is then taken as damaged.
 */
export async function recordDamaged(cfg: Pick<LoadedConfig, 'backupDir'>, id: string, files: string[]): Promise<void> {
  const before = readVerified(setDir(cfg, id));
  const all = before?.ok === false && !before.damaged ? null : [...new Set([...(before?.damaged ?? []), ...files])];
  const record = { at: new Date().toISOString(), ok: false, ...(all ? { damaged: all } : {}) };
  await writeFileAtomic(join(setDir(cfg, id), VERIFIED_NAME), JSON.stringify(record));
}

/**
 * The last verification recorded beside the set in folder `dir`, or null (never verified, or a record edited or
 * damaged by hand: taken as none). `damaged` is absent when it named no file (the whole set then).
 */
export function readVerified(dir: string): { at: string; ok: boolean; damaged?: string[] } | null {
  try {
    const v = JSON.parse(readFileSync(join(dir, VERIFIED_NAME), 'utf8')) as Record<string, unknown> | null;
    if (!v || typeof v['ok'] !== 'boolean' || !isTime(v['at'])) return null;
    const named = Array.isArray(v['damaged']) && v['damaged'].every((f) => typeof f === 'string');
    return { at: v['at'], ok: v['ok'], ...(named ? { damaged: v['damaged'] as string[] } : {}) };
  } catch {
    return null;
  }
}

/** Marks or unmarks a set as kept: kept sets are never pruned automatically. */
export async function setKeep(cfg: Pick<LoadedConfig, 'backupDir'>, id: string, keep: boolean): Promise<void> {
  await readManifest(cfg, id);
  const mark = join(setDir(cfg, id), KEEP_MARK);
  if (keep) await writeFileAtomic(mark, new Date().toISOString() + '\n');
  else await fsp.rm(mark, { force: true });
}

/**
 * Deletes a set: server-side safety copies it references are dropped first (a failure stops the
 * delete); the folder is renamed out of sight, then removed, so no half-deleted set is ever listed.
 */
export async function deleteSet(cfg: LoadedConfig, id: string): Promise<void> {
  await withLock(cfg.backupDir, `delete ${id}`, () => deleteSetChecked(cfg, id));
}

/**
 * The sets each damaged set (listDamagedSets) may need, by its id: the bases its manifest's text still names
 * (`"base": "<id>"`, read even where the JSON does not parse), none for a full, schema or safety set; when neither
 * can be read, every set older than it back to the newest full before it. A damaged set is never restored or pruned
 * as it is, but repaired it must still find its chain: what it may need is kept as a kept set's chain is.
 */
export async function damagedSetNeeds(cfg: Pick<LoadedConfig, 'backupDir'>, sets: readonly SetSummary[]) {
  const needs = new Map<string, string[]>();
  for (const d of await listDamagedSets(cfg)) {
    let text = '';
    try {
      text = readFileSync(join(d.path, 'manifest.json'), 'latin1');
    } catch {
      /* unreadable: its needs are unknown */
    }
    needs.set(d.id, damagedNeedsOf(d.id, text, sets));
  }
  return needs;
}

/**
 * Pure: the sets damaged set `id` may need, from what its manifest's text (`text`, '' when unreadable) still says:
 * the bases it names; none when it says it is a full, schema or safety copy; else every older set back to the newest
 * full before it (of `sets`), as its chain is unknown. Local prune and `prune --from` keep them (keepForDamaged).
 */
export function damagedNeedsOf(id: string, text: string, sets: readonly SetSummary[]): string[] {
  const bases = [...text.matchAll(/"base"\s*:\s*"([^"\\]+)"/g)].map((x) => x[1]!).filter(isSetId);
  if (bases.length) return [...new Set(bases)].sort();
  if (/"type"\s*:\s*"(full|schema|pre_restore)"/.test(text)) return [];
  const older = sets.filter((s) => s.id < id && s.type !== 'pre_restore').sort((a, b) => (a.id < b.id ? 1 : -1));
  const full = older.findIndex((s) => s.type === 'full');
  return (full < 0 ? older : older.slice(0, full + 1)).map((s) => s.id).sort();
}

/** The refusal to delete set `id`, which `dependents` apply on (exit 9). */
export function chainBaseRefusal(id: string, dependents: readonly string[]): RespaldoError {
  const message = phrase('error.chainBase', { id, dependents: dependents.join(', ') });
  const hint = phrase('error.chainBaseHint', { count: dependents.length });
  return new RespaldoError('refused', english(message), english(hint)).withPhrases(message, hint);
}

/** The sets that apply on set `id` (a differential or incremental whose base it is), damaged ones included. */
export async function chainDependents(cfg: Pick<LoadedConfig, 'backupDir'>, id: string): Promise<string[]> {
  const sets = await listSets(cfg);
  const damagedNeeding = [...(await damagedSetNeeds(cfg, sets))].filter(([, n]) => n.includes(id)).map(([d]) => d);
  return [...sets.filter((s) => s.needs?.includes(id)).map((s) => s.id), ...damagedNeeding];
}

/** Deletes set `id` unless a differential or incremental applies on it; the caller holds the lock. */
export async function deleteSetChecked(cfg: LoadedConfig, id: string): Promise<void> {
  // A differential or incremental applies on this set: deleting it would leave them unrestorable (a damaged one too:
  // repaired, it would need it).
  const dependents = await chainDependents(cfg, id);
  if (dependents.length) throw chainBaseRefusal(id, dependents);
  await deleteSetUnlocked(cfg, id);
}

export async function deleteSetUnlocked(cfg: LoadedConfig, id: string): Promise<void> {
  // Its head alone: what it keeps on a server is in its databases (its files held, 100 000 of them took 40 MiB)
  const m = (await readManifestLeanOf(cfg, id)).head;
  for (const entry of m.databases) {
    if (!entry.safetyDatabase) continue;
    const db = cfg.databases.find((d) => d.name === entry.name);
    if (!db)
      throw new RespaldoError(
        'refused',
        `Set ${id} holds the safety database ${entry.safetyDatabase} of "${entry.name}", which is no longer in the config.`,
        'Add the database back to the config (to reach its server) or drop that database by hand, then delete the set.',
      );
    // Only here are drivers needed: imported now, so that `list`, `show` and `verify` load none.
    const { driverFor } = await import('../drivers/registry.js');
    const driver = driverFor(db.engine);
    if (!driver.dropSafetyCopy)
      throw new RefusedError(
        `Set ${id} lists a safety database ${entry.safetyDatabase} of "${entry.name}", ` +
          `but ${db.engine} keeps its safety copies as files of a pre_restore set: respaldo did not write that manifest.`,
        `Check ${join(setDir(cfg, id), 'manifest.json')}; nothing was deleted. Remove the set's folder by hand if it is not needed.`,
      );
    await driver.dropSafetyCopy(db, entry.safetyDatabase);
  }
  const dir = setDir(cfg, m.id);
  const trash = join(cfg.backupDir, `.deleting-${m.id}-${process.pid}`);
  await fsp.rename(dir, trash);
  try {
    await removeTree(trash);
  } catch (err) {
    // Out of sight already (no half-deleted set is listed): said as what it is, not as a set left as it was.
    writeLog(cfg.backupDir, 'delete', { setId: m.id, outcome: 'partly', left: trash, ranBy: ranBy() }, cfg.secrets);
    throw new RespaldoError(
      'failed',
      `Set ${m.id} is no longer listed but was only partly removed: ${trash} is left (${errorMessage(err)}).`,
      'Remove that folder by hand (`lsattr -R` shows a file made immutable, `ls -lR` one of another user); the next create, restore or drill removes it once it can be.',
    );
  }
  writeLog(cfg.backupDir, 'delete', { setId: m.id, outcome: 'ok', ranBy: ranBy() }, cfg.secrets);
}
