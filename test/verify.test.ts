import { cpSync, existsSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Manifest, SetSummary } from '../src/core/types.js';
import { CollectingReporter } from '../src/core/events.js';
import { checkFiles, expectedFiles, type VerifyReport } from '../src/engine/verify.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { dbDigest, execSql } from './helpers/sqlite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

async function create(s: DemoSetup): Promise<Manifest> {
  return parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
}

function flipByte(file: string, at?: number): void {
  const buf = readFileSync(file);
  const i = at ?? Math.floor(buf.length / 2);
  buf[i] = buf[i]! ^ 0x01;
  writeFileSync(file, buf);
}

type Damage = (setDir: string, m: Manifest) => { path: string; problem: RegExp };

const usersFile = (m: Manifest) => m.databases.find((d) => d.name === 'users')!.file!;
const settingsCopy = (m: Manifest) =>
  m.files.find((f) => f.group === 'config' && f.relative.endsWith('settings.json'))!.stored!;

const damages: [string, Damage][] = [
  [
    'one flipped byte in a stored database',
    (dir, m) => (flipByte(join(dir, usersFile(m))), { path: usersFile(m), problem: /md5 mismatch/ }),
  ],
  [
    'a flipped last byte (gzip trailer)',
    (dir, m) => (
      flipByte(join(dir, usersFile(m)), statSync(join(dir, usersFile(m))).size - 1),
      { path: usersFile(m), problem: /mismatch/ }
    ),
  ],
  [
    'a truncated stored database',
    (dir, m) => (
      truncateSync(join(dir, usersFile(m)), 1000),
      { path: usersFile(m), problem: /size 1000 bytes.*truncated/ }
    ),
  ],
  [
    'a deleted stored database',
    (dir, m) => (rmSync(join(dir, usersFile(m))), { path: usersFile(m), problem: /missing/ }),
  ],
  [
    'a changed copy of a config file',
    (dir, m) => (
      writeFileSync(join(dir, settingsCopy(m)), gzipSync('{"company":"changed"}\n')),
      { path: settingsCopy(m), problem: /mismatch/ }
    ),
  ],
];

describe('verify finds damaged sets', () => {
  it.each(damages)(
    '%s: verify exits 5 naming the file; restore refuses and leaves the live data alone',
    async (_name, damage) => {
      const s = demoSetup();
      const m = await create(s);
      const setDir = join(s.backupDir, m.id);
      const ok = await cli(s, ['verify', m.id]);
      expect(ok.stdout).toContain(`${m.id}: OK`);

      const { path, problem } = damage(setDir, m);
      const r = await cli(s, ['verify', m.id], 5);
      expect(r.stdout).toContain(`${m.id}: FAILED`);
      const line = r.stdout.split('\n').find((l) => l.includes(path));
      expect(line, r.stdout).toBeDefined();
      expect(line).toMatch(problem);

      const j = parseJsonOutput<VerifyReport>((await cli(s, ['verify', m.id, '--json'], 5)).stdout);
      expect(j.setId).toBe(m.id);
      expect(j.ok).toBe(false);
      const bad = j.files.filter((f) => !f.ok);
      expect(bad.map((f) => f.path)).toEqual([path]);
      expect(bad[0]!.problem).toMatch(problem);
      expect(j.files.filter((f) => f.ok).length).toBe(j.files.length - 1);
      expect(j.files.length).toBe(m.databases.length + m.files.filter((f) => f.kind === 'file').length);

      // the failed verification is recorded for `list`
      const sets = parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--json'])).stdout);
      expect(sets[0]!.lastVerified?.ok).toBe(false);

      // restore refuses before touching anything
      execSql(s.dbs.users, 'DELETE FROM users WHERE id > 10');
      const live = dbDigest(s.dbs.users);
      const liveBytes = readFileSync(s.dbs.users);
      const withFiles = path.startsWith('config/') ? ['--files', '--to', join(s.dir, 'out')] : [];
      const rr = await cli(s, ['restore', m.id, '--yes', ...withFiles], 5);
      expect(rr.stderr).toContain(path);
      expect(readFileSync(s.dbs.users).equals(liveBytes)).toBe(true);
      expect(dbDigest(s.dbs.users)).toEqual(live);
      const after = parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--json'])).stdout);
      expect(after.filter((x) => x.type === 'pre_restore')).toEqual([]);
    },
  );

  it('a restore of one database only checks that database’s files', async () => {
    const s = demoSetup();
    const m = await create(s);
    flipByte(join(s.backupDir, m.id, usersFile(m)));
    execSql(s.dbs.auditoria, 'DELETE FROM events');
    await cli(s, ['restore', m.id, '--db', 'auditoria', '--yes']);
    expect(dbDigest(s.dbs.auditoria).tables['events']!.rows).toBe(10000);
    await cli(s, ['restore', m.id, '--db', 'users', '--yes'], 5);
  });

  it('progress ends at its total: application files (no stored size in the manifest) count in it', async () => {
    const s = demoSetup();
    const m = await create(s);
    expect(m.files.some((f) => f.stored)).toBe(true);
    const reporter = new CollectingReporter();
    const checks = await checkFiles(join(s.backupDir, m.id), expectedFiles(m), reporter);
    expect(checks.every((c) => c.ok)).toBe(true);
    const progress = reporter.events.filter((e) => e.type === 'item-progress');
    const last = progress.at(-1);
    expect(last).toMatchObject({ item: 'verify', bytes: checks.reduce((n, c) => n + c.bytes, 0) });
    expect(progress.every((e) => e.type === 'item-progress' && e.bytes <= (e.totalBytes ?? 0))).toBe(true);
    expect(last?.type === 'item-progress' && last.bytes === last.totalBytes).toBe(true);
  });

  it('verify --all checks every set; one bad set makes it exit 5', async () => {
    const s = demoSetup();
    const a = await create(s);
    const b = await create(s);
    expect(a.id).not.toBe(b.id);
    const good = parseJsonOutput<VerifyReport[]>((await cli(s, ['verify', '--all', '--json'])).stdout);
    expect(good.map((r) => [r.setId, r.ok]).sort()).toEqual(
      [
        [a.id, true],
        [b.id, true],
      ].sort(),
    );

    rmSync(join(s.backupDir, a.id, settingsCopy(a)));
    const r = await cli(s, ['verify', '--all'], 5);
    expect(r.stdout).toContain(`${a.id}: FAILED`);
    expect(r.stdout).toContain(`${b.id}: OK`);
    expect(r.stdout).toContain(`${settingsCopy(a)}: missing`);
    const j = parseJsonOutput<VerifyReport[]>((await cli(s, ['verify', '--all', '--json'], 5)).stdout);
    expect(j.find((x) => x.setId === a.id)!.ok).toBe(false);
    expect(j.find((x) => x.setId === b.id)!.ok).toBe(true);
    // no id: the newest set
    const latest = parseJsonOutput<VerifyReport>((await cli(s, ['verify', '--json'])).stdout);
    expect(latest.setId).toBe(b.id);
    await cli(s, ['verify', 'latest', '--all'], 2);
  });

  it('a manifest that is not JSON makes verify and restore fail with exit 5', async () => {
    const s = demoSetup();
    const m = await create(s);
    writeFileSync(join(s.backupDir, m.id, 'manifest.json'), '{ not json');
    const r = await cli(s, ['verify', m.id], 5);
    expect(r.stderr).toContain('manifest');
    await cli(s, ['restore', m.id, '--yes'], 5);
  });

  it('a set folder copied by hand under another id: delete, restore and verify refuse it and the original set survives', async () => {
    const s = demoSetup();
    const m = await create(s);
    const copy = '20200101_000000';
    cpSync(join(s.backupDir, m.id), join(s.backupDir, copy), { recursive: true });
    for (const args of [
      ['delete', copy, '--yes'],
      ['restore', copy, '--yes'],
      ['verify', copy],
    ]) {
      const r = await cli(s, args, 5);
      expect(r.stderr).toContain(`holds the manifest of set ${m.id}, not ${copy}`);
      expect(r.stderr).toMatch(/hint: Rename the folder back/);
    }
    expect(existsSync(join(s.backupDir, m.id, 'manifest.json'))).toBe(true);
  });

  it('verify of a set that does not exist exits 8', async () => {
    const s = demoSetup();
    await create(s);
    await cli(s, ['verify', '20000101_000000'], 8);
  });
});
