import { chownSync, closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { readProblem, readRegularFileSync } from '../core/regular-file.js';
import { ConfigError, UsageError } from '../core/errors.js';
import { duplicateKey } from '../config/duplicate-keys.js';
import { firstNonUtf8Line } from '../config/interpolate.js';
import type { RetentionPolicy, ScheduleJob } from '../core/types.js';
import { JOB_TYPES, PRESETS, tieredPreset, validateJobs, type PresetName } from './when.js';

/**
 * Editing `schedule.jobs` in backup_config.json (`respaldo schedule set`, menu option 2).
 * The raw file is edited (no `${VAR}` interpolation, so secrets stay references), every field the
 * edit does not touch is preserved, the indentation is kept, and the file is written atomically
 * (conf with `cwd` + `configName`, i.e. temp file, fsync, rename; same file mode). The new job
 * list is validated first (validateJobs + database names): a bad edit throws UsageError naming
 * the field and leaves the file untouched.
 */

/** Fields of a job an edit may set; `timezone: null` removes the zone (machine's local time). */
export interface JobEdit {
  when?: string;
  type?: ScheduleJob['type'];
  databases?: string[];
  files?: boolean;
  timezone?: string | null;
}

export interface EditResult {
  action: 'added' | 'replaced' | 'removed' | 'preset';
  /** The job added, replaced or removed (absent for presets). */
  job?: ScheduleJob;
  /** Jobs the preset replaced. */
  replaced?: ScheduleJob[];
  /** The job list now in the file. */
  jobs: ScheduleJob[];
  file: string;
}

type RawConfig = Record<string, unknown> & {
  schedule?: { jobs?: unknown[] } & Record<string, unknown>;
  databases?: unknown[];
};

function readRaw(file: string): { doc: RawConfig; text: string } {
  let buf: Buffer;
  try {
    buf = readRegularFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      file,
      undefined,
      code === 'ENOENT' ? 'file not found' : `cannot read: ${readProblem(err)}`,
      'Pass --config PATH or set RESPALDO_CONFIG.',
    );
  }
  // Decoded anyway, its Latin-1 accents became U+FFFD, and writing the file back made that the operator's text.
  const line = firstNonUtf8Line(buf);
  if (line !== null)
    throw new ConfigError(
      file,
      undefined,
      `line ${line} is not UTF-8 text (an accent saved as Latin-1 or Windows-1252?)`,
      `Save the file as UTF-8 (or iconv -f latin1 -t utf-8), then run the command again; nothing was changed in ${file}.`,
    );
  const text = buf.toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      file,
      undefined,
      `malformed JSON: ${(err as Error).message}`,
      'Fix the JSON syntax first; nothing was changed.',
    );
  }
  // Written back from what JSON.parse kept, the first of a key written twice was gone from the file.
  const twice = duplicateKey(text);
  if (twice)
    throw new ConfigError(
      file,
      twice.path,
      `is written twice (lines ${twice.firstLine} and ${twice.line}); JSON would keep only the second, silently`,
      `Keep one of them (merge their values if both are wanted) first; nothing was changed in ${file}.`,
    );
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new ConfigError(file, undefined, 'must be a JSON object');
  const raw = doc as RawConfig;
  if (
    raw.schedule !== undefined &&
    (typeof raw.schedule !== 'object' || raw.schedule === null || Array.isArray(raw.schedule))
  ) {
    throw new ConfigError(file, 'schedule', 'must be an object', 'Write "schedule": { "jobs": [ … ] }.');
  }
  if (raw.schedule?.jobs !== undefined && !Array.isArray(raw.schedule.jobs))
    throw new ConfigError(file, 'schedule.jobs', 'must be a list');
  return { doc: raw, text };
}

/** The jobs as written in the file, with the schema's defaults filled in (type full, databases *, files true). */
export function readScheduleJobs(file: string): ScheduleJob[] {
  const { doc } = readRaw(file);
  return ((doc.schedule?.jobs ?? []) as Array<Partial<ScheduleJob>>).map(withDefaults);
}

function withDefaults(j: Partial<ScheduleJob>): ScheduleJob {
  return {
    name: j.name ?? '',
    when: j.when ?? '',
    type: j.type ?? 'full',
    databases: j.databases ?? ['*'],
    files: j.files ?? true,
    ...(j.timezone !== undefined ? { timezone: j.timezone } : {}),
  };
}

function databaseNames(doc: RawConfig): string[] {
  return (Array.isArray(doc.databases) ? doc.databases : [])
    .map((d) => (d as { name?: unknown })?.name)
    .filter((n): n is string => typeof n === 'string');
}

function detectIndent(text: string): string | number {
  const m = /^\{\r?\n([ \t]+)\S/.exec(text) ?? /\n([ \t]+)"/.exec(text);
  if (!m) return 2;
  return m[1]!.startsWith('\t') ? '\t' : m[1]!.length;
}

const RETENTION_FIELDS: (keyof RetentionPolicy)[] = ['keepLast', 'daily', 'weekly', 'monthly', 'yearly'];

/** Writes a new job list (validated first), preserving every other field of the file. */
export async function writeScheduleJobs(file: string, jobs: ScheduleJob[]): Promise<void> {
  await writeSchedule(file, { jobs });
}

/**
 * Writes the job list and, when given, the retention policy in one atomic write (both validated
 * first), preserving every other field of the file. Used by `schedule set` and the menu.
 */
export async function writeSchedule(
  file: string,
  edit: { jobs: ScheduleJob[]; retention?: RetentionPolicy },
): Promise<void> {
  const { doc, text } = readRaw(file);
  const problems = validateJobs(edit.jobs, 'schedule.jobs', databaseNames(doc));
  const p = problems[0];
  if (p) throw new UsageError(`${p.path}: ${p.problem}`, `${p.hint} Nothing was changed in ${file}.`);
  for (const k of edit.retention ? RETENTION_FIELDS : []) {
    const v = edit.retention![k];
    if (!Number.isInteger(v) || v < 0)
      throw new UsageError(`retention.${k}: must be a whole number, 0 or more.`, `Nothing was changed in ${file}.`);
  }
  const sections: Record<string, unknown> = {
    schedule: { ...(doc.schedule ?? {}), jobs: edit.jobs.map((j) => ({ ...j })) },
  };
  if (edit.retention) {
    const old =
      doc.retention && typeof doc.retention === 'object' && !Array.isArray(doc.retention)
        ? (doc.retention as Record<string, unknown>)
        : {};
    sections.retention = { ...old, ...edit.retention };
  }
  const indent = detectIndent(text);
  const serialize = (value: unknown): string => JSON.stringify(value, null, indent) + '\n';
  const st = statSync(file);
  const mode = st.mode & 0o777;
  const refusal = ownerRefusal(st, process.geteuid?.());
  if (refusal)
    throw new ConfigError(
      file,
      undefined,
      refusal,
      `Run the command as that user (or as root). Nothing was changed in ${file}.`,
    );
  if (extname(file) === '.json') {
    const { default: Conf } = await import('conf');
    const conf = new Conf<Record<string, unknown>>({
      cwd: dirname(file),
      configName: basename(file, '.json'),
      serialize,
      configFileMode: mode,
      accessPropertiesByDotNotation: false,
    });
    conf.set(sections);
  } else {
    writeAtomicSync(file, serialize({ ...doc, ...sections }), mode);
  }
  // The new file is this process's (a rename; conf gives it back its owner, writeAtomicSync did not): as root, the
  // config is given back to its owner and group, whose scheduler reads it.
  if (process.geteuid?.() === 0 && (st.uid !== 0 || st.gid !== 0)) chownSync(file, st.uid, st.gid);
}

/**
 * Why a config file owned as `st` may not be rewritten by the user `euid` (undefined where there are no users), or
 * null. It is written anew and renamed over the old one, so the new file is the writer's: as another user that is
 * not root it would change owner (the scheduler running as its owner might then not read it), and one that user may
 * not write was replaced all the same when its folder was theirs. Pure.
 */
export function ownerRefusal(st: { uid: number }, euid: number | undefined): string | null {
  if (euid === undefined || euid === 0 || st.uid === euid) return null;
  return `belongs to another user (uid ${st.uid}): rewritten by this user (uid ${euid}), it would become theirs`;
}

function writeAtomicSync(file: string, content: string, mode: number): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  const dfd = openSync(dirname(file), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/**
 * Adds a job, or changes the given fields of an existing one (other fields stay). A new job needs
 * `when`; its other fields default to type full, all databases, files included, local time.
 */
export async function upsertJob(file: string, name: string, edit: JobEdit): Promise<EditResult> {
  const jobs = readScheduleJobs(file);
  const i = jobs.findIndex((j) => j.name === name);
  if (edit.type !== undefined && !(JOB_TYPES as readonly string[]).includes(edit.type)) {
    throw new UsageError(`Unknown job type "${edit.type}".`, `Use one of: ${JOB_TYPES.join(', ')}.`);
  }
  const base: ScheduleJob | undefined = i >= 0 ? jobs[i] : undefined;
  if (!base && !edit.when)
    throw new UsageError(
      `There is no job named "${name}" yet, so --when is needed.`,
      'For example: respaldo schedule set daily --when "daily at 02:00".',
    );
  const job: ScheduleJob = {
    name,
    when: edit.when ?? base!.when,
    type: edit.type ?? base?.type ?? 'full',
    databases: edit.databases ?? base?.databases ?? ['*'],
    files: edit.files ?? base?.files ?? true,
  };
  const tz = edit.timezone === undefined ? base?.timezone : edit.timezone;
  if (tz) job.timezone = tz;
  const next = [...jobs];
  if (i >= 0) next[i] = job;
  else next.push(job);
  await writeScheduleJobs(file, next);
  return { action: i >= 0 ? 'replaced' : 'added', job, jobs: next, file };
}

/** Removes a job by name (NotFound-like UsageError when there is none). */
export async function removeJob(file: string, name: string): Promise<EditResult> {
  const jobs = readScheduleJobs(file);
  const job = jobs.find((j) => j.name === name);
  if (!job)
    throw new UsageError(
      `There is no job named "${name}".`,
      `Jobs: ${jobs.map((j) => j.name).join(', ') || '(none)'}. Run \`respaldo schedule\` to see them.`,
    );
  const next = jobs.filter((j) => j.name !== name);
  await writeScheduleJobs(file, next);
  return { action: 'removed', job, jobs: next, file };
}

/** Replaces the whole job list with a preset (`tiered`); returns the jobs it replaced. */
export async function applyPreset(
  file: string,
  preset: PresetName,
  opts: { databases?: string[]; files?: boolean; timezone?: string } = {},
): Promise<EditResult> {
  if (!(PRESETS as readonly string[]).includes(preset))
    throw new UsageError(`Unknown preset "${preset}".`, `Presets: ${PRESETS.join(', ')}.`);
  const replaced = readScheduleJobs(file);
  const jobs = tieredPreset(opts);
  await writeScheduleJobs(file, jobs);
  return { action: 'preset', replaced, jobs, file };
}
