import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { UsageError } from '../src/core/errors.js';
import { silentReporter } from '../src/core/events.js';
import { loadConfig } from '../src/config/load.js';
import { listSets } from '../src/engine/catalog.js';
import { createBackup } from '../src/engine/create.js';
import { ensureRecentBackup, newestCovering, parseAge } from '../src/engine/ensure-recent.js';
import { demoSetup } from './helpers/tmp.js';

describe('parseAge', () => {
  it.each([
    ['7d', 7 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['30m', 30 * 60_000],
    ['2w', 14 * 86_400_000],
    ['45s', 45_000],
    ['1d12h', 36 * 3_600_000],
    [' 3H ', 3 * 3_600_000],
  ])('%j → %i ms', (text, ms) => {
    expect(parseAge(text)).toBe(ms);
  });

  it.each(['', '7', 'd', '7 days', '-1d', '1.5h', '0d', '7y', '99999999999999999999d', '400000d'])(
    'rejects %j',
    (text) => {
      expect(() => parseAge(text)).toThrow(UsageError);
    },
  );
});

describe('ensureRecentBackup (real SQLite)', () => {
  it('backs up when there is no set, then not while the newest covering set is recent, then again once it is old', async () => {
    const setup = demoSetup();
    const first = await ensureRecentBackup({ maxAge: '1h', configPath: setup.configFile, files: false });
    expect(first.created).toBe(true);
    expect(first.previous).toBeNull();
    expect(first.reason).toMatch(/no completed full backup/);
    expect(first.manifest?.status).toBe('completed');

    const second = await ensureRecentBackup({ maxAge: '1h', configPath: setup.configFile, files: false });
    expect(second).toMatchObject({ created: false, manifest: null });
    expect(second.previous?.id).toBe(first.manifest!.id);
    expect(second.reason).toMatch(/within 1h; no backup made/);

    const later = new Date(Date.now() + 2 * 3_600_000);
    const third = await ensureRecentBackup({ maxAge: '1h', configPath: setup.configFile, files: false, now: later });
    expect(third.created).toBe(true);
    expect(third.reason).toMatch(/older than 1h; backing up/);
    const cfg = await loadConfig({ configPath: setup.configFile });
    expect((await listSets(cfg)).length).toBe(2);
  });

  it('only counts completed sets that hold every requested database', async () => {
    const setup = demoSetup();
    const cfg = await loadConfig({ configPath: setup.configFile });
    const usersOnly = await createBackup(cfg, { databases: ['users'], files: false }, silentReporter);
    const sets = await listSets(cfg);
    expect(newestCovering(sets, ['users'])?.id).toBe(usersOnly.id);
    expect(newestCovering(sets, ['users', 'inventario'])).toBeNull();

    const r = await ensureRecentBackup(
      { maxAge: '7d', config: cfg, databases: ['users', 'inventario'], files: false },
      silentReporter,
    );
    expect(r.created).toBe(true);
    expect(r.manifest!.databases.map((d) => d.name).sort()).toEqual(['inventario', 'users']);
    const again = await ensureRecentBackup({ maxAge: '7d', config: cfg, databases: ['users'] });
    expect(again.created).toBe(false);
    expect(again.previous?.id).toBe(r.manifest!.id);
  });

  it('a set dated ahead of the clock does not count as recent: a backup is made, and the clock named', async () => {
    const setup = demoSetup();
    const cfg = await loadConfig({ configPath: setup.configFile });
    const m = await createBackup(cfg, { files: false }, silentReporter);
    const file = join(cfg.backupDir, m.id, 'manifest.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    writeFileSync(
      file,
      JSON.stringify({ ...doc, startedAt: '2099-01-01T00:00:00.000Z', completedAt: '2099-01-01T00:00:01.000Z' }),
    );
    const r = await ensureRecentBackup({ maxAge: '7d', config: cfg, files: false });
    expect(r.created).toBe(true);
    expect(r.previous).toBeNull();
    expect(r.reason).toContain(
      `(set ${m.id} is dated 2099-01-01T00:00:01.000Z, ahead of this machine's clock, and does not count: check the clock); backing up.`,
    );
    expect(r.manifest?.status).toBe('completed');
  });

  it('rejects unknown databases before doing anything', async () => {
    const setup = demoSetup();
    await expect(
      ensureRecentBackup({ maxAge: '1d', configPath: setup.configFile, databases: ['ventas'] }),
    ).rejects.toThrow(/No database named "ventas"/);
    const cfg = await loadConfig({ configPath: setup.configFile });
    expect(await listSets(cfg)).toEqual([]);
  });
});

describe('create --dry-run --if-older-than', () => {
  it('says whether a run would back up, and refuses a bad age (it exited 0 and said nothing of either)', async () => {
    const { runCli, describeResult } = await import('./helpers/cli.js');
    const s = demoSetup();
    const bad = await runCli(['create', '--dry-run', '--if-older-than', 'abc', '--config', s.configFile]);
    expect(bad.code, describeResult(bad)).toBe(2);
    const first = await runCli(['create', '--dry-run', '--if-older-than', '1d', '--config', s.configFile]);
    expect(first.code, describeResult(first)).toBe(0);
    expect(first.stdout).toContain(
      'There is no completed full backup holding users, inventario, auditoria: a run would back up.',
    );
    expect(first.stdout).toContain('Would create a full backup set');
    await runCli(['create', '--no-files', '--config', s.configFile]);
    const recent = await runCli(['create', '--dry-run', '--if-older-than', '1d', '--config', s.configFile]);
    expect(recent.stdout).toMatch(
      /^Would not back up: The newest completed backup of .* old, within 1d; no backup made\.$/m,
    );
    expect(recent.stdout).not.toContain('Would create');
    expect((await listSets(await loadConfig({ configPath: s.configFile }))).length).toBe(1);
  });
});
