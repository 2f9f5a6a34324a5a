/** respaldo as a library: the engine the CLI and the menu use. */
export { loadConfig, resolveConfigPath } from './config/load.js';
export { createBackup, planBackup, type CreateOptions } from './engine/create.js';
export { listSets, readManifest, deleteSet, setKeep } from './engine/catalog.js';
export { verifySet, type VerifyReport } from './engine/verify.js';
export {
  planRestore,
  executeRestore,
  type RestoreOptions,
  type RestorePlan,
  type RestoreOutcome,
} from './engine/restore.js';
export { getStatus, type StatusReport } from './engine/status.js';
export {
  ensureRecentBackup,
  parseAge,
  type EnsureRecentOptions,
  type EnsureRecentResult,
} from './engine/ensure-recent.js';
export { pruneSets } from './engine/prune.js';
export { RespaldoError, ConfigError } from './core/errors.js';
export { EXIT } from './core/exit-codes.js';
export type { ProgressEvent, Reporter } from './core/events.js';
export type * from './core/types.js';
