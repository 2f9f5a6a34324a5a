/**
 * `copy ID --to NAME --take-over` over a copy to S3 (s3rver) killed while a multipart upload was pending: the files
 * sealed on the way (an encrypted copy, their hash unknown until sent) go as multipart uploads, and the first copy is
 * killed (SIGKILL) once s3rver holds a part of one. The take-over completes the set; the parts left never count as a
 * set or a file there (list --from, verify --from --read-data, prune --from), and the store's listing of uploads that
 * s3rver lacks is said by prune --from, not taken for "none".
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import type { CopyResult } from '../src/engine/copy.js';
import type { RemoteSetSummary } from '../src/engine/remote.js';
import { ageKeygen } from './helpers/age.js';
import { collect, parseJsonOutput, startCli, waitFor } from './helpers/cli.js';
import { SECRET, cli } from './helpers/offsite.js';
import { S3RVER_KEY, s3Destination, startS3rver, stopAllS3rvers } from './helpers/s3rver.js';
import { demoSetup } from './helpers/tmp.js';

afterEach(stopAllS3rvers);

/** Parts s3rver holds of uploads neither completed nor aborted (`<bucket>/._S3rver_uploads/<upload id>/<n>`). */
function pendingParts(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) =>
      readdirSync(join(dir, e.name))
        .filter((n) => /^\d+$/.test(n))
        .map((n) => `${e.name}/${n}`),
    );
}

async function killedThenTakenOver(listsUploads: boolean) {
  {
    const srv = await startS3rver('offsite', { listsUploads });
    const s = demoSetup();
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    for (let i = 0; i < 4; i++) writeFileSync(join(s.appDir, `blob${i}.bin`), randomBytes(12 * 1024 * 1024));
    writeFileSync(
      s.configFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(s.configFile, 'utf8')),
        source: 'srv1',
        encryption: { recipients: [recipient], identityFile: keyFile, local: false },
        destinations: [s3Destination(srv, { encrypt: true, copyAfterBackup: false, parallel: 2 })],
      }),
    );
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const uploads = join(srv.dir, srv.bucket, '._S3rver_uploads');

    const child = startCli(['copy', m.id, '--to', 'offsite', '--json', '--config', s.configFile], {
      cwd: s.dir,
      env: { S3_KEY_ID: S3RVER_KEY, S3_SECRET_KEY: SECRET },
    });
    const done = collect(child);
    // Two parts of one upload written: the first is whole (s3rver writes a part before taking the next).
    await waitFor(() => pendingParts(uploads).some((p) => p.endsWith('/2')), 'a multipart upload under way', 60_000);
    child.kill('SIGKILL');
    await done;
    const left = pendingParts(uploads);
    expect(left.length).toBeGreaterThan(0);

    // The claim left is made another set's (another server's copy of this id, cut short): the take-over's case.
    const s3 = new S3Client({
      endpoint: srv.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: SECRET },
    });
    const Bucket = srv.bucket;
    const claims = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'p/srv1/.respaldo-claims/' }));
    expect(claims.Contents?.map((c) => c.Key)).toHaveLength(1);
    const own = claims.Contents![0]!.Key!;
    const doc = JSON.parse(
      await (await s3.send(new GetObjectCommand({ Bucket, Key: own }))).Body!.transformToString(),
    ) as Record<string, unknown>;
    await s3.send(
      new PutObjectCommand({
        Bucket,
        Key: `p/srv1/.respaldo-claims/${m.id}.0123456789abcdef`,
        Body: JSON.stringify({ id: m.id, startedAt: doc['startedAt'], host: 'old-server', pid: 4242 }),
      }),
    );
    await s3.send(new DeleteObjectCommand({ Bucket, Key: own }));
    s3.destroy();

    // Not listed there meanwhile: no manifest, and the pending upload is no set.
    expect(parseJsonOutput<RemoteSetSummary[]>((await cli(s, ['list', '--from', 'offsite', '--json'])).stdout)).toEqual(
      [],
    );
    await cli(s, ['copy', m.id, '--to', 'offsite'], 12);
    const r = await cli(s, ['copy', m.id, '--to', 'offsite', '--take-over', '--json']);
    const [taken] = parseJsonOutput<CopyResult[]>(r.stdout);
    expect(taken).toMatchObject({ setId: m.id, ok: true });
    expect(taken!.claimTakenOver).toContain('host old-server, pid 4242');
    expect(r.stderr).toMatch(/its \d+ unfinished file\(s\) there are removed/);

    const listed = parseJsonOutput<RemoteSetSummary[]>((await cli(s, ['list', '--from', 'offsite', '--json'])).stdout);
    expect(listed.map((x) => x.id)).toEqual([m.id]);
    await cli(s, ['verify', m.id, '--from', 'offsite', '--read-data']);
    const p = await cli(s, ['prune', '--from', 'offsite', '--dry-run']);
    if (listsUploads) {
      // The killed copy's upload was aborted by the take-over: no parts left, nothing for prune --from to abort.
      expect(pendingParts(uploads)).toEqual([]);
      // ...and said so, before and after, with the files removed.
      expect(r.stderr).toMatch(
        /its \d+ unfinished file\(s\) there are removed and its [1-9]\d* pending multipart upload\(s\) there aborted/,
      );
      expect(taken!.claimTakenOver).toMatch(
        /unfinished file\(s\) there removed, its [1-9]\d* pending multipart upload\(s\) there aborted/,
      );
      expect(p.stdout + p.stderr).not.toContain('unfinished upload');
    } else {
      // The killed copy's parts stay with s3rver (which cannot list them): never a set, a file, nor a reason to fail.
      expect(pendingParts(uploads)).toEqual(expect.arrayContaining(left));
      expect(r.stderr + taken!.claimTakenOver).not.toContain('multipart upload(s) there aborted');
      expect(p.stdout + p.stderr).toContain('does not list unfinished multipart uploads');
    }
    const restored = await cli(s, ['restore', m.id, '--from', 'offsite', '--files', '--dry-run']);
    expect(restored.stdout).toContain(m.id);
  }
}

describe('copy --take-over after a copy killed with a multipart upload pending (s3rver)', () => {
  it('completes the set; the parts left count as nothing there; verify --from --read-data accepts it', async () => {
    await killedThenTakenOver(false);
  });

  it("on a store that lists uploads, the killed copy's pending upload is aborted by the take-over", async () => {
    await killedThenTakenOver(true);
  });
});
