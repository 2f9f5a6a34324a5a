import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ageKeygen } from './helpers/age.js';
import { cli, copiedAway, flipMiddle, nothingLeft } from './helpers/offsite.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup } from './helpers/tmp.js';

/**
 * `restore --from NAME` checks what needs no stored file before it fetches one: the plan's refusals (a `--to` that
 * exists), the lock, the key of an encrypted set, the operator's yes. A distant set takes hours to come; each of
 * these used to be said only after it came. Each case runs against a set whose users file was changed at the
 * destination (same size, so a listing shows nothing): had the restore fetched it first, it would say damage (5).
 */
describe('restore --from: what needs no stored file is checked before any is fetched', () => {
  it('a --to that exists, the lock held, another key, no yes: each refused before the fetch; then the damage', async () => {
    const s = demoSetup();
    const key = join(s.dir, 'key.txt');
    const { m, nas } = await copiedAway(s, {
      encryption: { recipients: [ageKeygen(key)], identityFile: key },
    });
    const users = m.databases.find((d) => d.name === 'users')!;
    flipMiddle(join(nas, 'srv1', m.id, users.file!));
    const live = dbDigest(s.dbs.users);
    const restore = (extra: string[], code: number, env: Record<string, string> = {}) =>
      cli(s, ['restore', m.id, '--from', 'nas', '--db', 'users', ...extra], code, env);

    const taken = join(s.dir, 'taken.db');
    writeFileSync(taken, 'not a database');
    const exists = await restore(['--to', taken, '--yes'], 9);
    expect(exists.stderr).toContain(taken);
    expect(readFileSync(taken, 'utf8')).toBe('not a database');
    nothingLeft(s);

    // The lock of a live process (this test's own) on this host.
    const lock = join(s.backupDir, '.respaldo.lock');
    const holder = { pid: process.pid, host: hostname(), purpose: 'create', startedAt: new Date().toISOString() };
    writeFileSync(lock, JSON.stringify(holder), { mode: 0o600 });
    const held = await restore(['--yes'], 6);
    expect(held.stderr).toContain(`create, pid ${process.pid}`);
    execFileSync('rm', [lock]);
    nothingLeft(s);

    const config = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, Record<string, unknown>>;
    const other = join(s.dir, 'other.txt');
    ageKeygen(other);
    writeFileSync(
      s.configFile,
      JSON.stringify({ ...config, encryption: { ...config['encryption'], identityFile: other } }),
    );
    const wrongKey = await restore(['--yes'], 13);
    expect(wrongKey.stderr).toContain(`The identity file ${other} does not hold the key of set ${m.id}`);
    writeFileSync(s.configFile, JSON.stringify(config));
    nothingLeft(s);

    const unasked = await restore([], 9);
    expect(unasked.stderr).toContain('Restore needs confirmation and there is no terminal to ask.');
    nothingLeft(s);

    // With nothing to stop it, the set is fetched: the changed file is found as it arrives, nothing restored.
    const damaged = await restore(['--yes'], 5);
    expect(damaged.stderr).toContain(`destination "nas": srv1/${m.id}/${users.file} does not match its manifest`);
    expect(dbDigest(s.dbs.users)).toEqual(live);
    expect(existsSync(join(s.dir, 'restored'))).toBe(false);
    nothingLeft(s);
  });

  it('in place on a new server, a SQLite folder that is not there is said by the plan, before the fetch', async () => {
    // The new server's config names data/users.db, and data/ was never made: the restore does not make it in place
    // (a disk not mounted there looks the same). It used to fetch the whole set first and say so only then.
    const s = demoSetup();
    const { m, nas } = await copiedAway(s);
    const users = m.databases.find((d) => d.name === 'users')!;
    flipMiddle(join(nas, 'srv1', m.id, users.file!));
    const folder = dirname(s.dbs.users);
    renameSync(folder, `${folder}.gone`);
    const dry = await cli(s, ['restore', 'latest', '--from', 'nas', '--db', 'users', '--dry-run'], 7);
    expect(dry.stdout).toContain(`REFUSED: Folder ${folder} does not exist.`);
    const run = await cli(s, ['restore', 'latest', '--from', 'nas', '--db', 'users', '--yes'], 7);
    expect(run.stderr).toContain(`Folder ${folder} does not exist.`);
    expect(run.stderr).toContain('hint: Create it (the database users lives there), then run the restore again.');
    expect(run.stdout).not.toContain(`Set ${m.id} fetched from destination`);
    expect(existsSync(folder)).toBe(false);
    nothingLeft(s);
  });
});
