import { RefusedError, errorMessage } from '../core/errors.js';
import type { Reporter } from '../core/events.js';
import type { LoadedConfig, SetSummary } from '../core/types.js';
import { damagedSetNeeds, deleteSetChecked, listSets, readManifestLeanOf } from './catalog.js';
import { strayFilesOf } from './before-delete.js';
import { withLock, type LockWait } from './lock.js';
import { jobsFromLog } from './log-jobs.js';
import { readDailyLog, writeLog } from './log.js';
import { ranBy } from '../core/who.js';
import { jobOf, jobTimeZonesOf, planPrune, transitive, type PruneDecision } from './retention.js';
import { keepForDamaged, keepForNotCopied, keepForStrays } from './retention-keep.js';
import { notCopiedOf } from './offsite-state.js';
import { english, nestedPhrase, phrase, said, type Phrase } from '../core/phrases.js';

/**
 * Executes retention (`respaldo prune`, and the scheduler after each successful backup).
 * The decision is `planPrune` (retention.ts); this only lists, checks and deletes. Sets whose
 * manifest names no job are attributed from the daily logs (log-jobs.ts), else made by hand.
 *
 * Safety: refuses (RefusedError, nothing removed) when the newest backup set (pre_restore
 * safety copies aside) is not `completed`: nothing is pruned after a failed or partial run. A set not yet copied
 * to a destination with copyAfterBackup is kept until it is (keepForNotCopied).
 * A dry run never refuses; it reports the refusal in `refused` and removes nothing.
 * Sets are removed one by one, the backup folder lock held throughout; a set that cannot be
 * removed is reported in `failed` and the others are still processed.
 */

export interface PruneOptions {
  dryRun?: boolean;
  /** Defaults to the current time. */
  now?: Date;
  /** Zone for calendar periods (default: the machine's). */
  timeZone?: string;
  /** Wait for a live holder of the backup folder lock instead of failing at once (the scheduler; see LockWait). */
  lockWait?: LockWait;
}

export interface PrunedSet {
  set: SetSummary;
  decision: PruneDecision;
  /** The job whose retention decided (manifest or log), or null: made by hand (`retention.manual`). */
  job: string | null;
  /** Sets of its chain (`decision.needs`) that are gone or whose manifest is damaged: it cannot be restored. */
  lacking?: { id: string; problem: 'missing' | 'damaged' }[];
}

export interface PruneResult {
  dryRun: boolean;
  /** Why a real prune would refuse (dry run), or null. */
  refused: string | null;
  /** Every set with its decision, newest first. */
  plan: PrunedSet[];
  removed: string[];
  failed: Array<{ id: string; error: string }>;
  kept: number;
  /** Sets kept only because they are not yet copied to a destination with copyAfterBackup (keepForNotCopied). */
  notCopied: string[];
}

/**
 * Why pruning is unsafe now (the newest set is not completed), or null when it is safe: `reason` in English, `said`
 * the same as a phrase (the menu says it in its language), `hint` and `hintPhrase` when it is not the usual one.
 */
export function pruneRefusal(
  sets: SetSummary[],
  lastFailed: { at: string; setId: string } | null = null,
  now: Date | null = null,
): { reason: string; said: Phrase; newest: SetSummary | null; hint?: string; hintPhrase?: Phrase } | null {
  // A set dated ahead of now (a clock that was wrong here or where it was made) would count as the newest and hide
  // a newer failure, and ages would come out negative: nothing is pruned until the dates make sense.
  const ahead = now ? sets.find((s) => Date.parse(s.startedAt) > now.getTime() + 3_600_000) : undefined;
  if (ahead) {
    const said = phrase('prune.aheadOfClock', { set: ahead.id, at: ahead.startedAt });
    const hintPhrase = phrase('prune.aheadOfClockHint');
    return { reason: english(said), said, newest: ahead, hint: english(hintPhrase), hintPhrase };
  }
  const newest =
    sets.filter((s) => s.type !== 'pre_restore').sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))[0] ??
    null;
  // A backup that failed outright writes no set: only the log says so. After it, nothing is pruned either.
  if (lastFailed && (!newest || Date.parse(lastFailed.at) > Date.parse(newest.startedAt))) {
    const said = phrase('prune.lastFailed', { set: lastFailed.setId });
    return { reason: english(said), said, newest };
  }
  if (!newest || newest.status === 'completed') return null;
  const said = phrase('prune.newestNotCompleted', {
    set: newest.id,
    status: newest.status,
    failed: newest.failedDatabases.join(', '),
  });
  return { reason: english(said), said, newest };
}

/**
 * The last backup of the daily logs of `now` and the day before, when it failed outright (a `create-end` that
 * failed, not a safety copy's): its time and id; null when the last one did not fail or none is logged.
 */
export function lastFailedBackup(backupDir: string, now: Date): { at: string; setId: string } | null {
  let last: { at: string; setId: string; failed: boolean } | null = null;
  for (const when of [new Date(now.getTime() - 86_400_000), now]) {
    const text = readDailyLog(backupDir, when);
    for (const line of text.split('\n')) {
      if (!line.includes('"create-end"')) continue;
      try {
        const e = JSON.parse(line) as {
          time?: unknown;
          event?: unknown;
          setId?: unknown;
          type?: unknown;
          outcome?: unknown;
        };
        if (e.event !== 'create-end' || e.type === 'pre_restore' || typeof e.time !== 'string') continue;
        if (last && Date.parse(e.time) < Date.parse(last.at)) continue;
        last = { at: e.time, setId: String(e.setId ?? '?'), failed: e.outcome === 'failed' };
      } catch {
        /* a torn line */
      }
    }
  }
  return last?.failed ? { at: last.at, setId: last.setId } : null;
}

/**
 * Plans retention over the published sets and, unless dry-run, removes what the plan removes. A real prune holds
 * the backup folder lock from its listing to its last removal: with another run holding it, nothing is removed
 * and that is said once (LockHeldError, exit 6), and no set is published or deleted between the plan and it.
 */
export async function pruneSets(cfg: LoadedConfig, opts: PruneOptions, reporter: Reporter): Promise<PruneResult> {
  if (opts.dryRun === true) return prune(cfg, opts, reporter);
  return withLock(cfg.backupDir, 'prune', () => prune(cfg, opts, reporter), { wait: opts.lockWait });
}

async function prune(cfg: LoadedConfig, opts: PruneOptions, reporter: Reporter): Promise<PruneResult> {
  const dryRun = opts.dryRun === true;
  const sets = await listSets(cfg);
  const logJobs = jobsFromLog(cfg.backupDir, sets);
  const damagedNeeds = await damagedSetNeeds(cfg, sets);
  const planned = keepForDamaged(
    planPrune(sets, cfg.retention, opts.now ?? new Date(), {
      timeZone: opts.timeZone,
      jobTimeZones: jobTimeZonesOf(cfg.schedule.jobs),
      logJobs,
    }),
    sets,
    damagedNeeds,
  );
  const strays = new Map<string, string[]>();
  for (const d of planned.filter((x) => x.action === 'remove')) {
    // Its entries gone through as its folder is compared with them, not held (40 MiB for a set of 100 000 files)
    const read = await readManifestLeanOf(cfg, d.id, { shared: true }).catch(() => null);
    // (gone through again when the folder holds a file no entry names: notWrittenByRespaldo)
    const files = read ? strayFilesOf(cfg, read.head, { [Symbol.iterator]: () => read.files.entries() }) : [];
    if (files.length) strays.set(d.id, files);
  }
  const byId = new Map(sets.map((s) => [s.id, s]));
  const withStrays = keepForStrays(planned, sets, strays);
  // Each set retention would remove that is not yet at a destination it is copied to after a backup (its marks). One
  // whose verification failed, or that applies on such a set, is not: no copy sends a file that does not match its
  // manifest, nor a set without its chain, so it would stay for good.
  const damaged = (id: string) => byId.get(id)?.lastVerified?.ok === false;
  const notCopied = new Map<string, string[]>();
  for (const d of withStrays.filter((x) => x.action === 'remove')) {
    const unsendable = damaged(d.id) || transitive(sets, d.id).some(damaged);
    const to = unsendable ? [] : notCopiedOf(cfg, byId.get(d.id)!);
    if (to.length) notCopied.set(d.id, to);
  }
  const decisions = keepForNotCopied(withStrays, sets, notCopied);
  const plan = decisions.map((decision): PrunedSet => {
    const set = byId.get(decision.id)!;
    const lacking = (decision.needs ?? []).flatMap((id) =>
      byId.has(id) ? [] : [{ id, problem: damagedNeeds.has(id) ? ('damaged' as const) : ('missing' as const) }],
    );
    return { set, decision, job: jobOf(set, logJobs), ...(lacking.length ? { lacking } : {}) };
  });
  const toRemove = plan.filter((p) => p.decision.action === 'remove');
  const now = opts.now ?? new Date();
  const refusal = pruneRefusal(sets, lastFailedBackup(cfg.backupDir, now), now);
  const result: PruneResult = {
    dryRun,
    refused: refusal ? `Nothing pruned: ${refusal.reason}.` : null,
    plan,
    removed: [],
    failed: [],
    kept: plan.length - toRemove.length,
    notCopied: [...notCopied.keys()], // each one removed by the plan before, kept by keepForNotCopied
  };

  if (refusal && !dryRun) {
    writeLog(
      cfg.backupDir,
      'prune',
      { outcome: 'refused', setId: refusal.newest?.id ?? null, reason: refusal.reason },
      cfg.secrets,
    );
    // A backup that failed for want of room cannot succeed until some is freed: what retention would remove is named.
    const oldest = toRemove.map((p) => p.set.id).sort()[0];
    const message = phrase('prune.refused', nestedPhrase(refusal.said));
    const hint = refusal.hintPhrase ?? phrase('prune.refusedHint', { count: toRemove.length, oldest: oldest ?? '' });
    throw new RefusedError(english(message), english(hint)).withPhrases(message, hint);
  }

  const t0 = Date.now();
  reporter.emit({ type: 'run-start', operation: 'prune', items: toRemove.map((p) => p.set.id) });
  for (const p of plan) {
    reporter.emit({
      type: 'info',
      message: `${p.decision.action === 'keep' ? 'keep  ' : dryRun ? 'would remove' : 'remove'} ${p.set.id}  ${p.decision.reasons.join('; ')}`,
    });
  }
  if (!dryRun) {
    for (const p of toRemove) {
      try {
        await deleteSetChecked(cfg, p.set.id); // the lock is held (pruneSets)
        result.removed.push(p.set.id);
      } catch (err) {
        result.failed.push({ id: p.set.id, error: errorMessage(err) });
        reporter.emit({
          type: 'warning',
          item: p.set.id,
          ...said('warn.notRemoved', { set: p.set.id, error: errorMessage(err) }),
        });
      }
    }
  }
  const ok = result.failed.length === 0;
  reporter.emit({ type: 'run-end', ok, durationMs: Date.now() - t0 });
  writeLog(
    cfg.backupDir,
    'prune',
    {
      outcome: dryRun ? 'dry-run' : ok ? 'ok' : 'failed',
      setId: null,
      removed: dryRun ? [] : result.removed,
      wouldRemove: dryRun ? toRemove.map((p) => p.set.id) : undefined,
      failed: result.failed,
      kept: result.kept,
      durationMs: Date.now() - t0,
      ranBy: ranBy(),
    },
    cfg.secrets,
  );
  return result;
}
