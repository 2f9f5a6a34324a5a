import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import type { CopyResult } from '../src/engine/copy.js';
import type { RemoteSetSummary } from '../src/engine/remote.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli, tree } from './helpers/offsite.js';
import { startS3rver, stopAllS3rvers, s3Destination } from './helpers/s3rver.js';
import { startSshd, stopAllSshd, sftpDestination } from './helpers/sshd.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

afterEach(async () => {
  await stopAllS3rvers();
  await stopAllSshd();
});

/** Keeps only the newest set made by hand (and, as always, the newest of each database and what is marked keep). */
const SHORT = { keepLast: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0, manual: { days: 0, keepLast: 1 } };

interface PruneJson {
  dryRun: boolean;
  sets: { id: string; action: string; reasons: string[] }[];
  incomplete: { id: string; action: string; reason: string }[];
  temps: { key: string; action: string }[];
  removed: string[];
  removedTemps: string[];
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

const remoteIds = async (s: DemoSetup, name: string) =>
  parseJsonOutput<RemoteSetSummary[]>((await cli(s, ['list', '--from', name, '--json'])).stdout).map((x) => x.id);

/** Three sets copied on create; the oldest marked keep. Returns their ids, oldest first. */
async function threeSets(s: DemoSetup): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++)
    ids.push(parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout).id);
  await cli(s, ['keep', ids[0]!]);
  return ids;
}

/** The retention scenario every destination type must pass. */
async function retentionAt(s: DemoSetup, name: string): Promise<string[]> {
  const ids = await threeSets(s);
  const [kept, middle, newest] = ids as [string, string, string];
  const dry = parseJsonOutput<PruneJson>((await cli(s, ['prune', '--from', name, '--dry-run', '--json'])).stdout);
  expect(Object.fromEntries(dry.sets.map((x) => [x.id, x.action]))).toEqual({
    [newest]: 'keep',
    [middle]: 'remove',
    [kept]: 'keep',
  });
  expect(dry.sets.find((x) => x.id === kept)!.reasons).toContain('keep mark');
  expect(dry.removed).toEqual([]);
  expect((await remoteIds(s, name)).sort()).toEqual([...ids].sort());

  const text = await cli(s, ['prune', '--from', name]);
  expect(text.stdout).toMatch(new RegExp(`${middle}\\s.*removed`));
  expect(text.stdout).toContain('1 set(s) removed there, 2 kept.');
  expect((await remoteIds(s, name)).sort()).toEqual([kept, newest].sort());
  // Local sets follow the local retention: all three are still here, and `copy` does not send the pruned one again.
  const local = parseJsonOutput<{ id: string }[]>((await cli(s, ['list', '--json'])).stdout).map((x) => x.id);
  expect(local.sort()).toEqual([...ids].sort());
  expect(parseJsonOutput<CopyResult[]>((await cli(s, ['copy', '--json'])).stdout)).toEqual([]);
  // Named explicitly, it is sent again.
  expect(parseJsonOutput<CopyResult[]>((await cli(s, ['copy', middle, '--json'])).stdout)).toMatchObject([
    { setId: middle, ok: true },
  ]);
  return ids;
}

const DAY = 86_400;
function backdate(file: string, seconds: number): void {
  const t = Date.now() / 1000 - seconds;
  utimesSync(file, t, t);
}

/** Leftovers at a destination whose files are on this machine (folder, sftp root): `root/srv1/…`. */
async function leftoversAt(s: DemoSetup, name: string, root: string, ids: string[]): Promise<void> {
  const [, middle, newest] = ids as [string, string, string];
  const setRoot = (id: string) => join(root, 'srv1', id);
  const oldTemp = join(setRoot(newest), '.respaldo-part-99999-old');
  const youngTemp = join(setRoot(newest), '.respaldo-part-99998-young');
  writeFileSync(oldTemp, 'half a file');
  writeFileSync(youngTemp, 'being written');
  backdate(oldTemp, 2 * DAY);
  // A set cut short long ago whose local set is gone: a leftover.
  const orphan = join(root, 'srv1', '20200101_000000');
  mkdirSync(join(orphan, 'databases'), { recursive: true });
  writeFileSync(join(orphan, 'databases', 'users.sqlite.zst'), 'partial');
  backdate(join(orphan, 'databases', 'users.sqlite.zst'), 3 * DAY);
  // A folder under a set's name that holds a file no copy writes (an operator's notes beside what a copy left):
  // someone put it there, so it is kept, as a complete set with such files is.
  const noted = join(root, 'srv1', '20200102_000000');
  mkdirSync(join(noted, 'databases'), { recursive: true });
  writeFileSync(join(noted, 'databases', 'users.sqlite.zst'), 'partial');
  writeFileSync(join(noted, 'LEEME.txt'), 'copia hecha a mano, no borrar');
  for (const f of ['databases/users.sqlite.zst', 'LEEME.txt']) backdate(join(noted, f), 3 * DAY);
  // A set whose manifest is missing there while the local set is still to be copied: `copy` completes it.
  unlinkSync(join(setRoot(middle), 'manifest.json'));
  const pending = Object.keys(tree(setRoot(middle)));
  for (const p of pending) backdate(join(setRoot(middle), p), 3 * DAY);
  writeFileSync(join(s.backupDir, middle, 'copies.json'), JSON.stringify({ [name]: { ok: false, at: '', where: '' } }));

  const r = parseJsonOutput<PruneJson>((await cli(s, ['prune', '--from', name, '--json'])).stdout);
  expect(r.removed).toEqual(['20200101_000000']);
  expect(r.removedTemps).toEqual([`srv1/${newest}/.respaldo-part-99999-old`]);
  expect(r.incomplete.find((x) => x.id === middle)).toMatchObject({ action: 'keep' });
  expect(r.incomplete.find((x) => x.id === '20200102_000000')).toMatchObject({ action: 'keep' });
  expect(r.incomplete.find((x) => x.id === '20200102_000000')!.reason).toContain(
    `also holds 1 file(s) respaldo did not write (LEEME.txt): move them out of it at "${name}"`,
  );
  expect(existsSync(join(noted, 'LEEME.txt'))).toBe(true);
  expect(existsSync(orphan)).toBe(false);
  expect(existsSync(oldTemp)).toBe(false);
  expect(existsSync(youngTemp)).toBe(true);
  expect(Object.keys(tree(setRoot(middle)))).toEqual(pending);

  // The next copy completes the pending set and removes old temporary files in it.
  const oldInPending = join(setRoot(middle), '.respaldo-part-99997-old');
  writeFileSync(oldInPending, 'x');
  backdate(oldInPending, 2 * DAY);
  expect(parseJsonOutput<CopyResult[]>((await cli(s, ['copy', '--json'])).stdout)).toMatchObject([
    { setId: middle, ok: true },
  ]);
  expect(existsSync(oldInPending)).toBe(false);
  expect(existsSync(join(setRoot(middle), 'manifest.json'))).toBe(true);
}

describe('prune --from NAME', () => {
  it('folder: retention there, keep marks, leftovers of killed copies; local sets untouched', async () => {
    const s = demoSetup();
    const root = join(s.dir, 'nas');
    mkdirSync(root);
    configure(s, { name: 'nas', type: 'folder', path: root });
    const ids = await retentionAt(s, 'nas');
    await leftoversAt(s, 'nas', root, ids);
  });

  it('sftp (sshd): retention there and leftovers of killed copies', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    configure(s, sftpDestination(srv));
    const ids = await retentionAt(s, 'ssh');
    await leftoversAt(s, 'ssh', srv.root, ids);
  });

  it('s3 (s3rver): retention there', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    configure(s, s3Destination(srv));
    await retentionAt(s, 'offsite');
  });

  it('a file an operator put in a set folder there keeps that set, named with what to do; the others pruned as usual', async () => {
    const s = demoSetup();
    const root = join(s.dir, 'nas');
    mkdirSync(root);
    configure(s, { name: 'nas', type: 'folder', path: root });
    // Sets with files: what they store there is told from what someone put beside it by their manifests' entries.
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--json'])).stdout).id);
    const [kept, middle, newest] = ids as [string, string, string];
    expect(existsSync(join(root, 'srv1', kept, 'application', 'app', 'settings.json.zst'))).toBe(true);
    const note = join(root, 'srv1', middle, 'application', 'notas.txt');
    writeFileSync(note, 'why this copy matters\n');
    const before = tree(join(root, 'srv1', middle));

    const r = parseJsonOutput<PruneJson>((await cli(s, ['prune', '--from', 'nas', '--json'])).stdout);
    expect(r.removed).toEqual([kept]);
    expect(r.sets.find((x) => x.id === middle)).toMatchObject({ action: 'keep' });
    expect(r.sets.find((x) => x.id === middle)!.reasons.join(' ')).toMatch(
      /1 file\(s\) respaldo did not write \(application\/notas\.txt\): move them out of it at "nas"; the next `respaldo prune --from nas` removes the set/,
    );
    expect(tree(join(root, 'srv1', middle))).toEqual(before);
    expect(existsSync(join(root, 'srv1', newest, 'manifest.json'))).toBe(true);

    // Once the note is moved out, the set goes at the next prune.
    unlinkSync(note);
    expect((await cli(s, ['prune', '--from', 'nas'])).stdout).toMatch(new RegExp(`${middle}\\s.*removed`));
    expect(existsSync(join(root, 'srv1', middle))).toBe(false);
  });

  it('a bad manifest at the destination: the set is named and kept (exit 5), the others pruned as usual', async () => {
    const s = demoSetup();
    const root = join(s.dir, 'nas');
    mkdirSync(root);
    configure(s, { name: 'nas', type: 'folder', path: root });
    const [first, middle, newest] = await threeSets(s);
    writeFileSync(join(root, 'srv1', first!, 'manifest.json'), '{"not": "a manifest"');
    const before = tree(join(root, 'srv1', first!));
    const r = await cli(s, ['prune', '--from', 'nas'], 5);
    expect(r.stdout).toContain(
      `DAMAGED set srv1/${first} at nas: set srv1/${first} has a bad manifest: unreadable manifest`,
    );
    expect(r.stdout + r.stderr).not.toContain('respaldo-manifest-');
    // The damaged set is kept whole and not counted; the retention still removes the middle set.
    expect(tree(join(root, 'srv1', first!))).toEqual(before);
    expect(existsSync(join(root, 'srv1', middle!))).toBe(false);
    expect(existsSync(join(root, 'srv1', newest!, 'manifest.json'))).toBe(true);
  });

  it('keep marks reach the destination, so a rebuilt server (empty backup folder) never prunes what was kept', async () => {
    const s = demoSetup();
    const root = join(s.dir, 'nas');
    mkdirSync(root);
    configure(s, { name: 'nas', type: 'folder', path: root });
    const [kept, middle, newest] = (await threeSets(s)) as [string, string, string];
    expect(existsSync(join(root, 'srv1', kept, 'keep'))).toBe(true);
    // A set marked before it is copied carries its mark there.
    configure(s, { name: 'nas', type: 'folder', path: root, copyAfterBackup: false });
    const later = parseJsonOutput<Manifest>(
      (await cli(s, ['create', '--db', 'inventario', '--no-files', '--json'])).stdout,
    ).id;
    await cli(s, ['keep', later]);
    expect(existsSync(join(root, 'srv1', later))).toBe(false);
    await cli(s, ['copy', later, '--to', 'nas']);
    expect(existsSync(join(root, 'srv1', later, 'keep'))).toBe(true);
    // A mark that could not be written there when it was set (the destination away): the next plain copy sends it.
    renameSync(root, `${root}.away`);
    await cli(s, ['keep', middle], 12);
    renameSync(`${root}.away`, root);
    expect(existsSync(join(root, 'srv1', middle, 'keep'))).toBe(false);
    await cli(s, ['copy']);
    expect(existsSync(join(root, 'srv1', middle, 'keep'))).toBe(true);
    await cli(s, ['keep', middle, '--unset']);

    // The server is rebuilt: nothing local.
    rmSync(s.backupDir, { recursive: true, force: true });
    const dry = parseJsonOutput<PruneJson>((await cli(s, ['prune', '--from', 'nas', '--dry-run', '--json'])).stdout);
    const action = Object.fromEntries(dry.sets.map((x) => [x.id, x.action]));
    expect(action).toMatchObject({ [kept]: 'keep', [middle]: 'remove', [newest]: 'keep', [later]: 'keep' });
    expect(dry.sets.find((x) => x.id === kept)!.reasons).toContain('keep mark');
    // Marked there from the new server, the middle set is kept too; unmarked, it goes.
    const marked = await cli(s, ['keep', middle, '--from', 'nas']);
    expect(marked.stdout).toContain(`Set ${middle} is marked keep at nas`);
    const again = parseJsonOutput<PruneJson>((await cli(s, ['prune', '--from', 'nas', '--dry-run', '--json'])).stdout);
    expect(again.sets.find((x) => x.id === middle)).toMatchObject({ action: 'keep' });
    await cli(s, ['keep', middle, '--from', 'nas', '--unset']);
    await cli(s, ['prune', '--from', 'nas']);
    expect(existsSync(join(root, 'srv1', middle))).toBe(false);
    expect(existsSync(join(root, 'srv1', kept, 'manifest.json'))).toBe(true);
    // A set that is not there is named.
    // An id that is none (an empty variable) is a bad command line, said before the destination is listed.
    for (const id of ['', 'latest-ish'])
      expect((await cli(s, ['keep', id, '--from', 'nas'], 2)).stderr).toContain(`"${id}" is not a backup set id`);
    const none = await cli(s, ['keep', '20200101_000000', '--from', 'nas'], 8);
    expect(none.stderr).toContain('No set 20200101_000000 of this server (source "srv1") at destination "nas"');
  });

  it('keep --unset clears the mark at the destinations too; one that cannot be reached is named (exit 12)', async () => {
    const s = demoSetup();
    const root = join(s.dir, 'nas');
    mkdirSync(root);
    configure(s, { name: 'nas', type: 'folder', path: root });
    const [kept] = (await threeSets(s)) as [string, string, string];
    const cleared = await cli(s, ['keep', kept, '--unset']);
    expect(cleared.stdout).toContain('The mark is cleared at nas too.');
    expect(existsSync(join(root, 'srv1', kept, 'keep'))).toBe(false);
    rmSync(root, { recursive: true, force: true }); // the NAS is not mounted
    const r = await cli(s, ['keep', kept], 12);
    expect(r.stdout).toContain(`Set ${kept} is marked keep`);
    expect(r.stderr).toContain('the keep mark could not be written at nas');
    expect(r.stderr).toContain(`hint: run respaldo keep ${kept} --from nas once it is reachable.`);
  });

  it('keep of a set removed at a destination by hand: the hint says it is gone there, not to wait for it', async () => {
    const s = demoSetup();
    const root = join(s.dir, 'nas');
    mkdirSync(root);
    configure(s, { name: 'nas', type: 'folder', path: root });
    const [kept] = (await threeSets(s)) as [string, string, string];
    rmSync(join(root, 'srv1', kept), { recursive: true });
    const r = await cli(s, ['keep', kept], 12);
    expect(r.stderr).toContain(
      `respaldo: the keep mark could not be written at nas: No set ${kept} of this server (source "srv1") at ` +
        `destination "nas".\n  hint: Set ${kept} is no longer at nas: \`respaldo copy ${kept} --to nas\` sends it ` +
        'there again, with its keep mark.\n',
    );
    const unset = await cli(s, ['keep', kept, '--unset'], 12);
    expect(unset.stderr).toContain(`  hint: Set ${kept} is no longer at nas, so no keep mark is left there to clear.`);
    expect(unset.stderr).not.toContain('once it is reachable');
  });

  it('refuses when the newest set there is not completed; --dry-run says so', async () => {
    const s = demoSetup();
    const root = join(s.dir, 'nas');
    mkdirSync(root);
    configure(s, { name: 'nas', type: 'folder', path: root });
    const ids = await threeSets(s);
    const newest = join(root, 'srv1', ids[2]!, 'manifest.json');
    const m = JSON.parse(readFileSync(newest, 'utf8')) as Manifest;
    writeFileSync(newest, JSON.stringify({ ...m, status: 'partial' }));
    const before = tree(root);
    const r = await cli(s, ['prune', '--from', 'nas'], 9);
    expect(r.stderr).toContain(`the newest backup set ${ids[2]} is partial`);
    expect(tree(root)).toEqual(before);
    expect((await cli(s, ['prune', '--from', 'nas', '--dry-run'])).stdout).toContain('a real prune would refuse now');
  });

  it('the newest set failed its restore drill here: the newest there whose drill did not fail is kept too', async () => {
    const s = demoSetup();
    const root = join(s.dir, 'nas');
    mkdirSync(root);
    configure(s, { name: 'nas', type: 'folder', path: root });
    const made = async () =>
      parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout).id;
    const good = await made();
    const bad = await made();
    // Its files match their hashes, but it does not restore as recorded: the drill here fails (exit 11).
    const file = join(s.backupDir, bad, 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    m.databases[0]!.tables = { ...m.databases[0]!.tables, users: (m.databases[0]!.tables?.['users'] ?? 0) + 1 };
    writeFileSync(file, JSON.stringify(m, null, 2));
    await cli(s, ['drill', bad], 11);
    const r = parseJsonOutput<PruneJson>((await cli(s, ['prune', '--from', 'nas', '--json'])).stdout);
    expect(r.removed).toEqual([]);
    expect(r.sets.find((x) => x.id === good)!.reasons).toContain('newest of users whose restore drill did not fail');
    expect((await remoteIds(s, 'nas')).sort()).toEqual([good, bad].sort());
  });

  it('refuses while a set there is dated ahead of the clock, as here: it would push out the real newest set', async () => {
    const s = demoSetup();
    const root = join(s.dir, 'nas');
    mkdirSync(root);
    configure(s, { name: 'nas', type: 'folder', path: root });
    const ids = await threeSets(s);
    // Made while this server's clock was a year ahead (a board without RTC before NTP set it): counted as the newest
    // there, it took the one place of keepLast 1 and the "newest of users", and today's set was removed.
    const ahead = join(root, 'srv1', ids[1]!, 'manifest.json');
    const m = JSON.parse(readFileSync(ahead, 'utf8')) as Manifest;
    const year = (t: string) => new Date(Date.parse(t) + 365 * DAY * 1000).toISOString();
    writeFileSync(ahead, JSON.stringify({ ...m, startedAt: year(m.startedAt), completedAt: year(m.completedAt) }));
    const before = tree(root);
    const r = await cli(s, ['prune', '--from', 'nas'], 9);
    expect(r.stderr).toContain(`set ${ids[1]} is dated`);
    expect(r.stderr).toContain("ahead of this machine's clock");
    expect(r.stderr).toContain(`respaldo delete ${ids[1]} --from nas`);
    expect(tree(root)).toEqual(before);
    expect((await cli(s, ['prune', '--from', 'nas', '--dry-run'])).stdout).toContain('a real prune would refuse now');
  });
});
