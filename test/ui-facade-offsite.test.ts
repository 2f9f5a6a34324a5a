/**
 * The real EngineFacade's calls for the menu's restore from a destination, restore as of a time,
 * backup type preview and protected keys, over the real engine on real SQLite files, a real folder
 * destination and a real age identity file encrypted with a passphrase.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Encrypter } from 'age-encryption';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { isRespaldoError } from '../src/core/errors.js';
import { silentReporter } from '../src/core/events.js';
import { loadConfig } from '../src/config/load.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup, removeTmpDirs, type DemoSetup } from './helpers/tmp.js';
import { ageKeygen } from './helpers/age.js';
import { waitFor } from './helpers/cli.js';

afterAll(() => removeTmpDirs());
afterEach(() => vi.unstubAllEnvs());

function setConfig(s: DemoSetup, patch: Record<string, unknown>): void {
  writeFileSync(s.configFile, JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), ...patch }, null, 2));
}
const facadeOf = async (s: DemoSetup) => createEngineFacade(await loadConfig({ configPath: s.configFile }));
const fetchLeft = (s: DemoSetup): string[] =>
  existsSync(s.backupDir) ? readdirSync(s.backupDir).filter((n) => n.startsWith('.respaldo-restore-fetch')) : [];

describe('real facade: restore from a destination on a new server', () => {
  it("a destination holding no set of this server's source: that source and the others there", async () => {
    const s = demoSetup({ files: undefined });
    mkdirSync(join(s.dir, 'nas'));
    setConfig(s, { destinations: [{ name: 'nas', type: 'folder', path: './nas', source: 'srv1' }] });
    await (await facadeOf(s)).createBackup({ databases: [], type: 'full', files: false }, silentReporter);
    // The new server: an empty backup folder, and a config that names no source (the host name is used).
    rmSync(s.backupDir, { recursive: true, force: true });
    setConfig(s, { destinations: [{ name: 'nas', type: 'folder', path: './nas' }], source: 'new-host' });
    const listed = await (await facadeOf(s)).listSets({ from: 'nas' });
    expect([...listed]).toEqual([]);
    expect(listed).toMatchObject({ source: 'new-host', otherSources: ['srv1'] });
  });

  it('lists and reads the sets there, plans by fetching (released on leaving), restores from it', async () => {
    const s = demoSetup({ files: undefined });
    mkdirSync(join(s.dir, 'nas'));
    setConfig(s, { destinations: [{ name: 'nas', type: 'folder', path: './nas', source: 'srv1' }] });
    let facade = await facadeOf(s);
    expect(facade.config().destinations).toEqual(['nas']);
    await facade.createBackup({ databases: ['inventario'], type: 'full', files: false }, silentReporter);
    const newest = await facade.createBackup({ databases: [], type: 'full', files: false }, silentReporter);
    const before = dbDigest(s.dbs.users);
    rmSync(s.backupDir, { recursive: true, force: true });
    for (const x of ['', '-wal', '-shm']) rmSync(s.dbs.users + x, { force: true });
    facade = await facadeOf(s);

    expect([...(await facade.listSets())]).toEqual([]);
    const remote = await facade.listSets({ from: 'nas' });
    expect(remote.map((x) => x.id)).toHaveLength(2);
    expect(remote[0]!.id).toBe(newest.id);
    expect((await facade.listSets({ from: 'nas', database: 'users' })).map((x) => x.id)).toEqual([newest.id]);
    expect((await facade.readManifest(newest.id, 'nas')).databases.map((d) => d.name)).toContain('users');

    const req = { from: 'nas', setId: newest.id, databases: ['users'], files: false };
    const first = await facade.planRestore(req);
    expect(first.setId).toBe(newest.id);
    expect(first.refusals).toEqual([]);
    expect(first.options.setFolder && existsSync(first.options.setFolder)).toBe(true);
    expect(fetchLeft(s)).toHaveLength(1);
    await facade.releaseFetched();
    expect(fetchLeft(s)).toEqual([]);
    // As of a time, from the destination: the set of that time is fetched with its chain, and previewed.
    const at = await facade.planRestore({ ...req, setId: '', at: newest.completedAt });
    expect(at.at).toMatchObject({ setId: newest.id, point: newest.completedAt });
    expect(at.options.setFolder && existsSync(at.options.setFolder)).toBe(true);
    const early = new Date(Date.parse(newest.startedAt) - 86_400_000).toISOString();
    await expect(facade.planRestore({ ...req, setId: '', at: early })).rejects.toThrow(/at or before/);
    await facade.releaseFetched();
    expect(fetchLeft(s)).toEqual([]);
    // The wizard left while a fetch is under way: what it fetched is removed when it ends.
    const racing = facade.planRestore(req);
    await facade.releaseFetched();
    await expect(racing).rejects.toThrow(/left while its set was being fetched/);
    expect(fetchLeft(s)).toEqual([]);

    const plan = await facade.planRestore(req);
    // The same selection planned again keeps the one fetched copy.
    expect((await facade.planRestore(req)).options.setFolder).toBe(plan.options.setFolder);
    const outcome = await facade.executeRestore(plan, silentReporter);
    expect(outcome.ok).toBe(true);
    expect(dbDigest(s.dbs.users)).toEqual(before);
    expect(fetchLeft(s)).toEqual([]);
  });
});

describe('real facade: as of a time, and the backup type preview', () => {
  it('planRestore with at gives the --at preview; planBackupTypes says which databases fall back to a full', async () => {
    const s = demoSetup({ files: undefined });
    const facade = await facadeOf(s);
    const none = await facade.planBackupTypes({ databases: ['users', 'inventario'], type: 'incremental' });
    expect(none).toEqual([
      ...['users', 'inventario'].map((db) => ({
        database: db,
        type: 'full',
        base: null,
        fallback: `no full backup of ${db} yet`,
        fallbackPhrase: { id: 'fallback.noFull', params: { db } },
      })),
    ]);
    expect(await facade.planBackupTypes({ databases: ['users'], type: 'full' })).toEqual([
      { database: 'users', type: 'full', base: null, fallback: null },
    ]);
    const full = await facade.createBackup({ databases: ['users'], type: 'full', files: false }, silentReporter);
    const [users] = await facade.planBackupTypes({ databases: ['users'], type: 'incremental' });
    expect(users).toEqual({ database: 'users', type: 'incremental', base: full.id, fallback: null });

    const plan = await facade.planRestore({ setId: '', at: full.completedAt, databases: ['users'], files: false });
    expect(plan.at).toMatchObject({ setId: full.id, point: full.completedAt, order: [full.id] });
    expect(plan.setId).toBe(full.id);
    const early = new Date(Date.parse(full.startedAt) - 3_600_000).toISOString();
    await expect(facade.planRestore({ setId: '', at: early, databases: ['users'], files: false })).rejects.toThrow(
      /ends at or before/,
    );
  });
});

describe('real facade: a passphrase-protected identity', () => {
  async function lockedKey(s: DemoSetup, passphrase: string): Promise<string> {
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    const e = new Encrypter();
    e.setPassphrase(passphrase);
    e.setScryptWorkFactor(12);
    const locked = join(s.dir, 'key.age');
    writeFileSync(locked, await e.encrypt(readFileSync(keyFile)), { mode: 0o600 });
    rmSync(keyFile);
    setConfig(s, { encryption: { recipients: [recipient], identityFile: './key.age' } });
    return locked;
  }

  it('keyLocked until unlockKey gets the right passphrase; a wrong one is a key error; then restores need none', async () => {
    const s = demoSetup({ files: undefined });
    await lockedKey(s, 'open the vault');
    const facade = await facadeOf(s);
    const m = await facade.createBackup({ databases: ['users'], type: 'full', files: false }, silentReporter);
    expect(m.encryption?.recipients).toHaveLength(1);
    expect(await facade.keyLocked()).toBe('identity');
    const to0 = join(s.dir, 'r0.db');
    expect(
      await facade.keyLocked(await facade.planRestore({ setId: m.id, databases: ['users'], files: false, to: to0 })),
    ).toBe('identity');
    // verify reading the data (the details' V) needs the key: refused while it is locked, nothing asked on a terminal
    const locked = await facade.verifySet(m.id, silentReporter, { readData: true }).catch((e: unknown) => e);
    expect(isRespaldoError(locked) && locked.kind).toBe('key');
    const wrong = await facade.unlockKey('not it').catch((e: unknown) => e);
    expect(isRespaldoError(wrong) && wrong.kind).toBe('key');
    expect((wrong as Error).message).toContain('Wrong passphrase');
    expect(await facade.keyLocked()).toBe('identity');
    await facade.unlockKey('open the vault');
    expect(await facade.keyLocked()).toBeNull();
    expect(await facade.verifySet(m.id, silentReporter, { readData: true })).toMatchObject({
      ok: true,
      decrypted: true,
    });
    const to = join(s.dir, 'r.db');
    const plan = await facade.planRestore({ setId: m.id, databases: ['users'], files: false, to });
    expect((await facade.executeRestore(plan, silentReporter)).ok).toBe(true);
    expect(dbDigest(to)).toEqual(dbDigest(s.dbs.users));
  });

  it('a plan of a set stored before encryption was turned on needs no passphrase, also as of a time', async () => {
    const s = demoSetup({ files: undefined });
    const plain = await (
      await facadeOf(s)
    ).createBackup({ databases: ['users'], type: 'full', files: false }, silentReporter);
    await lockedKey(s, 'later key');
    const facade = await facadeOf(s);
    expect(await facade.keyLocked()).toBe('identity');
    const to = join(s.dir, 'r.db');
    const plan = await facade.planRestore({ setId: plain.id, databases: ['users'], files: false, to });
    expect(await facade.keyLocked(plan)).toBeNull();
    const at = await facade.planRestore({ setId: '', at: plain.completedAt, databases: ['users'], files: false, to });
    expect(await facade.keyLocked(at)).toBeNull();
  });

  it('not locked when RESPALDO_PASSPHRASE_FILE names the file, nor without encryption', async () => {
    const s = demoSetup({ files: undefined });
    await lockedKey(s, 'from a file');
    vi.stubEnv('RESPALDO_PASSPHRASE_FILE', join(s.dir, 'pass.txt'));
    expect(await (await facadeOf(s)).keyLocked()).toBeNull();
    expect(await (await facadeOf(demoSetup())).keyLocked()).toBeNull();
  });
});

describe('real facade: an encrypted incremental at a destination, with a protected key', () => {
  it('planned on its manifests while the key is locked; run only once it is opened (its chain decrypted as fetched)', async () => {
    const s = demoSetup({ files: undefined });
    mkdirSync(join(s.dir, 'nas'));
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    const e = new Encrypter();
    e.setPassphrase('chain words');
    e.setScryptWorkFactor(12);
    writeFileSync(join(s.dir, 'key.age'), await e.encrypt(readFileSync(keyFile)), { mode: 0o600 });
    rmSync(keyFile);
    setConfig(s, {
      encryption: { recipients: [recipient], identityFile: './key.age', local: false },
      destinations: [{ name: 'nas', type: 'folder', path: './nas', source: 'srv1', encrypt: true }],
    });
    let facade = await facadeOf(s);
    await facade.createBackup({ databases: ['users'], type: 'full', files: false }, silentReporter);
    const db = new Database(s.dbs.users);
    db.exec('CREATE TABLE IF NOT EXISTS extra (v TEXT); INSERT INTO extra VALUES (1);');
    db.close();
    const incr = await facade.createBackup({ databases: ['users'], type: 'incremental', files: false }, silentReporter);
    expect(incr.databases[0]!.base).toBeTruthy();
    const before = dbDigest(s.dbs.users);
    rmSync(s.backupDir, { recursive: true, force: true });
    facade = await facadeOf(s);

    const manifest = await facade.readManifest(incr.id, 'nas');
    expect(manifest.encryption && manifest.databases.some((d) => d.base)).toBeTruthy();
    expect(await facade.keyLocked()).toBe('identity');
    const to = join(s.dir, 'r.db');
    const req = { from: 'nas', setId: incr.id, databases: ['users'], files: false, to };
    const planned = await facade.planRestore(req);
    expect(await facade.keyLocked(planned)).toBe('identity');
    const locked = await facade.executeRestore(planned, silentReporter).catch((err: unknown) => err);
    expect(isRespaldoError(locked) && locked.kind).toBe('key');
    expect(fetchLeft(s)).toEqual([]);
    expect(existsSync(to)).toBe(false);
    await facade.unlockKey('chain words');
    const plan = await facade.planRestore(req);
    expect((await facade.executeRestore(plan, silentReporter)).ok).toBe(true);
    expect(dbDigest(to)).toEqual(before);
  });
});

describe('real facade: sets whose manifest fails its checks', () => {
  it('listSets names them as damaged, here and at a destination, and lists the others', async () => {
    const s = demoSetup({ files: undefined });
    mkdirSync(join(s.dir, 'nas'));
    setConfig(s, { destinations: [{ name: 'nas', type: 'folder', path: './nas', source: 'srv1' }] });
    const facade = await facadeOf(s);
    const req = { databases: ['users'], type: 'full' as const, files: false };
    const older = await facade.createBackup(req, silentReporter);
    const newer = await facade.createBackup(req, silentReporter);
    expect((await facade.listSets()).damaged).toEqual([]);
    writeFileSync(join(s.backupDir, older.id, 'manifest.json'), '{ not json');
    writeFileSync(join(s.dir, 'nas', 'srv1', newer.id, 'manifest.json'), '{ not json');

    const here = await facade.listSets();
    expect(here.map((x) => x.id)).toEqual([newer.id]);
    expect(here.damaged).toEqual([{ id: older.id, problem: expect.stringContaining('manifest') }]);
    // which databases a damaged set holds cannot be read: it is named under any filter
    expect((await facade.listSets({ database: 'users' })).damaged?.map((d) => d.id)).toEqual([older.id]);

    const there = await facade.listSets({ from: 'nas' });
    expect(there.map((x) => x.id)).toEqual([older.id]);
    expect(there.damaged).toEqual([{ id: newer.id, source: 'srv1', problem: expect.stringContaining('manifest') }]);
  });
});

describe('real facade: a destination that accepts connections and never answers', () => {
  it('a listing with an aborted signal and a fetch stopped by releaseFetched end at once, leaving nothing', async () => {
    const sockets = new Set<Socket>();
    const frozen = createServer((c) => void sockets.add(c));
    await new Promise<void>((r) => frozen.listen(0, '127.0.0.1', r));
    const port = (frozen.address() as AddressInfo).port;
    try {
      vi.stubEnv('S3_KEY_ID', 'key');
      vi.stubEnv('S3_SECRET_KEY', 'secret');
      const s = demoSetup({ files: undefined });
      setConfig(s, {
        destinations: [
          {
            name: 'offsite',
            type: 's3',
            endpoint: `http://127.0.0.1:${port}`,
            bucket: 'b',
            forcePathStyle: true,
            accessKeyId: '${S3_KEY_ID}',
            secretAccessKey: '${S3_SECRET_KEY}',
            source: 'srv1',
            copyAfterBackup: false,
          },
        ],
      });
      const facade = await facadeOf(s);
      const stop = new AbortController();
      const t0 = Date.now();
      const listing = facade.listSets({ from: 'offsite' }, stop.signal);
      // Stopped once it waits on the store (a fixed 300 ms was before the request, on a loaded machine).
      await waitFor(() => sockets.size > 0, 'the listing connected to the store');
      stop.abort();
      await expect(listing).rejects.toMatchObject({ kind: 'interrupted' });
      // the store's 30 s inactivity timeout never came into it
      expect(Date.now() - t0).toBeLessThan(5000);

      const t1 = Date.now();
      const connected = sockets.size;
      const plan = facade.planRestore({
        from: 'offsite',
        setId: '20261120_230000',
        databases: ['users'],
        files: false,
      });
      await waitFor(() => sockets.size > connected, 'the fetch connected to the store');
      await facade.releaseFetched();
      await expect(plan).rejects.toSatisfy(isRespaldoError);
      expect(Date.now() - t1).toBeLessThan(5000);
      expect(fetchLeft(s)).toEqual([]);
    } finally {
      for (const c of sockets) c.destroy();
      await new Promise((r) => frozen.close(r));
    }
  });
});
