import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeSync,
  closeSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { copySet, sendFile, type CopyResult } from '../src/engine/copy.js';
import { loadConfig } from '../src/config/load.js';
import { silentReporter } from '../src/core/events.js';
import { DestinationError, RespaldoError } from '../src/core/errors.js';
import { parseJsonOutput } from './helpers/cli.js';
import { SECRET, addFolderAndS3, cli, localFiles, tree } from './helpers/offsite.js';
import { S3RVER_KEY, startS3rver, stopAllS3rvers } from './helpers/s3rver.js';
import { folderFactory } from '../src/destinations/folder.js';
import { s3Factory } from '../src/destinations/s3.js';
import type { Destination } from '../src/destinations/destination.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

afterEach(stopAllS3rvers);

const MiB = 1024 * 1024;

/** Changes one byte in the middle of a file, keeping its size (what a bad sector or a stray write does). */
function damage(file: string): void {
  const size = readFileSync(file).length;
  const fd = openSync(file, 'r+');
  const at = Math.floor(size / 2);
  writeSync(fd, Buffer.from([readFileSync(file)[at]! ^ 0xff]), 0, 1, at);
  closeSync(fd);
}

/** Every file below `dir`, relative, sorted (empty when it does not exist). */
function names(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/**
 * The copy reads each local file once, sending it and hashing it together (folder: copied in the kernel and
 * read back; S3: a small file from one buffer, one of 5 to 200 MiB streamed in one request whose last MiB waits
 * for the check, a multipart upload for a file whose hash is not known): a local file that no longer matches its
 * manifest must never appear at the destination, neither as a file nor as an object (one request cut before its
 * end, or a multipart upload that is then never completed), and the set is not listed there.
 */
/** The folder destination `nas` (in the setup folder) and the S3 server `srv`, opened. */
async function folderAndS3(s: DemoSetup, srv: { endpoint: string; bucket: string }): Promise<Destination[]> {
  return [
    await folderFactory.open({ name: 'nas', type: 'folder', path: join(s.dir, 'nas') }),
    await s3Factory.open({
      name: 'offsite',
      type: 's3',
      endpoint: srv.endpoint,
      bucket: srv.bucket,
      accessKeyId: S3RVER_KEY,
      secretAccessKey: SECRET,
      forcePathStyle: true,
    }),
  ];
}

/** A demo set of the databases, and a folder destination `nas` (source srv1) it is not copied to yet. */
async function setWithNas(): Promise<{ s: DemoSetup; nas: string; m: Manifest }> {
  const s = demoSetup();
  const nas = join(s.dir, 'nas');
  mkdirSync(nas);
  const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  const dest = { name: 'nas', type: 'folder', path: nas, source: 'srv1', copyAfterBackup: false };
  writeFileSync(s.configFile, JSON.stringify({ ...doc, destinations: [dest] }));
  const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json', '--no-files'])).stdout);
  return { s, nas, m };
}

describe('copy of a damaged local set', () => {
  it('folder and S3 (a buffered and a streamed request): the damaged file never appears there; after repair it is sent', async () => {
    const s = demoSetup();
    writeFileSync(join(s.appDir, 'big.bin'), randomBytes(6 * MiB)); // over 5 MiB: streamed in one S3 request
    const srv = await startS3rver();
    const nas = addFolderAndS3(s, srv);
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const dir = join(s.backupDir, m.id);
    const big = m.files.find((f) => f.relative.endsWith('big.bin'))!.stored!;
    const db = m.databases[0]!.file!;
    expect(readFileSync(join(dir, big)).length).toBeGreaterThan(5 * MiB);
    expect(readFileSync(join(dir, db)).length).toBeLessThan(5 * MiB);
    const good = { big: readFileSync(join(dir, big)), db: readFileSync(join(dir, db)) };
    damage(join(dir, big));
    damage(join(dir, db));

    for (const to of ['nas', 'offsite']) {
      const r = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', m.id, '--to', to, '--json'], 12)).stdout);
      expect(r[0]).toMatchObject({ ok: false, destination: to });
      expect(r[0]!.error).toContain('does not match its manifest');
    }
    const there = { nas: names(join(nas, 'srv1', m.id)), s3: names(join(srv.dir, srv.bucket, 'p', 'srv1', m.id)) };
    for (const files of Object.values(there)) {
      expect(files.some((f) => f.startsWith(big) || f.startsWith(db))).toBe(false);
      expect(files.some((f) => f.startsWith('manifest.json'))).toBe(false);
      expect(files.some((f) => f.includes('.respaldo-part-'))).toBe(false);
    }

    writeFileSync(join(dir, big), good.big);
    writeFileSync(join(dir, db), good.db);
    for (const to of ['nas', 'offsite'])
      expect(
        parseJsonOutput<CopyResult[]>((await cli(s, ['copy', m.id, '--to', to, '--json'])).stdout)[0],
      ).toMatchObject({ ok: true });
    expect(tree(join(nas, 'srv1', m.id))).toEqual(localFiles(s, m.id));
    // Buffer.equals: vitest's toEqual compares a 6 MiB buffer element by element, about 24 s.
    for (const p of [big, db])
      expect(
        readFileSync(join(srv.dir, srv.bucket, 'p', 'srv1', m.id, `${p}._S3rver_object`)).equals(
          readFileSync(join(dir, p)),
        ),
        p,
      ).toBe(true);
  });

  it("a local file gone or not a file while it is sent: said as this server's, nothing left there (folder and S3)", async () => {
    const s = demoSetup();
    const srv = await startS3rver();
    mkdirSync(join(s.dir, 'nas'));
    mkdirSync(join(s.dir, 'set', 'databases'), { recursive: true });
    const dests = await folderAndS3(s, srv);
    for (const dest of dests) {
      for (const [path, why] of [
        ['databases', 'not a regular file'],
        ['gone.sqlite.zst', 'ENOENT'],
      ] as const) {
        const err = await sendFile(dest, join(s.dir, 'set'), 'srv1/20261201_020000', {
          path,
          size: 10,
          sha256: null,
        }).catch((e: unknown) => e);
        expect(err, `${dest.name} ${path}`).toBeInstanceOf(RespaldoError);
        expect(err).not.toBeInstanceOf(DestinationError);
        expect((err as RespaldoError).message).toBe(
          `Reading the local file ${join(s.dir, 'set', path)} failed (${why}); it was not copied.`,
        );
        expect(await dest.listFiles('srv1', { temps: true })).toEqual([]);
      }
      await dest.close();
    }
  });

  it('stopped by its signal (Ctrl-C, whatever the reason it carries): an interrupted copy, never an internal error', async () => {
    const { s, nas, m } = await setWithNas();
    const cfg = await loadConfig({ configPath: s.configFile });
    const ac = new AbortController();
    ac.abort(new Error('SIGINT')); // a folder's copy checks the signal after each file: it threw this reason
    const r = await copySet(cfg, m.id, 'nas', silentReporter, { signal: ac.signal });
    expect(r).toMatchObject({ ok: false, error: 'The copy was interrupted; what was sent is kept.' });
    expect(existsSync(join(nas, 'srv1', m.id, 'manifest.json'))).toBe(false);
  });

  it('a temporary file a copy of this host left (killed, or cut off with its connection) goes at the next copy', async () => {
    const { s, nas, m } = await setWithNas();
    const folder = join(nas, 'srv1', m.id, 'databases');
    mkdirSync(folder, { recursive: true });
    // a pid no process has (Linux pids stop at 4194304); and one of a live process: another copy still writing
    const dead = join(folder, '.respaldo-part-99999999-left');
    const live = join(folder, `.respaldo-part-${process.pid}-writing`);
    writeFileSync(dead, randomBytes(1000));
    writeFileSync(live, randomBytes(1000));
    await cli(s, ['copy', m.id, '--to', 'nas']);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });

  it('putFile: when the check of what was sent fails, nothing is put under the key and no temporary file is left', async () => {
    const s = demoSetup();
    const srv = await startS3rver();
    mkdirSync(join(s.dir, 'nas'));
    const dests = await folderAndS3(s, srv);
    for (const [name, size] of [
      ['small', 1000],
      ['big', 6 * MiB + 7],
    ] as const) {
      const file = join(s.dir, `${name}.bin`);
      const bytes = randomBytes(size);
      writeFileSync(file, bytes);
      for (const dest of dests) {
        const seen: { sha256: string; bytes: number }[] = [];
        await expect(
          dest.putFile!(`k/${name}`, file, size, {
            check: (sha256, n) => {
              seen.push({ sha256, bytes: n });
              throw new Error('refused by the check');
            },
          }),
        ).rejects.toThrow('refused by the check');
        expect(seen).toEqual([{ sha256: createHash('sha256').update(bytes).digest('hex'), bytes: size }]);
        expect(await dest.stat(`k/${name}`)).toBeNull();
        expect(await dest.listFiles('k', { temps: true })).toEqual([]);
        await dest.putFile!(`k/${name}`, file, size, { check: () => undefined });
        expect(await dest.stat(`k/${name}`)).toEqual({ size });
        const back = Buffer.concat(await (await dest.get(`k/${name}`)).toArray());
        expect(back.equals(bytes)).toBe(true);
        await dest.delete(`k/${name}`);
      }
    }
    for (const dest of dests) await dest.close();
  });
});
