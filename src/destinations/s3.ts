/**
 * An S3-compatible store (AWS, MinIO, Backblaze B2, Cloudflare R2, Wasabi) through @aws-sdk/client-s3: a local
 * file up to 200 MiB in one request whose body is streamed from it, checked before the request can complete; a
 * bigger one as a multipart upload from a bounded pool of part buffers (memory stays flat either way); the store's
 * own SHA-256 checksums where it has them, listings page by page, unfinished multipart uploads aborted once old.
 * Where the bytes of an upload come from and how each body is hashed once: s3-parts.ts.
 *
 * Why one file of about 600 lines: the uploads, the listings and the aborts share the client, the key layout and
 * the mapping of the store's errors to DestinationErrors.
 */
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { DestinationError, RespaldoError } from '../core/errors.js';
import { phrase } from '../core/phrases.js';
import { isSetId } from '../engine/set-id.js';
import {
  DEFAULT_TIMEOUT_SECONDS,
  joinKey,
  withMappedErrors,
  type Destination,
  type DestinationConfig,
  type DestinationFactory,
  type PendingUpload,
  type RemoteFile,
} from './destination.js';
import { s3Rules } from './rules.js';
import {
  BufferPool,
  CheckedFileBody,
  chunkSource,
  fileSource,
  signedWith,
  sha256Of,
  type PartSource,
} from './s3-parts.js';

/** Part size of multipart uploads: the store's minimum, so that memory stays flat. */
const PART_SIZE = 5 * 1024 * 1024;
/**
 * Local files above PART_SIZE and up to this size whose SHA-256 the manifest gives go in one streamed PutObject
 * (`putStreamed`), larger ones as multipart uploads: rclone's `upload_cutoff` for S3. One request spares the store
 * writing parts and then joining them (s3rver spent about twice rclone's CPU on respaldo's 5 MiB parts). Above it a
 * file's parts travel several at once (up to PART_BUFFERS - 1), which a single stream cannot do on a slow, far link,
 * and AWS takes at most 5 GiB in one request. Memory is the same either way.
 */
const ONE_REQUEST_MAX = 200 * 1024 * 1024;
/**
 * Part buffers of one S3 destination, shared by the files it sends at the same time and reused: at most
 * PART_BUFFERS × PART_SIZE (30 MiB) of parts, filled or in flight; a single big file may have all but one
 * in flight. (lib-storage concatenated each part's chunks into a new buffer and kept the previous one alive
 * through the remainder: 4 files × 2 parts came to about 80 MiB, and as much garbage.)
 */
const PART_BUFFERS = 6;

function timeoutMs(cfg: DestinationConfig): number {
  return (cfg.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
}

/** What an S3 client call failed with, as the SDK reports it. */
interface S3Failure {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Any S3-compatible store (AWS, MinIO, Backblaze B2, Cloudflare R2, Wasabi; the tests use s3rver).
 * Files go in one PutObject or as a multipart upload (see `putFile`); the store makes either visible only
 * once complete. With
 * `checksums` "auto" or "sha256" every upload carries SHA-256 checksums the store checks; a store
 * that ignores them (s3rver, some compatibles) is detected by the missing checksum on the stored
 * object: "auto" then goes on, relying on the size check here and on `verify --read-data`;
 * "sha256" fails.
 */
export class S3Destination implements Destination {
  readonly type = 's3' as const;
  /** null until the first upload tells whether the store keeps SHA-256 checksums. */
  checksumsConfirmed: boolean | null = null;
  private readonly client: S3Sdk.S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partBuffers = new BufferPool(PART_BUFFERS, PART_SIZE);

  /** `sdk` is the AWS SDK's S3 client module, loaded only when an S3 destination is opened. */
  constructor(
    private readonly cfg: DestinationConfig,
    private readonly sdk: typeof S3Sdk,
  ) {
    const { S3Client } = sdk;
    this.bucket = cfg.bucket!;
    this.prefix = (cfg.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.client = new S3Client({
      region: cfg.region ?? 'us-east-1',
      ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
      forcePathStyle: cfg.forcePathStyle ?? Boolean(cfg.endpoint),
      credentials: { accessKeyId: cfg.accessKeyId!, secretAccessKey: cfg.secretAccessKey! },
      // Checksums are asked for explicitly per upload (ChecksumAlgorithm), not by the SDK's defaults,
      // which some S3-compatible stores reject.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 1, // retries with backoff are the copy engine's
      // A store that accepts connections and then answers nothing (frozen) fails the request, as a transient error
      // the engine retries: on connecting, and on inactivity (nothing sent nor received for that long), never on the
      // total duration, so a long upload that keeps moving is never cut.
      requestHandler: { connectionTimeout: timeoutMs(cfg), socketTimeout: timeoutMs(cfg) },
      // Silent, as the SDK's default logger is, except that this one also silences the console warning the SDK
      // prints when a streamed request fails: `putStreamed` cuts its request on purpose, and errors are thrown.
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    });
  }

  get name(): string {
    return this.cfg.name;
  }

  describe(): string {
    return `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}${this.cfg.endpoint ? ` at ${this.cfg.endpoint}` : ''}`;
  }

  private objectKey(key: string): string {
    return joinKey(this.prefix, key);
  }

  /** The error `fail` throws, returned. */
  private errorOf(err: unknown, doing: string): Error {
    try {
      this.fail(err, doing);
    } catch (e) {
      return e as Error;
    }
  }

  private fail(err: unknown, doing: string): never {
    if (err instanceof RespaldoError) throw err; // a DestinationError, or the engine's check of what was read
    const e = (err ?? {}) as S3Failure;
    const status = e.$metadata?.httpStatusCode;
    const code = e.name ?? e.code ?? 'Error';
    const where = this.describe();
    if (code === 'NoSuchKey' || code === 'NotFound' || status === 404) {
      if (code === 'NoSuchBucket')
        throw new DestinationError(
          this.name,
          `${doing}: bucket "${this.bucket}" does not exist at ${where}`,
          'Create the bucket, or fix "bucket"/"endpoint" in the config.',
        );
      throw new DestinationError(
        this.name,
        `${doing}: not found at ${where}`,
        `Run \`respaldo list --from ${this.name}\` to see what the destination holds.`,
        { kind: 'notFound' },
      );
    }
    if (
      [
        'InvalidAccessKeyId',
        'SignatureDoesNotMatch',
        'AccessDenied',
        'Forbidden',
        'InvalidToken',
        'ExpiredToken',
      ].includes(code) ||
      status === 403
    ) {
      throw new DestinationError(
        this.name,
        `${doing}: the store refused the credentials (${code})`,
        'Check "accessKeyId" and "secretAccessKey" (their ${VAR} values) and that the key may write the bucket.',
      );
    }
    const net = [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'EPIPE',
      'EHOSTUNREACH',
      'ENOTFOUND',
      'EAI_AGAIN',
      'TimeoutError',
      'RequestTimeout',
      'SlowDown',
      'ServiceUnavailable',
      'InternalError',
    ];
    if (
      net.includes(code) ||
      (status !== undefined && status >= 500) ||
      /socket hang up|ECONNREFUSED|ECONNRESET|EPIPE|aborted/i.test(e.message ?? '')
    ) {
      const detail = `${code}${status ? ` ${status}` : ''}: ${e.message ?? ''}`;
      throw new DestinationError(
        this.name,
        `${doing}: ${where} is unreachable or failing (${detail})`,
        'Check the network and the store, then run the command again.',
        { transient: true },
      ).withPhrases(
        phrase('dest.unreachable', { dest: this.name, doing, where, detail }),
        phrase('dest.unreachableHint', { server: 'store' }),
      );
    }
    throw new DestinationError(
      this.name,
      `${doing}: ${code}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? ''}`,
      "Check the destination's settings in the config.",
    );
  }

  put(key: string, body: Readable, size: number, opts: { sha256?: string; signal?: AbortSignal } = {}): Promise<void> {
    return this.putChunks(key, body, size, opts).catch((err: unknown) => {
      body.destroy();
      throw err;
    });
  }

  /** Each chunk is copied into a part buffer before the next is asked for (see `Destination.putChunks`). */
  async putChunks(
    key: string,
    body: AsyncIterable<Buffer>,
    size: number,
    opts: { sha256?: string; signal?: AbortSignal } = {},
  ): Promise<void> {
    const source = chunkSource(body);
    try {
      await this.upload(key, size, source, opts);
    } finally {
      await source.close();
    }
  }

  /**
   * Sends the local file in one streamed request (`putStreamed`) when it is above PART_SIZE and up to
   * ONE_REQUEST_MAX and its hash is known; otherwise reads it straight into the part buffers (one buffered request
   * up to PART_SIZE, else a multipart upload), hashing each part once for the store and the file as a whole for
   * `check`. Either way `check` runs before the store can complete the object: a local file that does not match
   * its manifest never becomes an object (see `Destination.putFile`).
   */
  async putFile(
    key: string,
    path: string,
    size: number,
    opts: { check: (sha256: string, bytes: number) => void; sha256?: string; signal?: AbortSignal },
  ): Promise<void> {
    if (size > PART_SIZE && size <= ONE_REQUEST_MAX && opts.sha256)
      return this.putStreamed(key, path, size, { ...opts, sha256: opts.sha256 });
    let source;
    try {
      source = await fileSource(path, opts.check);
    } catch (err) {
      this.fail(err, `reading ${path}`);
    }
    try {
      const { check: _check, ...uploadOpts } = opts;
      await this.upload(key, size, source, uploadOpts);
    } finally {
      await source.close();
    }
  }

  /** Uploads `size` bytes from `source` to `key` (one request or a multipart upload), then checks the object. */
  private async upload(
    key: string,
    size: number,
    source: PartSource,
    opts: { sha256?: string; signal?: AbortSignal },
  ): Promise<void> {
    const mode = this.cfg.checksums ?? 'auto';
    const algorithm: S3Sdk.ChecksumAlgorithm | undefined = mode === 'off' ? undefined : 'SHA256';
    const params = {
      Bucket: this.bucket,
      Key: this.objectKey(key),
      ...(algorithm ? { ChecksumAlgorithm: algorithm } : {}),
    };
    try {
      opts.signal?.throwIfAborted();
      if (size <= PART_SIZE) {
        const whole = Buffer.allocUnsafe(size);
        const data = whole.subarray(0, await source.fill(whole));
        await source.end();
        const sha = sha256Of(data);
        await this.client.send(
          signedWith(
            new this.sdk.PutObjectCommand({
              ...params,
              Body: data,
              ContentLength: data.length,
              ...(algorithm ? { ChecksumSHA256: sha.base64 } : {}),
              ...(opts.sha256 ? { Metadata: { 'respaldo-sha256': opts.sha256 } } : {}),
            }),
            sha.hex,
          ),
          opts.signal ? { abortSignal: opts.signal } : {},
        );
      } else await this.putMultipart(params, source, opts);
    } catch (err) {
      this.fail(err, `uploading ${key}`);
    }
    await this.checkStored(key, size);
  }

  /**
   * One PutObject whose body is the local file read as it is sent (`CheckedFileBody`): its last piece goes only
   * once `check` passed over the whole file, and when `check` throws the request is cut before the body is
   * complete, so the store never makes the object (a PUT is atomic) and the check's error is thrown. The manifest's
   * hash is announced up front, as the signed payload hash and (checksums on) as ChecksumSHA256, so a store that
   * checks either refuses other bytes. Nothing is replayed: a retry calls `putFile` again, which reads the file anew.
   */
  private async putStreamed(
    key: string,
    path: string,
    size: number,
    opts: { check: (sha256: string, bytes: number) => void; sha256: string; signal?: AbortSignal },
  ): Promise<void> {
    const checksum = (this.cfg.checksums ?? 'auto') !== 'off';
    let refusal: { error: unknown } | undefined;
    let bodyError: unknown;
    const body = new CheckedFileBody(path, size, (sha256, bytes) => {
      try {
        opts.check(sha256, bytes);
      } catch (err) {
        refusal = { error: err };
        throw err;
      }
    });
    const cut = new AbortController();
    body.once('error', (err) => {
      bodyError = err;
      cut.abort();
    });
    try {
      opts.signal?.throwIfAborted();
      await this.client.send(
        signedWith(
          new this.sdk.PutObjectCommand({
            Bucket: this.bucket,
            Key: this.objectKey(key),
            Body: body,
            ContentLength: size,
            ...(checksum
              ? { ChecksumAlgorithm: 'SHA256', ChecksumSHA256: Buffer.from(opts.sha256, 'hex').toString('base64') }
              : {}),
            Metadata: { 'respaldo-sha256': opts.sha256 },
          }),
          opts.sha256,
        ),
        { abortSignal: opts.signal ? AbortSignal.any([opts.signal, cut.signal]) : cut.signal },
      );
    } catch (err) {
      if (refusal) throw refusal.error;
      this.fail(bodyError ?? err, bodyError ? `reading ${path}` : `uploading ${key}`);
    } finally {
      body.destroy();
    }
    await this.checkStored(key, size);
  }

  /** After an upload: the object is there with `size` bytes, and the store kept its checksum where it was asked. */
  private async checkStored(key: string, size: number): Promise<void> {
    const mode = this.cfg.checksums ?? 'auto';
    let head;
    try {
      head = await this.client.send(
        new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), ChecksumMode: 'ENABLED' }),
      );
    } catch (err) {
      this.fail(err, `checking ${key} after upload`);
    }
    if (head.ContentLength !== size) {
      throw new DestinationError(
        this.name,
        `uploading ${key}: the store holds ${head.ContentLength} bytes, ${size} were sent`,
        'Run `respaldo copy` again; if it repeats, check the store.',
        { transient: true },
      );
    }
    if (mode !== 'off') {
      const kept = Boolean(head.ChecksumSHA256);
      this.checksumsConfirmed = this.checksumsConfirmed === false ? false : kept;
      if (!kept && mode === 'sha256') {
        // What it uploaded is not left there: the copy is refused as a whole, nothing of it should stay.
        await this.delete(key).catch(() => undefined);
        throw new DestinationError(
          this.name,
          `the store at ${this.describe()} does not keep SHA-256 checksums`,
          `Set "checksums": "auto" to rely on respaldo's own hashes (\`verify --from ${this.name} --read-data\`).`,
        );
      }
    }
  }

  /**
   * A multipart upload of what `source` reads into buffers of the destination's pool, each given back once
   * its part is sent; `source.end()` runs before the upload is completed. Aborted on failure, so that the
   * store drops the parts.
   */
  private async putMultipart(
    params: { Bucket: string; Key: string; ChecksumAlgorithm?: S3Sdk.ChecksumAlgorithm },
    source: PartSource,
    opts: { sha256?: string; signal?: AbortSignal },
  ): Promise<void> {
    const http = opts.signal ? { abortSignal: opts.signal } : {};
    const created = await this.client.send(
      new this.sdk.CreateMultipartUploadCommand({
        ...params,
        ...(opts.sha256 ? { Metadata: { 'respaldo-sha256': opts.sha256 } } : {}),
      }),
      http,
    );
    const UploadId = created.UploadId!;
    const pool = this.partBuffers;
    const parts: S3Sdk.CompletedPart[] = [];
    const inFlight: Promise<void>[] = [];
    let failed: unknown;
    const send = async (buf: Buffer, length: number, PartNumber: number): Promise<void> => {
      try {
        const Body = buf.subarray(0, length);
        const sha = sha256Of(Body);
        const r = await this.client.send(
          signedWith(
            new this.sdk.UploadPartCommand({
              ...params,
              UploadId,
              PartNumber,
              Body,
              ...(params.ChecksumAlgorithm ? { ChecksumSHA256: sha.base64 } : {}),
            }),
            sha.hex,
          ),
          http,
        );
        parts.push({ PartNumber, ETag: r.ETag!, ...(r.ChecksumSHA256 ? { ChecksumSHA256: r.ChecksumSHA256 } : {}) });
      } catch (err) {
        failed ??= err;
      } finally {
        pool.give(buf); // the request is over: the buffer takes the next part
      }
    };
    let buf: Buffer | undefined;
    try {
      for (let part = 1; ; part++) {
        buf = await pool.take();
        if (failed !== undefined) throw failed;
        opts.signal?.throwIfAborted();
        const filled = await source.fill(buf);
        if (filled === 0) break;
        inFlight.push(send(buf, filled, part));
        buf = undefined;
        if (filled < PART_SIZE) break;
      }
      if (buf) pool.give(buf);
      buf = undefined;
      await source.end();
      await Promise.all(inFlight);
      if (failed !== undefined) throw failed;
      parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
      await this.client.send(
        new this.sdk.CompleteMultipartUploadCommand({ ...params, UploadId, MultipartUpload: { Parts: parts } }),
        http,
      );
    } catch (err) {
      if (buf) pool.give(buf);
      await Promise.all(inFlight);
      await this.client
        .send(new this.sdk.AbortMultipartUploadCommand({ Bucket: params.Bucket, Key: params.Key, UploadId }))
        .catch(() => undefined);
      throw err;
    }
  }

  async get(key: string, opts: { offset?: number } = {}): Promise<Readable> {
    try {
      const r = await this.client.send(
        new this.sdk.GetObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          ...(opts.offset ? { Range: `bytes=${opts.offset}-` } : {}),
        }),
      );
      return withMappedErrors(r.Body as Readable, (err) => this.errorOf(err, `reading ${key}`));
    } catch (err) {
      const e = this.errorOf(err, `reading ${key}`);
      // Objects below it (`manifest.json/…`): a folder in a listing, said as a folder or sftp destination says one.
      if (e instanceof DestinationError && e.kind === 'notFound' && (await this.isPrefix(key)))
        throw new DestinationError(
          this.name,
          `reading ${key}: not a file (a folder: objects ${key}/… are there)`,
          `respaldo writes only files there: check who put ${this.describe()}/${key}/… there.`,
          { kind: 'notFound', notAFile: 'a folder' },
        );
      throw e;
    }
  }

  /** Whether objects are below `key` (`key/…`): a folder, as a listing shows it. */
  private async isPrefix(key: string): Promise<boolean> {
    try {
      const page = await this.client.send(
        new this.sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${this.objectKey(key)}/`, MaxKeys: 1 }),
      );
      return (page.Contents ?? []).length > 0;
    } catch (err) {
      this.fail(err, `listing ${key}/`);
    }
  }

  private async *listKeys(prefix: string): AsyncGenerator<{ key: string; size: number; modifiedAt?: string }> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new this.sdk.ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
      } catch (err) {
        this.fail(err, `listing ${prefix || '/'}`);
      }
      for (const o of page.Contents ?? [])
        if (o.Key)
          yield {
            key: o.Key.slice(prefix.length),
            size: o.Size ?? 0,
            ...(o.LastModified ? { modifiedAt: o.LastModified.toISOString() } : {}),
          };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async listSets(source: string | null): Promise<{ source: string; id: string }[]> {
    const base = this.prefix ? `${this.prefix}/` : '';
    const out: { source: string; id: string }[] = [];
    const seen = new Set<string>();
    for await (const o of this.listKeys(source ? `${base}${source}/` : base)) {
      const parts = (source ? `${source}/${o.key}` : o.key).split('/');
      // Objects below `manifest.json/` (a folder there, as a listing shows it) list the set too: read, it is damaged.
      if (parts.length >= 3 && parts[2] === 'manifest.json' && isSetId(parts[1]!))
        if (!seen.has(`${parts[0]}/${parts[1]}`)) {
          seen.add(`${parts[0]}/${parts[1]}`);
          out.push({ source: parts[0]!, id: parts[1]! });
        }
    }
    return out;
  }

  async listFiles(dir: string): Promise<RemoteFile[]> {
    const out: RemoteFile[] = [];
    for await (const o of this.listKeys(`${this.objectKey(dir)}/`))
      out.push({ path: o.key, size: o.size, ...(o.modifiedAt ? { modifiedAt: o.modifiedAt } : {}) });
    return out;
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const h = await this.client.send(
        new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      return { size: h.ContentLength ?? 0 };
    } catch (err) {
      const e = err as S3Failure;
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return null;
      this.fail(err, `reading ${key}`);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    } catch (err) {
      this.fail(err, `removing ${key}`);
    }
  }

  async listUploads(dir: string): Promise<PendingUpload[] | null> {
    const base = this.prefix ? `${this.prefix}/` : '';
    const out: PendingUpload[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new this.sdk.ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: `${this.objectKey(dir)}/`,
            ...(keyMarker ? { KeyMarker: keyMarker } : {}),
            ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
          }),
        );
      } catch (err) {
        const e = err as S3Failure;
        if (e.name === 'NotImplemented' || e.$metadata?.httpStatusCode === 501) return null;
        this.fail(err, `listing the unfinished uploads under ${dir}`);
      }
      for (const u of page.Uploads ?? [])
        if (u.Key?.startsWith(base) && u.UploadId)
          out.push({
            key: u.Key.slice(base.length),
            uploadId: u.UploadId,
            initiatedAt: u.Initiated ? u.Initiated.toISOString() : null,
          });
      const more = page.IsTruncated === true && Boolean(page.NextKeyMarker || page.NextUploadIdMarker);
      keyMarker = more ? page.NextKeyMarker : undefined;
      uploadIdMarker = more ? page.NextUploadIdMarker : undefined;
    } while (keyMarker || uploadIdMarker);
    return out;
  }

  async abortUpload(upload: PendingUpload): Promise<void> {
    try {
      await this.client.send(
        new this.sdk.AbortMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.objectKey(upload.key),
          UploadId: upload.uploadId,
        }),
      );
    } catch (err) {
      const e = err as S3Failure;
      if (e.name === 'NoSuchUpload' || e.$metadata?.httpStatusCode === 404) return; // gone meanwhile
      this.fail(err, `aborting the unfinished upload of ${upload.key}`);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

export const s3Factory = {
  ...s3Rules,
  async open(cfg: DestinationConfig) {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'; // the README states which Node lines run
    return new S3Destination(cfg, await import('@aws-sdk/client-s3'));
  },
} satisfies DestinationFactory;
