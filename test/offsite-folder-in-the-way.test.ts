import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli, SECRET } from './helpers/offsite.js';
import { S3RVER_KEY, s3Destination, startS3rver, stopAllS3rvers, type S3Server } from './helpers/s3rver.js';
import { sftpDestination, startSshd, stopAllSshd } from './helpers/sshd.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

/**
 * A folder where respaldo writes a file, at an S3 store (a prefix: objects `manifest.json/…`), an rclone remote and an
 * sftp server: the set is listed DAMAGED (5), verify and restore from there refuse it (5), and a copy is refused (12)
 * naming the key, with nothing written over nor removed there, as at a folder destination (offsite-odd-manifest).
 */

afterEach(async () => {
  await stopAllSshd();
  await stopAllS3rvers();
});

function withDestination(s: DemoSetup, dest: Record<string, unknown>): void {
  const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(s.configFile, JSON.stringify({ ...doc, destinations: [dest] }));
}

const create = async (s: DemoSetup) =>
  parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout);

/** list --from, verify --from, restore --from name the set damaged; copy is refused naming the key there. */
async function checkRefused(s: DemoSetup, name: string, id: string, stored: string): Promise<void> {
  const l = await cli(s, ['list', '--from', name], 5);
  expect(l.stdout).toContain(`DAMAGED set srv1/${id} at ${name}`);
  expect(l.stdout).toContain('manifest.json is a folder, not a file');
  const p = await cli(s, ['prune', '--from', name, '--dry-run'], 5);
  expect(p.stdout + p.stderr).toContain(id);
  const v = await cli(s, ['verify', id, '--from', name], 5);
  expect(v.stdout + v.stderr).toContain('manifest.json is a folder, not a file');
  const r = await cli(s, ['restore', id, '--from', name, '--db', 'users', '--dry-run'], 5);
  expect(r.stdout + r.stderr).toContain('manifest.json is a folder, not a file');
  const c = await cli(s, ['copy', id, '--to', name], 12);
  expect(c.stdout + c.stderr).toContain(`writing srv1/${id}/${stored}: a folder is there`);
  expect(c.stdout + c.stderr).toContain(`respaldo delete ${id} --from ${name}`);
}

function s3Client(srv: S3Server): S3Client {
  return new S3Client({
    endpoint: srv.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: SECRET },
  });
}

describe('S3: objects below a stored file name (a folder in a listing)', () => {
  it('manifest.json/…: listed DAMAGED, verify and restore refuse it (5), copy refused (12), nothing written over', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    withDestination(s, { ...s3Destination(srv), source: 'srv1' });
    const id = (await create(s)).id;
    const s3 = s3Client(srv);
    const Bucket = srv.bucket;
    const manifest = `p/srv1/${id}/manifest.json`;
    await s3.send(new DeleteObjectCommand({ Bucket, Key: manifest }));
    await s3.send(new PutObjectCommand({ Bucket, Key: `${manifest}/note.txt`, Body: 'put here by hand\n' }));
    await checkRefused(s, 'offsite', id, 'manifest.json');
    // Nothing written beside the folder: no object manifest.json was made, the note is as it was.
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key: manifest }))).rejects.toMatchObject({ name: 'NotFound' });
    const note = await s3.send(new GetObjectCommand({ Bucket, Key: `${manifest}/note.txt` }));
    expect(await note.Body!.transformToString()).toBe('put here by hand\n');
    // Removed when asked, the note with it (said first).
    const d = await cli(s, ['delete', id, '--from', 'offsite', '--yes']);
    expect(d.stderr).toContain('1 file(s) respaldo did not write (manifest.json/note.txt)');
    s3.destroy();
  });

  it('a database file with objects below it: copy refused (12) before anything is sent, the objects kept', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    withDestination(s, { ...s3Destination(srv), source: 'srv1', copyAfterBackup: false });
    const m = await create(s);
    const stored = m.databases[0]!.file!;
    const s3 = s3Client(srv);
    const Bucket = srv.bucket;
    await s3.send(new PutObjectCommand({ Bucket, Key: `p/srv1/${m.id}/${stored}/x`, Body: 'x' }));
    const c = await cli(s, ['copy', m.id, '--to', 'offsite'], 12);
    expect(c.stdout + c.stderr).toContain(`writing srv1/${m.id}/${stored}: a folder is there`);
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key: `p/srv1/${m.id}/${stored}` }))).rejects.toMatchObject({
      name: 'NotFound',
    });
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key: `p/srv1/${m.id}/manifest.json` }))).rejects.toMatchObject(
      { name: 'NotFound' },
    );
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: `p/srv1/${m.id}/${stored}/x` }))).ContentLength).toBe(1);
    s3.destroy();
  });
});

describe('rclone (S3 backend on s3rver): objects below manifest.json', () => {
  // rclone 1.60's s3 backend cannot run with AWS_CA_BUNDLE set (rclone-errors.ts); as offsite-rclone-s3 does.
  const caBundle = process.env.AWS_CA_BUNDLE;
  beforeAll(() => void delete process.env.AWS_CA_BUNDLE);
  afterAll(() => {
    if (caBundle !== undefined) process.env.AWS_CA_BUNDLE = caBundle;
  });
  it('verify and restore refuse it (5), copy refused (12), nothing written over', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    withDestination(s, {
      name: 'cloud',
      type: 'rclone',
      remote: 'offsite',
      path: `${srv.bucket}/p`,
      source: 'srv1',
      config: {
        type: 's3',
        provider: 'Other',
        endpoint: srv.endpoint,
        access_key_id: S3RVER_KEY,
        secret_access_key: SECRET,
        force_path_style: 'true',
      },
    });
    const id = (await create(s)).id;
    const s3 = s3Client(srv);
    const Bucket = srv.bucket;
    const manifest = `p/srv1/${id}/manifest.json`;
    await s3.send(new DeleteObjectCommand({ Bucket, Key: manifest }));
    await s3.send(new PutObjectCommand({ Bucket, Key: `${manifest}/note.txt`, Body: 'put here by hand\n' }));
    // Listed as the S3 destination lists it: rclone walks the bucket one prefix at a time, and `manifest.json/` is one.
    await checkRefused(s, 'cloud', id, 'manifest.json');
    // prune --from (not a dry run) keeps it, naming it, and removes nothing there.
    const p = await cli(s, ['prune', '--from', 'cloud'], 5);
    expect(p.stdout + p.stderr).toContain(`set ${id} at cloud is damaged, kept and not counted by the retention`);
    const note0 = await s3.send(new GetObjectCommand({ Bucket, Key: `${manifest}/note.txt` }));
    expect(await note0.Body!.transformToString()).toBe('put here by hand\n');
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key: manifest }))).rejects.toMatchObject({ name: 'NotFound' });
    const note = await s3.send(new GetObjectCommand({ Bucket, Key: `${manifest}/note.txt` }));
    expect(await note.Body!.transformToString()).toBe('put here by hand\n');
    const d = await cli(s, ['delete', id, '--from', 'cloud', '--yes']);
    expect(d.stderr).toContain('1 file(s) respaldo did not write (manifest.json/note.txt)');
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key: `${manifest}/note.txt` }))).rejects.toMatchObject({
      name: 'NotFound',
    });
    s3.destroy();
  });
});

describe('rclone (local backend): a folder at a stored file name', () => {
  const rclone = (path: string) => ({
    name: 'cloud',
    type: 'rclone',
    remote: 'loc',
    path,
    source: 'srv1',
    config: { type: 'local' },
  });

  it('manifest.json a folder: listed DAMAGED, verify and restore refuse it (5), copy refused (12), the folder kept', async () => {
    const s = demoSetup();
    const root = join(s.dir, 'remote');
    mkdirSync(root);
    withDestination(s, rclone(root));
    const id = (await create(s)).id;
    const there = join(root, 'srv1', id);
    rmSync(join(there, 'manifest.json'));
    mkdirSync(join(there, 'manifest.json'));
    writeFileSync(join(there, 'manifest.json', 'note.txt'), 'put here by hand\n');
    await checkRefused(s, 'cloud', id, 'manifest.json');
    expect(readdirSync(join(there, 'manifest.json'))).toEqual(['note.txt']);
  });

  it('an empty folder at a database file: copy refused (12) naming it, the folder kept, no manifest written', async () => {
    const s = demoSetup();
    const root = join(s.dir, 'remote');
    mkdirSync(root);
    withDestination(s, { ...rclone(root), copyAfterBackup: false });
    const m = await create(s);
    const stored = m.databases[0]!.file!;
    mkdirSync(join(root, 'srv1', m.id, stored), { recursive: true });
    const c = await cli(s, ['copy', m.id, '--to', 'cloud'], 12);
    expect(c.stdout + c.stderr).toContain(`writing srv1/${m.id}/${stored}: a folder is there`);
    expect(readdirSync(join(root, 'srv1', m.id, stored))).toEqual([]);
    expect(existsSync(join(root, 'srv1', m.id, 'manifest.json'))).toBe(false);
  });
});

describe('sftp: a plain copy where a folder sits at a database file', () => {
  for (const what of ['empty', 'holding a file'] as const)
    it(`${what}: refused (12) naming it and how to clear it, the folder kept, no manifest written`, async () => {
      const srv = await startSshd();
      const s = demoSetup();
      withDestination(s, { ...sftpDestination(srv), source: 'srv1', copyAfterBackup: false });
      const m = await create(s);
      const stored = m.databases[0]!.file!;
      const folder = join(srv.root, 'srv1', m.id, stored);
      mkdirSync(folder, { recursive: true });
      if (what === 'holding a file') writeFileSync(join(folder, 'note.txt'), 'put here by hand\n');
      const c = await cli(s, ['copy', m.id, '--to', 'ssh'], 12);
      expect(c.stdout + c.stderr).toContain(`writing srv1/${m.id}/${stored}: a folder is there`);
      expect(c.stdout + c.stderr).toContain(`respaldo delete ${m.id} --from ssh`);
      expect(readdirSync(folder)).toEqual(what === 'empty' ? [] : ['note.txt']);
      expect(existsSync(join(srv.root, 'srv1', m.id, 'manifest.json'))).toBe(false);
    });
});
