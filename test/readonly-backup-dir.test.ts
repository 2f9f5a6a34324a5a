/**
 * The backup folder's disk remounted read-only (as a file system does after I/O errors): a restore beside the live
 * database reads it as it is (no lock, log or scratch file there); one in place is refused before anything, as it
 * keeps what it replaces there first; and the other way (the folder read as a folder destination from a config whose
 * backupDir is writable) restores without writing there. Health checks (status --check, the scheduler's) say so and
 * alert it once, what they told kept elsewhere meanwhile. Needs a tmpfs (root, as CI runs).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { loadConfig } from '../src/config/load.js';
import { createEngineScheduler } from '../src/scheduler/run-job.js';
import { describeResult, parseJsonOutput, runCli, waitFor } from './helpers/cli.js';
import { FakeClock } from './helpers/fake-clock.js';
import { dbDigest } from './helpers/sqlite.js';
import { mountSmallDisk, tmpfsProblem, unmountAllSmallDisks } from './helpers/tmpfs.js';
import { demoSetup } from './helpers/tmp.js';
import { startWebhookServer } from './helpers/webhook.js';

afterEach(unmountAllSmallDisks);

const skip = tmpfsProblem();
if (skip) console.log(`SKIPPED read-only backup folder test: ${skip}`);

describe.skipIf(skip !== null)('a backup folder on a disk mounted read-only', () => {
  it('a restore beside reads it as it is; in place is refused saying why and how; read as a folder destination it restores', async () => {
    const s = demoSetup();
    const disk = mountSmallDisk(join(s.dir, 'disk'), 16 * 1024 * 1024);
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(s.configFile, JSON.stringify({ ...doc, backupDir: join(disk.dir, 'backups') }));
    const made = await runCli(['create', '--json', '--db', 'users', '--no-files', '--config', s.configFile]);
    expect(made.code, describeResult(made)).toBe(0);
    const m = parseJsonOutput<Manifest>(made.stdout);
    const r = spawnSync('mount', ['-o', 'remount,ro', disk.dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);

    // Beside the live database: read as it is, no lock, log or scratch file there, nothing left in TMPDIR.
    const tmp = join(s.dir, 'tmp');
    mkdirSync(tmp);
    const target = join(s.dir, 'users-check.db');
    const asIs = await runCli(
      ['restore', 'latest', '--db', 'users', '--to', target, '--yes', '--config', s.configFile],
      { env: { TMPDIR: tmp } },
    );
    expect(asIs.code, describeResult(asIs)).toBe(0);
    expect(asIs.stdout + asIs.stderr).toContain(
      `the backup folder ${join(disk.dir, 'backups')} cannot be written (EROFS): restoring from it as it is`,
    );
    expect(asIs.stderr).not.toContain('could not write the log');
    expect(dbDigest(target)).toEqual(dbDigest(s.dbs.users));
    expect(readdirSync(tmp)).toEqual([]);

    // In place it would keep what it replaces there first: refused before anything, the live database as it was.
    const live = dbDigest(s.dbs.users);
    const inPlace = await runCli(['restore', 'latest', '--db', 'users', '--yes', '--config', s.configFile], {
      env: { TMPDIR: tmp },
    });
    expect(inPlace.code, describeResult(inPlace)).toBe(9);
    expect(inPlace.stderr).toContain(
      `The backup folder ${join(disk.dir, 'backups')} cannot be written (EROFS): restoring users in place would keep what it replaces there first, so nothing was restored.`,
    );
    expect(inPlace.stderr).toMatch(/hint: Restore beside it with --to/);
    expect(dbDigest(s.dbs.users)).toEqual(live);
    rmSync(target);

    // the README's way: another config, its backupDir writable, the old folder as a destination
    const other = join(s.dir, 'other_config.json');
    const old = { name: 'old', type: 'folder', path: disk.dir, source: 'backups', copyAfterBackup: false };
    writeFileSync(other, JSON.stringify({ ...doc, backupDir: join(s.dir, 'scratch'), destinations: [old] }));
    const listed = await runCli(['list', '--from', 'old', '--json', '--config', other]);
    expect(listed.code, describeResult(listed)).toBe(0);
    expect(parseJsonOutput<{ id: string }[]>(listed.stdout).map((x) => x.id)).toEqual([m.id]);
    const restored = await runCli(
      ['restore', 'latest', '--from', 'old', '--db', 'users', '--to', target, '--yes', '--config', other],
      { cwd: s.dir },
    );
    expect(restored.code, describeResult(restored)).toBe(0);
    expect(dbDigest(target)).toEqual(dbDigest(s.dbs.users));
  });

  it('a backup folder or a --to not yet made on it is said to be on a read-only disk (exit 7), not a bug or a missing folder', async () => {
    const s = demoSetup();
    const disk = mountSmallDisk(join(s.dir, 'disk'), 16 * 1024 * 1024);
    const made = await runCli(['create', '--json', '--config', s.configFile]);
    expect(made.code, describeResult(made)).toBe(0);
    const r = spawnSync('mount', ['-o', 'remount,ro', disk.dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);

    // Node's recursive mkdir says ENOENT there: create was an internal error (exit 1) with its stack.
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    const onDisk = join(s.dir, 'on_disk.json');
    writeFileSync(onDisk, JSON.stringify({ ...doc, backupDir: join(disk.dir, 'app', 'backups') }));
    const create = await runCli(['create', '--json', '--config', onDisk]);
    expect(create.code, describeResult(create)).toBe(7);
    expect(parseJsonOutput<{ message: string }>(create.stdout).message).toContain(
      `Read-only file system on ${join(disk.dir, 'app')}`,
    );
    expect(create.stderr).not.toContain('internal error');

    // restore --files --to a new folder there was an internal error too; --db --to, "no such file or directory"
    const files = await runCli([
      'restore',
      'latest',
      '--files',
      '--to',
      join(disk.dir, 'x', 'files'),
      '--yes',
      '--config',
      s.configFile,
    ]);
    expect(files.code, describeResult(files)).toBe(7);
    expect(files.stderr).toContain(`Read-only file system on ${join(disk.dir, 'x')}`);
    expect(files.stderr).not.toContain('internal error');
    const db = await runCli([
      'restore',
      'latest',
      '--db',
      'users',
      '--to',
      join(disk.dir, 'x', 'users.db'),
      '--yes',
      '--config',
      s.configFile,
    ]);
    expect(db.code, describeResult(db)).toBe(7);
    expect(db.stderr).toContain(`EROFS: read-only file system, mkdir '${join(disk.dir, 'x')}'`);
    expect(readdirSync(disk.dir)).toEqual([]);
  });

  it("status --check says so and exits 10, one JSON document (it said healthy, then failed with exit 7); a backup's alert says why in Spanish", async () => {
    const hook = await startWebhookServer();
    try {
      const s = demoSetup();
      const disk = mountSmallDisk(join(s.dir, 'disk'), 16 * 1024 * 1024);
      const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
      const backupDir = join(disk.dir, 'backups');
      const notifications = [{ type: 'webhook', on: ['unhealthy'], url: hook.url, format: 'json' }];
      writeFileSync(s.configFile, JSON.stringify({ ...doc, backupDir, health: { minFreeBytes: 1 }, notifications }));
      const made = await runCli(['create', '--db', 'users', '--no-files', '--config', s.configFile]);
      expect(made.code, describeResult(made)).toBe(0);
      const r = spawnSync('mount', ['-o', 'remount,ro', disk.dir], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const check = await runCli(['status', '--check', '--json', '--config', s.configFile], {
        env: { XDG_STATE_HOME: join(s.dir, 'state') }, // what it told is kept there, not in this user's home
      });
      expect(check.code, describeResult(check)).toBe(10);
      // said once, by the report: not again as a log line that could not be written there (it was on stderr)
      expect(check.stderr).not.toMatch(/could not write the log|EROFS/);
      const health = parseJsonOutput<{ healthy: boolean; problems: string[] }>(check.stdout);
      expect(health.healthy).toBe(false);
      expect(health.problems).toContain(
        `backup folder: ${backupDir} cannot be written (${backupDir} is on a read-only file system): every backup will fail (remount the disk read-write, or give the user running respaldo write access)`,
      );
      expect(hook.received.join('\n')).toContain(`backup folder: ${backupDir} cannot be written`);

      // A backup then fails (exit 7); with "language": "es" its alert says why in Spanish (it stayed English).
      const es = [{ type: 'webhook', on: ['failure'], url: hook.url, format: 'json' }];
      writeFileSync(s.configFile, JSON.stringify({ ...doc, backupDir, language: 'es', notifications: es }));
      const before = hook.received.length;
      const failed = await runCli(['create', '--db', 'users', '--no-files', '--config', s.configFile]);
      expect(failed.code, describeResult(failed)).toBe(7);
      expect(failed.stderr).toContain(`Read-only file system on ${backupDir}`); // the CLI speaks English
      const alert = hook.received.slice(before).join('\n');
      expect(alert).toContain(`Sistema de archivos de solo lectura en ${backupDir}`);
      expect(alert).toContain('Ese disco está montado solo para lectura');
      expect(alert).not.toMatch(/Read-only file system|That disk is mounted/);
    } finally {
      hook.close();
    }
  });

  it('status --check alerts a problem once while the folder cannot keep what it told (it was sent at every check); cleared and back, it is sent again', async () => {
    const hook = await startWebhookServer();
    try {
      const s = demoSetup();
      const disk = mountSmallDisk(join(s.dir, 'disk'), 16 * 1024 * 1024);
      const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
      const backupDir = join(disk.dir, 'backups');
      const notifications = [{ type: 'webhook', on: ['unhealthy'], url: hook.url, format: 'json' }];
      writeFileSync(s.configFile, JSON.stringify({ ...doc, backupDir, health: { minFreeBytes: 1 }, notifications }));
      const made = await runCli(['create', '--config', s.configFile]); // every database: healthy when writable
      expect(made.code, describeResult(made)).toBe(0);
      const state = join(s.dir, 'state');
      const env = { XDG_STATE_HOME: state, TMPDIR: join(s.dir, 'tmp') };
      mkdirSync(env.TMPDIR);
      const check = async (code: number) => {
        const r = await runCli(['status', '--check', '--config', s.configFile], { env });
        expect(r.code, describeResult(r)).toBe(code);
        const said = (r.stdout + r.stderr).split(`${backupDir} cannot be written`).length - 1;
        expect(said, describeResult(r)).toBe(code === 10 ? 1 : 0);
        expect(r.stderr).not.toContain('could not write the log');
      };
      const remount = (how: 'ro' | 'rw') => {
        const r = spawnSync('mount', ['-o', `remount,${how}`, disk.dir], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
      };
      const alerts = () => hook.received.filter((b) => b.includes(`backup folder: ${backupDir} cannot be written`));

      remount('ro');
      await check(10);
      await check(10);
      await check(10);
      expect(alerts()).toHaveLength(1);
      expect(hook.received).toHaveLength(1);
      // kept in this user's state folder, 0600 in a 0700 folder, nothing in the temporary folder
      const spare = readdirSync(join(state, 'respaldo'));
      expect(spare).toHaveLength(1);
      expect(spare[0]).toMatch(/^health-alerts-[0-9a-f]{32}\.json$/);
      expect(statSync(join(state, 'respaldo')).mode & 0o777).toBe(0o700);
      expect(statSync(join(state, 'respaldo', spare[0]!)).mode & 0o777).toBe(0o600);
      expect(readdirSync(env.TMPDIR)).toEqual([]);

      // Writable again: healthy, nothing sent (no message says a problem cleared), what was told back beside the sets.
      remount('rw');
      await check(0);
      expect(hook.received).toHaveLength(1);
      expect(readdirSync(join(state, 'respaldo'))).toEqual([]);
      const kept = JSON.parse(readFileSync(join(backupDir, '.health-alerts.json'), 'utf8')) as {
        channels: Record<string, string[]>;
      };
      expect(Object.values(kept.channels)).toEqual([[]]);
      expect(existsSync(join(backupDir, '.health-alerts.lock'))).toBe(false);

      // The problem cleared and came back: sent again, once.
      remount('ro');
      await check(10);
      await check(10);
      expect(alerts()).toHaveLength(2);
      expect(hook.received).toHaveLength(2);

      // A state folder that cannot be written either (here on the same read-only disk): kept in the temporary folder.
      const elsewhere = { ...env, XDG_STATE_HOME: join(disk.dir, 'state') };
      for (let i = 0; i < 2; i++) {
        const r = await runCli(['status', '--check', '--config', s.configFile], { env: elsewhere });
        expect(r.code, describeResult(r)).toBe(10);
      }
      expect(alerts()).toHaveLength(3); // that place knew nothing of it: once more, then not again
      expect(readdirSync(join(env.TMPDIR, `respaldo-state-${process.getuid!()}`))).toEqual([spare[0]]);
    } finally {
      hook.close();
    }
  });

  it("the running scheduler's hourly check and checks started together alert it once too", async () => {
    const hook = await startWebhookServer();
    const xdg = process.env.XDG_STATE_HOME;
    try {
      const s = demoSetup();
      const disk = mountSmallDisk(join(s.dir, 'disk'), 16 * 1024 * 1024);
      const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
      const backupDir = join(disk.dir, 'backups');
      const notifications = [{ type: 'webhook', on: ['unhealthy'], url: hook.url, format: 'json' }];
      const metrics = { textfile: join(s.dir, 'metrics', 'respaldo.prom') };
      mkdirSync(join(s.dir, 'metrics'));
      writeFileSync(
        s.configFile,
        JSON.stringify({ ...doc, backupDir, health: { minFreeBytes: 1 }, notifications, metrics }),
      );
      const made = await runCli(['create', '--config', s.configFile]);
      expect(made.code, describeResult(made)).toBe(0);
      // started while the folder is writable (it keeps its state there), then the disk goes read-only
      const cfg = await loadConfig({ configPath: s.configFile });
      const clock = new FakeClock(new Date());
      const scheduler = createEngineScheduler(cfg, { clock, catchUp: false });
      await scheduler.start();
      const r = spawnSync('mount', ['-o', 'remount,ro', disk.dir], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const env = { XDG_STATE_HOME: join(s.dir, 'state') };
      process.env.XDG_STATE_HOME = env.XDG_STATE_HOME;

      // three checks at once (cron and the scheduler): one alert
      const codes = await Promise.all(
        [1, 2, 3].map(() => runCli(['status', '--check', '--config', s.configFile], { env }).then((x) => x.code)),
      );
      expect(codes).toEqual([10, 10, 10]);
      expect(hook.received).toHaveLength(1);

      // the running scheduler's hourly checks, two hours: nothing more (each writes the metrics file after it alerts)
      for (let hour = 0; hour < 2; hour++) {
        rmSync(metrics.textfile, { force: true });
        await clock.advance(3_600_000);
        await waitFor(() => existsSync(metrics.textfile), 'the hourly health check', 10_000);
      }
      scheduler.stop();
      await scheduler.done;
      expect(hook.received).toHaveLength(1);
      expect(hook.received[0]).toContain(`backup folder: ${backupDir} cannot be written`);
    } finally {
      if (xdg === undefined) delete process.env.XDG_STATE_HOME;
      else process.env.XDG_STATE_HOME = xdg;
      hook.close();
    }
  });
});
