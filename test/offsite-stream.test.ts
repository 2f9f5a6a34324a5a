import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { cli, copiedAway, flipMiddle, nothingLeft, tree, withNas } from './helpers/offsite.js';
import { parseJsonOutput } from './helpers/cli.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';
import { ageKeygen } from './helpers/age.js';

/**
 * `restore --from NAME --stream`: the set's files are not fetched first; each is streamed from the destination
 * into the copy built beside its target and checked as it is read. A file damaged there stops its database
 * before the swap (exit 5), the target as it was; the plan and the dry run say which way a run reads the set.
 * (The new-server day of every destination type streams too: helpers/offsite.ts newServerDay.)
 */

const digests = (s: DemoSetup) => Object.fromEntries(Object.entries(s.dbs).map(([k, f]) => [k, dbDigest(f)]));

describe('restore --from --stream', () => {
  it('a file damaged at the destination stops its database before the swap: exit 5, that target as it was', async () => {
    const s = demoSetup();
    const { m, nas } = await copiedAway(s);
    const before = digests(s);
    const inventario = m.databases.find((d) => d.name === 'inventario')!;
    flipMiddle(join(nas, 'srv1', m.id, inventario.file!));
    // Change the live databases, so that what a restore puts back shows.
    for (const f of Object.values(s.dbs)) execFileSync('sqlite3', [f, 'CREATE TABLE after_the_set(x);']);
    const changed = digests(s);

    const plan = await cli(s, ['restore', m.id, '--from', 'nas', '--stream', '--dry-run']);
    expect(plan.stdout).toContain(
      `Set ${m.id} at destination "nas": its files are there with the sizes its manifest records; a restore streams them (--stream).`,
    );
    expect(plan.stdout).toContain(
      '1. stream each stored file from destination "nas" into the restore, checking its size and sha256 as it is read; a mismatch stops that database before its swap (its target is left as it was), and the databases after it',
    );

    expect(plan.stdout).toContain(
      `1. check ${inventario.file} as it is streamed from destination "nas" (size, sha256)`,
    );
    expect(plan.stdout).not.toContain('against the manifest (md5, sha256)');

    const r = await cli(s, ['restore', m.id, '--from', 'nas', '--stream', '--yes'], 5);
    const order = m.databases.map((d) => d.name);
    const at = order.indexOf('inventario');
    expect(at).toBeGreaterThan(0); // a database is restored before it
    expect(r.stdout).toMatch(
      new RegExp(
        `FAILED\\s+inventario: destination "nas": srv1/${m.id}/${inventario.file} does not match its manifest`,
      ),
    );
    expect(r.stdout).toContain('hint: Restore another set (`respaldo list --from nas`)');
    const after = digests(s);
    // The databases before the damaged one are restored; it and those after it are as they were.
    for (const [i, name] of order.entries()) expect(after[name], name).toEqual(i < at ? before[name] : changed[name]);
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(readdirSync(s.dir).filter((n) => n.includes('respaldo') && n.startsWith('.'))).toEqual([]);
  });

  it('encrypted: a flipped byte of the ciphertext fails authentication (exit 5); the good set streams and decrypts', async () => {
    const s = demoSetup();
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    const { m, nas } = await copiedAway(s, { encryption: { recipients: [recipient], identityFile: keyFile } });
    const before = dbDigest(s.dbs.users);
    const side = join(s.dir, 'users-side.db');
    const ok = await cli(s, ['restore', m.id, '--from', 'nas', '--db', 'users', '--stream', '--to', side, '--yes']);
    expect(ok.stdout).toContain('each is streamed into the restore and checked as it is read (--stream)');
    expect(dbDigest(side)).toEqual(before);
    nothingLeft(s);

    const users = m.databases.find((d) => d.name === 'users')!;
    expect(users.file).toMatch(/\.age$/);
    flipMiddle(join(nas, 'srv1', m.id, users.file!));
    execFileSync('sqlite3', [s.dbs.users, 'CREATE TABLE after_the_set(x);']);
    const live = dbDigest(s.dbs.users);
    const bad = await cli(s, ['restore', m.id, '--from', 'nas', '--db', 'users', '--stream', '--yes'], 5);
    expect(bad.stdout).toMatch(/FAILED\s+users: .*(failed authentication|does not match its manifest)/);
    // named there, with the repair there (it said to check the disk that holds the backups, here)
    expect(bad.stdout).toMatch(/FAILED\s+users: destination "nas": (?!destination)/);
    expect(bad.stdout).toContain('hint: Restore another set (`respaldo list --from nas`)');
    expect(bad.stdout).not.toContain('check the disk that holds the backups');

    // A ciphertext changed with hashes that agree: only age's authentication can tell, and says where.
    const manifestThere = join(nas, 'srv1', m.id, 'manifest.json');
    const doc = JSON.parse(readFileSync(manifestThere, 'utf8')) as Manifest;
    const entry = doc.databases.find((d) => d.name === 'users')!;
    const bytes = readFileSync(join(nas, 'srv1', m.id, users.file!));
    entry.sha256 = createHash('sha256').update(bytes).digest('hex');
    entry.md5 = createHash('md5').update(bytes).digest('hex');
    writeFileSync(manifestThere, JSON.stringify(doc, null, 2));
    const auth = await cli(s, ['restore', m.id, '--from', 'nas', '--db', 'users', '--stream', '--yes'], 5);
    expect(auth.stdout).toMatch(/FAILED\s+users: destination "nas": .*failed authentication/);
    expect(auth.stdout).toContain('hint: Restore another set (`respaldo list --from nas`)');
    expect(dbDigest(s.dbs.users)).toEqual(live);
    expect(dbDigest(s.dbs.users)).toEqual(live);
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('files: each small one read whole and decoded in one call; data there that does not decode is damage (exit 5)', async () => {
    const s = demoSetup({ files: { config: [], application: [{ path: './data/uploads' }] } });
    const uploads = join(s.dataDir, 'uploads');
    mkdirSync(uploads);
    for (let i = 0; i < 20; i++) writeFileSync(join(uploads, `f${i}.txt`), `upload ${i}\n`.repeat(50 * i + 1));
    writeFileSync(join(uploads, 'empty.txt'), '');
    writeFileSync(join(uploads, 'large.bin'), createHash('sha512').update('x').digest('hex').repeat(40_000));
    const nas = withNas(s);
    const { id } = parseJsonOutput<{ id: string }>((await cli(s, ['create', '--db', 'users', '--json'])).stdout);
    rmSync(s.backupDir, { recursive: true, force: true });
    const back = join(s.dir, 'back');
    await cli(s, ['restore', id, '--from', 'nas', '--stream', '--files', '--to', back, '--yes']);
    expect(tree(join(back, 'application', 'uploads'))).toEqual(tree(uploads));

    // One small file's bytes there replaced by data that does not decompress, its entry there made to match: the
    // reader passes it, the decoding in one call fails, and read again through the streams it is said damaged.
    const file = join(nas, 'srv1', id, 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    const entry = m.files.find((f) => f.relative === 'uploads/f7.txt')!;
    const junk = Buffer.from('not a zstd frame at all, '.repeat(8));
    writeFileSync(join(nas, 'srv1', id, entry.stored!), junk);
    entry.md5 = createHash('md5').update(junk).digest('hex');
    entry.sha256 = createHash('sha256').update(junk).digest('hex');
    writeFileSync(file, JSON.stringify(m, null, 2));
    const again = join(s.dir, 'again');
    const r = await cli(s, ['restore', id, '--from', 'nas', '--stream', '--files', '--to', again, '--yes'], 5);
    expect(r.stdout + r.stderr).toContain(
      `The stored file ${entry.stored!} of application/uploads/f7.txt cannot be decompressed`,
    );
    expect(existsSync(again)).toBe(false);
    expect(readdirSync(s.dir).filter((n) => n.includes('respaldo-partial'))).toEqual([]);
  });

  it('a file missing there, or of another size, is found before anything is restored (exit 5)', async () => {
    const s = demoSetup();
    const { m, nas } = await copiedAway(s);
    const users = m.databases.find((d) => d.name === 'users')!;
    const stored = join(nas, 'srv1', m.id, users.file!);
    writeFileSync(stored, readFileSync(stored).subarray(1));
    const short = await cli(s, ['restore', m.id, '--from', 'nas', '--stream', '--yes'], 5);
    expect(short.stderr).toContain(
      `destination "nas": srv1/${m.id}/${users.file} has ${users.storedBytes - 1} bytes there where its manifest records ${users.storedBytes}.`,
    );
    expect(short.stdout).not.toMatch(/restored|FAILED/);
    rmSync(stored);
    const gone = await cli(s, ['restore', m.id, '--from', 'nas', '--stream', '--yes'], 5);
    expect(gone.stderr).toContain(`srv1/${m.id}/${users.file} is missing there, though its manifest lists it.`);
    nothingLeft(s);
  });

  it('a dry run reads only the manifests and says how a run would read the set; --stream needs --from', async () => {
    const s = demoSetup();
    const { m } = await copiedAway(s);
    const dry = await cli(s, ['restore', 'latest', '--from', 'nas', '--db', 'users', '--dry-run']);
    expect(dry.stdout).toContain(
      `Set ${m.id} at destination "nas": its files are there with the sizes its manifest records; a restore fetches them first and checks them.`,
    );
    expect(dry.stdout).toContain(
      '1. fetch the stored files from destination "nas" into the backup folder, checking each one\'s size and sha256 as it arrives',
    );
    nothingLeft(s);
    const usage = await cli(s, ['restore', 'latest', '--stream', '--dry-run'], 2);
    expect(usage.stderr).toContain('--stream streams a set from a destination: it needs --from NAME.');
  });
});
