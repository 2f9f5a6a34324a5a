/**
 * A side-by-side SQLite restore into a folder that was not there (`--to /new/folder/x.db`) makes that folder; when
 * the restore is stopped (Ctrl-C) or fails it removes the folders it made once they are empty, never a folder that
 * was there before. Killed (SIGKILL), it cannot: `status` names the folder among the leftovers and the next run under
 * the lock removes it with the staging file (the run journaled the folders it made). Real interrupts of the built CLI
 * at a point waited for (the staging file mid-way), and a real failure (a stored file found damaged as it is read).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collect, describeResult, runCli, startCli, waitFor } from './helpers/cli.js';
import { useBigDb, useBigSet } from './helpers/big-db.js';
import { demoSetup } from './helpers/tmp.js';
import type { Manifest } from '../src/core/types.js';
import { parseJsonOutput } from './helpers/cli.js';

const bigWithASet = useBigSet(useBigDb(200));

/** Waits until the restore writes its hidden staging file in `dir` past 8 MiB (mid-way). */
async function stagingIn(dir: string, what: string): Promise<void> {
  await waitFor(
    () => {
      const f = existsSync(dir) ? readdirSync(dir).find((n) => n.includes('.respaldo-restore-')) : undefined;
      return f && statSync(join(dir, f)).size > 8 * 1024 * 1024;
    },
    what,
    120_000,
    5,
  );
}

/**
 * Ctrl-C as the terminal sends it (once, then again once the first was taken), or the terminal dropped (SIGHUP: it
 * stops the run as Ctrl-C does, once).
 */
async function interrupt(child: ReturnType<typeof startCli>, sig: 'SIGINT' | 'SIGHUP' = 'SIGINT'): Promise<void> {
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  child.kill(sig);
  await waitFor(() => err.includes(`${sig} received`) || child.exitCode !== null, `the ${sig} to be taken`, 30_000, 5);
  if (sig === 'SIGINT' && child.exitCode === null) child.kill('SIGINT');
}

describe('side-by-side restore into a folder it made', () => {
  it.each(['SIGINT', 'SIGHUP'] as const)(
    '%s: the folders it made go (empty); a folder that was there stays',
    async (sig) => {
      const { s, set: m } = await bigWithASet();
      const made = join(s.dir, 'new');
      const target = join(made, 'deeper', 'big-check.db');
      const child = startCli(['restore', m.id, '--to', target, '--yes', '--config', s.configFile], { cwd: s.dir });
      const done = collect(child);
      await stagingIn(join(made, 'deeper'), 'the restore to be writing into the folder it made');
      await interrupt(child, sig);
      const r = await done;
      expect(r.code, describeResult(r)).toBe(130);
      expect(existsSync(made), describeResult(r)).toBe(false);
      expect(existsSync(s.dir)).toBe(true);

      // A folder that was there, empty: kept as it was, though the restore left nothing in it.
      const there = join(s.dir, 'checks');
      mkdirSync(there);
      const again = startCli(
        ['restore', m.id, '--to', join(there, 'big-check.db'), '--yes', '--config', s.configFile],
        {
          cwd: s.dir,
        },
      );
      const doneAgain = collect(again);
      await stagingIn(there, 'the restore to be writing into the folder that was there');
      await interrupt(again, sig);
      expect((await doneAgain).code).toBe(130);
      expect(readdirSync(there)).toEqual([]);
    },
  );

  it('SIGKILL: status names the folder it left; the next run removes it with the staging file', async () => {
    const { s, set: m } = await bigWithASet();
    const made = join(s.dir, 'new');
    const target = join(made, 'big-check.db');
    const child = startCli(['restore', m.id, '--to', target, '--yes', '--config', s.configFile], { cwd: s.dir });
    const done = collect(child);
    await stagingIn(made, 'the restore to be writing into the folder it made');
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    expect(readdirSync(made)).toHaveLength(1);

    const status = await runCli(['status', '--json', '--config', s.configFile], { cwd: s.dir });
    const leftovers = (JSON.parse(status.stdout) as { leftovers: string[] }).leftovers;
    expect(leftovers).toEqual(expect.arrayContaining([made, expect.stringContaining(`${made}/.big-check.db`)]));

    const next = await runCli(['create', '--config', s.configFile], { cwd: s.dir });
    expect(next.code, describeResult(next)).toBe(0);
    expect(existsSync(made)).toBe(false);
    expect(next.stdout + next.stderr).toContain(made);
  });

  it('failed (the stored file found damaged as it is read): the folder it made goes', async () => {
    const s = demoSetup();
    const made = await runCli(['create', '--db', 'users', '--no-files', '--json', '--config', s.configFile], {
      cwd: s.dir,
    });
    const m = parseJsonOutput<Manifest>(made.stdout);
    const stored = join(s.backupDir, m.id, m.databases[0]!.file!);
    const bytes = readFileSync(stored);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(stored, bytes);
    const folder = join(s.dir, 'new');
    const r = await runCli(
      ['restore', m.id, '--to', join(folder, 'deeper', 'users.db'), '--yes', '--config', s.configFile],
      {
        cwd: s.dir,
      },
    );
    expect(r.code, describeResult(r)).toBe(5);
    expect(existsSync(folder), describeResult(r)).toBe(false);
  });
});
