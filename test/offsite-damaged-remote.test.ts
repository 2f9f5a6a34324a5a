/**
 * A set at a destination whose manifest is damaged (overwritten with broken JSON) must not block the new-server
 * day: `list --from` lists the other sets and names it after the table, `restore latest --from` passes over it
 * and says so, `prune --from` keeps it without counting it and prunes the rest; restoring it by id still fails
 * clearly, with a hint that works when the server that made it is gone.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { VerifyError } from '../src/core/errors.js';
import type { Manifest } from '../src/core/types.js';
import { fetchSet, fetchedRestoreOptions, type FetchSelection } from '../src/engine/remote-fetch.js';
import { executeRestore } from '../src/engine/restore.js';
import { planRestore } from '../src/engine/restore-plan.js';
import { say } from '../src/ui/i18n/index.js';
import { FakeReporter } from './helpers/reporter.js';
import type { RemoteSetSummary } from '../src/engine/remote.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { cli, peakRss } from './helpers/offsite.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

function setDestinations(s: DemoSetup, nas: string, source: string): void {
  writeFileSync(
    s.configFile,
    JSON.stringify({
      ...JSON.parse(readFileSync(s.configFile, 'utf8')),
      destinations: [{ name: 'nas', type: 'folder', path: nas, source }],
    }),
  );
}

describe('a stored file missing at a destination', () => {
  it('restore --from exits 5 (a stored file does not match its manifest), as verify --from does, not 8', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    setDestinations(s, nas, 'srv1');
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const users = m.databases.find((d) => d.name === 'users')!.file!;
    rmSync(join(nas, 'srv1', m.id, users));
    rmSync(s.backupDir, { recursive: true, force: true });
    const v = await cli(s, ['verify', m.id, '--from', 'nas'], 5);
    expect(v.stdout).toContain(`${users}: missing`);
    const r = await cli(s, ['restore', m.id, '--from', 'nas', '--db', 'users', '--dry-run'], 5);
    expect(r.stderr).toContain(`srv1/${m.id}/${users} is missing there, though its manifest lists it`);
    expect(r.stderr).toContain('Restore another set');
  });
});

describe('damage found at a destination, in the menu', () => {
  it('is said in Spanish: the file, what was left undone (a restore, a drill) and how to mend it there', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    setDestinations(s, nas, 'srv1');
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const users = join(nas, 'srv1', m.id, m.databases.find((d) => d.name === 'users')!.file!);
    const bytes = readFileSync(users);
    bytes[bytes.length >> 1]! ^= 0xff; // one byte changed there, the size kept
    writeFileSync(users, bytes);
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const failed = async (sel: FetchSelection) => {
      const err = await fetchSet(cfg, 'nas', m.id, sel, new FakeReporter()).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(VerifyError);
      const { message, hint } = (err as VerifyError).phrases!;
      return { message: say('es', message, ''), hint: say('es', hint, '') };
    };

    // This server still holds the set: the hint says how to send it there again.
    const restore = await failed({ databases: ['users'] });
    expect(restore.message).toMatch(
      /^destino "nas": srv1\/\S+ no coincide con su manifiesto \(cambiado o dañado allí\)\.$/,
    );
    expect(restore.hint).toBe(
      `No se restauró nada. Este servidor aún tiene la copia ${m.id}: \`respaldo copy ${m.id} --to nas --verify\` ` +
        'la repara allí (vuelve a enviar cada archivo que difiere). O restaure otra copia (`respaldo list --from nas`).',
    );
    // The new server (no local copy): another set; for a drill, what a drill left undone.
    rmSync(s.backupDir, { recursive: true, force: true });
    const drill = await failed({ databases: ['users'], forDrill: true });
    expect(drill.hint).toMatch(
      /^No se hizo ni registró ningún simulacro; no se guardó nada de lo traído\. Restaure otra copia/,
    );
    // Streamed, a file gone there is found before anything is read.
    rmSync(users);
    const streamed = await failed({ databases: ['users'], stream: true });
    expect(streamed.message).toMatch(/^destino "nas": falta srv1\/\S+, aunque su manifiesto lo incluye\.$/);
  });
});

describe('a damaged manifest at a destination', () => {
  it('list names it after the table (exit 5), restore latest passes over it, prune keeps it, restore by id refuses it', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    setDestinations(s, nas, 'erp-server-B');
    const older = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const users = dbDigest(s.dbs.users);
    const newer = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    expect(newer.id > older.id).toBe(true);
    writeFileSync(join(nas, 'erp-server-B', newer.id, 'manifest.json'), '{"broken');
    rmSync(s.backupDir, { recursive: true, force: true });

    const text = await cli(s, ['list', '--from', 'nas'], 5);
    expect(text.stdout).toContain(older.id);
    expect(text.stdout).toContain('1 set(s) at destination "nas"');
    expect(text.stdout).toContain(
      `DAMAGED set erp-server-B/${newer.id} at nas: set erp-server-B/${newer.id} has a bad manifest`,
    );
    const json = await cli(s, ['list', '--from', 'nas', '--json'], 5);
    expect(parseJsonOutput<RemoteSetSummary[]>(json.stdout).map((x) => x.id)).toEqual([older.id]);
    expect(json.stderr).toContain(`DAMAGED set erp-server-B/${newer.id}`);

    const to = join(s.dir, 'users-check.db');
    const r = await cli(s, ['restore', 'latest', '--from', 'nas', '--db', 'users', '--to', to, '--yes']);
    expect(r.stdout).toContain(`Set ${older.id} fetched from destination "nas"`);
    expect(r.stderr).toContain(`passed over set ${newer.id} at nas, newer but damaged`);
    expect(dbDigest(to)).toEqual(users);

    const byId = await cli(s, ['restore', newer.id, '--from', 'nas', '--db', 'users', '--dry-run'], 5);
    expect(byId.stderr).toContain(`set erp-server-B/${newer.id} has a bad manifest`);
    expect(byId.stderr).toContain('Restore another set (`respaldo list --from nas`)');

    const prune = await cli(s, ['prune', '--from', 'nas', '--dry-run', '--json'], 5);
    const plan = parseJsonOutput<{ sets: { id: string }[]; damaged: { id: string; action: string }[] }>(prune.stdout);
    expect(plan.sets.map((x) => x.id)).toEqual([older.id]);
    expect(plan.damaged).toMatchObject([{ id: newer.id, action: 'keep' }]);
    // A real prune keeps it too, and still works on the others.
    await cli(s, ['prune', '--from', 'nas'], 5);
    expect(readFileSync(join(nas, 'erp-server-B', newer.id, 'manifest.json'), 'utf8')).toBe('{"broken');

    // Another server sharing the destination sees every good set of every source, and the damaged one named.
    setDestinations(s, nas, 'erp-server-C');
    const all = await cli(s, ['list', '--from', 'nas', '--all-sources', '--json'], 5);
    expect(parseJsonOutput<RemoteSetSummary[]>(all.stdout)).toMatchObject([{ id: older.id, source: 'erp-server-B' }]);
  });
});

describe('a manifest at a destination larger than any respaldo writes', () => {
  it('is refused as it streams past the limit (memory flat), named damaged; the other sets still restore', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    setDestinations(s, nas, 'srv1');
    const older = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const newer = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    // 1 GiB of zeros (a sparse file): read whole, it took 3 GB of memory to be found unreadable.
    truncateSync(join(nas, 'srv1', newer.id, 'manifest.json'), 1024 ** 3);
    rmSync(s.backupDir, { recursive: true, force: true });
    // A temporary folder of this test's own (the runs below inherit TMPDIR): other test files running at the same
    // time make and remove respaldo-manifest-* folders in the shared one.
    const was = process.env['TMPDIR'];
    process.env['TMPDIR'] = join(s.dir, 'tmp');
    mkdirSync(process.env['TMPDIR']);
    try {
      const tmpBefore = readdirSync(tmpdir()).filter((n) => n.startsWith('respaldo-manifest-'));

      const list = await cli(s, ['list', '--from', 'nas'], 5);
      expect(list.stdout).toContain(older.id);
      expect(list.stdout).toContain(
        `DAMAGED set srv1/${newer.id} at nas: set srv1/${newer.id} has a bad manifest: larger than 512 MB`,
      );
      const byId = await cli(s, ['restore', newer.id, '--from', 'nas', '--db', 'users', '--dry-run'], 5);
      expect(byId.stderr).toContain('more than any manifest respaldo writes');
      const to = join(s.dir, 'users-check.db');
      expect(
        await peakRss(s, ['restore', 'latest', '--from', 'nas', '--db', 'users', '--to', to, '--yes']),
      ).toBeLessThan(400);
      expect(await peakRss(s, ['list', '--from', 'nas'], 5)).toBeLessThan(400);
      expect(readdirSync(tmpdir()).filter((n) => n.startsWith('respaldo-manifest-'))).toEqual(tmpBefore);
    } finally {
      if (was === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = was;
    }
  });
});

describe('names at a destination that print as other lines', () => {
  it('a database name or a source folder with a line break forges no row of list --from', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    setDestinations(s, nas, 'srv1');
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const fake = '20991231_000000  2099-12-31 23:59  full  completed  users';
    // Another "source" whose folder name is a line of the table, holding a copy of the set.
    cpSync(join(nas, 'srv1'), join(nas, `x\n${fake}`), { recursive: true });
    const file = join(nas, 'srv1', m.id, 'manifest.json');
    const forged = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    forged.databases[0]!.name = `users\n${fake}\u001b[2K`;
    writeFileSync(file, JSON.stringify(forged));
    rmSync(s.backupDir, { recursive: true, force: true });

    const list = await cli(s, ['list', '--from', 'nas', '--all-sources'], 5);
    // Named in the line that says the set is damaged, its line break quoted: no line of its own.
    expect(list.stdout.split('\n').filter((l) => l.includes('20991231_000000'))).toEqual([
      expect.stringMatching(/^DAMAGED set srv1\//),
    ]);
    expect(list.stdout).toContain(
      `DAMAGED set srv1/${m.id} at nas: set srv1/${m.id} has a bad manifest: unsafe database name`,
    );
    expect(list.stdout).toContain('No usable backup sets at destination "nas"');
  });
});

describe('something else than a file at a folder destination', () => {
  it('a FIFO or a folder named as a manifest or a stored file is refused at once, never read', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    setDestinations(s, nas, 'srv1');
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const set = join(nas, 'srv1', m.id);
    const users = m.databases.find((d) => d.name === 'users')!.file!;
    rmSync(s.backupDir, { recursive: true, force: true });
    // A bound, not a wait: opening a FIFO without a writer blocked the restore for ever.
    const run = (args: string[]) => runCli([...args, '--config', s.configFile], { cwd: s.dir, timeoutMs: 30_000 });

    rmSync(join(set, users));
    execFileSync('mkfifo', [join(set, users)]);
    const to = join(s.dir, 'users-check.db');
    for (const how of [[], ['--stream']]) {
      const r = await run(['restore', m.id, '--from', 'nas', '--db', 'users', '--to', to, '--yes', ...how]);
      expect(r.code, describeResult(r)).toBe(5);
      expect(r.stderr).toContain(`${users} is missing there`);
    }
    const v = await run(['verify', m.id, '--from', 'nas', '--read-data']);
    expect(v.code, describeResult(v)).toBe(5);

    for (const make of [(p: string) => execFileSync('mkfifo', [p]), (p: string) => mkdirSync(p)]) {
      rmSync(join(set, 'manifest.json'), { recursive: true, force: true });
      make(join(set, 'manifest.json'));
      const r = await run(['restore', m.id, '--from', 'nas', '--db', 'users', '--to', to, '--yes']);
      // A damaged set there, as a truncated manifest is (exit 5), never "not there" (8).
      expect(r.code, describeResult(r)).toBe(5);
      expect(r.stderr).toMatch(
        new RegExp(
          `set srv1/${m.id} has a bad manifest: manifest.json is (a FIFO, socket or device|a folder), not a file`,
        ),
      );
    }
    expect(readdirSync(s.dir).filter((n) => n.startsWith('users-check') || n.startsWith('.users-check'))).toEqual([]);
  });
});

describe('an encrypted set whose manifest there names another recipient', () => {
  it('passes the key check, fails as it is decrypted: exit 5, the hint naming the destination, not local backups', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    const recipientOf = async (key: string) =>
      /age1[a-z0-9]+/.exec((await cli(s, ['key', 'generate', key])).stdout)![0];
    const [mine, theirs] = [join(s.dir, 'k1.txt'), join(s.dir, 'k2.txt')];
    const [r1, r2] = [await recipientOf(mine), await recipientOf(theirs)];
    writeFileSync(
      s.configFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(s.configFile, 'utf8')),
        encryption: { recipients: [r1], identityFile: theirs },
        destinations: [{ name: 'nas', type: 'folder', path: nas, source: 'srv1' }],
      }),
    );
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    rmSync(s.backupDir, { recursive: true, force: true });
    const file = join(nas, 'srv1', m.id, 'manifest.json');
    const forged = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    forged.encryption!.recipients = [r2];
    writeFileSync(file, JSON.stringify(forged));

    const to = join(s.dir, 'users-check.db');
    const r = await cli(s, ['restore', m.id, '--from', 'nas', '--db', 'users', '--to', to, '--yes'], 5);
    expect(r.stderr).toContain('changed or damaged');
    expect(r.stderr).toContain('hint: Restore another set (`respaldo list --from nas`)');
    expect(r.stderr).not.toContain('check the disk that holds the backups');
    expect(existsSync(to)).toBe(false);

    // In the menu (the engine, in-process), that hint is said in Spanish too, as the rest of the damage there.
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const fetched = await fetchSet(cfg, 'nas', m.id, { databases: ['users'] }, new FakeReporter());
    const plan = await planRestore(cfg, m.id, {
      databases: ['users'],
      to,
      cwd: s.dir,
      ...fetchedRestoreOptions(fetched, 'nas'),
    });
    const err = await executeRestore(cfg, plan, new FakeReporter()).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VerifyError);
    const hint = (err as VerifyError).phrases?.hint;
    expect(hint && say('es', hint, '')).toBe(
      'Restaure otra copia (`respaldo list --from nas`); la copia solo puede repararse allí desde un servidor que aún la tenga.',
    );
    expect(existsSync(to)).toBe(false);
  });
});
