import type { DestinationConfig, DestinationRules } from './destination.js';

/**
 * The config rules of every destination type, apart from their implementations (./folder.ts, ./s3.ts,
 * ./sftp.ts, ./rclone.ts): loading a config checks every destination, and only the one a command opens is
 * loaded (./registry.ts).
 */

export const folderRules = {
  secretFields: [],
  validate(cfg: DestinationConfig) {
    if (!cfg.path)
      return [
        {
          path: 'path',
          problem: 'required for a folder destination',
          hint: 'Set "path" to the folder (a NAS or USB mount).',
        },
      ];
    return [];
  },
} satisfies DestinationRules;

export const s3Rules = {
  secretFields: ['secretAccessKey', 'accessKeyId'],
  validate(cfg: DestinationConfig) {
    const problems: { path: string; problem: string; hint?: string }[] = [];
    for (const f of ['bucket', 'accessKeyId', 'secretAccessKey'] as const) {
      if (!cfg[f])
        problems.push({
          path: f,
          problem: 'required for an s3 destination',
          hint:
            f === 'bucket'
              ? 'Name the bucket.'
              : `Set it from the environment: "${f}": "\${S3_${f === 'accessKeyId' ? 'ACCESS_KEY_ID' : 'SECRET_ACCESS_KEY'}}".`,
        });
    }
    if (cfg.endpoint && !/^https?:\/\//.test(cfg.endpoint))
      problems.push({ path: 'endpoint', problem: 'must start with http:// or https://' });
    return problems;
  },
} satisfies DestinationRules;

export const sftpRules = {
  secretFields: ['password', 'passphrase'],
  validate(cfg: DestinationConfig) {
    const problems: { path: string; problem: string; hint?: string }[] = [];
    for (const f of ['host', 'user', 'path'] as const)
      if (!cfg[f]) problems.push({ path: f, problem: 'required for an sftp destination' });
    if (!cfg.privateKey && !cfg.password)
      problems.push({
        path: 'privateKey',
        problem: 'privateKey or password is required for an sftp destination',
        hint: 'Set "privateKey" to a key file, or "password": "${SFTP_PASSWORD}".',
      });
    if (!cfg.hostKey) {
      problems.push({
        path: 'hostKey',
        problem: "required: the server's host key fingerprint",
        hint: 'Run `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the server (or `ssh-keyscan -p PORT HOST | ssh-keygen -lf -` from a trusted network) and set "hostKey": "SHA256:…".',
      });
    }
    return problems;
  },
} satisfies DestinationRules;

/**
 * Whether an rclone remote's setting `key` = `value` (in `config`) is a secret, masked in every message, log and
 * `--json` document: a password, key, token or credentials (`pass`, `key_file_pass`, `secret_access_key`, `token`,
 * `account_key`, `key_pem`, `service_account_credentials`). Not a file's path (`key_file`), nor a switch or a number
 * (`key_use_agent: "false"`, `auth_version: "3"`): masked, every `false` or `3` in the output became `***`, and
 * `status --json` was no JSON.
 */
export function rcloneSecret(key: string, value: string): boolean {
  return (
    /pass|secret|token|key|auth|credential/i.test(key) && !/_file$/i.test(key) && !/^(true|false|\d+)$/i.test(value)
  );
}

export const rcloneRules = {
  secretFields: [],
  validate(cfg: DestinationConfig) {
    if (!cfg.remote)
      return [
        {
          path: 'remote',
          problem: 'required for an rclone destination',
          hint: 'Name the remote (as in `rclone config`), or define it with "config".',
        },
      ];
    if (!/^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(cfg.remote))
      return [{ path: 'remote', problem: 'letters, digits, _ and - only' }];
    // rclone's sftp backend without a known_hosts file takes whatever host key a server shows: whoever stands
    // between could take the copies, or hand a restore what they like. An sftp destination needs its hostKey; so
    // does this (rclone's own config file is rclone's to check: respaldo sees only "config").
    const setting = (key: string) =>
      Object.entries(cfg.config ?? {})
        .find(([k]) => k.toLowerCase() === key)?.[1]
        ?.trim() ?? '';
    if (setting('type') === 'sftp' && !setting('known_hosts_file') && !process.env['RCLONE_SFTP_KNOWN_HOSTS_FILE'])
      return [
        {
          path: 'config.known_hosts_file',
          problem: "required for an sftp remote: without it rclone accepts any server's host key",
          hint: 'Name a file holding the server\'s key: `ssh-keyscan -p PORT HOST > /etc/respaldo/known_hosts` from a trusted network, then "known_hosts_file": "/etc/respaldo/known_hosts".',
        },
      ];
    return [];
  },
} satisfies DestinationRules;
