/**
 * Sets made by an older build (commit 42ffd6b, test/fixtures/sets-42ffd6b: a full with a file, an incremental on it, a
 * full encrypted here) copied by today's build to S3 (s3rver), sftp (sshd) and rclone (S3 backend on s3rver), then
 * listed, verified byte for byte and restored from each destination by today's build.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, parseJsonOutput } from './helpers/cli.js';
import { SECRET, cli } from './helpers/offsite.js';
import { S3RVER_KEY, s3Destination, startS3rver, stopAllS3rvers } from './helpers/s3rver.js';
import { sftpDestination, startSshd, stopAllSshd } from './helpers/sshd.js';
import { makeTmpDir, writeConfig } from './helpers/tmp.js';

// rclone 1.60's s3 backend cannot run with AWS_CA_BUNDLE set (rclone-errors.ts); as offsite-rclone-s3 does.
const caBundle = process.env.AWS_CA_BUNDLE;
beforeAll(() => void delete process.env.AWS_CA_BUNDLE);
afterAll(() => {
  if (caBundle !== undefined) process.env.AWS_CA_BUNDLE = caBundle;
});
afterEach(async () => {
  await stopAllS3rvers();
  await stopAllSshd();
});

const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'sets-42ffd6b');
const FULL = '20261205_115636';
const INCREMENTAL = '20261205_115637';
const ENCRYPTED = '20261205_115639';

const rows = (db: string): string => execFileSync('sqlite3', [db, 'SELECT count(*) FROM users'], { encoding: 'utf8' });

describe('sets made by an older build (42ffd6b), copied and read back by today', () => {
  it('S3, sftp and rclone: list --from, verify --from --read-data and restore --from each set', async () => {
    const srv = await startS3rver();
    const ssh = await startSshd();
    const dir = makeTmpDir();
    const backupDir = join(dir, 'backups');
    mkdirSync(backupDir);
    for (const id of [FULL, INCREMENTAL, ENCRYPTED])
      cpSync(join(FIXTURE, id), join(backupDir, id), { recursive: true });
    const keyFile = join(dir, 'key.txt');
    cpSync(join(FIXTURE, 'test-only-age-key.txt'), keyFile);
    chmodSync(keyFile, 0o600); // a checkout makes it 0644: respaldo would warn that others can read it
    const recipient = /age1[0-9a-z]+/.exec(readFileSync(keyFile, 'utf8'))![0];
    const dests = [
      s3Destination(srv),
      sftpDestination(ssh),
      {
        name: 'cloud',
        type: 'rclone',
        remote: 'offsite',
        path: `${srv.bucket}/r`,
        config: {
          type: 's3',
          provider: 'Other',
          endpoint: srv.endpoint,
          access_key_id: S3RVER_KEY,
          secret_access_key: SECRET,
          force_path_style: 'true',
        },
      },
    ].map((d) => ({ ...d, source: 'srv1', copyAfterBackup: false }));
    const s = writeConfig(
      dir,
      {
        databases: [{ name: 'users', engine: 'sqlite', path: './data/users.db' }],
        files: { application: [{ path: './data/app', include: ['**'] }] },
        encryption: { recipients: [recipient], identityFile: keyFile, local: true },
        destinations: dests,
      },
      { demo: false },
    );
    // The live database and files the sets were made of, as on the server (never read here: restores go --to).
    mkdirSync(join(dir, 'data', 'app'), { recursive: true });
    execFileSync('sqlite3', [join(dir, 'data', 'users.db'), 'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)']);
    writeFileSync(join(dir, 'data', 'app', 'settings.json'), '{"theme":"dark"}\n');

    const listed = parseJsonOutput<{ id: string }[]>((await cli(s, ['list', '--json'])).stdout);
    expect(listed.map((x) => x.id).sort()).toEqual([FULL, INCREMENTAL, ENCRYPTED]);
    for (const id of [FULL, INCREMENTAL, ENCRYPTED]) await cli(s, ['verify', id]);
    for (const d of dests) await cli(s, ['copy', '--to', d.name]);

    for (const d of dests) {
      const there = parseJsonOutput<{ id: string }[]>((await cli(s, ['list', '--from', d.name, '--json'])).stdout);
      expect(there.map((x) => x.id).sort(), d.name).toEqual([FULL, INCREMENTAL, ENCRYPTED]);
      for (const [id, count] of [
        [FULL, 3],
        [INCREMENTAL, 4],
        [ENCRYPTED, 4],
      ] as const) {
        await cli(s, ['verify', id, '--from', d.name, '--read-data']);
        const to = join(dir, `restored-${d.name}-${id}.db`);
        await cli(s, ['restore', id, '--from', d.name, '--db', 'users', '--to', to, '--yes']);
        expect(rows(to).trim(), `${d.name} ${id}`).toBe(String(count));
      }
      for (const id of [FULL, ENCRYPTED]) {
        const to = join(dir, `files-${d.name}-${id}`);
        await cli(s, ['restore', id, '--from', d.name, '--files', '--to', to, '--yes']);
        const found = readdirSync(to, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
        expect(found.map((e) => e.name)).toEqual(['settings.json']);
        expect(readFileSync(join(found[0]!.parentPath, 'settings.json'), 'utf8')).toBe('{"theme":"dark"}\n');
      }
    }
  });
});
