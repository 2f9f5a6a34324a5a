import { statSync } from 'node:fs';
import { RespaldoError, UsageError } from '../core/errors.js';
import { english, nestedPhrase, phrase, type Phrase } from '../core/phrases.js';
import {
  CHAIN_TYPES,
  type BackupType,
  type ChainType,
  type CodecName,
  type DatabaseConfig,
  type DatabaseEntry,
  type LoadedConfig,
  type SetType,
} from '../core/types.js';
import { configuredDatabase } from '../config/lookup.js';
import type { LockWait } from './lock.js';
import type { CopyResult } from './copy.js';
import { driverFor } from '../drivers/registry.js';
import { encryptsLocally } from './crypt.js';
import { codec, defaultCodecName } from './codec.js';
import { chooseBase, type ChainSet } from './chain.js';

/** C0 and C1 control characters: a description is shown on terminals, where they would act, not read. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Planning a backup (pure): which databases, which type each gets (a delta on a base, or a full and why),
 * the codec and level of each. create.ts runs the plan.
 */
export interface CreateOptions {
  /** Database names (default: all in the config). */
  databases?: string[];
  type?: BackupType;
  /** Include config and application files (default true). */
  files?: boolean;
  description?: string;
  /** Scheduler job name, recorded in the manifest. */
  job?: string;
  signal?: AbortSignal;
  /** Wait for a live holder of the backup folder lock instead of failing at once (the scheduler; see LockWait). */
  lockWait?: LockWait;
  /**
   * The backup folder (device and inode) the scheduler started on: a backup refuses, and alerts, when the folder is
   * another by now (its disk unmounted: the scheduler's log lines made it again on the mount point).
   */
  backupDirIs?: FolderId;
  /** Differential and incremental: the published sets bases are chosen from (createBackup reads them). */
  chainSets?: readonly ChainSet[];
  /**
   * Back up even onto the data disk of a PostgreSQL server on this machine with less room than the newest set of the
   * same type needed (refused otherwise: see create-room.ts).
   */
  ignoreFreeSpace?: boolean;
  /** Told what the off-site copies after the backup did, one result a destination (none: no copy was due). */
  onCopied?: (results: readonly CopyResult[]) => void;
}

/** A printable plan of one backup run. Pure data. */
export interface BackupPlan {
  setType: SetType;
  type: BackupType;
  /**
   * `compressionLevel`: the level of this database's dump in `codec` (see levelFor). Differential and
   * incremental runs: `type` is what this database gets, `base` the set it applies on, `fallback` why
   * it is stored as a full instead (and `fallbackPhrase` the same as a phrase), `onFull` why an incremental is a
   * differential on the full `base` instead (chooseBase `asDifferential`; `onFullPhrase` the same as a phrase).
   */
  databases: {
    name: string;
    engine: string;
    location: string;
    compressionLevel: number;
    type?: BackupType;
    base?: string;
    fallback?: string;
    /** `fallback` as a phrase (the menu says it in its language). */
    fallbackPhrase?: Phrase;
    onFull?: string;
    onFullPhrase?: Phrase;
  }[];
  files: boolean;
  /** Codec of every compressed file of the set (see codecFor). */
  codec: CodecName;
  /** Level of the copied files in `codec`. */
  compressionLevel: number;
  description: string | null;
  job: string | null;
  restoreOf: string | null;
  /** The type asked for when no database could be stored as it (every one fell back to a full). */
  requestedType?: BackupType;
}

/** gzip level when neither the config nor the engine says otherwise. */
export const DEFAULT_GZIP_LEVEL = 6;

/**
 * The codec of new sets: `compression.codec`, else zstd where this Node has it (22.15+), else gzip.
 * A configured zstd on a Node without it is an operator error naming the Node to use.
 */
export function codecFor(cfg: Pick<LoadedConfig, 'compression' | 'file'>): CodecName {
  const name = cfg.compression.codec ?? defaultCodecName();
  if (!codec(name).available()) {
    throw new UsageError(
      `${cfg.file}: compression.codec is "${name}", which Node ${process.versions.node} does not have.`,
      'Run respaldo on Node 22.15 or later (24 LTS recommended), or set compression.codec to "gzip".',
    );
  }
  return name;
}

/**
 * Pure: the level of one database's dump in `codecName`: `databases[].compressionLevel`, else
 * `compression.level`, else for gzip the engine's default (PostgreSQL 1: pg_dump streams faster than
 * gzip -6 compresses on a small machine) or DEFAULT_GZIP_LEVEL, for zstd the codec's default (3).
 */
export function levelFor(cfg: Pick<LoadedConfig, 'compression'>, db: DatabaseConfig, codecName: CodecName): number {
  const configured = db.compressionLevel ?? cfg.compression.level;
  if (configured !== undefined) return configured;
  if (codecName === 'zstd') return codec('zstd').defaultLevel;
  return driverFor(db.engine).defaultCompressionLevel ?? DEFAULT_GZIP_LEVEL;
}

/** Pure: the gzip level of one database's dump (levelFor with gzip). */
export function gzipLevelFor(cfg: Pick<LoadedConfig, 'compression'>, db: DatabaseConfig): number {
  return levelFor(cfg, db, 'gzip');
}

/** Why an encrypted local set stores every database whole (README "Backup chains"), and how to keep chains. */
export const ENCRYPTED_FULL = english(phrase('fallback.encrypted'));

/**
 * Pure: what a `create` with these options will do. Unknown names are not found (exit 8), unsupported
 * types usage errors.
 */
export function planBackup(
  cfg: LoadedConfig,
  opts: CreateOptions & { setType?: SetType; restoreOf?: string },
): BackupPlan {
  const type = opts.type ?? 'full';
  const codecName = codecFor(cfg);
  const wanted = opts.databases?.length ? opts.databases : cfg.databases.map((d) => d.name);
  const chainType = (CHAIN_TYPES as readonly string[]).includes(type) ? (type as ChainType) : null;
  const dbs = wanted.map((name) => {
    const db = configuredDatabase(cfg, name);
    const driver = driverFor(db.engine);
    if (chainType) {
      const where = {
        name: db.name,
        engine: db.engine,
        location: driver.describe(db),
        compressionLevel: levelFor(cfg, db, codecName),
      };
      const full = (why: Phrase) => ({ ...where, type: 'full' as const, fallback: english(why), fallbackPhrase: why });
      if (!driver.chains?.includes(chainType))
        return full(phrase('fallback.noChains', { engine: db.engine, type: chainType }));
      const optedOut = driver.chainFallback?.(db, chainType);
      if (optedOut) return full(optedOut);
      // A delta is made and restored against its base's stored files, which are ciphertext in an encrypted set:
      // by design (write-only backups), not for now, and the way to chains is said.
      if (encryptsLocally(cfg.encryption)) {
        return full(phrase('fallback.encrypted'));
      }
      const choice = chooseBase(opts.chainSets ?? [], chainType, db.name, new Date());
      if (!('base' in choice)) return full(choice.fallbackPhrase);
      if (choice.asDifferential) {
        const why = choice.asDifferential;
        return { ...where, type: 'differential' as const, base: choice.base, onFull: english(why), onFullPhrase: why };
      }
      return { ...where, type: chainType, base: choice.base };
    }
    if (!driver.types.includes(type)) {
      throw new UsageError(
        `${db.engine} cannot make a "${type}" backup of ${db.name}.`,
        `Use --type ${driver.types.join(' or ')}, or leave ${db.name} out with --db.`,
      );
    }
    return {
      name: db.name,
      engine: db.engine,
      location: driver.describe(db),
      compressionLevel: levelFor(cfg, db, codecName),
    };
  });
  const files = opts.files !== false && (opts.setType ?? type) !== 'pre_restore';
  if (!dbs.length && !(files && (cfg.files.config.length || cfg.files.application.length))) {
    throw new UsageError(
      'Nothing to back up: no databases and no files are configured.',
      `Add databases or files to ${cfg.file}.`,
    );
  }
  if (opts.description !== undefined && CONTROL.test(opts.description)) {
    throw new UsageError(
      'The description holds a control character (an escape sequence, a tab or a line break).',
      'Write it as plain text on one line; nothing was backed up.',
    );
  }
  const deltas = dbs.filter((d) => 'base' in d && d.base);
  const allFull = chainType !== null && !deltas.length;
  // An incremental whose every delta applies on a full (chooseBase asDifferential) is a differential set.
  const onFull = chainType !== null && !allFull && deltas.every((d) => 'type' in d && d.type === 'differential');
  const madeType = allFull ? 'full' : onFull ? 'differential' : type;
  return {
    setType: opts.setType ?? madeType,
    type,
    ...(chainType !== null && madeType !== type ? { requestedType: type } : {}),
    databases: dbs,
    files,
    codec: codecName,
    compressionLevel: cfg.compression.level ?? codec(codecName).defaultLevel,
    description: opts.description ?? null,
    job: opts.job ?? null,
    restoreOf: opts.restoreOf ?? null,
  };
}

/**
 * The phrase of an entry's `details.chainFallback` (BackupSession.fellBackPhrase), for the run that made it: the
 * manifest keeps the English only, chainFacts says the note as a phrase with it.
 */
export const chainFallbackPhrases = new WeakMap<DatabaseEntry, Phrase>();

/**
 * Pure: what a differential or incremental run became: its type (the one asked for when some database
 * was stored as a delta, `differential` when every delta is a differential on the full instead of an incremental
 * (`onFull`), else `full`), the newest base its entries apply on, and one note per database stored whole or on
 * the full instead, with the reason (the plan's, or the driver's own: `details.chainFallback`), in English
 * (`chainNotes`, as the manifest keeps them) and as phrases (`chainNotePhrases`, for the menu). Empty for other
 * types.
 */
export function chainFacts(
  plan: BackupPlan,
  entries: readonly DatabaseEntry[],
): { type?: SetType; base?: string | null; chainNotes?: string[]; chainNotePhrases?: Phrase[] } {
  if (!(CHAIN_TYPES as readonly string[]).includes(plan.type) || plan.setType === 'pre_restore') return {};
  const based = entries.filter((e) => e.base && !e.error);
  const bases = based.map((e) => e.base!).sort();
  const notes: Phrase[] = [];
  for (const p of plan.databases) {
    const e = entries.find((x) => x.name === p.name);
    if (!e || e.error) continue;
    if (e.base && p.onFull !== undefined) {
      const inner = nestedPhrase(p.onFullPhrase);
      notes.push(
        phrase('chain.storedOnFull', { db: p.name, type: plan.type, set: e.base, problem: p.onFull, ...inner }),
      );
      continue;
    }
    const why =
      p.fallback ?? (typeof e.details['chainFallback'] === 'string' ? (e.details['chainFallback'] as string) : null);
    if (why) {
      const inner = nestedPhrase(p.fallback !== undefined ? p.fallbackPhrase : chainFallbackPhrases.get(e));
      notes.push(phrase('chain.storedFull', { db: p.name, type: plan.type, problem: why, ...inner }));
    }
  }
  const onFulls = based.every((e) => plan.databases.find((p) => p.name === e.name)?.onFull !== undefined);
  return {
    type: bases.length ? (onFulls ? 'differential' : plan.type) : 'full',
    base: bases.at(-1) ?? null,
    ...(notes.length ? { chainNotes: notes.map(english), chainNotePhrases: notes } : {}),
  };
}

/** A folder as the file system knows it, to tell it from another made at its path. */
export interface FolderId {
  dev: number;
  ino: number;
}

/**
 * The error of a scheduled backup whose backup folder is no longer the one the scheduler started on (gone, or made
 * again on the mount point of a disk unmounted meanwhile), else null: its sets went, unseen, to the disk under it.
 */
export function folderReplaced(dir: string, was: FolderId): RespaldoError | null {
  const now = statSync(dir, { throwIfNoEntry: false });
  if (now && now.dev === was.dev && now.ino === was.ino) return null;
  const message = phrase('create.folderReplaced', { dir });
  const hint = phrase('create.folderReplacedHint', { dir });
  return new RespaldoError('failed', english(message), english(hint)).withPhrases(message, hint);
}
