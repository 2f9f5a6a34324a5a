/**
 * Sets encrypted to a passphrase (`encryption.passphraseFile` on the server that made them) decrypted
 * from the menu where no file gives that passphrase: the real EngineFacade over the real engine, real
 * SQLite files, real age files and a real folder destination. keyLocked says the set's passphrase is
 * needed, unlockKey checks a typed one against a stored file (a wrong one is a key error, nothing is
 * kept), and then verify --read-data, the drill and the restore decrypt with it. The restore wizard
 * from a destination draws the fetch's bar (bytes of the total, at 80×24 and after a resize) and asks
 * the passphrase masked, again when wrong, Esc back to the plan, in English and Spanish.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cleanup } from 'ink-testing-library';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { isRespaldoError } from '../src/core/errors.js';
import { CollectingReporter, silentReporter, type ProgressEvent } from '../src/core/events.js';
import { loadConfig } from '../src/config/load.js';
import { formatBytes } from '../src/core/format.js';
import { createEngineFacade, type EngineFacade } from '../src/ui/engine-facade.js';
import { catalogue } from '../src/ui/i18n/index.js';
import { RestoreScreen } from '../src/ui/screens/RestoreScreen.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup, removeTmpDirs, type DemoSetup } from './helpers/tmp.js';
import { cleanupSized, frameProblems, KEY, press, renderSized, type, waitFrame } from './ui-fake-facade.js';

afterAll(() => removeTmpDirs());
afterEach(() => {
  vi.unstubAllEnvs();
  cleanupSized();
  cleanup();
});

/** How long a step that runs scrypt (2^16, a second or more on a loaded machine) or a fetch may take. */
const SLOW = 90_000;

const NAS = [{ name: 'nas', type: 'folder', path: './nas', source: 'srv1' }];

function setConfig(s: DemoSetup, patch: Record<string, unknown>): void {
  writeFileSync(s.configFile, JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), ...patch }, null, 2));
}
const facadeOf = async (s: DemoSetup) => createEngineFacade(await loadConfig({ configPath: s.configFile }));
const fetchLeft = (s: DemoSetup): string[] =>
  existsSync(s.backupDir) ? readdirSync(s.backupDir).filter((n) => n.startsWith('.respaldo-restore-fetch')) : [];
/** The stored files fetched into the backup folder for a restore (manifests are not stored files). */
const fetchedFiles = (s: DemoSetup): string[] =>
  fetchLeft(s).flatMap((d) =>
    readdirSync(join(s.backupDir, d), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name !== 'manifest.json')
      .map((e) => e.name),
  );

/**
 * Backs up with the sets encrypted to `words` (from a passphrase file); then that file and the config's
 * encryption are gone (a destination that encrypted its copies is then a plain one in the config).
 */
async function encryptedToWords(
  s: DemoSetup,
  words: string,
  backups: (facade: EngineFacade) => Promise<void>,
  destinations: unknown[] = [],
  encryption: { local?: boolean } = {},
): Promise<void> {
  writeFileSync(join(s.dir, 'pass.txt'), `${words}\n`, { mode: 0o600 });
  if (destinations.length) mkdirSync(join(s.dir, 'nas'));
  setConfig(s, { encryption: { passphraseFile: './pass.txt', ...encryption }, destinations });
  await backups(await facadeOf(s));
  rmSync(join(s.dir, 'pass.txt'));
  setConfig(s, { encryption: undefined, destinations: NAS.slice(0, destinations.length) });
}

const keyError = async (p: Promise<unknown>): Promise<Error & { kind?: string }> => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isRespaldoError(err), String(err)).toBe(true);
  return err as Error & { kind: string };
};

describe('real facade: a local set encrypted to a passphrase no file gives', () => {
  it('keyLocked until the right passphrase is typed; then V, the drill and the restore decrypt with it', async () => {
    const s = demoSetup({ files: undefined });
    let id = '';
    await encryptedToWords(s, 'local words', async (f) => {
      id = (await f.createBackup({ databases: ['users'], type: 'full', files: false }, silentReporter)).id;
    });
    const facade = await facadeOf(s);
    const m = await facade.readManifest(id);
    expect(m.encryption).toMatchObject({ passphrase: true, recipients: [] });

    vi.stubEnv('RESPALDO_PASSPHRASE_FILE', join(s.dir, 'elsewhere.txt'));
    expect(await facade.keyLocked({ setId: id })).toBeNull();
    vi.unstubAllEnvs();
    expect(await facade.keyLocked()).toBeNull();
    expect(await facade.keyLocked({ setId: id })).toBe('passphrase');
    expect(await facade.keyLocked({ setId: 'latest' })).toBe('passphrase');
    // Without it the engine has no terminal to ask on: refused, as before.
    expect((await keyError(facade.verifySet(id, silentReporter, { readData: true }))).kind).toBe('key');

    const wrong = await keyError(facade.unlockKey('not the words', { setId: id }));
    expect(wrong.kind).toBe('key');
    expect(wrong.message).toBe(`Wrong passphrase: it does not open set ${id}.`);
    expect(await facade.keyLocked({ setId: id })).toBe('passphrase');
    await facade.unlockKey('local words', { setId: id });
    expect(await facade.keyLocked({ setId: id })).toBeNull();

    expect(await facade.verifySet(id, silentReporter, { readData: true })).toMatchObject({ ok: true, decrypted: true });
    expect((await facade.drillSet(id, silentReporter)).ok).toBe(true);
    const to = join(s.dir, 'r.db');
    const plan = await facade.planRestore({ setId: id, databases: ['users'], files: false, to });
    expect(await facade.keyLocked(plan)).toBeNull();
    expect((await facade.executeRestore(plan, silentReporter)).ok).toBe(true);
    expect(dbDigest(to)).toEqual(dbDigest(s.dbs.users));
  }, 300_000);
});

describe('real facade: an encrypted incremental at a destination, encrypted to a passphrase', () => {
  it('planned on the manifests; asked before fetching (its chain is decrypted as fetched); the fetch reports bytes of the total', async () => {
    const s = demoSetup({ files: undefined });
    let incr = '';
    await encryptedToWords(
      s,
      'chain words',
      async (f) => {
        await f.createBackup({ databases: ['users'], type: 'full', files: false }, silentReporter);
        const db = new Database(s.dbs.users);
        db.exec('CREATE TABLE IF NOT EXISTS extra (v TEXT); INSERT INTO extra VALUES (1);');
        db.close();
        const m = await f.createBackup({ databases: ['users'], type: 'incremental', files: false }, silentReporter);
        expect(m.databases[0]!.base).toBeTruthy();
        incr = m.id;
      },
      [{ ...NAS[0], encrypt: true }],
      // A delta is made from a plain base: only the copies at the destination are encrypted.
      { local: false },
    );
    const before = dbDigest(s.dbs.users);
    rmSync(s.backupDir, { recursive: true, force: true });
    const facade = await facadeOf(s);

    const of = { setId: incr, from: 'nas' };
    expect(await facade.keyLocked(of)).toBe('passphrase');
    const to = join(s.dir, 'r.db');
    const req = { from: 'nas', setId: incr, databases: ['users'], files: false, to };
    // The plan reads the manifests alone; its key is checked at the destination before any file is fetched.
    const locked = await facade.planRestore(req);
    expect(fetchedFiles(s)).toEqual([]);
    expect(await facade.keyLocked(locked)).toBe('passphrase');
    expect((await keyError(facade.executeRestore(locked, silentReporter))).kind).toBe('key');
    expect(fetchLeft(s)).toEqual([]);
    expect(existsSync(to)).toBe(false);
    expect((await keyError(facade.unlockKey('chain', of))).message).toContain('Wrong passphrase');
    await facade.unlockKey('chain words', of);
    expect(await facade.keyLocked(of)).toBeNull();

    const plan = await facade.planRestore(req);
    expect(await facade.keyLocked(plan)).toBeNull();
    const events = new CollectingReporter();
    expect((await facade.executeRestore(plan, events)).ok).toBe(true);
    const fetch = events.events.filter(
      (e): e is Extract<ProgressEvent, { item: string }> => 'item' in e && e.item === `${incr} @ nas`,
    );
    const start = fetch[0];
    expect(start).toMatchObject({ type: 'item-start', kind: 'fetch' });
    const total = start?.type === 'item-start' ? start.totalBytes! : 0;
    expect(total).toBeGreaterThan(0);
    const bytes = fetch.flatMap((e) => (e.type === 'item-progress' ? [e.bytes] : []));
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
    expect(bytes.at(-1)).toBe(total);
    expect(fetch.at(-1)).toMatchObject({ type: 'item-end', ok: true, bytes: total });
    expect(dbDigest(to)).toEqual(before);
    expect(fetchLeft(s)).toEqual([]);
  }, 300_000);
});

describe.each(['en', 'es'] as const)(
  'the menu restores a set from a destination encrypted to a passphrase (%s)',
  (lang) => {
    it('after the word the passphrase: wrong, Esc, right; then the fetch, its bar (80×24, resized); restored', async () => {
      const t = catalogue(lang, true);
      const s = demoSetup({ files: undefined });
      const words = `menu words ${lang}`;
      let id = '';
      await encryptedToWords(
        s,
        words,
        async (f) => {
          id = (await f.createBackup({ databases: ['users'], type: 'full', files: false }, silentReporter)).id;
        },
        NAS,
      );
      const before = dbDigest(s.dbs.users);
      rmSync(s.backupDir, { recursive: true, force: true });
      for (const x of ['', '-wal', '-shm']) rmSync(s.dbs.users + x, { force: true });
      const facade = await facadeOf(s);
      const { lastFrame, stdin, stdout } = renderSized(<RestoreScreen onBack={() => undefined} />, { facade, lang });
      const fits = (frame: string, columns = 80): void => expect(frameProblems(frame, columns), frame).toEqual([]);
      await waitFrame(lastFrame, (x) => x.includes(t.restore.sourceDestination('nas')));
      await press(stdin, KEY.down, KEY.enter);
      await waitFrame(lastFrame, (x) => x.includes(id), SLOW);
      await press(stdin, KEY.enter);
      if ((await waitFrame(lastFrame, (x) => x.includes('users (sqlite)'), SLOW)).includes('[ ] users'))
        await press(stdin, KEY.space);
      await waitFrame(lastFrame, (x) => x.includes('[x] users (sqlite)'));
      await press(stdin, KEY.enter);
      await waitFrame(lastFrame, (x) => x.includes(t.restore.inPlace));
      await press(stdin, KEY.enter);

      // Planned on the manifest: nothing is fetched before the word and the passphrase.
      const planned = (x: string): boolean =>
        x.includes(t.confirmWord) && x.includes(t.restore.fetchFrom('nas').slice(0, 40));
      await waitFrame(lastFrame, planned, SLOW);
      expect(fetchedFiles(s)).toEqual([]);
      await type(stdin, t.confirmWord);
      await press(stdin, KEY.enter);
      const asked = await waitFrame(lastFrame, (x) => x.includes(t.restore.setPassphraseTitle), SLOW);
      fits(asked);
      expect(asked).toContain(id);
      await type(stdin, 'not the words');
      const masked = await waitFrame(lastFrame, (x) => x.includes('*'.repeat(13)));
      expect(masked).not.toContain('not the words');
      await press(stdin, KEY.enter);
      const wrong = lang === 'en' ? `Wrong passphrase: it does not open set ${id}.` : `no abre la copia ${id}`;
      const again = await waitFrame(lastFrame, (x) => x.includes(wrong), SLOW);
      fits(again);
      expect(existsSync(s.dbs.users)).toBe(false);
      expect(fetchedFiles(s)).toEqual([]);
      await press(stdin, KEY.esc);
      await waitFrame(lastFrame, (x) => x.includes(t.confirmWord) && !x.includes(t.restore.setPassphraseTitle), SLOW);
      expect(existsSync(s.dbs.users)).toBe(false);
      await type(stdin, t.confirmWord);
      await press(stdin, KEY.enter);
      await waitFrame(lastFrame, (x) => x.includes(t.restore.setPassphraseTitle) && !x.includes(wrong), SLOW);
      await type(stdin, words);
      await press(stdin, KEY.enter);
      const done = await waitFrame(lastFrame, (x) => x.includes(t.restore.outcomeOk), SLOW);
      fits(done);
      expect(done).not.toContain(words);
      // The fetch's own line among the restore's: from the destination, whole, with the set's stored size.
      const manifest = await facade.readManifest(id, 'nas');
      const total = formatBytes(manifest.databases[0]!.storedBytes!);
      const line = done.split('\n').find((l) => l.includes(t.progress.fetch('nas')));
      expect(line, done).toMatch(new RegExp(`100%.*${total.replace('.', '\\.')}`));
      Object.defineProperty(stdout, 'columns', { value: 60, configurable: true });
      stdout.emit('resize');
      fits(await waitFrame(lastFrame, (x) => x.split('\n').every((l) => l.length <= 60)), 60);
      Object.defineProperty(stdout, 'columns', { value: 80, configurable: true });
      stdout.emit('resize');
      expect(dbDigest(s.dbs.users)).toEqual(before);
      expect(fetchLeft(s)).toEqual([]);
    }, 300_000);
  },
);
