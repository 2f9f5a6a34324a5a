import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { LoadedConfig } from '../core/types.js';
import { ensurePrivateDir, writeFileAtomic } from './fs-util.js';
import { getHealth, type HealthIssue, type HealthReport } from './health.js';
import type { NotifyOptions } from '../notify/notify.js';
import { writeMetrics } from './metrics.js';

/** What was last alerted, beside the sets: per channel, the keys of the open issues it was told of. */
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

/**
 * Tells each channel the issues it wants (its `on`) and was not told yet, and remembers per channel what it took
 * (see checkHealthAndAlert). Remembered once for all channels, an issue no channel wanted counted as alerted, and a
 * channel added later never heard of it. A file of that older shape (`open`, no `channels`) counts as nothing told:
 * the open issues are sent once more.
 */
async function alertNew(cfg: LoadedConfig, now: Date, health: HealthReport, notifyOpts?: NotifyOptions): Promise<void> {
  const file = join(cfg.backupDir, STATE_NAME);
  const told = readTold(file);
  const { channelName } = await import('../notify/notify.js');
  const event = { operation: 'health check', host: hostname(), at: now };
  const next: Record<string, string[]> = {};
  await Promise.all(
    (cfg.notifications ?? []).map(async (c, i) => {
      const name = channelName(c, i);
      const one = { ...cfg, notifications: [{ ...c, name }] };
      next[name] = await tellChannel(one, health.issues, told[name] ?? [], event, notifyOpts);
    }),
  );
  const sorted = Object.fromEntries(Object.entries(next).sort(([a], [b]) => (a < b ? -1 : 1)));
  if (JSON.stringify(sorted) !== JSON.stringify(told) && existsSync(cfg.backupDir)) {
    // A backup folder that cannot be written (a disk remounted read-only) is itself a problem the check reports: what
    // was told is then not remembered (sent again by the next check), and the check still answers (it exited 7).
    try {
      await ensurePrivateDir(cfg.backupDir);
      await writeFileAtomic(file, JSON.stringify({ at: now.toISOString(), channels: sorted }) + '\n');
    } catch {
      /* see above */
    }
  }
}

/** Per channel name, the keys of the open issues it was told of (none from a missing or unreadable file). */
function readTold(file: string): Record<string, string[]> {
  try {
    if (!existsSync(file)) return {};
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { channels?: Record<string, string[]> };
    return doc.channels && typeof doc.channels === 'object' ? doc.channels : {};
  } catch {
    return {};
  }
}

/**
 * Sends the one channel of `cfg` the open issues it wants and does not know of: overdue ones as `overdue`, the rest
 * as `unhealthy`. Returns the keys it knows of now: those it knew that are still open (one that clears and comes back
 * is sent again), and those it took now (one it could not take is sent again by the next check).
 */
async function tellChannel(
  cfg: LoadedConfig,
  issues: readonly HealthIssue[],
  known: readonly string[],
  event: { operation: string; host: string; at: Date },
  notifyOpts?: NotifyOptions,
): Promise<string[]> {
  const { notify } = await import('../notify/notify.js');
  const { wants } = await import('../notify/message.js');
  const channel = cfg.notifications![0]!;
  const kindOf = (i: HealthIssue) => (i.code === 'overdue' || i.code === 'never' ? 'overdue' : 'unhealthy');
  const knows = issues.filter((i) => known.includes(i.key)).map((i) => i.key);
  const fresh = newIssues(issues, known).filter((i) => wants(channel, kindOf(i)));
  for (const kind of ['overdue', 'unhealthy'] as const) {
    const send = fresh.filter((i) => kindOf(i) === kind);
    if (!send.length) continue;
    const results = await notify(cfg, { ...event, kind, details: send.map((i) => i.phrase) }, notifyOpts);
    if (results.length && results.every((r) => r.ok)) knows.push(...send.map((i) => i.key));
  }
  return knows;
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
