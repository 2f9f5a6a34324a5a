import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DrillRecord, Manifest } from '../src/core/types.js';
import type { DrillOutcome } from '../src/engine/drill.js';
import { collect, describeResult, parseJsonOutput, startCli, waitFor } from './helpers/cli.js';
import { SECRET, cli } from './helpers/offsite.js';
import { S3RVER_KEY, startS3rver, stopAllS3rvers, s3Destination } from './helpers/s3rver.js';
import { ageKeygen } from './helpers/age.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

/**
 * `drill ID|latest --from NAME`: the copy at a destination is fetched (with its chain), checked as it arrives,
 * drilled and removed, on a new server whose backup folder is gone too; damage there fails it before any drill.
 */

afterEach(async () => {
  await stopAllS3rvers();
});

type Outcome = DrillOutcome & { chainIds: string[] };

function setConfig(s: DemoSetup, patch: Record<string, unknown>): void {
  writeFileSync(s.configFile, JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), ...patch }, null, 2));
}

/** The backup folder holds its logs at most: no set, fetch folder, scratch folder or journal. */
function onlyLogs(s: DemoSetup): void {
  expect(readdirSync(s.backupDir).filter((n) => n !== 'logs')).toEqual([]);
}

function write(file: string, sql: string): void {
  const db = new Database(file);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

describe('drill --from a folder destination', () => {
  it('new-server day: latest passes from the copy there, with its files, and leaves only the logs', async () => {
    const s = demoSetup({ source: 'srv1', destinations: [{ name: 'nas', type: 'folder', path: './nas' }] });
    mkdirSync(join(s.dir, 'nas'));
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    rmSync(s.backupDir, { recursive: true, force: true });

    const r = await cli(s, ['drill', 'latest', '--from', 'nas', '--files', '--json']);
    const out = parseJsonOutput<Outcome>(r.stdout);
    expect(out).toMatchObject({ setId: m.id, ok: true, from: 'nas', notHere: true, recorded: false });
    expect(out.results.map((x) => [x.database, x.ok, x.from])).toEqual([
      ['users', true, 'nas'],
      ['inventario', true, 'nas'],
      ['auditoria', true, 'nas'],
      ['files', true, 'nas'],
    ]);
    expect(out.results[0]!.checks.map((c) => c.name)).toContain('integrity_check');
    onlyLogs(s);

    const text = await cli(s, ['drill', m.id, '--from', 'nas', '--db', 'users']);
    expect(text.stdout).toContain(`Drill of set ${m.id} fetched from destination "nas": passed`);
    expect(text.stdout).toContain(`not recorded: set ${m.id} is not in ${s.backupDir}`);
    onlyLogs(s);
    const unknown = await cli(s, ['drill', 'latest', '--from', 'nope'], 8);
    expect(unknown.stderr).toContain('nas');
    // The drill-start and drill-end lines of the daily log name the destination.
    const log = readdirSync(join(s.backupDir, 'logs')).map((f) => readFileSync(join(s.backupDir, 'logs', f), 'utf8'));
    expect(log.join('')).toMatch(/"event":"drill-end".*"from":"nas"/);
  });

  it('a set this backup folder holds: the outcome is recorded in its drilled.json, saying where it came from', async () => {
    const s = demoSetup({ source: 'srv1', destinations: [{ name: 'nas', type: 'folder', path: './nas' }] });
    mkdirSync(join(s.dir, 'nas'));
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const r = await cli(s, ['drill', m.id, '--from', 'nas', '--db', 'users']);
    expect(r.stdout).toContain(`recorded in ${m.id}/drilled.json`);
    const record = JSON.parse(readFileSync(join(s.backupDir, m.id, 'drilled.json'), 'utf8')) as DrillRecord;
    expect(record.results['users']).toMatchObject({ ok: true, from: 'nas' });
    // A local drill of another database after it keeps where users was drilled from.
    await cli(s, ['drill', m.id, '--db', 'inventario']);
    const both = JSON.parse(readFileSync(join(s.backupDir, m.id, 'drilled.json'), 'utf8')) as DrillRecord;
    expect(both.results['users']?.from).toBe('nas');
    expect(both.results['inventario']).toMatchObject({ ok: true });
    expect(both.results['inventario']?.from).toBeUndefined();
    const shown = await cli(s, ['show', m.id]);
    expect(shown.stdout).toMatch(/users: passed from destination "nas" /);
    expect(shown.stdout).toMatch(/inventario: passed \d/);
    const left = readdirSync(s.backupDir).filter((n) => /^\.(respaldo-restore-fetch|tmp-)/.test(n));
    expect(left).toEqual([]);
  });

  it('a stored file damaged there: exit 5 naming it, nothing drilled or recorded, nothing left behind', async () => {
    const s = demoSetup({ source: 'srv1', destinations: [{ name: 'nas', type: 'folder', path: './nas' }] });
    mkdirSync(join(s.dir, 'nas'));
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const users = m.databases.find((d) => d.name === 'users')!.file!;
    const there = join(s.dir, 'nas', 'srv1', m.id, users);
    const bytes = readFileSync(there);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(there, bytes);
    rmSync(s.backupDir, { recursive: true, force: true });

    const r = await cli(s, ['drill', 'latest', '--from', 'nas'], 5);
    expect(r.stderr).toContain(`srv1/${m.id}/${users} does not match its manifest`);
    // said as the drill's, not a restore's
    expect(r.stderr).toMatch(/^hint: Nothing was drilled or recorded; nothing fetched was kept\. /m);
    expect(r.stderr).not.toContain('Nothing was restored');
    expect(r.stdout).not.toContain('Drill of set');
    onlyLogs(s);
  });
});

describe('drill --from an S3 destination', () => {
  it('encrypted only there, an incremental: the key is needed first (13), then its chain is fetched and drilled', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    setConfig(s, {
      source: 'srv1',
      encryption: { recipients: [recipient], identityFile: keyFile, local: false },
      destinations: [s3Destination(srv, { encrypt: true })],
    });
    const only = ['--db', 'users', '--no-files', '--json'];
    const full = parseJsonOutput<Manifest>((await cli(s, ['create', '--type', 'full', ...only])).stdout);
    write(s.dbs.users, 'CREATE TABLE drilled (id INTEGER PRIMARY KEY); INSERT INTO drilled VALUES (1), (2);');
    const inc = parseJsonOutput<Manifest>((await cli(s, ['create', '--type', 'incremental', ...only])).stdout);
    expect(inc.base).toBe(full.id);
    rmSync(s.backupDir, { recursive: true, force: true });

    renameSync(keyFile, `${keyFile}.away`);
    const noKey = await cli(s, ['drill', 'latest', '--from', 'offsite', '--db', 'users'], 13);
    expect(noKey.stdout).not.toContain('Drill of set');
    onlyLogs(s);
    renameSync(`${keyFile}.away`, keyFile);

    const r = await cli(s, ['drill', 'latest', '--from', 'offsite', '--db', 'users', '--json']);
    const out = parseJsonOutput<Outcome>(r.stdout);
    expect(out).toMatchObject({ setId: inc.id, ok: true, from: 'offsite', chainIds: [full.id], notHere: true });
    expect(out.results).toHaveLength(1);
    expect(out.results[0]!.checks.find((c) => c.name === 'row counts against the manifest')?.ok).toBe(true);
    onlyLogs(s);
  });

  it('Ctrl-C while the set is fetched: exit 130, the fetched copy is removed, nothing recorded', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    for (let i = 0; i < 3; i++) writeFileSync(join(s.appDir, `big${i}.bin`), randomBytes(16 * 1024 * 1024));
    setConfig(s, { source: 'srv1', destinations: [s3Destination(srv)] });
    await cli(s, ['create']);
    rmSync(s.backupDir, { recursive: true, force: true });
    const child = startCli(['drill', 'latest', '--from', 'offsite', '--files', '--config', s.configFile], {
      cwd: s.dir,
      env: { S3_KEY_ID: S3RVER_KEY, S3_SECRET_KEY: SECRET },
    });
    const exited = collect(child, 20_000); // killed (code null) if still running then
    const fetching = () =>
      existsSync(s.backupDir) &&
      readdirSync(s.backupDir, { recursive: true }).some((p) =>
        /^\.respaldo-restore-fetch-\d+\/.+\/manifest\.json$/.test(String(p)),
      );
    await waitFor(fetching, 'the fetch folder with the manifest', 15_000);
    srv.freeze(); // the store answers nothing more: the fetch hangs until it is stopped
    child.kill('SIGINT');
    const r = await exited;
    srv.thaw();
    expect(r.code, describeResult(r)).toBe(130);
    expect(r.stdout).not.toContain('Drill of set');
    onlyLogs(s);
  });
});
