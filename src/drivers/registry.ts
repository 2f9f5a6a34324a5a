import { RespaldoError } from '../core/errors.js';
import type { EngineName } from '../core/types.js';
import type { Driver } from './driver.js';
import { postgresDriver } from './postgres/index.js';
import { sqliteDriver } from './sqlite/index.js';
import { sqlserverDriver } from './sqlserver/index.js';

/** Engine name → driver. Adding an engine is adding a folder src/drivers/<engine>/ and an entry here. */
const drivers = {
  sqlite: sqliteDriver,
  postgres: postgresDriver,
  sqlserver: sqlserverDriver,
} satisfies Record<EngineName, Driver>;

export function driverFor(engine: EngineName): Driver {
  const driver: Driver | undefined = (drivers as Record<string, Driver>)[engine];
  if (!driver)
    throw new RespaldoError('config', `Unknown engine "${engine}".`, 'Use one of: ' + Object.keys(drivers).join(', '));
  return driver;
}

export function availableEngines(): EngineName[] {
  return Object.keys(drivers) as EngineName[];
}
