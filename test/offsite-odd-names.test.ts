import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import type { CopyResult } from '../src/engine/copy.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { s3Destination, startS3rver, stopAllS3rvers } from './helpers/s3rver.js';
import { rcloneSftpConfig, sftpDestination, startSshd, stopAllSshd } from './helpers/sshd.js';
import { demoSetup } from './helpers/tmp.js';

/**
 * File names that are not valid UTF-8 (Latin-1, in a file and in a folder) or hold a backslash, copied to an sftp,
 * an s3 and an rclone destination (its sftp backend) and restored from each on a server whose backups are gone:
 * the same names, byte for byte, and the same contents.
 */

afterEach(async () => {
  await stopAllSshd();
  await stopAllS3rvers();
});

/** Every file below `dir`, its path as bytes (base64, so a name not valid UTF-8 stays exact) to its contents. */
function byteTree(dir: Buffer, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { encoding: 'buffer' })) {
    const p = Buffer.concat([dir, Buffer.from('/'), name]);
    const r = rel ? `${rel}/${name.toString('base64')}` : name.toString('base64');
    const entries = (() => {
      try {
        return byteTree(p, r);
      } catch {
        return null;
      }
    })();
    if (entries) Object.assign(out, entries);
    else out[r] = readFileSync(p).toString('base64');
  }
  return out;
}

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const statSize = (p: string) => statSync(p).size;

describe('names not valid UTF-8 or with a backslash, off-site', () => {
  it('round-trip through sftp, s3 and rclone: listed as sent, verified there, restored byte for byte', async () => {
    const [srv, s3] = await Promise.all([startSshd(), startS3rver()]);
    const s = demoSetup();
    const odd = join(s.dir, 'odd');
    mkdirSync(latin1(join(odd, 'd\xe9p')), { recursive: true });
    writeFileSync(latin1(join(odd, 'a\xf1o.pdf')), 'año in Latin-1');
    writeFileSync(latin1(join(odd, 'd\xe9p', 'x.txt')), 'in a Latin-1 folder');
    writeFileSync(join(odd, 'we\\ird.txt'), 'a backslash');
    writeFileSync(join(odd, 'a\\xf1o.pdf'), 'the escape of the Latin-1 name, as ASCII');
    mkdirSync(join(srv.root, 'rc'));
    writeFileSync(
      s.configFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(s.configFile, 'utf8')),
        files: { application: [{ path: odd, include: ['**'] }] },
        destinations: [
          sftpDestination(srv, { source: 'srv1' }),
          s3Destination(s3, { forcePathStyle: true, source: 'srv1' }),
          {
            name: 'rc',
            type: 'rclone',
            remote: 'offsite',
            path: join(srv.root, 'rc'),
            source: 'srv1',
            config: rcloneSftpConfig(srv),
          },
        ],
      }),
    );
    const withFiles = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--json'])).stdout);
    expect(withFiles.files.filter((f) => f.relativeBytes).length).toBe(2);

    // Each destination's listing shows every file under the name it was sent as: a rerun sends nothing.
    for (const to of ['ssh', 'offsite', 'rc']) {
      const again = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', withFiles.id, '--to', to, '--json'])).stdout);
      expect(again, to).toMatchObject([{ ok: true, filesSent: 0 }]);
    }

    const original = byteTree(latin1(odd));
    expect(Object.keys(original)).toHaveLength(4);
    rmSync(s.backupDir, { recursive: true, force: true });
    for (const from of ['ssh', 'offsite', 'rc']) {
      expect((await cli(s, ['verify', 'latest', '--from', from, '--read-data'])).stdout).toContain(
        `${withFiles.id} at ${from}: OK`,
      );
      const to = join(s.dir, `restored-${from}`);
      await cli(s, ['restore', 'latest', '--from', from, '--files', '--to', to, '--yes']);
      const restored = byteTree(latin1(join(to, 'application', 'odd')));
      expect(restored, from).toEqual(original);
      const streamed = join(s.dir, `streamed-${from}`);
      await cli(s, ['restore', 'latest', '--from', from, '--files', '--stream', '--to', streamed, '--yes']);
      expect(byteTree(latin1(join(streamed, 'application', 'odd'))), from).toEqual(original);
    }
  });

  it("a file named like a copy's temporary file is a stored file there: listed, verified, never removed", async () => {
    const srv = await startSshd();
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    // `.respaldo-part-<pid>-…` of a run that is gone: what a killed copy leaves, and what a copy removes at once
    writeFileSync(join(s.appDir, '.respaldo-part-99999999-notes'), 'an operator note, not a leftover');
    writeFileSync(
      s.configFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(s.configFile, 'utf8')),
        destinations: [
          sftpDestination(srv, { source: 'srv1' }),
          { name: 'nas', type: 'folder', path: nas, source: 'srv1' },
        ],
      }),
    );
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--json'])).stdout);
    const note = m.files.find((f) => f.relative.endsWith('.respaldo-part-99999999-notes'))!;
    const stored = note.stored!;
    expect(stored).toMatch(/\.respaldo-part-99999999-notes\.(zst|gz)$/);
    for (const [name, root] of [
      ['ssh', srv.root],
      ['nas', nas],
    ] as const) {
      const again = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', m.id, '--to', name, '--json'])).stdout);
      expect(again, name).toMatchObject([{ ok: true, filesSent: 0 }]);
      const there = join(root, 'srv1', m.id, stored);
      expect(statSize(there), name).toBe(statSize(join(s.backupDir, m.id, stored)));
      expect((await cli(s, ['verify', m.id, '--from', name])).stdout, name).toContain(`${m.id} at ${name}: OK`);
      await cli(s, ['prune', '--from', name]);
      expect(existsSync(join(root, 'srv1', m.id, stored)), name).toBe(true);
    }
  });
});
