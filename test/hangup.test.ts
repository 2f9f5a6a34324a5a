import { copyFileSync, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SetSummary } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli, waitFor } from './helpers/cli.js';
import { ageKeygen } from './helpers/age.js';
import { useBigDb, useBigSet } from './helpers/big-db.js';
import { demoSetup, makeTmpDir, type DemoSetup } from './helpers/tmp.js';
import { startRecordedInTmux, type RecordedTtySession } from './helpers/tty.js';

/**
 * A dropped SSH connection: the terminal of a running backup or restore is closed (tmux kills the
 * session: the pty goes away and the shell passes SIGHUP on). The run must stop as for Ctrl-C.
 */
const bigDb = useBigDb(200);
const bigWithASet = useBigSet(bigDb);
const sessions: RecordedTtySession[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.closeTerminal();
});

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

const staging = (s: DemoSetup) =>
  existsSync(s.backupDir) ? readdirSync(s.backupDir).filter((n) => n.startsWith('.tmp-')) : [];
const lockFile = (s: DemoSetup) => join(s.backupDir, '.respaldo.lock');
const restoreStaging = (s: DemoSetup) => readdirSync(s.dataDir).filter((n) => n.includes('.respaldo-restore-'));

function start(args: string[], s: DemoSetup): RecordedTtySession {
  const tty = startRecordedInTmux(args, s.dir);
  sessions.push(tty);
  return tty;
}

async function list(s: DemoSetup): Promise<SetSummary[]> {
  const r = await runCli(['list', '--json', '--config', s.configFile], { cwd: s.dir });
  expect(r.code, describeResult(r)).toBe(0);
  return parseJsonOutput<SetSummary[]>(r.stdout);
}

function log(s: DemoSetup): string {
  const dir = join(s.backupDir, 'logs');
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('');
}

/** respaldo's processes still running, each thread's state and where it waits in the kernel (what a hang waits on). */
function processes(): string {
  try {
    const ps = (args: string[]) => execFileSync('ps', args, { encoding: 'utf8' });
    const pids = ps(['-eo', 'pid=,args='])
      .split('\n')
      .filter((l) => l.includes('bin/respaldo.js') && !l.includes(' -e ') && !l.includes('tmux'))
      .map((l) => l.trim().split(' ')[0]!);
    return pids.length ? ps(['-L', '-o', 'pid,tid,stat,wchan:28,etime,comm', '-p', pids.join(',')]) : '(none)';
  } catch (err) {
    return String(err);
  }
}

/** Closes the terminal while `tty` still runs, then checks what a clean stop leaves behind. */
async function hangUpAndCheck(tty: RecordedTtySession, s: DemoSetup): Promise<void> {
  expect(tty.running(), 'the work ended before the terminal was closed: make the database bigger').toBe(true);
  tty.closeTerminal();
  // Within the test's own 120 s, so a run that never ends says where it was (it did once, in a full run).
  const end = await tty.ended(75_000).catch((err: Error) => {
    throw new Error(`${err.message}\n--- processes ---\n${processes()}\n--- log ---\n${log(s).slice(-3000)}`);
  });
  // Stopped cleanly and ended by the hang-up, not by an assertion of Node (SIGABRT) or a crash (exit 1).
  expect(end).toEqual({ code: null, signal: 'SIGHUP' });
  expect(existsSync(lockFile(s)), 'the lock is released').toBe(false);
  expect(staging(s), 'no hidden staging folders').toEqual([]);
  expect(log(s)).toContain('interrupted (terminal closed)');
  for (const set of await list(s)) expect(set.status, `set ${set.id} is complete`).toBe('completed');
}

/** The demo with a set of users copied to a folder destination "nas"; the hash of users.db; the fetched folders. */
async function copiedToFolder() {
  const s = demoSetup({ destinations: [{ name: 'nas', type: 'folder', path: makeTmpDir() }] });
  const made = await runCli(['create', '--no-files', '--db', 'users', '--config', s.configFile], { cwd: s.dir });
  expect(made.code, describeResult(made)).toBe(0);
  const fetchedFolders = () => readdirSync(s.backupDir).filter((n) => n.startsWith('.respaldo-restore-fetch-'));
  return { s, hash: sha256(s.dbs.users), fetchedFolders };
}

function bigAndDemo(): DemoSetup {
  return demoSetup((c) => ({ ...c, databases: [{ name: 'big', path: bigDb() }, ...(c.databases as object[])] }));
}

/** From the main menu to the restore's list of the sets at destination "nas", `latest` chosen. */
async function toSetsAtNas(tty: RecordedTtySession): Promise<void> {
  await tty.waitForScreen('1. Create backup now');
  tty.send('4');
  await tty.waitForScreen('Destination "nas" (off-site copy)');
  tty.send('Down');
  tty.send('Enter');
  await tty.waitForScreen(/at destination "nas"[\s\S]*› latest/);
}

describe('the CLI, stderr on the terminal, when the terminal closes', () => {
  it('during create: stops, removes the staging folder, releases the lock and logs it', async () => {
    const s = bigAndDemo();
    const tty = start(['create', '--config', s.configFile], s);
    await waitFor(() => staging(s).length > 0, 'create to make its staging folder', 60_000, 5);
    await hangUpAndCheck(tty, s);
    expect(await list(s)).toEqual([]);
    expect(log(s)).toMatch(/"event":"interrupted","pid":\d+,"user":"[^"]+","command":"create"/);
  });

  it('during an in-place restore: stops before the swap, the live database as it was', async () => {
    const { s, live, set } = await bigWithASet();
    const hash = sha256(live);
    const tty = start(['restore', set.id, '--yes', '--config', s.configFile], s);
    await waitFor(() => restoreStaging(s).length > 0, 'the restore to write its staging file', 120_000, 5);
    await hangUpAndCheck(tty, s);
    expect(restoreStaging(s)).toEqual([]);
    expect(sha256(live)).toBe(hash);
    expect(log(s)).toMatch(/"event":"interrupted","pid":\d+,"user":"[^"]+","command":"restore"/);
  });
});

describe('the CLI waiting at "Type RESTORE", when its input ends', () => {
  // The terminal going away closes the input too, often before its SIGHUP arrives: the line must not depend on which
  // came first. Ctrl-D ends the input alone, every time.
  it('Ctrl-D: nothing restored, exit 130, an interrupted line in the log', async () => {
    const { s, hash, fetchedFolders } = await copiedToFolder();
    const tty = start(['restore', 'latest', '--from', 'nas', '--db', 'users', '--config', s.configFile], s);
    await tty.waitForScreen('Type RESTORE to go on');
    tty.send('C-d');
    expect(await tty.ended()).toEqual({ code: 130, signal: null });
    expect(fetchedFolders()).toEqual([]);
    expect(log(s)).toMatch(/"event":"interrupted","pid":\d+,"user":"[^"]+","command":"restore","reason":"input ended"/);
    expect(sha256(s.dbs.users)).toBe(hash);
  });
});

describe('the CLI waiting at "Type RESTORE", when the terminal closes', () => {
  it('a set fetched from a destination: the fetched folder removed, nothing restored, interrupted logged', async () => {
    const { s, hash, fetchedFolders } = await copiedToFolder();
    const tty = start(['restore', 'latest', '--from', 'nas', '--db', 'users', '--config', s.configFile], s);
    await tty.waitForScreen('Type RESTORE to go on');
    expect(fetchedFolders()).toHaveLength(1);
    tty.closeTerminal();
    const end = await tty.ended();
    expect(end).toEqual({ code: null, signal: 'SIGHUP' }); // stopped as a hung-up program does, not a crash
    expect(fetchedFolders()).toEqual([]);
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.temp-journal'))).toEqual([]);
    expect(log(s)).toMatch(/"event":"interrupted","pid":\d+,"user":"[^"]+","command":"restore"/);
    expect(sha256(s.dbs.users)).toBe(hash);
  });
});

describe('the menu, when the terminal closes', () => {
  it('during a backup: stops it as Ctrl-C would, cleans up and logs it', async () => {
    const s = bigAndDemo();
    const tty = start(['--config', s.configFile], s);
    await tty.waitForScreen('1. Create backup now');
    tty.send('1');
    await tty.waitForScreen('Start backup');
    tty.send('Enter');
    await waitFor(() => staging(s).length > 0, 'the backup to make its staging folder', 60_000, 5);
    await hangUpAndCheck(tty, s);
    expect(await list(s)).toEqual([]);
    expect(log(s)).toMatch(/"event":"interrupted","pid":\d+,"user":"[^"]+","command":"menu"/);
  });

  it('at the plan of a restore from a destination: the set fetched for it is removed, nothing restored', async () => {
    const { s, hash, fetchedFolders } = await copiedToFolder();
    const tty = start(['--config', s.configFile], s);
    await toSetsAtNas(tty);
    tty.send('Enter');
    await tty.waitForScreen('users (sqlite)');
    tty.send('Enter');
    await tty.waitForScreen('In place: replace the live database');
    tty.send('Enter');
    await tty.waitForScreen('Type RESTORE', 60_000);
    expect(fetchedFolders()).toHaveLength(1);
    tty.closeTerminal();
    expect(await tty.ended()).toEqual({ code: null, signal: 'SIGHUP' });
    expect(fetchedFolders()).toEqual([]);
    expect(existsSync(lockFile(s))).toBe(false);
    expect(sha256(s.dbs.users)).toBe(hash);
  });

  it('quit with Ctrl-C at the plan of a restore from a destination: the set fetched for it is removed', async () => {
    // Not a hang-up: the operator quits. The fetched folder was left for the next run (`status`: Leftovers).
    const { s, hash, fetchedFolders } = await copiedToFolder();
    const tty = start(['--config', s.configFile], s);
    await toSetsAtNas(tty);
    tty.send('Enter');
    await tty.waitForScreen('users (sqlite)');
    tty.send('Enter');
    await tty.waitForScreen('In place: replace the live database');
    tty.send('Enter');
    await tty.waitForScreen('Type RESTORE', 60_000);
    expect(fetchedFolders()).toHaveLength(1);
    tty.send('C-c');
    // Quit by Ctrl-C at a question: interrupted (130), as a command stopped by Ctrl-C; nothing was changed.
    expect(await tty.ended()).toEqual({ code: 130, signal: null });
    expect(fetchedFolders()).toEqual([]);
    expect(sha256(s.dbs.users)).toBe(hash);
  });

  it('during a drill of the copy at a destination, on a new server: the fetched copy removed, logged', async () => {
    const s = demoSetup((c) => ({
      ...c,
      databases: [{ name: 'big', path: bigDb() }],
      files: undefined,
      destinations: [{ name: 'nas', type: 'folder', path: makeTmpDir() }],
    }));
    const made = await runCli(['create', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    rmSync(s.backupDir, { recursive: true, force: true });
    const fetched = () =>
      existsSync(s.backupDir) ? readdirSync(s.backupDir).filter((n) => n.startsWith('.respaldo-restore-fetch-')) : [];
    const tty = start(['--config', s.configFile], s);
    await toSetsAtNas(tty);
    tty.send('d');
    await waitFor(() => fetched().length > 0, 'the drill to fetch the set', 60_000, 5);
    await hangUpAndCheck(tty, s);
    expect(fetched()).toEqual([]);
    expect(readdirSync(s.backupDir).filter((n) => n !== 'logs' && n !== '.temp-journal')).toEqual([]);
  });

  it('during a restore from a destination, while its set is decrypted: stopped, never said to be damaged', async () => {
    // The set fetched for the restore was removed at the hang-up while the restore still decrypted it: the next
    // file it opened was gone, and the log said the copy at the destination "failed authentication while
    // decrypting (ENOENT …): it was changed or damaged" (outcome refused, verifyFailed).
    const dir = makeTmpDir();
    const big = join(dir, 'big.db');
    copyFileSync(bigDb(), big);
    const s = demoSetup((c) => ({
      ...c,
      databases: [{ name: 'big', path: big }, ...(c.databases as object[])],
      files: undefined,
      encryption: { recipients: [ageKeygen(join(dir, 'key.txt'))], identityFile: join(dir, 'key.txt') },
      destinations: [{ name: 'nas', type: 'folder', path: makeTmpDir() }],
    }));
    const made = await runCli(['create', '--db', 'big', '--db', 'users', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const hashes = [sha256(big), sha256(s.dbs.users)];
    const decrypted = () =>
      readdirSync(s.backupDir)
        .filter((n) => n.startsWith('.tmp-restore-'))
        .some((n) => existsSync(join(s.backupDir, n, 'decrypted', 'databases')));
    const tty = start(['--config', s.configFile], s);
    await toSetsAtNas(tty);
    tty.send('Enter');
    await tty.waitForScreen('users (sqlite)');
    tty.send('Space');
    tty.send('Down');
    tty.send('Space');
    await tty.waitForScreen(/\[x\] big[\s\S]*\[x\] users/);
    tty.send('Enter');
    await tty.waitForScreen('In place: replace the live database');
    tty.send('Enter');
    await tty.waitForScreen('Type RESTORE', 60_000);
    tty.send('RESTORE', true);
    await tty.waitForScreen('› RESTORE');
    tty.send('Enter');
    await waitFor(decrypted, 'the restore to decrypt the fetched set', 120_000, 5);
    await hangUpAndCheck(tty, s);
    expect(log(s)).not.toContain('changed or damaged');
    expect(log(s)).toMatch(/"event":"restore-end","pid":\d+,"user":"[^"]+","setId":"[^"]+","outcome":"interrupted"/);
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.respaldo-restore-fetch-'))).toEqual([]);
    expect([sha256(big), sha256(s.dbs.users)]).toEqual(hashes);
  });

  it('while the scheduler (option 5) runs a job: the job finishes and is kept, as `respaldo scheduler` does', async () => {
    const s = demoSetup((c) => ({
      ...c,
      databases: [{ name: 'big', path: bigDb() }],
      files: undefined,
      schedule: { jobs: [{ name: 'often', when: '* * * * * *', type: 'full', databases: ['*'], files: false }] },
    }));
    const tty = start(['--config', s.configFile], s);
    await tty.waitForScreen('1. Create backup now');
    tty.send('5');
    // A job due every second has always just been missed: its catch-up is offered first.
    if ((await tty.waitForScreen(/s skip it and start|Waiting for the next run/)).includes('s skip it')) tty.send('s');
    await waitFor(() => staging(s).length > 0, 'the scheduled job to make its staging folder', 60_000, 5);
    expect(tty.running()).toBe(true);
    tty.closeTerminal();
    expect(await tty.ended(120_000)).toEqual({ code: null, signal: 'SIGHUP' });
    // It stopped the scheduler twice, aborting the job: no set, the scheduled backup lost.
    const sets = await list(s);
    expect(sets.map((x) => [x.status, x.databases])).toEqual([['completed', ['big']]]);
    expect(existsSync(lockFile(s))).toBe(false);
    expect(staging(s)).toEqual([]);
    expect(log(s)).toMatch(/"event":"scheduler-stop","pid":\d+,"user":"[^"]+","exitCode":130/);
  });

  it('during an in-place restore: stops before the swap, the live database as it was', async () => {
    const { s, live } = await bigWithASet();
    const hash = sha256(live);
    const tty = start(['--config', s.configFile], s);
    await tty.waitForScreen('1. Create backup now');
    tty.send('4');
    await tty.waitForScreen('Choose the backup set');
    tty.send('Enter');
    await tty.waitForScreen('What to restore');
    tty.send('Enter');
    await tty.waitForScreen('Where to restore');
    tty.send('Enter');
    await tty.waitForScreen('Type RESTORE');
    tty.send('RESTORE', true);
    await tty.waitForScreen('› RESTORE');
    tty.send('Enter');
    await waitFor(() => restoreStaging(s).length > 0, 'the restore to write its staging file', 120_000, 5);
    await hangUpAndCheck(tty, s);
    expect(restoreStaging(s)).toEqual([]);
    expect(sha256(live)).toBe(hash);
    expect(log(s)).toMatch(/"event":"interrupted","pid":\d+,"user":"[^"]+","command":"menu"/);
  });
});
