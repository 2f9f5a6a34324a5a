/**
 * `respaldo copy ID --to NAME --take-over`: a claim left by another set's copy cut short (copy-claim.ts) refuses this
 * set until 24 h pass; the operator who knows that copy will not complete takes it over at once, told first whose claim
 * it was (host, pid, when). Only with the flag, one set and one destination named; never over a copy seen running here.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import type { CopyResult } from '../src/engine/copy.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { sftpDestination, startSshd, stopAllSshd } from './helpers/sshd.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

afterEach(stopAllSshd);

function withDestination(s: DemoSetup, dest: Record<string, unknown>): void {
  const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(s.configFile, JSON.stringify({ ...doc, destinations: [{ ...dest, copyAfterBackup: false }] }));
}

const CLAIM = '0123456789abcdef';

/** Another set's claim on `id` under `there` (the source's folder), with one unfinished file of that copy. */
function leftClaim(there: string, id: string, doc: Record<string, unknown>): { claim: string; unfinished: string } {
  mkdirSync(join(there, '.respaldo-claims'), { recursive: true });
  const claim = join(there, '.respaldo-claims', `${id}.${CLAIM}`);
  writeFileSync(claim, JSON.stringify({ id, startedAt: '2026-01-01T00:00:00.000Z', ...doc }) + '\n');
  mkdirSync(join(there, id, 'databases'), { recursive: true });
  const unfinished = join(there, id, 'databases', 'users_other.sqlite.zst');
  writeFileSync(unfinished, 'the other set, half sent');
  return { claim, unfinished };
}

async function checkTakeOver(s: DemoSetup, name: string, there: string): Promise<void> {
  const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout);
  const { claim, unfinished } = leftClaim(there, m.id, { host: 'old-server', pid: 4242 });
  // Refused, the hint naming the flag; without the flag nothing is taken over.
  const [refused] = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', m.id, '--to', name, '--json'], 12)).stdout);
  expect(refused).toMatchObject({ ok: false, filesSent: 0 });
  expect(refused!.hint).toContain(`\`respaldo copy ${m.id} --to ${name} --take-over\``);
  expect(existsSync(claim) && existsSync(unfinished)).toBe(true);
  // Only for one set at one named destination.
  expect((await cli(s, ['copy', m.id, '--take-over'], 2)).stderr).toContain('--take-over needs a set ID and --to NAME');
  expect((await cli(s, ['copy', '--to', name, '--take-over'], 2)).stderr).toContain('--take-over needs');
  expect(existsSync(claim)).toBe(true);
  // Taken over at once, saying whose claim it was first.
  const r = await cli(s, ['copy', m.id, '--to', name, '--take-over', '--json']);
  expect(r.stderr).toMatch(
    new RegExp(
      `taking over, as asked \\(--take-over\\), the claim on set ${m.id} at ${name} of another set's copy \\(${m.id}\\.${CLAIM}: host old-server, pid 4242, claimed \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d[^)]*\\): its 1 unfinished file\\(s\\) there are removed`,
    ),
  );
  const [done] = parseJsonOutput<CopyResult[]>(r.stdout);
  expect(done).toMatchObject({ ok: true });
  expect(done!.claimTakenOver).toContain('host old-server, pid 4242');
  expect(existsSync(claim)).toBe(false);
  expect(existsSync(unfinished)).toBe(false);
  expect(existsSync(join(there, '.respaldo-claims'))).toBe(false);
  await cli(s, ['verify', m.id, '--from', name, '--read-data']);
}

describe('copy ID --to NAME --take-over', () => {
  it('folder: refused without it (the hint names it), taken over with it, saying host, pid and date first', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    withDestination(s, { name: 'nas', type: 'folder', path: nas, source: 'srv1' });
    await checkTakeOver(s, 'nas', join(nas, 'srv1'));
  });

  it('sftp: the same', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    withDestination(s, { ...sftpDestination(srv), source: 'srv1' });
    await checkTakeOver(s, 'ssh', join(srv.root, 'srv1'));
  });

  it('never from a copy seen running on this server, nor over files no copy writes', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    withDestination(s, { name: 'nas', type: 'folder', path: nas, source: 'srv1' });
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout);
    const there = join(nas, 'srv1');
    const running = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const { claim, unfinished } = leftClaim(there, m.id, {
        host: hostname(),
        pid: running.pid,
        boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
        pidns: readlinkSync('/proc/self/ns/pid'),
      });
      const r = await cli(s, ['copy', m.id, '--to', 'nas', '--take-over'], 12);
      expect(r.stdout + r.stderr).toContain(`Its copy runs on this server (pid ${running.pid} on ${hostname()})`);
      expect(existsSync(claim) && existsSync(unfinished)).toBe(true);
    } finally {
      running.kill('SIGKILL');
    }
    // Someone's own file in the set folder: never removed, so the claim is not taken over.
    writeFileSync(join(there, m.id, 'LEEME.txt'), 'not a copy file\n');
    writeFileSync(
      join(there, '.respaldo-claims', `${m.id}.${CLAIM}`),
      JSON.stringify({ id: m.id, host: 'old-server', pid: 4242 }),
    );
    const strays = await cli(s, ['copy', m.id, '--to', 'nas', '--take-over'], 12);
    expect(strays.stdout + strays.stderr).toContain(`another set ${m.id} of source "srv1", not this one`);
    expect(readdirSync(join(there, m.id)).sort()).toEqual(['LEEME.txt', 'databases']);
  });
});
