import { chmodSync, chownSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { loadConfig } from '../src/config/load.js';
import { applyPreset, ownerRefusal, readScheduleJobs, removeJob, upsertJob } from '../src/scheduler/edit.js';
import { demoSetup, writeConfig, makeTmpDir } from './helpers/tmp.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- config files read field by field in the assertions
const parse = (file: string): Record<string, any> => JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;

function setupWithSecretRef() {
  return demoSetup((base) => ({
    $schema: './schema/backup_config.schema.json',
    ...base,
    databases: [
      ...(base.databases as unknown[]),
      { name: 'ventas', url: 'postgresql://app:${VENTAS_PASSWORD}@db.example:5432/ventas', globals: true },
    ],
    schedule: { jobs: [{ name: 'nightly', when: 'daily at 02:00', type: 'full', databases: ['*'], files: true }] },
  }));
}

describe('schedule editing (config file)', () => {
  it('adds a job and preserves everything else byte for byte (secret references, order, extra fields)', async () => {
    const s = setupWithSecretRef();
    const before = parse(s.configFile);
    const r = await upsertJob(s.configFile, 'weekly', {
      when: 'weekly on sunday at 23:30',
      databases: ['users', 'ventas'],
      files: false,
      timezone: 'Europe/Madrid',
    });
    expect(r.action).toBe('added');
    const after = parse(s.configFile);
    expect(after.schedule.jobs).toEqual([
      { name: 'nightly', when: 'daily at 02:00', type: 'full', databases: ['*'], files: true },
      {
        name: 'weekly',
        when: 'weekly on sunday at 23:30',
        type: 'full',
        databases: ['users', 'ventas'],
        files: false,
        timezone: 'Europe/Madrid',
      },
    ]);
    const { schedule: _a, ...restAfter } = after;
    const { schedule: _b, ...restBefore } = before;
    expect(restAfter).toEqual(restBefore);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    const text = readFileSync(s.configFile, 'utf8');
    expect(text).toContain('postgresql://app:${VENTAS_PASSWORD}@db.example:5432/ventas');
    expect(text).toMatch(/^\{\n {2}"\$schema"/);
    expect(readdirSync(s.dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    // The result still loads (with the secret supplied).
    const cfg = await loadConfig({ configPath: s.configFile, env: { VENTAS_PASSWORD: 'x' } });
    expect(cfg.schedule.jobs.map((j) => j.name)).toEqual(['nightly', 'weekly']);
  });

  it('changes only the given fields of an existing job', async () => {
    const s = setupWithSecretRef();
    const r = await upsertJob(s.configFile, 'nightly', { when: '30 1 * * *' });
    expect(r.action).toBe('replaced');
    expect(readScheduleJobs(s.configFile)).toEqual([
      { name: 'nightly', when: '30 1 * * *', type: 'full', databases: ['*'], files: true },
    ]);
    await upsertJob(s.configFile, 'nightly', { timezone: 'America/Mexico_City' });
    await upsertJob(s.configFile, 'nightly', { type: 'schema' });
    expect(readScheduleJobs(s.configFile)[0]).toEqual({
      name: 'nightly',
      when: '30 1 * * *',
      type: 'schema',
      databases: ['*'],
      files: true,
      timezone: 'America/Mexico_City',
    });
    await upsertJob(s.configFile, 'nightly', { timezone: null });
    expect(readScheduleJobs(s.configFile)[0]!.timezone).toBeUndefined();
  });

  it.each([
    ['a bad schedule', 'x', { when: 'daily at 25:00' }, /schedule\.jobs\[1\]\.when: .*not a time of day/],
    [
      'an unknown time zone',
      'x',
      { when: 'daily at 01:00', timezone: 'Mars/Base' },
      /schedule\.jobs\[1\]\.timezone: unknown time zone "Mars\/Base"/,
    ],
    [
      'an unknown database',
      'x',
      { when: 'daily at 01:00', databases: ['nope'] },
      /schedule\.jobs\[1\]\.databases\[0\]: no database named "nope"/,
    ],
    ['a bad job name', 'bad name!', { when: 'daily at 01:00' }, /schedule\.jobs\[1\]\.name/],
    ['a new job without --when', 'x', { type: 'full' as const }, /no job named "x" yet, so --when is needed/],
  ])('rejects %s and leaves the file untouched', async (_what, name, edit, msg) => {
    const s = setupWithSecretRef();
    const before = readFileSync(s.configFile);
    const mtime = statSync(s.configFile).mtimeMs;
    await expect(upsertJob(s.configFile, name, edit)).rejects.toThrow(UsageError);
    await expect(upsertJob(s.configFile, name, edit)).rejects.toThrow(msg);
    expect(readFileSync(s.configFile).equals(before)).toBe(true);
    expect(statSync(s.configFile).mtimeMs).toBe(mtime);
  });

  it('removes a job; removing an unknown job is an error naming the jobs', async () => {
    const s = setupWithSecretRef();
    await upsertJob(s.configFile, 'verify', { when: 'daily at 01:00', type: 'verify' });
    const r = await removeJob(s.configFile, 'nightly');
    expect(r.job?.name).toBe('nightly');
    expect(readScheduleJobs(s.configFile).map((j) => j.name)).toEqual(['verify']);
    await expect(removeJob(s.configFile, 'nightly')).rejects.toThrow(/no job named "nightly".*|Jobs: verify/);
  });

  it('--preset tiered replaces the schedule with the five tiered jobs', async () => {
    const s = setupWithSecretRef();
    const r = await applyPreset(s.configFile, 'tiered', { timezone: 'Europe/Madrid' });
    expect(r.replaced?.map((j) => j.name)).toEqual(['nightly']);
    const jobs = readScheduleJobs(s.configFile);
    expect(jobs.map((j) => [j.name, j.type, j.when, j.timezone])).toEqual([
      ['monthly', 'full', 'monthly on day 1 at 00:00', 'Europe/Madrid'],
      ['weekly', 'differential', 'weekly on sunday at 23:30', 'Europe/Madrid'],
      ['daily', 'incremental', 'daily at 23:00', 'Europe/Madrid'],
      ['verify', 'verify', 'daily at 01:00', 'Europe/Madrid'],
      ['drill', 'drill', 'weekly on saturday at 03:00', 'Europe/Madrid'],
    ]);
    const cfg = await loadConfig({ configPath: s.configFile, env: { VENTAS_PASSWORD: 'x' } });
    expect(cfg.schedule.jobs).toHaveLength(5);
  });

  it('keeps the file mode and tab indentation, and works for a config not named *.json', async () => {
    const dir = makeTmpDir();
    const s = writeConfig(dir, {}, { fileName: 'respaldo.conf' });
    writeFileSync(s.configFile, JSON.stringify(parse(s.configFile), null, '\t') + '\n');
    chmodSync(s.configFile, 0o640);
    await upsertJob(s.configFile, 'daily', { when: 'daily at 02:00' });
    expect(statSync(s.configFile).mode & 0o777).toBe(0o640);
    const text = readFileSync(s.configFile, 'utf8');
    expect(text).toMatch(/^\{\n\t"backupDir"/);
    expect(parse(s.configFile).schedule.jobs).toEqual([
      { name: 'daily', when: 'daily at 02:00', type: 'full', databases: ['*'], files: true },
    ]);

    const t = demoSetup();
    chmodSync(t.configFile, 0o600);
    await applyPreset(t.configFile, 'tiered');
    expect(statSync(t.configFile).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(t.dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  // The config is written anew and renamed over the old one: the new file is the writer's. As root, a config of the
  // user the scheduler runs as became root's (0600: that scheduler could no longer read it).
  it.skipIf(process.geteuid?.() !== 0)('as root, gives the config back to its owner and group', async () => {
    for (const fileName of ['backup_config.json', 'respaldo.conf']) {
      const s = writeConfig(makeTmpDir(), {}, { fileName });
      chownSync(s.configFile, 4321, 4322);
      chmodSync(s.configFile, 0o600);
      await upsertJob(s.configFile, 'daily', { when: 'daily at 02:00' });
      const st = statSync(s.configFile);
      expect([st.uid, st.gid, st.mode & 0o777], fileName).toEqual([4321, 4322, 0o600]);
      expect(parse(s.configFile).schedule.jobs).toHaveLength(1);
    }
  });

  it('another user than root may not rewrite a config that is not theirs (it would become theirs)', () => {
    expect(ownerRefusal({ uid: 1000 }, 1000)).toBeNull();
    expect(ownerRefusal({ uid: 1000 }, 0)).toBeNull();
    expect(ownerRefusal({ uid: 1000 }, undefined)).toBeNull();
    expect(ownerRefusal({ uid: 0 }, 1000)).toBe(
      'belongs to another user (uid 0): rewritten by this user (uid 1000), it would become theirs',
    );
  });

  it('refuses to edit a malformed config', async () => {
    const s = demoSetup();
    writeFileSync(s.configFile, '{ "backupDir": "./b", ');
    await expect(upsertJob(s.configFile, 'daily', { when: 'daily at 02:00' })).rejects.toThrow(/malformed JSON/);
    expect(readFileSync(s.configFile, 'utf8')).toBe('{ "backupDir": "./b", ');
  });

  it('refuses to edit a config that is not UTF-8: written back, its Latin-1 accents became U+FFFD for good', async () => {
    const s = demoSetup();
    const latin1 = Buffer.from(readFileSync(s.configFile, 'utf8').replace('"./backups"', '"./copias-año"'), 'latin1');
    writeFileSync(s.configFile, latin1);
    await expect(applyPreset(s.configFile, 'tiered')).rejects.toThrow(/line \d+ is not UTF-8 text/);
    await expect(upsertJob(s.configFile, 'daily', { when: 'daily at 02:00' })).rejects.toThrow(/not UTF-8/);
    expect(readFileSync(s.configFile)).toEqual(latin1);
  });

  it('refuses to edit a config with a key written twice: written back, the first was gone from the file', async () => {
    const s = demoSetup();
    const text = readFileSync(s.configFile, 'utf8').replace(/\n}\s*$/, ',\n  "backupDir": "./otra"\n}\n');
    writeFileSync(s.configFile, text);
    await expect(applyPreset(s.configFile, 'tiered')).rejects.toThrow(
      /backupDir: is written twice \(lines 2 and \d+\)/,
    );
    expect(readFileSync(s.configFile, 'utf8')).toBe(text);
  });
});
