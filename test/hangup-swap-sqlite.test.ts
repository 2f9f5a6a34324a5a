/**
 * A dropped SSH connection (the terminal closed: SIGHUP) while a SQLite restore in place swaps the restored file in,
 * with the built CLI in a real terminal (tmux): `respaldo restore`, and the menu's restore (the same, and the menu
 * ended by the hang-up, logged). The live database has a -wal of committed rows (its application was
 * killed), which the swap sets aside before it renames the restored file over the database. strace stops the run
 * (SIGSTOP injected) at the swap's first step (the run's one chown: the restored file given the live one's owner);
 * the terminal is closed then, its SIGHUP passed on, and the run let go once the signal is pending. The live database
 * is then the restored one, complete (integrity_check, row counts), never the old file without its -wal (a run that
 * checked the signal between the swap's renames left that, and fails here); the old one is kept whole (its -wal's
 * rows too) in the pre_restore set, which `status` names; nothing left over beside the database. */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StatusReport } from '../src/engine/status.js';
import { CLI_BIN, describeResult, parseJsonOutput, runCli, waitFor } from './helpers/cli.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';
import { startRecordedInTmux, type RecordedTtySession } from './helpers/tty.js';

const straceAvailable = spawnSync('strace', ['-V']).status === 0;
const sessions: RecordedTtySession[] = [];
/** Runs a failed test left stopped: killed, with their terminals. */
const stoppedRuns: number[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.closeTerminal();
  for (const pid of stoppedRuns.splice(0))
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* ended */
    }
});

/** The pid of the CLI (not strace, not the recorder) running with `config`, or null. */
function cliPid(config: string): number | null {
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (argv[0] === process.execPath && argv[1] === CLI_BIN && argv.includes(config)) return Number(p);
    } catch {
      /* gone */
    }
  }
  return null;
}

/** A line of /proc/PID/status (State, ShdPnd). */
function procStatus(pid: number, key: string, task?: string): string {
  const line = readFileSync(task ? `/proc/${pid}/task/${task}/status` : `/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${key}:`));
  return line?.slice(key.length + 1).trim() ?? '';
}

/** Whether every thread of `pid` is stopped (a group stop: a tracee's syscall stops are one thread's at a time). */
function stopped(pid: number): boolean {
  try {
    const tasks = readdirSync(`/proc/${pid}/task`);
    return tasks.every((t) => /^[tT]/.test(procStatus(pid, 'State', t)));
  } catch {
    return false;
  }
}

function count(file: string): { integrity: string; rows: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return {
      integrity: db.pragma('integrity_check', { simple: true }) as string,
      rows: (db.prepare('SELECT count(*) AS n FROM probe').get() as { n: number }).n,
    };
  } finally {
    db.close();
  }
}

function log(s: DemoSetup): string {
  const dir = join(s.backupDir, 'logs');
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('');
}

/** A set of users with 1000 rows in `probe`; then 100 more committed to its -wal by an application killed since. */
async function setThenKilledApplication(s: DemoSetup): Promise<string> {
  const db = new Database(s.dbs.users);
  db.exec('CREATE TABLE probe (id INTEGER PRIMARY KEY, v TEXT)');
  db.exec(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000)
    INSERT INTO probe (v) SELECT 'row' FROM c`);
  db.close();
  const made = await runCli(['create', '--no-files', '--db', 'users', '--json', '--config', s.configFile], {
    cwd: s.dir,
  });
  expect(made.code, describeResult(made)).toBe(0);
  const app = [
    "const db = new (require('better-sqlite3'))(process.argv[1]);",
    "db.pragma('journal_mode = WAL'); db.pragma('wal_autocheckpoint = 0');",
    'db.exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100) INSERT INTO probe (v) SELECT \'new\' FROM c");',
    "process.kill(process.pid, 'SIGKILL');",
  ].join('');
  const killed = spawnSync(process.execPath, ['-e', app, s.dbs.users], { cwd: join(__dirname, '..') });
  expect(killed.signal, killed.stderr.toString()).toBe('SIGKILL');
  expect(readdirSync(s.dataDir)).toContain('users.db-wal');
  return parseJsonOutput<{ id: string }>(made.stdout).id;
}

const staging = (id: string) => `.users.db.respaldo-restore-${id}.tmp`;

/**
 * Runs `args` (a restore of set `id`, or the menu, which `drive` takes to its restore) under strace, stopped as the
 * swap begins; closes its terminal then; checks the restored database whole, the old one in the safety set.
 */
async function hangUpAtTheSwap(
  s: DemoSetup,
  id: string,
  args: string[],
  drive: (tty: RecordedTtySession) => Promise<void>,
): Promise<void> {
  const trace = join(s.dir, 'swap.strace');
  // The swap's first step gives the restored file the live one's owner: the run's one chown (the files are not
  // restored, the lock's folder is root's). Stopped there: checked, in use by none, nothing renamed yet.
  const chowns = 'chown,fchownat';
  const wrap = ['strace', '-f', '-qq', '--seccomp-bpf', '-o', trace, '-e', `trace=${chowns}`];
  wrap.push('-e', `inject=${chowns}:signal=SIGSTOP`);
  const tty = startRecordedInTmux(args, s.dir, { wrap });
  sessions.push(tty);
  await drive(tty);
  // Stopped at the swap: every thread of the run stopped, the restored file beside the live one and its -wal. The
  // chown traced is waited for too: as the run starts, each thread it makes stops in turn under strace -f (a ptrace
  // stop, 't' as a group stop is), and once every thread showed 't' 1.5 s into a whole run of the suite, before the
  // restore had begun.
  const chowned = () => existsSync(trace) && /chown/.test(readFileSync(trace, 'utf8'));
  const pid = await waitFor(
    () => {
      const p = cliPid(s.configFile);
      return p !== null && chowned() && stopped(p) ? p : null;
    },
    'the restore to stop at the swap',
    120_000,
    20,
  ).catch((e: unknown) => {
    const p = cliPid(s.configFile);
    const states = p === null ? ['no run'] : readdirSync(`/proc/${p}/task`).map((t) => procStatus(p, 'State', t));
    const traced = readFileSync(trace, 'utf8');
    throw new Error(
      `${String(e)}\n${readdirSync(s.dataDir).join(' ')}\n${states.join(', ')}\n${traced}${tty.screen()}`,
    );
  });
  expect(readdirSync(s.dataDir).filter((n) => n.startsWith('users.db') || n.startsWith('.users.db'))).toEqual(
    [staging(id), 'users.db', 'users.db-shm', 'users.db-wal'].sort(),
  );
  // The terminal goes away (the run's output now fails on a dead pty); its SIGHUP, which the recorder passes to its
  // child as a shell passes it to its job, stops at strace (it blocks it): passed on to the run here.
  tty.closeTerminal();
  stoppedRuns.push(pid);
  process.kill(pid, 'SIGHUP');
  // The hang-up is pending (ShdPnd: SIGHUP is bit 0) before the run goes on.
  await waitFor(() => (BigInt(`0x${procStatus(pid, 'ShdPnd')}`) & 1n) === 1n, 'SIGHUP to be pending', 30_000, 20);
  process.kill(pid, 'SIGCONT');
  const end = await tty.ended(120_000);
  // Stopped by the hang-up (re-raised once the run ended), not by a crash.
  expect(end).toEqual({ code: null, signal: 'SIGHUP' });

  // The swap was under way: it is finished, never cut between its renames.
  const left = readdirSync(s.dataDir).filter((n) => n.startsWith('users.db-') || n.startsWith('.users.db'));
  expect(left).toEqual([]);
  expect(count(s.dbs.users)).toEqual({ integrity: 'ok', rows: 1000 });
  expect(log(s)).toMatch(/"event":"restore-database"[^\n]*"db":"users"[^\n]*"outcome":"ok"/);
  const st = await runCli(['status', '--json', '--config', s.configFile], { cwd: s.dir });
  expect(st.code, describeResult(st)).toBe(0);
  const json = parseJsonOutput<StatusReport>(st.stdout);
  expect(json.leftovers).toEqual([]);
  expect(json.lock.held).toBe(false);
  expect(json.lastRestores).toEqual([expect.objectContaining({ database: 'users', outcome: 'completed' })]);
  expect(json.safetySets).toHaveLength(1);
  // The old database, its -wal's rows too, is in the safety set: restored beside, 1100 rows.
  const old = join(s.dir, 'users-before.db');
  const back = await runCli(
    ['restore', json.safetySets[0]!, '--db', 'users', '--to', old, '--yes', '--config', s.configFile],
    { cwd: s.dir },
  );
  expect(back.code, describeResult(back)).toBe(0);
  expect(count(old)).toEqual({ integrity: 'ok', rows: 1100 });
}

describe.skipIf(!straceAvailable)('SIGHUP during a SQLite restore’s swap, in place', () => {
  it('the CLI, stopped as the swap begins: the restored database whole, the old one in the safety set', async () => {
    const s = demoSetup();
    const id = await setThenKilledApplication(s);
    await hangUpAtTheSwap(s, id, ['restore', id, '--db', 'users', '--yes', '--config', s.configFile], async () => {});
    expect(log(s)).toMatch(/"event":"restore-end"[^\n]*"outcome":"ok"/);
  }, 300_000);

  it('the menu, stopped as its restore swaps: as the CLI, the menu ended by the hang-up and logged', async () => {
    const s = demoSetup();
    const id = await setThenKilledApplication(s);
    await hangUpAtTheSwap(s, id, ['--config', s.configFile], async (tty) => {
      await tty.waitForScreen('1. Create backup now');
      tty.send('4');
      await tty.waitForScreen('Choose the backup set');
      tty.send('Enter');
      await tty.waitForScreen('What to restore');
      tty.send('Enter');
      await tty.waitForScreen('Where to restore');
      tty.send('Enter');
      await tty.waitForScreen('Type RESTORE', 60_000);
      tty.send('RESTORE', true);
      await tty.waitForScreen('› RESTORE');
      tty.send('Enter');
    });
    expect(log(s)).toMatch(/"event":"restore-end"[^\n]*"outcome":"ok"/);
    expect(log(s)).toMatch(/"event":"interrupted","pid":\d+,"user":"[^"]+","command":"menu"/);
  }, 300_000);
});
