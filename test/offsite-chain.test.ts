import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { startS3rver, stopAllS3rvers, s3Destination } from './helpers/s3rver.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';
import { ageKeygen } from './helpers/age.js';

/**
 * Restoring a differential or incremental set from a destination (`restore ID --from`, `restore --at
 * … --from`): every set of the chain is fetched and checked there, on the new-server day too.
 */

afterEach(async () => {
  await stopAllS3rvers();
});

function write(file: string, sql: string): void {
  const db = new Database(file);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

function rows(file: string): unknown[] {
  const db = new Database(file, { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    return db.prepare('SELECT * FROM notes ORDER BY id').all();
  } finally {
    db.close();
  }
}

const SEED = `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
  INSERT INTO notes SELECT i, printf('note %05d %s', i, hex(randomblob(40))) FROM n;`;

function setConfig(s: DemoSetup, patch: Record<string, unknown>): void {
  writeFileSync(s.configFile, JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), ...patch }, null, 2));
}

async function create(s: DemoSetup, type: string): Promise<Manifest> {
  const args = ['create', '--type', type, '--db', 'users', '--no-files', '--json'];
  return parseJsonOutput<Manifest>((await cli(s, args)).stdout);
}

/** full → incremental → incremental → differential, each copied after create; the rows at each point by set id. */
async function chainOfFour(s: DemoSetup) {
  write(s.dbs.users, SEED);
  const full = await create(s, 'full');
  const at: Record<string, unknown[]> = { [full.id]: rows(s.dbs.users) };
  write(s.dbs.users, "UPDATE notes SET body = 'v2' WHERE id = 1500;");
  const i1 = await create(s, 'incremental');
  at[i1.id] = rows(s.dbs.users);
  write(s.dbs.users, "INSERT INTO notes (body) SELECT 'grown ' || hex(randomblob(100)) FROM notes LIMIT 300;");
  const i2 = await create(s, 'incremental');
  at[i2.id] = rows(s.dbs.users);
  write(s.dbs.users, "UPDATE notes SET body = 'v4' WHERE id = 10;");
  const d1 = await create(s, 'differential');
  at[d1.id] = rows(s.dbs.users);
  expect([i1.base, i2.base, d1.base]).toEqual([full.id, i1.id, full.id]);
  return { full, i1, i2, d1, at };
}

/** No fetch folder, scratch folder or journal left in backupDir (nor any set, unless `sets`: safety copies). */
function nothingLeft(s: DemoSetup, sets = false): void {
  expect(readdirSync(s.backupDir).filter((n) => (!sets && /^\d{8}_/.test(n)) || n.startsWith('.'))).toEqual([]);
}

describe('restore --from of a chain', () => {
  it('an incremental whose page map alone is missing there verifies with a warning and restores, fetched or streamed', async () => {
    const s = demoSetup({ source: 'srv1', destinations: [{ name: 'nas', type: 'folder', path: './nas' }] });
    mkdirSync(join(s.dir, 'nas'));
    write(s.dbs.users, SEED);
    await create(s, 'full');
    write(s.dbs.users, "UPDATE notes SET body = 'v2' WHERE id = 1500;");
    const inc = await create(s, 'incremental');
    const wanted = rows(s.dbs.users);
    const map = inc.databases[0]!.extras!.find((x) => x.role === 'pagemap')!.file;
    rmSync(join(s.dir, 'nas', 'srv1', inc.id, map));

    const v = await cli(s, ['verify', inc.id, '--from', 'nas']);
    expect(v.stdout).toContain(`${inc.id} at nas: OK`);
    expect(v.stderr).toContain(
      `${map}: missing; only a differential or incremental of users made on this set reads it`,
    );
    const to = join(s.dir, 'fetched.db');
    await cli(s, ['restore', inc.id, '--from', 'nas', '--db', 'users', '--to', to, '--yes']);
    expect(rows(to)).toEqual(wanted);
    const streamed = join(s.dir, 'streamed.db');
    await cli(s, ['restore', inc.id, '--from', 'nas', '--db', 'users', '--to', streamed, '--stream', '--yes']);
    expect(rows(streamed)).toEqual(wanted);
    // The stored data itself missing there is still damage
    rmSync(join(s.dir, 'nas', 'srv1', inc.id, inc.databases[0]!.file!));
    await cli(s, ['verify', inc.id, '--from', 'nas'], 5);
  });

  it('a set whose page map is missing here is copied without it, saying so, and restores from there', async () => {
    const nas = { name: 'nas', type: 'folder', path: './nas', copyAfterBackup: false };
    const s = demoSetup({ source: 'srv1', destinations: [nas] });
    mkdirSync(join(s.dir, 'nas'));
    write(s.dbs.users, SEED);
    await create(s, 'full');
    write(s.dbs.users, "UPDATE notes SET body = 'v2' WHERE id = 1500;");
    const inc = await create(s, 'incremental');
    const wanted = rows(s.dbs.users);
    const map = inc.databases[0]!.extras!.find((x) => x.role === 'pagemap')!.file;
    rmSync(join(s.backupDir, inc.id, map));

    const c = await cli(s, ['copy', '--to', 'nas']);
    expect(c.stderr).toContain(
      `${map}: missing; only a differential or incremental of users made on this set reads it`,
    );
    expect(existsSync(join(s.dir, 'nas', 'srv1', inc.id, 'manifest.json'))).toBe(true);
    const to = join(s.dir, 'restored.db');
    await cli(s, ['restore', inc.id, '--from', 'nas', '--db', 'users', '--to', to, '--yes']);
    expect(rows(to)).toEqual(wanted);
  });

  it('folder, new-server day: an incremental and a point in time restore with every set fetched and checked', async () => {
    const s = demoSetup({ source: 'srv1', destinations: [{ name: 'nas', type: 'folder', path: './nas' }] });
    mkdirSync(join(s.dir, 'nas'));
    const { full, i1, i2, d1, at } = await chainOfFour(s);
    rmSync(s.backupDir, { recursive: true, force: true });
    rmSync(s.dbs.users, { force: true });

    const to = join(s.dir, 'i2.db');
    const r = await cli(s, ['restore', i2.id, '--from', 'nas', '--db', 'users', '--to', to, '--yes']);
    expect(r.stdout).toContain(`Set ${i2.id} with the sets of its chain (${full.id}, ${i1.id}) fetched from`);
    expect(r.stdout).toMatch(/users: applies 3 sets in order: .*\(full\) → .*\(incremental\) → .*\(incremental\)/);
    expect(rows(to)).toEqual(at[i2.id]);
    nothingLeft(s);

    // Streamed: the three sets' files read from the destination as the chain is applied.
    const streamedTo = join(s.dir, 'i2-streamed.db');
    const st = await cli(s, [
      'restore',
      i2.id,
      '--from',
      'nas',
      '--db',
      'users',
      '--to',
      streamedTo,
      '--stream',
      '--yes',
    ]);
    expect(st.stdout).toContain(`Set ${i2.id} with the sets of its chain (${full.id}, ${i1.id}) at destination`);
    expect(rows(streamedTo)).toEqual(at[i2.id]);
    nothingLeft(s);

    // latest is the differential: two sets.
    await cli(s, ['restore', 'latest', '--from', 'nas', '--db', 'users', '--yes']);
    expect(rows(s.dbs.users)).toEqual(at[d1.id]);

    // --at: the newest set ending at or before that time, found at the destination.
    const after = new Date(Date.parse(i1.completedAt) + 1).toISOString();
    const dry = await cli(s, ['restore', '--at', after, '--from', 'nas', '--db', 'users', '--dry-run']);
    expect(dry.stdout).toContain(`set ${i1.id}, the newest ending at or before that time`);
    expect(dry.stdout).toContain(`users: ${full.id} full`);
    await cli(s, ['restore', '--at', after, '--from', 'nas', '--db', 'users', '--yes']);
    expect(rows(s.dbs.users)).toEqual(at[i1.id]);
    const atStreamed = join(s.dir, 'at-streamed.db');
    const atRun = await cli(s, [
      'restore',
      '--at',
      after,
      '--from',
      'nas',
      '--db',
      'users',
      '--stream',
      '--to',
      atStreamed,
      '--yes',
    ]);
    expect(atRun.stdout).toContain(`Set ${i1.id} with the sets of its chain (${full.id}) at destination "nas"`);
    expect(rows(atStreamed)).toEqual(at[i1.id]);
    const before = new Date(Date.parse(full.completedAt) - 1000).toISOString();
    const none = await cli(s, ['restore', '--at', before, '--from', 'nas', '--db', 'users', '--yes'], 8);
    expect(none.stderr).toContain('Destination "nas" holds no set of users ending at or before');
    nothingLeft(s, true); // the in-place restores kept safety copies (pre_restore sets) of what they replaced
  });

  it('a member damaged or missing at the destination: refused before anything is touched', async () => {
    const s = demoSetup({ source: 'srv1', destinations: [{ name: 'nas', type: 'folder', path: './nas' }] });
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    const { full, i1, i2 } = await chainOfFour(s);
    const live = rows(s.dbs.users);

    const stored = join(nas, 'srv1', i1.id, i1.databases[0]!.file!);
    const good = readFileSync(stored);
    const bad = Buffer.from(good);
    bad[bad.length >> 1]! ^= 0xff;
    writeFileSync(stored, bad);
    const damaged = await cli(s, ['restore', i2.id, '--from', 'nas', '--db', 'users', '--yes'], 5);
    expect(damaged.stderr).toContain(`srv1/${i1.id}/${i1.databases[0]!.file} does not match its manifest`);
    expect(rows(s.dbs.users)).toEqual(live);
    // Streamed, the damage is found as the member is applied, in the copy built beside users: users is untouched.
    const streamed = await cli(s, ['restore', i2.id, '--from', 'nas', '--db', 'users', '--stream', '--yes'], 5);
    expect(streamed.stdout).toMatch(/FAILED\s+users: .*damaged/);
    expect(rows(s.dbs.users)).toEqual(live);
    nothingLeft(s, true);

    writeFileSync(stored, good);
    // i1 gone there: --at a time after i2 takes the newest set there whose chain is whole, and says what it
    // passed over and why, as a local --at does.
    const i1There = join(nas, 'srv1', i1.id);
    renameSync(i1There, `${i1There}.away`);
    const after = new Date(Date.parse(i2.completedAt) + 1).toISOString();
    const at = await cli(s, ['restore', '--at', after, '--from', 'nas', '--db', 'users', '--dry-run']);
    expect(at.stdout).toContain(`set ${full.id}, the newest ending at or before that time`);
    expect(at.stdout).toMatch(new RegExp(`passed over ${i2.id}: .*${i1.id}`));
    // verify --from of i2 said OK (exit 0) on its own files alone: it says what breaks its chain there, exit 5.
    const verified = await cli(s, ['verify', i2.id, '--from', 'nas'], 5);
    expect(verified.stdout).toContain(`${i2.id} at nas: OK`);
    expect(verified.stdout).toContain(`chain BROKEN at nas: set ${i1.id} (needed by ${i2.id}) is missing`);
    expect(verified.stdout).toContain(`respaldo copy ${i2.id} --to nas`);
    const json = parseJsonOutput<{ chainProblems?: string[] }>(
      (await cli(s, ['verify', i2.id, '--from', 'nas', '--json'], 5)).stdout,
    );
    expect(json.chainProblems).toEqual([expect.stringContaining(`set ${i1.id} (needed by ${i2.id}) is missing`)]);
    await cli(s, ['verify', full.id, '--from', 'nas']); // a full there: no chain to break
    renameSync(`${i1There}.away`, i1There);
    await cli(s, ['verify', i2.id, '--from', 'nas']);
    rmSync(join(nas, 'srv1', full.id), { recursive: true });
    const broken = await cli(s, ['restore', i2.id, '--from', 'nas', '--db', 'users', '--yes'], 9);
    expect(broken.stderr).toContain(`destination "nas": Set ${i2.id} holds users as changes on earlier sets`);
    expect(broken.stderr).toContain(full.id);
    // This server holds the chain: it can send it there again.
    expect(broken.stderr).toContain('or copy the missing sets there again (respaldo copy --to nas)');
    expect(rows(s.dbs.users)).toEqual(live);
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.respaldo-restore-fetch'))).toEqual([]);
  });

  it('restore latest --from passes over a newest set whose chain there is broken, for the newest that restores', async () => {
    const s = demoSetup({ source: 'srv1', destinations: [{ name: 'nas', type: 'folder', path: './nas' }] });
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    const { full, i1, i2, d1, at } = await chainOfFour(s);
    // At the destination: i1 lost (i2 cannot be restored), and d1 never got there.
    rmSync(join(nas, 'srv1', i1.id), { recursive: true });
    rmSync(join(nas, 'srv1', d1.id), { recursive: true });
    // The new-server day: nothing here.
    rmSync(s.backupDir, { recursive: true, force: true });
    // list --from says it, as list does of a chain here (it listed i2 as completed).
    const listed = await cli(s, ['list', '--from', 'nas']);
    expect(listed.stdout).toMatch(new RegExp(`${i2.id} .*incremental\\s+BROKEN`));
    expect(listed.stdout).toContain(`BROKEN chain at nas: set ${i1.id} (needed by ${i2.id}) is missing`);
    const json = parseJsonOutput<{ id: string; chainProblems?: string[] }[]>(
      (await cli(s, ['list', '--from', 'nas', '--json'])).stdout,
    );
    expect(json.find((x) => x.id === i2.id)?.chainProblems).toHaveLength(1);
    expect(json.find((x) => x.id === full.id)?.chainProblems).toBeUndefined();
    const out = join(s.dir, 'restored.db');
    const r = await cli(s, ['restore', 'latest', '--from', 'nas', '--db', 'users', '--to', out, '--yes']);
    // It refused (exit 9) though the full was whole there.
    expect(rows(out)).toEqual(at[full.id]);
    expect(r.stdout).toContain(`latest is set ${full.id}, which holds: users`);
    expect(r.stdout).toContain(
      `newer sets passed over, each with what it lacks: ${i2.id} (a usable chain (set ${i1.id} (needed by ${i2.id}) is missing`,
    );
    // i2 named: refused, and the hint does not send a new server to `respaldo copy`, which has nothing to send.
    const named = await cli(s, ['restore', i2.id, '--from', 'nas', '--db', 'users', '--to', `${out}.2`, '--yes'], 9);
    expect(named.stderr).toContain(`set ${i1.id} (needed by ${i2.id}) is missing`);
    expect(named.stderr).toContain(
      'hint: Nothing was restored. Check the sets there with respaldo list --from nas and restore an older set',
    );
    expect(named.stderr).toContain('only from a server that still holds them');
    expect(named.stderr).not.toContain('respaldo copy');
    expect(existsSync(`${out}.2`)).toBe(false);
  });

  it('copy ID of an incremental sends the sets its chain needs first, so that it restores there', async () => {
    const s = demoSetup({
      source: 'srv1',
      destinations: [{ name: 'nas', type: 'folder', path: './nas', copyAfterBackup: false }],
    });
    mkdirSync(join(s.dir, 'nas'));
    const { full, i1, i2, at } = await chainOfFour(s);
    const r = parseJsonOutput<{ setId: string; ok: boolean }[]>(
      (await cli(s, ['copy', i2.id, '--to', 'nas', '--json'])).stdout,
    );
    expect(r.map((x) => [x.setId, x.ok])).toEqual([
      [full.id, true],
      [i1.id, true],
      [i2.id, true],
    ]);
    const to = join(s.dir, 'from-nas.db');
    await cli(s, ['restore', i2.id, '--from', 'nas', '--db', 'users', '--to', to, '--yes']);
    expect(rows(to)).toEqual(at[i2.id]);
    // Again: nothing is missing there, nothing is sent.
    const again = parseJsonOutput<{ filesSent: number }[]>(
      (await cli(s, ['copy', i2.id, '--to', 'nas', '--json'])).stdout,
    );
    expect(again.map((x) => x.filesSent)).toEqual([0, 0, 0]);
  });

  it('s3, encrypted only off-site: the chain members are decrypted on the way, new-server day', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    setConfig(s, {
      source: 'srv1',
      encryption: { recipients: [recipient], identityFile: keyFile, local: false },
      destinations: [s3Destination(srv, { encrypt: true })],
    });
    const { i2, at } = await chainOfFour(s);
    rmSync(s.backupDir, { recursive: true, force: true });
    rmSync(s.dbs.users, { force: true });
    const r = await cli(s, ['restore', i2.id, '--from', 'offsite', '--db', 'users', '--yes']);
    expect(r.stdout).toContain('with the sets of its chain');
    expect(rows(s.dbs.users)).toEqual(at[i2.id]);
    nothingLeft(s);
    expect(existsSync(join(s.backupDir, 'logs'))).toBe(true);
    // Streamed: each member decrypted as it is read and applied.
    const side = join(s.dir, 'streamed.db');
    await cli(s, ['restore', i2.id, '--from', 'offsite', '--db', 'users', '--to', side, '--stream', '--yes']);
    expect(rows(side)).toEqual(at[i2.id]);
    nothingLeft(s);
  });
});
