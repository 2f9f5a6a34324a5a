import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
  readFileSync,
  appendFileSync,
  renameSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temp dir (scram-sha-256 for local and
 * host connections, a superuser password), started with pg_ctl on a free port, listening on
 * 127.0.0.1 with its unix socket inside the temp dir. As root (CI), the server runs as an
 * unprivileged user (`postgres`, else `nobody`) because initdb refuses to run as root. Within a vitest run the data
 * folder is a copy of one initdb made once per superuser name (templateDataDir): initdb takes a second or more, the
 * copy a fraction of that; each cluster then gets its own password.
 */

export interface PgCluster {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Folder of the unix socket. */
  socketDir: string;
  /** Folder of initdb/pg_ctl/pg_dump used for this cluster. */
  binDir: string;
  dataDir: string;
  /** postgresql://user:password@127.0.0.1:port/dbname (password percent-encoded). */
  url(dbname: string): string;
  /** Runs SQL with psql (ON_ERROR_STOP, unaligned tuples-only output) and returns stdout. */
  psql(sql: string, dbname?: string): string;
  /** Runs an SQL file with psql. */
  psqlFile(file: string, dbname?: string): string;
  /** A connected pg client (caller ends it). */
  client(dbname?: string): Promise<pg.Client>;
  /** One query through a short-lived client. */
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    dbname?: string,
    values?: unknown[],
  ): Promise<R[]>;
  createDatabase(name: string): void;
  databases(): string[];
  /** pg_ctl stop (fast) without removing the data dir; `start()` brings it back. */
  pause(): void;
  /** pg_ctl stop -m immediate (as a crash: no checkpoint, statistics lost at the restart); `start()` brings it back. */
  crash(): void;
  start(): void;
  /** Whether its postmaster runs (`pg_ctl status`, as the cluster's own user: pg_ctl refuses root). */
  running(): boolean;
  /** Stops the server and removes the temp dir. */
  stop(): Promise<void>;
}

const SKIP_LINE = 'SKIPPED postgres tests: initdb not found — install the postgresql package';

/** Folder holding initdb (PG_BIN_PATH, PATH, /usr/lib/postgresql/<newest>/bin), or null. */
export function findPgBinDir(): string | null {
  const candidates: string[] = [];
  if (process.env['PG_BIN_PATH']) candidates.push(process.env['PG_BIN_PATH']);
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(join(root, v, 'bin'));
  }
  for (const dir of (process.env['PATH'] ?? '').split(':')) if (dir) candidates.push(dir);
  candidates.push('/usr/local/pgsql/bin');
  for (const dir of candidates) {
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  return null;
}

let skipAnnounced = false;

/**
 * Whether PostgreSQL tests can run. Throws under CI when the server binaries are missing;
 * otherwise prints one loud SKIPPED line and returns false.
 */
export function pgAvailable(): boolean {
  if (findPgBinDir()) return true;
  if (process.env['CI']) throw new Error(`${SKIP_LINE} (CI is set, so this is a failure)`);
  if (!skipAnnounced) {
    skipAnnounced = true;
    // One line per test run, not per test file: the first worker of this run claims a marker.
    try {
      writeFileSync(join(tmpdir(), `respaldo-pg-skip-${process.ppid}`), '', { flag: 'wx' });
      console.warn(SKIP_LINE);
    } catch {
      /* already announced by another worker */
    }
  }
  return false;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function unprivilegedUser(): { name: string; uid: number; gid: number } | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    if (r.status === 0) {
      const uid = Number(r.stdout.trim());
      const gid = Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim());
      return { name, uid, gid };
    }
  }
  throw new Error('Running as root and neither a "postgres" nor a "nobody" user exists to run the test cluster.');
}

type RunAs = { name: string; uid: number; gid: number } | null;

/** Runs a PostgreSQL tool of `binDir` in `cwd` (as `runAs` when given); throws with its output when it fails. */
function runPgTool(binDir: string, runAs: RunAs, cwd: string, tool: string, args: string[]): string {
  const cmd = join(binDir, tool);
  const [file, argv] = runAs ? ['runuser', ['-u', runAs.name, '--', cmd, ...args]] : [cmd, args];
  const r = spawnSync(file, argv, { encoding: 'utf8', cwd });
  if (r.status !== 0) throw new Error(`${tool} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** initdb of `dataDir` (below `base`, which holds the password file meanwhile) for superuser `user`. */
function initdb(binDir: string, runAs: RunAs, base: string, dataDir: string, user: string, password: string): void {
  const pwFile = join(base, 'pwfile');
  writeFileSync(pwFile, password + '\n', { mode: 0o600 });
  if (runAs) chownSync(pwFile, runAs.uid, runAs.gid);
  try {
    runPgTool(binDir, runAs, base, 'initdb', [
      '-D',
      dataDir,
      '-U',
      user,
      `--pwfile=${pwFile}`,
      '--auth=scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
      '--no-sync',
    ]);
  } finally {
    rmSync(pwFile, { force: true });
  }
}

/** The superuser password of a template data folder, replaced in each copy once it is started. */
const TEMPLATE_PASSWORD = 'respaldo-template';

/**
 * A data folder made by initdb once per vitest run (RESPALDO_TEST_RUN_DIR, removed when the run ends) for superuser
 * `user` of `binDir`, never started: clusters start from a copy of it. Made in a temporary folder and renamed, so a
 * test process sees it whole or not at all (two that make it at once: the first rename wins, the other is removed).
 * Null outside a vitest run (then each cluster runs its own initdb).
 */
function templateDataDir(binDir: string, runAs: RunAs, user: string): string | null {
  const root = process.env['RESPALDO_TEST_RUN_DIR'];
  if (!root || !existsSync(root)) return null;
  const final = join(root, `pg-template-${binDir.replace(/[^A-Za-z0-9]+/g, '_')}-${user}`);
  if (existsSync(final)) return final;
  // made in the temp folder, as every cluster's own (the run's folder is root's, 0700: no way in for `runAs`)
  const base = mkdtempSync(join(tmpdir(), 'respaldo-pg-template-'));
  try {
    chmodSync(base, 0o700);
    if (runAs) chownSync(base, runAs.uid, runAs.gid);
    initdb(binDir, runAs, base, join(base, 'data'), user, TEMPLATE_PASSWORD);
    try {
      renameSync(join(base, 'data'), final);
    } catch (err) {
      if (!existsSync(final)) throw err;
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  return final;
}

/** Starts a fresh cluster. Call `stop()` in afterAll. */
export async function startPgCluster(
  opts: {
    password?: string;
    user?: string;
    /** The folder its own is made in (default the temp folder). */ under?: string;
  } = {},
): Promise<PgCluster> {
  const binDir = findPgBinDir();
  if (!binDir) throw new Error(SKIP_LINE);
  const runAs = unprivilegedUser();
  const base = mkdtempSync(join(opts.under ?? tmpdir(), 'respaldo-pg-'));
  chmodSync(base, 0o700);
  if (runAs) chownSync(base, runAs.uid, runAs.gid);
  const dataDir = join(base, 'data');
  const socketDir = join(base, 'sock');
  const user = opts.user ?? 'postgres';
  const password = opts.password ?? `pw-${randomBytes(6).toString('hex')}`;
  const run = (tool: string, args: string[]) => runPgTool(binDir, runAs, base, tool, args);

  const template = templateDataDir(binDir, runAs, user);
  if (template) execFileSync('cp', ['-a', template, dataDir]);
  else initdb(binDir, runAs, base, dataDir, user, password);
  if (runAs) {
    execFileSync('runuser', ['-u', runAs.name, '--', 'mkdir', '-m', '0700', socketDir]);
  } else {
    execFileSync('mkdir', ['-m', '0700', socketDir]);
  }

  let port = 0;
  const logFile = join(base, 'server.log');
  for (let attempt = 0; attempt < 5; attempt++) {
    port = await freePort();
    const conf = join(dataDir, 'postgresql.conf');
    const original = readFileSync(conf, 'utf8').split('\n# respaldo-test\n')[0];
    writeFileSync(conf, original ?? '');
    appendFileSync(
      conf,
      `\n# respaldo-test\nport = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${socketDir}'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 60\n`,
    );
    try {
      run('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start']);
      break;
    } catch (err) {
      if (attempt === 4)
        throw new Error(
          `${(err as Error).message}\n${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : ''}`,
        );
    }
  }

  const host = '127.0.0.1';
  if (template) {
    // This cluster's own password (through a client: never in a command line).
    const c = new pg.Client({ host, port, user, password: TEMPLATE_PASSWORD, database: 'postgres' });
    await c.connect();
    try {
      await c.query(`ALTER ROLE "${user.replace(/"/g, '""')}" PASSWORD '${password.replace(/'/g, "''")}'`);
    } finally {
      await c.end();
    }
  }
  const env = { ...process.env, PGPASSWORD: password };
  // The database goes in a keyword/value string so names starting with "-" or containing "=" stay names.
  const connArgs = (db: string) => [
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-At',
    '-h',
    host,
    '-p',
    String(port),
    '-U',
    user,
    '-d',
    `dbname='${db.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`,
  ];
  const psqlBin = existsSync(join(binDir, 'psql')) ? join(binDir, 'psql') : 'psql';
  let stopped = false;

  const cluster: PgCluster = {
    host,
    port,
    user,
    password,
    socketDir,
    binDir,
    dataDir,
    url: (db) =>
      `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(db)}`,
    psql(sql, db = 'postgres') {
      const r = spawnSync(psqlBin, [...connArgs(db), '-c', sql], {
        encoding: 'utf8',
        env,
        maxBuffer: 256 * 1024 * 1024,
      });
      if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
      return r.stdout.trim();
    },
    psqlFile(file, db = 'postgres') {
      const r = spawnSync(psqlBin, [...connArgs(db), '-f', file], {
        encoding: 'utf8',
        env,
        maxBuffer: 256 * 1024 * 1024,
      });
      if (r.status !== 0) throw new Error(`psql -f ${file} failed: ${r.stderr}`);
      return r.stdout.trim();
    },
    async client(db = 'postgres') {
      const c = new pg.Client({ host, port, user, password, database: db });
      c.on('error', () => undefined);
      await c.connect();
      return c;
    },
    async query(sql, db = 'postgres', values) {
      const c = await cluster.client(db);
      try {
        const r = await c.query(sql, values as unknown[] | undefined);
        return r.rows as never;
      } finally {
        await c.end();
      }
    },
    createDatabase(name) {
      cluster.psql(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    },
    databases() {
      return cluster
        .psql('SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1')
        .split('\n')
        .filter(Boolean);
    },
    pause() {
      run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
    },
    crash() {
      run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    },
    start() {
      run('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start']);
    },
    running() {
      try {
        run('pg_ctl', ['-D', dataDir, 'status']);
        return true;
      } catch {
        return false;
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** Plain pg_dump of `database` on `cluster` (without the random `\restrict` key lines of newer minors). */
export function plainDump(
  cluster: Pick<PgCluster, 'binDir' | 'host' | 'port' | 'user' | 'password'>,
  database: string,
): string {
  const r = spawnSync(
    join(cluster.binDir, 'pg_dump'),
    ['--no-password', `--dbname=host=${cluster.host} port=${cluster.port} user=${cluster.user} dbname=${database}`],
    { encoding: 'utf8', env: { ...process.env, PGPASSWORD: cluster.password }, maxBuffer: 256 << 20 },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => !/^\\(un)?restrict /.test(l))
    .join('\n');
}

/** Process ids whose command line contains `text` (such as a pg_restore into a staging database). */
export function processesMentioning(text: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    });
}
