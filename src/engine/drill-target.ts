import type { DatabaseConfig, LoadedConfig } from '../core/types.js';
import { driverFor } from '../drivers/registry.js';

/**
 * Where a restore drill restores `db`: its entry moved to `drill.server` when that is configured
 * and its driver can move (PostgreSQL), else the entry itself. Pure.
 */
export function drillTarget(cfg: Pick<LoadedConfig, 'drill'>, db: DatabaseConfig): DatabaseConfig {
  const server = cfg.drill?.server;
  const driver = driverFor(db.engine);
  return server && driver.onDrillServer ? driver.onDrillServer(db, server) : db;
}
