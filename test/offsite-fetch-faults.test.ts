/**
 * Faults while reading from a destination (`restore --from`), against the real servers: the server going away in
 * the middle of a fetch is an operator error naming the destination (exit 7), never an internal error, and
 * nothing fetched is left in the backup folder.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, describeResult, startCli, waitFor } from './helpers/cli.js';
import { SECRET, cli } from './helpers/offsite.js';
import { S3RVER_KEY, startS3rver, stopAllS3rvers, s3Destination } from './helpers/s3rver.js';
import { startSshd, stopAllSshd, sftpDestination } from './helpers/sshd.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

afterEach(async () => {
  await stopAllS3rvers();
  await stopAllSshd();
});

const MiB = 1024 * 1024;

/** A set of about 128 MiB of incompressible application files, copied to `destination` on create. */
async function bigSetThere(s: DemoSetup, destination: Record<string, unknown>): Promise<void> {
  for (let i = 0; i < 8; i++) writeFileSync(join(s.appDir, `blob${i}.bin`), randomBytes(16 * MiB));
  writeFileSync(
    s.configFile,
    JSON.stringify({
      ...JSON.parse(readFileSync(s.configFile, 'utf8')),
      destinations: [{ source: 'srv1', ...destination }],
    }),
  );
  await cli(s, ['create', '--no-files', '--db', 'users']); // an older set, so that latest is the big one
  await cli(s, ['create']);
}

/** Whether one of the big files is being fetched: a file of 1 MiB or more in a hidden fetch folder of backupDir. */
function fetchingABigFile(backupDir: string): boolean {
  if (!existsSync(backupDir)) return false;
  for (const d of readdirSync(backupDir).filter((x) => x.startsWith('.respaldo-restore-fetch-')))
    for (const e of readdirSync(join(backupDir, d), { recursive: true, withFileTypes: true }))
      if (e.isFile() && e.name.startsWith('blob') && statSync(join(e.parentPath, e.name)).size >= MiB) return true;
  return false;
}

/** Whether a streamed restore of the files is writing one of the big files into its partial folder beside `to`. */
function streamingABigFile(to: string): boolean {
  const parent = dirname(to);
  for (const d of readdirSync(parent).filter((x) => x.startsWith(`.${basename(to)}.respaldo-partial-`)))
    for (const e of readdirSync(join(parent, d), { recursive: true, withFileTypes: true }))
      if (e.isFile() && e.name.startsWith('blob') && statSync(join(e.parentPath, e.name)).size >= MiB) return true;
  return false;
}

/**
 * Starts `restore latest --from NAME --files` (streamed with `--stream`), cuts the destination in the middle of a
 * big file.
 */
async function fetchCutShort(s: DemoSetup, name: string, cut: () => Promise<void>, stream = false) {
  const to = join(s.dir, 'restored');
  const args = ['restore', 'latest', '--from', name, '--files', '--to', to, '--yes', '--config', s.configFile];
  const child = startCli([...args, ...(stream ? ['--stream'] : [])], {
    cwd: s.dir,
    env: { S3_KEY_ID: S3RVER_KEY, S3_SECRET_KEY: SECRET },
  });
  const done = collect(child);
  if (stream) await waitFor(() => streamingABigFile(to), 'a big file being streamed', 60_000);
  else await waitFor(() => fetchingABigFile(s.backupDir), 'a big file being fetched', 60_000);
  await cut();
  return done;
}

describe('a destination that goes away in the middle of a fetch (restore --from)', () => {
  it('sshd killed while fetching, then while streaming (--stream): exit 7 naming the destination; nothing left', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    await bigSetThere(s, sftpDestination(srv));
    for (const stream of [false, true]) {
      const r = await fetchCutShort(s, 'ssh', () => srv.stop(), stream);
      expect(r.code, describeResult(r)).toBe(7);
      expect(r.stderr).toMatch(/destination "ssh": .*unreachable or closed the connection/);
      expect(r.stderr).not.toContain('internal error');
      expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.'))).toEqual([]);
      expect(readdirSync(s.dir).filter((n) => n.includes('.respaldo-partial-'))).toEqual([]);
      expect(existsSync(join(s.dir, 'restored'))).toBe(false);
      if (!stream) await srv.restart();
    }
  });

  it('s3rver killed: exit 7 naming the destination, not an internal error; nothing fetched is left', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    await bigSetThere(s, s3Destination(srv, { forcePathStyle: true }));
    const r = await fetchCutShort(s, 'offsite', () => srv.kill());
    expect(r.code, describeResult(r)).toBe(7);
    expect(r.stderr).toMatch(/destination "offsite": .*unreachable or failing/);
    expect(r.stderr).not.toContain('internal error');
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.respaldo-restore-fetch-'))).toEqual([]);
    expect(existsSync(join(s.dir, 'restored'))).toBe(false);
  });
});
