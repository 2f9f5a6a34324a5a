import { createHash } from 'node:crypto';
import { existsSync, promises as fsp, readFileSync, realpathSync } from 'node:fs';
import { homedir, hostname, tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { LoadedConfig } from '../core/types.js';
import { ensurePrivateDir, writeFileAtomic } from './fs-util.js';
import { getHealth, type HealthIssue, type HealthReport } from './health.js';
import type { NotifyOptions } from '../notify/notify.js';
import { writeMetrics } from './metrics.js';
import { quietWhileSaid } from './log.js';

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
    // The report says the folder cannot be written: the alerts' log lines failing there are not said again.
    const said = health.issues.some((i) => i.code === 'backup-dir-unwritable');
    const alert = () => alertNew(cfg, now, health, opts.notify);
    try {
      await (said ? quietWhileSaid(cfg.backupDir, alert) : alert());
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
  const spares = spareStateFiles(cfg.backupDir);
  const { told, from } = newestTold([file, ...spares]);
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
  // Written back when it changed, or when it was read from a spare place (moved back beside the sets).
  if (JSON.stringify(sorted) === JSON.stringify(told) && (from === file || from === null)) return;
  const text = JSON.stringify({ at: now.toISOString(), channels: sorted }) + '\n';
  // A backup folder that cannot be written (a disk remounted read-only) is itself a problem the check reports: what
  // was told then goes to a spare place (without it every check sent the same alerts again, a storm on the worst
  // day), and the check still answers (it exited 7).
  if (existsSync(cfg.backupDir)) {
    try {
      await ensurePrivateDir(cfg.backupDir);
      await writeFileAtomic(file, text);
      // The spare copies are older now: removed, so that they are never read again.
      await Promise.all(spares.map((f) => fsp.rm(f, { force: true }).catch(() => undefined)));
      return;
    } catch {
      /* the spare places below */
    }
  }
  for (const spare of spares) {
    try {
      await ensureOwnPrivateDir(join(spare, '..'));
      await writeFileAtomic(spare, text);
      return;
    } catch {
      /* the next one; with none, sent again by the next check */
    }
  }
}

/**
 * Where what was told is kept when the backup folder cannot take it: `$XDG_STATE_HOME/respaldo` (else
 * `~/.local/state/respaldo`: kept across reboots), else `<tmpdir>/respaldo-state-<uid>`, each file named from a hash
 * of the backup folder's real path. Both are this user's own, 0700, the file 0600.
 */
function spareStateFiles(backupDir: string): string[] {
  let real = resolve(backupDir);
  try {
    real = realpathSync(backupDir);
  } catch {
    /* not there (yet): its path as it is */
  }
  const name = `health-alerts-${createHash('sha256').update(real).digest('hex').slice(0, 32)}.json`;
  const dirs: string[] = [];
  const xdg = process.env.XDG_STATE_HOME;
  if (xdg && isAbsolute(xdg)) dirs.push(join(xdg, 'respaldo'));
  else {
    try {
      const home = homedir();
      if (home && isAbsolute(home)) dirs.push(join(home, '.local', 'state', 'respaldo'));
    } catch {
      /* no home: the temporary folder only */
    }
  }
  dirs.push(join(tmpdir(), `respaldo-state-${process.geteuid?.() ?? 'user'}`));
  return dirs.map((d) => join(d, name));
}

/** Makes `dir` 0700; throws when it is not this user's own folder (in a shared /tmp, another user may have made it). */
async function ensureOwnPrivateDir(dir: string): Promise<void> {
  await ensurePrivateDir(dir);
  const st = await fsp.lstat(dir);
  if (!st.isDirectory() || (process.geteuid && st.uid !== process.geteuid())) {
    throw new Error(`${dir} is not this user's own folder`);
  }
}

/**
 * What was told, from the newest of these state files (by the time it was written: a spare one is written only when
 * the backup folder could not be), and which file that was; nothing told when none is readable.
 */
function newestTold(files: readonly string[]): { told: Record<string, string[]>; from: string | null } {
  let best: { told: Record<string, string[]>; from: string | null; at: number } = {
    told: {},
    from: null,
    at: -Infinity,
  };
  for (const file of files) {
    const doc = readState(file);
    if (doc && doc.at > best.at) best = { told: doc.channels, from: file, at: doc.at };
  }
  return { told: best.told, from: best.from };
}

/**
 * One state file: per channel name, the keys of the open issues it was told of, and when (null: missing or
 * unreadable). A file of the older shape (`open`, no `channels`) told nothing.
 */
function readState(file: string): { channels: Record<string, string[]>; at: number } | null {
  try {
    if (!existsSync(file)) return null;
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { at?: string; channels?: Record<string, string[]> };
    const at = typeof doc.at === 'string' ? Date.parse(doc.at) : NaN;
    const channels = doc.channels && typeof doc.channels === 'object' ? doc.channels : {};
    return { channels, at: Number.isNaN(at) ? Number.MIN_SAFE_INTEGER : at };
  } catch {
    return null;
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

/**
 * Claims telling the channels for this backup folder; the release, or null when another process holds it. The claim
 * is made beside the sets, else (a folder that cannot be written) beside the spare state files (see spareStateFiles).
 */
async function claimAlerts(backupDir: string): Promise<(() => Promise<void>) | null> {
  // Made now if it is not there yet (a fresh install: "never backed up"): the log of the alerts goes there anyway.
  await ensurePrivateDir(backupDir).catch(() => undefined);
  const claimed = await claimFile(join(backupDir, CLAIM_NAME));
  if (claimed !== 'unclaimable') return claimed;
  for (const spare of spareStateFiles(backupDir)) {
    const made = await ensureOwnPrivateDir(join(spare, '..')).then(
      () => true,
      () => false,
    );
    const there = made ? await claimFile(spare.replace(/\.json$/, '.lock')) : 'unclaimable';
    if (there !== 'unclaimable') return there;
  }
  return async () => undefined; // unclaimable anywhere: send anyway
}

/** Claims with this file: the release, null when another process holds it, or 'unclaimable' (cannot be made there). */
async function claimFile(file: string): Promise<(() => Promise<void>) | null | 'unclaimable'> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await (await fsp.open(file, 'wx', 0o600)).close();
      return () => fsp.rm(file, { force: true }).catch(() => undefined); // its disk gone read-only meanwhile: stale
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return 'unclaimable';
      const age = await fsp.stat(file).then(
        (st) => Date.now() - st.mtimeMs,
        () => 0,
      );
      if (age < STALE_CLAIM_MS) return null;
      // A stale one that cannot be removed (left there when the disk went read-only): claimed elsewhere.
      if (
        !(await fsp.rm(file, { force: true }).then(
          () => true,
          () => false,
        ))
      )
        return 'unclaimable';
    }
  }
  return null;
}
