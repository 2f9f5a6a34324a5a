import { NotFoundError } from '../core/errors.js';
import { english, nestedPhrase, phrase, type Phrase } from '../core/phrases.js';
import { formatLocal } from '../core/format.js';
import type { ChainType, Manifest, SetStatus, SetType } from '../core/types.js';
import { entryStoredBytes } from './manifest.js';
import { compareSetIds } from './set-id.js';

/**
 * Backup chains, pure: which set a differential or incremental applies on, the chain a set needs for
 * each database (full → differential → incrementals, oldest first), what is wrong with a chain (a
 * member missing, damaged, or not holding the database), and which chain a restore "as of" a time uses.
 * No I/O: `readChainSets` (catalog.ts) builds the input from the manifests and the marks beside them.
 *
 * Chains are per database: an entry with `base` applies on the same database's entry of the set
 * `base`; an entry without `base` is complete by itself (a full). A set of several databases may
 * mix both (an engine without chain support stores a full inside an incremental set).
 * - differential: the base is the newest set whose entry of the database is complete by itself.
 * - incremental: the base is the newest set holding the database at all (of any type).
 * A set where the database failed (it stored nothing of it) is passed over: the base is the newest set that
 * stored it. A base is usable when its whole chain is there, holds the database and none of its members is damaged;
 * otherwise the database is stored whole and the reason is said. An incremental whose newest base restores but lacks
 * what only the next backup reads (SQLite's page map) is a differential on the newest full, saying why.
 *
 * Why one file of about 550 lines: the base choice, the chain walk and the `--at` time (its parsing, and how much of
 * it was written, included) all answer "which sets restore this database, as of when", over the same pure ChainSet
 * input.
 */

/** One database of a set, as chains see it. */
export interface ChainEntry {
  /** The set this entry applies on; null when it is complete by itself. */
  base: string | null;
  storedBytes: number;
  /** Why this entry cannot be used (failed at backup, failed verification, stored file missing); null when usable. */
  problem: string | null;
  /** `problem` as a phrase (the menu says it in its language). */
  problemPhrase?: Phrase;
  /** The problem is damage found on disk (a stored file missing, of another size, or a failed verification). */
  damaged?: boolean;
  /** The database failed in that set: nothing of it was stored (the set is partial). */
  failed?: boolean;
  /**
   * The entry restores to any point between its base's end and its own (a SQL Server log backup: STOPAT);
   * its driver set `details.pointInTime`.
   */
  stopsInside?: boolean;
  /**
   * Why no backup can be made on this entry though it restores: a stored file only the next differential or
   * incremental reads (SQLite's page map) is missing or of another size (readChainSets), or does not match its
   * manifest (withNextFilesHashed).
   */
  noBase?: Phrase;
}

/** A published set, as chains see it. */
export interface ChainSet {
  id: string;
  type: SetType;
  status: SetStatus;
  startedAt: string;
  /** The point a restore of this set represents (the end of the run). */
  completedAt: string;
  /** The databases the set holds (failed ones included, with their `problem`). */
  entries: Record<string, ChainEntry>;
  /** The set holds config and application files (they are whole in every set that holds them: no chain). */
  files?: boolean;
  /**
   * The folder's manifest cannot be read (`list` shows it DAMAGED): the set holds nothing a chain can use, and a
   * chain that needs it is broken by damage (exit 5), not by a set deleted. Its status is `failed`, its entries none.
   */
  damagedManifest?: string;
}

/** The chain one set needs for one database: members oldest first, ending with the set itself. */
export interface Chain {
  database: string;
  members: { id: string; type: SetType; storedBytes: number; completedAt: string }[];
  /** What makes the chain unusable (the first problem walking back from the set), or null. */
  problem: string | null;
  /** `problem` as a phrase (the menu says it in its language). */
  problemPhrase?: Phrase;
  /** The set whose entry has the problem, when that set exists (damaged, failed, without the database). */
  brokenAt?: string;
  /** The problem is damage of a member's stored files (exit 5 as for any damaged set), not a chain made wrong. */
  damaged?: boolean;
}

/**
 * Pure: a manifest (and its verification mark) as chains see it; `problems` adds per-database problems found on disk,
 * `noBase` why a database's entry, restorable, cannot be the base of a new backup (ChainEntry.noBase); `fileCount`: its
 * files, when `m.files` does not hold them (readManifestLean).
 */
export function chainSetOf(
  m: Manifest,
  problems: Record<string, Phrase> = {},
  noBase: Record<string, Phrase> = {},
  fileCount = m.files.length,
): ChainSet {
  const entries: Record<string, ChainEntry> = {};
  for (const d of m.databases) {
    const problem = d.error
      ? phrase('chain.failedInSet', { error: d.error.message })
      : !d.file
        ? phrase('chain.noCopy')
        : (problems[d.name] ?? null);
    entries[d.name] = {
      base: d.base ?? null,
      storedBytes: entryStoredBytes(d),
      problem: problem && english(problem),
      ...(problem ? { problemPhrase: problem } : {}),
      ...(!d.error && d.file && problems[d.name] ? { damaged: true } : {}),
      ...(d.error ? { failed: true } : {}),
      ...(d.base && d.details?.pointInTime === true ? { stopsInside: true } : {}),
      ...(noBase[d.name] ? { noBase: noBase[d.name] } : {}),
    };
  }
  const files = fileCount > 0 ? { files: true } : {};
  return {
    id: m.id,
    type: m.type,
    status: m.status,
    startedAt: m.startedAt,
    completedAt: m.completedAt,
    entries,
    ...files,
  };
}

/** Pure: the chain set `id` needs for `database`, walking its bases back to a complete entry. */
export function chainOf(sets: readonly ChainSet[], id: string, database: string): Chain {
  const byId = new Map(sets.map((s) => [s.id, s]));
  const members: Chain['members'] = [];
  const seen = new Set<string>();
  let wanted: string | null = id;
  let child: ChainSet | null = null;
  const broken = (p: Phrase, more: Partial<Chain> = {}): Chain => ({
    database,
    members,
    problem: english(p),
    problemPhrase: p,
    ...more,
  });
  while (wanted) {
    const set = byId.get(wanted);
    const by = child?.id ?? '';
    if (!set) return broken(phrase('chain.missing', { set: wanted, by }));
    if (set.damagedManifest)
      return broken(phrase('chain.manifestDamaged', { set: set.id, by, what: set.damagedManifest }), {
        brokenAt: set.id,
        damaged: true,
      });
    if (seen.has(set.id)) return broken(phrase('chain.loop', { set: set.id }));
    seen.add(set.id);
    const entry = set.entries[database];
    if (!entry) return broken(phrase('chain.lacksDb', { set: set.id, by, db: database }), { brokenAt: set.id });
    if (entry.problem) {
      const inner = entry.problemPhrase ?? phrase('chain.raw', { text: entry.problem });
      return broken(phrase('chain.entry', { ...inner.params, db: database, set: set.id, by, of: inner.id }), {
        brokenAt: set.id,
        ...(entry.damaged ? { damaged: true } : {}),
      });
    }
    // Started in the same instant (manifests written to the second only): the id says which came first
    if (child && (Date.parse(set.startedAt) - Date.parse(child.startedAt) || compareSetIds(set.id, child.id)) >= 0)
      return broken(phrase('chain.notOlder', { set: set.id, child: child.id }));
    members.unshift({ id: set.id, type: set.type, storedBytes: entry.storedBytes, completedAt: set.completedAt });
    child = set;
    wanted = entry.base;
  }
  return { database, members, problem: null };
}

/** Sets whose entry of `database` can start or continue a chain, newest first. */
function holding(sets: readonly ChainSet[], database: string): ChainSet[] {
  return sets
    .filter((s) => s.type !== 'pre_restore' && s.type !== 'schema' && s.status !== 'failed')
    .filter((s) => s.entries[database] && !s.entries[database].failed)
    .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt) || compareSetIds(b.id, a.id));
}

/**
 * Where a differential or incremental of one database applies, or why it is stored whole. `asDifferential`: an
 * incremental whose newest backup restores but cannot be a base (a file only the next backup reads is lost, SQLite's
 * page map) is a differential on the newest full instead (`base`, `chain`), and this says why.
 */
export type BaseChoice =
  { base: string; chain: Chain; asDifferential?: Phrase } | { fallback: string; fallbackPhrase: Phrase };

/** A fallback of chooseBase: its phrase and its English text. */
function fellBack(p: Phrase): { fallback: string; fallbackPhrase: Phrase } {
  return { fallback: english(p), fallbackPhrase: p };
}

/** Pure: the base of a `type` backup of `database` among the published `sets` (see the module comment). */
export function chooseBase(
  sets: readonly ChainSet[],
  type: ChainType,
  database: string,
  now: Date | null = null,
): BaseChoice {
  const candidates = holding(sets, database).filter((s) =>
    type === 'differential' ? s.entries[database]!.base === null : true,
  );
  const newest = candidates[0];
  if (!newest) return fellBack(phrase('fallback.noFull', { db: database }));
  // Dated after now (the clock was set back, or was ahead when it was made): a set made now would be older than
  // its base, and its chain could never be restored.
  if (now && Date.parse(newest.startedAt) > now.getTime())
    return fellBack(phrase('fallback.ahead', { db: database, set: newest.id, at: newest.startedAt }));
  const chain = chainOf(sets, newest.id, database);
  const problem = chain.problem ? chain.problemPhrase : newest.entries[database]!.noBase;
  if (problem) {
    const params = { type, db: database, set: newest.id, problem: english(problem), ...nestedPhrase(problem) };
    const why = phrase('fallback.badBase', params);
    // Its chain restores, only what the next backup reads is lost: a differential reads the full alone (the smaller
    // backup, and the chain goes on from the same full).
    if (!chain.problem && type === 'incremental') {
      const onFull = chooseBase(sets, 'differential', database, now);
      if ('base' in onFull) return { ...onFull, asDifferential: why };
    }
    return fellBack(why);
  }
  return { base: newest.id, chain };
}

/** One database of a restore "as of" a time: the chain applied, oldest first. */
export interface AtDatabase {
  database: string;
  chain: Chain;
  storedBytes: number;
}

/** The preview of `restore --at`: the set reached, the point it represents, the sets applied and their size. */
export interface AtPlan {
  at: string;
  setId: string;
  /**
   * The end of the last set applied, or `stopAt`. Without `stopAt` the data is as each database's backup in that set
   * took it: its snapshot, between `taken` and `point` (a consistent view from when that database's backup began).
   */
  point: string;
  /** The start of the last set applied: with `point`, the span the data is from (absent with `stopAt`). */
  taken?: string;
  /** Set when the last set applied stops inside itself at `at` (`stopsInside` entries: SQL Server STOPAT). */
  stopAt?: string;
  databases: AtDatabase[];
  /** Every set applied, in order (oldest first), and their stored size in total. */
  order: string[];
  totalBytes: number;
  /** Newer sets at or before `at` passed over, with the reason (and its phrase: the menu says it in its language). */
  skipped: { id: string; reason: string; reasonPhrase?: Phrase }[];
  /**
   * The set started within the time as written (the second of its id, or the minute `list` shows) and ended after
   * it: the time names that set, so it is restored rather than the one before it. `before` is the set a time just
   * before it restores (the newest ending by then with usable chains), null when there is none; `command`, the
   * restore of `before`, and `reason`, the sentences of startedThenPhrases in English (planRestoreAt fills them in).
   */
  startedThen?: { before: string | null; command?: string; reason?: string };
}

/**
 * The error of a restore "as of" a time no set serves (here, or at `destination`), in phrases (the menu says it in
 * its language): the databases, the time in local time to the second, up to three newer sets passed over, with why,
 * and when `at` is before every set of `databases` in `sets`, the first of them and when it ends (the earliest time
 * there is to ask for).
 */
export function noSetAt(
  destination: string | null,
  databases: readonly string[],
  at: Date,
  skipped: AtPlan['skipped'],
  sets: readonly ChainSet[],
  files = false,
): NotFoundError {
  // A set passed over for lacking some of what is asked says how many: the message names them all first (each was
  // named twice, a long list with many databases).
  const asked = databases.length + (files ? 1 : 0);
  const told = skipped.slice(0, 3).map((s) => {
    if (s.reasonPhrase?.id !== 'at.holdsNo') return s;
    const lacking = (s.reasonPhrase.params['dbs'] ?? '').split(', ').filter(Boolean).length;
    const n = Math.min(asked, lacking + (s.reasonPhrase.params['files'] ? 1 : 0));
    const only: Record<string, string> = databases.length ? {} : { files: '1' };
    const reasonPhrase = phrase('at.lacksOf', { n: String(n), of: String(asked), ...only });
    return { ...s, reason: english(reasonPhrase), reasonPhrase };
  });
  const passed = told.map((s) => `${s.id}: ${s.reason}`).join('; ');
  const first = sets
    .filter((s) => s.type !== 'pre_restore' && s.status !== 'failed')
    .filter((s) => databases.every((d) => s.entries[d]) && (!files || s.files))
    .sort((a, b) => Date.parse(a.completedAt) - Date.parse(b.completedAt))[0];
  const before = first && Date.parse(first.completedAt) > at.getTime();
  const params = {
    dbs: [...databases, ...(files ? ['files'] : [])].join(', '),
    at: formatLocal(at, { seconds: true }),
    passed,
    first: before ? first.id : '',
    ends: before ? formatLocal(first.completedAt, { seconds: true }) : '',
    dest: destination ?? '',
    // the same sets and reasons as phrases, for the menu's language (phrases-es.ts atDetails)
    passedSaid: JSON.stringify(told.map((s) => ({ id: s.id, reason: s.reason, phrase: s.reasonPhrase }))),
  };
  const message = phrase(destination ? 'at.noneThere' : 'at.noneHere', params);
  const hint = phrase(destination ? 'at.noneThereHint' : 'at.noneHereHint', params);
  return new NotFoundError(english(message), english(hint)).withPhrases(message, hint);
}

/**
 * Pure: the restore "as of" `at`: the newest set ending at or before `at` that holds every database
 * asked for and whose chains are all usable. Null when none does (with the sets passed over).
 * When every database asked for is held by `stopsInside` entries of a set ending after `at` whose bases
 * end at or before it (SQL Server log backups), the first such set is restored up to `at` (`stopAt`).
 * With `files`, the set also holds config and application files; with them alone (no database), the newest set
 * holding files by then.
 * `within` (atWithin: how much of the time was written, a second or a minute): the time stands for all of that
 * second or minute. A set that ended within it ended by then (`10:15:30` reaches a set that ended at 10:15:30.4); a
 * set that started within it is named by it (its id, the minute `list` shows), and is a candidate as if it ended by
 * then (`startedThen`, with the newest set ending before it started). The newest is the one that ended last, by the
 * manifests' times at their full precision, then the one started last, then the later id.
 */
export function planAt(
  sets: readonly ChainSet[],
  at: Date,
  databases: readonly string[],
  opts: { files?: boolean; within?: number } = {},
): AtPlan | { none: true; skipped: AtPlan['skipped'] } {
  const skipped: AtPlan['skipped'] = [];
  const byId = new Map(sets.map((s) => [s.id, s]));
  // Files are whole in each set: a set ending later cannot stop inside itself for them.
  const stopping = (databases.length && !opts.files ? sets : [])
    .filter((s) => s.type !== 'pre_restore' && s.status !== 'failed' && Date.parse(s.completedAt) > at.getTime())
    .filter((s) =>
      databases.every((d) => {
        const e = s.entries[d];
        const base = e?.base ? byId.get(e.base) : undefined;
        return e?.stopsInside === true && base !== undefined && Date.parse(base.completedAt) < at.getTime();
      }),
    )
    .sort((a, b) => Date.parse(a.completedAt) - Date.parse(b.completedAt));
  for (const s of stopping) {
    const chains = databases.map((d) => chainOf(sets, s.id, d));
    if (chains.some((c) => c.problem)) continue;
    const { taken: _, ...plan } = atPlanOf(s, chains, at, skipped);
    return { ...plan, point: at.toISOString(), stopAt: at.toISOString() };
  }
  const within = opts.within ?? 0;
  // The end of the time as written: 10:15:30 is all of that second, 10:15 all of that minute
  const end = at.getTime() + within;
  const startedThen = (s: ChainSet) => Date.parse(s.startedAt) >= at.getTime() && Date.parse(s.startedAt) < end;
  const endedBy = (s: ChainSet) => Date.parse(s.completedAt) <= at.getTime() || Date.parse(s.completedAt) < end;
  const candidates = sets
    .filter(
      (s) => s.type !== 'pre_restore' && s.type !== 'schema' && s.status !== 'failed' && (endedBy(s) || startedThen(s)),
    )
    .sort(
      (a, b) =>
        Date.parse(b.completedAt) - Date.parse(a.completedAt) ||
        Date.parse(b.startedAt) - Date.parse(a.startedAt) ||
        compareSetIds(b.id, a.id),
    );
  for (const s of candidates) {
    const lacking = [...databases.filter((d) => !s.entries[d]), ...(opts.files && !s.files ? ['files'] : [])];
    if (lacking.length) {
      const lacks = {
        dbs: databases.filter((d) => !s.entries[d]).join(', '),
        files: opts.files && !s.files ? '1' : '',
      };
      const reasonPhrase = phrase('at.holdsNo', lacks);
      skipped.push({ id: s.id, reason: english(reasonPhrase), reasonPhrase });
      continue;
    }
    const chains = databases.map((d) => chainOf(sets, s.id, d));
    const broken = chains.find((c) => c.problem);
    if (broken) {
      skipped.push({
        id: s.id,
        reason: broken.problem!,
        ...(broken.problemPhrase ? { reasonPhrase: broken.problemPhrase } : {}),
      });
      continue;
    }
    const plan = atPlanOf(s, chains, at, skipped);
    if (!startedThen(s)) return plan;
    // The data before that set: the newest set ending by the time it started
    const others = sets.filter((x) => x.id !== s.id);
    const before = planAt(others, new Date(s.startedAt), databases, { files: Boolean(opts.files) });
    return { ...plan, startedThen: { before: 'none' in before ? null : before.setId } };
  }
  return { none: true, skipped };
}

/** The sentences of a restore "as of" a time that names a set (`startedThen`): which set and why, and the other one. */
export function startedThenPhrases(at: AtPlan): Phrase[] {
  if (!at.startedThen) return [];
  const { before, command } = at.startedThen;
  const set = at.setId;
  return [
    phrase('at.startedThen', {
      at: formatLocal(at.at, { seconds: true }),
      set,
      ended: formatLocal(at.point, { seconds: true }),
    }),
    before
      ? phrase('at.before', { before, set, command: command ?? `respaldo restore ${before}` })
      : phrase('at.noneBefore', { set }),
  ];
}

function atPlanOf(s: ChainSet, chains: Chain[], at: Date, skipped: AtPlan['skipped']): AtPlan {
  const dbs = chains.map((chain) => ({
    database: chain.database,
    chain,
    storedBytes: chain.members.reduce((t, m) => t + m.storedBytes, 0),
  }));
  // The set itself always (restoring its files alone applies it and no chain).
  const order = [...new Set([...chains.flatMap((c) => c.members.map((m) => m.id)), s.id])].sort(compareSetIds);
  return {
    at: at.toISOString(),
    setId: s.id,
    point: s.completedAt,
    taken: s.startedAt,
    databases: dbs,
    order,
    totalBytes: dbs.reduce((t, d) => t + d.storedBytes, 0),
    skipped,
  };
}

/** Pure: every set the chain of `id` needs (all its databases), oldest first, the set itself last; with problems. */
export function setChain(sets: readonly ChainSet[], id: string): { ids: string[]; chains: Chain[] } {
  const set = sets.find((s) => s.id === id);
  const chains = Object.keys(set?.entries ?? {}).map((d) => chainOf(sets, id, d));
  const ids = [
    ...new Set([...chains.flatMap((c) => [...c.members.map((m) => m.id), ...(c.brokenAt ? [c.brokenAt] : [])]), id]),
  ].sort();
  return { ids, chains };
}

/**
 * Pure: the sets that each of `kept` needs through its chains and that are not kept themselves,
 * with the kept sets needing them (for retention: a kept set's chain is never removed).
 */
export function neededByKept(
  sets: readonly { id: string; needs?: string[] }[],
  kept: ReadonlySet<string>,
): Map<string, string[]> {
  const byId = new Map(sets.map((s) => [s.id, s]));
  const needed = new Map<string, string[]>();
  for (const id of kept) {
    const stack = [...(byId.get(id)?.needs ?? [])];
    const seen = new Set<string>();
    while (stack.length) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      if (!kept.has(n)) needed.set(n, [...(needed.get(n) ?? []), id]);
      stack.push(...(byId.get(n)?.needs ?? []));
    }
  }
  for (const v of needed.values()) v.sort();
  return needed;
}

/**
 * Pure: whether a `restore --at` time is ahead of now (by more than a minute): no backup is from then, and such a
 * time is a typing error (2062 for 2026) that would otherwise silently restore the newest set.
 */
export function atInFuture(at: Date, now: Date): boolean {
  return at.getTime() > now.getTime() + 60_000;
}

/** The fields of a `restore --at` text, or null when it has not that shape. */
function atParts(text: string) {
  // `date -u "+%F %T %Z"` prints `2026-12-04 05:43:31 UTC` (some systems GMT): UTC, as a Z is
  const named = /\s*(?:UTC|GMT)$/i.exec(text.trim());
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(
      named ? text.trim().slice(0, named.index) : text.trim(),
    );
  if (!m || (named && m[8])) return null;
  const zone = named ? 'Z' : m[8];
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // Whole milliseconds, never past the time written (psql prints microseconds)
  const ms = m[7] ? Math.floor(Number(m[7]) * 1000) : 0;
  const within = m[7] || m[4] === undefined ? 0 : m[6] === undefined ? 60_000 : 1000;
  return { zone, y, mo, d, h, mi, s, ms, within };
}

/**
 * Pure: how much of time a `restore --at` text names: 60 000 ms written to the minute (`2026-12-04 07:42`, as `list`
 * shows sets), 1000 to the second (`07:42:06`, as a set id), 0 otherwise (a date alone, fractions of a second).
 * A set that started within it is named by the time (planAt `within`).
 */
export function atWithin(text: string): number {
  return atParts(text)?.within ?? 0;
}

/** The instants at which this machine's clock showed a local time: none (skipped), one, or two (repeated). */
function localInstants(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): Date[] {
  const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const offsets = new Set([-1, 0, 1].map((days) => new Date(wall + days * 86_400_000).getTimezoneOffset()));
  return [...offsets]
    .map((o) => new Date(wall + o * 60_000))
    .filter((t) => t.getFullYear() === y && t.getMonth() === mo - 1 && t.getDate() === d)
    .filter((t) => t.getHours() === h && t.getMinutes() === mi && t.getSeconds() === s)
    .sort((a, b) => a.getTime() - b.getTime());
}

/**
 * Pure: when `text` is a local time this machine's clock showed twice (the night it was set back), the same time
 * with each offset, first then second (`2026-10-25 02:30+02:00`, `…+01:00`), to write one of; otherwise null.
 */
export function ambiguousAtTime(text: string): [string, string] | null {
  const p = atParts(text);
  if (!p || p.zone || p.mo < 1 || p.mo > 12 || p.h > 23 || p.mi > 59 || p.s > 59) return null;
  const both = localInstants(p.y, p.mo, p.d, p.h, p.mi, p.s, p.ms);
  if (both.length !== 2) return null;
  const offset = (t: Date) => {
    const o = -t.getTimezoneOffset();
    const a = Math.abs(o);
    return `${o < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
  };
  const wall = text.trim().replace('T', ' ');
  return [`${wall}${offset(both[0]!)}`, `${wall}${offset(both[1]!)}`];
}

/**
 * Pure: the time of `restore --at`: `YYYY-MM-DD HH:MM[:SS]` (or with `T`) in the machine's local time,
 * or an ISO time with `Z` or an offset (`+01:00`, `+0100`, psql's `+01`), or ending in ` UTC` / ` GMT` as `date -u`
 * prints it (`2026-12-04 05:43:31 UTC`). Null when it is not one of those, not a real
 * date, or a local time a clock change skipped or repeated (ambiguousAtTime says which two it could be).
 */
export function parseAtTime(text: string): Date | null {
  const p = atParts(text);
  if (!p) return null;
  const { zone, y, mo, d, h, mi, s, ms } = p;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const local = new Date(y, mo - 1, d, h, mi, s, ms);
  // 2026-02-31 rolls over into March: not a real date
  if (local.getMonth() !== mo - 1 || local.getDate() !== d) return null;
  if (!zone) {
    // A local time a clock change skipped (02:30 on the spring-forward night) comes out an hour off: not a time here;
    // one it repeated (the night the clock is set back) is two times: respaldo does not pick one (ambiguousAtTime)
    if (local.getHours() !== h || local.getMinutes() !== mi) return null;
    if (localInstants(y, mo, d, h, mi, s, ms).length > 1) return null;
    return local;
  }
  // psql prints offsets as +00 or +05:30; ISO 8601 as +0530 or +05:30
  const [oh, om] = zone === 'Z' ? [0, 0] : [Number(zone.slice(1, 3)), zone.length > 3 ? Number(zone.slice(-2)) : 0];
  // Offsets in use run from -12:00 to +14:00: +25:00 is a typing error, not a zone
  if (oh > 14 || om > 59) return null;
  const offset = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms) - offset * 60_000);
}
