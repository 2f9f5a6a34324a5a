import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assessHealth, getHealth, type BackupRecord, type HealthInput, type RunRecord } from '../src/engine/health.js';
import { loadConfig } from '../src/config/load.js';
import { PHRASES_ES } from '../src/ui/i18n/phrases-es.js';
import { renderMetrics } from '../src/engine/metrics.js';
import { describeResult, parseJsonOutput, runCli, waitFor } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';
import { FakeClock } from './helpers/fake-clock.js';
import { createEngineScheduler } from '../src/scheduler/run-job.js';
import { startWebhookServer } from './helpers/webhook.js';

const daily = { name: 'daily', when: '0 2 * * *', timezone: 'UTC', type: 'full' as const, databases: ['*'] };
const backup = (completedAt: string, durationMs = 60_000, storedBytes = 1_000_000, setId = 'x'): BackupRecord => ({
  setId,
  completedAt,
  durationMs,
  storedBytes,
});
const ten = (durationMs: number, storedBytes = 1_000_000) =>
  Array.from({ length: 10 }, (_, i) =>
    backup(`2026-11-${String(19 - i).padStart(2, '0')}T02:10:00Z`, durationMs, storedBytes),
  );

function input(opts: Partial<HealthInput> & { last?: BackupRecord[]; attempts?: RunRecord[] }): HealthInput {
  const { last, attempts, ...over } = opts;
  return {
    now: new Date('2026-11-22T10:00:00Z'),
    databases: ['users'],
    allDatabases: ['users'],
    jobs: [daily],
    backups: { users: last ?? [backup('2026-11-22T02:05:00Z'), ...ten(60_000)] },
    runs: { users: attempts ?? [] },
    freeBytes: 100e9,
    minFreeBytes: 20e9,
    graceMinutes: 60,
    ...over,
  };
}

describe('assessHealth (pure)', () => {
  it('a schema job is answered by a schema set (it was overdue forever); a data job never is', () => {
    const schemaJob = { ...daily, name: 'schema', type: 'schema' as const };
    const schemaSet = { ...backup('2026-11-22T02:05:00Z'), type: 'schema' };
    const bySchema = assessHealth(input({ jobs: [schemaJob], last: [schemaSet] }));
    expect(bySchema.problems).toEqual([]);
    const byData = assessHealth(input({ jobs: [daily], last: [schemaSet] }));
    expect(byData.problems).toEqual([expect.stringMatching(/^users: overdue: .*\(never backed up\)/)]);
  });

  it.each<[string, Partial<HealthInput> & { last?: BackupRecord[]; attempts?: RunRecord[] }, RegExp[]]>([
    ['backed up after the last scheduled time: healthy', {}, []],
    [
      'no schedule: nothing is promised, so a week-old backup is not overdue',
      { jobs: [], last: [backup('2026-11-15T02:05:00Z')] },
      [],
    ],
    [
      'the run due today at 02:00 did not happen',
      { last: [backup('2026-11-21T02:05:00Z'), ...ten(60_000)] },
      [/users: overdue: no successful backup since the run due 2026-11-22 \d\d:00/],
    ],
    [
      'still inside the grace after 02:00: not yet overdue',
      { now: new Date('2026-11-22T02:30:00Z'), last: [backup('2026-11-21T02:05:00Z')] },
      [],
    ],
    ['never backed up, with a schedule', { last: [] }, [/users: overdue: .*never backed up/]],
    ['never backed up, no schedule', { jobs: [], last: [] }, [/users: never backed up/]],
    [
      'a verify job promises no backup',
      { jobs: [{ ...daily, type: 'verify' }], last: [backup('2026-11-01T02:05:00Z')] },
      [],
    ],
    [
      'a job for another database promises nothing for this one',
      { jobs: [{ ...daily, databases: ['ventas'] }], last: [backup('2026-11-01T02:05:00Z')] },
      [],
    ],
    [
      '51 % slower than the median of the previous ten',
      { last: [backup('2026-11-22T02:05:00Z', 906_000), ...ten(600_000)] },
      [/over 50 % longer than usual/],
    ],
    ['40 % slower: fine', { last: [backup('2026-11-22T02:05:00Z', 840_000), ...ten(600_000)] }, []],
    [
      'three times slower but only 205 ms longer: fine (under the floor of a minute)',
      { last: [backup('2026-11-22T02:05:00Z', 305), ...ten(100)] },
      [],
    ],
    [
      '51 % slower and 30 s longer: fine (under the floor of a minute)',
      { last: [backup('2026-11-22T02:05:00Z', 90_600), ...ten(60_000)] },
      [],
    ],
    [
      'slower but only two earlier backups: no median yet',
      { last: [backup('2026-11-22T02:05:00Z', 600_000), ...ten(60_000).slice(0, 2)] },
      [],
    ],
    [
      'shrank by 40 %',
      { last: [backup('2026-11-22T02:05:00Z', 60_000, 600_000), ...ten(60_000)] },
      [/more than 30 % smaller/],
    ],
    [
      'grew to 2.5×',
      { last: [backup('2026-11-22T02:05:00Z', 60_000, 50_000_000), ...ten(60_000, 20_000_000)] },
      [/more than twice the previous/],
    ],
    [
      'grew from 128 B to 300 B: fine (under the floor of 16 MiB)',
      { last: [backup('2026-11-22T02:05:00Z', 60_000, 300), ...ten(60_000, 128)] },
      [],
    ],
    [
      'grew to 2.5× of 1 MB: fine (1.5 MB more, under the floor)',
      { last: [backup('2026-11-22T02:05:00Z', 60_000, 2_500_000), ...ten(60_000)] },
      [],
    ],
    ['shrank by 20 %: fine', { last: [backup('2026-11-22T02:05:00Z', 60_000, 800_000), ...ten(60_000)] }, []],
    [
      'one failure in the last 30 days',
      {
        attempts: [
          { at: '2026-11-20T02:00:00Z', ok: false },
          { at: '2026-11-21T02:00:00Z', ok: true },
        ],
      },
      [/1 of 2 backups in the last 30 days failed/],
    ],
    [
      'the last run failed: its reason is said',
      {
        attempts: [
          {
            at: '2026-11-22T02:00:00Z',
            ok: false,
            error: 'SQLite database users: the snapshot failed integrity_check: database disk image is malformed',
          },
          { at: '2026-11-21T02:00:00Z', ok: true },
        ],
      },
      [
        /^users: 1 of 2 backups in the last 30 days failed, the last one \(2026-11-2\d \d\d:\d\d\) too: SQLite database users: the snapshot failed integrity_check: database disk image is malformed$/,
      ],
    ],
    [
      'a failure 40 days ago no longer counts',
      {
        attempts: [
          { at: '2026-10-13T02:00:00Z', ok: false },
          { at: '2026-11-21T02:00:00Z', ok: true },
        ],
      },
      [],
    ],
    [
      "low disk: the configured figure as written (the README's 20000000000), beside the size shown (1024 to a KB)",
      { freeBytes: 5e9 },
      [/^backup folder: 4\.7 GB free, below the 20000000000 bytes \(19 GB\) asked by health\.minFreeBytes$/],
    ],
    [
      'the newest set is not copied off-site',
      { notCopied: { setId: '20261122_020500', destinations: ['nas', 's3'] } },
      [/off-site: the newest set 20261122_020500 is not copied to nas/, /not copied to s3/],
    ],
    [
      'chains: a small incremental after fulls is not "shrank"',
      { last: [{ ...backup('2026-11-22T02:05:00Z', 5_000, 30_000), type: 'incremental' }, ...ten(60_000)] },
      [],
    ],
    [
      'chains: a daily incremental job is satisfied by the incremental it made',
      {
        jobs: [{ ...daily, type: 'incremental' }],
        last: [
          { ...backup('2026-11-22T02:05:00Z', 5_000, 30_000), type: 'incremental' },
          backup('2026-11-01T02:05:00Z'),
        ],
      },
      [],
    ],
    [
      'chains: an incremental is not compared by size with the one before (it is as large as the changes)',
      {
        last: [
          { ...backup('2026-11-22T02:05:00Z', 5_000, 90_000), type: 'incremental' },
          ...ten(60_000),
          { ...backup('2026-11-08T02:05:00Z', 5_000, 30_000), type: 'incremental' },
        ],
      },
      [],
    ],
    [
      'chains: nor a differential, which grows through its cycle',
      {
        last: [
          { ...backup('2026-11-22T02:05:00Z', 5_000, 10_000), type: 'differential' },
          { ...backup('2026-11-21T02:05:00Z', 5_000, 90_000), type: 'differential' },
          ...ten(60_000),
        ],
      },
      [],
    ],
    [
      'chains: a full compares with the full before it, past the deltas between',
      {
        last: [
          backup('2026-11-22T02:05:00Z', 60_000, 400_000),
          { ...backup('2026-11-21T02:05:00Z', 5_000, 10_000), type: 'incremental' },
          ...ten(60_000),
        ],
      },
      [/more than 30 % smaller than the previous \(977 KB\)/],
    ],
  ])('%s', (_name, over, expected) => {
    const h = assessHealth(input(over));
    expect(h.problems).toHaveLength(expected.length);
    expected.forEach((re, i) => expect(h.problems[i]).toMatch(re));
    expect(h.healthy).toBe(expected.length === 0);
  });

  it('figures: age, promised period, median, success rate', () => {
    const h = assessHealth(
      input({
        attempts: [
          { at: '2026-11-21T02:00:00Z', ok: true },
          { at: '2026-11-20T02:00:00Z', ok: false },
          { at: '2026-11-19T02:00:00Z', ok: true },
          { at: '2026-11-18T02:00:00Z', ok: true },
        ],
      }),
    );
    expect(h.databases[0]).toMatchObject({
      ageSeconds: 7 * 3600 + 55 * 60,
      promisedEverySeconds: 86_400,
      medianDurationMs: 60_000,
      successes30d: 3,
      attempts30d: 4,
      successRate30d: 0.75,
      overdue: false,
    });
  });
});

const promtool = spawnSync('promtool', ['--version']).status === 0;

describe('status --check and the metrics file, from real runs', () => {
  it('healthy after a backup; a failing database makes --check exit 10 naming it; metrics pass promtool', async () => {
    const s = demoSetup((base) => ({
      ...base,
      schedule: { jobs: [{ name: 'nightly', when: 'daily at 02:00', databases: ['*'] }] },
      health: { minFreeBytes: 1 },
      metrics: { textfile: './metrics/respaldo.prom' },
    }));
    execFileSync('mkdir', ['-p', join(s.dir, 'metrics')]);
    const first = await runCli(['create', '--config', s.configFile, '--no-files']);
    expect(first.code, describeResult(first)).toBe(0);
    const ok = await runCli(['status', '--check', '--config', s.configFile]);
    expect(ok.code, describeResult(ok)).toBe(0);
    expect(ok.stdout).toMatch(/^healthy: 3 database\(s\) backed up as the schedule promises/);
    const prom = join(s.dir, 'metrics', 'respaldo.prom');
    const text = readFileSync(prom, 'utf8');
    expect(statSync(prom).mode & 0o777).toBe(0o644);
    expect(text).toMatch(/^respaldo_last_success_timestamp_seconds\{database="users"\} \d{10}$/m);
    expect(text).toMatch(/^respaldo_healthy 1$/m);
    if (promtool || process.env['CI']) {
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
    }

    execFileSync('rm', [s.dbs.auditoria]);
    const partial = await runCli(['create', '--config', s.configFile, '--no-files']);
    expect(partial.code).toBe(4);
    const bad = await runCli(['status', '--check', '--config', s.configFile]);
    expect(bad.code, describeResult(bad)).toBe(10);
    // the last run failed: the problem says so, with why (the database's error of that run)
    expect(bad.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^auditoria: 1 of 2 backups in the last 30 days failed, the last one \(\d{4}-\d\d-\d\d \d\d:\d\d\) too: SQLite database auditoria: file not found: .*auditoria\.db$/,
      ),
    ]);
    expect(readFileSync(prom, 'utf8')).toMatch(/^respaldo_backup_success_ratio\{database="auditoria"\} 0.5$/m);
    const json = parseJsonOutput<{
      health: { healthy: boolean; databases: { database: string; attempts30d: number }[] };
    }>((await runCli(['status', '--json', '--config', s.configFile])).stdout);
    expect(json.health.healthy).toBe(false);
    expect(json.health.databases.find((d) => d.database === 'users')?.attempts30d).toBe(2);
  });

  it('a set whose manifest is damaged makes --check exit 10 naming it (it fell back to the older set silently)', async () => {
    const s = demoSetup((base) => ({ ...base, health: { minFreeBytes: 1 } }));
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['create', '--config', s.configFile, '--no-files', '--json']);
      expect(r.code, describeResult(r)).toBe(0);
    }
    const ok = await runCli(['status', '--check', '--config', s.configFile]);
    expect(ok.code, describeResult(ok)).toBe(0);
    const newest = readdirSync(s.backupDir)
      .filter((n) => /^\d{8}_\d{6}$/.test(n))
      .sort()
      .at(-1)!;
    const manifest = join(s.backupDir, newest, 'manifest.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').slice(0, 120));
    const bad = await runCli(['status', '--check', '--config', s.configFile]);
    expect(bad.code, describeResult(bad)).toBe(10);
    expect(bad.stdout).toMatch(new RegExp(`^backup set ${newest}: .*unreadable manifest.*verify --all`, 'm'));
  });

  it('renderMetrics escapes label values and skips what is unknown', () => {
    const h = assessHealth(
      input({ databases: ['we"ird\\name'], allDatabases: ['we"ird\\name'], backups: {}, runs: {} }),
    );
    const text = renderMetrics(h, []);
    expect(text).toContain('respaldo_backup_overdue{database="we\\"ird\\\\name"} 1');
    expect(text).not.toContain('respaldo_backup_duration_seconds{');
  });

  it("verifications per database: a good verify of an old set does not hide the newest set's failure, nor say whose", () => {
    const dbs = ['users', 'inventario'];
    const h = assessHealth(input({ databases: dbs, allDatabases: dbs, backups: {}, runs: {} }));
    const set = (databases: string[], at: string, ok: boolean) => ({
      type: 'full' as const,
      status: 'completed' as const,
      databases,
      lastVerified: { at, ok },
    });
    const text = renderMetrics(h, [
      set(['users'], '2026-11-21T10:00:00Z', false),
      set(['users', 'inventario'], '2026-11-20T10:00:00Z', true),
      set(['users'], '2026-11-22T10:00:00Z', true),
      {
        type: 'pre_restore',
        status: 'completed',
        databases: ['inventario'],
        lastVerified: { at: '2026-11-23T10:00:00Z', ok: false },
      },
    ]);
    const t = (iso: string) => Date.parse(iso) / 1000;
    expect(text).toContain(`respaldo_last_verify_timestamp_seconds{database="users"} ${t('2026-11-22T10:00:00Z')}`);
    expect(text).toContain('respaldo_last_verify_success{database="users"} 1');
    expect(text).toContain(
      `respaldo_last_verify_timestamp_seconds{database="inventario"} ${t('2026-11-20T10:00:00Z')}`,
    );
    expect(text).toContain('respaldo_last_verify_success{database="inventario"} 1');
    const failing = renderMetrics(h, [
      set(['users'], '2026-11-23T10:00:00Z', false),
      set(['inventario'], '2026-11-24T10:00:00Z', true),
    ]);
    expect(failing).toContain('respaldo_last_verify_success{database="users"} 0');
    expect(failing).toContain('respaldo_last_verify_success{database="inventario"} 1');
  });
});

describe('healthy without a schedule', () => {
  it('does not speak of what the schedule promises when there is none', async () => {
    const s = demoSetup((base) => ({ ...base, schedule: { jobs: [] }, health: { minFreeBytes: 1 } }));
    expect((await runCli(['create', '--no-files', '--config', s.configFile])).code).toBe(0);
    const ok = await runCli(['status', '--check', '--config', s.configFile]);
    expect(ok.code, describeResult(ok)).toBe(0);
    expect(ok.stdout).toBe('healthy: 3 database(s) backed up (no schedule: no backup is due at a time)\n');
  });
});

describe('files the newest backup could not store', () => {
  it('are a health problem (the runs counted per database looked successful), cleared by a set that stores them', async () => {
    const s = demoSetup((base) => ({
      ...base,
      files: { config: ['./app.env'] },
      health: { minFreeBytes: 1 },
    }));
    const partial = await runCli(['create', '--json', '--config', s.configFile]);
    expect(partial.code, describeResult(partial)).toBe(4);
    const id = parseJsonOutput<{ id: string }>(partial.stdout).id;
    const check = await runCli(['status', '--check', '--config', s.configFile]);
    expect(check.code, describeResult(check)).toBe(10);
    expect(check.stdout).toContain(`files: the newest backup (set ${id}) did not store 1 file(s)`);
    writeFileSync(join(s.dir, 'app.env'), 'A=1\n');
    expect((await runCli(['create', '--config', s.configFile])).code).toBe(0);
    expect((await runCli(['status', '--check', '--config', s.configFile])).code).toBe(0);
  });
});

describe('the metrics file follows every health check', () => {
  it('status --check writes it (an overdue database never showed: it was written only after backups)', async () => {
    const s = demoSetup((base) => ({
      ...base,
      schedule: { jobs: [{ name: 'nightly', when: 'daily at 02:00', databases: ['users'] }] },
      health: { minFreeBytes: 1, graceMinutes: 0 },
      metrics: { textfile: './metrics/respaldo.prom' },
    }));
    mkdirSync(join(s.dir, 'metrics'));
    const check = await runCli(['status', '--check', '--config', s.configFile]);
    expect(check.code, describeResult(check)).toBe(10);
    const text = readFileSync(join(s.dir, 'metrics', 'respaldo.prom'), 'utf8');
    expect(text).toContain('respaldo_backup_overdue{database="users"} 1');
    expect(text).toContain('respaldo_healthy 0');
  });

  it('the running scheduler writes it every hour without any alert channel (it kept saying healthy)', async () => {
    const s = demoSetup((base) => ({
      ...base,
      schedule: { jobs: [{ name: 'nightly', when: 'daily at 02:00', databases: ['users'] }] },
      health: { minFreeBytes: 1, graceMinutes: 0 },
      metrics: { textfile: './metrics/respaldo.prom' },
    }));
    mkdirSync(join(s.dir, 'metrics'));
    const cfg = await loadConfig({ configPath: s.configFile });
    expect(cfg.notifications).toEqual([]);
    const clock = new FakeClock(new Date());
    const scheduler = createEngineScheduler(cfg, { clock, catchUp: false });
    await scheduler.start();
    const prom = join(s.dir, 'metrics', 'respaldo.prom');
    await clock.advance(3_600_000);
    await waitFor(() => existsSync(prom), 'the hourly health check to write the metrics file', 10_000);
    const text = readFileSync(prom, 'utf8');
    expect(text).toContain('respaldo_backup_overdue{database="users"} 1');
    expect(text).toContain('respaldo_healthy 0');
    scheduler.stop();
    expect(await scheduler.done).toBe(0);
  });
});

describe('a metrics file that cannot be written', () => {
  it('is a health problem naming the path and why (it was only logged), gone once its folder exists', async () => {
    const s = demoSetup((base) => ({
      ...base,
      health: { minFreeBytes: 1 },
      metrics: { textfile: './no-such-folder/respaldo.prom' },
    }));
    await runCli(['create', '--config', s.configFile]);
    const bad = await runCli(['status', '--check', '--config', s.configFile]);
    expect(bad.code, describeResult(bad)).toBe(10);
    const file = join(s.dir, 'no-such-folder', 'respaldo.prom');
    expect(bad.stdout.trim().split('\n')).toEqual([
      `metrics: metrics.textfile ${file} cannot be written (no folder ${join(s.dir, 'no-such-folder')}): Prometheus gets no figures from respaldo, or old ones (create the folder, or fix the path in the config)`,
    ]);
    mkdirSync(join(s.dir, 'no-such-folder'));
    const good = await runCli(['status', '--check', '--config', s.configFile]);
    expect(good.code, describeResult(good)).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('respaldo_healthy 1');
  });
});

describe('the newest backup cannot be restored (its chain broken)', () => {
  it('a full deleted by hand under an incremental, or a chain member that failed verification: exit 10, said', async () => {
    const s = demoSetup({
      databases: [{ name: 'users', engine: 'sqlite', path: './data/users.db' }],
      files: undefined,
      health: { minFreeBytes: 1 },
    });
    const run = (args: string[]) => runCli([...args, '--config', s.configFile]);
    const create = async (args: string[] = []) => {
      const r = await run(['create', '--json', ...args]);
      expect(r.code, describeResult(r)).toBe(0);
      return parseJsonOutput<{ id: string }>(r.stdout).id;
    };
    const full = await create();
    const inc = await create(['--type', 'incremental']);
    expect((await run(['status', '--check'])).code).toBe(0);

    writeFileSync(
      join(s.backupDir, full, 'verified.json'),
      JSON.stringify({ at: new Date().toISOString(), ok: false }),
    );
    const failed = await run(['status', '--check']);
    expect(failed.code, describeResult(failed)).toBe(10);
    expect(failed.stdout).toContain(`users: the newest backup (set ${inc}) cannot be restored: `);

    rmSync(join(s.backupDir, full), { recursive: true });
    const gone = await run(['status', '--check']);
    expect(gone.code, describeResult(gone)).toBe(10);
    expect(gone.stdout).toContain(
      `users: the newest backup (set ${inc}) cannot be restored: set ${full} (needed by ${inc}) is missing`,
    );
    // No older set restores users either: the check must not promise that restore latest falls back to one.
    expect(gone.stdout).toContain('and no older set restores it either (`respaldo create --type full` makes one now)');
    expect(gone.stdout).not.toContain('falls back');
    // The menu and Spanish alerts say what breaks the chain in Spanish too, not only the sentence around it
    const issue = (await getHealth(await loadConfig({ configPath: s.configFile, env: {} }))).issues.find(
      (i) => i.code === 'chain-broken',
    )!;
    expect(issue.text).toContain(`set ${full} (needed by ${inc}) is missing (pruned or deleted)`);
    expect(PHRASES_ES[issue.phrase.id](issue.phrase.params)).toBe(
      `users: la copia más reciente (conjunto ${inc}) no se puede restaurar: falta la copia ${full} (la necesita ${inc}) (podada o borrada), y ningún conjunto anterior la restaura tampoco (\`respaldo create --type full\` hace uno ahora)`,
    );
    // A new full starts a chain that restores: healthy again.
    await create();
    expect((await run(['status', '--check'])).code).toBe(0);
    // Its incremental's base deleted: the full before it still restores, and that is said.
    const next = await create(['--type', 'full']);
    const inc2 = await create(['--type', 'incremental']);
    rmSync(join(s.backupDir, next), { recursive: true });
    const fallsBack = await run(['status', '--check']);
    expect(fallsBack.code, describeResult(fallsBack)).toBe(10);
    expect(fallsBack.stdout).toContain(`users: the newest backup (set ${inc2}) cannot be restored: `);
    expect(fallsBack.stdout).toContain('(restore latest falls back to an older set;');
  });
});

/** users overdue (a nightly job, never backed up), alerts to a webhook at `url`. */
function overdueWithHook(url: string): ReturnType<typeof demoSetup> {
  return demoSetup((base) => ({
    ...base,
    schedule: { jobs: [{ name: 'nightly', when: 'daily at 02:00', databases: ['users'] }] },
    health: { minFreeBytes: 1, graceMinutes: 0 },
    notifications: [{ type: 'webhook', on: ['overdue'], url, format: 'json' }],
  }));
}

describe('health alerts', () => {
  it('newIssues: an issue that lasts is alerted once; one that clears and comes back, again', async () => {
    const { newIssues } = await import('../src/engine/health-alerts.js');
    const { phrase } = await import('../src/core/phrases.js');
    const p = phrase('health.never', { db: 'users' });
    const a = {
      code: 'overdue' as const,
      database: 'users',
      key: 'overdue:users:2026-11-22T02:00:00.000Z',
      text: 'a',
      phrase: p,
    };
    const b = { code: 'failures' as const, database: 'users', key: 'failures:users', text: 'b', phrase: p };
    expect(newIssues([a, b], [])).toEqual([a, b]);
    expect(newIssues([a, b], [a.key])).toEqual([b]);
    expect(newIssues([a], [a.key, b.key])).toEqual([]);
  });

  it('status --check tells the channels about an overdue database once, not at every check, and clears once it is backed up', async () => {
    const { createServer } = await import('node:http');
    const { freePort } = await import('./helpers/pg-cluster.js');
    const received: { subject: string; lines: string[] }[] = [];
    const port = await freePort();
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => (received.push(JSON.parse(raw) as { subject: string; lines: string[] }), res.end()));
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      const s = demoSetup((base) => ({
        ...base,
        schedule: { jobs: [{ name: 'nightly', when: 'daily at 02:00', databases: ['users'] }] },
        health: { minFreeBytes: 1, graceMinutes: 0 },
        notifications: [{ type: 'webhook', on: ['overdue'], url: `http://127.0.0.1:${port}/`, format: 'json' }],
      }));
      const check = () => runCli(['status', '--check', '--config', s.configFile]);
      const first = await check();
      expect(first.code, describeResult(first)).toBe(10);
      expect(first.stdout).toMatch(/^users: overdue: .*never backed up/m);
      expect(received).toHaveLength(1);
      expect(received[0]!.subject).toMatch(/backup overdue/);
      expect(received[0]!.lines.join('\n')).toMatch(/users: overdue/);
      expect((await check()).code).toBe(10);
      expect(received).toHaveLength(1); // the same problem is not sent twice
      expect((await runCli(['create', '--no-files', '--config', s.configFile])).code).toBe(0);
      expect((await check()).code).toBe(0);
      expect(received).toHaveLength(1);
    } finally {
      server.close();
    }
  });

  it('with "language": "es" the problems in the alert are said in Spanish too (only its frame was); status --check stays English', async () => {
    const hook = await startWebhookServer();
    try {
      const s = demoSetup((base) => ({
        ...base,
        language: 'es',
        schedule: { jobs: [{ name: 'nightly', when: 'daily at 02:00', databases: ['users'] }] },
        health: { minFreeBytes: 1, graceMinutes: 0 },
        metrics: { textfile: './no-such-folder/respaldo.prom' },
        notifications: [{ type: 'webhook', on: ['overdue', 'unhealthy'], url: hook.url, format: 'json' }],
      }));
      const check = await runCli(['status', '--check', '--config', s.configFile]);
      expect(check.code, describeResult(check)).toBe(10);
      expect(check.stdout).toMatch(/^users: overdue: no successful backup since the run due .* \(never backed up\)$/m);
      await waitFor(() => hook.received.length >= 2 || null, 'both alerts');
      const bodies = hook.received.map((r) => JSON.parse(r) as { subject: string; lines: string[] });
      const overdue = bodies.find((b) => /atrasada/.test(b.subject))!;
      expect(overdue.lines.join('\n')).toMatch(
        /^- users: atrasada: ninguna copia correcta desde la prevista a las .* \(nunca se ha copiado\)$/m,
      );
      const unhealthy = bodies.find((b) => /mal estado/.test(b.subject))!;
      expect(unhealthy.lines.join('\n')).toContain('- métricas: no se puede escribir metrics.textfile');
      expect(unhealthy.lines.join('\n')).toContain(`(no existe la carpeta ${join(s.dir, 'no-such-folder')})`);
      expect(unhealthy.lines.join('\n')).not.toMatch(/cannot be written|Prometheus gets|no folder/);
    } finally {
      hook.close();
    }
  });

  it('with "language": "es" a failed drill\'s reason is said in Spanish in the health alert (it stayed English)', async () => {
    const hook = await startWebhookServer();
    try {
      const s = demoSetup((base) => ({
        ...base,
        language: 'es',
        health: { minFreeBytes: 1 },
        notifications: [{ type: 'webhook', on: ['unhealthy'], url: hook.url, format: 'json' }],
      }));
      expect((await runCli(['create', '--no-files', '--db', 'users', '--config', s.configFile])).code).toBe(0);
      const [id] = readdirSync(s.backupDir).filter((n) => /^\d{8}_\d{6}$/.test(n));
      const dbDir = join(s.backupDir, id!, 'databases');
      const file = join(dbDir, readdirSync(dbDir)[0]!);
      const bytes = readFileSync(file);
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
      writeFileSync(file, bytes);
      const drill = await runCli(['drill', id!, '--config', s.configFile]);
      expect(drill.code, describeResult(drill)).toBe(11);
      const check = await runCli(['status', '--check', '--config', s.configFile]);
      expect(check.code, describeResult(check)).toBe(10);
      expect(check.stdout).toMatch(/^users: the last restore drill .* failed: Set .* failed verification/m);
      await waitFor(() => hook.received.length >= 1 || null, 'the alert');
      const lines = hook.received.map((r) => (JSON.parse(r) as { lines: string[] }).lines.join('\n')).join('\n');
      const drilled = lines.split('\n').find((l) => l.includes('simulacro de restauración'));
      expect(drilled, lines).toMatch(/falló: La copia \d{8}_\d{6} no pasó la verificación/);
      expect(drilled).not.toMatch(/failed verification|nothing was restored/);
    } finally {
      hook.close();
    }
  });

  it('an alert no channel took is sent again at the next check (it was remembered as sent, and lost)', async () => {
    let down = true;
    const hook = await startWebhookServer(() => (down ? 503 : 200));
    try {
      const s = overdueWithHook(hook.url);
      const check = () => runCli(['status', '--check', '--config', s.configFile]);
      expect((await check()).code).toBe(10);
      expect(hook.received).toHaveLength(0);
      down = false;
      expect((await check()).code).toBe(10);
      expect(hook.received).toHaveLength(1);
      expect(hook.received[0]).toMatch(/users: overdue/);
      expect((await check()).code).toBe(10);
      expect(hook.received).toHaveLength(1);
    } finally {
      hook.close();
    }
  });

  it('a problem no channel wanted is not remembered as alerted: a channel added later for it hears of it once', async () => {
    const failureOnly = await startWebhookServer();
    const added = await startWebhookServer();
    try {
      const s = overdueWithHook(failureOnly.url);
      const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as { notifications: { on: string[] }[] };
      doc.notifications[0]!.on = ['failure'];
      writeFileSync(s.configFile, JSON.stringify(doc));
      const check = () => runCli(['status', '--check', '--config', s.configFile]);
      const first = await check();
      expect(first.code, describeResult(first)).toBe(10);
      expect(failureOnly.received).toHaveLength(0);
      doc.notifications.push({
        type: 'webhook',
        on: ['unhealthy', 'overdue'],
        url: added.url,
        format: 'json',
      } as never);
      writeFileSync(s.configFile, JSON.stringify(doc));
      expect((await check()).code).toBe(10);
      expect(added.received).toHaveLength(1);
      expect(added.received[0]).toMatch(/users: overdue/);
      expect((await check()).code).toBe(10);
      expect(added.received).toHaveLength(1); // told once, per channel
      expect(failureOnly.received).toHaveLength(0);
    } finally {
      failureOnly.close();
      added.close();
    }
  });

  it('status --check says the problems before telling a mail server that does not answer (monitoring gave up first)', async () => {
    const { createServer } = await import('node:net');
    const { freePort } = await import('./helpers/pg-cluster.js');
    const { startCli } = await import('./helpers/cli.js');
    const port = await freePort();
    const sockets: import('node:net').Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket)); // accepts, never greets
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', r));
    try {
      const s = demoSetup((base) => ({
        ...base,
        schedule: { jobs: [{ name: 'nightly', when: 'daily at 02:00', databases: ['users'] }] },
        health: { minFreeBytes: 1, graceMinutes: 0 },
        notifications: [
          { type: 'email', on: ['overdue'], host: '127.0.0.1', port, tls: 'none', from: 'a@b', to: ['c@d'] },
        ],
      }));
      const child = startCli(['status', '--check', '--config', s.configFile]);
      let out = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      await waitFor(() => /^users: overdue: /m.test(out), 'the problem line');
      expect(child.exitCode).toBeNull(); // still waiting on the mail server: the answer came first
      child.kill('SIGKILL');
    } finally {
      for (const so of sockets) so.destroy();
      silent.close();
    }
  });

  it('checks started together by two processes (cron and the scheduler) alert an issue once', async () => {
    const hook = await startWebhookServer();
    try {
      const s = overdueWithHook(hook.url);
      const check = () => runCli(['status', '--check', '--config', s.configFile]);
      const codes = (await Promise.all([check(), check(), check()])).map((r) => r.code);
      expect(codes).toEqual([10, 10, 10]);
      expect(hook.received).toHaveLength(1);
      expect(readdirSync(s.backupDir).filter((n) => n.includes('health-alerts.lock'))).toEqual([]);
    } finally {
      hook.close();
    }
  });

  it('checks started together in one process alert an issue once (the scheduler starts one after every job)', async () => {
    const { checkHealthAndAlert } = await import('../src/engine/health-alerts.js');
    const { loadConfig } = await import('../src/config/load.js');
    const hook = await startWebhookServer();
    try {
      const cfg = await loadConfig({ configPath: overdueWithHook(hook.url).configFile });
      await Promise.all([checkHealthAndAlert(cfg), checkHealthAndAlert(cfg), checkHealthAndAlert(cfg)]);
      expect(hook.received).toHaveLength(1);
    } finally {
      hook.close();
    }
  });
});
