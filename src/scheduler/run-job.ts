import { statSync } from 'node:fs';
import type { Reporter } from '../core/events.js';
import { errorMessage, InterruptedError, RespaldoError } from '../core/errors.js';
import type { LoadedConfig, ScheduleJob } from '../core/types.js';
import { listSets } from '../engine/catalog.js';
import { chainToVerify } from '../engine/chain-sets.js';
import { createBackup } from '../engine/create.js';
import type { FolderId } from '../engine/create-plan.js';
import { waitUntilFree } from '../engine/lock.js';
import { pruneSets } from '../engine/prune.js';
import { verifySet } from '../engine/verify.js';
import { Scheduler, systemClock, type Clock, type JobRunResult, type RetentionFn, type RunJobFn } from './scheduler.js';
import { english, phrase, said, type RetentionProblem } from '../core/phrases.js';

/** Re-hashes one set (`verifySet`): its problems, one line each, none when every stored file matches. */
async function verifyOne(cfg: LoadedConfig, id: string, reporter: Reporter): Promise<string[]> {
  try {
    const report = await verifySet(cfg, id, reporter);
    if (report.ok) return [];
    const bad = report.files.filter((f) => !f.ok).map((f) => `${f.path} ${f.problem ?? 'mismatch'}`);
    return [`${id}: ${bad.join(', ')}`];
  } catch (err) {
    return [`${id}: ${errorMessage(err)}`];
  }
}

/** Database names a job covers (`*` = every database of the config). */
export function jobDatabases(cfg: Pick<LoadedConfig, 'databases'>, job: Pick<ScheduleJob, 'databases'>): string[] {
  return job.databases.includes('*') ? cfg.databases.map((d) => d.name) : [...job.databases];
}

/**
 * Runs scheduler jobs with the real engine.
 * - full/schema: `createBackup` with the job's databases, type and files, the job name recorded
 *   in the manifest and the scheduler's AbortSignal. Outcome = the set's status.
 * - verify: re-hashes the newest completed set of each of the job's databases and every set its chains need
 *   (a differential or incremental restores nothing without its full), each set once, with `verifySet`. Outcome
 *   `verified` when all match and every chain is whole, `verify-failed` otherwise (or when a database has no
 *   completed set to verify).
 * - drill: restore drills of the newest completed set of each of the job's databases (`drillNewest`), and with
 *   `files` of the newest completed set that stored files.
 *   Outcome `drilled` when all pass, `drill-failed` otherwise (or when a database has no set).
 * - With `drillAfterBackup`, a backup job drills the set it made; the backup's outcome stays its own.
 * Each waits for the backup folder's lock held by another process where it takes it (`lockWait`; a verify, which
 * takes none, before it reads), and nothing is alerted while it waits.
 */
export function engineJobRunner(cfg: LoadedConfig): RunJobFn {
  // The backup folder as at the first job (the scheduler's lock in it since its start): a backup refuses once it is
  // another (see CreateOptions.backupDirIs).
  let home: FolderId | undefined;
  return async (job, { signal, reporter, lockWait }): Promise<JobRunResult> => {
    if (job.type === 'verify') {
      if (lockWait) await waitUntilFree(cfg.backupDir, lockWait);
      const sets = await listSets(cfg);
      const ids: string[] = [];
      const missing: string[] = [];
      for (const db of jobDatabases(cfg, job)) {
        const s = sets.find((x) => x.type !== 'pre_restore' && x.status === 'completed' && x.databases.includes(db));
        if (!s) missing.push(db);
        else if (!ids.includes(s.id)) ids.push(s.id);
      }
      const problems: string[] = missing.map((d) => `${d}: no completed set to verify`);
      const hashed = new Set<string>();
      for (const id of ids) {
        const chain = chainToVerify(cfg, id);
        for (const member of chain.ids.filter((x) => !chain.missing.includes(x) && !hashed.has(x))) {
          if (signal.aborted) return { outcome: 'interrupted', setIds: ids, error: 'interrupted' };
          hashed.add(member);
          problems.push(...(await verifyOne(cfg, member, reporter)));
        }
        // After the hashing: a member found damaged now, a set of the chain deleted or pruned, a damaged manifest.
        problems.push(...chainToVerify(cfg, id).problems.map((p) => `${id}: chain broken: ${p}`));
      }
      return {
        outcome: problems.length ? 'verify-failed' : 'verified',
        setIds: ids,
        ...(problems.length ? { error: problems.join('; ') } : {}),
      };
    }
    if (job.type === 'drill') {
      const { drillNewest, notifyDrillNotRun } = await import('../engine/drill.js');
      // `"files": true` (the default of a job) drills the files of the newest set that stored them too.
      const drillOpts = { signal, operation: 'scheduler', lockWait, files: job.files };
      // A drill that could not run (no key to decrypt, no completed set, no room) is a failed drill to the channels
      // too: only the drills that ran told them, and a drill job failing every night stayed silent.
      let drilled: Awaited<ReturnType<typeof drillNewest>>;
      try {
        drilled = await drillNewest(cfg, jobDatabases(cfg, job), reporter, drillOpts);
      } catch (err) {
        if (!signal.aborted && !(err instanceof InterruptedError))
          await notifyDrillNotRun(cfg, 'scheduled drill', err, job.name);
        throw err;
      }
      const { outcomes, missing } = drilled;
      const setIds = outcomes.map((o) => o.setId);
      if (signal.aborted) return { outcome: 'interrupted', setIds, error: 'interrupted' };
      const unset = missing.map((d) => `${d}: no completed set to drill`);
      if (unset.length)
        await notifyDrillNotRun(
          cfg,
          'scheduled drill',
          unset.join('; '),
          job.name,
          'Run `respaldo create` (a partial set is never drilled).',
        );
      const problems = [
        ...unset,
        ...outcomes.flatMap((o) =>
          o.results.filter((r) => !r.ok).map((r) => `${o.setId} ${r.database}: ${r.error ?? 'failed'}`),
        ),
      ];
      const error = problems.length ? { error: problems.join('; ') } : {};
      return { outcome: problems.length ? 'drill-failed' : 'drilled', setIds, ...error };
    }
    const at = home ? undefined : statSync(cfg.backupDir, { throwIfNoEntry: false });
    if (at) home = { dev: at.dev, ino: at.ino };
    const manifest = await createBackup(
      cfg,
      {
        ...(home ? { backupDirIs: home } : {}),
        databases: job.databases.includes('*') ? undefined : job.databases,
        type: job.type,
        files: job.files,
        job: job.name,
        signal,
        lockWait,
      },
      reporter,
    );
    if (cfg.drillAfterBackup && !signal.aborted) {
      const { drillAfterBackup } = await import('../engine/drill.js');
      const drilling = drillAfterBackup(cfg, manifest, reporter, { signal, operation: 'scheduler', lockWait });
      const drilled = await drilling.catch((err: unknown) => {
        reporter.emit({ type: 'warning', ...said('warn.drillNotRun', { set: manifest.id, error: errorMessage(err) }) });
        return null;
      });
      if (drilled && !drilled.ok) reporter.emit({ type: 'warning', ...said('warn.drillFailed', { set: manifest.id }) });
    }
    const failed = manifest.databases.filter((d) => d.error).map((d) => `${d.name}: ${d.error!.message}`);
    return {
      outcome: manifest.status,
      setId: manifest.id,
      bytes: manifest.totals.storedBytes,
      ...(failed.length
        ? { error: failed.join('; ') }
        : manifest.status !== 'completed'
          ? { error: manifest.warnings.join('; ') || manifest.status }
          : {}),
    };
  };
}

/**
 * Retention after a successful scheduled backup: `pruneSets` (which refuses after a failed run), then
 * each destination's retention (`pruneDestinationsAfterBackup`: skipped where the new set is not
 * copied). Throws, with what was removed, when a set could not be removed or a destination failed.
 */
export function engineRetention(cfg: LoadedConfig): RetentionFn {
  return async ({ setId, reporter, lockWait }) => {
    const r = await pruneSets(cfg, { dryRun: false, lockWait }, reporter);
    const { pruneDestinationsAfterBackup } = await import('../engine/remote-prune.js');
    const offsite = cfg.destinations?.length ? await pruneDestinationsAfterBackup(cfg, setId, reporter) : [];
    const items: RetentionProblem[] = offsite
      .filter((o) => o.outcome === 'failed')
      .map((o) => ({ dest: o.destination, error: o.error!, ...(o.errorPhrase ? { phrase: o.errorPhrase } : {}) }));
    const done = {
      removed: r.removed,
      kept: r.kept,
      ...(r.notCopied.length ? { notCopied: r.notCopied } : {}),
      ...(offsite.length ? { offsite } : {}),
    };
    if (r.failed.length || items.length) {
      // said by the menu in its language (the sets' and the destinations' own errors within)
      const notRemoved = r.failed.map((f) => `${f.id} (${f.error})`).join(', ');
      const problems = phrase('retention.problems', { notRemoved, items: JSON.stringify(items) });
      throw Object.assign(new RespaldoError('failed', english(problems)).withPhrases(problems), done);
    }
    return done;
  };
}

/** A Scheduler wired to the engine for a loaded config (what `respaldo scheduler` and menu option 5 run). */
export function createEngineScheduler(cfg: LoadedConfig, opts: { clock?: Clock; catchUp?: boolean } = {}): Scheduler {
  const scheduler = new Scheduler({
    backupDir: cfg.backupDir,
    jobs: cfg.schedule.jobs,
    runJob: engineJobRunner(cfg),
    applyRetention: engineRetention(cfg),
    listSets: () => listSets(cfg),
    secrets: cfg.secrets,
    ...opts,
  });
  if (cfg.notifications?.length || cfg.metrics?.textfile) watchHealth(cfg, scheduler, opts.clock ?? systemClock);
  return scheduler;
}

const HEALTH_CHECK_MS = 3_600_000;

/**
 * While the scheduler runs, checks the health after every job and every hour (on the scheduler's clock), so an
 * overdue backup (a job that never ran: the machine was off, the scheduler was stopped, a job waits for hours) is
 * alerted without waiting for an operator to look, and the metrics file says it: with `metrics.textfile` and no
 * channel, the file was written only after backups and kept saying healthy. Only new problems are sent (see
 * checkHealthAndAlert).
 */
function watchHealth(cfg: LoadedConfig, scheduler: Scheduler, clock: Clock): void {
  const check = () =>
    void import('../engine/health-alerts.js')
      .then((m) => m.checkHealthAndAlert(cfg, clock.now()))
      .catch(() => undefined);
  scheduler.on('job-end', check);
  let timer: unknown = null;
  let stopped = false;
  const every = (): void => {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      check();
      every();
    }, HEALTH_CHECK_MS);
  };
  // From its start (its first state): a scheduler that never started (another one runs) holds no timer.
  scheduler.once('state', every);
  scheduler.once('stopped', () => {
    stopped = true;
    if (timer !== null) clock.clearTimeout(timer);
  });
}
