/**
 * `drill.server`: PostgreSQL drills restore into another server. Two real clusters started here (the
 * live one and the drill server, each with its own password): the scratch database is created,
 * checked and dropped on the drill server and never on the live one; a killed drill's leftovers on
 * the drill server are listed by status and removed by the next drill; the drill server's password
 * (from ${VAR}) appears nowhere; bad drill.server settings are config errors naming the field.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXIT } from '../src/core/exit-codes.js';
import type { Manifest } from '../src/core/types.js';
import type { DrillOutcome } from '../src/engine/drill.js';
import { collect, describeResult, parseJsonOutput, runCli, startCli, waitFor } from './helpers/cli.js';
import { pgAvailable, processesMentioning, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';

const available = pgAvailable();
const LIVE_PASSWORD = `lv-${Math.random().toString(36).slice(2, 10)}`;
const DRILL_PASSWORD = `ds-${Math.random().toString(36).slice(2, 10)}`;
let live: PgCluster;
let drillServer: PgCluster;
let work: string;

function configFor(name: string, server: Record<string, unknown> | null = null): string {
  const dir = mkdtempSync(join(work, `${name}-`));
  const url = `postgresql://${live.user}:\${DB_PASSWORD}@${live.host}:${live.port}/${name}`;
  const drill = server ?? {
    url: `postgresql://${drillServer.user}:\${DRILL_PG_PASSWORD}@${drillServer.host}:${drillServer.port}/postgres`,
  };
  const doc = {
    backupDir: './backups',
    databases: [{ name, url }],
    files: { config: [], application: [] },
    drill: { server: drill },
  };
  writeFileSync(join(dir, 'backup_config.json'), JSON.stringify(doc));
  return join(dir, 'backup_config.json');
}

const env = () => ({
  DB_PASSWORD: LIVE_PASSWORD,
  DRILL_PG_PASSWORD: DRILL_PASSWORD,
  PATH: `${process.env.PATH}:${live.binDir}`,
});

async function cli(config: string, args: string[], expectCode = 0, extraEnv: Record<string, string | undefined> = {}) {
  const r = await runCli([...args, '--config', config], { cwd: dirname(config), env: { ...env(), ...extraEnv } });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

function plainDump(database: string): string {
  const conn = `--dbname=host=${live.host} port=${live.port} user=${live.user} dbname=${database}`;
  const r = spawnSync(join(live.binDir, 'pg_dump'), ['--no-password', conn], {
    encoding: 'utf8',
    env: { ...process.env, PGPASSWORD: live.password },
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => !/^\\(un)?restrict /.test(l))
    .join('\n');
}

function seed(name: string, rows = 500): void {
  live.createDatabase(name);
  live.psql(
    `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, ${rows}) g;`,
    name,
  );
}

const derivedOn = (c: PgCluster, name: string) => c.databases().filter((d) => d.startsWith(`${name}__`));

/** Everything respaldo wrote in the config's folder (logs, manifests, drilled.json), as one text. */
function writtenText(config: string): string {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(json|log|jsonl)$/.test(e.name)) out.push(readFileSync(p, 'utf8'));
    }
  };
  walk(dirname(config));
  return out.join('\n');
}

describe.skipIf(!available)('drill.server: PostgreSQL drills restore into another server', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'respaldo-pgdrillsrv-'));
    [live, drillServer] = await Promise.all([
      startPgCluster({ password: LIVE_PASSWORD }),
      startPgCluster({ password: DRILL_PASSWORD }),
    ]);
    expect(drillServer.port).not.toBe(live.port);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([live?.stop(), drillServer?.stop()]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('a drill restores, checks and drops <name>__drill_<set> on the drill server; the live server never sees it', async () => {
    seed('ventas');
    const config = configFor('ventas');
    const m = parseJsonOutput<Manifest>((await cli(config, ['create', '--json'])).stdout);
    const before = plainDump('ventas');
    const r = await cli(config, ['drill', 'latest', '--json']);
    const out = parseJsonOutput<DrillOutcome>(r.stdout);
    expect(out.ok).toBe(true);
    const result = out.results[0]!;
    expect(result.scratch).toBe(`ventas__drill_${m.id}`);
    expect(result.checks.find((c) => c.name === 'row counts against the manifest')).toMatchObject({ ok: true });
    expect(result.checks.find((c) => c.name === 'pg_amcheck')).toMatchObject({ ok: true });
    expect(derivedOn(drillServer, 'ventas')).toEqual([]);
    expect(derivedOn(live, 'ventas')).toEqual([]);
    expect(drillServer.databases()).not.toContain('ventas');
    expect(plainDump('ventas')).toBe(before);
    // The drill server's password came from ${DRILL_PG_PASSWORD}: it is in no output and no file.
    expect(r.stdout + r.stderr).not.toContain(DRILL_PASSWORD);
    expect(writtenText(config)).not.toContain(DRILL_PASSWORD);
  });

  test("a killed drill's scratch database is on the drill server: status lists it, the next drill drops it and passes", async () => {
    seed('grande', 400_000);
    const config = configFor('grande');
    const m = parseJsonOutput<Manifest>((await cli(config, ['create', '--json'])).stdout);
    const before = plainDump('grande');
    const child = startCli(['drill', m.id, '--config', config], { cwd: dirname(config), env: env() });
    const done = collect(child);
    const scratch = await waitFor(
      () => derivedOn(drillServer, 'grande')[0],
      'the scratch database on the drill server',
      60_000,
    );
    expect(derivedOn(live, 'grande')).toEqual([]);
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal, describeResult(killed)).toBe('SIGKILL');
    expect(derivedOn(drillServer, 'grande')).toEqual([scratch]);

    const status = await cli(config, ['status', '--json']);
    expect(status.stdout).toContain(`on the drill server ${drillServer.host}:${drillServer.port}`);
    expect(status.stdout).toContain(`\\"${scratch}\\" left by an interrupted restore drill`);
    expect(status.stdout).toContain('the next respaldo drill of grande drops it');
    expect(status.stdout).not.toContain('is missing');
    expect(derivedOn(drillServer, 'grande')).toEqual([scratch]); // status changed nothing

    const out = parseJsonOutput<DrillOutcome>((await cli(config, ['drill', m.id, '--json'])).stdout);
    expect(out.ok).toBe(true);
    expect(out.recovered.join('\n')).toContain(`dropped "${scratch}" on the drill server`);
    expect(derivedOn(drillServer, 'grande')).toEqual([]);
    // nothing the killed run started is left running (pg_restore waiting on a pipe nobody feeds)
    expect(processesMentioning(join(dirname(config), 'backups', '.tmp-'))).toEqual([]);
    expect(plainDump('grande')).toBe(before);
  });

  test('a drill server that cannot be reached: the drill did not run (exit 7, nothing recorded); the live server is untouched', async () => {
    seed('apagada');
    const config = configFor('apagada');
    await cli(config, ['create']);
    const before = plainDump('apagada');
    drillServer.pause();
    let r: Awaited<ReturnType<typeof cli>>;
    try {
      r = await cli(config, ['drill'], EXIT.failed);
    } finally {
      drillServer.start();
    }
    expect(r.stderr).toContain(`${drillServer.port}`);
    // the setting to check is named (its own host and port, not the database entry's)
    expect(r.stderr).toContain('looking on the drill server');
    expect(r.stderr).toMatch(/did not run \(apagada's server could not be used\)/);
    expect(r.stderr).toMatch(/hint: Check "drill.server" in the config/);
    const sets = readdirSync(join(dirname(config), 'backups')).filter((n) => /^\d{8}_/.test(n));
    for (const id of sets) expect(existsSync(join(dirname(config), 'backups', id, 'drilled.json'))).toBe(false);
    expect(derivedOn(live, 'apagada')).toEqual([]);
    expect(plainDump('apagada')).toBe(before);
  });

  test.each([
    [{ port: 70000 }, 'drill.server.port'],
    [{ url: 'sqlserver://db1/x' }, 'drill.server.url'],
    [{ url: 'postgresql://u@h:99999/x' }, 'drill.server.url'],
    [{ hots: 'db2' }, 'drill.server.hots'],
    [{ host: 'db2', password: '${NOT_SET_ANYWHERE}' }, 'drill.server.password'],
  ])('bad drill.server %j is a config error naming %s, and changes nothing', async (server, field) => {
    const config = configFor('malconf', server);
    const r = await cli(config, ['drill'], EXIT.config);
    expect(r.stderr).toContain(field);
    expect(readdirSync(dirname(config))).toEqual(['backup_config.json']);
  });
});
