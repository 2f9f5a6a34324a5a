/**
 * SQL Server native chains through the engine (createBackup, planRestoreAt, executeRestore) with the driver's
 * connection replaced by the fake server (test/helpers/sqlserver-fake.ts): sets with `base`, the header in the
 * manifest, a fallback recorded in `chainNotes`, and `restore --at` reaching inside a log backup with STOPAT.
 * The system clock is set by the test (Date only), so set times and the fake server's backup times agree.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { ConnectionSettings } from '../src/drivers/sqlserver/connection.js';
import { createBackup } from '../src/engine/create.js';
import { executeRestore, planRestoreAt } from '../src/engine/restore.js';
import { FakeReporter } from './helpers/reporter.js';
import { FakeServer, PASSWORD, SERVER_DIR } from './helpers/sqlserver-fake.js';
import { makeTmpDir, writeConfig } from './helpers/tmp.js';

const fake: { server: FakeServer | null } = { server: null };
vi.mock('../src/drivers/sqlserver/connection.js', () => ({
  mssqlConnector: (s: ConnectionSettings) => fake.server!.connector(s),
}));

let now = Date.UTC(2026, 10, 22, 2, 0, 0);
/** Moves the system clock (and the fake server's) one minute on. */
function tick(): void {
  now += 60_000;
  vi.setSystemTime(now);
  fake.server!.clock = now;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(now);
});
afterEach(() => {
  vi.useRealTimers();
  fake.server = null;
});

async function setup(chain: boolean) {
  const dir = makeTmpDir();
  const localDir = join(dir, 'mssql');
  mkdirSync(localDir);
  const server = new FakeServer(localDir);
  Object.assign(server, { writeStep: 0, backupStep: 0, clock: now });
  fake.server = server;
  server.addDb('users', { 'dbo.t': 1 });
  const s = writeConfig(
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
          ...(chain ? { chain: true } : {}),
        },
      ],
    },
    { demo: false },
  );
  const cfg = await loadConfig({ configPath: s.configFile, env: {} });
  return { server, cfg };
}

describe('SQL Server chains through the engine', () => {
  it('full, incrementals, restore --at inside the last log backup (STOPAT)', async () => {
    const { server, cfg } = await setup(true);
    const create = (type: 'full' | 'incremental') => createBackup(cfg, { type, files: false }, new FakeReporter());
    const full = await create('full');
    tick();
    server.write('users', { 'dbo.t': 2 });
    tick();
    const i1 = await create('incremental');
    tick();
    server.write('users', { 'dbo.t': 3 });
    tick();
    const at = new Date(now + 30_000);
    tick();
    server.write('users', { 'dbo.t': 4 });
    tick();
    const i2 = await create('incremental');
    expect([full.type, i1.type, i2.type]).toEqual(['full', 'incremental', 'incremental']);
    expect(i1.databases[0]!.base).toBe(full.id);
    expect(i2.databases[0]!.base).toBe(i1.id);
    expect(i2.databases[0]!.details).toMatchObject({ backupKind: 'log', pointInTime: true });

    tick();
    const plan = await planRestoreAt(cfg, at, { terminateConnections: true });
    expect(plan.at).toMatchObject({ setId: i2.id, stopAt: at.toISOString(), point: at.toISOString() });
    expect(plan.at!.order).toEqual([full.id, i1.id, i2.id]);
    server.log = [];
    const outcome = await executeRestore(cfg, plan, new FakeReporter());
    expect(outcome).toBeTruthy();
    const stop = server.log.find((r) => r.sql.includes('STOPAT'));
    expect(stop?.params.stopAt).toBe(at.toISOString());
    expect(server.dbs.get('users')!.tables).toEqual({ 'dbo.t': 3 });
  });

  it('without chain: true an incremental run stores a COPY_ONLY full and says to set it', async () => {
    const { server, cfg } = await setup(false);
    await createBackup(cfg, { type: 'full', files: false }, new FakeReporter());
    tick();
    const m = await createBackup(cfg, { type: 'incremental', files: false }, new FakeReporter());
    expect(m).toMatchObject({ type: 'full', requestedType: 'incremental' });
    expect(m.chainNotes?.[0]).toMatch(/users: .*need "chain": true in its database entry/);
    expect(server.log.filter((r) => r.sql.startsWith('BACKUP')).every((r) => r.sql.includes('COPY_ONLY'))).toBe(true);
  });

  it('a log backup taken outside respaldo: the incremental run is a full that says why', async () => {
    const { server, cfg } = await setup(true);
    await createBackup(cfg, { type: 'full', files: false }, new FakeReporter());
    tick();
    server.write('users', { 'dbo.t': 2 });
    server.takeBackup('users', 'log', false, '/dba/users.trn');
    tick();
    const m = await createBackup(cfg, { type: 'incremental', files: false }, new FakeReporter());
    expect(m).toMatchObject({ type: 'full', requestedType: 'incremental' });
    expect(m.chainNotes?.[0]).toMatch(/taken outside respaldo \(\/dba\/users\.trn\).*gap/);
    expect(m.databases[0]!.details).toMatchObject({ backupKind: 'full', copyOnly: false });
  });
});
