/**
 * How rclone's failures are said (rclone.ts): classified from its stderr, or from the daemon's answer, into the
 * DestinationErrors an operator can act on, with a hint each; transient ones are retried by the copy.
 */
import { CommandError, DestinationError, RespaldoError } from '../core/errors.js';
import { phrase } from '../core/phrases.js';
import type { DestinationConfig } from './destination.js';

/** The fields of `config` rclone reads obscured (`pass`, `key_file_pass`, …), as `"config.pass"`. */
function passwordFields(cfg: DestinationConfig): string[] {
  return Object.keys(cfg.config ?? {})
    .filter((k) => /pass/i.test(k))
    .map((k) => `"config.${k}"`);
}

/**
 * rclone's failure `err` of `doing` (a failed command, or the daemon's answer: its message is the stderr tail) as
 * the DestinationError the operator reads: unreachable (transient), credentials refused, an unobscured password,
 * an unknown host key, not found, no room, or rclone's own words. Thrown; never returns.
 */
export function rcloneFailure(cfg: DestinationConfig, where: string, err: unknown, doing: string): never {
  if (err instanceof DestinationError) throw err;
  if (!(err instanceof CommandError)) {
    if (err instanceof RespaldoError) throw new DestinationError(cfg.name, `${doing}: ${err.message}`, err.hint ?? '');
    throw err;
  }
  const tail = String((err.details as { stderrTail?: string } | undefined)?.stderrTail ?? err.message);
  const last = tail.split('\n').filter(Boolean).slice(-2).join(' | ');
  // The daemon ended during the call, which it did not answer: what it said meanwhile was about other calls (a
  // listing's "directory not found", a refusal) or its end; tried again, the next daemon answers.
  if (err.details?.['cutShort'] === true) throw unreachable(cfg, where, doing, last);
  // rclone's S3 backend (1.60, Debian 12) fails every command when AWS_CA_BUNDLE is set, as it often is on a
  // machine behind a TLS-inspecting proxy: the message names neither the variable nor the way round it.
  if (/LoadCustomCABundleError/.test(tail)) {
    throw new DestinationError(
      cfg.name,
      `${doing}: rclone cannot use the CA bundle named by AWS_CA_BUNDLE (${last})`,
      'Unset AWS_CA_BUNDLE for respaldo; if the store needs that CA, name the file in RCLONE_CA_CERT instead.',
    );
  }
  // rclone reads every password of a remote (sftp `pass`, `key_file_pass`, …) obscured, as `rclone config` writes
  // it: a plain one from ${VAR} is "base64 decode failed when revealing password - is it obscured?".
  if (/when revealing password|is it obscured/i.test(tail)) {
    const fields = passwordFields(cfg).join(', ') || "the remote's password";
    throw new DestinationError(
      cfg.name,
      `${doing}: rclone could not read ${fields}: rclone takes passwords obscured (${last})`,
      `rclone takes ${fields} obscured: put the output of \`rclone obscure -\` (it reads the password on stdin) in its \${VAR}, not the password itself.`,
    );
  }
  if (/knownhosts|host key|key mismatch/i.test(tail)) {
    throw new DestinationError(
      cfg.name,
      `${doing}: the server's host key is unknown or changed (${last})`,
      cfg.config?.['known_hosts_file']
        ? `Check the server's host key and pin it in the file "config.known_hosts_file" names (${cfg.config['known_hosts_file']}).`
        : "Check the host key and pin it in the remote's known_hosts_file (rclone config).",
    );
  }
  if (
    /unable to authenticate|permission denied \(publickey|\bauth|\b40[13]\b|AccessDenied|InvalidAccessKeyId/i.test(tail)
  ) {
    throw new DestinationError(
      cfg.name,
      `${doing}: the remote refused the credentials (${last})`,
      'Check the remote\'s credentials in "config" (their ${VAR} values) or in rclone\'s config.' +
        (passwordFields(cfg).length
          ? ` rclone takes ${passwordFields(cfg).join(', ')} obscured: the output of \`rclone obscure -\`, not the password itself.`
          : ''),
    );
  }
  if (/directory not found|object not found|file not found|not exist/i.test(tail)) {
    throw new DestinationError(
      cfg.name,
      `${doing}: not found at ${where}`,
      `Run \`respaldo list --from ${cfg.name}\` to see what the destination holds.`,
      { kind: 'notFound' },
    );
  }
  // Parallel uploads into a new set folder race to create it over SFTP ("mkParentDir failed … SSH_FX_FAILURE"):
  // the folder exists once one of them won, so the retry succeeds; a real permission problem fails every attempt.
  if (/mkParentDir failed|mkdir .* failed/i.test(tail)) {
    throw new DestinationError(
      cfg.name,
      `${doing}: creating its folder at the remote failed (${last})`,
      "Check that rclone's user may create folders under the destination path, then run `respaldo copy` again.",
      { transient: true },
    );
  }
  if (
    /connection refused|connection reset|connection lost|timeout|i\/o timeout|broken pipe|EOF|no route|couldn't connect|failed to connect|\b5\d\d\b/i.test(
      tail,
    ) ||
    err.details?.signal
  )
    throw unreachable(cfg, where, doing, last);
  // A write the server cannot do (SFTP answers a full disk or a quota with the bare SSH_FX_FAILURE; other backends
  // say it): folders are created above, so a failure here is the disk, as the sftp destination says it.
  if (/no space left|disk full|quota|insufficient storage|SSH_FX_FAILURE/i.test(tail) && doing.startsWith('writing')) {
    throw new DestinationError(
      cfg.name,
      `${doing}: the remote could not write it (disk full or quota?) (${last})`,
      `Free space at the remote (or remove old sets there: \`respaldo prune --from ${cfg.name}\`), then run \`respaldo copy\` again.`,
    );
  }
  throw new DestinationError(
    cfg.name,
    `${doing}: rclone failed (${last})`,
    "Run the same rclone command by hand to see why; check the remote's settings.",
  );
}

/** The remote could not be reached while `doing` (`last`: rclone's last words): transient, tried again. */
function unreachable(cfg: DestinationConfig, where: string, doing: string, last: string): DestinationError {
  return new DestinationError(
    cfg.name,
    `${doing}: the remote is unreachable (${last})`,
    'Check the network and the remote, then run the command again.',
    { transient: true },
  ).withPhrases(
    phrase('dest.unreachable', { dest: cfg.name, doing, where, detail: last }),
    phrase('dest.unreachableHint', { server: 'remote' }),
  );
}
