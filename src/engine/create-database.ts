import { promises as fsp, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  DiskFullError,
  InterruptedError,
  RespaldoError,
  builtForOtherNode,
  errorMessage,
  isDiskFull,
  nativeModuleError,
  isRespaldoError,
} from '../core/errors.js';
import { formatBytes } from '../core/format.js';
import { throttled, type Reporter } from '../core/events.js';
import {
  type BlockReader,
  type DatabaseConfig,
  type DatabaseEntry,
  type DatabaseError,
  type LoadedConfig,
  type StoredFile,
} from '../core/types.js';
import type { DriverContext, DumpMember, OpenedDump } from '../drivers/driver.js';
import { driverFor } from '../drivers/registry.js';
import { ensurePrivateDir, freeBytesAt, removeTree } from './fs-util.js';
import { planNextReads, takeNextRead, type NextReads } from './chain-sets.js';
import { storeStream } from './store.js';
import { mapAtOnce, MEMBERS_AT_ONCE } from './at-once.js';
import { AGE_EXTENSION, type Sealer } from './crypt.js';
import { readManifestHead } from './catalog.js';
import { writeLog } from './log.js';
import { codec } from './codec.js';
import { openStoredPart } from './stored-part.js';
import { chainFallbackPhrases, levelFor, type BackupPlan } from './create-plan.js';
import { english, phrase, said, sayingWithin, type Phrase } from '../core/phrases.js';

/** The phrases of a database's error (the manifest keeps its English), for the run's own error in the menu. */
const phrasesOfErrors = new WeakMap<DatabaseError, NonNullable<RespaldoError['phrases']>>();

/** The phrases of an entry's `error`, when the error that made it had them. */
export function errorPhrases(error: DatabaseError): RespaldoError['phrases'] {
  return phrasesOfErrors.get(error);
}

/**
 * The error of a run that stored none of what it had to (`backup`: no database stored; `safety`: the safety copy
 * of a restore, one database of it or several), its first failed database's error within: said in the menu's
 * language when that error has its phrases, its English reason inside the sentence otherwise. `hint` when that
 * error has none.
 */
export function runFailed(
  purpose: 'backup' | 'safety',
  failed: readonly DatabaseEntry[],
  hint: Phrase,
  details?: Record<string, unknown>,
): RespaldoError {
  const first = failed[0]?.error;
  const names = failed.map((d) => d.name).join(', ');
  const inner = first ? errorPhrases(first) : undefined;
  const id = purpose === 'safety' ? 'create.safetyNotTaken' : 'create.nothingBackedUp';
  const extra: Record<string, string> = purpose === 'safety' ? { failedDbs: names } : {};
  const message =
    inner?.message && !inner.aftermath
      ? sayingWithin(id, inner.message, extra).phrase
      : phrase(purpose === 'safety' ? 'create.safetyNotTakenWhy' : 'create.nothingBackedUpWhy', {
          ...extra,
          why: first?.message.replace(/\.$/, '') ?? '',
        });
  const hintSaid = first?.hint ? inner?.hint : hint;
  const err = new RespaldoError('failed', english(message), first?.hint ?? english(hint), details);
  err.phrases = { message, ...(hintSaid ? { hint: hintSaid } : {}) };
  return err;
}

/**
 * One database of a backup run: the driver's dump stored (compressed, hashed, encrypted) into the staging
 * folder, and its entry for the manifest; failures become the entry's `error`, never exceptions.
 */
export async function backupDatabase(
  cfg: LoadedConfig,
  db: DatabaseConfig,
  plan: BackupPlan,
  setId: string,
  staging: string,
  reporter: Reporter,
  signal: AbortSignal,
  purpose: 'backup' | 'safety',
  sealer?: Sealer,
): Promise<DatabaseEntry> {
  if (signal.aborted) throw new InterruptedError();
  const driver = driverFor(db.engine);
  const t0 = Date.now();
  const entry: DatabaseEntry = {
    name: db.name,
    engine: db.engine,
    file: null,
    format: '',
    compressed: false,
    rawBytes: 0,
    storedBytes: 0,
    md5: null,
    sha256: null,
    tables: null,
    durationMs: 0,
    error: null,
    details: {},
  };
  const scratchDir = join(staging, `.scratch-${db.name}`);
  reporter.emit({ type: 'item-start', item: db.name, kind: 'database' });
  const ctx: DriverContext = {
    reporter,
    signal,
    scratchDir,
    log: (message, fields) =>
      writeLog(cfg.backupDir, 'driver', { setId, db: db.name, message, ...fields }, cfg.secrets),
  };
  let cleanup: (() => Promise<void>) | undefined;
  try {
    await ensurePrivateDir(scratchDir);
    const planned = plan.databases.find((d) => d.name === db.name);
    // The base was chosen before the lock was taken: a delete in between makes this database a full.
    let baseGone: Phrase | undefined;
    const base = planned?.base
      ? await baseFor(cfg, planned.base, db.name, planNextReads.get(plan)).catch(
          (e: unknown) => void (baseGone = phrase('fallback.baseGone', { set: planned.base!, error: errorMessage(e) })),
        )
      : undefined;
    const session = await driver.backup(
      { db, type: planned?.type ?? plan.type, purpose, ...(base ? { base } : {}) },
      ctx,
    );
    cleanup = session.cleanup;
    const fellBack = baseGone ? english(baseGone) : session.fellBack;
    const fellBackPhrase = baseGone ?? session.fellBackPhrase;
    if (planned?.base && !fellBack) entry.base = planned.base;
    if (planned?.base && fellBack) {
      entry.details = { chainFallback: fellBack };
      if (fellBackPhrase) chainFallbackPhrases.set(entry, fellBackPhrase);
    }
    const extras: StoredFile[] = [];
    const level = plan.databases.find((d) => d.name === db.name)?.compressionLevel ?? levelFor(cfg, db, plan.codec);
    const ext = codec(plan.codec).extension;
    /** A file of this database stored (a dump's member, or a part beside the main file) as its manifest lists it. */
    const storedFile = (
      path: string,
      stored: Awaited<ReturnType<typeof storeStream>>,
      role: string,
      compress: boolean,
    ): StoredFile => ({
      file: path,
      compressed: compress,
      ...(compress ? { codec: plan.codec } : {}),
      rawBytes: stored.rawBytes,
      storedBytes: stored.storedBytes,
      md5: stored.md5,
      sha256: stored.sha256,
      role,
      ...(stored.plain ? { plain: stored.plain } : {}),
    });
    // Raw bytes of the parts stored before this one: a database's bytes done count on across its parts (the roles
    // after the dump), never back from 0.
    let partsRaw = 0;
    for (const part of session.parts) {
      if (signal.aborted) throw new InterruptedError();
      const role = part.role === 'main' ? '' : `.${part.role}`;
      const file = `databases/${db.name}_${setId}${role}.${part.extension}${part.compress ? ext : ''}${sealer ? AGE_EXTENSION : ''}`;
      const opened = await part.open();
      const before = partsRaw;
      const total =
        session.totalBytes !== undefined
          ? { totalBytes: session.totalBytes }
          : opened.totalBytes !== undefined
            ? { totalBytes: before + opened.totalBytes }
            : {};
      const progress = throttled((bytes) =>
        reporter.emit({ type: 'item-progress', item: db.name, bytes: before + bytes, ...total }),
      );
      // Members of a multi-file dump are stored several at once (MEMBERS_AT_ONCE) as the producer finishes them,
      // each a file of its own; their raw bytes count in the progress and in the entry's rawBytes, and their entries
      // follow in the order they were handed. Each is sealed (encrypted) on its own, like every stored file.
      let membersRaw = 0;
      // Bytes read of the members being stored and of `stream`, which are stored at the same time: the bytes done are
      // their sum (the table of contents, read last, said only its own and those of the members stored before).
      let membersNow = 0;
      let streamNow = 0;
      const report = (): void => progress(membersRaw + membersNow + streamNow);
      const storeMember = async (member: DumpMember, stop: AbortSignal): Promise<StoredFile> => {
        if (!/^[A-Za-z0-9_][A-Za-z0-9_.]*$/.test(member.name))
          throw new Error(`unexpected dump file name ${JSON.stringify(member.name)}`);
        const memberFile = `databases/${db.name}_${setId}.${member.name}${part.compress ? ext : ''}${sealer ? AGE_EXTENSION : ''}`;
        // Compressed, a member the driver can read into reused buffers is read so (flat memory).
        const source = (part.compress && member.reader?.()) || member.open();
        let now = 0;
        let stored: Awaited<ReturnType<typeof storeStream>>;
        try {
          stored = await storeStream(source, join(staging, memberFile), {
            compress: part.compress,
            codec: plan.codec,
            level,
            signal: stop,
            onProgress: (n) => {
              membersNow += n - now;
              now = n;
              report();
            },
            ...(sealer ? { sealer } : {}),
          });
        } catch (err) {
          // A reader the store never started is closed here (the dump waits for every member it handed to be read
          // or closed); closing twice is harmless.
          if (source instanceof Readable) source.destroy();
          else await source.close().catch(() => undefined);
          throw err;
        } finally {
          membersNow -= now;
        }
        membersRaw += stored.rawBytes;
        await member.stored();
        return storedFile(memberFile, stored, member.role, part.compress);
      };
      const storeMembers = async (members: AsyncIterable<DumpMember>): Promise<void> => {
        extras.push(...(await mapAtOnce(members, MEMBERS_AT_ONCE, signal, storeMember)));
      };
      const finished = Promise.allSettled([opened.finished]);
      const [storing, membering] = await Promise.allSettled([
        storeStream(readerInstead(opened, part.compress) ?? opened.stream, join(staging, file), {
          ...(opened.file ? { sourceFile: opened.file } : {}),
          compress: part.compress,
          codec: plan.codec,
          level,
          signal,
          onProgress: (n) => {
            streamNow = n;
            report();
          },
          ...(sealer ? { sealer } : {}),
        }),
        opened.members ? storeMembers(opened.members) : Promise.resolve(),
      ]);
      // Every byte is read: what the producer still does is named, at the bytes it reached.
      if (opened.settling && storing.status === 'fulfilled' && membering.status === 'fulfilled') {
        const bytes = before + membersRaw + storing.value.rawBytes;
        reporter.emit({ type: 'item-progress', item: db.name, bytes, ...total, ...opened.settling });
      }
      const [finishing] = await finished;
      // The producer's own failure explains more than the broken pipe it caused.
      if (finishing.status === 'rejected') throw finishing.reason;
      if (membering.status === 'rejected') throw membering.reason;
      if (storing.status === 'rejected') throw storing.reason;
      const stored = storing.value;
      const facts = finishing.value;
      partsRaw += stored.rawBytes + membersRaw;
      if (part.role === 'main') {
        Object.assign(entry, {
          file,
          format: part.format,
          compressed: part.compress,
          ...(part.compress ? { codec: plan.codec } : {}),
          rawBytes: stored.rawBytes + membersRaw,
          storedBytes: stored.storedBytes,
          md5: stored.md5,
          sha256: stored.sha256,
          tables: facts.tables,
          details: { ...entry.details, ...facts.details, ...(part.compress ? { [`${plan.codec}Level`]: level } : {}) },
          ...(stored.plain ? { plain: stored.plain } : {}),
        });
      } else {
        extras.push(storedFile(file, stored, part.role, part.compress));
      }
    }
    if (extras.length) entry.extras = extras;
    entry.durationMs = Date.now() - t0;
    // Stored: the main file and its extras (a directory dump's main file is its table of contents alone).
    const storedBytes = entry.storedBytes + extras.reduce((n, x) => n + x.storedBytes, 0);
    reporter.emit({
      type: 'item-end',
      item: db.name,
      ok: true,
      bytes: storedBytes,
      durationMs: entry.durationMs,
    });
    writeLog(
      cfg.backupDir,
      'database',
      {
        setId,
        db: db.name,
        engine: db.engine,
        bytes: entry.storedBytes,
        rawBytes: entry.rawBytes,
        durationMs: entry.durationMs,
        outcome: 'ok',
      },
      cfg.secrets,
    );
  } catch (caught) {
    if (signal.aborted) throw new InterruptedError();
    const full = isDiskFull(caught);
    if (!full && !isRespaldoError(caught) && !(caught instanceof Error && 'code' in caught)) throw caught;
    entry.durationMs = Date.now() - t0;
    for (const f of [entry.file].filter(Boolean)) await fsp.rm(join(staging, f!), { force: true });
    Object.assign(entry, { file: null, md5: null, sha256: null, rawBytes: 0, storedBytes: 0 });
    await removePartFiles(staging, db.name, setId);
    // The free space is told once this database's partial files are gone: the disk had just filled (0 B).
    if (full) await removeTree(scratchDir);
    const err = builtForOtherNode(caught)
      ? nativeModuleError(caught as Error)
      : full
        ? diskFull(cfg.backupDir, db.name, await freeSpace(cfg.backupDir), purpose)
        : caught;
    const hint = isRespaldoError(err) ? (err.hint ?? null) : null;
    entry.error = { message: errorMessage(err), hint };
    const phrases = isRespaldoError(err) ? err.phrases : undefined;
    if (phrases) phrasesOfErrors.set(entry.error, phrases);
    reporter.emit({
      type: 'item-end',
      item: db.name,
      ok: false,
      durationMs: entry.durationMs,
      error: entry.error.message,
      ...(hint ? { hint } : {}),
      ...(phrases?.message && !phrases.aftermath ? { errorPhrase: phrases.message } : {}),
      ...(hint && phrases?.hint ? { hintPhrase: phrases.hint } : {}),
    });
    writeLog(
      cfg.backupDir,
      'database',
      {
        setId,
        db: db.name,
        engine: db.engine,
        durationMs: entry.durationMs,
        outcome: 'failed',
        error: entry.error.message,
      },
      cfg.secrets,
    );
  } finally {
    await cleanup?.().catch((e: unknown) =>
      reporter.emit({ type: 'warning', item: db.name, ...said('warn.cleanupFailed', { error: errorMessage(e) }) }),
    );
    await removeTree(scratchDir);
  }
  return entry;
}

async function removePartFiles(staging: string, name: string, setId: string): Promise<void> {
  const dir = join(staging, 'databases');
  for (const f of readdirSync(dir))
    if (f.startsWith(`${name}_${setId}`)) await fsp.rm(join(dir, f), { force: true, recursive: true });
}

/** What a driver gets of the base a database's delta applies on: the base set's entry and its stored parts. */
async function baseFor(
  cfg: LoadedConfig,
  baseId: string,
  name: string,
  reads?: NextReads,
): Promise<NonNullable<import('../drivers/driver.js').BackupRequest['base']>> {
  const m = await readManifestHead(cfg, baseId);
  const entry = m.databases.find((d) => d.name === name);
  if (!entry?.file)
    throw new RespaldoError(
      'failed',
      `Set ${baseId}, the base of this ${name} backup, holds no stored copy of ${name}.`,
      'Run a full backup: respaldo create --type full',
    );
  const dir = join(cfg.backupDir, baseId);
  return {
    setId: baseId,
    entry,
    openPart: (role) => openStoredPart(dir, entry, role),
    read: (role) => takeNextRead(reads, baseId, name, role),
  };
}

/** The dump's own reader where it offers one and the engine compresses (its stream then destroyed unread). */
function readerInstead(opened: OpenedDump, compress: boolean): BlockReader | undefined {
  if (!compress || !opened.reader) return undefined;
  opened.stream.destroy();
  return opened.reader();
}

/** Free space on the disk of `dir`, for messages (null when it cannot be read). */
export async function freeSpace(dir: string): Promise<string | null> {
  const free = await freeBytesAt(dir);
  return free === null ? null : formatBytes(free);
}

/** The disk of the backup folder filled while storing database `db` (of a backup, or of a restore's safety copy). */
function diskFull(dir: string, db: string, free: string | null, purpose: 'backup' | 'safety'): DiskFullError {
  const err = new DiskFullError(
    dir,
    `storing ${db}`,
    free,
    purpose === 'safety'
      ? 'then run the restore again (or restore side by side with --to, which needs no safety copy). Nothing was changed.'
      : undefined,
  );
  const message = phrase('error.diskFullStoring', { dir, free: free ?? '', db });
  return err.withPhrases(message, phrase(purpose === 'safety' ? 'error.diskFullSafetyHint' : 'error.diskFullHint'));
}
