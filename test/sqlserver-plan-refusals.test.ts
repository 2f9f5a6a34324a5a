/**
 * SQL Server: what the restore plan says before the operator confirms, read from the live database through the
 * driver's inspect (the connection replaced by the fake server, test/helpers/sqlserver-fake.ts): an in-place restore
 * or a rollback over a live database that is not ONLINE, or published for replication, is refused by the plan
 * (nothing fetched or written; `restore --dry-run` and `restore` without --yes exit 9), and an in-place restore that
 * keeps change data capture says the capture/cleanup jobs to add again.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { main } from '../src/cli/program.js';
import { english } from '../src/core/phrases.js';
import type { ConnectionSettings } from '../src/drivers/sqlserver/connection.js';
import { sqlserverDriver } from '../src/drivers/sqlserver/index.js';
import { createBackup } from '../src/engine/create.js';
import { executeRestore, planRestore } from '../src/engine/restore.js';
import { FakeReporter } from './helpers/reporter.js';
import { FakeServer, PASSWORD, SERVER_DIR } from './helpers/sqlserver-fake.js';
import { makeTmpDir, writeConfig } from './helpers/tmp.js';

const fake: { server: FakeServer | null } = { server: null };
vi.mock('../src/drivers/sqlserver/connection.js', () => ({
  mssqlConnector: (s: ConnectionSettings) => fake.server!.connector(s),
}));

afterEach(() => {
  fake.server = null;
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

let server: FakeServer;
let localDir: string;
let configFile: string;

beforeEach(() => {
  const dir = makeTmpDir();
  localDir = join(dir, 'mssql');
  mkdirSync(localDir);
  server = new FakeServer(localDir);
  fake.server = server;
  server.addDb('users', { 'dbo.t': 1 });
  configFile = writeConfig(
    dir,
    {
      databases: [
        {
          name: 'users',
          engine: 'sqlserver',
          server: 'db1',
          user: 'backup',
          password: PASSWORD,
          serverBackupDir: SERVER_DIR,
          localBackupDir: localDir,
        },
      ],
    },
    { demo: false },
  ).configFile;
});

const config = () => loadConfig({ configPath: configFile, env: {} });
const backup = async () => createBackup(await config(), { type: 'full', files: false }, new FakeReporter());
/** What the plan ran on the server: only reads (no BACKUP, RESTORE, ALTER, DROP). */
const changed = () => server.log.filter((r) => /^(BACKUP|RESTORE|ALTER|DROP|CREATE|EXEC)/.test(r.sql));

/** Runs the CLI in this process; its exit code and what it wrote. */
async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const take = (chunk: unknown): boolean => {
    out += String(chunk);
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(take);
  vi.spyOn(process.stderr, 'write').mockImplementation(take);
  try {
    return { code: await main([...args, '--config', configFile]), out };
  } finally {
    vi.mocked(process.stdout.write).mockRestore();
    vi.mocked(process.stderr.write).mockRestore();
  }
}

describe('the restore plan refuses replacing a live database that cannot be replaced as it is', () => {
  it.each<[string, Record<string, unknown>, RegExp, RegExp]>([
    ['OFFLINE', { state: 'OFFLINE' }, /^Database "users" is OFFLINE, not ONLINE: /, /SET ONLINE/],
    ['RESTORING', { state: 'RESTORING' }, /a restore is under way/, /RESTORE DATABASE \[users\] WITH RECOVERY/],
    ['SUSPECT', { state: 'SUSPECT' }, /is SUSPECT, not ONLINE \(damaged/, /MODIFY NAME = \[users\]/],
    ['RECOVERY_PENDING', { state: 'RECOVERY_PENDING' }, /is RECOVERY_PENDING, not ONLINE/, /--to users_restored/],
    ['EMERGENCY', { state: 'EMERGENCY' }, /is EMERGENCY, not ONLINE/, /--to users_restored/],
    ['RECOVERING', { state: 'RECOVERING' }, /is RECOVERING, not ONLINE/, /Wait until SQL Server has recovered/],
    ['published', { published: true }, /^Database "users" on db1:1433 is published/, /sp_removedbreplication N'users'/],
  ])('%s: refused in the plan (exit 9), nothing written; side by side planned', async (_what, live, message, hint) => {
    const m = await backup();
    Object.assign(server.dbs.get('users')!, live);
    server.log = [];
    const plan = await planRestore(await config(), m.id, { terminateConnections: false });
    expect(plan.refusals).toHaveLength(1);
    expect(plan.refusals[0]).toMatchObject({ kind: 'target-state', database: 'users' });
    expect(plan.refusals[0]!.message).toMatch(message);
    expect(plan.refusals[0]!.message).toMatch(/an in-place restore was refused; nothing was changed\.$/);
    expect(plan.refusals[0]!.hint).toMatch(hint);
    expect(english(plan.refusals[0]!.phrases!.message)).toBe(plan.refusals[0]!.message);
    expect(changed()).toEqual([]);
    expect(readdirSync(localDir)).toEqual([]);
    const side = await planRestore(await config(), m.id, { terminateConnections: false, to: 'users_restored' });
    expect(side.refusals).toEqual([]);
  });

  it('restore --dry-run shows the refusal and exits 9; restore without --yes stops there (9), nothing asked', async () => {
    const m = await backup();
    server.dbs.get('users')!.state = 'OFFLINE';
    const dry = await cli('restore', m.id, '--db', 'users', '--dry-run');
    expect(dry.code).toBe(9);
    expect(dry.out).toMatch(/OFFLINE, not ONLINE/);
    server.log = [];
    const real = await cli('restore', m.id, '--db', 'users');
    expect(real.code).toBe(9);
    expect(real.out).toMatch(/is OFFLINE, not ONLINE/);
    expect(real.out).not.toMatch(/Restore now|\[y\/N\]/i);
    expect(changed()).toEqual([]);
    expect(readdirSync(localDir)).toEqual([]);
    server.dbs.get('users')!.state = 'ONLINE';
    expect((await cli('restore', m.id, '--db', 'users', '--dry-run', '--terminate-connections')).code).toBe(0);
  });

  it('a rollback over a live database not ONLINE or published: refused in its plan, said as a rollback', async () => {
    const m = await backup();
    const cfg = await config();
    const done = await executeRestore(
      cfg,
      await planRestore(cfg, m.id, { terminateConnections: true }),
      new FakeReporter(),
    );
    const pre = done.safetySetIds[0]!;
    expect(pre).toBeTruthy();
    const rollback = () => planRestore(cfg, pre, { terminateConnections: true });
    expect((await rollback()).refusals).toEqual([]);
    server.dbs.get('users')!.published = true;
    const published = (await rollback()).refusals;
    expect(published).toMatchObject([{ kind: 'target-state', database: 'users' }]);
    expect(published[0]!.message).toMatch(/published for replication: .*so a rollback by renaming was refused/);
    server.dbs.get('users')!.published = false;
    server.dbs.get('users')!.state = 'SUSPECT';
    server.log = [];
    const suspect = (await rollback()).refusals;
    expect(suspect[0]!.message).toMatch(/is SUSPECT, not ONLINE .*so a rollback by renaming was refused/);
    expect(changed()).toEqual([]);
    expect((await cli('restore', pre, '--db', 'users', '--dry-run')).code).toBe(9);
  });
});

describe('the restore plan says, before it is confirmed, that CDC is kept and its jobs must be added', () => {
  it('in place: a warning with sp_cdc_add_job; beside it: none', async () => {
    server.dbs.get('users')!.cdcEnabled = true;
    const m = await backup();
    expect(m.databases[0]!.details.cdcEnabled).toBe(true);
    const plan = await planRestore(await config(), m.id, { terminateConnections: true });
    expect(plan.refusals).toEqual([]);
    expect(plan.warnings).toContainEqual(
      expect.stringMatching(
        /^users: change data capture of users is kept .*KEEP_CDC.*sp_cdc_add_job @job_type = N'capture'/,
      ),
    );
    const dry = await cli('restore', m.id, '--db', 'users', '--dry-run', '--terminate-connections');
    expect(dry.code).toBe(0);
    expect(dry.out.replace(/\s+/g, ' ')).toMatch(/change data capture of users is kept/);
    const side = await planRestore(await config(), m.id, { terminateConnections: false, to: 'users_copy' });
    expect(side.warnings.some((w) => /change data capture/.test(w))).toBe(false);
  });

  it('a set recorded without CDC: no warning, although the live database has it now (KEEP_CDC is by the record)', async () => {
    const m = await backup();
    expect(m.databases[0]!.details.cdcEnabled).toBe(false);
    server.dbs.get('users')!.cdcEnabled = true;
    const recordedOff = await planRestore(await config(), m.id, { terminateConnections: true });
    expect(recordedOff.warnings.some((w) => /change data capture/.test(w))).toBe(false);
    // A set made before cdcEnabled was recorded: KEEP_CDC (and the warning) by the live database's CDC.
    const { cdcEnabled: _, ...details } = m.databases[0]!.details;
    const older = { ...m.databases[0]!, details };
    const db = (await config()).databases[0]!;
    const input = { db, entry: older, setId: m.id, target: { kind: 'in-place' as const } };
    expect(sqlserverDriver.planRestore({ ...input, targetCdcEnabled: true }).warnings?.map(english)).toEqual([
      expect.stringMatching(/^users: change data capture of users is kept/),
    ]);
    expect(sqlserverDriver.planRestore(input).warnings).toBeUndefined();
  });
});
