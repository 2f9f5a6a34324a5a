import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest, SetSummary } from '../src/core/types.js';
import type { CopyResult } from '../src/engine/copy.js';
import type { RemoteSetSummary } from '../src/engine/remote.js';
import { parseJsonOutput } from './helpers/cli.js';
import { SECRET, cli, localFiles, newServerDay, tree } from './helpers/offsite.js';
import { startS3rver, stopAllS3rvers, type S3Server, s3Destination } from './helpers/s3rver.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

afterEach(stopAllS3rvers);

function folderDest(s: DemoSetup, extra: Record<string, unknown> = {}, mounted = true) {
  const path = join(s.dir, 'nas');
  if (mounted) mkdirSync(path);
  return { config: { name: 'nas', type: 'folder', path, source: 'srv1', ...extra }, root: path };
}

function s3Dest(srv: S3Server, extra: Record<string, unknown> = {}) {
  return s3Destination(srv, { region: 'us-east-1', prefix: 'backups', forcePathStyle: true, source: 'srv1', ...extra });
}

/** Path of an object in s3rver's store. */
function s3Object(srv: S3Server, key: string): string {
  return join(srv.dir, srv.bucket, `${key}._S3rver_object`);
}

describe('config', () => {
  it('a destination without its required field, or a duplicate name, names the field; nothing is written', async () => {
    const s = demoSetup({ destinations: [{ name: 'offsite', type: 's3', accessKeyId: 'a', secretAccessKey: 'b' }] });
    const r = await cli(s, ['create'], 3);
    expect(r.stderr).toContain('destinations[0].bucket');
    expect(existsSync(s.backupDir)).toBe(false);
    const t = demoSetup({
      destinations: [
        { name: 'x', type: 'folder', path: './a' },
        { name: 'x', type: 'folder', path: './b' },
      ],
    });
    expect((await cli(t, ['list'], 3)).stderr).toContain('destinations[1].name');
    const u = demoSetup({ destinations: [{ name: 'x', type: 'ftp', path: './a' }] });
    expect((await cli(u, ['list'], 3)).stderr).toContain('destinations[0].type');
  });

  it('a host key that is not a SHA-256 fingerprint says what one looks like; a bad name says what names may hold', async () => {
    const sftp = { name: 'far', type: 'sftp', host: 'h', user: 'u', path: '/b', password: 'p' };
    const s = demoSetup({ destinations: [{ ...sftp, hostKey: 'MD5:12:34:56' }] });
    expect((await cli(s, ['list'], 3)).stderr).toContain(
      'destinations[0].hostKey: found "MD5:12:34:56", expected a SHA-256 host key fingerprint: "SHA256:" and 43 base64 characters',
    );
    const t = demoSetup({ destinations: [{ ...sftp, name: '.hidden', hostKey: `SHA256:${'A'.repeat(43)}` }] });
    expect((await cli(t, ['list'], 3)).stderr).toContain(
      'destinations[0].name: found ".hidden", expected a name of letters, digits, _ . -',
    );
  });

  it('an rclone sftp remote without a known_hosts file is refused (it would take any host key), naming how to pin one', async () => {
    const remote = { name: 'far', type: 'rclone', remote: 'far', path: 'b' };
    const config = { type: 'sftp', host: '127.0.0.1', user: 'u', pass: 'p' };
    const s = demoSetup({ destinations: [{ ...remote, config }] });
    const r = await cli(s, ['create'], 3);
    expect(r.stderr).toContain(
      "destinations[0].config.known_hosts_file: required for an sftp remote: without it rclone accepts any server's host key",
    );
    expect(r.stderr).toContain('ssh-keyscan -p PORT HOST');
    expect(existsSync(s.backupDir)).toBe(false);
    // With one (any case of the key), or a remote of another type, the config loads.
    const t = demoSetup({ destinations: [{ ...remote, config: { ...config, KNOWN_HOSTS_FILE: '/etc/k' } }] });
    await cli(t, ['list']);
    const u = demoSetup({ destinations: [{ ...remote, config: { type: 's3', provider: 'Other' } }] });
    await cli(u, ['list']);
  });
});

describe('folder destination', () => {
  it('create copies the set (same files, manifest included); a rerun sends nothing; a missing file is sent again', async () => {
    const s = demoSetup((base) => ({ ...base }));
    const d = folderDest(s);
    writeFileSync(
      s.configFile,
      JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), destinations: [d.config] }),
    );
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const remote = join(d.root, 'srv1', m.id);
    expect(tree(remote)).toEqual(localFiles(s, m.id));
    expect((statSync(join(remote, 'manifest.json')).mode & 0o777).toString(8)).toBe('600');
    expect((statSync(remote).mode & 0o777).toString(8)).toBe('700');
    const marks = JSON.parse(readFileSync(join(s.backupDir, m.id, 'copies.json'), 'utf8')) as Record<
      string,
      { ok: boolean }
    >;
    expect(marks.nas?.ok).toBe(true);

    let again = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', m.id, '--json'])).stdout);
    expect(again).toMatchObject([{ setId: m.id, destination: 'nas', ok: true, filesSent: 0 }]);
    const db = m.databases[0]!.file!;
    unlinkSync(join(remote, db));
    again = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', m.id, '--json'])).stdout);
    expect(again[0]).toMatchObject({ ok: true, filesSent: 2 }); // the file, then the manifest last
    expect(tree(remote)).toEqual(localFiles(s, m.id));
  });

  it('a set without its manifest there (a copy cut short) is not listed; `copy` completes it; verify --read-data finds a changed file', async () => {
    const s = demoSetup();
    const d = folderDest(s, { copyAfterBackup: false });
    writeFileSync(
      s.configFile,
      JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), destinations: [d.config] }),
    );
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    expect(existsSync(join(d.root, 'srv1', m.id))).toBe(false); // copyAfterBackup false
    await cli(s, ['copy']);
    const remote = join(d.root, 'srv1', m.id);
    unlinkSync(join(remote, 'manifest.json'));
    expect(parseJsonOutput<RemoteSetSummary[]>((await cli(s, ['list', '--from', 'nas', '--json'])).stdout)).toEqual([]);
    await cli(s, ['copy', '--to', 'nas']);
    const listed = parseJsonOutput<RemoteSetSummary[]>((await cli(s, ['list', '--from', 'nas', '--json'])).stdout);
    expect(listed.map((x) => [x.id, x.source])).toEqual([[m.id, 'srv1']]);
    await cli(s, ['verify', m.id, '--from', 'nas', '--read-data']);

    const file = join(remote, m.databases[0]!.file!);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1]! ^= 0xff; // same size: only reading the data finds it
    writeFileSync(file, bytes);
    await cli(s, ['verify', m.id, '--from', 'nas']);
    const bad = await cli(s, ['verify', m.id, '--from', 'nas', '--read-data'], 5);
    expect(bad.stdout).toContain(`${m.databases[0]!.file}: sha256 mismatch`);
    unlinkSync(join(remote, m.files.find((f) => f.stored)!.stored!));
    expect((await cli(s, ['verify', m.id, '--from', 'nas'], 5)).stdout).toContain('missing');
  });

  it('a destination that is not mounted: create exits 12, the set stays intact and marked; the next copy sends it', async () => {
    const s = demoSetup();
    const d = folderDest(s, {}, false);
    writeFileSync(
      s.configFile,
      JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), destinations: [d.config] }),
    );
    const r = await cli(s, ['create', '--json'], 12);
    const m = parseJsonOutput<Manifest>(r.stdout);
    expect(r.stderr).toContain(`NOT copied to nas`);
    expect(r.stderr).toContain(`${d.root} does not exist (not mounted?)`);
    expect(JSON.parse(readFileSync(join(s.backupDir, m.id, 'copies.json'), 'utf8')).nas.ok).toBe(false);
    await cli(s, ['verify', m.id]);
    // Monitoring sees it: status --check reports the newest set missing at the destination (exit 10).
    expect((await cli(s, ['status', '--check'], 10)).stdout).toContain(`the newest set ${m.id} is not copied to nas`);
    // Reading from it says it is not mounted (it said "no sets there", and its hint pointed at `source`).
    for (const args of [
      ['list', '--from', 'nas'],
      ['restore', 'latest', '--from', 'nas', '--db', 'users', '--yes'],
      ['verify', m.id, '--from', 'nas'],
      ['prune', '--from', 'nas'],
    ]) {
      const read = await cli(s, args, 7);
      expect(read.stderr, args.join(' ')).toContain(`${d.root} does not exist (not mounted?)`);
      expect(read.stderr, args.join(' ')).toContain('hint: Mount it');
    }
    mkdirSync(d.root);
    const done = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', '--json'])).stdout);
    expect(done).toMatchObject([{ setId: m.id, ok: true }]);
    expect((await cli(s, ['status', '--check'])).stdout).toMatch(/^healthy/);
    expect(tree(join(d.root, 'srv1', m.id))).toEqual(localFiles(s, m.id));
  });

  it('copy "" (a variable not set) is exit 2 and sends nothing; it copied every set', async () => {
    const s = demoSetup();
    const d = folderDest(s, { copyAfterBackup: false });
    writeFileSync(
      s.configFile,
      JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), destinations: [d.config] }),
    );
    await cli(s, ['create']);
    for (const args of [
      ['copy', '', '--to', 'nas'],
      ['copy', ' ', '--verify'],
    ]) {
      const r = await cli(s, args, 2);
      expect(r.stderr).toContain('ID needs a value, not an empty one');
    }
    expect(readdirSync(d.root)).toEqual([]);
  });

  it('a destination path that is a file: said to be no folder (it said "not mounted, mount it"), nothing written', async () => {
    const s = demoSetup();
    const d = folderDest(s, {}, false);
    writeFileSync(d.root, 'an archive, not the NAS\n');
    writeFileSync(
      s.configFile,
      JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), destinations: [d.config] }),
    );
    const r = await cli(s, ['create', '--json'], 12);
    const m = parseJsonOutput<Manifest>(r.stdout);
    expect(r.stderr).toContain(`NOT copied to nas: destination "nas": ${d.root} is not a folder`);
    for (const args of [
      ['list', '--from', 'nas'],
      ['copy', m.id, '--to', 'nas'],
    ]) {
      const out = (await cli(s, args, args[0] === 'copy' ? 12 : 7)).stderr;
      expect(out).toContain(`${d.root} is not a folder`);
      expect(out).toContain('hint: Point "path" of destination "nas" at the folder');
      expect(out).not.toContain('not mounted');
    }
    expect(readFileSync(d.root, 'utf8')).toBe('an archive, not the NAS\n');
    await cli(s, ['verify', m.id]);
  });

  it('the new-server day: backupDir deleted, list --from and restore latest --from --db users', async () => {
    const s = demoSetup();
    const d = folderDest(s);
    writeFileSync(
      s.configFile,
      JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), destinations: [d.config] }),
    );
    await newServerDay(s);
  });
});

describe('S3 destination (s3rver)', () => {
  function withS3(s: DemoSetup, srv: S3Server, extra: Record<string, unknown> = {}) {
    writeFileSync(
      s.configFile,
      JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), destinations: [s3Dest(srv, extra)] }),
    );
  }

  it('create uploads the set under prefix/source/id; rerun sends nothing; verify --read-data finds a changed object', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    withS3(s, srv);
    const r = await cli(s, ['create', '--json']);
    const m = parseJsonOutput<Manifest>(r.stdout);
    for (const [p, b64] of Object.entries(localFiles(s, m.id))) {
      expect(readFileSync(s3Object(srv, `backups/srv1/${m.id}/${p}`)).toString('base64'), p).toBe(b64);
    }
    const again = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', '--json'])).stdout);
    expect(again).toEqual([]);
    const one = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', 'latest', '--json'])).stdout);
    expect(one).toMatchObject([
      {
        setId: m.id,
        ok: true,
        filesSent: 0,
        filesAlreadyThere: m.databases.length + m.files.filter((f) => f.stored).length,
      },
    ]);
    await cli(s, ['verify', 'latest', '--from', 'offsite', '--read-data']);
    const obj = s3Object(srv, `backups/srv1/${m.id}/${m.databases[1]!.file}`);
    const bytes = readFileSync(obj);
    bytes[10]! ^= 0x01;
    writeFileSync(obj, bytes);
    const bad = await cli(s, ['verify', 'latest', '--from', 'offsite', '--read-data', '--json'], 5);
    expect(bad.stdout).toContain('sha256 mismatch');
    expect(r.stdout + r.stderr).not.toContain(SECRET + '"');
    const logs = readdirSync(join(s.backupDir, 'logs'))
      .map((f) => readFileSync(join(s.backupDir, 'logs', f), 'utf8'))
      .join('');
    expect(logs).toContain('"event":"copy"');
    expect(readFileSync(join(s.backupDir, m.id, 'copies.json'), 'utf8')).not.toContain(SECRET);
  });

  it('the new-server day from S3', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    withS3(s, srv);
    await newServerDay(s, 'offsite');
  });

  it('--all-sources shows other servers sharing the bucket; by default only this source', async () => {
    const srv = await startS3rver();
    const a = demoSetup();
    withS3(a, srv);
    const b = demoSetup();
    withS3(b, srv, { source: 'srv2' });
    const ma = parseJsonOutput<Manifest>((await cli(a, ['create', '--json', '--db', 'users', '--no-files'])).stdout);
    await cli(b, ['create', '--db', 'users', '--no-files']);
    expect(
      parseJsonOutput<RemoteSetSummary[]>((await cli(a, ['list', '--from', 'offsite', '--json'])).stdout).map(
        (x) => x.source,
      ),
    ).toEqual(['srv1']);
    const all = parseJsonOutput<RemoteSetSummary[]>(
      (await cli(a, ['list', '--from', 'offsite', '--all-sources', '--json'])).stdout,
    );
    expect(all.map((x) => x.source).sort()).toEqual(['srv1', 'srv2']);
    expect(all.find((x) => x.source === 'srv1')!.id).toBe(ma.id);
  });

  it('store gone, then wrong credentials: create exits 12 with a clear error, the set intact; the next copy completes', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    withS3(s, srv);
    await srv.kill();
    const r = await cli(s, ['create', '--json'], 12);
    const m = parseJsonOutput<Manifest>(r.stdout);
    expect(r.stderr).toMatch(/NOT copied to offsite: .*unreachable/);
    await cli(s, ['verify', m.id]);
    const sets = parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--json'])).stdout);
    expect(sets.map((x) => x.id)).toEqual([m.id]);

    await srv.restart();
    const wrong = await cli(s, ['copy', '--json'], 12, { S3_KEY_ID: 'WRONGKEYID' });
    expect(wrong.stderr).toContain('refused the credentials (InvalidAccessKeyId)');
    expect(parseJsonOutput<RemoteSetSummary[]>((await cli(s, ['list', '--from', 'offsite', '--json'])).stdout)).toEqual(
      [],
    );

    const ok = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', '--json'])).stdout);
    expect(ok).toMatchObject([{ setId: m.id, ok: true }]);
    await cli(s, ['verify', m.id, '--from', 'offsite', '--read-data']);
  });
});
