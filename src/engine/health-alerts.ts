import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { LoadedConfig } from '../core/types.js';
import { ensurePrivateDir, writeFileAtomic } from './fs-util.js';
import { getHealth, type HealthIssue, type HealthReport } from './health.js';

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
export async function checkHealthAndAlert(cfg: LoadedConfig, now = new Date()): Promise<HealthReport> {
  const health = await getHealth(cfg, now);
  if (!cfg.notifications?.length) return health;
  const file = join(cfg.backupDir, STATE_NAME);
  let open: string[] = [];
  try {
    if (existsSync(file)) open = (JSON.parse(readFileSync(file, 'utf8')) as { open?: string[] }).open ?? [];
  } catch {
    open = [];
  }
  const fresh = newIssues(health.issues, open);
  if (fresh.length) {
    const { notify } = await import('../notify/notify.js');
    const overdue = fresh.filter((i) => i.code === 'overdue' || i.code === 'never');
    const other = fresh.filter((i) => !overdue.includes(i));
    const base = { operation: 'health check', host: hostname(), at: now };
    if (overdue.length) await notify(cfg, { ...base, kind: 'overdue', details: overdue.map((i) => i.text) });
    if (other.length) await notify(cfg, { ...base, kind: 'unhealthy', details: other.map((i) => i.text) });
  }
  const keys = health.issues.map((i) => i.key);
  if (keys.join('\n') !== open.join('\n') && existsSync(cfg.backupDir)) {
    await ensurePrivateDir(cfg.backupDir);
    await writeFileAtomic(file, JSON.stringify({ at: now.toISOString(), open: keys }) + '\n');
  }
  return health;
}
