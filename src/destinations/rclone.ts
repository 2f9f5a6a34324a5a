import { promises as fsp, type BigIntStats } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { basename, dirname, resolve } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CommandError, DestinationError, RespaldoError } from '../core/errors.js';
import { runCapture, spawnStreaming, type SpawnSpec, type StreamingChild } from '../exec/spawn.js';
import { sha256OfFile } from '../engine/hash-file.js';
import { isSetId } from '../engine/set-id.js';
import {
  DEFAULT_TIMEOUT_SECONDS,
  folderInTheWay,
  type Destination,
  type DestinationConfig,
  type DestinationFactory,
  type RemoteFile,
} from './destination.js';
import { RcloneDaemon } from './rclone-daemon.js';
import { rcloneFailure } from './rclone-errors.js';
import { rcloneRules, rcloneSecret } from './rules.js';

/**
 * Any remote of an installed rclone (Google Drive, Azure Blob, OneDrive, SFTP, …) through one `rclone rcd`
 * (rclone-daemon.ts) that lists, removes, sends a set's local files and reads (`--rc-serve`); `rclone rcat` for
 * files made on the way (encrypted copies), and `rclone cat` to read under a remote path the daemon cannot name
 * (one with `]`). The remote is `remote` in rclone's own config, or defined
 * entirely by `config`, passed to rclone as RCLONE_CONFIG_<REMOTE>_<KEY> variables in its own environment
 * (never argv). Why one file of about 480 lines: every operation goes through the same daemon, environment and
 * failure wording (the daemon itself: rclone-daemon.ts; rclone's messages: rclone-errors.ts).
 */
export class RcloneDestination implements Destination {
  readonly type = 'rclone' as const;

  /** Keys of the files `listFiles` found (so `get` need not look for them again). */
  private readonly listed = new Set<string>();
  /** Folders `listFiles` listed whole, and keys sent since: a key below one, never listed nor sent, is not there. */
  private readonly listedDirs = new Set<string>();
  private readonly tried = new Set<string>();
  /** Local files checked ahead (`expectFiles`), by path, one at a time in the order given. */
  private readonly ahead = new Map<string, { started: boolean; done: Promise<CheckedAhead | null> }>();
  private aheadTail: Promise<unknown> = Promise.resolve();
  private sizeFlag: Promise<boolean> | undefined;
  private readonly closing = new AbortController();
  private readonly daemon: RcloneDaemon;

  constructor(private readonly cfg: DestinationConfig) {
    this.daemon = new RcloneDaemon((args) => this.spec(args), cfg.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS);
  }

  get name(): string {
    return this.cfg.name;
  }

  describe(): string {
    return `rclone ${this.cfg.remote}:${this.root()}`;
  }

  private root(): string {
    return (this.cfg.path ?? '').replace(/\/+$/, '');
  }

  private target(key: string): string {
    return `${this.cfg.remote}:${[this.root(), key].filter(Boolean).join('/')}`;
  }

  /** The remote's root as an rclone file system (`remote:path`), for the daemon's calls. */
  private fs(): string {
    return `${this.cfg.remote}:${this.root()}`;
  }

  /**
   * Every rclone this destination starts runs until `close()` at most: closing (the operation was interrupted, or
   * it ended) stops them at once, where rclone itself would wait on a frozen remote up to its timeout.
   */
  private spec(args: string[], stdin?: 'pipe', signal?: AbortSignal): SpawnSpec {
    // rclone looks the remote up by its name upper-cased as it is: `my-ssh` is RCLONE_CONFIG_MY-SSH_* (a name a shell
    // cannot export, but an environment can hold); with `_` for `-` it found no remote.
    const prefix = `RCLONE_CONFIG_${this.cfg.remote!.toUpperCase()}_`;
    const timeout = this.cfg.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.cfg.config ?? {})) env[prefix + k.toUpperCase()] = v;
    return {
      command: this.cfg.binPath ?? 'rclone',
      // rclone's own timeouts (connecting; no data moving), as for S3: a frozen remote fails, and is retried.
      args: [...args, '--low-level-retries', '2', '--contimeout', `${timeout}s`, '--timeout', `${timeout}s`],
      env,
      secrets: Object.entries(this.cfg.config ?? {})
        .filter(([k, v]) => rcloneSecret(k, v))
        .map(([, v]) => v),
      missingHint: 'Install rclone (Debian: apt-get install rclone) or set "binPath".',
      ...(stdin ? { stdin } : {}),
      // A signal of its own per child (spawn listens on it until the child exits): no listeners pile up on one.
      signal: AbortSignal.any(signal ? [signal, this.closing.signal] : [this.closing.signal]),
    };
  }

  /** rclone's failure as this destination says it (rclone-errors.ts). */
  private fail(err: unknown, doing: string): never {
    rcloneFailure(this.cfg, this.describe(), err, doing);
  }

  /**
   * `rclone rcat` of `key`, its size told up front: rclone then sends the file as it would a local one of that
   * size (S3: one streamed PutObject up to its upload cutoff), where a stream of unknown length goes in 5 MiB
   * parts through memory, and a store that checks lengths (S3) fails a body of another length.
   */
  private async rcat(key: string, size: number, signal?: AbortSignal) {
    const sized = size >= 0 && (await this.rcatTakesSize()) ? ['--size', String(size)] : [];
    const child = spawnStreaming(this.spec(['rcat', ...sized, this.target(key)], 'pipe', signal));
    child.stdout.resume();
    return child;
  }

  /**
   * Whether this rclone's `rcat` has `--size`: older releases (a distribution's rclone can be years old) refuse
   * every upload with "unknown flag: --size". Asked once per destination opened, from `rcat --help`.
   */
  private rcatTakesSize(): Promise<boolean> {
    this.sizeFlag ??= runCapture(this.spec(['rcat', '--help'])).then(
      (r) => /^\s*--size\b/m.test(r.stdout),
      () => false, // rclone missing or broken: the upload itself fails with why
    );
    return this.sizeFlag;
  }

  /**
   * Waits for rclone and for what feeds it; on a failure of either, stops both and throws rclone's reason (or that
   * the command was interrupted: rclone was then stopped by `signal`, and says nothing).
   */
  private async sent(
    key: string,
    child: StreamingChild,
    feeding: Promise<unknown>,
    stop: () => void,
    signal: AbortSignal | undefined,
  ) {
    try {
      await Promise.all([feeding, child.done]);
    } catch (err) {
      stop();
      child.child.kill('SIGTERM');
      if (signal?.aborted || this.closing.signal.aborted)
        throw new DestinationError(this.name, `writing ${key}: interrupted`, 'Run the command again when ready.');
      // What fed rclone failed on its own (a local file unreadable): rclone, stopped for it, is not the reason.
      if (err instanceof RespaldoError && !(err instanceof CommandError)) {
        await child.done.catch(() => undefined);
        throw err;
      }
      await this.failWriting(
        await child.done.then(
          () => err,
          (e: unknown) => e,
        ),
        key,
      );
    }
  }

  async put(key: string, body: Readable, size: number, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const child = await this.rcat(key, size, opts.signal);
    await this.sent(key, child, pipeline(body, child.child.stdin!), () => body.destroy(), opts.signal);
  }

  /**
   * The local files `putFile` will likely be asked to send (the set is not copied here yet): each is hashed now, one
   * at a time in this order, while the daemon starts and the destination is listed, where each waited for its own
   * hash before it was sent. Nothing is sent here; a file not sent after all cost only its reading.
   */
  expectFiles(files: { source: string; size: number }[]): void {
    // Called again (once the destination was listed): those no longer expected are not hashed.
    const expected = new Set(files.map((f) => f.source));
    for (const source of this.ahead.keys()) if (!expected.has(source)) this.ahead.delete(source);
    for (const f of files) {
      if (this.ahead.has(f.source)) continue;
      const entry = { started: false, done: Promise.resolve<CheckedAhead | null>(null) };
      entry.done = this.aheadTail.then(() => {
        if (this.closing.signal.aborted || this.ahead.get(f.source) !== entry) return null;
        entry.started = true;
        return checkAhead(f.source, f.size, this.closing.signal);
      });
      // A file that cannot be read now is read again when it is sent, and fails there if it must.
      this.aheadTail = entry.done.catch(() => null);
      this.ahead.set(f.source, entry);
    }
  }

  /**
   * Length and SHA-256 of the local file: hashed ahead (`expectFiles`) when it is still the file that was hashed (the
   * same inode, size, modification and change times: a write since changes its change time), else hashed now.
   */
  private async localDigest(source: string, size: number) {
    const entry = this.ahead.get(source);
    this.ahead.delete(source); // not yet started: hashed here, not by the queue
    const early = entry?.started ? await entry.done.catch(() => null) : null;
    if (early && sameFile(early.stat, await fsp.stat(source, { bigint: true }).catch(() => null))) return early.digest;
    return sha256OfFile(source, size);
  }

  /**
   * A file of the local set, sent by the daemon's `operations/copyfile`: rclone reads it itself and checks what
   * arrived (size, and the hash both sides know), as `rclone copy` does. The local file is first checked against
   * its manifest (`check`), so a damaged one is never sent. What rclone would write over is replaced whatever
   * its size and time (`--ignore-times`): the engine sends only what is missing or differs there. A key below a
   * folder this destination listed, found neither there nor sent since, is sent without rclone looking it up first
   * (`NoCheckDest`: one request to the remote fewer per file); any other (one there, one sent again after a failure
   * that may have left it there) is looked up, so that a remote that keeps two files of one name (Google Drive)
   * replaces it.
   */
  async putFile(
    key: string,
    source: string,
    size: number,
    opts: { check: (sha256: string, bytes: number) => void; signal?: AbortSignal },
  ): Promise<void> {
    const local = await this.localDigest(source, size);
    opts.check(local.sha256, local.bytes);
    const absent = !this.listed.has(key) && !this.tried.has(key) && [...this.listedDirs].some((d) => key.startsWith(d));
    this.tried.add(key);
    try {
      await this.daemon.call(
        'operations/copyfile',
        {
          // An absolute path: rclone would take a relative one such as `old:sets/…` for a remote named `old`.
          srcFs: resolve(dirname(source)),
          srcRemote: basename(source),
          dstFs: this.fs(),
          dstRemote: key,
          ...(absent ? { _config: { NoCheckDest: true } } : {}),
        },
        opts.signal,
      );
    } catch (err) {
      if (opts.signal?.aborted || this.closing.signal.aborted)
        throw new DestinationError(this.name, `writing ${key}: interrupted`, 'Run the command again when ready.');
      await this.failWriting(err, key);
    }
  }

  async get(key: string, opts: { offset?: number } = {}): Promise<Readable> {
    // A file this destination listed needs no listing of its own (a restore lists the set first); one gone since
    // fails its read, found not found the same way.
    const at = this.listed.has(key) ? null : await this.entry(key);
    // A folder at its name (on an object store: objects below `key/`), said as a folder or sftp destination says it.
    if (at?.IsDir)
      throw new DestinationError(
        this.name,
        `reading ${key}: not a file (a folder)`,
        `respaldo writes only files there: check who put ${this.target(key)} there.`,
        { kind: 'notFound', notAFile: 'a folder' },
      );
    if (!this.listed.has(key) && !at)
      throw new DestinationError(
        this.name,
        `reading ${key}: not found at ${this.describe()}`,
        `Run \`respaldo list --from ${this.name}\` to see what the destination holds.`,
        { kind: 'notFound' },
      );
    const served = await this.daemon.read(this.fs(), key, opts.offset ?? 0).catch((err: unknown) => {
      this.fail(err, `reading ${key}`);
    });
    if (served) return this.checkedBody(key, served);
    const from = opts.offset ? [`--offset=${opts.offset}`] : [];
    const child = spawnStreaming(this.spec(['cat', ...from, this.target(key)]));
    // The stream ends only once rclone exited well: a remote that failed mid-way is an error, not a short file.
    const checked = new Transform({
      transform: (chunk: Buffer, _e: BufferEncoding, cb: TransformCallback) => cb(null, chunk),
      flush: (cb: TransformCallback) => {
        child.done.then(
          () => cb(),
          (err: unknown) => {
            try {
              this.fail(err, `reading ${key}`);
            } catch (e) {
              cb(e as Error);
            }
          },
        );
      },
    });
    child.stdout.pipe(checked);
    return checked;
  }

  /**
   * What the daemon serves of `key`, ending only once every byte it announced came: a remote that failed mid-way
   * (rclone then cuts the answer short) is an error, said as a lost connection (retried from where it stopped).
   */
  private checkedBody(key: string, served: { body: IncomingMessage; length: number | null; stopped: () => void }) {
    let bytes = 0;
    const lost = () =>
      this.failed(
        new CommandError('rclone serve: the answer was cut short', undefined, {
          command: 'rclone rc serve',
          exitCode: null,
          signal: null,
          stderrTail: `${key}: the answer was cut short (connection lost)`,
        }),
        key,
      );
    const checked = new Transform({
      transform: (chunk: Buffer, _e: BufferEncoding, cb: TransformCallback) => {
        bytes += chunk.length;
        cb(null, chunk);
      },
      flush: (cb: TransformCallback) => cb(served.length !== null && bytes !== served.length ? lost() : null),
    });
    served.body.on('error', () => checked.destroy(lost()));
    served.body.on('aborted', () => checked.destroy(lost()));
    checked.on('close', () => {
      served.body.destroy();
      served.stopped();
    });
    served.body.pipe(checked);
    return checked;
  }

  /** `err` of reading `key` as this destination says it (a DestinationError), to be thrown or handed to a stream. */
  private failed(err: unknown, key: string): Error {
    try {
      this.fail(err, `reading ${key}`);
    } catch (e) {
      return e as Error;
    }
  }

  /**
   * `dir`'s entries down to `depth` levels (1: its own; null: all), paths relative to it: the daemon's
   * `operations/list` (what `rclone lsjson` lists) of the remote's root file system, so that one connection serves
   * every folder (an sftp remote opened at each folder would open an SSH connection for each).
   */
  private async lsjson(
    dir: string,
    depth: number | null,
  ): Promise<{ Path: string; Size: number; IsDir: boolean; ModTime?: string }[]> {
    try {
      const answer = (await this.daemon.call('operations/list', {
        fs: this.fs(),
        remote: dir,
        opt: { recurse: depth !== 1, noMimeType: true },
        // Each file's time as the remote's listing gives it (when it was written there): on an object store rclone
        // otherwise looks up every object listed for the time it keeps in the object's metadata (the local file's),
        // a request per file (a set of 100 000 files listed by verify, restore or copy: 100 000 of them).
        _config: { UseServerModTime: true, ...(depth !== null && depth > 1 ? { MaxDepth: depth } : {}) },
      })) as { list?: { Path: string; Size: number; IsDir: boolean; ModTime?: string }[] };
      const under = dir ? `${dir}/` : '';
      return (answer.list ?? []).map((e) => ({
        ...e,
        Path: e.Path.startsWith(under) ? e.Path.slice(under.length) : e.Path,
      }));
    } catch (err) {
      try {
        this.fail(err, `listing ${dir.endsWith('/') ? dir : `${dir}/`}`);
      } catch (e) {
        if (e instanceof DestinationError && e.kind === 'notFound') return [];
        throw e;
      }
    }
  }

  async missingRoot(): Promise<string | null> {
    if (!this.root()) return null; // the remote's top: always there
    try {
      await this.daemon.call('operations/list', {
        fs: this.fs(),
        remote: '',
        opt: { noMimeType: true, noModTime: true },
      });
      return null;
    } catch (err) {
      try {
        this.fail(err, 'listing its path');
      } catch (e) {
        if (e instanceof DestinationError && e.kind === 'notFound') return this.fs();
        throw e;
      }
    }
  }

  async listSets(source: string | null): Promise<{ source: string; id: string }[]> {
    const out: { source: string; id: string }[] = [];
    // Down to the manifests only: the files of every set below them are not read (a remote without a flat listing
    // is walked one folder at a time; forty sets on s3rver: 0.2 s instead of 0.9–1.9).
    for (const e of await this.lsjson(source ?? '', source ? 2 : 3)) {
      const parts = (source ? `${source}/${e.Path}` : e.Path).split('/');
      // A folder at the manifest's name lists the set too: read, it is damaged (as at a folder or sftp destination).
      if (parts.length === 3 && parts[2] === 'manifest.json' && isSetId(parts[1]!))
        out.push({ source: parts[0]!, id: parts[1]! });
    }
    return out;
  }

  async listFiles(dir: string): Promise<RemoteFile[]> {
    const files = (await this.lsjson(dir, null)).filter((e) => !e.IsDir);
    for (const e of files) this.listed.add(`${dir}/${e.Path}`);
    if (dir) this.listedDirs.add(`${dir}/`);
    return files.map((e) => {
      const at = e.ModTime ? new Date(e.ModTime) : null;
      return { path: e.Path, size: e.Size, ...(at && !isNaN(at.getTime()) ? { modifiedAt: at.toISOString() } : {}) };
    });
  }

  /**
   * `rclone rmdirs` (the daemon's): the empty folders below and at `dir`. deletefile removes files only, so on a
   * remote with folders (sftp, Drive, OneDrive) every set deleted or pruned left its folder tree behind, walked by
   * each listing after; on an object store there are none. Best effort, as for sftp: a folder left is harmless.
   */
  async removeEmptyDirs(dir: string): Promise<void> {
    await this.daemon
      .call('operations/rmdirs', { fs: this.fs(), remote: dir, leaveRoot: false })
      .catch(() => undefined);
  }

  async stat(key: string): Promise<{ size: number } | null> {
    const found = await this.entry(key);
    return found && !found.IsDir ? { size: found.Size } : null;
  }

  /** What is at `key` (a file, or a folder), or null. */
  private async entry(key: string): Promise<{ Size: number; IsDir: boolean } | null> {
    const slash = key.lastIndexOf('/');
    return (await this.lsjson(key.slice(0, slash), 1)).find((e) => e.Path === key.slice(slash + 1)) ?? null;
  }

  /** `err`, of writing `key`, as a folder in the way when one is at its name (a folder made there by hand). */
  private async failWriting(err: unknown, key: string): Promise<never> {
    if ((await this.entry(key).catch(() => null))?.IsDir) throw folderInTheWay(this.name, key, this.target(key));
    this.fail(err, `writing ${key}`);
  }

  async delete(key: string): Promise<void> {
    this.listed.delete(key);
    try {
      await this.daemon.call('operations/deletefile', { fs: this.fs(), remote: key });
    } catch (err) {
      try {
        this.fail(err, `removing ${key}`);
      } catch (e) {
        if (e instanceof DestinationError && e.kind === 'notFound') return;
        throw e;
      }
    }
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.daemon.close();
  }
}

/** A local file hashed ahead, with what it was when it was read. */
interface CheckedAhead {
  stat: BigIntStats;
  digest: { sha256: string; bytes: number };
}

/** `source` hashed ahead; stopped between two reads once the destination is closed (the copy ended or was stopped). */
async function checkAhead(source: string, size: number, closing: AbortSignal): Promise<CheckedAhead> {
  const stat = await fsp.stat(source, { bigint: true });
  return { stat, digest: await sha256OfFile(source, size, closing) };
}

/** Whether `now` is still the file `then` was: same inode, size, and modification and change times (ns). */
function sameFile(then: BigIntStats, now: BigIntStats | null): boolean {
  return (
    now !== null &&
    now.ino === then.ino &&
    now.dev === then.dev &&
    now.size === then.size &&
    now.mtimeNs === then.mtimeNs &&
    now.ctimeNs === then.ctimeNs
  );
}

export const rcloneFactory = {
  ...rcloneRules,
  async open(cfg: DestinationConfig) {
    return new RcloneDestination(cfg);
  },
} satisfies DestinationFactory;
