import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { s3Factory } from '../src/destinations/s3.js';
import { abortOldUploads, planUploads } from '../src/engine/remote-prune.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { startS3rver, stopAllS3rvers, s3Destination } from './helpers/s3rver.js';
import { demoSetup } from './helpers/tmp.js';

/**
 * Unfinished S3 multipart uploads left by killed copies: listed under this source's prefix and aborted
 * once a day old, by the next copy and by `prune --from`. s3rver (the S3 server the other tests use)
 * answers ListMultipartUploads with 501 NotImplemented, so the listing and the aborts are tested with
 * the real AWS SDK against a small S3 endpoint here that implements just those calls (plus an empty
 * ListObjectsV2), and against s3rver only for "the store cannot list them".
 */

const NOW = new Date('2026-03-10T12:00:00Z');
const hoursAgo = (h: number): string => new Date(NOW.getTime() - h * 3_600_000).toISOString();

describe('planUploads', () => {
  it.each([
    ['started 2 days ago', hoursAgo(48), 'abort', /left by a killed run/],
    ['started exactly a day ago', hoursAgo(24), 'abort', /left by a killed run/],
    ['started an hour ago', hoursAgo(1), 'keep', /a copy may be running/],
    ['of unknown start', null, 'keep', /unknown time/],
  ])('an upload %s: %s', (_what, initiatedAt, action, reason) => {
    const [d] = planUploads([{ key: 'srv1/20260301_020000/x.zst', uploadId: 'u', initiatedAt }], NOW);
    expect(d).toMatchObject({ action });
    expect(d!.reason).toMatch(reason);
  });
});

interface Upload {
  Key: string;
  UploadId: string;
  Initiated: string;
}

/** An S3 endpoint with ListMultipartUploads (2 per page), AbortMultipartUpload and an empty ListObjectsV2. */
async function uploadsEndpoint(uploads: Upload[]) {
  const aborted: string[] = [];
  const prefixes: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const [bucket, ...rest] = url.pathname.split('/').filter(Boolean);
    const xml = (body: string) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
    };
    if (req.method === 'GET' && !rest.length && url.searchParams.has('uploads')) {
      const prefix = url.searchParams.get('prefix') ?? '';
      prefixes.push(prefix);
      const marker = url.searchParams.get('key-marker');
      const mine = uploads.filter((u) => u.Key.startsWith(prefix) && !aborted.includes(u.UploadId));
      const from = marker ? mine.findIndex((u) => u.Key === marker) + 1 : 0;
      const page = mine.slice(from, from + 2);
      const more = from + 2 < mine.length;
      const last = page.at(-1);
      return xml(
        `<ListMultipartUploadsResult><Bucket>${bucket}</Bucket><Prefix>${prefix}</Prefix>` +
          `<IsTruncated>${more}</IsTruncated>` +
          (more && last
            ? `<NextKeyMarker>${last.Key}</NextKeyMarker><NextUploadIdMarker>${last.UploadId}</NextUploadIdMarker>`
            : '') +
          page
            .map(
              (u) =>
                `<Upload><Key>${u.Key}</Key><UploadId>${u.UploadId}</UploadId><Initiated>${u.Initiated}</Initiated></Upload>`,
            )
            .join('') +
          '</ListMultipartUploadsResult>',
      );
    }
    if (req.method === 'GET' && !rest.length && url.searchParams.get('list-type') === '2')
      return xml(
        `<ListBucketResult><Name>${bucket}</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`,
      );
    if (req.method === 'DELETE' && rest.length && url.searchParams.has('uploadId')) {
      aborted.push(url.searchParams.get('uploadId')!);
      res.writeHead(204);
      return res.end();
    }
    res.writeHead(501, { 'content-type': 'application/xml' });
    res.end('<Error><Code>NotImplemented</Code><Message>not here</Message></Error>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { endpoint, aborted, prefixes, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await stopAllS3rvers();
});

const old = new Date(Date.now() - 3 * 86_400_000).toISOString();
const young = new Date(Date.now() - 60_000).toISOString();
const UPLOADS: Upload[] = [
  { Key: 'p/srv1/20260301_020000/databases/a.sqlite.zst', UploadId: 'old-1', Initiated: old },
  { Key: 'p/srv1/20260301_020000/databases/b.sqlite.zst', UploadId: 'old-2', Initiated: old },
  { Key: 'p/srv1/20260302_020000/app/c.zst', UploadId: 'young', Initiated: young },
  { Key: 'p/srv1/20260302_020000/app/d.zst', UploadId: 'old-3', Initiated: old },
  { Key: 'p/srv2/20260301_020000/databases/a.sqlite.zst', UploadId: 'other-source', Initiated: old },
];

describe('unfinished multipart uploads (real AWS SDK against a small S3 endpoint)', () => {
  it('lists this source’s uploads page by page and aborts those a day old (what each copy does)', async () => {
    const s3 = await uploadsEndpoint(UPLOADS);
    servers.push(s3);
    const dest = await s3Factory.open({
      name: 'offsite',
      type: 's3',
      endpoint: s3.endpoint,
      bucket: 'b',
      prefix: 'p',
      accessKeyId: 'k',
      secretAccessKey: 's',
    });
    try {
      const listed = await dest.listUploads('srv1');
      expect(listed!.map((u) => [u.key, u.uploadId])).toEqual([
        ['srv1/20260301_020000/databases/a.sqlite.zst', 'old-1'],
        ['srv1/20260301_020000/databases/b.sqlite.zst', 'old-2'],
        ['srv1/20260302_020000/app/c.zst', 'young'],
        ['srv1/20260302_020000/app/d.zst', 'old-3'],
      ]);
      expect(s3.prefixes).toEqual(['p/srv1/', 'p/srv1/']); // two pages
      const r = await abortOldUploads(dest, 'srv1', new Date());
      expect(r!.aborted.sort()).toEqual([
        'srv1/20260301_020000/databases/a.sqlite.zst',
        'srv1/20260301_020000/databases/b.sqlite.zst',
        'srv1/20260302_020000/app/d.zst',
      ]);
      expect(s3.aborted.sort()).toEqual(['old-1', 'old-2', 'old-3']); // never another source's, never a young one
      expect(r!.decisions.find((d) => d.upload.uploadId === 'young')).toMatchObject({ action: 'keep' });
    } finally {
      await dest.close();
    }
  });

  it('prune --from: --dry-run lists them, a real prune aborts the old ones', async () => {
    const s3 = await uploadsEndpoint(UPLOADS);
    servers.push(s3);
    const s = demoSetup({
      destinations: [
        {
          name: 'offsite',
          type: 's3',
          endpoint: s3.endpoint,
          bucket: 'b',
          prefix: 'p',
          accessKeyId: '${S3_KEY_ID}',
          secretAccessKey: '${S3_SECRET_KEY}',
          source: 'srv1',
        },
      ],
    });
    const dry = await cli(s, ['prune', '--from', 'offsite', '--dry-run']);
    expect(dry.stdout).toContain('would abort unfinished upload of srv1/20260301_020000/databases/a.sqlite.zst');
    expect(dry.stdout).toContain('keep unfinished upload of srv1/20260302_020000/app/c.zst');
    expect(s3.aborted).toEqual([]);
    const r = parseJsonOutput<{ abortedUploads: string[]; uploads: { uploadId: string; action: string }[] }>(
      (await cli(s, ['prune', '--from', 'offsite', '--json'])).stdout,
    );
    expect(r.abortedUploads).toHaveLength(3);
    expect(r.uploads.filter((u) => u.action === 'keep').map((u) => u.uploadId)).toEqual(['young']);
    expect(s3.aborted.sort()).toEqual(['old-1', 'old-2', 'old-3']);
  });

  it('s3rver cannot list them: copy and prune go on, and prune says to use a lifecycle rule', async () => {
    const srv = await startS3rver();
    const s = demoSetup({
      destinations: [s3Destination(srv, { source: 'srv1' })],
    });
    await cli(s, ['create', '--db', 'users', '--no-files']);
    const text = await cli(s, ['prune', '--from', 'offsite', '--dry-run']);
    expect(text.stdout).toContain('does not list unfinished multipart uploads');
    expect(text.stdout).toContain('AbortIncompleteMultipartUpload');
    const json = parseJsonOutput<{ uploads: unknown }>((await cli(s, ['prune', '--from', 'offsite', '--json'])).stdout);
    expect(json.uploads).toBeNull();
  });
});
