import { existsSync, statSync } from 'node:fs';
import type { LoadedConfig, SetSummary } from '../core/types.js';
import { errorMessage } from '../core/errors.js';
import { listSets } from './catalog.js';
import { writeFileAtomic } from './fs-util.js';
import { getHealth, type HealthReport } from './health.js';
import { writeLog } from './log.js';

/**
 * The health figures in Prometheus text format (exposition format 0.0.4), for node_exporter's textfile
 * collector: written atomically after every run to `metrics.textfile`. Names follow Prometheus
 * conventions (base units, `_seconds`, `_bytes`, `_timestamp_seconds`, a `database` label).
 */

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** Pure: the text of the metrics file. */
export function renderMetrics(
  health: HealthReport,
  sets: Pick<SetSummary, 'type' | 'status' | 'lastVerified' | 'databases'>[],
): string {
  const out: string[] = [];
  const family = (
    name: string,
    help: string,
    type: 'gauge' | 'counter',
    samples: [Record<string, string>, number][],
  ) => {
    if (!samples.length) return;
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels)
        .map(([k, v]) => `${k}="${esc(v)}"`)
        .join(',');
      out.push(`${name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 'NaN'}`);
    }
  };
  const per = <T>(
    pick: (d: HealthReport['databases'][number]) => T | null,
    map: (v: T) => number,
  ): [Record<string, string>, number][] =>
    health.databases.flatMap((d) => {
      const v = pick(d);
      return v === null ? [] : [[{ database: d.database }, map(v)] as [Record<string, string>, number]];
    });
  family(
    'respaldo_last_success_timestamp_seconds',
    'End of the newest successful backup of the database (Unix time).',
    'gauge',
    per(
      (d) => d.lastSuccessAt,
      (v) => Math.floor(new Date(v).getTime() / 1000),
    ),
  );
  family(
    'respaldo_backup_duration_seconds',
    'Duration of the newest successful backup of the database.',
    'gauge',
    per(
      (d) => d.lastDurationMs,
      (v) => v / 1000,
    ),
  );
  family(
    'respaldo_backup_duration_median_seconds',
    'Median duration of the ten successful backups before the newest.',
    'gauge',
    per(
      (d) => d.medianDurationMs,
      (v) => v / 1000,
    ),
  );
  family(
    'respaldo_backup_stored_bytes',
    'Stored (compressed) size of the newest successful backup of the database.',
    'gauge',
    per(
      (d) => d.lastStoredBytes,
      (v) => v,
    ),
  );
  family(
    'respaldo_backup_success_ratio',
    'Share of the backups of the last 30 days that succeeded.',
    'gauge',
    per(
      (d) => d.successRate30d,
      (v) => v,
    ),
  );
  family(
    'respaldo_backup_attempts',
    'Backups attempted in the last 30 days.',
    'gauge',
    per(
      (d) => d.attempts30d,
      (v) => v,
    ),
  );
  family(
    'respaldo_backup_overdue',
    '1 when the schedule promised a backup that did not happen.',
    'gauge',
    per(
      (d) => d.overdue,
      (v) => (v ? 1 : 0),
    ),
  );
  family(
    'respaldo_backup_schedule_period_seconds',
    'Shortest period of the scheduled backups of the database.',
    'gauge',
    per(
      (d) => d.promisedEverySeconds,
      (v) => v,
    ),
  );
  const drilled = (d: HealthReport['databases'][number]) => d.lastDrill ?? null;
  const drillOk = per(drilled, (v) => (v.ok ? 1 : 0));
  family(
    'respaldo_drill_success',
    '1 when the restore drill of the newest drilled set of the database passed, 0 when it failed.',
    'gauge',
    drillOk,
  );
  const drillAt = per(drilled, (v) => Math.floor(new Date(v.at).getTime() / 1000));
  family(
    'respaldo_last_drill_timestamp_seconds',
    'Time of the restore drill of the newest drilled set of the database (Unix time).',
    'gauge',
    drillAt,
  );
  // Per database, as the drills: one figure for every set let a good verify of an old set hide the newest one
  // failing, and did not say whose.
  const verified = sets.filter((s) => s.type !== 'pre_restore' && s.lastVerified);
  const newestVerify = (database: string) =>
    verified
      .filter((s) => s.databases.includes(database))
      .map((s) => s.lastVerified!)
      .sort((a, b) => (a.at < b.at ? 1 : -1))[0] ?? null;
  family(
    'respaldo_last_verify_timestamp_seconds',
    'Time of the newest verification of a set holding the database (Unix time).',
    'gauge',
    per(
      (d) => newestVerify(d.database),
      (v) => Math.floor(new Date(v.at).getTime() / 1000),
    ),
  );
  family(
    'respaldo_last_verify_success',
    '1 when the newest verification of a set holding the database found every stored file intact.',
    'gauge',
    per(
      (d) => newestVerify(d.database),
      (v) => (v.ok ? 1 : 0),
    ),
  );
  family('respaldo_sets', 'Published backup sets by type and status.', 'gauge', countBy(sets));
  if (health.freeBytes !== null)
    family('respaldo_backup_dir_free_bytes', 'Free space on the disk of the backup folder.', 'gauge', [
      [{}, health.freeBytes],
    ]);
  family('respaldo_healthy', '1 when status --check finds no problem.', 'gauge', [[{}, health.healthy ? 1 : 0]]);
  family('respaldo_health_problems', 'Problems status --check reports.', 'gauge', [[{}, health.problems.length]]);
  return out.join('\n') + '\n';
}

function countBy(sets: Pick<SetSummary, 'type' | 'status'>[]): [Record<string, string>, number][] {
  const counts = new Map<string, number>();
  for (const s of sets) counts.set(`${s.type}\0${s.status}`, (counts.get(`${s.type}\0${s.status}`) ?? 0) + 1);
  return [...counts].map(([k, n]) => {
    const [type, status] = k.split('\0') as [string, string];
    return [{ type, status }, n];
  });
}

/**
 * Writes `metrics.textfile` when configured (atomically: node_exporter never reads half a file). It holds
 * no secrets and is read by another user (node_exporter), so a new file is 0644; an existing file keeps its
 * mode. Never throws: a failure is logged and never fails the run that triggered it.
 */
export async function writeMetrics(cfg: LoadedConfig, now = new Date()): Promise<void> {
  const file = cfg.metrics?.textfile;
  if (!file) return;
  try {
    const [health, sets] = await Promise.all([getHealth(cfg, now), listSets(cfg)]);
    const mode = existsSync(file) ? statSync(file).mode & 0o777 : 0o644;
    await writeFileAtomic(file, renderMetrics(health, sets), mode);
  } catch (err) {
    writeLog(cfg.backupDir, 'metrics', { file, outcome: 'failed', error: errorMessage(err) }, cfg.secrets);
  }
}
