/**
 * Where the copy made under a read transaction does not come out as SQLite sees the database (snapshot.ts returns
 * nothing) or fails otherwise than SQLite would, the snapshot is taken with the online backup API, and the set is
 * the same. SQLite's own errors are not retried that way (the backup API would meet them too).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { createBackup } from '../src/engine/create.js';
import { dbDigest } from './helpers/sqlite.js';
import { FakeReporter } from './helpers/reporter.js';
import { demoSetup } from './helpers/tmp.js';
import { runCli } from './helpers/cli.js';

const copy = vi.hoisted(() => ({ outcome: 'real' as 'real' | 'nothing' | 'io-error' | 'busy', calls: 0 }));
vi.mock('../src/drivers/sqlite/snapshot.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/drivers/sqlite/snapshot.js')>();
  return {
    ...real,
    copySnapshot: async (...args: Parameters<typeof real.copySnapshot>) => {
      copy.calls++;
      const made = await real.copySnapshot(...args);
      if (copy.outcome === 'nothing') return undefined;
      if (copy.outcome === 'io-error') throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
      if (copy.outcome === 'busy') throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
      return made;
    },
  };
});

function snapshotLines(backupDir: string): Record<string, unknown>[] {
  const logs = join(backupDir, 'logs');
  return readdirSync(logs)
    .flatMap((f) => readFileSync(join(logs, f), 'utf8').split('\n'))
    .filter((l) => l.includes('sqlite snapshot'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('SQLite snapshot: the backup API where the copy cannot be used', () => {
  for (const outcome of ['nothing', 'io-error'] as const) {
    it(`a copy that ${outcome === 'nothing' ? 'does not match the database' : 'fails to read'}: the backup API takes it, and the set restores the database`, async () => {
      const s = demoSetup();
      const cfg = await loadConfig({ configPath: s.configFile, env: {} });
      copy.outcome = outcome;
      copy.calls = 0;
      const m = await createBackup(cfg, { type: 'full', databases: ['users'], files: false }, new FakeReporter());
      expect(copy.calls).toBe(1);
      expect(m.status).toBe('completed');
      expect(m.databases[0]).toMatchObject({ name: 'users', format: 'sqlite-db', error: null });
      const taken = snapshotLines(s.backupDir).find((l) => l['message'] === 'sqlite snapshot taken');
      expect(taken).toMatchObject({ method: 'backup API' });
      const to = join(s.dir, 'users-back.db');
      const r = await runCli(['restore', m.id, '--db', 'users', '--to', to, '--yes', '--config', s.configFile]);
      expect(r.code).toBe(0);
      expect(dbDigest(to)).toEqual(dbDigest(s.dbs.users));
    });
  }

  it("SQLite's own error (a lock held too long) is the database's failure, not tried again with the backup API", async () => {
    const s = demoSetup();
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    copy.outcome = 'busy';
    copy.calls = 0;
    await expect(
      createBackup(cfg, { type: 'full', databases: ['users'], files: false }, new FakeReporter()),
    ).rejects.toThrow(
      /SQLite database users is in WAL mode, where readers do not wait for writers, yet another process/,
    );
    expect(copy.calls).toBe(1);
    expect(snapshotLines(s.backupDir).some((l) => String(l['message']).includes('using the backup API'))).toBe(false);
  });

  it('the copy itself is what a create uses', async () => {
    const s = demoSetup();
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    copy.outcome = 'real';
    const m = await createBackup(cfg, { type: 'full', databases: ['users'], files: false }, new FakeReporter());
    expect(m.status).toBe('completed');
    expect(snapshotLines(s.backupDir).find((l) => l['message'] === 'sqlite snapshot taken')).toMatchObject({
      method: 'copy',
    });
  });
});
