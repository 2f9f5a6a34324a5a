/**
 * Restore drills on a real PostgreSQL server, through the built CLI: a good set restores into
 * `<name>__drill_<set>` (pg_restore, row counts, pg_amcheck) which is then dropped; a set whose
 * row counts do not match fails with exit 11 and leaves nothing; a killed drill's scratch database is
 * dropped by the next run; the live database is pg_dump-identical throughout.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadConfig } from '../src/config/load.js';
import { silentReporter } from '../src/core/events.js';
import { RespaldoError } from '../src/core/errors.js';
import { runDrill } from '../src/engine/drill.js';
import { say, sayMessage } from '../src/ui/i18n/index.js';
import { engineJobRunner } from '../src/scheduler/run-job.js';
import { startWebhookServer } from './helpers/webhook.js';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXIT } from '../src/core/exit-codes.js';
import type { DrillRecord, Manifest } from '../src/core/types.js';
import type { DrillOutcome } from '../src/engine/drill.js';
import { collect, describeResult, parseJsonOutput, runCli, startCli, waitFor } from './helpers/cli.js';
import { pgAvailable, processesMentioning, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';

const available = pgAvailable();
const PASSWORD = `dr-${Math.random().toString(36).slice(2, 10)}`;
let cluster: PgCluster;
let work: string;

function configFor(name: string): string {
  const dir = mkdtempSync(join(work, `${name}-`));
  const url = `postgresql://${cluster.user}:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/${name}`;
  const doc = { backupDir: './backups', databases: [{ name, url }], files: { config: [], application: [] } };
  writeFileSync(join(dir, 'backup_config.json'), JSON.stringify(doc));
  return join(dir, 'backup_config.json');
}

const env = () => ({ DB_PASSWORD: PASSWORD, PATH: `${process.env.PATH}:${cluster.binDir}` });

async function cli(config: string, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', config], { cwd: dirname(config), env: env() });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

function plainDump(database: string): string {
  const conn = `--dbname=host=${cluster.host} port=${cluster.port} user=${cluster.user} dbname=${database}`;
  const r = spawnSync(join(cluster.binDir, 'pg_dump'), ['--no-password', conn], {
    encoding: 'utf8',
    env: { ...process.env, PGPASSWORD: cluster.password },
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => !/^\\(un)?restrict /.test(l))
    .join('\n');
}

function seed(name: string, rows = 500): void {
  cluster.createDatabase(name);
  cluster.psql(
    `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, ${rows}) g;`,
    name,
  );
}

const scratchDatabases = (name: string) => cluster.databases().filter((d) => d.startsWith(`${name}__`));

describe.skipIf(!available)('respaldo drill on PostgreSQL', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'respaldo-pgdrill-'));
    cluster = await startPgCluster({ password: PASSWORD });
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('a good set drills OK into <name>__drill_<set>, runs pg_amcheck, drops it, and records the outcome', async () => {
    seed('tienda');
    const config = configFor('tienda');
    const m = parseJsonOutput<Manifest>((await cli(config, ['create', '--json'])).stdout);
    const before = plainDump('tienda');
    const out = parseJsonOutput<DrillOutcome>((await cli(config, ['drill', 'latest', '--json'])).stdout);
    expect(out.ok).toBe(true);
    const r = out.results[0]!;
    expect(r.scratch).toBe(`tienda__drill_${m.id}`);
    const check = (n: string) => r.checks.find((c) => c.name === n);
    expect(check('row counts against the manifest')).toMatchObject({ ok: true, detail: '1 table(s)' });
    expect(check('pg_amcheck')).toMatchObject({ ok: true });
    expect(check('pg_amcheck')?.skipped).toBeUndefined();
    expect(scratchDatabases('tienda')).toEqual([]);
    expect(plainDump('tienda')).toBe(before);
    const record = JSON.parse(
      readFileSync(join(dirname(config), 'backups', m.id, 'drilled.json'), 'utf8'),
    ) as DrillRecord;
    expect(record.results['tienda']?.ok).toBe(true);
  });

  test('a set whose rows do not match its manifest fails with exit 11, drops its scratch database, records it', async () => {
    seed('cuentas');
    const config = configFor('cuentas');
    const m = parseJsonOutput<Manifest>((await cli(config, ['create', '--json'])).stdout);
    const manifestFile = join(dirname(config), 'backups', m.id, 'manifest.json');
    const doc = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    doc.databases[0]!.tables = { 'public.t': 501 };
    writeFileSync(manifestFile, JSON.stringify(doc, null, 2));
    await cli(config, ['verify', m.id]);
    const before = plainDump('cuentas');
    const r = await cli(config, ['drill', m.id], EXIT.drillFailed);
    expect(r.stdout).toMatch(/FAILED\s+cuentas \(postgres\)/);
    expect(r.stdout).toMatch(/501/);
    expect(scratchDatabases('cuentas')).toEqual([]);
    expect(plainDump('cuentas')).toBe(before);
    const record = JSON.parse(
      readFileSync(join(dirname(config), 'backups', m.id, 'drilled.json'), 'utf8'),
    ) as DrillRecord;
    expect(record.results['cuentas']).toMatchObject({ ok: false });
  });

  test('a killed drill leaves its scratch database; the next drill drops it first and passes', async () => {
    seed('grande', 400_000);
    const config = configFor('grande');
    const m = parseJsonOutput<Manifest>((await cli(config, ['create', '--json'])).stdout);
    const before = plainDump('grande');
    const child = startCli(['drill', m.id, '--config', config], { cwd: dirname(config), env: env() });
    const done = collect(child);
    const scratch = await waitFor(() => scratchDatabases('grande')[0], 'the drill scratch database', 60_000);
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal, describeResult(killed)).toBe('SIGKILL');
    expect(scratchDatabases('grande')).toEqual([scratch]);
    const out = parseJsonOutput<DrillOutcome>((await cli(config, ['drill', m.id, '--json'])).stdout);
    expect(out.ok).toBe(true);
    expect(out.recovered.join('\n')).toContain(`dropped "${scratch}"`);
    expect(scratchDatabases('grande')).toEqual([]);
    expect(plainDump('grande')).toBe(before);
  });

  test('a server that cannot be reached: the drill did not run (exit 7), nothing is recorded, the set is not called bad', async () => {
    seed('lejana');
    const config = configFor('lejana');
    const m = parseJsonOutput<Manifest>((await cli(config, ['create', '--json'])).stdout);
    cluster.pause();
    let r: Awaited<ReturnType<typeof cli>>;
    let status: Awaited<ReturnType<typeof cli>>;
    try {
      r = await cli(config, ['drill', m.id], EXIT.failed);
      // The newest drill is not a failed one: status --check is not made unhealthy by the server being away.
      status = await cli(config, ['status', '--json']);
    } finally {
      cluster.start();
    }
    expect(r.stderr).toMatch(/PostgreSQL at .* refused the connection/);
    expect(r.stderr).toContain(`The drill of set ${m.id} did not run (lejana's server could not be used)`);
    expect(r.stderr).toMatch(/hint: Is the server running and listening on/);
    expect(r.stdout + r.stderr).not.toMatch(/drill FAILED|FAILED\s+lejana/);
    expect(existsSync(join(dirname(config), 'backups', m.id, 'drilled.json'))).toBe(false);
    expect(status.stdout).not.toMatch(/"lastDrill":\s*\{[^}]*"ok":\s*false/);
    expect(scratchDatabases('lejana')).toEqual([]);
    const again = parseJsonOutput<DrillOutcome>((await cli(config, ['drill', m.id, '--json'])).stdout);
    expect(again.ok).toBe(true);
  });

  test('the server stopped during the drill: the drill did not run to its end (exit 7), nothing is recorded, the set is not called bad', async () => {
    seed('cortada', 400_000);
    const config = configFor('cortada');
    const m = parseJsonOutput<Manifest>((await cli(config, ['create', '--json'])).stdout);
    const child = startCli(['drill', m.id, '--config', config], { cwd: dirname(config), env: env() });
    const done = collect(child);
    // pg_restore into the database the drill restores beside (cortada__restore_<set>, then its scratch name)
    const restoring = () =>
      processesMentioning('cortada__').find((pid) =>
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('pg_restore'),
      );
    let r: Awaited<typeof done>;
    try {
      await waitFor(restoring, 'pg_restore into the scratch database', 60_000);
      cluster.pause(); // as a server shut down or restarted under the drill
      r = await done;
    } finally {
      if (!cluster.running()) cluster.start();
    }
    expect(r.code, describeResult(r)).toBe(EXIT.failed);
    expect(r.stderr).toContain(`The drill of set ${m.id} stopped (cortada's server could not be used any more)`);
    expect(r.stdout + r.stderr).not.toMatch(/drill FAILED|FAILED\s+cortada/);
    expect(existsSync(join(dirname(config), 'backups', m.id, 'drilled.json'))).toBe(false);
    // not a failed drill for the health checks
    expect((await cli(config, ['status', '--check'])).stdout).toMatch(/^healthy/);
    // its scratch database, left on the stopped server, is dropped by the next drill, which passes
    const again = parseJsonOutput<DrillOutcome>((await cli(config, ['drill', m.id, '--json'])).stdout);
    expect(again.ok).toBe(true);
    expect(scratchDatabases('cortada')).toEqual([]);
  });

  test('the server stopped while pg_amcheck checks the scratch database: the drill did not run to its end, not FAILED', async () => {
    seed('chequeada', 400_000);
    const config = configFor('chequeada');
    const m = parseJsonOutput<Manifest>((await cli(config, ['create', '--json'])).stdout);
    const child = startCli(['drill', m.id, '--config', config], { cwd: dirname(config), env: env() });
    const done = collect(child);
    const checking = () =>
      processesMentioning('chequeada__drill_').find((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('pg_amcheck');
        } catch {
          return false; // ended meanwhile
        }
      });
    let r: Awaited<typeof done>;
    try {
      await waitFor(checking, 'pg_amcheck of the scratch database', 60_000, 2);
      cluster.pause();
      r = await done;
    } finally {
      if (!cluster.running()) cluster.start();
    }
    expect(r.code, describeResult(r)).toBe(EXIT.failed);
    expect(r.stderr).toContain(`The drill of set ${m.id} stopped (chequeada's server could not be used any more)`);
    expect(existsSync(join(dirname(config), 'backups', m.id, 'drilled.json'))).toBe(false);
  });

  test('the server stopped during the drill, in Spanish: why, that it stopped and what to check', async () => {
    seed('cortada_es', 400_000);
    const config = configFor('cortada_es');
    const m = parseJsonOutput<Manifest>((await cli(config, ['create', '--json'])).stdout);
    const cfg = await loadConfig({ configPath: config, env: { DB_PASSWORD: PASSWORD } });
    let paused = false;
    const restoring = () =>
      processesMentioning('cortada_es__').some((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('pg_restore');
        } catch {
          return false; // ended meanwhile
        }
      });
    // once pg_restore restores the dump, the server is stopped under it
    const watch = setInterval(() => {
      if (paused || !restoring()) return;
      paused = true;
      cluster.pause();
    }, 20);
    const path = process.env.PATH;
    process.env.PATH = env().PATH;
    let err: unknown;
    try {
      err = await runDrill(cfg, m.id, {}, silentReporter).catch((e: unknown) => e);
    } finally {
      clearInterval(watch);
      process.env.PATH = path;
      if (!cluster.running()) cluster.start();
    }
    expect(paused).toBe(true);
    expect(err).toBeInstanceOf(RespaldoError);
    const e = err as RespaldoError;
    expect(e.details?.['drillNotRun']).toBe(true);
    const said = sayMessage('es', e.phrases, e.message);
    expect(said, e.message).toMatch(/^El servidor de la base cerró la sesión: pg_restore of cortada_es failed/);
    expect(said).toContain(`El simulacro de la copia ${m.id} se detuvo (ya no se pudo usar el servidor de cortada_es)`);
    // (a fast shutdown may reach pg_restore as "terminating connection due to administrator command", whose hint is
    // the server's reason for ending the session: pgend.hint, in Spanish too)
    expect(say('es', e.phrases?.hint, e.hint ?? '')).toMatch(
      /^(¿Está en marcha el servidor de 127\.0\.0\.1:\d+\?|El servidor terminó la sesión a propósito)/,
    );
    expect(existsSync(join(dirname(config), 'backups', m.id, 'drilled.json'))).toBe(false);
  });

  test('drill --from a destination while the server is down: said before the set is fetched (exit 7)', async () => {
    seed('remota');
    const config = configFor('remota');
    const doc = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    const nas = join(dirname(config), 'nas');
    mkdirSync(nas);
    const destinations = [{ name: 'nas', type: 'folder', path: './nas' }];
    writeFileSync(config, JSON.stringify({ ...doc, source: 'srv1', destinations }));
    const m = parseJsonOutput<Manifest>((await cli(config, ['create', '--json'])).stdout);
    expect(existsSync(join(nas, 'srv1', m.id, 'manifest.json'))).toBe(true);
    // Its stored files damaged there (their sizes kept): a fetch would find it (exit 5); the drill says first that it
    // cannot run, and reads none of them.
    const folder = join(nas, 'srv1', m.id, 'databases');
    for (const f of readdirSync(folder))
      writeFileSync(join(folder, f), Buffer.alloc(statSync(join(folder, f)).size, 7));
    cluster.pause();
    let r: Awaited<ReturnType<typeof cli>>;
    try {
      r = await cli(config, ['drill', m.id, '--from', 'nas'], EXIT.failed);
    } finally {
      cluster.start();
    }
    expect(r.stderr).toMatch(/refused the connection/);
    expect(r.stderr).toContain(`The drill of set ${m.id} did not run (remota's server could not be used)`);
    expect(r.stdout + r.stderr).not.toMatch(/damaged|does not match/);
  });

  test('a scheduled drill while the server is down alerts NOT RUN with why, never FAILED; nothing is recorded', async () => {
    seed('dormida');
    const config = configFor('dormida');
    const m = parseJsonOutput<Manifest>((await cli(config, ['create', '--json'])).stdout);
    const server = await startWebhookServer();
    const hook = { type: 'webhook', on: ['drill-failure'], url: server.url, format: 'json' };
    const doc = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    writeFileSync(config, JSON.stringify({ ...doc, notifications: [hook] }));
    const job = { name: 'drills', when: 'daily at 03:00', type: 'drill' as const, databases: ['*'], files: false };
    const ctx = { signal: new AbortController().signal, reporter: silentReporter, reason: 'scheduled' as const };
    cluster.pause();
    try {
      const cfg = await loadConfig({ configPath: config, env: { DB_PASSWORD: PASSWORD } });
      await expect(engineJobRunner(cfg)(job, ctx)).rejects.toThrow(/did not run/);
    } finally {
      cluster.start();
      server.close();
    }
    const alerts = server.received.map((r) => JSON.parse(r) as { subject: string; lines: string[] });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.subject).toMatch(/restore drill NOT RUN \(the backups were not checked\)/);
    expect(alerts[0]!.lines.join('\n')).toMatch(/refused the connection/);
    expect(existsSync(join(dirname(config), 'backups', m.id, 'drilled.json'))).toBe(false);
  });

  test('a login that cannot create the amcheck extension: pg_amcheck is skipped and says why; the drill passes', async () => {
    const role = 'drill_owner';
    cluster.psql(`CREATE ROLE ${role} LOGIN CREATEDB PASSWORD '${PASSWORD}'`);
    cluster.psql(`CREATE DATABASE propia OWNER ${role}`);
    cluster.psql(
      `SET ROLE ${role}; CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 50);`,
      'propia',
    );
    const dir = mkdtempSync(join(work, 'propia-'));
    const url = `postgresql://${role}:\${DB_PASSWORD}@${cluster.host}:${cluster.port}/propia`;
    const config = join(dir, 'backup_config.json');
    const doc = {
      backupDir: './backups',
      databases: [{ name: 'propia', url }],
      files: { config: [], application: [] },
    };
    writeFileSync(config, JSON.stringify(doc));
    await cli(config, ['create']);
    const out = parseJsonOutput<DrillOutcome>((await cli(config, ['drill', '--json'])).stdout);
    expect(out.ok).toBe(true);
    const amcheck = out.results[0]!.checks.find((c) => c.name === 'pg_amcheck');
    expect(amcheck).toMatchObject({ ok: true });
    expect(amcheck?.skipped).toMatch(/amcheck extension cannot be created here \(permission denied/);
    const text = await cli(config, ['drill']);
    expect(text.stdout).toMatch(/pg_amcheck: skipped \(the amcheck extension cannot be created here/);
    expect(scratchDatabases('propia')).toEqual([]);
  });

  test("status lists a dead drill's scratch database; create drops it", async () => {
    seed('lista');
    const config = configFor('lista');
    cluster.createDatabase('lista__drill_20250101_000000');
    const status = await cli(config, ['status', '--json']);
    expect(status.stdout).toContain(
      'scratch database \\"lista__drill_20250101_000000\\" left by an interrupted restore drill',
    );
    expect(scratchDatabases('lista')).toEqual(['lista__drill_20250101_000000']); // status changed nothing
    const created = await cli(config, ['create']);
    expect(created.stderr).toMatch(
      /dropped "lista__drill_20250101_000000" \(the scratch database of an interrupted restore drill\)/,
    );
    expect(scratchDatabases('lista')).toEqual([]);
  });
});
