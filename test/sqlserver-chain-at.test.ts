/**
 * restore --at over SQL Server log backups (src/engine/chain.ts planAt with `stopsInside` entries): the first
 * log set whose end passes the time is restored up to it (STOPAT), as a table.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { ConfigError } from '../src/core/errors.js';
import type { DatabaseConfig, Manifest } from '../src/core/types.js';
import { validate } from '../src/drivers/sqlserver/config.js';
import { chainSetOf, planAt, type ChainSet } from '../src/engine/chain.js';
import { planBackup } from '../src/engine/create.js';
import { makeTmpDir, writeConfig } from './helpers/tmp.js';

function set(id: string, at: string, dbs: Record<string, { base: string | null; log?: boolean; problem?: string }>) {
  const entries: ChainSet['entries'] = {};
  for (const [db, e] of Object.entries(dbs)) {
    entries[db] = {
      base: e.base,
      storedBytes: 10,
      problem: e.problem ?? null,
      ...(e.log ? { stopsInside: true } : {}),
    };
  }
  const type = Object.values(dbs).some((e) => e.base) ? 'incremental' : 'full';
  return { id, type, status: 'completed', startedAt: at, completedAt: at.replace(':00Z', ':30Z'), entries } as ChainSet;
}

const F = set('F1', '2026-11-01T00:00:00Z', { users: { base: null }, pg: { base: null } });
const L2 = set('L2', '2026-11-02T23:00:00Z', { users: { base: 'F1', log: true }, pg: { base: null } });
const L3 = set('L3', '2026-11-03T23:00:00Z', { users: { base: 'L2', log: true }, pg: { base: null } });
const sets = [F, L2, L3];

describe('planAt with SQL Server log backups (STOPAT)', () => {
  const cases: { name: string; at: string; dbs?: string[]; sets?: ChainSet[]; setId?: string; stopAt?: boolean }[] = [
    { name: 'inside the first log backup', at: '2026-11-02T12:00:00Z', setId: 'L2', stopAt: true },
    { name: 'inside the second', at: '2026-11-03T12:00:00Z', setId: 'L3', stopAt: true },
    { name: 'the end of a log set exactly: no STOPAT', at: '2026-11-02T23:00:30Z', setId: 'L2', stopAt: false },
    { name: 'after the last log: as far as it reaches', at: '2026-12-01T00:00:00Z', setId: 'L3', stopAt: false },
    { name: 'before the first full: nothing', at: '2026-10-31T00:00:00Z' },
    {
      name: 'a database without log backups in the same restore: the set ending before',
      at: '2026-11-02T12:00:00Z',
      dbs: ['users', 'pg'],
      setId: 'F1',
      stopAt: false,
    },
    {
      name: 'a log set whose chain is broken is passed over',
      at: '2026-11-03T12:00:00Z',
      sets: [F, set('L2', '2026-11-02T23:00:00Z', { users: { base: 'F1', log: true, problem: 'damaged' } }), L3],
      setId: 'F1',
      stopAt: false,
    },
  ];
  it.each(cases)('$name', (c) => {
    const r = planAt(c.sets ?? sets, new Date(c.at), c.dbs ?? ['users']);
    if (!c.setId) return expect('none' in r).toBe(true);
    if ('none' in r) throw new Error(`expected a plan: ${JSON.stringify(r.skipped)}`);
    expect(r.setId).toBe(c.setId);
    expect(r.stopAt).toBe(c.stopAt ? new Date(c.at).toISOString() : undefined);
    expect(r.point).toBe(
      c.stopAt ? new Date(c.at).toISOString() : (c.sets ?? sets).find((s) => s.id === c.setId)!.completedAt,
    );
  });

  it('an entry stops inside itself when its driver marked it (details.pointInTime) and it has a base', () => {
    const entry = (base: string | null) => ({
      name: 'users',
      file: 'databases/x.bak',
      storedBytes: 1,
      error: null,
      details: { pointInTime: true },
      ...(base ? { base } : {}),
    });
    const m = { id: 'L2', type: 'incremental', status: 'completed', startedAt: 'a', completedAt: 'b', files: [] };
    expect(chainSetOf({ ...m, databases: [entry('F1')] } as unknown as Manifest).entries.users!.stopsInside).toBe(true);
    expect(
      chainSetOf({ ...m, databases: [entry(null)] } as unknown as Manifest).entries.users!.stopsInside,
    ).toBeUndefined();
  });
});

describe('the backup plan of a SQL Server database: chain: true opts in', () => {
  const erp = (chain?: unknown) => ({
    name: 'erp',
    engine: 'sqlserver',
    server: '127.0.0.1',
    user: 'sa',
    password: 'not-a-secret',
    serverBackupDir: '/var/opt/mssql/backup',
    localBackupDir: '/srv/mssql-backup',
    ...(chain === undefined ? {} : { chain }),
  });
  const full: ChainSet = {
    id: '20261101_000000',
    type: 'full',
    status: 'completed',
    startedAt: '2026-11-01T00:00:00Z',
    completedAt: '2026-11-01T00:01:00Z',
    entries: { erp: { base: null, storedBytes: 1, problem: null } },
  };

  it('with chain: true a differential applies on the newest full; without, the plan says to set it', async () => {
    const dir = makeTmpDir();
    for (const [chain, want] of [
      [true, { type: 'differential', base: full.id }],
      [undefined, { type: 'full', fallback: expect.stringContaining('need "chain": true') }],
    ] as const) {
      const s = writeConfig(dir, { databases: [erp(chain)] }, { demo: false });
      const cfg = await loadConfig({ configPath: s.configFile, env: {} });
      const plan = planBackup(cfg, { type: 'differential', chainSets: [full] });
      expect(plan.databases[0]).toMatchObject(want);
    }
  });

  it('a chain that is not true or false is a config error naming the field', async () => {
    const dir = makeTmpDir();
    const s = writeConfig(dir, { databases: [erp('yes')] }, { demo: false });
    await expect(loadConfig({ configPath: s.configFile, env: {} })).rejects.toThrow(/databases\[0\]\.chain/);
    expect(validate({ ...erp('yes'), name: 'erp' } as DatabaseConfig)).toContainEqual(
      expect.objectContaining({ path: 'chain', problem: 'must be true or false' }),
    );
  });

  it.each([
    ['sqlite', { path: './data/users.db' }, 'SQLite'],
    ['postgres', { url: 'postgresql://app@127.0.0.1:5432/ventas' }, 'PostgreSQL'],
  ])(
    'chain on a %s database is a config error naming the field (its chains need no setting)',
    async (engine, where, label) => {
      const dir = makeTmpDir();
      const s = writeConfig(dir, { databases: [{ name: 'db', engine, ...where, chain: true }] }, { demo: false });
      const err = await loadConfig({ configPath: s.configFile, env: {} }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/databases\[0\]\.chain/);
      expect((err as Error).message).toContain(`${label} differential and incremental backups need no setting`);
    },
  );
});
