/**
 * The real EngineFacade over the real engine, on a temp config with real SQLite files: what the
 * menu gets back, and what saving the schedule does to backup_config.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isRespaldoError } from '../src/core/errors.js';
import { CollectingReporter, silentReporter } from '../src/core/events.js';
import { EXIT } from '../src/core/exit-codes.js';
import { loadConfig } from '../src/config/load.js';
import { runMenu } from '../src/ui/app.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'respaldo-facade-'));
  for (const name of ['users', 'inventario']) {
    const db = new Database(join(dir, `${name}.db`));
    db.exec(`CREATE TABLE ${name} (id INTEGER PRIMARY KEY, v TEXT)`);
    db.prepare(`INSERT INTO ${name} (v) VALUES (?), (?)`).run('a', 'b');
    db.close();
  }
  file = join(dir, 'backup_config.json');
  writeFileSync(
    file,
    JSON.stringify(
      {
        $schema: './schema.json',
        backupDir: 'backups',
        databases: [
          { name: 'users', engine: 'sqlite', path: 'users.db' },
          { name: 'inventario', engine: 'sqlite', path: 'inventario.db' },
        ],
        compression: { level: 4 },
        retention: { keepLast: 3, daily: 30, weekly: 12, monthly: 12, yearly: 5 },
        schedule: { jobs: [{ name: 'daily', when: 'daily at 02:00', type: 'full', databases: ['*'], files: true }] },
      },
      null,
      4,
    ) + '\n',
  );
  chmodSync(file, 0o640);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('real engine facade', () => {
  it('reports config and status; a backup shows up as the newest good one per database', async () => {
    const facade = createEngineFacade(await loadConfig({ configPath: file }));
    expect(facade.config()).toMatchObject({
      file,
      backupDir: join(dir, 'backups'),
      databases: [
        { name: 'users', engine: 'sqlite' },
        { name: 'inventario', engine: 'sqlite' },
      ],
      fileSources: 0,
      namedFile: null,
    });
    // Named with --config: the commands the menu shows name it.
    expect(createEngineFacade(await loadConfig({ configPath: file }), true).config().namedFile).toBe(file);
    let st = await facade.status();
    expect(st).toMatchObject({
      setCount: 0,
      newest: null,
      lastGood: [
        { database: 'users', at: null },
        { database: 'inventario', at: null },
      ],
      lockHolder: null,
    });
    const reporter = new CollectingReporter();
    const m = await facade.createBackup({ databases: ['users'], type: 'full', files: false }, reporter);
    expect(m.status).toBe('completed');
    expect(reporter.events.some((e) => e.type === 'item-end' && e.item === 'users' && e.ok)).toBe(true);
    st = await facade.status();
    expect(st.setCount).toBe(1);
    expect(st.newest?.id).toBe(m.id);
    expect(st.lastGood).toEqual([
      { database: 'users', at: m.startedAt },
      { database: 'inventario', at: null },
    ]);
    const v = await facade.verifySet(m.id, silentReporter);
    expect(v.ok).toBe(true);
    expect((await facade.listSets({ database: 'inventario' })).length).toBe(0);
    expect((await facade.listSets({ database: 'users' }))[0]?.lastVerified?.ok).toBe(true);
    // The keep mark, as `respaldo keep` sets it.
    await facade.setKeep(m.id, true);
    expect((await facade.listSets())[0]?.keep).toBe(true);
    await facade.setKeep(m.id, false);
    expect((await facade.listSets())[0]?.keep).toBe(false);
  });

  it('nextRuns understands simple forms and cron, and throws a RespaldoError with a hint otherwise', async () => {
    const facade = createEngineFacade(await loadConfig({ configPath: file }));
    const from = new Date('2026-11-22T12:00:00');
    expect(facade.nextRuns('daily at 02:00', undefined, 5, from).map((d) => d.getHours())).toEqual([2, 2, 2, 2, 2]);
    expect(facade.nextRuns('*/15 * * * *', undefined, 2, from).map((d) => d.getMinutes())).toEqual([15, 30]);
    let err: unknown;
    try {
      facade.nextRuns('every tuesday', undefined, 5, from);
    } catch (e) {
      err = e;
    }
    expect(isRespaldoError(err)).toBe(true);
    expect((err as { hint: string }).hint).toContain('daily at 02:00');
  });

  it('saves jobs and retention atomically into the file, keeping the other fields, indentation and mode', async () => {
    const facade = createEngineFacade(await loadConfig({ configPath: file }));
    await facade.saveSchedule(
      [
        { name: 'nightly', when: 'weekly on monday at 23:30', type: 'full', databases: ['users'], files: false },
        { name: 'check', when: '0 6 * * *', type: 'verify', databases: ['*'], files: false, timezone: 'Europe/Madrid' },
      ],
      { keepLast: 5, daily: 7, weekly: 4, monthly: 6, yearly: 1 },
    );
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^\{\n {4}"\$schema"/);
    const doc = JSON.parse(text);
    expect(doc.$schema).toBe('./schema.json');
    expect(doc.compression).toEqual({ level: 4 });
    expect(doc.databases).toHaveLength(2);
    expect(doc.retention).toEqual({ keepLast: 5, daily: 7, weekly: 4, monthly: 6, yearly: 1 });
    expect(doc.schedule.jobs.map((j: { name: string }) => j.name)).toEqual(['nightly', 'check']);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    // the facade now sees the new config
    expect(facade.config().schedule.map((j) => j.name)).toEqual(['nightly', 'check']);
    expect(facade.config().retention.keepLast).toBe(5);
  });

  it('says when a scheduler runs on the backup folder: it keeps the jobs it read at its start', async () => {
    const facade = createEngineFacade(await loadConfig({ configPath: file }));
    const jobs = facade.config().schedule;
    expect(await facade.saveSchedule(jobs, facade.config().retention)).toEqual({ schedulerRunning: false });
    // A scheduler's lock held by a live process (this test's, as a service's would be).
    mkdirSync(join(dir, 'backups', '.scheduler'), { recursive: true });
    const startedAt = new Date().toISOString();
    writeFileSync(
      join(dir, 'backups', '.scheduler', '.respaldo.lock'),
      JSON.stringify({ pid: process.pid, host: hostname(), purpose: 'scheduler', startedAt }),
    );
    expect(await facade.saveSchedule(jobs, facade.config().retention)).toEqual({ schedulerRunning: true });
  });

  it('refuses an invalid schedule with message + hint and leaves the file as it was', async () => {
    const facade = createEngineFacade(await loadConfig({ configPath: file }));
    const before = readFileSync(file, 'utf8');
    await expect(
      facade.saveSchedule(
        [{ name: 'x', when: 'daily at 02:00', type: 'full', databases: ['ventas'], files: true }],
        facade.config().retention,
      ),
    ).rejects.toMatchObject({
      message: expect.stringContaining('ventas'),
      hint: expect.stringContaining('Nothing was changed'),
    });
    await expect(
      facade.saveSchedule(facade.config().schedule, { keepLast: -1, daily: 1, weekly: 1, monthly: 1, yearly: 1 }),
    ).rejects.toMatchObject({ message: expect.stringContaining('retention.keepLast') });
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('plans and executes a side-by-side restore, and refuses to overwrite an existing target', async () => {
    const facade = createEngineFacade(await loadConfig({ configPath: file }));
    const m = await facade.createBackup(
      { databases: ['users', 'inventario'], type: 'full', files: false },
      silentReporter,
    );
    const to = join(dir, 'copy-users.db');
    const plan = await facade.planRestore({ setId: m.id, databases: ['users'], files: false, to });
    expect(plan.refusals).toEqual([]);
    expect(plan.databases[0]).toMatchObject({ database: 'users', target: to, replaces: false });
    const outcome = await facade.executeRestore(plan, silentReporter);
    expect(outcome.ok).toBe(true);
    const again = await facade.planRestore({ setId: m.id, databases: ['users'], files: false, to });
    expect(again.refusals[0]?.message).toContain('already exists');
  });

  it('passes terminateConnections to the engine only when the menu asks for it', async () => {
    const facade = createEngineFacade(await loadConfig({ configPath: file }));
    const m = await facade.createBackup({ databases: ['users'], type: 'full', files: false }, silentReporter);
    const plain = await facade.planRestore({ setId: m.id, databases: ['users'], files: false });
    expect(plain.options.terminateConnections).toBeUndefined();
    const closing = await facade.planRestore({
      setId: m.id,
      databases: ['users'],
      files: false,
      terminateConnections: true,
    });
    expect(closing.options.terminateConnections).toBe(true);
    expect(closing.databases[0]).toMatchObject({ database: 'users', replaces: true });
  });
});

describe('runMenu without a terminal', () => {
  it('never asks for raw mode: prints the hint and returns the usage code', async () => {
    const desc = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY');
    Object.defineProperty(process.stdin, 'isTTY', { value: undefined, configurable: true });
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await runMenu({ configPath: file, lang: 'es' })).toBe(EXIT.usage);
      const out = spy.mock.calls.map((c) => String(c[0])).join('');
      expect(out).toContain('necesita un terminal');
      expect(out).toContain('respaldo create | list');
    } finally {
      spy.mockRestore();
      if (desc) Object.defineProperty(process.stdin, 'isTTY', desc);
      else delete (process.stdin as { isTTY?: boolean }).isTTY;
    }
  });
});
