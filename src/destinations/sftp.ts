/**
 * An SFTP destination (ssh2-sftp-client over ssh2). Why one file of about 450 lines: the writes, listings and
 * removals share the connection, its replacement after a drop and the mapping of the server's errors.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type SftpClient from 'ssh2-sftp-client';
import { DestinationError } from '../core/errors.js';
import { isSetId } from '../engine/set-id.js';
import type { Destination, DestinationConfig, DestinationFactory, RemoteFile } from './destination.js';
import { sftpRules } from './rules.js';
import { PART_MARK } from './folder.js';

/**
 * Bytes of SFTP write requests in flight per connection, over all the files being sent on it (`fastPut` has
 * 64 × 32 KiB per file). OpenSSH's channel window is 2 MiB: what is beyond it waits in ssh2's buffer as
 * packets already copied, so a budget per file (4 files, 8 MiB) only held more memory, no more speed.
 */
const WRITES_IN_FLIGHT = 3 * 1024 * 1024;

/** The write requests in flight on one connection, and the writers waiting for room. */
class WriteBudget {
  inFlight = 0;
  private readonly waiting = new Set<() => void>();
  /** Resolves once a request in flight has been answered (or at once when none is). */
  settled(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiting.add(resolve));
  }
  answered(n: number): void {
    this.inFlight -= n;
    const wake = [...this.waiting];
    this.waiting.clear();
    for (const w of wake) w();
  }
}

/** A write request the server refused (its status message). */
class WriteRefused extends Error {}

/** The calls of ssh2's SFTP session used to write a file (ssh2-sftp-client's `sftp`). */
interface RawSftp {
  _maxWriteLen?: number;
  open(
    path: string,
    flags: string,
    attrs: { mode: number },
    cb: (err: Error | undefined, handle: Buffer) => void,
  ): void;
  write(handle: Buffer, buf: Buffer, off: number, len: number, position: number, cb: (err?: Error) => void): void;
  close(handle: Buffer, cb: (err?: Error) => void): void;
}

/** `SHA256:…` as `ssh-keygen -lf` prints it: base64 of the key blob's SHA-256, without padding. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/**
 * A client of ssh2-sftp-client without its global listeners' output: by default it prints "Global end
 * listener: end event raised" (stdout) and "Global error listener: …" (stderr) when a connection ends,
 * which would break `--json` output. A dropped connection is handled by every operation (SftpDestination.gone).
 */
async function newClient(name: string): Promise<SftpClient> {
  const { default: Client } = await import('ssh2-sftp-client');
  const quiet = () => undefined;
  return new Client(`respaldo-${name}`, { error: quiet, end: quiet, close: quiet });
}

/**
 * An SFTP server (ssh2-sftp-client): key or password authentication, the server's host key pinned
 * by `hostKey` (an unknown or changed key is refused, naming the fingerprint seen). Each file is
 * written under a temporary name in its folder and renamed (posix-rename) once complete.
 */
export class SftpDestination implements Destination {
  readonly type = 'sftp' as const;
  private seenKey: string | null = null;
  /** Folders known to exist; mkdirs run one at a time (parallel recursive mkdirs race on the server). */
  private readonly made = new Set<string>();
  private mkdirChain: Promise<unknown> = Promise.resolve();
  /** Of the current connection (a new one gets its own: answers on a dropped one never come). */
  private writes = new WriteBudget();

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

  private async ready(): Promise<void> {
    if (!this.broken) return;
    await this.client.end().catch(() => undefined);
    this.client = await newClient(this.cfg.name);
    this.made.clear();
    this.writes = new WriteBudget();
    this.broken = false;
    await this.open();
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
        privateKey = readFileSync(cfg.privateKey);
      } catch (err) {
        throw new DestinationError(
          this.name,
          `cannot read the private key ${cfg.privateKey} (${(err as NodeJS.ErrnoException).code})`,
          'Fix "privateKey" (a path) or its permissions.',
        );
      }
    }
    try {
      await this.client.connect({
        host: cfg.host!,
        port: cfg.port ?? 22,
        username: cfg.user!,
        ...(privateKey ? { privateKey } : {}),
        ...(cfg.passphrase ? { passphrase: cfg.passphrase } : {}),
        ...(cfg.password ? { password: cfg.password } : {}),
        readyTimeout: 15_000,
        retries: 0,
        hostVerifier: (key: Buffer) => {
          this.seenKey = hostKeyFingerprint(key);
          return this.seenKey === cfg.hostKey;
        },
      } as SftpClient.ConnectOptions);
    } catch (err) {
      await this.client.end().catch(() => undefined);
      this.fail(err, 'connecting');
    }
    this.watchConnection();
  }

  private fail(err: unknown, doing: string): never {
    if (err instanceof DestinationError) throw err;
    const e = err as { message?: string; code?: string | number };
    const msg = e.message ?? String(err);
    const where = `${this.cfg.host}:${this.cfg.port ?? 22}`;
    if (this.seenKey && this.seenKey !== this.cfg.hostKey) {
      throw new DestinationError(
        this.name,
        `the SSH server at ${where} presented host key ${this.seenKey}, ${this.cfg.hostKey ? `not the pinned ${this.cfg.hostKey}` : 'and no "hostKey" is pinned'}; refused`,
        `If you trust this server (check with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` on it), set "hostKey": "${this.seenKey}" in this destination.`,
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
      /ECONNREFUSED|ECONNRESET|ECONNABORTED|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Timed out|No SFTP connection|Not connected|socket|closed|ended|end event|close event|Connection lost/i.test(
        msg,
      )
    ) {
      this.broken = true;
      throw new DestinationError(
        this.name,
        `${doing}: ${where} is unreachable or closed the connection (${msg})`,
        'Check the network and the SSH server, then run `respaldo copy` again; what was sent is kept.',
        { transient: true },
      );
    }
    if (/No such file|ENOENT/i.test(msg) || e.code === 2) {
      throw new DestinationError(
        this.name,
        `${doing}: not found at ${this.describe()}`,
        'Run `respaldo list --from NAME` to see what the destination holds.',
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
    await this.ready();
    const target = this.abs(key);
    const tmp = posix.join(posix.dirname(target), `${PART_MARK}${process.pid}-${Math.random().toString(36).slice(2)}`);
    try {
      await this.ensureDir(posix.dirname(target));
      await this.guard(this.writeChunks(tmp, chunks, opts.signal));
      // OpenSSH's server can drop writes it could not do (a full disk) without the upload failing:
      // a file of another size than was sent is never renamed into place.
      const written = (await this.guard(this.client.stat(tmp))).size;
      if (written !== size) {
        throw this.couldNotWrite(key, `${written} of ${size} bytes written`);
      }
      await this.guard(this.client.posixRename(tmp, target));
    } catch (err) {
      await this.guard(this.client.delete(tmp, true)).catch(() => undefined);
      // OpenSSH answers a write it cannot do (a full disk) with a bare "Failure"
      if (err instanceof WriteRefused) throw this.couldNotWrite(key, `it answered "${err.message}"`);
      this.fail(err, `writing ${key}`);
    }
  }

  private couldNotWrite(key: string, detail: string): DestinationError {
    return new DestinationError(
      this.name,
      `writing ${key}: the server could not write it (disk full or quota?): ${detail}`,
      `Free space on the server (or remove old sets there: \`respaldo prune --from ${this.name}\`), then run \`respaldo copy\` again.`,
    );
  }

  /** Writes `chunks` to a new file at `path` (0600) with many write requests in flight. */
  private async writeChunks(path: string, chunks: AsyncIterable<Buffer>, signal?: AbortSignal): Promise<void> {
    const sftp = (this.client as unknown as { sftp: RawSftp }).sftp;
    const handle = await new Promise<Buffer>((resolve, reject) =>
      sftp.open(path, 'w', { mode: 0o600 }, (err, h) => (err ? reject(err) : resolve(h))),
    );
    // never more than one request can carry: a longer write would read the chunk again later
    const piece = Math.min(sftp._maxWriteLen ?? 16 * 1024, 256 * 1024);
    const budget = this.writes;
    // The requests issued together leave in one socket write, not one per SSH packet (32 KiB): never
    // corked across an await, so that nothing waits in the socket for an answer that depends on it.
    const sock = (this.client as unknown as { client?: { _sock?: Socket } }).client?._sock;
    let mine = 0; // this file's requests in flight
    let failed: Error | undefined;
    try {
      let position = 0;
      for await (const chunk of chunks) {
        signal?.throwIfAborted();
        for (let at = 0; at < chunk.length;) {
          while (budget.inFlight >= WRITES_IN_FLIGHT && !failed) await budget.settled();
          if (failed) throw failed;
          sock?.cork();
          for (; at < chunk.length && budget.inFlight < WRITES_IN_FLIGHT; at += piece) {
            const n = Math.min(piece, chunk.length - at);
            budget.inFlight += n;
            mine += n;
            sftp.write(handle, chunk, at, n, position, (err) => {
              mine -= n;
              // status 4 (SSH_FX_FAILURE) is the server's answer; others (a lost connection) go to fail()
              if (err) failed ??= (err as { code?: unknown }).code === 4 ? new WriteRefused(err.message) : err;
              budget.answered(n);
            });
            position += n;
          }
          sock?.uncork();
        }
      }
      while (mine > 0 && !failed) await budget.settled();
      if (failed) throw failed;
    } finally {
      await new Promise<void>((resolve) => sftp.close(handle, () => resolve()));
    }
  }

  private ensureDir(dir: string): Promise<void> {
    const run = async () => {
      if (this.made.has(dir)) return;
      if (!(await this.guard(this.client.exists(dir)))) await this.guard(this.client.mkdir(dir, true));
      this.made.add(dir);
    };
    const p = this.mkdirChain.then(run, run);
    this.mkdirChain = p.catch(() => undefined);
    return p;
  }

  async get(key: string): Promise<Readable> {
    await this.ready();
    try {
      await this.guard(this.client.stat(this.abs(key)));
      const stream = this.client.createReadStream(this.abs(key), {}) as unknown as Readable;
      this.reading.add(stream);
      stream.once('close', () => this.reading.delete(stream));
      return stream;
    } catch (err) {
      this.fail(err, `reading ${key}`);
    }
  }

  private async entries(dir: string): Promise<SftpClient.FileInfo[]> {
    try {
      return await this.guard(this.client.list(dir));
    } catch (err) {
      if (/No such file/i.test((err as Error).message) && dir !== this.root()) return [];
      this.fail(err, `listing ${dir}`);
    }
  }

  async listSets(source: string | null): Promise<{ source: string; id: string }[]> {
    await this.ready();
    const sources = source
      ? [source]
      : (await this.entries(this.root())).filter((e) => e.type === 'd' && !e.name.startsWith('.')).map((e) => e.name);
    const out: { source: string; id: string }[] = [];
    for (const s of sources) {
      for (const e of await this.entries(posix.join(this.root(), s))) {
        if (e.type === 'd' && isSetId(e.name) && (await this.stat(`${s}/${e.name}/manifest.json`)))
          out.push({ source: s, id: e.name });
      }
    }
    return out;
  }

  async listFiles(dir: string, opts: { temps?: boolean } = {}): Promise<RemoteFile[]> {
    await this.ready();
    const out: RemoteFile[] = [];
    const walk = async (rel: string): Promise<void> => {
      for (const e of await this.entries(posix.join(this.abs(dir), rel))) {
        const p = rel ? `${rel}/${e.name}` : e.name;
        if (e.type === 'd') await walk(p);
        else if (e.type === '-' && (opts.temps || !e.name.startsWith(PART_MARK))) {
          const temp = e.name.startsWith(PART_MARK);
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

  async stat(key: string): Promise<{ size: number } | null> {
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
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

export const sftpFactory = {
  ...sftpRules,
  open: (cfg: DestinationConfig) => SftpDestination.connect(cfg),
} satisfies DestinationFactory;
