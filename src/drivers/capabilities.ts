import type { EngineName } from '../core/types.js';

/**
 * What each engine's driver can do beyond the contract every driver implements. The engine and the
 * menu ask these, never an engine name. The table is its own module (no database library imported)
 * so that the menu's pure reducers can read it; each driver declares its row as `Driver.capabilities`.
 */
export interface DriverCapabilities {
  /** Restores only some tables, side by side (`RestoreRequest.tables`, `restore --table`). */
  readonly tableSelection: boolean;
  /**
   * Stores the server's roles with a set (an extra of role `globals`) and creates the missing ones
   * before a restore (`RestoreRequest.createRoles`, `restore --create-roles`).
   */
  readonly roles: boolean;
  /**
   * A backup first copies the database whole, uncompressed, into the set's scratch folder (SQLite's
   * snapshot): the backup folder's disk must hold that copy too while the set is written.
   */
  readonly localSnapshot: boolean;
  /**
   * An interrupted restore can leave things on the database's server (a temporary `__restore_` database, a
   * swap cut in the middle) that `status` asks about: exactly the drivers with `findLeftovers`. Read so that
   * `status` loads no driver when no configured database has any.
   */
  readonly serverLeftovers: boolean;
  /**
   * Roles of stored extras that only the next differential or incremental reads (SQLite's `pagemap`): no restore
   * needs them, so one missing or damaged is a warning of `verify`, not damage, and makes the next incremental a
   * differential on the full (chain.ts chooseBase).
   */
  readonly nextBackupRoles: readonly string[];
}

/** Engine name → capabilities; `Driver.capabilities` of each driver is its row. */
export const CAPABILITIES = {
  sqlite: {
    tableSelection: false,
    roles: false,
    localSnapshot: true,
    serverLeftovers: false,
    nextBackupRoles: ['pagemap'],
  },
  postgres: { tableSelection: true, roles: true, localSnapshot: false, serverLeftovers: true, nextBackupRoles: [] },
  sqlserver: { tableSelection: false, roles: false, localSnapshot: false, serverLeftovers: true, nextBackupRoles: [] },
} as const satisfies Record<EngineName, DriverCapabilities>;

const NONE: DriverCapabilities = {
  tableSelection: false,
  roles: false,
  localSnapshot: false,
  serverLeftovers: false,
  nextBackupRoles: [],
};

/**
 * Capabilities of `engine` as read from a manifest entry; an engine this version does not know
 * (a set written by a newer respaldo) can do nothing beyond the contract.
 */
export function capabilitiesOf(engine: string): DriverCapabilities {
  return Object.hasOwn(CAPABILITIES, engine) ? CAPABILITIES[engine as EngineName] : NONE;
}
