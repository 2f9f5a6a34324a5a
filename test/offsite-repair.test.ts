/**
 * A stored file damaged in place at a destination (same size) or deleted there: `verify --from --read-data`
 * finds it and names the command that repairs it; `copy ID --to NAME --verify` reads every file there back,
 * sends again exactly those that differ (through the copy's own path, the manifest last), and never sends a
 * local file that does not match its manifest. Plain `copy` notices a file missing there when listing the
 * destination already lists its files. Repairs are tested on folder, SFTP (encrypted), S3 and rclone destinations.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import type { CopyResult } from '../src/engine/copy.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli, localFiles, tree } from './helpers/offsite.js';
import { s3Destination, startS3rver, stopAllS3rvers } from './helpers/s3rver.js';
import { rcloneSftpConfig, sftpDestination, startSshd, stopAllSshd } from './helpers/sshd.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';
import { ageKeygen } from './helpers/age.js';

afterEach(async () => {
  await stopAllSshd();
  await stopAllS3rvers();
});

/** Overwrites 3 bytes in the middle of a file with others, keeping its size. */
function damage(file: string): void {
  const bytes = readFileSync(file);
  const at = Math.floor(bytes.length / 2);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from([0, 1, 2].map((i) => bytes[at + i]! ^ 0xff)), 0, 3, at);
  closeSync(fd);
}

function withDestinations(s: DemoSetup, extra: Record<string, unknown>): void {
  writeFileSync(s.configFile, JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), ...extra }));
}

const copyJson = async (s: DemoSetup, args: string[], code = 0) =>
  parseJsonOutput<CopyResult[]>((await cli(s, ['copy', ...args, '--json'], code)).stdout);

/** A demo set made and copied on create to the folder destination `nas` (source srv1); `there` is its copy. */
async function copiedToFolder() {
  const s = demoSetup();
  const nas = join(s.dir, 'nas');
  mkdirSync(nas);
  withDestinations(s, { destinations: [{ name: 'nas', type: 'folder', path: nas, source: 'srv1' }] });
  const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
  return { s, m, there: join(nas, 'srv1', m.id) };
}

describe('copy --verify repairs a set at a folder destination', () => {
  it('re-sends exactly the damaged and the deleted file; the next verify --read-data passes; the local set is untouched', async () => {
    const { s, m, there } = await copiedToFolder();
    const db = m.databases.find((d) => d.name === 'users')!.file!;
    const app = m.files.find((f) => f.stored)!.stored!;
    const local = localFiles(s, m.id);
    damage(join(there, db));
    rmSync(join(there, app));

    const v = await cli(s, ['verify', m.id, '--from', 'nas', '--read-data'], 5);
    expect(v.stdout).toContain(`${db}: sha256 mismatch`);
    expect(v.stdout).toContain(`${app}: missing`);
    expect(v.stdout).toContain(
      `hint: This server still holds set ${m.id}: \`respaldo copy ${m.id} --to nas --verify\``,
    );
    const r = await cli(s, ['restore', m.id, '--from', 'nas', '--db', 'users', '--yes'], 5); // refused: nothing touched
    expect(r.stderr).toContain(`respaldo copy ${m.id} --to nas --verify`);

    const text = await cli(s, ['copy', m.id, '--to', 'nas', '--verify']);
    expect(text.stdout).toContain(`re-sent 2 file(s) that differed at nas: `);
    expect(text.stdout).toContain(`${db} (sha256 mismatch (content changed))`);
    expect(text.stdout).toContain(`${app} (missing)`);
    await cli(s, ['verify', m.id, '--from', 'nas', '--read-data']);
    expect(localFiles(s, m.id)).toEqual(local);
    expect(tree(there)).toEqual(local);

    // Nothing wrong: a plain copy --verify reads everything back and sends nothing.
    const again = await copyJson(s, ['--verify']);
    expect(again).toMatchObject([{ setId: m.id, ok: true, filesSent: 0, resent: [] }]);
    expect(again[0]!.reread).toBe(Object.keys(local).length);
    expect((await cli(s, ['copy', '--verify'])).stdout).toContain('every one matches its manifest');

    // Without --verify, plain copy notices a file missing there (listing the folder lists its files).
    rmSync(join(there, db));
    expect(await copyJson(s, [])).toMatchObject([{ setId: m.id, ok: true, filesSent: 2 }]); // the file, the manifest
    await cli(s, ['verify', m.id, '--from', 'nas', '--read-data']);
    expect((await cli(s, ['copy'])).stdout).toContain('Every set is already at every destination.');
  });

  it('a damaged local file is never sent: over a good copy nothing is read from it; over a damaged one it is refused (exit 12)', async () => {
    const { s, m, there } = await copiedToFolder();
    const [a, b] = m.databases.filter((d) => d.file).map((d) => d.file!);
    const good = tree(there);
    damage(join(s.backupDir, m.id, a!));
    expect(await copyJson(s, [m.id, '--to', 'nas', '--verify'])).toMatchObject([{ ok: true, filesSent: 0 }]);
    expect(tree(there)).toEqual(good);

    damage(join(s.backupDir, m.id, b!));
    damage(join(there, b!));
    const damagedThere = tree(there);
    const refused = await cli(s, ['copy', m.id, '--to', 'nas', '--verify'], 12);
    expect(refused.stderr).toContain(`do not match their manifest (sha256): ${b}; they were not sent`);
    expect(refused.stderr).toContain(`hint: Run \`respaldo verify ${m.id}\``);
    expect(tree(there)).toEqual(damagedThere);
  });

  it('on a new server (the set not here) the hints do not suggest copy --verify', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    withDestinations(s, { destinations: [{ name: 'nas', type: 'folder', path: nas, source: 'srv1' }] });
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const db = m.databases.find((d) => d.name === 'users')!.file!;
    damage(join(nas, 'srv1', m.id, db));
    rmSync(s.backupDir, { recursive: true, force: true });
    const v = await cli(s, ['verify', m.id, '--from', 'nas', '--read-data'], 5);
    expect(v.stdout).toContain('hint: Restore another set (`respaldo list --from nas`)');
    const r = await cli(s, ['restore', m.id, '--from', 'nas', '--db', 'users', '--yes'], 5); // refused: nothing touched
    expect(r.stderr).toContain('Restore another set (`respaldo list --from nas`)');
    for (const out of [v.stdout, r.stderr]) expect(out).not.toContain('--verify');
  });
});

describe('copy --verify repairs a set at an S3 and at an rclone destination', () => {
  /**
   * A demo set copied on create to destination `offsite` (source srv1), and where each of its stored objects lies
   * on the server's disk: s3rver keeps `<key>._S3rver_object` beside `<key>._S3rver_metadata.json`; rclone's sftp
   * backend writes plain files under sshd's root.
   */
  async function copied(kind: 's3' | 'rclone') {
    const s = demoSetup();
    let onDisk: (rel: string) => string[];
    if (kind === 's3') {
      const srv = await startS3rver();
      withDestinations(s, { destinations: [s3Destination(srv, { source: 'srv1' })] });
      const base = (rel: string) => join(srv.dir, srv.bucket, 'p', 'srv1', rel);
      onDisk = (rel) => [`${base(rel)}._S3rver_object`, `${base(rel)}._S3rver_metadata.json`];
    } else {
      const srv = await startSshd();
      const config = rcloneSftpConfig(srv);
      withDestinations(s, {
        destinations: [{ name: 'offsite', type: 'rclone', remote: 'offsite', path: srv.root, source: 'srv1', config }],
      });
      onDisk = (rel) => [join(srv.root, 'srv1', rel)];
    }
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    return { s, m, onDisk };
  }

  it.each(['s3', 'rclone'] as const)(
    '%s: re-sends exactly the damaged and the deleted file; verify --read-data passes after; nothing else is sent',
    async (kind) => {
      const { s, m, onDisk } = await copied(kind);
      const db = m.databases.find((d) => d.name === 'users')!.file!;
      const app = m.files.find((f) => f.stored)!.stored!;
      const local = localFiles(s, m.id);
      damage(onDisk(`${m.id}/${db}`)[0]!);
      for (const f of onDisk(`${m.id}/${app}`)) rmSync(f);

      // (verify --read-data finding them is tested on each destination type; here the repair names them.)
      const repaired = await copyJson(s, [m.id, '--to', 'offsite', '--verify']);
      expect(repaired).toMatchObject([{ setId: m.id, ok: true }]);
      expect((repaired[0]!.resent ?? []).map((r) => r.path).sort()).toEqual([app, db].sort());
      await cli(s, ['verify', m.id, '--from', 'offsite', '--read-data']);
      expect(localFiles(s, m.id)).toEqual(local);
      // Nothing wrong any more: everything read back, nothing sent (S3 only: rclone costs a process per file).
      if (kind === 's3')
        expect(await copyJson(s, [m.id, '--to', 'offsite', '--verify'])).toMatchObject([
          { setId: m.id, ok: true, filesSent: 0, resent: [] },
        ]);
    },
  );
});

describe('copy --verify repairs an encrypted copy at an sftp destination (local sets plain)', () => {
  it('re-encrypts exactly the damaged and the deleted file and rewrites the manifest there; nothing else changes', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    withDestinations(s, {
      source: 'srv1',
      encryption: { recipients: [recipient], identityFile: keyFile, local: false },
      destinations: [sftpDestination(srv, { encrypt: true })],
    });
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const there = join(srv.root, 'srv1', m.id);
    const db = `${m.databases.find((d) => d.name === 'users')!.file!}.age`;
    const app = `${m.files.find((f) => f.stored)!.stored!}.age`;
    const local = localFiles(s, m.id);
    const before = tree(there);
    damage(join(there, db));
    rmSync(join(there, app));

    const v = await cli(s, ['verify', m.id, '--from', 'ssh', '--read-data'], 5);
    // The stored bytes' hash is compared first, as a local verify --read-data does (d24815a): their damage, not age's.
    expect(v.stdout).toContain(`${db}: sha256 mismatch (content changed)`);
    expect(v.stdout).toContain(`respaldo copy ${m.id} --to ssh --verify`);
    const r = await copyJson(s, [m.id, '--to', 'ssh', '--verify']);
    expect(r).toMatchObject([{ setId: m.id, ok: true, filesSent: 3 }]); // the two files, the manifest
    expect(r[0]!.resent!.map((f) => f.path).sort()).toEqual([app, db].sort());
    await cli(s, ['verify', m.id, '--from', 'ssh', '--read-data']);
    expect(localFiles(s, m.id)).toEqual(local);
    const after = tree(there);
    for (const p of Object.keys(before))
      if (p !== db && p !== app && p !== 'manifest.json') expect(after[p], p).toBe(before[p]);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());

    expect(await copyJson(s, ['--verify'])).toMatchObject([{ setId: m.id, ok: true, filesSent: 0, resent: [] }]);
  });
});

describe('a destination that turns to encrypt: true, over a set copied there unencrypted', () => {
  it('copy and copy --verify send it encrypted, remove the unencrypted files there, and keep the keep mark', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    withDestinations(s, { destinations: [{ name: 'nas', type: 'folder', path: nas, source: 'srv1' }] });
    const a = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const b = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    for (const m of [a, b]) await cli(s, ['keep', m.id]);
    const plain = Object.keys(tree(join(nas, 'srv1', a.id)));
    expect(plain).toContain('keep');

    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    withDestinations(s, {
      encryption: { recipients: [recipient], identityFile: keyFile, local: false },
      destinations: [{ name: 'nas', type: 'folder', path: nas, source: 'srv1', encrypt: true }],
    });
    const stored = (m: Manifest) => [...m.databases.map((d) => d.file), ...m.files.map((f) => f.stored)];
    for (const [m, args] of [
      [a, ['--verify']],
      [b, []],
    ] as const) {
      const there = join(nas, 'srv1', m.id);
      const out = await cli(s, ['copy', m.id, '--to', 'nas', ...args]);
      expect(out.stdout).toContain('unencrypted file(s) of an earlier copy at nas');
      const files = Object.keys(tree(there)).sort();
      const want = stored(m)
        .filter((p): p is string => Boolean(p))
        .map((p) => `${p}.age`);
      expect(files).toEqual([...want, 'keep', 'manifest.json'].sort());
      const rm = JSON.parse(readFileSync(join(there, 'manifest.json'), 'utf8')) as Manifest;
      expect(rm.encryption).toBeDefined();
      await cli(s, ['verify', m.id, '--from', 'nas', '--read-data']);
    }
    expect(await copyJson(s, [a.id, '--to', 'nas', '--verify'])).toMatchObject([{ ok: true, filesSent: 0 }]);
  });
});
