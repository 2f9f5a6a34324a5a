/**
 * The one table of exit codes. Documented in the README; scripts depend on these numbers,
 * so they never change meaning once released.
 */
export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  config: 3,
  partial: 4,
  verifyFailed: 5,
  lockHeld: 6,
  failed: 7,
  notFound: 8,
  refused: 9,
  unhealthy: 10,
  drillFailed: 11,
  notCopied: 12,
  key: 13,
  interrupted: 130,
} as const;

export type ExitKind = keyof typeof EXIT;
export type ExitCode = (typeof EXIT)[ExitKind];

/** One line per code, for `--help` and the README. */
export const EXIT_DESCRIPTIONS: Record<ExitKind, string> = {
  ok: 'success',
  internal: 'internal error (a bug: the stack is printed)',
  usage: 'bad command line, or an interactive action without a terminal',
  config: 'configuration file missing or invalid',
  partial:
    'backup set written, but at least one database or file failed; or a restore replaced some databases and failed on others (it says which, and how to roll them back)',
  verifyFailed: 'a stored file does not match its manifest (changed, truncated or missing)',
  lockHeld: 'another respaldo process holds the backup folder lock',
  failed: 'the operation failed (database unreachable, dump or restore failed); nothing was changed',
  notFound: 'the named backup set, database or file does not exist, or the named destination is not in the config',
  refused:
    "refused for safety (confirmation missing, target in use, target exists, no room on the database server's disk)",
  unhealthy:
    'status --check found a problem (overdue, failing, unusual size or duration, failed drill, not copied off-site, low disk)',
  drillFailed:
    'a restore drill failed: a database of the set did not restore or failed its checks (recorded in drilled.json)',
  notCopied: 'the backup set is complete locally, but copying it to a destination failed (retried on the next run)',
  key: 'the key to decrypt an encrypted set is missing or wrong, or its passphrase could not be had',
  interrupted: 'interrupted by a signal; no partial set is left visible',
};
