/**
 * Claims left at a destination by copies that never completed (copy-claim.ts). Before, such a claim refused the other
 * config's set of that id there until someone removed it by hand, `prune --from` and `delete --from` never removed
 * one, and the empty `.respaldo-claims` folder stayed. Now a claim whose copy was cut short (nothing written beside it
 * for a day, or its process on this server gone) is taken over, its unfinished files removed first so that the two
 * sets never mix; a claim goes with its set at prune and delete; the empty folder goes (never one with a file in it).
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { claimKey } from '../src/engine/copy-claim.js';
import type { CopyResult } from '../src/engine/copy.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { startSshd, stopAllSshd, sftpDestination } from './helpers/sshd.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

afterEach(async () => {
  await stopAllSshd();
});

const DAY = 86_400;
const SHORT = { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0, manual: { days: 0, keepLast: 1 } };

function backdate(file: string, seconds: number): void {
  const t = Date.now() / 1000 - seconds;
  utimesSync(file, t, t);
}

function put(file: string, text: string | Buffer, ageSeconds = 0): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  if (ageSeconds) backdate(file, ageSeconds);
}

function configure(s: DemoSetup, dest: Record<string, unknown>): void {
  writeFileSync(
    s.configFile,
    JSON.stringify({
      ...JSON.parse(readFileSync(s.configFile, 'utf8')),
      destinations: [{ source: 'srv1', retention: SHORT, ...dest }],
    }),
  );
}

type Where = { name: string; root: string; dest: Record<string, unknown> };

async function folderAt(s: DemoSetup): Promise<Where> {
  const root = join(s.dir, 'nas');
  mkdirSync(root);
  return { name: 'nas', root, dest: { name: 'nas', type: 'folder', path: root } };
}

async function sftpAt(): Promise<Where> {
  const srv = await startSshd();
  return { name: 'ssh', root: srv.root, dest: sftpDestination(srv) };
}

/**
 * Another config's copy of a set of `m`'s id, cut short `ageSeconds` ago: its claim, and in the set folder a file at
 * the path and of the size of `m`'s database file but other bytes (a copy that sends only what is missing or of
 * another size would keep it), and a temporary file.
 */
function cutShortCopy(root: string, m: Manifest, local: string, ageSeconds: number): { claim: string; temp: string } {
  const other = { id: m.id, startedAt: new Date(Date.parse(m.startedAt) + 1).toISOString() };
  const claim = join(root, claimKey('srv1', other));
  put(claim, JSON.stringify({ ...other, host: 'erp-other' }) + '\n', ageSeconds);
  const file = m.databases[0]!.file!;
  const size = statSync(join(local, file)).size;
  put(join(root, 'srv1', m.id, file), Buffer.alloc(size, 0x5a), ageSeconds);
  const temp = join(root, 'srv1', m.id, 'databases', `.respaldo-part-${process.pid}-x`);
  put(temp, 'half a file', ageSeconds);
  return { claim, temp };
}

const claimsAt = (root: string) => join(root, 'srv1', '.respaldo-claims');

async function takenOverAfterADay(s: DemoSetup, w: Where): Promise<void> {
  configure(s, { ...w.dest, copyAfterBackup: false });
  const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout);
  const left = cutShortCopy(w.root, m, join(s.backupDir, m.id), 25 * 3600);
  // Its temporary file was written a minute ago: that copy may still be sending. Refused, nothing changed.
  backdate(left.temp, 60);
  const refused = await cli(s, ['copy', m.id, '--to', w.name, '--json'], 12);
  const [r] = parseJsonOutput<CopyResult[]>(refused.stdout);
  expect(r).toMatchObject({ ok: false, filesSent: 0 });
  expect(r!.hint).toContain('Once nothing was written there for 24 h');
  expect(readdirSync(claimsAt(w.root))).toEqual([left.claim.split('/').at(-1)]);
  expect(existsSync(left.temp)).toBe(true);

  // A day without anything written there: taken over, the other set's unfinished files removed, this one sent whole.
  backdate(left.temp, 25 * 3600);
  const done = await cli(s, ['copy', m.id, '--to', w.name]);
  expect(done.stdout + done.stderr).toMatch(
    new RegExp(
      `took over the claim ${m.id}\\.[0-9a-f]{16} on set ${m.id} at ${w.name}, left by another set's copy cut short \\(from erp-other; nothing written there for 25 h\\): its 1 unfinished file\\(s\\) there removed`,
      's',
    ),
  );
  expect(existsSync(left.claim)).toBe(false);
  expect(existsSync(left.temp)).toBe(false);
  expect(existsSync(claimsAt(w.root))).toBe(false);
  await cli(s, ['verify', m.id, '--from', w.name, '--read-data']);
}

describe('a claim left by a copy cut short', () => {
  it('folder: refused while anything was written beside it that day; then taken over, the sets never mixed', async () => {
    const s = demoSetup();
    await takenOverAfterADay(s, await folderAt(s));
  });

  it('sftp (sshd): the same', async () => {
    const s = demoSetup();
    await takenOverAfterADay(s, await sftpAt());
  });

  it('folder: taken over at once when the copy that put it ran on this server and is gone; never while it runs', async () => {
    const s = demoSetup();
    const w = await folderAt(s);
    configure(s, { ...w.dest, copyAfterBackup: false });
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout);
    const left = cutShortCopy(w.root, m, join(s.backupDir, m.id), 0);
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const pidns = readlinkSync('/proc/self/ns/pid');
    const holder = (pid: number, ns = pidns) =>
      put(left.claim, JSON.stringify({ id: m.id, startedAt: 'x', host: hostname(), pid, boot, pidns: ns }) + '\n');
    holder(process.pid); // running (this test's own process)
    const refused = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', m.id, '--to', w.name, '--json'], 12)).stdout);
    expect(refused[0]).toMatchObject({ ok: false, filesSent: 0 });
    expect(existsSync(left.temp)).toBe(true);

    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    // A pid of another PID namespace (a container on this machine: same boot, same host name) says nothing here
    holder(Number(gone.stdout), 'pid:[1]');
    await cli(s, ['copy', m.id, '--to', w.name, '--json'], 12);
    expect(existsSync(left.temp)).toBe(true);
    holder(Number(gone.stdout));
    const [done] = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', m.id, '--to', w.name, '--json'])).stdout);
    expect(done).toMatchObject({ ok: true });
    expect(done!.claimTakenOver).toContain(`(from ${hostname()}, this server; its process is gone)`);
    // The log says it too (the menu and the scheduler show no stderr).
    const logs = join(s.backupDir, 'logs');
    const logged = readdirSync(logs).map((f) => readFileSync(join(logs, f), 'utf8'));
    expect(logged.join('')).toContain(
      `"claimTakenOver":"took over the claim ${left.claim.split('/').at(-1)} on set ${m.id}`,
    );
    expect(existsSync(claimsAt(w.root))).toBe(false);
    await cli(s, ['verify', m.id, '--from', w.name, '--read-data']);
  });
});

/** Claims at prune and delete, at a destination whose files are on this machine. */
async function claimsGoWithTheirSets(s: DemoSetup, w: Where): Promise<void> {
  configure(s, w.dest);
  const sets: Manifest[] = [];
  for (let i = 0; i < 3; i++)
    sets.push(parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout));
  const [oldest, middle, newest] = sets as [Manifest, Manifest, Manifest];
  const claims = claimsAt(w.root);
  expect(existsSync(claims)).toBe(false); // each copy removed its claim, then the empty folder
  // Left by copies whose last step (removing the claim) failed, and by copies cut short.
  const ofSet = (x: Manifest) => join(w.root, claimKey('srv1', x));
  put(ofSet(oldest), '{}\n');
  put(ofSet(middle), '{}\n');
  put(ofSet(newest), '{}\n');
  const cutLongAgo = join(w.root, 'srv1', '20200101_000000', 'databases', 'users.sqlite.zst');
  put(cutLongAgo, 'partial', 3 * DAY);
  const ofCut = join(claims, '20200101_000000.0123456789abcdef');
  put(ofCut, '{}\n', 3 * DAY);
  const nothingSent = join(claims, '20200102_000000.0123456789abcdef');
  put(nothingSent, '{}\n', 2 * DAY);
  const starting = join(claims, '20200103_000000.0123456789abcdef');
  put(starting, '{}\n');
  const notes = join(claims, 'LEEME.txt');
  put(notes, 'mine', 3 * DAY);

  const r = parseJsonOutput<{ removed: string[]; removedClaims: string[]; claims: { key: string; action: string }[] }>(
    (await cli(s, ['prune', '--from', w.name, '--json'])).stdout,
  );
  expect(r.removed.sort()).toEqual(['20200101_000000', oldest.id, middle.id].sort());
  const key = (f: string) => f.slice(w.root.length + 1);
  expect(r.removedClaims.sort()).toEqual([ofSet(oldest), ofSet(middle), ofCut, nothingSent].map(key).sort());
  expect(readdirSync(claims).sort()).toEqual(
    ['20200103_000000.0123456789abcdef', 'LEEME.txt', ofSet(newest).split('/').at(-1)!].sort(),
  );
  expect(existsSync(join(w.root, 'srv1', '20200101_000000'))).toBe(false);

  // Deleted by hand there, the newest set takes its claim along; the folder goes once nothing is left in it.
  await cli(s, ['delete', newest.id, '--from', w.name, '--yes']);
  expect(readdirSync(claims).sort()).toEqual(['20200103_000000.0123456789abcdef', 'LEEME.txt']);
  backdate(starting, 2 * DAY);
  const text = await cli(s, ['prune', '--from', w.name]);
  expect(text.stdout).toContain(
    'removed srv1/.respaldo-claims/20200103_000000.0123456789abcdef: claim on set 20200103_000000, written 2 d ago, nothing of it there',
  );
  expect(readdirSync(claims)).toEqual(['LEEME.txt']); // an operator's own file: never removed, nor its folder
  expect(readFileSync(notes, 'utf8')).toBe('mine');
}

describe('prune --from and delete --from take the claims along', () => {
  it('folder', async () => {
    const s = demoSetup();
    await claimsGoWithTheirSets(s, await folderAt(s));
  });
  it('sftp (sshd)', async () => {
    const s = demoSetup();
    await claimsGoWithTheirSets(s, await sftpAt());
  });
});
