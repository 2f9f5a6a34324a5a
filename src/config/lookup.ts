import { NotFoundError } from '../core/errors.js';
import type { DatabaseConfig, LoadedConfig } from '../core/types.js';

/**
 * The configured database called `name`. An unknown name (a typo in `--db`) is a NotFoundError
 * (exit 8) that names it and lists the configured databases.
 */
export function configuredDatabase(cfg: Pick<LoadedConfig, 'file' | 'databases'>, name: string): DatabaseConfig {
  const db = cfg.databases.find((d) => d.name === name);
  if (!db) {
    const known = cfg.databases.map((d) => d.name).join(', ') || '(none configured)';
    throw new NotFoundError(`No database named "${name}" in ${cfg.file}.`, `Use one of: ${known}.`);
  }
  return db;
}

/** Checks every name given with `--db` against the config (see configuredDatabase). */
export function checkConfiguredDatabases(cfg: Pick<LoadedConfig, 'file' | 'databases'>, names: readonly string[]) {
  for (const name of names) configuredDatabase(cfg, name);
}
