import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';
import { makeTmpDir } from './tmp.js';

/** Credentials s3rver accepts (its defaults); anything else is refused with InvalidAccessKeyId. */
export const S3RVER_KEY = 'S3RVER';

/** A throwaway S3 server (s3rver) in its own process on a free loopback port. */
export interface S3Server {
  endpoint: string;
  port: number;
  bucket: string;
  /** Folder where s3rver keeps the objects (`<dir>/<bucket>/<key>._S3rver_object`). */
  dir: string;
  /** Kills the server at once (SIGKILL), as a store that goes away. */
  kill(): Promise<void>;
  /** Stops (SIGSTOP) and continues (SIGCONT) the server: what it wrote stays as it is while it is frozen. */
  freeze(): void;
  thaw(): void;
  /** Starts it again on the same port with the objects whose upload had finished (see `dropUnfinishedObjects`). */
  restart(): Promise<void>;
}

/**
 * s3rver, with its listing by delimiter answering as S3 does. Its filesystem store finds a common prefix (`srv1/<id>/`)
 * only from an object right below it, never from one deeper (`srv1/<id>/manifest.json/note.txt`): a set holding only
 * folders was missing from a listing one level at a time (rclone's, down to the manifests), where S3 lists it. Each
 * folder at the listed level holding a finished object (its metadata written) is added as the prefix it stands for.
 * Started with `listsUploads`, it also answers ListMultipartUploads and AbortMultipartUpload (s3rver answers 501) from
 * the uploads it holds (`<bucket>/._S3rver_uploads/<upload id>/`), as a store that lists them does.
 */
const SCRIPT = `
const fs = require('node:fs');
const path = require('node:path');
const S3rver = require(${JSON.stringify(join(REPO_ROOT, 'node_modules', 's3rver'))});
const Store = require(${JSON.stringify(join(REPO_ROOT, 'node_modules', 's3rver', 'lib', 'stores', 'filesystem.js'))});
const holdsObject = (dir) =>
  fs.readdirSync(dir, { withFileTypes: true }).some((e) =>
    e.isDirectory() ? holdsObject(path.join(dir, e.name)) : e.name.endsWith('._S3rver_metadata.json'));
const listObjects = Store.prototype.listObjects;
Store.prototype.listObjects = async function (bucket, options) {
  const result = await listObjects.call(this, bucket, options);
  const { delimiter = '', prefix = '', startAfter = '' } = options;
  if (delimiter !== '/') return result;
  const above = prefix.slice(0, prefix.lastIndexOf('/') + 1);
  const last = result.objects.length ? result.objects[result.objects.length - 1].key : null;
  const found = new Set(result.commonPrefixes);
  let entries = [];
  try {
    entries = fs.readdirSync(path.join(this.getBucketPath(bucket), Store.encodeKeyPath(above)), { withFileTypes: true });
  } catch {
    return result;
  }
  for (const e of entries) {
    const p = above + Store.decodeKeyPath(e.name) + '/';
    if (!e.isDirectory() || !p.startsWith(prefix) || p <= startAfter || startAfter.startsWith(p)) continue;
    if (result.isTruncated && last !== null && p > last) continue;
    if (holdsObject(path.join(this.getBucketPath(bucket), Store.encodeKeyPath(above), e.name))) found.add(p);
  }
  return { ...result, commonPrefixes: [...found].sort() };
};
const [dir, port, bucket, uploads] = process.argv.slice(1);
const app = new S3rver({ address: '127.0.0.1', port: Number(port), silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
if (uploads === 'uploads') app.middleware.unshift(async (ctx, next) => {
  const [, name, ...rest] = ctx.path.split('/');
  const held = path.join(dir, name || '', '._S3rver_uploads');
  const xml = (body) => { ctx.type = 'application/xml'; ctx.body = '<?xml version="1.0" encoding="UTF-8"?>' + body; };
  const esc = (t) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  if (ctx.method === 'GET' && !rest.filter(Boolean).length && 'uploads' in ctx.query) {
    const prefix = ctx.query.prefix || '';
    const ids = fs.existsSync(held) ? fs.readdirSync(held) : [];
    const listed = ids
      .map((id) => ({ id, key: fs.readFileSync(path.join(held, id, 'key'), 'utf8'), at: fs.statSync(path.join(held, id)).mtime }))
      .filter((u) => u.key.startsWith(prefix))
      .map((u) => '<Upload><Key>' + esc(u.key) + '</Key><UploadId>' + u.id + '</UploadId><Initiated>' + u.at.toISOString() + '</Initiated></Upload>');
    return xml('<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>' + name +
      '</Bucket><IsTruncated>false</IsTruncated>' + listed.join('') + '</ListMultipartUploadsResult>');
  }
  if (ctx.method === 'DELETE' && rest.length && ctx.query.uploadId) {
    const at = path.join(held, path.basename(String(ctx.query.uploadId)));
    if (!fs.existsSync(at)) {
      ctx.status = 404;
      return xml('<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>');
    }
    fs.rmSync(at, { recursive: true, force: true });
    ctx.status = 204;
    return;
  }
  return next();
});
app.run().then((a) => process.stdout.write('PORT ' + a.port + '\\n'), (e) => { console.error(e); process.exit(1); });
`;

function launch(
  dir: string,
  port: number,
  bucket: string,
  uploads: boolean,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['-e', SCRIPT, dir, String(port), bucket, uploads ? 'uploads' : ''], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening: ${err}`)));
  });
}

/**
 * The config of an `s3` destination named `offsite` on `srv`, prefix `p`, its keys from ${S3_KEY_ID} and
 * ${S3_SECRET_KEY} (give `cli` S3RVER_KEY and SECRET for them).
 */
export function s3Destination(srv: Pick<S3Server, 'endpoint' | 'bucket'>, extra: Record<string, unknown> = {}) {
  return {
    name: 'offsite',
    type: 's3' as const,
    endpoint: srv.endpoint,
    bucket: srv.bucket,
    prefix: 'p',
    accessKeyId: '${S3_KEY_ID}',
    secretAccessKey: '${S3_SECRET_KEY}',
    ...extra,
  };
}

/** Starts s3rver with one bucket; stop it with `kill()` (done automatically by `stopAll`). */
export async function startS3rver(bucket = 'offsite', opts: { listsUploads?: boolean } = {}): Promise<S3Server> {
  const dir = makeTmpDir('respaldo-s3-');
  const launched = await launch(dir, 0, bucket, opts.listsUploads === true);
  const port = launched.port;
  let child = launched.child;
  running.add(child);
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    running.delete(child);
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    bucket,
    dir,
    kill,
    freeze: () => void child.kill('SIGSTOP'),
    thaw: () => void child.kill('SIGCONT'),
    restart: async () => {
      await kill();
      dropUnfinishedObjects(dir);
      ({ child } = await launch(dir, port, bucket, opts.listsUploads === true));
      running.add(child);
    },
  };
}

/**
 * Removes what a killed s3rver left half written. A PUT on a real S3 store is atomic: an upload cut short leaves no
 * object. s3rver's filesystem store writes `<key>._S3rver_object`, then `<key>._S3rver_metadata.json`; a SIGKILL
 * between the two (or in the middle of the second) leaves a truncated object or truncated JSON, and the next
 * ListObjects answers 500 InternalError. The test models the real store, so such objects go before the restart.
 */
export function dropUnfinishedObjects(dir: string): string[] {
  const dropped: string[] = [];
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith('._S3rver_object')) continue;
    const object = join(e.parentPath, e.name);
    const base = object.slice(0, -'object'.length);
    let finished = false;
    try {
      JSON.parse(readFileSync(`${base}metadata.json`, 'utf8'));
      finished = true;
    } catch {
      // missing or truncated metadata: the PUT had not finished
    }
    if (finished) continue;
    for (const f of [object, `${object}.md5`, `${base}metadata.json`]) rmSync(f, { force: true });
    dropped.push(object);
  }
  return dropped;
}

const running = new Set<ChildProcess>();

/** Kills every s3rver started by this file (use in afterEach). */
export async function stopAllS3rvers(): Promise<void> {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  running.clear();
}
