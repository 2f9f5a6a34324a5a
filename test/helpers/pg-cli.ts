import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_BIN } from './cli.js';
import type { PgCluster } from './pg-cluster.js';

/** What a synchronous CLI run gave: exit code, output, and stdout parsed as JSON when it is JSON. */
export interface SyncCliResult {
  code: number;
  stdout: string;
  stderr: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever document a command printed
  json: any;
}

/**
 * Writes `dir/backup_config.json` naming databases of the cluster (password from `${DB_PASSWORD}`, as
 * an operator would keep it) and returns its path. `extra` replaces top-level keys.
 */
export function writePgConfig(
  cluster: PgCluster,
  dir: string,
  names: string[],
  extra: Record<string, unknown> = {},
): string {
  const file = join(dir, 'backup_config.json');
  const url = (name: string) => `postgresql://${cluster.user}:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/${name}`;
  writeFileSync(
    file,
    JSON.stringify({
      backupDir: './backups',
      databases: names.map((name) => ({ name, url: url(name) })),
      files: { config: [], application: [] },
      retention: { keepLast: 3, daily: 7, weekly: 4, monthly: 6, yearly: 1 },
      schedule: { jobs: [] },
      ...extra,
    }),
  );
  return file;
}

/** Runs the built CLI with `--config config`, the cluster's password in DB_PASSWORD, CI set and no colour. */
export function pgCli(
  config: string,
  password: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): SyncCliResult {
  const r = spawnSync(process.execPath, [CLI_BIN, ...args, '--config', config], {
    encoding: 'utf8',
    env: { ...process.env, DB_PASSWORD: password, CI: 'true', NO_COLOR: '1', ...opts.env },
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    maxBuffer: 64 << 20,
    timeout: 120_000,
  });
  let json: unknown = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = null;
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json };
}

/** `pg_dump` of a database as plain SQL, without the per-run `\restrict` lines: equal text means equal databases. */
export function plainDump(cluster: PgCluster, database: string): string {
  const r = spawnSync(
    join(cluster.binDir, 'pg_dump'),
    ['--no-password', `--dbname=host=${cluster.host} port=${cluster.port} user=${cluster.user} dbname=${database}`],
    {
      encoding: 'utf8',
      env: { ...process.env, PGPASSWORD: cluster.password },
      maxBuffer: 64 << 20,
    },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => !/^\\(un)?restrict /.test(l))
    .join('\n');
}
