import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { DestinationConfig } from './destination.js';
import { DESTINATIONS } from './registry.js';
import { rcloneSecret } from './rules.js';

/** A source name: a folder name on every destination. */
export const SOURCE_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;

/** The source name of this server: the config's `source`, else the host name made safe for a folder name. */
export function defaultSource(configured: string | undefined): string {
  if (configured) return configured;
  const h = hostname()
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .replace(/^[.-]+/, '');
  return (h || 'server').slice(0, 63);
}

/**
 * Checks the `destinations` of a config (after schema validation and `${VAR}` interpolation):
 * unique names, type-specific fields, a source per destination. Resolves relative paths against
 * `baseDir` and adds secret values to `secrets`. Throws a ConfigError naming the field.
 */
export function normalizeDestinations(
  file: string,
  doc: { destinations?: DestinationConfig[]; source?: string },
  baseDir: string,
  secrets: Set<string>,
  unset: ReadonlyMap<number, unknown> = new Map(),
): DestinationConfig[] {
  const seen = new Map<string, number>();
  const source = defaultSource(doc.source);
  return (doc.destinations ?? []).map((d, i) => {
    const at = `destinations[${i}]`;
    const prev = seen.get(d.name);
    if (prev !== undefined)
      throw new ConfigError(
        file,
        `${at}.name`,
        `"${d.name}" is already used by destinations[${prev}]`,
        'Give every destination a different name.',
      );
    seen.set(d.name, i);
    const factory = DESTINATIONS[d.type];
    if (!factory)
      throw new ConfigError(
        file,
        `${at}.type`,
        `type "${d.type}" is not available in this build`,
        'Use folder, s3, sftp or rclone.',
      );
    // A `${VAR}` of it not set: its fields are checked once it is set (the commands using it say so meanwhile).
    const problem = unset.has(i) ? undefined : factory.validate(d)[0];
    if (problem) throw new ConfigError(file, `${at}.${problem.path}`, problem.problem, problem.hint);
    // A field still `${VAR}` (not set) is no secret: masked, it would hide which variable to set.
    const secret = (v: unknown): v is string =>
      typeof v === 'string' && v !== '' && !(unset.has(i) && v.includes('${'));
    for (const f of factory.secretFields) {
      const v = d[f];
      if (secret(v)) secrets.add(v);
    }
    for (const [k, v] of Object.entries(d.config ?? {})) if (secret(v) && rcloneSecret(k, v)) secrets.add(v);
    const out: DestinationConfig = { ...d, source: d.source ?? source, copyAfterBackup: d.copyAfterBackup ?? true };
    for (const key of ['path', 'privateKey'] as const) {
      const v = out[key];
      if (typeof v === 'string' && v && (d.type === 'folder' || key === 'privateKey'))
        out[key] = isAbsolute(v) ? v : resolve(baseDir, v);
    }
    return out;
  });
}
