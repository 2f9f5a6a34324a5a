import { UsageError } from '../core/errors.js';
import { silentReporter, type Reporter } from '../core/events.js';
import type { BackupType, LoadedConfig, Manifest, SetSummary } from '../core/types.js';
import { loadConfig } from '../config/load.js';
import { checkConfiguredDatabases } from '../config/lookup.js';
import { listSets } from './catalog.js';
import { createBackup } from './create.js';
import type { CreateOptions } from './create-plan.js';

/**
 * "Back up unless a recent backup exists": `respaldo create --if-older-than 7d`, and
 * `ensureRecentBackup` for Node applications that want a fresh backup before a critical
 * operation (a migration, a bulk import).
 */

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
/** The longest age an operator can mean: 1000 years (a Date holds ±273,790 years, and a number of ms is exact). */
const MAX_AGE_MS = 1000 * 366 * 86_400_000;

/**
 * Parses an age such as `7d`, `12h`, `30m`, `2w`, `45s` or a combination (`1d12h`) to
 * milliseconds. Throws UsageError for anything else (including zero).
 */
export function parseAge(text: string): number {
  const t = text.trim().toLowerCase();
  if (!/^(\d+\s*[smhdw]\s*)+$/.test(t)) {
    throw new UsageError(
      `"${text}" is not an age.`,
      'Write a number and a unit: 30m, 12h, 7d, 2w (s, m, h, d, w; combinations like 1d12h work too).',
    );
  }
  let ms = 0;
  for (const m of t.matchAll(/(\d+)\s*([smhdw])/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  if (ms <= 0) throw new UsageError(`"${text}" is an age of zero.`, 'Give a positive age such as 12h.');
  // 99999999999999999999d was taken, and said back as another number ("within 100000000000000000000d 15h").
  if (!Number.isSafeInteger(ms) || ms > MAX_AGE_MS)
    throw new UsageError(
      `"${text}" is older than any backup can be (more than 1000 years).`,
      'Give an age such as 7d or 12h (s, m, h, d, w).',
    );
  return ms;
}

/** Formats milliseconds as a short age (`3d 4h`, `25m`, `40s`). */
export function formatAgeMs(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

/**
 * The newest completed set of `type` that holds every one of `databases`, or null. Pure.
 * (`sets` newest first, as `listSets` returns them.)
 */
export function newestCovering(
  sets: SetSummary[],
  databases: string[],
  type: BackupType = 'full',
  now: Date | null = null,
): SetSummary | null {
  return (
    sets.find(
      (s) =>
        s.status === 'completed' &&
        s.type === type &&
        databases.every((d) => s.databases.includes(d)) &&
        !(now && isAhead(s, now)),
    ) ?? null
  );
}

/**
 * Dated more than an hour ahead of `now` (a clock that was wrong here or where the set was made): such a set says
 * nothing about how recent the backups are, and counted it would make every later check "recent" (no backup made).
 */
function isAhead(s: SetSummary, now: Date): boolean {
  return Date.parse(s.completedAt) > now.getTime() + 3_600_000;
}

export interface EnsureRecentOptions {
  /** Maximum age of the newest completed set: `7d`, `12h`, … or milliseconds. */
  maxAge: string | number;
  /** Databases that must be covered (default: all in the config). */
  databases?: string[];
  /** Config file (default: RESPALDO_CONFIG, else ./backup_config.json). */
  configPath?: string;
  /** An already loaded config (then `configPath` is ignored). */
  config?: LoadedConfig;
  /** Backup type to check and create (default `full`). */
  type?: BackupType;
  /** Whether a new backup also stores files (default true, like `respaldo create`). */
  files?: boolean;
  description?: string;
  signal?: AbortSignal;
  /** As CreateOptions.onCopied, when a backup is made. */
  onCopied?: CreateOptions['onCopied'];
  /** Current time (for tests). */
  now?: Date;
}

export interface EnsureRecentResult {
  /** Whether a new backup was made. */
  created: boolean;
  /** One sentence for the operator: why a backup was or was not made. */
  reason: string;
  /** The newest completed covering set before this call, if any. */
  previous: SetSummary | null;
  /** Its age in ms at the time of the check, or null. */
  previousAgeMs: number | null;
  /** The new set's manifest when `created` (its status may be partial or failed). */
  manifest: Manifest | null;
}

/**
 * Backs up only when the newest completed set holding all `databases` is older than `maxAge`
 * (or there is none). The backup itself is `createBackup` (lock, atomic publish); its manifest
 * may be partial/failed, which the caller must check (`manifest.status`).
 */
export async function ensureRecentBackup(
  opts: EnsureRecentOptions,
  reporter: Reporter = silentReporter,
): Promise<EnsureRecentResult> {
  const { cfg, databases, type, recent, reason, previous, previousAgeMs } = await recentBackup(opts);
  if (recent) return { created: false, reason, previous, previousAgeMs, manifest: null };
  reporter.emit({ type: 'info', message: reason });
  const manifest = await createBackup(
    cfg,
    {
      databases: opts.databases?.length ? databases : undefined,
      type,
      files: opts.files,
      description: opts.description,
      signal: opts.signal,
      ...(opts.onCopied ? { onCopied: opts.onCopied } : {}),
    },
    reporter,
  );
  return { created: true, reason, previous, previousAgeMs, manifest };
}

/**
 * Whether the newest completed set holding all `databases` is within `maxAge`, and the sentence saying so; reads
 * only (`create --dry-run --if-older-than` says what a run would do). A bad age is a UsageError.
 */
export async function recentBackup(opts: Omit<EnsureRecentOptions, 'files' | 'description' | 'signal'>): Promise<{
  cfg: LoadedConfig;
  databases: string[];
  type: BackupType;
  recent: boolean;
  reason: string;
  previous: SetSummary | null;
  previousAgeMs: number | null;
}> {
  const maxAgeMs = typeof opts.maxAge === 'number' ? opts.maxAge : parseAge(opts.maxAge);
  if (!(maxAgeMs > 0)) throw new UsageError(`maxAge must be positive (got ${String(opts.maxAge)}).`);
  const cfg = opts.config ?? (await loadConfig(opts.configPath ? { configPath: opts.configPath } : {}));
  const databases = opts.databases?.length ? opts.databases : cfg.databases.map((d) => d.name);
  checkConfiguredDatabases(cfg, databases);
  const type = opts.type ?? 'full';
  const now = opts.now ?? new Date();
  const sets = await listSets(cfg);
  const previous = newestCovering(sets, databases, type, now);
  const ahead = newestCovering(sets, databases, type);
  const previousAgeMs = previous ? now.getTime() - Date.parse(previous.completedAt) : null;
  const what = databases.join(', ');
  const passedOver =
    ahead && ahead !== previous
      ? ` (set ${ahead.id} is dated ${ahead.completedAt}, ahead of this machine's clock, and does not count: check the clock)`
      : '';
  const base = { cfg, databases, type, previous, previousAgeMs };
  if (previous && previousAgeMs !== null && previousAgeMs <= maxAgeMs) {
    const reason = `The newest completed backup of ${what} (${previous.id}) is ${formatAgeMs(previousAgeMs)} old, within ${formatAgeMs(maxAgeMs)}; no backup made.`;
    return { ...base, recent: true, reason };
  }
  const reason = previous
    ? `The newest completed backup of ${what} (${previous.id}) is ${formatAgeMs(previousAgeMs!)} old, older than ${formatAgeMs(maxAgeMs)}${passedOver}; backing up.`
    : `There is no completed ${type} backup holding ${what}${passedOver}; backing up.`;
  return { ...base, recent: false, reason };
}
