/**
 * An SFTP destination (ssh2-sftp-client over ssh2). Why one file of about 600 lines: the reads, writes, listings
 * and removals share the connection, its one replacement after a drop (shared by the operations that find it
 * dropped) and the mapping of the server's errors. How the bytes of a file are written is in sftp-writes.ts
 * (through ssh2's `SFTP.write`) and sftp-packets.ts (a local file read straight into ssh2's SSH packets), how they
 * are read in sftp-reads.ts (many requests in flight).
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type SftpClient from 'ssh2-sftp-client';
import { DestinationError, RespaldoError } from '../core/errors.js';
import { phrase } from '../core/phrases.js';
import { NotRegularFileError, readProblem, readRegularFileSync } from '../core/regular-file.js';
import { mapLimited } from '../engine/limited.js';
import { isSetId } from '../engine/set-id.js';
import { pipelinedRead, type RawSftpReader } from './sftp-reads.js';
import {
  DEFAULT_TIMEOUT_SECONDS,
  folderInTheWay,
  withMappedErrors,
  type Destination,
  type DestinationConfig,
  type DestinationFactory,
  type RemoteFile,
} from './destination.js';
import { sftpRules } from './rules.js';
import { isPartName, PART_MARK } from './folder.js';
import { PacketSender } from './sftp-packets.js';
import { type RawSftp, WriteBudget, WriteRefused, writeChunks, writeFileChunks } from './sftp-writes.js';

/**
 * Bytes of SFTP write requests in flight per connection, over all the files being sent on it (`fastPut` has
 * 64 × 32 KiB per file). OpenSSH's channel window is 2 MiB: what is beyond it waits (in ssh2's buffer as
 * packets already copied, or read into packets by `PacketSender`), so a budget per file (4 files, 8 MiB)
 * only held more memory, no more speed.
 */
const WRITES_IN_FLIGHT = 3 * 1024 * 1024;

/** `SHA256:…` as `ssh-keygen -lf` prints it: base64 of the key blob's SHA-256, without padding. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The pinned `hostKey` in the form `hostKeyFingerprint` gives: `ssh-keygen` prints it without base64 padding, some
 * tools with it (`SHA256:…=`); both mean the same key.
 */
function pinnedKey(cfg: DestinationConfig): string | undefined {
  return cfg.hostKey?.trim().replace(/=+$/, '');
}

/**
 * A client of ssh2-sftp-client without its global listeners' output: by default it prints "Global end
 * listener: end event raised" (stdout) and "Global error listener: …" (stderr) when a connection ends,
 * which would break `--json` output. A dropped connection is handled by every operation (SftpDestination.gone).
 */
async function newClient(name: string): Promise<SftpClient> {
  const { default: Client } = await import('ssh2-sftp-client');
  const quiet = () => undefined;
  const client = new Client(`respaldo-${name}`, { error: quiet, end: quiet, close: quiet });
  // Each operation in flight adds its own end, close and error listener to the connection (ssh2-sftp-client's
  // addTempListeners), beside the global ones and SftpDestination.gone's: past Node's default of 10, a restore with
  // "parallel" above 8 printed "MaxListenersExceededWarning: Possible EventEmitter memory leak" to the operator.
  // Up to 32 files at once ("parallel"), each with a stat and its read or write.
  (client as unknown as { client: EventEmitter }).client.setMaxListeners(MAX_LISTENERS);
  return client;
}

/** Listeners per event on one connection: see newClient. */
const MAX_LISTENERS = 100;

/** How long close() waits for the server to close its side before cutting the connection (a healthy one: ms). */
const CLOSE_GRACE_MS = 1000;

/**
 * An SFTP server (ssh2-sftp-client): key or password authentication, the server's host key pinned
 * by `hostKey` (an unknown or changed key is refused, naming the fingerprint seen). Each file is
 * written under a temporary name in its folder and renamed (posix-rename) once complete.
 */
export class SftpDestination implements Destination {
  readonly type = 'sftp' as const;
  private seenKey: string | null = null;
  /** Whether the root folder (`path`) was seen on the server (rootExists). */
  private rootSeen = false;
  /** Folders known to exist; mkdirs run one at a time (parallel recursive mkdirs race on the server). */
  private readonly made = new Set<string>();
  private mkdirChain: Promise<unknown> = Promise.resolve();
  /** Of the current connection (a new one gets its own: answers on a dropped one never come). */
  private writes = new WriteBudget();
  /** Of the current connection, made on first use (see `sender`). */
  private packets: PacketSender | null | undefined;

  private constructor(
    private readonly cfg: DestinationConfig,
    private client: SftpClient,
  ) {}

  /** Set when the connection dropped: the next operation (a retry) connects again. */
  private broken = false;
  /**
   * Rejects when this connection closes or fails. Every operation races it: ssh2-sftp-client keeps one
   * "event handled" flag per client, so when the connection drops under several operations at once only
   * the first is rejected and the others would wait forever (the process then ended with nothing said).
   */
  private gone: Promise<never> = new Promise(() => undefined);
  /** Streams being read on this connection: failed with it, so that no reader waits forever either. */
  private readonly reading = new Set<Readable>();

  private guard<T>(op: Promise<T>): Promise<T> {
    return Promise.race([op, this.gone]);
  }

  private watchConnection(): void {
    this.gone = new Promise<never>((_, reject) => {
      const lost = (err?: Error) => reject(err instanceof Error ? err : new Error('Connection lost'));
      this.client.on('error', lost);
      this.client.on('end', () => lost());
      this.client.on('close', () => lost());
    });
    this.gone.catch((err: unknown) => {
      // also rejects on our own end(): only what is in flight cares
      for (const stream of this.reading) stream.destroy(err as Error);
    });
  }

  /** The reconnection under way: the operations that found the connection dropped (several files at once) share it. */
  private reconnecting: Promise<void> | null = null;

  private async ready(): Promise<void> {
    if (!this.broken) return;
    this.reconnecting ??= (async () => {
      try {
        await this.client.end().catch(() => undefined);
        this.client = await newClient(this.cfg.name);
        this.made.clear();
        this.writes = new WriteBudget();
        this.packets = undefined;
        await this.open();
        this.broken = false; // only once connected: an operation arriving meanwhile waits for it above
      } finally {
        this.reconnecting = null;
      }
    })();
    return this.reconnecting;
  }

  get name(): string {
    return this.cfg.name;
  }

  describe(): string {
    return `sftp://${this.cfg.user}@${this.cfg.host}:${this.cfg.port ?? 22}${this.root()}`;
  }

  private root(): string {
    return posix.normalize(this.cfg.path ?? '.');
  }

  private abs(key: string): string {
    return posix.join(this.root(), key);
  }

  /** Connects, checking the host key against `hostKey`. */
  static async connect(cfg: DestinationConfig): Promise<SftpDestination> {
    const dest = new SftpDestination(cfg, await newClient(cfg.name));
    await dest.open();
    return dest;
  }

  private async open(): Promise<void> {
    const cfg = this.cfg;
    let privateKey: Buffer | undefined;
    if (cfg.privateKey) {
      try {
        privateKey = readRegularFileSync(cfg.privateKey);
      } catch (err) {
        throw new DestinationError(
          this.name,
          `cannot read the private key ${cfg.privateKey} (${readProblem(err)})`,
          err instanceof NotRegularFileError
            ? 'Point "privateKey" at the private key file itself (nothing was read from what is there); nothing was changed.'
            : 'Fix "privateKey" (a path) or its permissions.',
        );
      }
    }
    const timeoutMs = (cfg.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
    try {
      await this.client.connect({
        host: cfg.host!,
        port: cfg.port ?? 22,
        username: cfg.user!,
        ...(privateKey ? { privateKey } : {}),
        ...(cfg.passphrase ? { passphrase: cfg.passphrase } : {}),
        ...(cfg.password ? { password: cfg.password } : {}),
        // A server that stops answering (frozen, a dead link with no reset): the handshake is limited, and
        // once connected a keepalive every third of timeoutSeconds, two unanswered, ends the connection
        // (what is in flight fails, then is retried). Any answer resets it: a transfer that moves never ends.
        readyTimeout: cfg.timeoutSeconds ? timeoutMs : 15_000,
        keepaliveInterval: Math.max(1000, Math.round(timeoutMs / 3)),
        keepaliveCountMax: 2,
        retries: 0,
        hostVerifier: (key: Buffer) => {
          this.seenKey = hostKeyFingerprint(key);
          return this.seenKey === pinnedKey(cfg);
        },
      } as SftpClient.ConnectOptions);
    } catch (err) {
      await this.client.end().catch(() => undefined);
      this.fail(err, 'connecting');
    }
    this.watchConnection();
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
    if (err instanceof RespaldoError) throw err; // a DestinationError, or the engine's check of what was sent
    const e = err as { message?: string; code?: string | number };
    const msg = e.message ?? String(err);
    const where = `${this.cfg.host}:${this.cfg.port ?? 22}`;
    if (this.seenKey && this.seenKey !== pinnedKey(this.cfg)) {
      throw new DestinationError(
        this.name,
        `the SSH server at ${where} presented host key ${this.seenKey}, ${this.cfg.hostKey ? `not the pinned ${this.cfg.hostKey}` : 'and no "hostKey" is pinned'}; refused`,
        `If you trust this server (check with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` on it), set "hostKey": "${this.seenKey}" in this destination.`,
      );
    }
    // ssh2 parses "privateKey" when it connects: a file that is no OpenSSH private key (the .pub, an age key) or
    // one protected by a passphrase that "passphrase" does not give is said as that file, not as the settings.
    if (
      /Cannot parse privateKey|privateKey value does not contain|private (OpenSSH |PPK )?key detected, but no passphrase|Bad passphrase/i.test(
        msg,
      )
    ) {
      const locked = /no passphrase given|Bad passphrase/i.test(msg);
      throw new DestinationError(
        this.name,
        `${doing}: cannot use the private key ${this.cfg.privateKey ?? ''} (${msg})`,
        locked
          ? 'The key is protected by a passphrase: give it in "passphrase" (from ${VAR}) in this destination, or check that value.'
          : 'Point "privateKey" at the OpenSSH private key the server authorizes (the file ssh-keygen wrote, not its .pub).',
      );
    }
    if (/authentication|auth methods|All configured/i.test(msg)) {
      throw new DestinationError(
        this.name,
        `${doing}: the SSH server at ${where} refused the login of "${this.cfg.user}"`,
        'Check "user" and "privateKey" or "password" (its ${VAR} value), and the server\'s authorized_keys.',
      );
    }
    if (
      /ECONNREFUSED|ECONNRESET|ECONNABORTED|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Timed out|No SFTP connection|Not connected|No response from server|socket|closed|ended|end event|close event|Connection lost|Keepalive timeout/i.test(
        msg,
      )
    ) {
      this.broken = true;
      throw new DestinationError(
        this.name,
        `${doing}: ${where} is unreachable or closed the connection (${msg})`,
        'Check the network and the SSH server, then run the command again.',
        { transient: true },
      ).withPhrases(
        phrase('dest.unreachable', { dest: this.name, doing, where, detail: msg }),
        phrase('dest.unreachableHint', { server: 'ssh' }),
      );
    }
    if (/No such file|ENOENT/i.test(msg) || e.code === 2) {
      throw new DestinationError(
        this.name,
        `${doing}: not found at ${this.describe()}`,
        `Run \`respaldo list --from ${this.name}\` to see what the destination holds.`,
        { kind: 'notFound' },
      );
    }
    if (/Permission denied|EACCES/i.test(msg) || e.code === 3) {
      throw new DestinationError(
        this.name,
        `${doing}: permission denied at ${this.describe()} (${msg})`,
        `Let "${this.cfg.user}" write ${this.root()} on the server.`,
      );
    }
    throw new DestinationError(this.name, `${doing}: ${msg}`, "Check the destination's settings in the config.");
  }

  put(key: string, body: Readable, size: number, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.putChunks(key, body, size, opts).catch((err: unknown) => {
      body.destroy();
      throw err;
    });
  }

  /**
   * Each chunk is cut into SFTP write requests, which copy it into their packets at once (see
   * `Destination.putChunks`); up to WRITES_IN_FLIGHT bytes of requests are in flight on the connection,
   * as `fastPut` does, rather than one request at a time as a write stream does.
   */
  async putChunks(
    key: string,
    chunks: AsyncIterable<Buffer>,
    size: number,
    opts: { signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.place(key, async (handle) => {
      await writeChunks(this.raw(), this.socket(), handle, chunks, this.writes, WRITES_IN_FLIGHT, opts.signal);
      return size;
    });
  }

  /**
   * The local file read straight into the SSH packets of the write requests and hashed there
   * (`PacketSender`), or, when ssh2's internals are not the ones it knows, read into one buffer and
   * written as `putChunks` does. `check` sees the SHA-256 and length of what was sent before the file
   * is put in place (see `Destination.putFile`).
   */
  async putFile(
    key: string,
    source: string,
    _size: number,
    opts: { check: (sha256: string, bytes: number) => void; signal?: AbortSignal },
  ): Promise<void> {
    await this.place(key, async (handle) => {
      const sender = this.sender();
      const sent = sender
        ? await sender.writeFile(handle, source, this.writes, WRITES_IN_FLIGHT, opts.signal)
        : await writeFileChunks(this.raw(), this.socket(), handle, source, this.writes, WRITES_IN_FLIGHT, opts.signal);
      opts.check(sent.sha256, sent.bytes);
      return sent.bytes;
    });
  }

  /**
   * Writes a new file (0600) under a temporary name beside `key` with `write`, which resolves with the
   * number of bytes it wrote once all were answered; renames it to `key` once the server holds that many.
   * When anything fails the temporary file is removed and `key` left as it was; a RespaldoError thrown by
   * `write` (the engine's check) is thrown as is.
   */
  private async place(key: string, write: (handle: Buffer) => Promise<number>): Promise<void> {
    await this.ready();
    const target = this.abs(key);
    const tmp = posix.join(posix.dirname(target), `${PART_MARK}${process.pid}-${Math.random().toString(36).slice(2)}`);
    try {
      await this.ensureDir(posix.dirname(target));
      const sftp = this.raw();
      const handle = await this.guard(
        new Promise<Buffer>((resolve, reject) =>
          sftp.open(tmp, 'w', { mode: 0o600 }, (err, h) => (err ? reject(err) : resolve(h))),
        ),
      );
      let size: number;
      try {
        size = await this.guard(write(handle));
      } finally {
        await this.guard(new Promise<void>((resolve) => sftp.close(handle, () => resolve()))).catch(() => undefined);
      }
      // OpenSSH's server can drop writes it could not do (a full disk) without the upload failing:
      // a file of another size than was sent is never renamed into place.
      const written = (await this.guard(this.client.stat(tmp))).size;
      if (written !== size) {
        throw this.couldNotWrite(key, `${written} of ${size} bytes written`);
      }
      try {
        await this.guard(this.client.posixRename(tmp, target));
      } catch (err) {
        // A folder at the file's name (made by hand there): OpenSSH says a bare "Failure".
        if ((await this.guard(this.client.exists(target)).catch(() => false)) === 'd')
          throw folderInTheWay(this.name, key, `${target} on ${this.describe()}`);
        throw err;
      }
    } catch (err) {
      await this.guard(this.client.delete(tmp, true)).catch(() => undefined);
      this.made.delete(posix.dirname(target)); // removed meanwhile (another copy's removeEmptyDirs): looked at again
      // OpenSSH answers a write it cannot do (a full disk) with a bare "Failure"
      if (err instanceof WriteRefused) throw this.couldNotWrite(key, `it answered "${err.message}"`);
      this.fail(err, `writing ${key}`);
    }
  }

  private raw(): RawSftp {
    return (this.client as unknown as { sftp: RawSftp }).sftp;
  }

  private socket(): Socket | undefined {
    return (this.client as unknown as { client?: { _sock?: Socket } }).client?._sock;
  }

  /**
   * Whether files were read straight into the SSH packets (null: no file sent yet). False means this ssh2 is
   * not the version whose internals respaldo drives: the copy went through ssh2's own writes, slower (twice
   * the CPU, more memory) and as exact; `respaldo copy` says so.
   */
  get directWrites(): boolean | null {
    return this.packets === undefined ? null : this.packets !== null;
  }

  /** The packet sender of this connection, made on first use; null when ssh2 cannot be driven so. */
  private sender(): PacketSender | null {
    if (this.packets === undefined) this.packets = PacketSender.of(this.raw(), this.socket());
    return this.packets;
  }

  private couldNotWrite(key: string, detail: string): DestinationError {
    return new DestinationError(
      this.name,
      `writing ${key}: the server could not write it (disk full or quota?): ${detail}`,
      `Free space on the server (or remove old sets there: \`respaldo prune --from ${this.name}\`), then run \`respaldo copy\` again.`,
    );
  }

  /**
   * Makes `dir` (below the root) one level at a time, each folder 0700 like a folder destination's: whoever else has
   * a login there reads no manifest. The root (`path`) must exist, as a folder destination's must: a mistyped or
   * unmounted path is an error, never a tree made under it. A folder another copy made meanwhile is fine.
   */
  private ensureDir(dir: string): Promise<void> {
    const run = async () => {
      if (this.made.has(dir)) return;
      await this.rootExists(`writing ${posix.relative(this.root(), dir) || '.'}`);
      const root = this.root();
      const levels = posix.relative(root, dir).split('/').filter(Boolean);
      let at = root;
      for (const level of levels) {
        at = posix.join(at, level);
        if (this.made.has(at)) continue;
        if (!(await this.guard(this.client.exists(at)))) {
          try {
            await this.guard(this.client.mkdir(at, false));
            await this.guard(this.client.chmod(at, 0o700));
          } catch (err) {
            // Another copy of this destination (another process) made it between the look and the mkdir.
            if (!(await this.guard(this.client.exists(at)))) throw err;
          }
        }
        this.made.add(at);
      }
      this.made.add(dir);
    };
    const p = this.mkdirChain.then(run, run);
    this.mkdirChain = p.catch(() => undefined);
    return p;
  }

  async get(key: string, opts: { offset?: number } = {}): Promise<Readable> {
    await this.ready();
    try {
      const { size, isFile, isDirectory } = await this.guard(this.client.stat(this.abs(key)));
      // A FIFO there blocked the server's open, and the read, for ever; a folder was a bare "Failure".
      const what = isDirectory ? 'a folder' : 'a FIFO, socket or device';
      if (!isFile)
        throw new DestinationError(
          this.name,
          `reading ${key}: not a file (${what})`,
          `respaldo writes only files there: check who put it at ${this.abs(key)} on ${this.describe()}.`,
          { kind: 'notFound', notAFile: what },
        );
      const reader = this.raw() as unknown as RawSftpReader;
      const stream = pipelinedRead(reader, this.abs(key), size, opts.offset ?? 0);
      this.reading.add(stream);
      stream.once('close', () => this.reading.delete(stream));
      return withMappedErrors(stream, (err) => this.errorOf(err, `reading ${key}`));
    } catch (err) {
      this.fail(err, `reading ${key}`);
    }
  }

  private async entries(dir: string): Promise<SftpClient.FileInfo[]> {
    try {
      return await this.guard(this.client.list(dir));
    } catch (err) {
      const listing = `listing ${dir.endsWith('/') ? dir : `${dir}/`}`;
      // A folder of no set yet is empty; under a root that is not there (a typo, a disk not mounted) it is an error:
      // it read as an empty destination, exit 0, on the day a restore needed it.
      if (/No such file/i.test((err as Error).message) && dir !== this.root()) {
        await this.rootExists(listing);
        return [];
      }
      this.fail(err, listing);
    }
  }

  /** Throws a DestinationError (not found, exit 7) naming `path` when the root folder is not on the server. */
  private async rootExists(doing: string): Promise<void> {
    if (this.rootSeen) return;
    const kind = await this.guard(this.client.exists(this.root()));
    if (kind !== 'd')
      throw new DestinationError(
        this.name,
        `${doing}: ${this.root()} ${kind ? 'is not a folder' : 'does not exist'} on ${this.describe()} (a typo in "path", or a disk not mounted?)`,
        `Check "path" of destination "${this.name}" and that its disk is mounted on the server; respaldo never creates it.`,
      ).withPhrases(phrase(kind ? 'dest.notAFolder' : 'dest.notMounted', { dest: this.name, path: this.root() }));
    this.rootSeen = true;
  }

  async listSets(source: string | null): Promise<{ source: string; id: string }[]> {
    await this.ready();
    const sources = source
      ? [source]
      : (await this.entries(this.root())).filter((e) => e.type === 'd' && !e.name.startsWith('.')).map((e) => e.name);
    const found: { source: string; id: string }[] = [];
    for (const s of sources)
      for (const e of await this.entries(posix.join(this.root(), s)))
        if (e.type === 'd' && isSetId(e.name)) found.push({ source: s, id: e.name });
    // A round trip per set: several at once.
    // A manifest that is no file (a folder made in its place) is listed too: read, it makes the set damaged.
    const complete = await mapLimited(found, 8, (f) => this.present(`${f.source}/${f.id}/manifest.json`));
    return found.filter((_, i) => complete[i]);
  }

  async listFiles(dir: string, opts: { temps?: boolean } = {}): Promise<RemoteFile[]> {
    await this.ready();
    const out: RemoteFile[] = [];
    const walk = async (rel: string): Promise<void> => {
      for (const e of await this.entries(posix.join(this.abs(dir), rel))) {
        const p = rel ? `${rel}/${e.name}` : e.name;
        if (e.type === 'd') await walk(p);
        else if (e.type === '-' && (opts.temps || !isPartName(e.name))) {
          const temp = isPartName(e.name);
          out.push({
            path: p,
            size: e.size,
            modifiedAt: new Date(e.modifyTime).toISOString(),
            ...(temp ? { temp } : {}),
          });
        }
      }
    };
    await walk('');
    return out;
  }

  /** Whether anything is at `key` (a file, a folder, a FIFO…). */
  private async present(key: string): Promise<boolean> {
    await this.ready();
    try {
      await this.guard(this.client.stat(this.abs(key)));
      return true;
    } catch (err) {
      if (/No such file/i.test((err as Error).message)) return false;
      this.fail(err, `reading ${key}`);
    }
  }

  async stat(key: string): Promise<{ size: number } | null> {
    await this.ready();
    try {
      const st = await this.guard(this.client.stat(this.abs(key)));
      return st.isFile ? { size: st.size } : null;
    } catch (err) {
      if (/No such file/i.test((err as Error).message)) return null;
      this.fail(err, `reading ${key}`);
    }
  }

  async delete(key: string): Promise<void> {
    await this.ready();
    try {
      await this.guard(this.client.delete(this.abs(key), true));
    } catch (err) {
      // A folder at the file's name (made by hand there: a keep mark's, say): OpenSSH says a bare "Failure"
      if ((await this.guard(this.client.exists(this.abs(key))).catch(() => false)) === 'd')
        throw folderInTheWay(this.name, key, `${this.abs(key)} on ${this.describe()}`, true);
      this.fail(err, `removing ${key}`);
    }
  }

  async removeEmptyDirs(dir: string): Promise<void> {
    await this.ready();
    const walk = async (abs: string): Promise<void> => {
      for (const e of await this.guard(this.client.list(abs)).catch(() => []))
        if (e.type === 'd') await walk(posix.join(abs, e.name));
      await this.guard(this.client.rmdir(abs)).catch(() => undefined); // fails while not empty
    };
    await walk(this.abs(dir));
    for (const d of [...this.made]) if (d === this.abs(dir) || d.startsWith(`${this.abs(dir)}/`)) this.made.delete(d);
  }

  /**
   * Ends the connection. A server that answers nothing (frozen, a dead link with no reset) never closes its side,
   * which ending waits for: after CLOSE_GRACE_MS the connection is cut. An interrupted restore closes its destination
   * on the way out, and waited (Ctrl-C, or a dropped SSH session) until such a server answered again.
   */
  async close(): Promise<void> {
    const sock = this.socket();
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        sock?.destroy();
        resolve();
      }, CLOSE_GRACE_MS);
    });
    await Promise.race([this.client.end().catch(() => undefined), cut]);
    clearTimeout(timer);
  }
}

export const sftpFactory = {
  ...sftpRules,
  open: (cfg: DestinationConfig) => SftpDestination.connect(cfg),
} satisfies DestinationFactory;
