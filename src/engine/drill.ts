import { existsSync, promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { InterruptedError, NotFoundError, RefusedError, RespaldoError, errorMessage } from '../core/errors.js';
import type { Reporter } from '../core/events.js';
import { formatBytes, printedName } from '../core/format.js';
import type { DatabaseConfig, DrillResult, ErrorPhrases, LoadedConfig, Manifest } from '../core/types.js';
import { ranBy } from '../core/who.js';
import { checkReadable } from './codec.js';
import { english, phrase, said, type Phrase, type PhraseId, type Said } from '../core/phrases.js';
import type { DriverContext, DrillCheck } from '../drivers/driver.js';
import { driverFor } from '../drivers/registry.js';
import { checkConfiguredDatabases } from '../config/lookup.js';
import { notify } from '../notify/notify.js';
import {
  DRILLED_NAME,
  listSets,
  readManifestLeanOf,
  recordDamaged,
  recordDrilled,
  selectLatest,
  setDir,
} from './catalog.js';
import { cleanLeftovers } from './create.js';
import { drillTarget } from './drill-target.js';
import { ensurePrivateDir, freeBytesAt, removeTree } from './fs-util.js';
import { withLock, type LockWait } from './lock.js';
import { makeSystemScratch } from './system-scratch.js';
import { writeLog } from './log.js';
import { writeMetrics } from './metrics.js';
import { executeRestore, planRestore, restoreFiles } from './restore.js';
import { entryLinkTarget, entryPath } from './restore-files.js';
import { DRILL_SCRATCH_PREFIX } from './restore-plan.js';
import { checkFiles, expectedOfFiles, recordNotWritten } from './verify.js';
import { decrypterFor } from './crypt.js';
import { decryptedFiles, decryptSet, openStored, passphraseSample, withFirstFile } from './decrypt-set.js';
import { MANIFEST_NAME, readManifestLean, type ManifestFiles } from './manifest.js';

/**
 * Restore drills: each chosen database of a set is restored into a scratch target nothing else uses
 * (a file in `<backupDir>/.tmp-drill-<pid>/`, in the system's temporary folder when the backup folder's disk is
 * full, or `<name>__drill_<set id>` on the database's server),
 * checked, and removed; files are extracted into the scratch folder and checked. Live databases and
 * files are never touched. The outcome is recorded beside the set as `drilled.json`. A copy fetched from a
 * destination (drill-from.ts) is drilled the same way from its hidden folder. Why one file of about 750
 * lines: choosing what to drill, drilling it and recording the verdict share the outcome being built.
 */

export interface DrillOptions {
  /** Databases to drill (default: every database the set stored). */
  databases?: string[];
  /** Drill the set's config and application files too (with or without `databases`). */
  files?: boolean;
  /** With `files`: the files alone, none of the set's databases (a scheduled drill whose databases are newer). */
  filesOnly?: boolean;
  signal?: AbortSignal;
  /** Operation named in notifications (`drill`, `scheduler`, `create`). */
  operation?: string;
  /** Wait for a live holder of the backup folder lock instead of failing at once (the scheduler; see LockWait). */
  lockWait?: LockWait;
  /**
   * Drill the copy fetched from destination `name` into `dir` (drill-from.ts), each file checked as it arrived,
   * instead of `<backupDir>/<id>`: the earlier sets of its chains are read from beside it.
   */
  fetched?: { name: string; dir: string };
}

export interface DrillOutcome {
  setId: string;
  ok: boolean;
  results: DrillResult[];
  /** What earlier interrupted work the drill found and removed (dead drills' scratch targets, …), in English. */
  recovered: string[];
  /** The same sentences as phrases, in the same order (the menu says them in its language). */
  recoveredPhrases?: Phrase[];
  /** Whether the outcome was written to the set's `drilled.json` (not on a full backup disk: a warning says why). */
  recorded: boolean;
  /** Drilled from the copy at this destination (`drill --from`). */
  from?: string;
  /**
   * Of a drill from a destination of a set this backup folder does not hold: nothing was recorded (there is no
   * local `drilled.json` to write), the outcome is only printed.
   */
  notHere?: true;
}

export { DRILL_SCRATCH_PREFIX };

/** Pure: the databases and files a drill of `m` covers. */
export function drillScope(m: Manifest, opts: Pick<DrillOptions, 'databases' | 'files' | 'filesOnly'>): string[] {
  if (opts.files && opts.filesOnly) return [];
  const stored = m.databases.filter((d) => !d.error && d.file).map((d) => d.name);
  if (!opts.databases?.length) return stored;
  for (const name of opts.databases) {
    const entry = m.databases.find((d) => d.name === name);
    if (!entry) {
      // A pre_restore set of a server database keeps it on its server, stores no file: "no databases" said nothing.
      const kept = m.databases.filter((d) => !d.error && !d.file && d.safetyDatabase).map((d) => d.name);
      throw new NotFoundError(
        `Set ${m.id} holds no database "${name}".`,
        `It holds: ${stored.join(', ') || 'no stored database'}` +
          (kept.length
            ? `; kept on their servers by a restore, with nothing stored to drill: ${kept.join(', ')}`
            : '') +
          `. Drill the newest set that holds it: \`respaldo drill latest --db ${name}\`.`,
      );
    }
    // Failed in that set: nothing was stored to drill. Refused as a database it does not hold, never recorded as
    // a failed drill (which then stood as a health problem of that database until another drill).
    if (entry.error) {
      throw new NotFoundError(
        `"${name}" failed in set ${m.id}: nothing of it was stored there to drill.`,
        `Drill a set that holds it (\`respaldo drill latest --db ${name}\`); that set holds: ${stored.join(', ') || 'no databases'}.`,
      );
    }
  }
  return opts.databases;
}

/**
 * Resolves `latest` to the newest set holding what is asked (like restore), else checks the id. Its manifest read lean:
 * its file entries are gone through as a files drill needs them, never held (a drill of the databases of a set of
 * 100 000 files peaked 41 MiB higher than of 5000, holding them all).
 */
async function resolveSet(
  cfg: LoadedConfig,
  id: string,
  opts: DrillOptions,
): Promise<{ head: Manifest; files: ManifestFiles }> {
  if (opts.fetched) return readManifestLean(opts.fetched.dir, { remember: false });
  if (id !== 'latest') return readManifestLeanOf(cfg, id);
  const wanted = opts.databases ?? cfg.databases.map((d) => d.name);
  const picked = await selectLatest(cfg, { databases: wanted, files: Boolean(opts.files) }, 'drill');
  return readManifestLeanOf(cfg, picked.setId);
}

/**
 * Refuses before anything is written when a scratch folder's disk cannot hold what a drill restores
 * there (the restore plan's size estimates, plus the files); server databases restore on their server.
 */
async function checkSpace(scratchRoot: string, needs: { what: string; bytes: number }[]): Promise<void> {
  const total = needs.reduce((s, n) => s + n.bytes, 0);
  if (!total) return;
  const st = await fsp.statfs(scratchRoot);
  const free = Number(st.bavail) * Number(st.bsize);
  if (free >= total) return;
  const list = needs.map((n) => `${n.what} ${formatBytes(n.bytes)}`).join(', ');
  // Two figures that round alike ("about 12 MB … has 12 MB free") read as a contradiction: then both in bytes.
  const alike = formatBytes(total) === formatBytes(free);
  const size = (n: number) => (alike ? `${formatBytes(n)} (${n} bytes)` : formatBytes(n));
  const message = phrase('refuse.drillNoRoom', { total: size(total), list, dir: scratchRoot, free: size(free) });
  const hint = phrase('refuse.drillNoRoomHint');
  throw new RefusedError(english(message), english(hint)).withPhrases(message, hint);
}

/**
 * Drills set `id` (`latest`: the newest set holding what is asked). Holds the folder lock throughout,
 * so a scratch target found by `recover` under the lock always belongs to a dead run. Every database
 * is drilled even when an earlier one failed; scratch targets are removed whatever happens. Records
 * the results in `drilled.json`, logs them, and sends a `drill-failure` notification when one failed.
 */
export async function runDrill(
  cfg: LoadedConfig,
  id: string,
  opts: DrillOptions,
  reporter: Reporter,
): Promise<DrillOutcome> {
  if (opts.databases?.length) checkConfiguredDatabases(cfg, opts.databases);
  const { head: m, files: entries } = await resolveSet(cfg, id, opts);
  const names = drillScope(m, opts);
  const withFiles = Boolean(opts.files);
  // With drill.server the whole restore path sees each database's entry moved to that server.
  const drillCfg: LoadedConfig = { ...cfg, databases: cfg.databases.map((d) => drillTarget(cfg, d)) };
  const configured = names.map((name) => {
    const db = drillCfg.databases.find((d) => d.name === name);
    if (!db)
      throw new NotFoundError(
        `Database "${name}" is in set ${m.id} but not in ${cfg.file}; a drill needs its connection.`,
        'Add it under "databases", or drill the others with --db.',
      );
    return db;
  });
  if (!names.length && !withFiles) {
    // A safety copy of PostgreSQL or SQL Server keeps the replaced databases on their servers, renamed: no file.
    const onServers = m.databases.filter((d) => d.safetyDatabase).map((d) => `"${d.safetyDatabase}"`);
    throw new RespaldoError(
      'usage',
      onServers.length
        ? `Set ${m.id} stores no database file to drill: it keeps ${onServers.join(', ')} on ${onServers.length > 1 ? 'their servers' : 'its server'}, as replaced by a restore.`
        : `Set ${m.id} holds no database to drill.`,
      entries.count
        ? 'Drill its files (--files on the command line), or choose another set.'
        : 'Choose another set (`respaldo list` shows them).',
    );
  }
  if (withFiles && !entries.count)
    // Drilling nothing would "pass" and record the set's files as checked.
    throw new NotFoundError(
      `Set ${m.id} stores no config or application files to drill${m.warnings.length ? ' (none could be stored: see its warnings)' : ''}.`,
      names.length
        ? 'Drill its databases without --files, or choose a set that stored files (`respaldo list` shows them).'
        : 'Choose a set that stored files (`respaldo list` shows them).',
    );
  // The key is checked (and its passphrase asked) first: a missing key is not a failed drill of the set. Nor is a
  // Node that cannot read the set's codec (zstd before Node 22.15): the drill does not run.
  checkReadable(
    ...m.databases.filter((d) => names.includes(d.name) && d.compressed).map((d) => d.codec),
    ...(withFiles ? [m.codec] : []),
  );
  const dir = opts.fetched?.dir ?? setDir(cfg, m.id);
  if (m.encryption)
    await decrypterFor(cfg, m.encryption, m.id, passphraseSample(withFirstFile(m, entries), openStored(dir)));
  const fetched = opts.fetched
    ? { setFolder: opts.fetched.dir, fetchedFrom: opts.fetched.name, from: opts.fetched.name }
    : null;
  // Drilled from a destination: recorded beside the set only when this backup folder holds it.
  const notHere = fetched !== null && !existsSync(join(setDir(cfg, m.id), MANIFEST_NAME));
  const signal = opts.signal ?? new AbortController().signal;
  const underLock = <T>(fn: (lock: { outside: boolean }) => Promise<T>): Promise<T> =>
    withLock(cfg.backupDir, `drill ${m.id}`, fn, { wait: opts.lockWait });
  const outcome = await underLock(async (lock): Promise<DrillOutcome> => {
    // A backup folder with no room even for the lock (then taken outside): the scratch copies go to the system's
    // temporary folder.
    const system = lock.outside ? await makeSystemScratch('drill') : null;
    if (system) {
      const free = formatBytes((await freeBytesAt(cfg.backupDir)) ?? 0);
      reporter.emit({ type: 'warning', ...said('note.fullFolder', { dir: cfg.backupDir, free }) });
    }
    const scratchRoot = system ? system.scratch : join(cfg.backupDir, `${DRILL_SCRATCH_PREFIX}${process.pid}`);
    await ensurePrivateDir(scratchRoot);
    const out: DrillOutcome = {
      setId: m.id,
      ok: true,
      results: [],
      recovered: [],
      recoveredPhrases: [],
      recorded: false,
      ...(fetched ? { from: fetched.from } : {}),
      ...(notHere ? { notHere } : {}),
    };
    writeLog(
      cfg.backupDir,
      'drill-start',
      { setId: m.id, databases: names, files: withFiles, ranBy: ranBy(), ...(fetched ? { from: fetched.from } : {}) },
      cfg.secrets,
    );
    try {
      const ctxFor = (db: DatabaseConfig): DriverContext => ({
        reporter,
        signal,
        scratchDir: scratchRoot,
        log: (message, fields) =>
          writeLog(cfg.backupDir, 'driver', { setId: m.id, db: db.name, message, ...fields }, cfg.secrets),
      });
      const recovered = (found: Said[]): void => {
        out.recovered.push(...found.map((r) => r.message));
        out.recoveredPhrases!.push(...found.map((r) => r.phrase));
      };
      recovered(await cleanLeftovers(cfg));
      const plans = [];
      const unplanned: DrillResult[] = [];
      for (const db of configured) {
        const driver = driverFor(db.engine);
        const scratch = driver.scratchName
          ? driver.scratchName(db, m.id)
          : join(scratchRoot, basename(db.path ?? `${db.name}.db`));
        const started = Date.now();
        try {
          // Dead drills' scratch databases first: the plan below refuses a target that exists.
          recovered(await driver.recover(db, ctxFor(db)));
          const where = fetched ? { setFolder: fetched.setFolder, fetchedFrom: fetched.fetchedFrom } : {};
          const plan = await planRestore(drillCfg, m.id, { databases: [db.name], to: scratch, ...where });
          const step = plan.databases[0];
          if (step?.restoreTarget.kind === 'side-by-side')
            step.restoreTarget = { ...step.restoreTarget, scratch: true };
          plans.push({ db, scratch, plan });
        } catch (err) {
          // A missing or wrong key is the operator's, never the set's: it ends the drill before anything is recorded.
          // So does a server that cannot be reached or refuses the login (down, no such host, a wrong password): the
          // drill did not run, which says nothing of the set (as for a codec this Node cannot read).
          if (!(err instanceof RespaldoError) || ['usage', 'notFound', 'key'].includes(err.kind)) throw err;
          if (err.details?.['serverAway'] === true)
            throw err.withAftermath(phrase('drill.notRunServerAway', { set: m.id, db: db.name }), {
              drillNotRun: true,
            });
          // A set that cannot be planned there is a failed drill of that database.
          const at = new Date().toISOString();
          const failed = { database: db.name, engine: db.engine, ok: false, at, scratch, checks: [] };
          const hint = err.hint ? { hint: err.hint } : {};
          unplanned.push({ ...failed, durationMs: Date.now() - started, error: errorMessage(err), ...hint });
        }
      }
      // A server without room for a scratch database: the drill does not run (it would fill the disk the server's
      // live databases write on), as for a scratch folder without room; it proves nothing of the set.
      const noRoom = plans.flatMap((p) => p.plan.refusals.filter((r) => r.kind === 'no-room'));
      if (noRoom[0]?.phrases) {
        const hint = phrase('refuse.serverDiskShortDrillHint');
        throw new RefusedError(noRoom.map((r) => r.message).join(' '), english(hint)).withPhrases(
          noRoom[0].phrases.message,
          hint,
        );
      }
      const local = plans.filter((p) => !driverFor(p.db.engine).scratchName);
      const needs = local.map((p) => ({ what: p.db.name, bytes: p.plan.databases[0]?.estimatedRestoredBytes ?? 0 }));
      if (withFiles) needs.push({ what: 'files', bytes: entries.bytes });
      await checkSpace(scratchRoot, needs);
      reporter.emit({
        type: 'run-start',
        operation: 'drill',
        setId: m.id,
        items: [...names, ...(withFiles ? ['files'] : [])],
      });
      out.results.push(...unplanned);
      for (const r of unplanned) reporter.emit({ type: 'item-end', item: r.database, ok: false, error: r.error! });
      for (const { db, scratch, plan } of plans) {
        if (signal.aborted) throw new InterruptedError('Drill interrupted; its scratch targets were removed.');
        out.results.push(await drillDatabase(drillCfg, m, db, scratch, plan, reporter, ctxFor(db), signal, lock));
      }
      if (withFiles)
        out.results.push(
          await drillFiles(
            cfg,
            { head: m, files: entries },
            dir,
            !fetched,
            join(scratchRoot, 'files'),
            reporter,
            signal,
          ),
        );
    } catch (err) {
      // The log's drill-start gets its end when the drill did not run to its end (refused, no room, interrupted).
      const stopped = err instanceof RespaldoError && err.kind === 'interrupted';
      writeLog(
        cfg.backupDir,
        'drill-end',
        { setId: m.id, outcome: stopped ? 'interrupted' : 'not-run', error: errorMessage(err) },
        cfg.secrets,
      );
      throw err;
    } finally {
      await removeTree(system ? system.root : scratchRoot);
    }
    out.ok = out.results.every((r) => r.ok);
    if (fetched) out.results = out.results.map((r) => ({ ...r, from: fetched.from }));
    if (out.results.length && !notHere)
      out.recorded = await recordDrilled(cfg, m.id, out.results).then(
        () => true,
        (err: unknown) => {
          recordNotWritten(reporter, m.id, err, DRILLED_NAME);
          return false;
        },
      );
    await writeMetrics(cfg);
    const summary = out.results.map((r) => ({
      database: r.database,
      ok: r.ok,
      durationMs: r.durationMs,
      error: r.error ?? null,
    }));
    writeLog(
      cfg.backupDir,
      'drill-end',
      { setId: m.id, outcome: out.ok ? 'ok' : 'failed', results: summary, ...(fetched ? { from: fetched.from } : {}) },
      cfg.secrets,
    );
    reporter.emit({
      type: 'run-end',
      ok: out.ok,
      setId: m.id,
      durationMs: out.results.reduce((s, r) => s + r.durationMs, 0),
    });
    return out;
  });
  if (!outcome.ok) {
    const databases = outcome.results.map((r) => ({
      name: r.database,
      ok: r.ok,
      ...(r.error ? { error: r.error } : {}),
      ...(r.hint ? { hint: r.hint } : {}),
      ...(r.phrases ? { phrases: r.phrases } : {}),
    }));
    await notify(cfg, {
      kind: 'drill-failure',
      operation: opts.operation ?? 'drill',
      host: hostname(),
      at: new Date(),
      setId: m.id,
      databases,
    }).catch(() => undefined);
  }
  return outcome;
}

type Plan = Awaited<ReturnType<typeof planRestore>>;

/** Restores one database into its scratch target through the restore path, runs the driver's checks, removes it. */
async function drillDatabase(
  cfg: LoadedConfig,
  m: Manifest,
  db: DatabaseConfig,
  scratch: string,
  plan: Plan,
  reporter: Reporter,
  ctx: DriverContext,
  signal: AbortSignal,
  lock: { outside: boolean },
): Promise<DrillResult> {
  const driver = driverFor(db.engine);
  const entry = m.databases.find((d) => d.name === db.name)!;
  const started = Date.now();
  const at = new Date().toISOString();
  const checks: DrillResult['checks'] = [];
  const result = (ok: boolean, extra: Partial<DrillResult> = {}): DrillResult => ({
    database: db.name,
    engine: db.engine,
    ok,
    at,
    durationMs: Date.now() - started,
    scratch,
    checks,
    ...extra,
  });
  reporter.emit({ type: 'item-start', item: db.name, kind: 'restore', totalBytes: entry.rawBytes });
  let drilled: DrillResult;
  try {
    // The restore's own start and end of this database are the drill's to say, after its checks: said once (the
    // terminal showed "FAILED users" twice, "ok inventario" twice).
    const inner: Reporter = {
      emit: (e) => {
        if ((e.type === 'item-start' || e.type === 'item-end') && e.item === db.name) return;
        reporter.emit(e);
      },
    };
    const restored = await executeRestore(cfg, plan, inner, { signal, underLock: lock, drill: true });
    const one = restored.databases[0];
    // The server went away during the restore (shut down, restarted, its disk full): the drill did not run to its end,
    // which says nothing of the set; it is not recorded, as for a server down before the drill.
    if (one && !one.ok && one.serverAway) {
      const away = new RespaldoError('failed', one.error ?? 'the restore failed', one.hint, { serverAway: true });
      if (one.phrases?.message) away.withPhrases(one.phrases.message, one.phrases.hint);
      // A server whose disk filled is said as such: freeing space there is what lets the drill run.
      const stopped = one.serverDiskFull ? 'drill.stoppedServerDiskFull' : 'drill.stoppedServerAway';
      throw away.withAftermath(phrase(stopped, { set: m.id, db: db.name }), { drillNotRun: true });
    }
    if (!one?.ok) {
      const failed = saidBy(ownCheck('drill.restore', false, one?.error ?? 'failed'), one?.phrases);
      checks.push(ownCheck('drill.storedFiles', true), failed);
      drilled = result(false, {
        error: one?.error ?? 'the restore failed',
        ...(one?.hint ? { hint: one.hint } : {}),
        ...(one?.phrases ? { phrases: one.phrases } : {}),
      });
    } else {
      checks.push(ownCheck('drill.storedFiles', true));
      checks.push(...(one.preChecks ?? []));
      checks.push(ownCheck('drill.restore', true, phrase('drill.into', { target: scratch })));
      checks.push(...(one.checks ?? []));
      const tables = Object.keys(entry.tables ?? {}).length;
      if (entry.tables) checks.push(ownCheck('drill.rowCounts', true, phrase('drill.tables', { n: tables })));
      else checks.push(ownCheck('drill.rowCounts', true, undefined, phrase('drill.noCounts')));
      checks.push(...((await driver.drillChecks?.(db, one.restoredTo ?? scratch, ctx)) ?? []));
      const bad = checks.filter((c) => !c.ok);
      const notClean = phrase('drill.notCleanHint', { set: m.id, db: db.name });
      drilled = bad.length
        ? result(false, {
            error: bad.map((c) => `${c.name}: ${c.detail ?? 'failed'}`).join('; '),
            hint: english(notClean),
            phrases: { hint: notClean },
          })
        : result(true);
    }
  } catch (err) {
    // Stopped: in a drill's words (the restore's "the live database was not changed" spoke of a restore).
    if (signal.aborted || err instanceof InterruptedError)
      throw new InterruptedError('Drill interrupted; its scratch targets are removed, and nothing live was touched.');
    if (!(err instanceof RespaldoError) || err.kind === 'key' || err.details?.['drillNotRun'] === true) throw err;
    // The server could not be used any more (down, restarting) before the restore began its work: not run either.
    if (err.details?.['serverAway'] === true)
      throw err.withAftermath(phrase('drill.stoppedServerAway', { set: m.id, db: db.name }), { drillNotRun: true });
    if (err.kind === 'verifyFailed')
      checks.push(saidBy(ownCheck('drill.storedFiles', false, err.message), err.phrases));
    drilled = result(false, {
      error: errorMessage(err),
      ...(err.hint ? { hint: err.hint } : {}),
      ...(err.phrases ? { phrases: err.phrases } : {}),
    });
  } finally {
    try {
      if (driver.dropScratch) await driver.dropScratch(db, scratch, ctx);
      else await fsp.rm(scratch, { force: true });
    } catch (err) {
      // The verdict stands; the scratch target carries respaldo's mark and the next run removes it.
      const warning = said('warn.drillScratch', { target: scratch, error: errorMessage(err) });
      reporter.emit({ type: 'warning', item: db.name, ...warning });
      ctx.log(warning.message);
    }
  }
  // The lines under the item's bar: in the menu's language when respaldo's words have phrases (as a restore's).
  const phrases = drilled.phrases;
  reporter.emit({
    type: 'item-end',
    item: db.name,
    ok: drilled.ok,
    ...(drilled.error ? { error: drilled.error } : {}),
    ...(drilled.error && phrases?.message && !phrases.aftermath ? { errorPhrase: phrases.message } : {}),
    ...(drilled.hint ? { hint: drilled.hint } : {}),
    ...(drilled.hint && phrases?.hint ? { hintPhrase: phrases.hint } : {}),
  });
  return drilled;
}

/**
 * Checks the stored files' MD5 and SHA-256 against the manifest (the manifest hashes what is stored),
 * extracts them into `to` (inside the scratch folder; the codec checks each frame's checksum on the
 * way), and checks every extracted file's size and every symlink's target against the manifest.
 */
async function drillFiles(
  cfg: LoadedConfig,
  { head: m, files: entries }: { head: Manifest; files: ManifestFiles },
  dir: string,
  local: boolean,
  to: string,
  reporter: Reporter,
  signal: AbortSignal,
): Promise<DrillResult> {
  const started = Date.now();
  const at = new Date().toISOString();
  const checks: DrillResult['checks'] = [];
  const base = { database: 'files', engine: null, at, scratch: to, checks };
  reporter.emit({ type: 'item-start', item: 'files', kind: 'files' });
  let out: DrillResult;
  try {
    // Its entries gone through as they are checked, restored and compared, none held (but for an encrypted set's
    // decrypted copy, below)
    const bad = await checkFiles(dir, () => expectedOfFiles(entries.entries(), m.codec), reporter, {
      signal,
      keep: (c) => !c.ok,
    });
    checks.push(
      ownCheck(
        'drill.storedFiles',
        !bad.length,
        bad.length
          ? phrase('verify.badFiles', { problems: bad.map((b) => `${printedName(b.path)}: ${b.problem}`).join('; ') })
          : undefined,
      ),
    );
    // Recorded as `verify` records it (as a restore that finds a stored file damaged does): list shows the set FAILED
    // and health reports it; a files drill that found damage left the set "never verified" and health "healthy".
    if (bad.length) {
      if (local)
        await recordDamaged(
          cfg,
          m.id,
          bad.map((b) => b.path),
        ).catch(() => undefined);
      const message = phrase('drill.filesDamaged', { set: m.id, n: bad.length });
      const hint = phrase('drill.filesDamagedHint');
      throw new RespaldoError('verifyFailed', english(message), english(hint)).withPhrases(message, hint);
    }
    const plainDir = join(dirname(to), '.decrypted-files');
    try {
      // Stopped by a Ctrl-C (or the menu's hang-up) at once, not after every file of the set is decrypted.
      // The entries read lean as they are decrypted and restored: none of the set's files held (each pass reads them).
      const plain = await decryptSet(cfg, m, dir, plainDir, { databases: [], files: true, entries }, reporter, signal);
      await restoreFiles(plain.dir, m.encryption ? decryptedFiles(entries) : entries, to, {
        setId: m.id,
        codec: m.codec ?? 'gzip',
        ...(m.folders ? { folders: m.folders } : {}),
        signal,
      }).catch((err: unknown) => {
        // A stored file that matched its hashes (rewritten with it) but does not decode (the zstd reader's own
        // error, which has no code): the drill fails on it, where it was an internal error.
        // (restoreFiles says it of the file as a restore does: the drill says it of the set, as it did.)
        const said = err instanceof RespaldoError ? err.phrases?.message : undefined;
        const undecodable = said?.id === 'error.storedNotDecompressing';
        if (!undecodable && (signal.aborted || err instanceof RespaldoError || (err as { code?: unknown }).code))
          throw err;
        const error = undecodable ? (said.params['error'] ?? '') : errorMessage(err);
        const message = phrase('drill.notDecompressing', { set: m.id, error });
        const hint = phrase('drill.filesDamagedHint');
        throw new RespaldoError('verifyFailed', english(message), english(hint)).withPhrases(message, hint);
      });
    } finally {
      await removeTree(plainDir);
    }
    if (signal.aborted) throw new InterruptedError();
    checks.push(ownCheck('drill.extracted', true, phrase('drill.entries', { n: entries.count })));
    const wrong: string[] = [];
    for (const f of entries.entries()) {
      const path = Buffer.concat([Buffer.from(`${to}/`), entryPath(f)]);
      if (f.kind === 'symlink') {
        if (!(await fsp.readlink(path, { encoding: 'buffer' })).equals(Buffer.from(entryLinkTarget(f))))
          wrong.push(`${printedName(`${f.group}/${f.relative}`)}: link target differs`);
        continue;
      }
      const st = await fsp.stat(path);
      if (st.size !== f.size)
        wrong.push(`${printedName(`${f.group}/${f.relative}`)}: ${st.size} bytes, the manifest says ${f.size}`);
    }
    checks.push(
      ownCheck('drill.extractedSizes', !wrong.length, wrong.length ? wrong.slice(0, 5).join('; ') : undefined),
    );
    out = wrong.length
      ? {
          ...base,
          ok: false,
          durationMs: Date.now() - started,
          error: wrong.slice(0, 3).join('; '),
          hint: english(phrase('drill.filesDamagedHint')),
          phrases: { hint: phrase('drill.filesDamagedHint') },
        }
      : { ...base, ok: true, durationMs: Date.now() - started };
  } catch (err) {
    // Stopped: the drill did not run to its end (never a failed drill of the files); in a drill's words.
    if (signal.aborted || err instanceof InterruptedError)
      throw new InterruptedError('Drill interrupted; its scratch targets are removed, and nothing live was touched.');
    if (!(err instanceof RespaldoError) && !(err as { code?: unknown }).code) throw err;
    if (err instanceof RespaldoError && err.kind === 'key') throw err;
    const hint = err instanceof RespaldoError ? err.hint : undefined;
    const phrases = err instanceof RespaldoError ? err.phrases : undefined;
    out = {
      ...base,
      ok: false,
      durationMs: Date.now() - started,
      error: errorMessage(err),
      ...(hint ? { hint } : {}),
      ...(phrases ? { phrases } : {}),
    };
  } finally {
    await removeTree(to);
  }
  // In the menu's language when respaldo's words have phrases (as a database's).
  reporter.emit({
    type: 'item-end',
    item: 'files',
    ok: out.ok,
    ...(out.error ? { error: out.error } : {}),
    ...(out.error && out.phrases?.message && !out.phrases.aftermath ? { errorPhrase: out.phrases.message } : {}),
  });
  return out;
}

/**
 * Drills the newest completed set (not a safety copy) holding each of `databases`, each set once with
 * the databases it is the newest for. With `files` (a drill job's `"files": true`), the files of the newest completed
 * set that stored files are drilled too, with that set's databases when it is one of them (as `drill --files`), else
 * alone; a config that names no files has none to drill. A database (or `files`) with no such set is in `missing`.
 */
export async function drillNewest(
  cfg: LoadedConfig,
  databases: string[],
  reporter: Reporter,
  opts: Pick<DrillOptions, 'signal' | 'operation' | 'lockWait' | 'files'> = {},
): Promise<{ outcomes: DrillOutcome[]; missing: string[] }> {
  const { files, ...rest } = opts;
  const sets = await listSets(cfg);
  const bySet = new Map<string, string[]>();
  const missing: string[] = [];
  // Never a schema-only set: it holds no rows, and its drill would pass with nothing checked.
  const drillable = (x: (typeof sets)[number]) =>
    x.type !== 'pre_restore' && x.type !== 'schema' && x.status === 'completed';
  for (const db of databases) {
    const s = sets.find((x) => drillable(x) && x.databases.includes(db));
    if (!s) missing.push(db);
    else bySet.set(s.id, [...(bySet.get(s.id) ?? []), db]);
  }
  const configured = cfg.files.config.length > 0 || cfg.files.application.length > 0;
  const withFiles = files && configured ? (sets.find((x) => drillable(x) && x.files > 0)?.id ?? null) : undefined;
  if (withFiles === null) missing.push('files');
  else if (withFiles && !bySet.has(withFiles)) bySet.set(withFiles, []);
  const outcomes: DrillOutcome[] = [];
  for (const [id, dbs] of bySet) {
    if (opts.signal?.aborted) break;
    const filesToo = id === withFiles ? { files: true, ...(dbs.length ? {} : { filesOnly: true }) } : {};
    outcomes.push(await runDrill(cfg, id, { databases: dbs, ...filesToo, ...rest }, reporter));
  }
  return { outcomes, missing };
}

/**
 * `drillAfterBackup`: drills the databases a backup just stored in set `m` (none when the option is off
 * or nothing was stored). An operator error is the drill's failed outcome, never the backup's.
 */
export async function drillAfterBackup(
  cfg: LoadedConfig,
  m: Manifest,
  reporter: Reporter,
  opts: Pick<DrillOptions, 'signal' | 'operation' | 'lockWait'> = {},
): Promise<DrillOutcome | null> {
  if (!cfg.drillAfterBackup || m.status === 'failed') return null;
  const databases = m.databases.filter((d) => !d.error && d.file).map((d) => d.name);
  if (!databases.length) return null;
  try {
    return await runDrill(cfg, m.id, { databases, ...opts }, reporter);
  } catch (err) {
    if (!(err instanceof InterruptedError)) await notifyDrillNotRun(cfg, opts.operation ?? 'drill', err);
    throw err;
  }
}

/**
 * Tells the channels that a drill could not run at all (no identity to decrypt, no set to drill, no room): only the
 * drills that ran told them, and a drill failing this way every night was silent. Its title says the drill did not
 * run (`drillNotRun`), never that a set failed its drill; a missing or wrong key is said as such (`keyProblem`).
 * Never throws.
 */
export async function notifyDrillNotRun(
  cfg: LoadedConfig,
  operation: string,
  err: unknown,
  job: string | null = null,
  hint?: string,
): Promise<void> {
  const why = err instanceof RespaldoError ? err.hint : hint;
  const phrases = err instanceof RespaldoError ? err.phrases : undefined;
  const error = { message: errorMessage(err), ...(why ? { hint: why } : {}), ...(phrases ? { phrases } : {}) };
  const keyProblem = err instanceof RespaldoError && err.kind === 'key';
  const event = { kind: 'drill-failure', operation, host: hostname(), at: new Date(), job, error } as const;
  await notify(cfg, { ...event, drillNotRun: true, ...(keyProblem ? { keyProblem } : {}) }).catch(() => undefined);
}

/**
 * `check`, whose detail is an error's message, with that message's phrase for the menu when the error has one (and
 * nothing was added to it on its way out); returns `check`.
 */
function saidBy(check: DrillCheck, phrases: ErrorPhrases | undefined): DrillCheck {
  const inWords = phrases?.message && !phrases.aftermath?.length ? phrases.message : undefined;
  if (inWords) check.phrases = { ...check.phrases, detail: inWords };
  return check;
}

/**
 * A check in respaldo's own words: `name` and `detail` in English (CLI, JSON, drilled.json) and as
 * phrases for the menu. A string detail is what something else said (an error): shown as it is.
 */
function ownCheck(id: PhraseId, ok: boolean, detail?: Phrase | string, skipped?: Phrase): DrillCheck {
  const name = phrase(id);
  return {
    name: english(name),
    ok,
    ...(detail !== undefined ? { detail: typeof detail === 'string' ? detail : english(detail) } : {}),
    ...(skipped ? { skipped: english(skipped) } : {}),
    phrases: { name, ...(typeof detail === 'object' ? { detail } : {}), ...(skipped ? { skipped } : {}) },
  };
}
