import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest, SetSummary } from '../src/core/types.js';
import { loadConfig } from '../src/config/load.js';
import { silentReporter } from '../src/core/events.js';
import { fetchSet } from '../src/engine/remote-fetch.js';
import { ageKeygen } from './helpers/age.js';
import { collect, describeResult, parseJsonOutput, runCli, startCli, waitFor } from './helpers/cli.js';
import { useBigDb, useBigSet } from './helpers/big-db.js';
import { dbDigest, execSql, rowCounts } from './helpers/sqlite.js';
import { demoSetup, makeTmpDir, type DemoSetup } from './helpers/tmp.js';
import { TMUX_SERVER, startCliInTmux } from './helpers/tty.js';

const bigDb = useBigDb(200);
const bigWithASet = useBigSet(bigDb);
/**
 * The second database (or file) of the tests that stop a decryption in the first: never begun after the Ctrl-C, it
 * need only be big enough that its decryption, when wrongly begun, is seen (its file there for a tenth of a second
 * at least); the first stays big, so that the Ctrl-C lands in it.
 */
const secondDb = useBigDb(48);

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function setup(): DemoSetup {
  return demoSetup((c) => ({ ...c, databases: [{ name: 'big', path: bigDb() }, ...(c.databases as object[])] }));
}

const staging = (s: DemoSetup) =>
  existsSync(s.backupDir) ? readdirSync(s.backupDir).filter((n) => n.startsWith('.tmp-')) : [];

function storedBytesInStaging(s: DemoSetup): number {
  for (const t of staging(s)) {
    const dir = join(s.backupDir, t, 'databases');
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (f.startsWith('big_')) return statSync(join(dir, f)).size;
  }
  return 0;
}

async function list(s: DemoSetup): Promise<SetSummary[]> {
  const r = await runCli(['list', '--json', '--config', s.configFile], { cwd: s.dir });
  expect(r.code, describeResult(r)).toBe(0);
  return parseJsonOutput<SetSummary[]>(r.stdout);
}

/** Waits until the restore writes the hidden staging file of big.db in `dir`, past 8 MiB (so that it is mid-way). */
async function stagingOfBig(dir: string, what: string): Promise<void> {
  await waitFor(
    () => {
      const f = readdirSync(dir).find((n) => n.startsWith('.big.db.respaldo-restore-'));
      return f && statSync(join(dir, f)).size > 8 * 1024 * 1024;
    },
    what,
    120_000,
    5,
  );
}

describe('an interrupted create leaves no visible set', () => {
  it.each([
    ['as soon as the staging folder appears', (s: DemoSetup) => staging(s).length > 0],
    ['while the big database is being compressed', (s: DemoSetup) => storedBytesInStaging(s) > 4 * 1024 * 1024],
  ])('SIGKILL %s: list shows nothing, the next create cleans up and succeeds', async (_when, ready) => {
    const s = setup();
    const child = startCli(['create', '--config', s.configFile], { cwd: s.dir });
    const done = collect(child);
    await waitFor(() => ready(s), 'the kill point', 60_000, 2);
    expect(child.exitCode, 'create finished before it could be killed: make the database bigger').toBeNull();
    child.kill('SIGKILL');
    const r = await done;
    expect(r.signal).toBe('SIGKILL');

    const left = staging(s);
    expect(left).toHaveLength(1);
    expect(await list(s)).toEqual([]);
    const restore = await runCli(['restore', 'latest', '--yes', '--config', s.configFile], { cwd: s.dir });
    expect(restore.code, describeResult(restore)).toBe(8);
    const leftId = left[0]!.slice('.tmp-'.length);
    const show = await runCli(['show', leftId, '--config', s.configFile], { cwd: s.dir });
    expect(show.code, describeResult(show)).toBe(8);
    const status = await runCli(['status', '--json', '--config', s.configFile], { cwd: s.dir });
    const st = parseJsonOutput<{ sets: number; leftovers: string[]; lock: { held: boolean } }>(status.stdout);
    expect(st.sets).toBe(0);
    expect(st.leftovers).toEqual(left);
    expect(st.lock.held).toBe(false); // the killed process's lock is stale
    // still there: only a create (holding the lock) removes it
    expect(existsSync(join(s.backupDir, left[0]!))).toBe(true);

    const next = await runCli(['create', '--json', '--db', 'users', '--config', s.configFile], { cwd: s.dir });
    expect(next.code, describeResult(next)).toBe(0);
    const m = parseJsonOutput<Manifest>(next.stdout);
    expect(staging(s)).toEqual([]);
    expect(existsSync(join(s.backupDir, '.respaldo.lock'))).toBe(false);
    expect((await list(s)).map((x) => x.id)).toEqual([m.id]);
    const log = readFileSync(join(s.backupDir, 'logs', readdirSync(join(s.backupDir, 'logs'))[0]!), 'utf8');
    expect(log).toContain('"event":"cleanup"');
    expect(log).toContain(left[0]!);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s stops create with exit 130 and removes the staging folder',
    async (sig) => {
      const s = setup();
      const child = startCli(['create', '--config', s.configFile], { cwd: s.dir });
      const done = collect(child);
      await waitFor(() => storedBytesInStaging(s) > 1024 * 1024, 'create to be storing the big database', 60_000, 5);
      expect(child.exitCode).toBeNull();
      child.kill(sig);
      const r = await done;
      expect(r.code, describeResult(r)).toBe(130);
      expect(r.stderr).toContain(`${sig} received`);
      expect(staging(s)).toEqual([]);
      expect(existsSync(join(s.backupDir, '.respaldo.lock'))).toBe(false);
      expect(await list(s)).toEqual([]);
      const log = readFileSync(join(s.backupDir, 'logs', readdirSync(join(s.backupDir, 'logs'))[0]!), 'utf8');
      expect(log).toContain('"outcome":"interrupted"');
    },
  );
});

describe('progress output', () => {
  it('on a terminal create shows live progress (bytes, percent, rate); piped it stays quiet', async () => {
    const s = demoSetup((c) => ({ ...c, databases: [{ name: 'big', path: bigDb() }] }));
    const tty = startCliInTmux(['create', '--no-files', '--config', s.configFile], s.dir);
    try {
      await tty.waitForScreen(/big: [\d.]+ (KB|MB|GB) \d+% [\d.]+ (KB|MB|GB)\/s/, 60_000);
      expect(await tty.exitCode(120_000)).toBe(0);
      expect(tty.screen()).toMatch(/Backup set \d{8}_\d{6}\S*: COMPLETED/);
    } finally {
      tty.kill();
    }
    const piped = await runCli(['create', '--no-files', '--config', s.configFile], { cwd: s.dir });
    expect(piped.code, describeResult(piped)).toBe(0);
    expect(piped.stderr).toBe('');
    expect(piped.stdout).toMatch(/COMPLETED/);
    expect(piped.stdout).not.toContain('\r');
  });
});

describe('an interrupted restore', () => {
  it('Ctrl-C during a restore stops it before the swap: no staging file, the live database as it was, exit 130', async () => {
    const { s, live, set: m } = await bigWithASet();
    const liveHash = sha256(live);
    const child = startCli(['restore', m.id, '--yes', '--config', s.configFile], { cwd: s.dir });
    const done = collect(child);
    const stagingFile = () => readdirSync(s.dataDir).find((n) => n.startsWith('.big.db.respaldo-restore-'));
    await stagingOfBig(s.dataDir, 'the restore to be writing its staging file');
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.kill('SIGINT');
    await waitFor(
      () => err.includes('SIGINT received') || child.exitCode !== null,
      'the first Ctrl-C to be taken',
      30_000,
      5,
    );
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, describeResult(r)).toBe(130);
    expect(r.stdout).not.toMatch(/restored big/);
    expect(stagingFile()).toBeUndefined();
    expect(sha256(live)).toBe(liveHash);
    // the safety copy it took is gone, and the error says so (it was only in the log)
    expect(r.stderr).toMatch(
      /Nothing was replaced, so the safety copy taken for this restore \(set \S+\) was removed\./,
    );
    const sets = await runCli(['list', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(parseJsonOutput<{ type: string }[]>(sets.stdout).map((x) => x.type)).toEqual(['full']);
  });

  it('Ctrl-C while an encrypted set is decrypted for a restore stops the decryption, not after every file', async () => {
    // The decryption took no signal: it went on through every file of the set (minutes for a big one) before the
    // restore noticed the Ctrl-C. Two big databases: the second must never be decrypted.
    const dir = makeTmpDir();
    const lives = ['big1', 'big2'].map((n) => join(dir, `${n}.db`));
    copyFileSync(bigDb(), lives[0]!);
    copyFileSync(secondDb(), lives[1]!);
    const key = join(dir, 'key.txt');
    const s = demoSetup((c) => ({
      ...c,
      databases: lives.map((path, i) => ({ name: `big${i + 1}`, path })),
      files: undefined,
      encryption: { recipients: [ageKeygen(key)], identityFile: key },
    }));
    const made = await runCli(['create', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const hashes = lives.map(sha256);
    const child = startCli(['restore', 'latest', '--yes', '--config', s.configFile], { cwd: s.dir });
    const done = collect(child);
    const decrypted = () =>
      staging(s).flatMap((t) => {
        const d = join(s.backupDir, t, 'decrypted', 'databases');
        return existsSync(d) ? readdirSync(d) : [];
      });
    await waitFor(() => decrypted().some((f) => f.startsWith('big1_')), 'big1 to be decrypted', 120_000, 5);
    child.kill('SIGINT');
    let secondStarted = false;
    while (child.exitCode === null && child.signalCode === null) {
      if (decrypted().some((f) => f.startsWith('big2_'))) secondStarted = true;
      await new Promise((r) => setTimeout(r, 5));
    }
    const r = await done;
    expect(r.code, describeResult(r)).toBe(130);
    expect(secondStarted, 'big2 was decrypted after the Ctrl-C').toBe(false);
    expect(lives.map(sha256)).toEqual(hashes);
    expect(staging(s)).toEqual([]);
  });

  it("Ctrl-C while a drill decrypts an encrypted set's files stops the decryption, and is no failed drill", async () => {
    // drillFiles decrypted without the signal: every file of the set was decrypted before the drill noticed the
    // Ctrl-C. Two big files: the second must never be decrypted, and nothing is recorded.
    const dir = makeTmpDir();
    const app = join(dir, 'app');
    mkdirSync(app);
    copyFileSync(bigDb(), join(app, 'big1.bin'));
    copyFileSync(secondDb(), join(app, 'big2.bin'));
    const key = join(dir, 'key.txt');
    const s = demoSetup((c) => ({
      ...c,
      databases: [{ name: 'users', engine: 'sqlite', path: './data/users.db' }],
      files: { application: [{ path: app, include: ['**'] }] },
      encryption: { recipients: [ageKeygen(key)], identityFile: key },
    }));
    const made = await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const m = parseJsonOutput<Manifest>(made.stdout);
    const child = startCli(['drill', m.id, '--files', '--config', s.configFile], { cwd: s.dir });
    const done = collect(child);
    const decrypted = () =>
      staging(s).flatMap((t) => {
        const d = join(s.backupDir, t, '.decrypted-files');
        return existsSync(d) ? readdirSync(d, { recursive: true, encoding: 'utf8' }) : [];
      });
    await waitFor(() => decrypted().some((f) => f.includes('big1')), 'big1.bin to be decrypted', 120_000, 5);
    child.kill('SIGINT');
    let secondStarted = false;
    while (child.exitCode === null && child.signalCode === null) {
      if (decrypted().some((f) => f.includes('big2'))) secondStarted = true;
      await new Promise((r) => setTimeout(r, 5));
    }
    const r = await done;
    expect(r.code, describeResult(r)).toBe(130);
    expect(r.stderr).toMatch(/Drill interrupted; its scratch targets are removed, and nothing live was touched\./);
    expect(secondStarted, 'big2.bin was decrypted after the Ctrl-C').toBe(false);
    expect(existsSync(join(s.backupDir, m.id, 'drilled.json')), 'an interrupted drill was recorded').toBe(false);
    expect(staging(s)).toEqual([]);
  });

  it('Ctrl-C while the earlier set of a chain fetched from a destination is decrypted stops that decryption', async () => {
    // decryptMember decrypted without the signal: every database of the chain's full set was decrypted before the
    // restore noticed the Ctrl-C. Two big databases: the second must never be decrypted.
    const dir = makeTmpDir();
    const lives = ['big1', 'big2'].map((n) => join(dir, `${n}.db`));
    copyFileSync(bigDb(), lives[0]!);
    copyFileSync(secondDb(), lives[1]!);
    const key = join(dir, 'key.txt');
    const s = demoSetup((c) => ({
      ...c,
      source: 'srv1',
      // Local sets plain and chained, the copies there encrypted.
      destinations: [{ name: 'nas', type: 'folder', path: './nas', encrypt: true }],
      databases: lives.map((path, i) => ({ name: `big${i + 1}`, path })),
      files: undefined,
      encryption: { recipients: [ageKeygen(key)], identityFile: key, local: false },
    }));
    mkdirSync(join(s.dir, 'nas'));
    for (const type of ['full', 'incremental']) {
      for (const f of lives) execSql(f, `UPDATE blobs SET data = randomblob(100) WHERE id = 7;`);
      const made = await runCli(['create', '--type', type, '--config', s.configFile], { cwd: s.dir });
      expect(made.code, describeResult(made)).toBe(0);
      const copied = await runCli(['copy', '--to', 'nas', '--config', s.configFile], { cwd: s.dir });
      expect(copied.code, describeResult(copied)).toBe(0);
    }
    const [full, inc] = (await list(s)).map((x) => x.id).sort();
    rmSync(s.backupDir, { recursive: true, force: true });
    const hashes = lives.map(sha256);
    // In process, as the menu fetches (a CLI exits at once, ending the decryption with it): the menu lived on with
    // the decryption of the whole set going on after the Ctrl-C, writing into a folder the fetch had removed.
    const cfg = await loadConfig({ configPath: s.configFile });
    const stop = new AbortController();
    const root = join(s.backupDir, `.respaldo-restore-fetch-${process.pid}`);
    const member = join(root, `${full}.decrypted`, 'databases');
    const caught = fetchSet(cfg, 'nas', inc!, {}, silentReporter, stop.signal).catch((err: unknown) => err);
    const started = (n: string) => existsSync(member) && readdirSync(member).some((f) => f.startsWith(`${n}_`));
    await waitFor(() => started('big1'), `big1 of ${full} to be decrypted`, 120_000, 5);
    stop.abort();
    expect(await caught).toMatchObject({ kind: 'interrupted' });
    // The files this process still has open there (removed with the folder: "… (deleted)"), and how much of each
    // was written: the decryption under way stops too, big1 unfinished, big2 never begun.
    const open = () =>
      readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          const path = `/proc/self/fd/${fd}`;
          return readlinkSync(path).includes(`${full}.decrypted`) ? [{ path, bytes: statSync(path).size }] : [];
        } catch {
          return []; // closed meanwhile
        }
      });
    let written = 0;
    let secondStarted = false;
    await waitFor(
      () => {
        const now = open();
        for (const f of now) written = Math.max(written, f.bytes);
        if (started('big2')) secondStarted = true;
        return now.length === 0;
      },
      'the decryption to stop',
      120_000,
      1,
    );
    expect(written, 'big1 was decrypted to its end after the Ctrl-C').toBeLessThan(statSync(bigDb()).size / 2);
    expect(secondStarted, 'big2 was decrypted after the Ctrl-C').toBe(false);
    expect(existsSync(root)).toBe(false);
    expect(lives.map(sha256)).toEqual(hashes);
  });

  it('Ctrl-C on a terminal during an in-place restore says once that the safety copy was removed', async () => {
    const { s, live } = await bigWithASet();
    const liveHash = sha256(live);
    const tty = startCliInTmux(['restore', 'latest', '--db', 'big', '--yes', '--config', s.configFile], s.dir, {
      width: 250,
    });
    try {
      await stagingOfBig(s.dataDir, 'the restore to be writing its staging file');
      execFileSync('tmux', [...TMUX_SERVER, 'send-keys', '-t', tty.name, 'C-c']);
      expect(await tty.exitCode(120_000)).toBe(130);
      const said = tty.screen().match(/Nothing was replaced, so the safety copy taken for this restore \(set \S+\)/g);
      expect(said, tty.screen()).toHaveLength(1);
    } finally {
      tty.kill();
    }
    expect(sha256(live)).toBe(liveHash);
    expect((await list(s)).map((x) => x.type)).toEqual(['full']);
  });

  it('Ctrl-C in the second database of a restore: the error says the first was replaced and how to roll it back, and that works', async () => {
    const s = demoSetup();
    const big = join(s.dataDir, 'big.db');
    copyFileSync(bigDb(), big);
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as { databases: object[] };
    writeFileSync(s.configFile, JSON.stringify({ ...doc, databases: [doc.databases[0], { name: 'big', path: big }] }));
    const made = await runCli(['create', '--json', '--no-files', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const m = parseJsonOutput<Manifest>(made.stdout);
    expect(m.databases.map((d) => d.name)).toEqual(['users', 'big']);
    execSql(s.dbs.users, 'DELETE FROM users WHERE id % 2 = 0');
    const changed = dbDigest(s.dbs.users);
    const bigHash = sha256(big);

    const child = startCli(['restore', m.id, '--yes', '--config', s.configFile], { cwd: s.dir });
    const done = collect(child);
    await stagingOfBig(s.dataDir, 'the restore to be writing the staging file of big');
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, describeResult(r)).toBe(130);
    expect(sha256(big)).toBe(bigHash);
    // The rollback command names the config the restore was given, so it works typed from any folder.
    const said =
      /That was big; restored before it stopped, so replaced: users\. Safety copy: set (\S+)\. To roll back: (respaldo restore \S+ --db users --yes --config \S+)/.exec(
        r.stderr.replace(/\s+/g, ' '),
      );
    expect(said, r.stderr).not.toBeNull();
    expect(dbDigest(s.dbs.users)).not.toEqual(changed);
    const back = await runCli(said![2]!.split(' ').slice(1), { cwd: '/' });
    expect(back.code, describeResult(back)).toBe(0);
    expect(dbDigest(s.dbs.users)).toEqual(changed);
  });

  it('SIGKILL while the restored file is written leaves the live database as it was; the next restore cleans up', async () => {
    const { s, live, set: m } = await bigWithASet();
    const liveHash = sha256(live);

    const child = startCli(['restore', m.id, '--yes', '--config', s.configFile], { cwd: s.dir });
    const done = collect(child);
    const stagingFile = () =>
      readdirSync(s.dataDir).find((n) => n.startsWith('.big.db.respaldo-restore-') && n.endsWith('.tmp'));
    await waitFor(
      () => {
        const f = stagingFile();
        return f && statSync(join(s.dataDir, f)).size > 8 * 1024 * 1024;
      },
      'the restore to be writing its staging file',
      120_000,
      5,
    );
    expect(child.exitCode).toBeNull();
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');

    expect(sha256(live)).toBe(liveHash);
    expect(stagingFile()).toBeDefined();
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.tmp'))).not.toEqual([]);

    const again = await runCli(['restore', m.id, '--yes', '--config', s.configFile], { cwd: s.dir });
    expect(again.code, describeResult(again)).toBe(0);
    expect(again.stdout).toContain('recovered: removed an unfinished restore file');
    expect(readdirSync(s.dataDir).filter((n) => n.includes('respaldo-'))).toEqual([]);
    expect(rowCounts(live)).toEqual(m.databases[0]!.tables);
    // the killed run's scratch folder went with the next restore
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.tmp'))).toEqual([]);
  });
  it('SIGKILL during a side-by-side restore into another folder: the next run removes the hidden staging file there', async () => {
    const { s, set: m } = await bigWithASet();
    const elsewhere = join(s.dir, 'checks');
    const child = startCli(
      ['restore', m.id, '--to', join(elsewhere, 'big-check.db'), '--yes', '--config', s.configFile],
      { cwd: s.dir },
    );
    const done = collect(child);
    const stagingFile = () =>
      existsSync(elsewhere)
        ? readdirSync(elsewhere).find((n) => n.startsWith('.big-check.db.respaldo-restore-'))
        : undefined;
    await waitFor(
      () => {
        const f = stagingFile();
        return f && statSync(join(elsewhere, f)).size > 8 * 1024 * 1024;
      },
      'the side-by-side restore to be writing its staging file',
      120_000,
      5,
    );
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    expect(stagingFile()).toBeDefined();
    expect(existsSync(join(elsewhere, 'big-check.db'))).toBe(false);

    // Any later run under the lock sweeps it: here a backup.
    const next = await runCli(['create', '--config', s.configFile], { cwd: s.dir });
    expect(next.code, describeResult(next)).toBe(0);
    // ...and the folder the killed restore made for it, left empty.
    expect(existsSync(elsewhere)).toBe(false);
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.'))).toEqual([]);
    const again = await runCli(
      ['restore', m.id, '--to', join(elsewhere, 'big-check.db'), '--yes', '--config', s.configFile],
      { cwd: s.dir },
    );
    expect(again.code, describeResult(again)).toBe(0);
    expect(readdirSync(elsewhere)).toEqual(['big-check.db']);
  });
});
