import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { LoadedConfig } from '../core/types.js';
import { ensurePrivateDir, writeFileAtomic } from './fs-util.js';
import { getHealth, type HealthIssue, type HealthReport } from './health.js';
import type { NotifyOptions } from '../notify/notify.js';
import { writeMetrics } from './metrics.js';

/** What was last alerted, beside the sets: the keys of the issues that were open then. */
const STATE_NAME = '.health-alerts.json';

/**
 * Pure: the issues to alert about now: those whose key was not open at the last check. An issue that
 * lasts is alerted once; one that clears and comes back is alerted again.
 */
export function newIssues(issues: readonly HealthIssue[], alreadyOpen: readonly string[]): HealthIssue[] {
  const open = new Set(alreadyOpen);
  return issues.filter((i) => !open.has(i.key));
}

/**
 * Checks the health and tells the notification channels about new problems: overdue backups as
 * `overdue`, everything else as `unhealthy`. Called by `status --check` and by the running scheduler.
 * Never throws for a notifier; returns the report.
 */
export async function checkHealthAndAlert(
  cfg: LoadedConfig,
  now = new Date(),
  opts: { health?: HealthReport; notify?: NotifyOptions } = {},
): Promise<HealthReport> {
  // One check at a time per backup folder in this process (the scheduler starts one after every job): two at once
  // both read the same state and both alerted the same issue.
  const before = inFlight.get(cfg.backupDir) ?? Promise.resolve();
  const run = before.catch(() => undefined).then(() => checkAndAlert(cfg, now, opts));
  inFlight.set(cfg.backupDir, run);
  try {
    return await run;
  } finally {
    if (inFlight.get(cfg.backupDir) === run) inFlight.delete(cfg.backupDir);
  }
}

const inFlight = new Map<string, Promise<HealthReport>>();

async function checkAndAlert(
  cfg: LoadedConfig,
  now: Date,
  opts: { health?: HealthReport; notify?: NotifyOptions },
): Promise<HealthReport> {
  const health = opts.health ?? (await getHealth(cfg, now));
  if (!cfg.notifications?.length) {
    await writeMetrics(cfg, now);
    return health;
  }
  // One process at a time tells the channels (two checks at once, from cron and the scheduler, both read the same
  // state and both sent the alert): the other leaves it to the next check.
  const release = await claimAlerts(cfg.backupDir);
  if (release) {
    try {
      await alertNew(cfg, now, health, opts.notify);
    } finally {
      await release();
    }
  }
  // The metrics file follows every check too: written only after backups, an overdue database (the scheduler
  // gone, the usual cause) never showed in it.
  await writeMetrics(cfg, now);
  return health;
}

/** Sends the issues not alerted yet and remembers those a channel took (see checkHealthAndAlert). */
async function alertNew(cfg: LoadedConfig, now: Date, health: HealthReport, notifyOpts?: NotifyOptions): Promise<void> {
  const file = join(cfg.backupDir, STATE_NAME);
  let open: string[] = [];
  try {
    if (existsSync(file)) open = (JSON.parse(readFileSync(file, 'utf8')) as { open?: string[] }).open ?? [];
  } catch {
    open = [];
  }
  const fresh = newIssues(health.issues, open);
  // Issues whose alert did not reach every channel that wants it: not remembered, so the next check sends it again
  // (a mail server down when the problem appeared lost the alert for good).
  const unsent = new Set<string>();
  if (fresh.length) {
    const { notify } = await import('../notify/notify.js');
    const overdue = fresh.filter((i) => i.code === 'overdue' || i.code === 'never');
    const other = fresh.filter((i) => !overdue.includes(i));
    const base = { operation: 'health check', host: hostname(), at: now };
    const send = async (kind: 'overdue' | 'unhealthy', issues: HealthIssue[]): Promise<void> => {
      if (!issues.length) return;
      const results = await notify(cfg, { ...base, kind, details: issues.map((i) => i.phrase) }, notifyOpts);
      if (results.some((r) => !r.ok)) for (const i of issues) unsent.add(i.key);
    };
    await send('overdue', overdue);
    await send('unhealthy', other);
  }
  const keys = health.issues.map((i) => i.key).filter((k) => !unsent.has(k));
  if (keys.join('\n') !== open.join('\n') && existsSync(cfg.backupDir)) {
    await ensurePrivateDir(cfg.backupDir);
    await writeFileAtomic(file, JSON.stringify({ at: now.toISOString(), open: keys }) + '\n');
  }
}

const CLAIM_NAME = '.health-alerts.lock';
/** A claim older than this was left by a killed process. */
const STALE_CLAIM_MS = 120_000;

/** Claims telling the channels for this backup folder; the release, or null when another process holds it. */
async function claimAlerts(backupDir: string): Promise<(() => Promise<void>) | null> {
  // Made now if it is not there yet (a fresh install: "never backed up"): the log of the alerts goes there anyway.
  await ensurePrivateDir(backupDir).catch(() => undefined);
  const file = join(backupDir, CLAIM_NAME);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await (await fsp.open(file, 'wx', 0o600)).close();
      return () => fsp.rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return async () => undefined; // unclaimable: send anyway
      const age = await fsp.stat(file).then(
        (st) => Date.now() - st.mtimeMs,
        () => 0,
      );
      if (age < STALE_CLAIM_MS) return null;
      await fsp.rm(file, { force: true });
    }
  }
  return null;
}
