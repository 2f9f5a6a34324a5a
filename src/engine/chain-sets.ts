import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import { errorMessage } from '../core/errors.js';
import { formatLocal } from '../core/format.js';
import { english, phrase, type Phrase } from '../core/phrases.js';
import type { DatabaseEntry, EngineName, LoadedConfig, Manifest, SetSummary, StoredFile } from '../core/types.js';
import {
  chooseLatest,
  listSets,
  readManifestHead,
  readVerified,
  selectLatest,
  type LatestWant,
  type SetSelection,
} from './catalog.js';
import { chainOf, chainSetOf, setChain, type ChainSet } from './chain.js';
import { nextBackupOnly, readManifestLean } from './manifest.js';
import { sha256OfFile } from './hash-file.js';
import { isSetId } from './set-id.js';
import { localReader, openStoredPart, type StoredReader } from './stored-part.js';

/**
 * Every published set as chains see it (chain.ts), with what makes an entry unusable as a base or
 * chain member: the set's newest verification failed, or a stored file of the database is missing or
 * has another size than the manifest says (cheap: no hashing; `verify --chain` hashes). Reads only.
 * `manifestsOnly`: the folder holds the manifests of sets whose files are read from a destination (a streamed
 * restore, which checked their presence and sizes there): no file is looked for.
 */
export function readChainSets(
  cfg: Pick<LoadedConfig, 'backupDir'>,
  opts: { manifestsOnly?: boolean } = {},
): ChainSet[] {
  if (!existsSync(cfg.backupDir)) return [];
  const out: ChainSet[] = [];
  for (const name of readdirSync(cfg.backupDir).filter(isSetId)) {
    const dir = join(cfg.backupDir, name);
    let m: Manifest;
    let fileCount: number;
    try {
      // Only how many files it holds counts here: none is kept (a set of 100 000 files held about 40 MiB of them).
      const read = readManifestLean(dir);
      m = read.head;
      fileCount = read.files.count;
    } catch (err) {
      // Kept as what it is: a chain that needs it is broken by damage, not by a set that was deleted.
      if (existsSync(join(dir, 'manifest.json'))) out.push(damagedChainSet(name, (err as Error).message));
      continue;
    }
    if (m.id !== name) continue;
    const found = opts.manifestsOnly ? { problems: {}, noBase: {} } : entryProblems(dir, m);
    out.push(chainSetOf(m, found.problems, found.noBase, fileCount));
  }
  return out;
}

/**
 * `sets` with the files only the next backup reads (manifest.ts nextBackupOnly: SQLite's page map) of the chosen
 * `bases` hashed against their manifest (readChainSets only compares sizes) and read as that backup would read them
 * (Driver.readNextBackupFile), in one pass: one of its size but another content (altered by hand, damaged), or one
 * that matches but cannot be read (a page map of another version, or written wrong), makes that entry no base
 * (`noBase`), as one missing does, so that the plan made again on them does not read it: a differential on the full,
 * where the base's backup would have found it unreadable and stored a full. Null when every such file is usable or
 * no base has one.
 */
export async function withNextFilesHashed(
  cfg: Pick<LoadedConfig, 'backupDir'>,
  sets: readonly ChainSet[],
  bases: readonly { name: string; base?: string }[],
  reads?: NextReads,
): Promise<ChainSet[] | null> {
  const altered = new Map<string, Record<string, Phrase>>();
  for (const { name, base } of bases) {
    if (!base || !sets.some((s) => s.id === base && s.entries[name] && !s.entries[name].noBase)) continue;
    const dir = join(cfg.backupDir, base);
    let m: Manifest;
    try {
      m = readManifestLean(dir).head; // only its databases count here
    } catch {
      continue; // said by the run, which reads the base's manifest again
    }
    const d = m.databases.find((x) => x.name === name);
    if (!d) continue;
    for (const x of (d.extras ?? []).filter((e) => nextBackupOnly(d, e))) {
      const { problem, read } = await nextFileProblem(dir, d, x);
      if (!problem) {
        if (read !== undefined) reads?.set(nextReadKey(base, name, x.role!), read);
        continue;
      }
      altered.set(base, { ...altered.get(base), [name]: problem });
      break;
    }
  }
  if (!altered.size) return null;
  return sets.map((s) => {
    const dbs = altered.get(s.id);
    if (!dbs) return s;
    const entries = Object.fromEntries(
      Object.entries(s.entries).map(([n, e]) => [n, dbs[n] ? { ...e, noBase: dbs[n] } : e]),
    );
    return { ...s, entries };
  });
}

/**
 * Why extra `x` of entry `d` in the set folder `dir` cannot serve the next backup, or null: its stored bytes hashed
 * as they stream into their decompressor and the driver's reader, read once; hashed alone again only when that
 * reading stopped before their end.
 */
async function nextFileProblem(
  dir: string,
  d: DatabaseEntry,
  x: StoredFile,
): Promise<{ problem: Phrase | null; read?: unknown }> {
  // Of an engine whose capabilities name the role (nextBackupOnly): one this version has.
  const { driverFor } = await import('../drivers/registry.js');
  const reader = driverFor(d.engine as EngineName).readNextBackupFile;
  const hash = createHash('sha256');
  let hashedAll = false;
  const hashing: StoredReader = (file) =>
    pipeline(
      localReader(dir, d.name)(file),
      new Transform({
        transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
          hash.update(chunk);
          cb(null, chunk);
        },
        flush(cb: TransformCallback) {
          hashedAll = true;
          cb();
        },
      }),
      () => undefined,
    );
  let unreadable: string | null = null;
  let read: unknown;
  try {
    const content = openStoredPart(hashing, d, x.role);
    if (reader) read = await reader(x.role!, content);
    else for await (const _ of content as AsyncIterable<Buffer>);
  } catch (err) {
    unreadable = errorMessage(err);
  }
  const digest = hashedAll
    ? hash.digest('hex')
    : ((await sha256OfFile(join(dir, x.file)).catch(() => null))?.sha256 ?? null);
  if (digest !== x.sha256) return { problem: phrase('chain.nextFileAltered', { file: x.file }) };
  if (unreadable !== null) return { problem: phrase('chain.nextFileUnreadable', { file: x.file, error: unreadable }) };
  return { problem: null, read };
}

/**
 * What withNextFilesHashed read of the files only the next backup reads (Driver.readNextBackupFile's results: SQLite's
 * page map), by base set, database and role: the backup on that base takes it (takeNextRead) instead of reading that
 * file a second time.
 */
export type NextReads = Map<string, unknown>;

/** The NextReads of a plan made by create's planOnSets, for its run (gone with the plan). */
export const planNextReads = new WeakMap<object, NextReads>();

const nextReadKey = (base: string, name: string, role: string): string => `${base}\0${name}\0${role}`;

/** Part `role` of `name` in set `base` as the plan read it (removed from `reads`: held no longer), or undefined. */
export function takeNextRead(reads: NextReads | undefined, base: string, name: string, role: string): unknown {
  const key = nextReadKey(base, name, role);
  const read = reads?.get(key);
  reads?.delete(key);
  return read;
}

/** A set folder whose manifest cannot be read, as chains see it (ChainSet.damagedManifest). */
function damagedChainSet(id: string, problem: string): ChainSet {
  const [, y, mo, d, h, mi, s] = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})/.exec(id)!;
  const at = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}`).toISOString(); // the id is the local start time
  return { id, type: 'full', status: 'failed', startedAt: at, completedAt: at, entries: {}, damagedManifest: problem };
}

/**
 * What makes each database entry of set `m` unusable in a chain (`problems`): a stored file of it missing or of
 * another size, or found damaged by the last verification (one that names no file marks every entry: the whole set).
 * A file only the next backup reads (manifest.ts nextBackupOnly: SQLite's page map) missing or of another size
 * leaves the entry restorable: it is why no backup can be made on it (`noBase`), as is an encrypted set's.
 */
function entryProblems(dir: string, m: Manifest): { problems: Record<string, Phrase>; noBase: Record<string, Phrase> } {
  const problems: Record<string, Phrase> = {};
  const noBase: Record<string, Phrase> = {};
  const verified = readVerified(dir);
  for (const d of m.databases) {
    // Its stored files are ciphertext (a set made while the config encrypted local sets; "local": false or no
    // encryption now): restorable with the key, but no delta is computed on it.
    if (m.encryption) noBase[d.name] = phrase('chain.encryptedBase');
    for (const x of (d.extras ?? []).filter((e) => nextBackupOnly(d, e))) {
      const abs = join(dir, x.file);
      if (!existsSync(abs)) noBase[d.name] = phrase('chain.nextFileMissing', { file: x.file });
      else if (statSync(abs).size !== x.storedBytes) noBase[d.name] = phrase('chain.nextFileSize', { file: x.file });
    }
    const extras = (d.extras ?? []).filter((e) => !nextBackupOnly(d, e));
    const own = [...(d.file ? [{ file: d.file, storedBytes: d.storedBytes }] : []), ...extras];
    const hit = verified?.ok === false && (!verified.damaged || own.some((f) => verified.damaged!.includes(f.file)));
    if (hit) {
      problems[d.name] = phrase('chain.failedVerification', { at: formatLocal(verified.at) });
      continue;
    }
    for (const f of own) {
      const abs = join(dir, f.file);
      if (!existsSync(abs)) problems[d.name] = phrase('chain.fileMissing', { file: f.file });
      else if (statSync(abs).size !== f.storedBytes) problems[d.name] = phrase('chain.fileSize', { file: f.file });
      if (problems[d.name]) break;
    }
  }
  return { problems, noBase };
}

/**
 * What `verify --chain ID` checks: every set the chains of `id` need (all its databases), oldest first,
 * `id` last; the problems of the chains (a member missing, damaged, or without the database), and the
 * ids that are missing (not verifiable). The sets are those the manifests name, past a member whose stored
 * file is known damaged (a failed verification, another size): the full under it is hashed too, so a member
 * repaired since its failed verification is never called a whole chain on the word of its own files alone.
 */
export function chainToVerify(
  cfg: Pick<LoadedConfig, 'backupDir'>,
  id: string,
): { id: string; ids: string[]; problems: string[]; missing: string[] } {
  const sets = readChainSets(cfg);
  const { chains } = setChain(sets, id);
  const ids = setChain(readChainSets(cfg, { manifestsOnly: true }), id).ids;
  const problems = [...new Set(chains.flatMap((c) => (c.problem ? [c.problem] : [])))];
  const present = new Set(sets.map((s) => s.id));
  const missing = ids.filter((x) => !present.has(x));
  return { id, ids, problems, missing };
}

/**
 * Why the chains of set `id` cannot be restored by the sets under it (none when they can, or when `id` is a full; the
 * set's own damage is its verification's to say). `damage: false` leaves
 * out a member whose own stored files are damaged (`verify --all` names that member itself): what is left is a set
 * of the chain deleted or pruned, a damaged manifest, a member without the database.
 */
export function chainBreaks(cfg: Pick<LoadedConfig, 'backupDir'>, id: string, opts: { damage: boolean }): string[] {
  return breaksIn(readChainSets(cfg), id, opts).map(english);
}

/** chainBreaks as phrases (the menu says them in its language). */
export function chainBreakPhrases(
  cfg: Pick<LoadedConfig, 'backupDir'>,
  id: string,
  opts: { damage: boolean },
): Phrase[] {
  return breaksIn(readChainSets(cfg), id, opts);
}

/** Pure: chainBreaks among `sets` read once (readChainSets), each problem once. */
function breaksIn(sets: readonly ChainSet[], id: string, opts: { damage: boolean }): Phrase[] {
  const { chains } = setChain(sets, id);
  const broken = chains.filter((c) => c.problem && c.brokenAt !== id && (opts.damage || !c.damaged || !c.brokenAt));
  const said = broken.map((c) => c.problemPhrase ?? phrase('chain.raw', { text: c.problem! }));
  return said.filter((p, i) => said.findIndex((q) => english(q) === english(p)) === i);
}

/**
 * The sets with `chainProblems` (and their phrases) filled in for each differential or incremental whose chains
 * cannot be restored (chainBreaks, a member's damage included), as `list` shows them; the folder is read once, and
 * only when a set applies on another. Reads only.
 */
export function withChainProblems(cfg: Pick<LoadedConfig, 'backupDir'>, sets: SetSummary[]): SetSummary[] {
  if (!sets.some((s) => s.needs?.length)) return sets;
  const chainSets = readChainSets(cfg);
  return sets.map((s) => {
    const problems = s.needs?.length ? breaksIn(chainSets, s.id, { damage: true }) : [];
    return problems.length ? { ...s, chainProblems: problems.map(english), chainProblemPhrases: problems } : s;
  });
}

/**
 * `latest` for a restore (selectLatest), passing over a set that is known not to restore a database asked for: its
 * chain cannot be used (a member damaged, missing or failed), or its own stored file is missing, of another size,
 * or failed its verification. The newest set that restores, with those named among the sets passed over; when
 * every candidate is so, the first choice stands and its plan says why. `lacking` (a `--path` restore): what of the
 * paths asked for a set does not store (empty when it stores them all), asked newest first and only until one stores
 * them; a set lacking some is passed over too (its skipped entry has `paths`), and when none stores them `noneHolds`
 * gets the sets asked about (newest first) and its error is thrown.
 */
export async function selectUsableLatest(
  cfg: LoadedConfig,
  want: LatestWant,
  paths?: {
    lacking: (id: string) => string[];
    noneHolds: (looked: string[]) => Error;
  },
): Promise<SetSelection> {
  const first = await selectLatest(cfg, want);
  const sets = await listSets(cfg);
  const broken: SetSelection['skipped'] = [];
  const looked: string[] = [];
  let chainSets: ReturnType<typeof readChainSets> | null = null;
  let sel = first;
  for (;;) {
    const m = await readManifestHead(cfg, sel.setId, { shared: true });
    // Its chains, a whole copy's being itself: a stored file missing or of another size, or a failed verification.
    const asked = m.databases.filter((d) => d.file && !d.error && want.databases.includes(d.name));
    const problem = asked.map((d) => chainOf((chainSets ??= readChainSets(cfg)), m.id, d.name)).find((c) => c.problem);
    const lacks = problem || !paths ? [] : paths.lacking(m.id);
    if (!problem && !lacks.length) {
      if (!broken.length) return sel;
      const skipped = [...first.skipped, ...sel.skipped, ...broken].filter(
        (x, i, all) => all.findIndex((y) => y.id === x.id) === i,
      );
      return { ...sel, skipped: skipped.sort((a, b) => (a.id < b.id ? 1 : -1)) };
    }
    if (problem) broken.push({ id: m.id, lacks: [`a usable chain (${problem.problem})`] });
    else {
      looked.push(m.id);
      broken.push({ id: m.id, lacks, paths: true });
    }
    const next = chooseLatest(
      sets.filter((s) => !broken.some((b) => b.id === s.id)),
      want,
    );
    if (!next && paths && looked.length) throw paths.noneHolds(looked);
    if (!next) return first;
    const c = next.chosen;
    const holds = { databases: c.databases, failedDatabases: c.failedDatabases, files: c.files };
    sel = { asked: 'latest', setId: c.id, holds, skipped: next.skipped };
  }
}
