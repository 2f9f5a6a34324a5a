import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  InterruptedError,
  RefusedError,
  RespaldoError,
  VerifyError,
  errorMessage,
  isDiskFull,
} from '../core/errors.js';
import { formatBytes, printedName } from '../core/format.js';
import { silentReporter, type Reporter } from '../core/events.js';
import { english, phrase, said, type Said } from '../core/phrases.js';
import type { DatabaseConfig, LoadedConfig, Manifest } from '../core/types.js';
import type { Decrypter } from './age-header.js';
import type { DriverContext, RestoreRequest } from '../drivers/driver.js';
import { driverFor } from '../drivers/registry.js';
import { deleteSetUnlocked, readManifestHead, recordDamaged, setDir } from './catalog.js';
import { executeBackup, planBackup } from './create.js';
import { runFailed } from './create-database.js';
import {
  decryptedFiles,
  decryptedView,
  decryptingReader,
  decryptSet,
  eachEncryptedPart,
  openStored,
  passphraseSample,
  withFirstFile,
} from './decrypt-set.js';
import { decrypterFor, type PassphraseSample } from './crypt.js';
import { RESTORE_ROOM, freeBytesAt } from './fs-util.js';
import { writeLog } from './log.js';
import { localReader, openStoredPart, type StoredReader } from './stored-part.js';
import type { RemoteFiles } from './remote-read.js';
import { damagedThereHint } from './remote.js';
import { sweepTemps } from './temp-journal.js';
import { cleanLeftovers, removeDeadRunScratch, stopOrphansOfDeadRuns, withLocalRecovery } from './create-recover.js';
import { badFilesError, checkFiles, expectedFiles, expectedOfFiles, type FileCheck } from './verify.js';
import { dbConfig, setsRoot, type RestorePlan } from './restore-plan.js';
import { heldFiles, readManifestLean, type ManifestFiles } from './manifest.js';
import { finishInterruptedSwapBacks } from './restore-safety-sets.js';

/**
 * What a restore does before it touches any database or file: verify every stored file it will read
 * (the set's and its chains'), decrypt an encrypted set into the scratch folder, finish what killed
 * runs left, and keep the SQLite files it replaces in a pre_restore set. Why one file of about 480 lines: each
 * step is one of those done before the first change, and they share how a refusal there is logged and said.
 */

/** The sets an entry with a base applies on, oldest first (RestoreRequest.chain). */
export type ChainSteps = NonNullable<RestoreRequest['chain']>;

/**
 * Verifies every stored file the plan reads against its manifest, chain members included; returns the
 * chain of each database restored from a chain. Throws VerifyError (logged as a refused restore) when
 * a file is changed, truncated or missing. With `remote` (a restore streaming from a destination) the files
 * are not read here: their presence and sizes were checked there, and each is checked as it is read; an
 * encrypted chain member is decrypted as it is read.
 */
export async function verifyForRestore(
  cfg: LoadedConfig,
  plan: RestorePlan,
  m: Manifest,
  dir: string,
  reporter: Reporter,
  remote?: RemoteFiles,
  files: ManifestFiles = heldFiles(m.files),
): Promise<Map<string, ChainSteps>> {
  // Streamed: nothing is verified here (no verify item); the files are checked as they are read.
  if (!remote) reporter.emit({ type: 'item-start', item: 'verify', kind: 'verify' });
  const own = expectedFiles(
    m,
    plan.databases.map((d) => d.database),
    false,
    { forRestore: true },
  );
  // The entries of its files gone through as they are checked (`files`: read again from the manifest), none held.
  const wanted = function* (): Generator<(typeof own)[number]> {
    yield* own;
    if (plan.files) yield* expectedOfFiles(files.entries(), m.codec);
  };
  // Fetched a moment ago, each file hashed as it arrived, or hashed as the restore reads it: present with its
  // size is enough here.
  const hash = plan.options.fetchedFrom === undefined && !plan.options.checkAsRead;
  // Only the files that fail are kept: a result per file held 40 MiB more of heap at 100 000 files.
  const failed = (c: FileCheck): boolean => !c.ok;
  const bad = remote ? [] : await checkFiles(dir, wanted, reporter, { hash, keep: failed });
  // A set of this folder found damaged is recorded as a failed verification (list, status --check say it).
  const local = !remote && !plan.options.setFolder;
  const damaged = (id: string, files: string[]) =>
    local ? recordDamaged(cfg, id, files).catch(() => undefined) : undefined;
  if (bad.length)
    await damaged(
      m.id,
      bad.map((b) => b.path),
    );
  const chains = new Map<string, ChainSteps>();
  for (const d of plan.databases.filter((x) => x.chain)) {
    const steps: ChainSteps = [];
    for (const member of d.chain!.slice(0, -1)) {
      const memberDir = join(setsRoot(cfg, plan.options), member.id);
      // Its head: a member gives a database's stored files, never its own files (a chain of sets of 100 000 files
      // read each whole)
      const stored = plan.options.setFolder
        ? readManifestLean(memberDir, { remember: false }).head
        : await readManifestHead(cfg, member.id, { shared: true });
      const opened = remote ? await remote.open(stored) : null;
      const mm = opened?.manifest ?? stored;
      const read =
        opened?.read ??
        (plan.options.checkAsRead
          ? checkingReader(memberDir, mm, d.database, (file) => damaged(mm.id, [file]))
          : localReader(memberDir, d.database));
      const memberEntry = mm.databases.find((x) => x.name === d.database);
      if (!memberEntry?.file) {
        bad.push({
          path: `${mm.id}: ${d.database}`,
          ok: false,
          problem: 'no stored copy (the chain changed since the plan)',
          bytes: 0,
        });
        continue;
      }
      const memberFiles = expectedFiles(mm, [d.database], false, { forRestore: true });
      const found = remote ? [] : await checkFiles(memberDir, memberFiles, reporter, { hash, keep: failed });
      if (found.length)
        await damaged(
          mm.id,
          found.map((c) => c.path),
        );
      bad.push(...found.map((c) => ({ ...c, path: `${mm.id}/${c.path}` })));
      steps.push({ setId: mm.id, entry: memberEntry, openPart: (role) => openStoredPart(read, memberEntry, role) });
    }
    chains.set(d.database, steps);
  }
  if (!remote)
    reporter.emit({
      type: 'item-end',
      item: 'verify',
      ok: !bad.length,
      ...(bad.length ? badFilesError(bad) : {}),
    });
  if (bad.length) {
    writeLog(
      cfg.backupDir,
      'restore-end',
      {
        setId: m.id,
        outcome: 'refused',
        reason: 'verify failed',
        problems: bad.map((b) => `${b.path}: ${b.problem}`),
      },
      cfg.secrets,
    );
    const message = phrase('error.restoreVerify', {
      set: m.id,
      problems: bad.map((b) => `${printedName(b.path)}: ${b.problem}`).join('; '),
    });
    const hint = phrase('error.restoreVerifyHint');
    throw endLogged(new VerifyError(english(message), english(hint), { files: bad }).withPhrases(message, hint));
  }
  return chains;
}

/**
 * An encrypted set decrypted whole into `scratchRoot`, each file authenticated, before anything is
 * touched: the decrypted view of the manifest and the reader of its files. When the backup folder has no room
 * for the plaintext, each file is decrypted as the restore reads it instead (the stored files were verified
 * against the manifest just before; age releases only authenticated chunks and the plaintext's hashes are checked
 * at each file's end, so a damaged file still fails before its database is swapped). Failures are logged as a
 * refused restore. A restore of the files alone checked as read (RestoreOptions.checkAsRead) decrypts nothing here:
 * it gets the encrypted manifest and the decrypter, and restore-files.ts decrypts each file as it restores it.
 * `entries`: the set's file entries the restore reads (a manifest read lean: `m.files` empty), gone through for each
 * pass and handed back decrypted as they are read, none held; to a restore decrypting as it reads, as they are (its
 * reader decrypts each file by its encrypted entry).
 */
export async function decryptForRestore(
  cfg: LoadedConfig,
  plan: RestorePlan,
  m: Manifest,
  entries: ManifestFiles,
  dir: string,
  scratchRoot: string,
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<{ manifest: Manifest; entries: ManifestFiles; read: StoredReader; decrypter?: Decrypter }> {
  const sel = { databases: plan.databases.map((d) => d.database), files: Boolean(plan.files), entries };
  const sample = (): PassphraseSample | null => passphraseSample(withFirstFile(m, entries), openStored(dir));
  try {
    // The files alone, read once (readsFilesOnce): each stored file is decrypted as it is restored into the partial
    // folder, its ciphertext hashed on the way; the key is checked here, before.
    if (readsFilesOnce(plan, m)) {
      const decrypter = await decrypterFor(cfg, m.encryption!, m.id, sample());
      return { manifest: m, entries, read: localReader(dir, m.id), decrypter };
    }
    let plainBytes = 0;
    for (const p of eachEncryptedPart(m, sel.databases, sel.files, false, entries)) plainBytes += p.plain?.bytes ?? 0;
    const free = await freeBytesAt(scratchRoot);
    if (free !== null && plainBytes + RESTORE_ROOM > free) {
      const decrypter = await decrypterFor(cfg, m.encryption!, m.id, sample());
      const room = {
        dir: cfg.backupDir,
        id: m.id,
        needed: formatBytes(plainBytes + RESTORE_ROOM),
        free: formatBytes(free),
      };
      reporter.emit({ type: 'warning', ...said('note.decryptAsRestored', room) });
      // Each file read by its encrypted entry (StoredReader's `entry`): none held.
      return { manifest: decryptedView(m), entries, read: decryptingReader(decrypter, localReader(dir, m.id), m) };
    }
    const whole = await decryptSet(cfg, m, dir, join(scratchRoot, 'decrypted'), sel, reporter, signal).catch(
      async (raw: unknown) => {
        if (!isDiskFull(raw)) throw raw;
        const free = await freeBytesAt(scratchRoot);
        throw new RespaldoError(
          'failed',
          `No space left on the disk of the backup folder ${cfg.backupDir}${free === null ? '' : ` (${formatBytes(free)} free)`} while decrypting set ${m.id} for the restore: its files are decrypted there whole before anything is restored. Nothing was restored.`,
          'Free space on that disk (`respaldo prune --dry-run` shows what retention would remove, `respaldo delete <id>` removes one set), then run the restore again.',
          { backupDir: cfg.backupDir },
        );
      },
    );
    return { manifest: whole.manifest, entries: decryptedFiles(entries), read: localReader(whole.dir, m.id) };
  } catch (raw) {
    // Stopped (Ctrl-C, a hang-up): the restore says and logs it as interrupted, not refused.
    if (raw instanceof InterruptedError) throw raw;
    const err = damageThere(cfg, plan, m.id, raw);
    const reason = err instanceof RespaldoError ? err.kind : 'failed';
    writeLog(
      cfg.backupDir,
      'restore-end',
      { setId: m.id, outcome: 'refused', reason, error: errorMessage(err) },
      cfg.secrets,
    );
    throw endLogged(err);
  }
}

/**
 * Whether a restore reads each stored file once, checked (an encrypted one decrypted) on its way into the partial
 * folder its files are written in, which a file that fails removes, all of it: a restore of the files alone checked
 * as read (RestoreOptions.checkAsRead), or of the files alone of an encrypted set fetched from a destination a moment
 * ago. Such a set was decrypted whole into the scratch folder first, then restored from there: at 100 000 files of
 * 100 bytes, 93 s and a peak of 174 MiB after the fetch, where a local set's files restored in 52 s at 126 MiB.
 */
export function readsFilesOnce(plan: RestorePlan, m: Pick<Manifest, 'encryption'>): boolean {
  if (plan.databases.length || !plan.files) return false;
  return plan.options.checkAsRead === true || (plan.options.fetchedFrom !== undefined && Boolean(m.encryption));
}

/**
 * `raw` as said of set `id` fetched from a destination (RestoreOptions.fetchedFrom): damage found in it is the
 * destination's, so its hint names that destination, not this server's backups (a phrase, as the other damage found
 * there: the menu says it in its language). Anything else, or a set not fetched, as it is.
 */
export function damageThere(cfg: LoadedConfig, plan: RestorePlan, id: string, raw: unknown): unknown {
  const from = plan.options.fetchedFrom;
  if (!(raw instanceof VerifyError) || from === undefined) return raw;
  const hint = damagedThereHint(cfg, from, id);
  return raw.phrases?.message
    ? new VerifyError(raw.message, english(hint)).withPhrases(raw.phrases.message, hint)
    : new VerifyError(raw.message, english(hint)).withHintPhrase(hint);
}

const logged = new WeakSet<object>();

/** Marks an error whose restore-end line was written (refused before anything was touched); returns it. */
function endLogged<E>(err: E): E {
  if (err !== null && typeof err === 'object') logged.add(err);
  return err;
}

/** Whether the restore-end line of this error was written already: the restore's own catch writes no second one. */
export function restoreEndLogged(err: unknown): boolean {
  return err !== null && typeof err === 'object' && logged.has(err);
}

/**
 * Finishes what killed runs left (their processes and scratch folders, journaled temporary paths, rollbacks cut
 * short, each driver's `recover` for the databases of the plan and those that leave only local files); one line
 * per action.
 */
export async function recoverBeforeRestore(
  cfg: LoadedConfig,
  plan: RestorePlan,
  reporter: Reporter,
  ctxFor: (db: DatabaseConfig) => DriverContext,
): Promise<Said[]> {
  const recovered: Said[] = [];
  recovered.push(...(await stopOrphansOfDeadRuns(cfg.backupDir)));
  recovered.push(...(await removeDeadRunScratch(cfg)));
  recovered.push(...(await sweepTemps(cfg.backupDir)));
  // A killed run's staging folder (`.tmp-<set id>`: a create, or the safety copy of a restore in place): status
  // says the next create or restore removes it, and a restore side by side, which stages no set, left it.
  recovered.push(...(await cleanLeftovers(cfg)));
  recovered.push(...(await finishInterruptedSwapBacks(cfg, reporter)));
  for (const name of withLocalRecovery(
    cfg,
    plan.databases.map((d) => d.database),
  )) {
    const db = dbConfig(cfg, name);
    recovered.push(...(await driverFor(db.engine).recover(db, ctxFor(db))));
  }
  return recovered;
}

/** A pre_restore set taken before a restore, with what named each of its targets then. */
export interface SafetySet {
  id: string;
  /** Each database in the set → its target's TargetState.identity when the copy was taken. */
  identities: Map<string, string | undefined>;
  /** Databases kept as raw bytes (unreadable, or left with a hot journal): no restore takes them back. */
  raw?: string[];
}

/**
 * Keeps the databases the plan replaces whose safety copy is a set (`pre-restore-set` drivers) in a
 * pre_restore set; returns it, or null when none of them exists. Refuses while one is open in
 * another process; throws when the safety copy fails (nothing was restored).
 */
export async function keepReplacedFiles(
  cfg: LoadedConfig,
  plan: RestorePlan,
  setId: string,
  reporter: Reporter,
  signal: AbortSignal,
): Promise<SafetySet | null> {
  const needSet = plan.databases.filter((d) => d.replaces && d.safety.kind === 'pre-restore-set');
  const stillThere: string[] = [];
  const identities = new Map<string, string | undefined>();
  for (const d of needSet) {
    const db = dbConfig(cfg, d.database);
    const state = await driverFor(db.engine).inspectTarget(db, d.restoreTarget);
    if (state.inUseBy.length) {
      const message = phrase('refuse.inUse', { target: d.target, users: state.inUseBy.join(', ') });
      const hint = phrase('refuse.inUseHint');
      throw new RefusedError(english(message), english(hint)).withPhrases(message, hint);
    }
    if (!state.exists) continue;
    stillThere.push(d.database);
    identities.set(d.database, state.identity);
  }
  if (stillThere.length) {
    reporter.emit({ type: 'info', ...said('note.safetyTaking', { dbs: stillThere.join(', ') }) });
    const safetyPlan = planBackup(cfg, {
      databases: stillThere,
      files: false,
      setType: 'pre_restore',
      restoreOf: setId,
      description: `safety copy before restoring set ${setId}`,
    });
    const safety = await executeBackup(cfg, safetyPlan, reporter, signal, 'safety');
    if (safety.status !== 'completed') {
      // The copies that were taken duplicate what is still live: the partial set goes, as after any failed restore.
      if (await dropUnusedSafetySet(cfg, plan, { id: safety.id, identities }, []))
        reporter.emit({ type: 'info', ...said('note.safetyRemoved', { id: safety.id }) });
      const failed = safety.databases.filter((x) => x.error);
      throw runFailed('safety', failed, phrase('restore.safetyNotTakenHint'));
    }
    const raw = safety.databases.filter((x) => x.format.endsWith('-raw')).map((x) => x.name);
    return { id: safety.id, identities, ...(raw.length ? { raw } : {}) };
  }
  return null;
}

/**
 * After a restore that failed or was interrupted: when none of the databases in its safety set was
 * replaced (none restored, each target still the file it was when the copy was taken), that copy
 * duplicates what is live, and each retry would add one more: it is deleted. Kept whenever anything
 * may have changed (an engine that cannot tell, a target gone or swapped). Returns whether it was
 * deleted, for the caller to say once (the restore's outcome or error says it; a progress line as well
 * would print it twice on a terminal); a failure to delete is logged and leaves the set (it is only extra).
 */
export async function dropUnusedSafetySet(
  cfg: LoadedConfig,
  plan: RestorePlan,
  safety: SafetySet,
  restored: readonly string[],
): Promise<boolean> {
  for (const [database, before] of safety.identities) {
    if (restored.includes(database) || before === undefined) return false;
    const d = plan.databases.find((x) => x.database === database)!;
    const now = await driverFor(dbConfig(cfg, database).engine)
      .inspectTarget(dbConfig(cfg, database), d.restoreTarget)
      .catch(() => null);
    if (!now?.exists || now.identity !== before) return false;
  }
  try {
    await deleteSetUnlocked(cfg, safety.id);
  } catch (err) {
    writeLog(cfg.backupDir, 'restore-safety-kept', { setId: safety.id, error: errorMessage(err) }, cfg.secrets);
    return false;
  }
  writeLog(cfg.backupDir, 'restore-safety-removed', { setId: safety.id, restoreOf: plan.setId }, cfg.secrets);
  return true;
}

/** The error (exit 5) of stored file `file` of set `setId` found not to match its manifest as it was read. */
export function damagedRead(setId: string, file: string, why: 'longer' | 'hash'): VerifyError {
  const message = phrase('restore.damagedRead', { set: setId, file: printedName(file), why });
  const hint = phrase('restore.damagedHint');
  return new VerifyError(english(message), english(hint)).withPhrases(message, hint);
}

/**
 * The reader of the local set `m` in `dir` that checks each stored file against its manifest as it is read (size,
 * then SHA-256 at its end): a mismatch is a VerifyError raised in the stream, before its end reaches the restore,
 * which then stops before its swap (RestoreOptions.checkAsRead).
 */
export function checkingReader(
  dir: string,
  m: Manifest,
  name: string,
  onDamaged?: (file: string) => Promise<unknown> | undefined,
): StoredReader {
  const expected = new Map(expectedFiles(m).map((w) => [w.path, w]));
  const plain = localReader(dir, name);
  async function* read(file: string): AsyncGenerator<Buffer> {
    const w = expected.get(file);
    const damaged = (why: 'longer' | 'hash') => damagedRead(m.id, file, why);
    // A file the manifest records no hash for (an old set) is read as the check before a restore reads it: unchecked.
    if (!w) return yield* plain(file) as AsyncIterable<Buffer>;
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of plain(file) as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (w.bytes !== null && bytes > w.bytes) {
        await onDamaged?.(file);
        throw damaged('longer');
      }
      hash.update(chunk);
      yield chunk;
    }
    if ((w.bytes !== null && bytes !== w.bytes) || hash.digest('hex') !== w.sha256) {
      await onDamaged?.(file);
      throw damaged('hash');
    }
  }
  return (file) => Readable.from(read(file), { objectMode: false });
}

/**
 * After a restore that checked its stored files as it read them (RestoreOptions.checkAsRead) failed otherwise: a
 * reader of damaged bytes (pg_restore loading garbage) can fail before the file's end is hashed, so the files of
 * `database` in the set and its chain are hashed now. The damage found, as a VerifyError (exit 5, recorded as a
 * failed verification), or null when they are intact and the failure is the restore's own.
 */
export async function damageBehind(
  cfg: LoadedConfig,
  m: Manifest,
  database: string,
  chain: ChainSteps | undefined,
): Promise<VerifyError | null> {
  for (const id of [...(chain ?? []).map((s) => s.setId), m.id]) {
    const set = id === m.id ? m : await readManifestHead(cfg, id, { shared: true });
    const checks = await checkFiles(
      setDir(cfg, id),
      expectedFiles(set, [database], false, { forRestore: true }),
      silentReporter,
      {
        hash: true,
      },
    );
    const bad = checks.filter((c) => !c.ok);
    if (!bad.length) continue;
    await recordDamaged(
      cfg,
      id,
      bad.map((b) => b.path),
    ).catch(() => undefined);
    const problems = bad.map((b) => `${printedName(b.path)}: ${b.problem}`).join('; ');
    const message = phrase('restore.damagedFound', { set: id, problems });
    const hint = phrase('restore.damagedHint');
    return new VerifyError(english(message), english(hint)).withPhrases(message, hint);
  }
  return null;
}
