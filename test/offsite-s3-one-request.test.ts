import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VerifyError } from '../src/core/errors.js';
import type { Manifest } from '../src/core/types.js';
import type { Destination, DestinationConfig } from '../src/destinations/destination.js';
import { s3Factory } from '../src/destinations/s3.js';
import type { CopyResult } from '../src/engine/copy.js';
import type { RemoteSetSummary } from '../src/engine/remote.js';
import { collect, describeResult, parseJsonOutput, startCli, waitFor } from './helpers/cli.js';
import { SECRET, cli } from './helpers/offsite.js';
import { S3RVER_KEY, dropUnfinishedObjects, s3Destination, startS3rver, stopAllS3rvers } from './helpers/s3rver.js';
import { demoSetup, makeTmpDir, type DemoSetup } from './helpers/tmp.js';

/**
 * Local files above 5 MiB and up to 200 MiB go in ONE PutObject whose body is streamed from the file, its last
 * piece held back until the file's hash was checked (`S3Destination.putStreamed`). What the store receives is seen
 * by a small S3 endpoint here (every request, its headers and how many body bytes arrived, whether the body was
 * complete); the copies, the damaged file and the store going away run against s3rver.
 */

const MiB = 1024 * 1024;

interface Request {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  bytes: number;
  complete: boolean;
  closed: boolean;
}

/**
 * An S3 endpoint that keeps what PUTs send whole (with the checksum they announce) and answers HEAD for it.
 * `slow`: it stops reading a body for a moment after every MiB, so that the sender's socket fills up.
 */
async function recordingEndpoint(slow = false) {
  const objects = new Map<string, { body: Buffer; checksum?: string }>();
  const requests: Request[] = [];
  const server: Server = createServer((req, res) => {
    const r: Request = {
      method: req.method!,
      path: new URL(req.url!, 'http://x').pathname,
      headers: req.headers,
      bytes: 0,
      complete: false,
      closed: false,
    };
    requests.push(r);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      if (slow && r.bytes >> 20 !== (r.bytes + c.length) >> 20) {
        req.pause();
        setTimeout(() => req.resume(), 20);
      }
      r.bytes += c.length;
      chunks.push(c);
    });
    req.on('close', () => (r.closed = true));
    req.on('end', () => {
      r.complete = true;
      const o = objects.get(r.path);
      if (r.method === 'PUT') {
        const checksum = req.headers['x-amz-checksum-sha256'] as string | undefined;
        objects.set(r.path, { body: Buffer.concat(chunks), ...(checksum ? { checksum } : {}) });
        res.writeHead(200, { etag: '"e"' });
      } else if (r.method === 'HEAD' && o)
        res.writeHead(200, {
          'content-length': o.body.length,
          ...(o.checksum ? { 'x-amz-checksum-sha256': o.checksum } : {}),
        });
      else if (r.method === 'HEAD') res.writeHead(404);
      else res.writeHead(501);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    objects,
    requests,
  };
}

const servers: Server[] = [];
const dests: Destination[] = [];
afterEach(async () => {
  await Promise.all(dests.splice(0).map((d) => d.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  await stopAllS3rvers();
});

async function openS3(endpoint: string, extra: Partial<DestinationConfig> = {}): Promise<Destination> {
  const dest = await s3Factory.open({
    name: 'offsite',
    type: 's3',
    endpoint,
    bucket: 'b',
    accessKeyId: S3RVER_KEY,
    secretAccessKey: SECRET,
    forcePathStyle: true,
    ...extra,
  });
  dests.push(dest);
  return dest;
}

/** A local file of `size` random bytes and their SHA-256. */
function localFile(size: number): { path: string; bytes: Buffer; sha256: string } {
  const path = join(makeTmpDir('respaldo-one-request-'), 'f.bin');
  const bytes = randomBytes(size);
  writeFileSync(path, bytes);
  return { path, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

describe('putFile of a file between 5 MiB and 200 MiB: one streamed PutObject', () => {
  it.each([
    ['auto', true],
    ['sha256', true],
    ['off', false],
  ] as const)(
    'checksums "%s": one PUT of every byte, announcing the manifest’s hash; then a HEAD',
    async (mode, sent) => {
      const s3 = await recordingEndpoint();
      const dest = await openS3(s3.endpoint, { checksums: mode });
      const f = localFile(12 * MiB + 3);
      const seen: [string, number][] = [];
      await dest.putFile!('set/f.bin', f.path, f.bytes.length, {
        sha256: f.sha256,
        check: (sha256, n) => void seen.push([sha256, n]),
      });
      expect(seen).toEqual([[f.sha256, f.bytes.length]]);
      expect(s3.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['PUT /b/set/f.bin', 'HEAD /b/set/f.bin']);
      const put = s3.requests[0]!;
      expect(put.headers['content-length']).toBe(String(f.bytes.length));
      expect(put.headers['x-amz-content-sha256']).toBe(f.sha256); // the signed payload hash: a store checks it
      expect(put.headers['x-amz-checksum-sha256']).toBe(
        sent ? Buffer.from(f.sha256, 'hex').toString('base64') : undefined,
      );
      expect(put.headers['content-encoding']).toBeUndefined(); // not the SDK's aws-chunked trailer encoding
      expect(put.headers['x-amz-meta-respaldo-sha256']).toBe(f.sha256);
      expect(s3.objects.get('/b/set/f.bin')!.body.equals(f.bytes)).toBe(true);
    },
  );

  it('a store that reads slowly gets every byte right (read buffers are reused only once written out)', async () => {
    const s3 = await recordingEndpoint(true);
    const dest = await openS3(s3.endpoint);
    const files = [localFile(24 * MiB + 5), localFile(9 * MiB)];
    await Promise.all(
      files.map((f, i) =>
        dest.putFile!(`set/${i}.bin`, f.path, f.bytes.length, { sha256: f.sha256, check: () => undefined }),
      ),
    );
    files.forEach((f, i) => expect(s3.objects.get(`/b/set/${i}.bin`)!.body.equals(f.bytes)).toBe(true));
  });

  it('the check refuses: the request is cut before its body is complete, nothing is stored, the check’s error is thrown', async () => {
    const s3 = await recordingEndpoint();
    const dest = await openS3(s3.endpoint);
    const f = localFile(12 * MiB + 3);
    const refusal = new VerifyError('Local file f.bin does not match its manifest (sha256); it was not copied.');
    const seen: [string, number][] = [];
    const err = await dest.putFile!('set/f.bin', f.path, f.bytes.length, {
      sha256: 'ab'.repeat(32), // what the manifest says: not these bytes
      check: (sha256, n) => {
        seen.push([sha256, n]);
        throw refusal;
      },
    }).catch((e: unknown) => e);
    expect(err).toBe(refusal);
    expect(seen).toEqual([[f.sha256, f.bytes.length]]); // the whole file was read and hashed first
    const put = await waitFor(() => s3.requests.find((r) => r.method === 'PUT' && r.closed), 'the cut PUT to end');
    expect(put.complete).toBe(false);
    expect(put.bytes).toBeLessThan(f.bytes.length);
    expect(s3.objects.size).toBe(0);
    expect(await dest.stat('set/f.bin')).toBeNull();
  });

  it.each([
    ['shorter', 12 * MiB + 4, /has 12582915 bytes, 12582916 were announced/],
    ['longer', 12 * MiB + 2, /has 12582915 bytes, 12582914 were announced/],
  ])(
    'a file %s than announced (the check letting it pass): refused, never more than announced sent, nothing stored',
    async (_what, announced, message) => {
      const s3 = await recordingEndpoint();
      const dest = await openS3(s3.endpoint);
      const f = localFile(12 * MiB + 3);
      await expect(
        dest.putFile!('set/f.bin', f.path, announced, { sha256: f.sha256, check: () => undefined }),
      ).rejects.toThrow(message);
      const put = await waitFor(() => s3.requests.find((r) => r.method === 'PUT' && r.closed), 'the cut PUT to end');
      expect(put.complete).toBe(false);
      expect(put.bytes).toBeLessThan(announced);
      expect(s3.objects.size).toBe(0);
    },
  );

  it('a file whose hash is not known goes as a multipart upload instead', async () => {
    const s3 = await recordingEndpoint();
    const dest = await openS3(s3.endpoint);
    const f = localFile(6 * MiB);
    await expect(dest.putFile!('set/f.bin', f.path, 6 * MiB, { check: () => undefined })).rejects.toThrow(
      /501/, // CreateMultipartUpload, which this endpoint does not take
    );
    expect(s3.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /b/set/f.bin']);
  });
});

/** A set whose application files are `sizes` bytes of random data (stored as big as they are). */
async function setWith(s: DemoSetup, sizes: number[], dest: Record<string, unknown>): Promise<Manifest> {
  sizes.forEach((n, i) => writeFileSync(join(s.appDir, `blob${i}.bin`), randomBytes(n)));
  writeFileSync(
    s.configFile,
    JSON.stringify({
      ...JSON.parse(readFileSync(s.configFile, 'utf8')),
      destinations: [{ ...dest, copyAfterBackup: false }],
    }),
  );
  return parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
}

describe('respaldo copy to s3rver, one streamed request per file', () => {
  it('a 12 MiB file round-trips; changed locally (same size) it never becomes an object and the error is the VerifyError', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    const m = await setWith(s, [12 * MiB], s3Destination(srv, { source: 'srv1' }));
    const dir = join(s.backupDir, m.id);
    const blob = m.files.find((f) => f.relative.endsWith('blob0.bin'))!.stored!;
    const good = readFileSync(join(dir, blob));
    expect(good.length).toBeGreaterThan(12 * MiB);
    const damaged = Buffer.from(good);
    damaged[damaged.length >> 1]! ^= 0xff;
    writeFileSync(join(dir, blob), damaged);

    const r = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', m.id, '--json'], 12)).stdout);
    expect(r[0]).toMatchObject({ ok: false });
    expect(r[0]!.error).toContain(`Local file ${join(dir, blob)} does not match its manifest (sha256)`);
    expect(r[0]!.hint).toContain('Run `respaldo verify` on this set');
    const dest = await openS3(srv.endpoint, { bucket: srv.bucket, prefix: 'p' });
    expect(await dest.stat(`srv1/${m.id}/${blob}`)).toBeNull(); // HEAD
    expect((await dest.listFiles(`srv1/${m.id}`)).map((f) => f.path)).not.toContain(blob); // ListObjectsV2
    expect(parseJsonOutput<RemoteSetSummary[]>((await cli(s, ['list', '--from', 'offsite', '--json'])).stdout)).toEqual(
      [],
    );

    writeFileSync(join(dir, blob), good);
    expect(parseJsonOutput<CopyResult[]>((await cli(s, ['copy', m.id, '--json'])).stdout)[0]).toMatchObject({
      ok: true,
    });
    expect(readFileSync(join(srv.dir, srv.bucket, 'p', 'srv1', m.id, `${blob}._S3rver_object`)).equals(good)).toBe(
      true,
    );
    await cli(s, ['verify', m.id, '--from', 'offsite', '--read-data']);
  }, 180_000);

  it('checksums "sha256" on a store that keeps none (s3rver): exit 12 saying so, and nothing of the set is left there', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    const m = await setWith(s, [6 * MiB, 1024], s3Destination(srv, { source: 'srv1', checksums: 'sha256' }));
    const r = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', m.id, '--json'], 12)).stdout);
    expect(r[0]).toMatchObject({ ok: false });
    expect(r[0]!.error).toContain('does not keep SHA-256 checksums');
    expect(r[0]!.hint).toContain('"checksums": "auto"');
    const dest = await openS3(srv.endpoint, { bucket: srv.bucket, prefix: 'p' });
    expect(await dest.listFiles('srv1', { temps: true })).toEqual([]);
  }, 120_000);

  it('s3rver killed in the middle of a PutObject: exit 12, no object left of it, the next copy completes', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    const size = 32 * MiB;
    const m = await setWith(s, [size, size, size, size], s3Destination(srv, { source: 'srv1', parallel: 1 }));
    const setObjects = join(srv.dir, srv.bucket, 'p', 'srv1', m.id);
    /** An object s3rver is still receiving (it writes the metadata once the body is complete), under half sent. */
    const inFlight = () =>
      existsSync(setObjects) &&
      readdirSync(setObjects, { recursive: true, withFileTypes: true }).some((e) => {
        if (!e.name.endsWith('._S3rver_object')) return false;
        const object = join(e.parentPath, e.name);
        const n = statSync(object, { throwIfNoEntry: false })?.size ?? 0;
        return !existsSync(object.replace(/object$/, 'metadata.json')) && n > 0 && n < size / 2;
      });
    const child = startCli(['copy', '--json', '--config', s.configFile], {
      cwd: s.dir,
      env: { S3_KEY_ID: S3RVER_KEY, S3_SECRET_KEY: SECRET },
    });
    const done = collect(child);
    // Seen in flight, the body may still finish before the kill lands (a loaded machine): freeze s3rver, look again,
    // and kill it only while an object is caught half written; otherwise let it go on to the next file.
    for (;;) {
      await waitFor(inFlight, 'a PutObject in the middle of its body', 120_000, 5);
      srv.freeze();
      if (inFlight()) break;
      srv.thaw();
    }
    await srv.kill();
    const r = await done;
    expect(r.code, describeResult(r)).toBe(12);
    expect(r.stderr).toContain('unreachable');
    // What s3rver wrote of the cut request is not an object on a real store (a PUT is atomic): the model drops it.
    expect(dropUnfinishedObjects(srv.dir).length).toBeGreaterThan(0);
    await srv.restart();
    expect(parseJsonOutput<RemoteSetSummary[]>((await cli(s, ['list', '--from', 'offsite', '--json'])).stdout)).toEqual(
      [],
    );
    const again = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', '--json'])).stdout);
    expect(again).toMatchObject([{ setId: m.id, ok: true }]);
    await cli(s, ['verify', m.id, '--from', 'offsite', '--read-data']);
  }, 300_000);
});
