import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collect, describeResult, REPO_ROOT, runCli, runShell, shq, startCli, waitFor } from './helpers/cli.js';
import { demoSetup, makeTmpDir } from './helpers/tmp.js';

const INSTALL = join(REPO_ROOT, 'scripts', 'install-service.sh');
const CHECK = join(REPO_ROOT, 'scripts', 'check-service.sh');
const RESPALDO = `${process.execPath} ${join(REPO_ROOT, 'bin', 'respaldo.js')}`;
const me = userInfo().username;

const sh = (script: string, args: string[]) => runShell(['bash', shq(script), ...args.map(shq)].join(' '));

describe('install-service.sh', () => {
  it('--print shows a unit that runs the scheduler with the config as the user, restarting on failure', async () => {
    const setup = demoSetup({ schedule: { jobs: [{ name: 'daily', when: 'daily at 02:00' }] } });
    const r = await sh(INSTALL, ['--config', setup.configFile, '--user', me, '--respaldo', RESPALDO, '--print']);
    expect(r.code, describeResult(r)).toBe(0);
    const unit = r.stdout;
    expect(unit).toMatch(/^\[Unit\]\n/);
    expect(unit).toContain(`Description=respaldo scheduled backups (${setup.configFile})`);
    expect(unit).toContain(`\nUser=${me}\n`);
    expect(unit).toContain(
      `\nExecStart=${process.execPath} ${join(REPO_ROOT, 'bin', 'respaldo.js')} scheduler --config ${setup.configFile}\n`,
    );
    expect(unit).toContain(`\nWorkingDirectory=${setup.dir}\n`);
    expect(unit).toContain('\nRestart=on-failure\n');
    expect(unit).toContain('\nKillMode=mixed\n');
    expect(unit).toContain('\nKillSignal=SIGTERM\n');
    expect(unit).toContain('\nUMask=0077\n');
    expect(unit).toMatch(/\[Install\]\nWantedBy=multi-user.target\n$/);
    // No secrets or environment are copied into the unit.
    expect(unit).not.toMatch(/Environment=/);
  });

  it('quotes a config path with spaces and writes the unit atomically with --unit-dir (no systemctl with --no-enable)', async () => {
    const dir = makeTmpDir('respaldo svc ');
    const setup = demoSetup({ schedule: { jobs: [{ name: 'daily', when: 'daily at 02:00' }] } });
    const spaced = join(dir, 'my config.json');
    writeFileSync(
      spaced,
      readFileSync(setup.configFile, 'utf8')
        .replace('"./backups"', JSON.stringify(setup.backupDir))
        .replace(/"\.\/data\//g, `"${setup.dataDir}/`),
    );
    const unitDir = join(dir, 'units');
    const r = await sh(INSTALL, [
      '--config',
      spaced,
      '--user',
      me,
      '--respaldo',
      RESPALDO,
      '--unit-dir',
      unitDir,
      '--name',
      'respaldo-test',
      '--no-enable',
    ]);
    expect(r.code, describeResult(r)).toBe(0);
    const file = join(unitDir, 'respaldo-test.service');
    expect(statSync(file).mode & 0o777).toBe(0o644);
    const unit = readFileSync(file, 'utf8');
    expect(unit).toContain(`scheduler --config "${spaced}"`);
    // A path setting is never unquoted by systemd: WorkingDirectory="…" was "not absolute", and the unit refused.
    expect(unit).toContain(`\nWorkingDirectory=${dir}\n`);
    const analyze = await runShell('command -v systemd-analyze');
    if (analyze.code === 0) {
      const verified = await runShell(`systemd-analyze verify ${shq(file)}`);
      expect(verified.stderr).not.toContain('WorkingDirectory');
      expect(verified.stderr).not.toContain('bad unit file setting');
    }
    expect(r.stdout).toContain('systemctl daemon-reload && systemctl enable --now respaldo-test.service');
  });

  it('--cron prints a crontab line that keeps one scheduler running', async () => {
    const setup = demoSetup({ schedule: { jobs: [{ name: 'daily', when: 'daily at 02:00' }] } });
    const r = await sh(INSTALL, ['--config', setup.configFile, '--user', me, '--respaldo', RESPALDO, '--cron']);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout.trim()).toMatch(
      /^\* \* \* \* \* flock -n '.*\/\.backup_config\.json\.cron\.lock' .*bin\/respaldo\.js scheduler --if-not-running --config '.*backup_config\.json' >> '.*respaldo-scheduler\.out' 2>&1$/,
    );
    expect(r.stdout).toContain(`flock -n '${join(setup.dir, '.backup_config.json.cron.lock')}'`);
    expect(r.stderr).toContain(`crontab -u ${me} -e`);
  });

  it("respaldo found on PATH (npm's `#!/usr/bin/env node` script) runs under cron with the node found at install", async () => {
    // Node unpacked with its bin/ first on PATH (README, Requirements) and respaldo installed there by npm.
    const dir = makeTmpDir('respaldo-npm-bin-');
    symlinkSync(join(REPO_ROOT, 'bin', 'respaldo.js'), join(dir, 'respaldo'));
    const setup = demoSetup();
    const path = `${dir}:${dirname(process.execPath)}:/usr/bin:/bin`;
    const r = await runShell(
      `PATH=${shq(path)} bash ${shq(INSTALL)} --config ${shq(setup.configFile)} --user ${shq(me)} --cron --no-check`,
    );
    expect(r.code, describeResult(r)).toBe(0);
    // The line ran `…/respaldo`, whose `env node` under cron's PATH found no node, or another (its native modules
    // built for another ABI); it now names the node respaldo was installed with.
    const line = r.stdout.trim().replace(/^(\* ){5}/, '');
    expect(line).toContain(`${process.execPath} ${realpathSync(join(REPO_ROOT, 'bin', 'respaldo.js'))} scheduler`);
    const ran = await runShell(`env -i PATH=/usr/bin:/bin HOME=${shq(setup.dir)} /bin/sh -c ${shq(line)}`);
    // respaldo's own answer (exit 3: this config has no jobs), not `env: 'node': No such file or directory`
    expect(ran.code, describeResult(ran)).toBe(3);
    const out = readFileSync(/>> '([^']+)'/.exec(line)![1]!, 'utf8');
    expect(out).toContain('schedule.jobs: no jobs to run');
  });

  it("two applications' crontab lines each start their scheduler: the lock is the config's own", async () => {
    // A stand-in for respaldo that says it started (the lines run it as `CMD scheduler --if-not-running --config F`).
    const dir = makeTmpDir('respaldo-cron-');
    const fake = join(dir, 'fake-respaldo.sh');
    writeFileSync(fake, '#!/bin/sh\necho "started $*"\n', { mode: 0o755 });
    const lines: string[] = [];
    const configs: string[] = [];
    for (const app of ['app1', 'app2']) {
      const setup = demoSetup({ schedule: { jobs: [{ name: 'daily', when: 'daily at 02:00' }] } });
      const r = await sh(INSTALL, [
        '--config',
        setup.configFile,
        '--user',
        me,
        '--respaldo',
        fake,
        '--cron',
        '--no-check',
      ]);
      expect(r.code, `${app}: ${describeResult(r)}`).toBe(0);
      lines.push(r.stdout.trim().replace(/^(\* ){5}/, ''));
      configs.push(setup.configFile);
    }
    // app1's scheduler runs (its lock held); app2's line, run by cron the next minute, must still start app2's.
    const lock1 = /flock -n '([^']+)'/.exec(lines[0]!)![1]!;
    // app1's scheduler, as far as the lock goes: flock holding it while `cat` waits on a stdin we end at the close.
    const holder = spawn('flock', [lock1, 'cat'], { stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      await waitFor(() => runShell(`flock -n ${shq(lock1)} true`).then((t) => t.code !== 0), 'app1 lock held');
      const second = await runShell(lines[1]!);
      expect(second.code, describeResult(second)).toBe(0);
      const out = readFileSync(/>> '([^']+)'/.exec(lines[1]!)![1]!, 'utf8');
      expect(out).toBe(`started scheduler --if-not-running --config ${configs[1]}\n`);
    } finally {
      holder.stdin.end();
    }
  });

  it("refuses to replace another config's unit of the same name, and reinstalls its own", async () => {
    const unitDir = join(makeTmpDir('respaldo-units-'), 'units');
    const [a, b] = [0, 1].map(() => demoSetup({ schedule: { jobs: [{ name: 'daily', when: 'daily at 02:00' }] } }));
    const install = (configFile: string) =>
      sh(INSTALL, ['--config', configFile, '--user', me, '--respaldo', RESPALDO, '--unit-dir', unitDir, '--no-enable']);
    expect((await install(a!.configFile)).code).toBe(0);
    const file = join(unitDir, 'respaldo-scheduler.service');
    const first = readFileSync(file, 'utf8');
    const r = await install(b!.configFile);
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toContain(`runs the scheduler of another config (${a!.configFile}): it was left as it is`);
    expect(r.stderr).toContain('--name');
    expect(readFileSync(file, 'utf8')).toBe(first);
    const again = await install(a!.configFile);
    expect(again.code, describeResult(again)).toBe(0);
  });

  it.runIf(!existsSync('/run/systemd/system'))(
    'without systemd (as on this machine) it prints the crontab line instead of installing',
    async () => {
      const setup = demoSetup({ schedule: { jobs: [{ name: 'daily', when: 'daily at 02:00' }] } });
      const r = await sh(INSTALL, ['--config', setup.configFile, '--user', me, '--respaldo', RESPALDO]);
      expect(r.code, describeResult(r)).toBe(0);
      expect(r.stderr).toContain('systemd is not running here; use cron instead.');
      expect(r.stdout).toMatch(/^\* \* \* \* \* flock -n .* scheduler --if-not-running --config /);
    },
  );

  it.each([
    [['--user', me], 2, /--config FILE is required/],
    [['--config', '/nonexistent/x.json', '--user', me], 2, /config file not found/],
    [['--config', 'CONFIG', '--user', 'no_such_user_xyz'], 2, /no such user: no_such_user_xyz/],
    [['--config', 'CONFIG', '--user', me, '--bogus'], 2, /unknown argument: --bogus/],
  ])('usage errors: %j → exit %i', async (args, code, msg) => {
    const setup = demoSetup();
    const r = await sh(INSTALL, [
      ...args.map((a) => (a === 'CONFIG' ? setup.configFile : a)),
      '--respaldo',
      RESPALDO,
      '--print',
    ]);
    expect(r.code, describeResult(r)).toBe(code);
    expect(r.stderr).toMatch(msg);
    expect(r.stdout).toBe('');
  });

  it.runIf(process.getuid?.() === 0)(
    'as root, checks the config as the service user (exit 3 when that user cannot read it)',
    async () => {
      const setup = demoSetup({ schedule: { jobs: [{ name: 'daily', when: 'daily at 02:00' }] } });
      // The temp folder is 0700 root: `nobody` cannot read the config.
      const r = await sh(INSTALL, [
        '--config',
        setup.configFile,
        '--user',
        'nobody',
        '--respaldo',
        RESPALDO,
        '--print',
      ]);
      expect(r.code, describeResult(r)).toBe(3);
      expect(r.stderr).toMatch(/does not load .* as nobody/);
    },
  );

  it('refuses (exit 3) when the config does not load, and writes nothing', async () => {
    const setup = demoSetup({ schedule: { jobs: [{ name: 'daily', when: 'daily at 27:00' }] } });
    const unitDir = join(makeTmpDir(), 'units');
    const r = await sh(INSTALL, [
      '--config',
      setup.configFile,
      '--user',
      me,
      '--respaldo',
      RESPALDO,
      '--unit-dir',
      unitDir,
      '--no-enable',
    ]);
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stderr).toMatch(/schedule\.jobs\[0\]\.when/);
    expect(existsSync(unitDir)).toBe(false);
  });
});

describe('check-service.sh', () => {
  async function withOneSet(jobs: unknown[] = [{ name: 'daily', when: 'daily at 02:00', files: false }]) {
    const setup = demoSetup({ schedule: { jobs } });
    const c = await runCli(['create', '--no-files', '--config', setup.configFile]);
    expect(c.code, describeResult(c)).toBe(0);
    return setup;
  }

  it('exits 1 and names the database when its newest set is older than --max-age', async () => {
    const setup = await withOneSet();
    // Age the real set by a minute (its manifest's times) instead of waiting for it to grow older than 1 s.
    const dir = (await import('node:fs')).readdirSync(setup.backupDir).find((n) => /^\d{8}_\d{6}/.test(n))!;
    const manifestPath = join(setup.backupDir, dir, 'manifest.json');
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, string>;
    const old = new Date(Date.now() - 60_000).toISOString();
    writeFileSync(manifestPath, JSON.stringify({ ...m, startedAt: old, completedAt: old }, null, 2));
    const r = await sh(CHECK, ['--config', setup.configFile, '--respaldo', RESPALDO, '--max-age', '1s']);
    expect(r.code, describeResult(r)).toBe(1);
    expect(r.stdout).toMatch(/OVERDUE users\s+\d{8}_\d{6}/);
    expect(r.stdout).toMatch(/PROBLEM: 3 database\(s\) overdue, and the scheduler is not running/);
    expect(r.stdout).toMatch(/Last 10 log lines .*backup_\d{4}-\d{2}-\d{2}\.log/);
    expect(r.stdout).toMatch(/create-end .*outcome=completed/);
  });

  it('derives the allowed age from the schedule: a 3-day-old set is overdue for a daily job', async () => {
    const setup = await withOneSet();
    // Age the real set: its manifest says it was taken three days ago.
    const manifestPath = (await import('node:fs'))
      .readdirSync(setup.backupDir)
      .filter((n) => /^\d{8}_\d{6}/.test(n))
      .map((n) => join(setup.backupDir, n, 'manifest.json'))[0]!;
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, string>;
    const old = new Date(Date.now() - 3 * 86_400_000).toISOString();
    writeFileSync(manifestPath, JSON.stringify({ ...m, startedAt: old, completedAt: old }, null, 2));
    const r = await sh(CHECK, ['--config', setup.configFile, '--respaldo', RESPALDO, '--no-service']);
    expect(r.code, describeResult(r)).toBe(1);
    expect(r.stdout).toMatch(/OVERDUE inventario .* age 3\.0 days\s+\(allowed 30\.0 h, job daily\)/);
  });

  it('exits 3 when backups are fresh but the scheduler is not running, 0 with --no-service', async () => {
    const setup = await withOneSet();
    const r = await sh(CHECK, ['--config', setup.configFile, '--respaldo', RESPALDO, '--max-age', '1h']);
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stdout).toMatch(/Scheduler: NOT RUNNING/);
    expect(r.stdout).toMatch(/PROBLEM: backups are recent, but the scheduler is not running/);
    const ok = await sh(CHECK, [
      '--config',
      setup.configFile,
      '--respaldo',
      RESPALDO,
      '--max-age',
      '1h',
      '--no-service',
    ]);
    expect(ok.code, describeResult(ok)).toBe(0);
    expect(ok.stdout).toMatch(/\n {2}ok\s+users\s+\d{8}_\d{6}/);
  });

  it('exits 3 when the pid of the scheduler lock is a process of a new boot (a power cut), not the scheduler', async () => {
    const setup = await withOneSet();
    mkdirSync(join(setup.backupDir, '.scheduler'), { recursive: true, mode: 0o700 });
    // this test process stands for whatever got the pid after the reboot: alive, and no scheduler
    const scheduler = { pid: process.pid, host: hostname(), startedAt: new Date(Date.now() - 86400_000).toISOString() };
    writeFileSync(
      join(setup.backupDir, '.scheduler-state.json'),
      JSON.stringify({
        version: 1,
        updatedAt: scheduler.startedAt,
        scheduler: { ...scheduler, running: true },
        jobs: {},
      }),
    );
    const boot = '00000000-0000-4000-8000-000000000000';
    writeFileSync(
      join(setup.backupDir, '.scheduler', '.respaldo.lock'),
      JSON.stringify({ ...scheduler, purpose: 'scheduler', boot }),
    );
    const r = await sh(CHECK, ['--config', setup.configFile, '--respaldo', RESPALDO, '--max-age', '1h']);
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stdout).toMatch(/Scheduler: NOT RUNNING/);
  });

  it('exits 0 while a real scheduler runs and backups are fresh', async () => {
    const setup = await withOneSet([{ name: 'yearly', when: '0 0 1 1 *', files: false }]);
    const child = startCli(['scheduler', '--no-catch-up', '--config', setup.configFile]);
    const done = collect(child, 60_000);
    try {
      await waitFor(() => existsSync(join(setup.backupDir, '.scheduler', '.respaldo.lock')), 'the scheduler lock');
      const r = await sh(CHECK, ['--config', setup.configFile, '--respaldo', RESPALDO, '--max-age', '1h']);
      expect(r.code, describeResult(r)).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Scheduler: RUNNING \\(pid ${child.pid} since`));
      expect(r.stdout).toMatch(/job yearly \(0 0 1 1 \*\): next \d{4}-01-01T/);
      expect(r.stdout).toMatch(/OK: every database has a recent backup/);
    } finally {
      child.kill('SIGTERM');
      const end = await done;
      expect(end.code, describeResult(end)).toBe(0);
    }
  });

  it('the crontab line without flock: `scheduler --if-not-running` says nothing and exits 0 while one runs', async () => {
    const setup = await withOneSet([{ name: 'yearly', when: '0 0 1 1 *', files: false }]);
    const child = startCli(['scheduler', '--no-catch-up', '--config', setup.configFile]);
    const done = collect(child, 60_000);
    try {
      await waitFor(() => existsSync(join(setup.backupDir, '.scheduler', '.respaldo.lock')), 'the scheduler lock');
      // Every minute: a line a minute in its output file (about 100 MB a year) when it said the lock was held.
      const quiet = await runCli(['scheduler', '--if-not-running', '--config', setup.configFile]);
      expect(quiet.code, describeResult(quiet)).toBe(0);
      expect(quiet.stdout + quiet.stderr).toBe('');
      const plain = await runCli(['scheduler', '--config', setup.configFile]);
      expect(plain.code, describeResult(plain)).toBe(6);
      expect(plain.stderr).toContain('Another respaldo process is working on this backup folder');
    } finally {
      child.kill('SIGTERM');
      const end = await done;
      expect(end.code, describeResult(end)).toBe(0);
    }
  });

  it('exits 4 when the status cannot be read, 2 on bad usage', async () => {
    const dir = makeTmpDir();
    writeFileSync(join(dir, 'backup_config.json'), '{ not json');
    const r = await sh(CHECK, ['--config', join(dir, 'backup_config.json'), '--respaldo', RESPALDO]);
    expect(r.code, describeResult(r)).toBe(4);
    expect(r.stderr).toMatch(/malformed JSON/);
    const u = await sh(CHECK, ['--config', join(dir, 'backup_config.json'), '--max-age', 'soon']);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/--max-age must look like/);
  });
});
