import { RespaldoError } from '../core/errors.js';
import type { DatabaseConfig, DrillServerConfig, EngineName } from '../core/types.js';
import type { ConfigProblem, Driver } from './driver.js';
import { validateSqliteConfig } from './sqlite/config.js';
import { validatePgDrillServer, validatePostgresEntry } from './postgres/config.js';
import { validate as validateSqlServerConfig } from './sqlserver/config.js';

/**
 * Engine name → the config checks of its driver (`Driver.validateConfig`, `Driver.validateDrillServer`): the
 * very functions each driver declares, taken from its light config module, so that loading a config loads no
 * driver and no database library (`list`, `show`, `status`, `verify` need none). registry.ts stays the one map
 * of drivers; a test checks that every registered driver has exactly these functions.
 */
export const CONFIG_VALIDATORS = {
  sqlite: { validateConfig: validateSqliteConfig },
  postgres: { validateConfig: validatePostgresEntry, validateDrillServer: validatePgDrillServer },
  sqlserver: { validateConfig: validateSqlServerConfig },
} satisfies Record<EngineName, Pick<Driver, 'validateConfig' | 'validateDrillServer'>>;

/** The config checks of one engine. */
export interface EngineValidators {
  validateConfig(db: DatabaseConfig): ConfigProblem[];
  validateDrillServer?(server: DrillServerConfig): ConfigProblem[];
}

/** The config checks of `engine`; an unknown engine fails as `driverFor` does. */
export function validatorsFor(engine: EngineName): EngineValidators {
  const found: EngineValidators | undefined = (CONFIG_VALIDATORS as Record<string, EngineValidators>)[engine];
  if (!found)
    throw new RespaldoError(
      'config',
      `Unknown engine "${engine}".`,
      'Use one of: ' + Object.keys(CONFIG_VALIDATORS).join(', '),
    );
  return found;
}
