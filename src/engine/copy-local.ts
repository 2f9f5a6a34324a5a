import { RespaldoError, VerifyError } from '../core/errors.js';

/**
 * Errors of a copy that are the local set's own (a file here that does not match its manifest, or that cannot be
 * read): not the destination's. A copy of several sets goes on to the next set after one (copySets), where a
 * destination that fails stops it: one damaged old set no longer kept every newer one from leaving the machine.
 */

/** Marks `err` as the local set's own problem (`details.localSet`) and returns it. */
export function localSetProblem<E extends RespaldoError>(err: E): E {
  err.details = { ...err.details, localSet: true };
  return err;
}

/** Whether `err` is the local set's own problem (localSetProblem). */
export function isLocalSetProblem(err: unknown): boolean {
  return err instanceof RespaldoError && err.details?.['localSet'] === true;
}

/** A local file that does not match its manifest: never sent (exit 5 said as the set's damage here). */
export function localMismatch(path: string): VerifyError {
  return localSetProblem(
    new VerifyError(
      `Local file ${path} does not match its manifest (sha256); it was not copied.`,
      'Run `respaldo verify` on this set; copy a set that verifies.',
    ),
  );
}
