import { PassThrough, type Readable } from 'node:stream';
import { DestinationError } from '../core/errors.js';
import { english, phrase } from '../core/phrases.js';
import type { ManualRetention, RetentionPolicy } from '../core/types.js';
import { isSetId } from '../engine/set-id.js';

/**
 * The destination contract: a place outside backupDir that holds copies of backup sets.
 *
 * Every method works on keys relative to the destination's root (its `path` or `prefix`):
 * `<source>/<set id>/<stored path>`, where `<stored path>` is a path of the set's manifest
 * (`manifest.json`, `databases/users_….sqlite.zst`, …). Keys are built by the engine
 * (src/engine/copy.ts) from validated set ids, source names and manifest paths; a destination
 * never sees anything else. A destination holds no secret in its messages or errors.
 * Errors the operator can fix (unreachable, wrong credentials, unknown host key, permission) are
 * RespaldoErrors (`DestinationError`); `transient` on an error says a retry may succeed.
 */
export interface Destination {
  readonly name: string;
  readonly type: DestinationType;
  /** Where this destination is, for messages and `list --from`: `s3://bucket/prefix`, `/mnt/nas/…`. */
  describe(): string;
  /**
   * Streams `body` (exactly `size` bytes) to `key`. The file appears under `key` only once it is
   * complete: written under a temporary name then renamed (folder, sftp), or committed whole by the
   * store (S3 multipart uploads, rclone rcat). An existing file under `key` is replaced.
   * `sha256` (hex) is the file's SHA-256 when known: stores that check checksums are given it.
   */
  put(key: string, body: Readable, size: number, opts?: { sha256?: string; signal?: AbortSignal }): Promise<void>;
  /**
   * `put` from chunks each valid only until the next is asked for: the engine reads a local file into
   * one buffer it reuses, so that sending it leaves no garbage behind (without this, V8 lets about 64 MiB
   * of read buffers pile up before collecting them). Destinations that are done with a chunk when they
   * ask for the next one (written, or copied into a part) offer it; the others get `put`.
   */
  putChunks?(
    key: string,
    chunks: AsyncIterable<Buffer>,
    size: number,
    opts?: { sha256?: string; signal?: AbortSignal },
  ): Promise<void>;
  /**
   * `put` of the local file at `source` (`size` bytes when the engine listed it) by a destination that can
   * read it itself: straight into its part buffers (S3), or copying it in the kernel (folder). `check` is
   * given the SHA-256 (hex) and length of the bytes sent (folder: read back from the copy) before the file
   * is put in place or the upload completed; when `check` throws, nothing is put in place and its error is
   * thrown. A local file that does not match its manifest thus never appears at the destination.
   */
  putFile?(
    key: string,
    source: string,
    size: number,
    opts: { check: (sha256: string, bytes: number) => void; sha256?: string; signal?: AbortSignal },
  ): Promise<void>;
  /**
   * A hint given before the destination is listed: the local files `putFile` will likely be asked to send (a set
   * not copied there yet). A destination that checks each file before it sends it (rclone) may check them now, while
   * it starts and lists; nothing is sent or written. `putFile` checks each file all the same.
   */
  expectFiles?(files: { source: string; size: number }[]): void;
  /**
   * Streams the file at `key`, from byte `offset` when given (a read that failed in the middle is resumed there).
   * Throws a DestinationError (`notFound`) when it does not exist.
   */
  get(key: string, opts?: { signal?: AbortSignal; offset?: number }): Promise<Readable>;
  /**
   * Sets whose manifest is present: under `<source>/` for the given source, under every source when
   * `source` is null. Sets without their manifest (a copy in progress or cut short) are not listed; a set with
   * something else than a file at its manifest's name (a folder) is, so that reading it names it damaged.
   */
  listSets(source: string | null): Promise<{ source: string; id: string }[]>;
  /**
   * Every file below `dir` (a `<source>` or `<source>/<set id>` key), as paths relative to it with
   * their sizes and, where the destination tells, when they were last written. Files being written
   * (under the destination's temporary names) are left out, unless `temps`: then they are listed too,
   * marked `temp` (only folder and sftp write under temporary names; S3 multipart uploads and rclone
   * have none to list).
   */
  listFiles(dir: string, opts?: { temps?: boolean }): Promise<RemoteFile[]>;
  /** Size of the file at `key`, or null when it does not exist. */
  stat(key: string): Promise<{ size: number } | null>;
  /** Removes the file at `key`; removing a file that does not exist is not an error. */
  delete(key: string): Promise<void>;
  /**
   * The destination's own folder (`remote:path`) when it does not exist there, else null. Where a missing folder
   * lists like an empty one (rclone), so that a mistyped `path` is said to be one (`list --from`) and the copy that
   * creates it says so. Destinations that say a missing folder themselves (folder, sftp) have none.
   */
  missingRoot?(): Promise<string | null>;
  /**
   * Multipart uploads started below `dir` and never completed nor aborted (S3: a run killed in the middle
   * of an upload leaves its parts, which the store keeps and bills). null when the store cannot list
   * them (s3rver). Destinations without such uploads leave this out.
   */
  listUploads?(dir: string): Promise<PendingUpload[] | null>;
  /** Aborts an upload `listUploads` returned, so the store drops its parts. */
  abortUpload?(upload: PendingUpload): Promise<void>;
  /** Removes the empty folders left below and at `dir` (folder, sftp, rclone); stores without folders do nothing. */
  removeEmptyDirs?(dir: string): Promise<void>;
  /** Closes connections (sftp); safe to call more than once. */
  close(): Promise<void>;
  /** S3: whether the store kept SHA-256 checksums of what was sent (null: nothing sent yet, or not asked). */
  readonly checksumsConfirmed?: boolean | null;
  /**
   * SFTP: whether files went straight into SSH packets (false: through ssh2's own writes, when the installed
   * ssh2 is not the version respaldo writes packets for; null: nothing sent yet).
   */
  readonly directWrites?: boolean | null;
}

/** A file at a destination, as `listFiles` returns it. */
export interface RemoteFile {
  path: string;
  size: number;
  /** When it was last written (ISO 8601), where the destination tells. */
  modifiedAt?: string;
  /** A file being written, or left by a run killed while writing it (a temporary name). */
  temp?: boolean;
}

/** A multipart upload never completed (see `Destination.listUploads`). */
export interface PendingUpload {
  /** The key it would have written, relative to the destination's root. */
  key: string;
  uploadId: string;
  /** When it was started (ISO 8601), or null when the store does not tell. */
  initiatedAt: string | null;
}

/**
 * `timeoutSeconds` when not set: a store that accepts the connection and then answers nothing (a frozen
 * server) fails the request after this long instead of holding the run forever.
 */
export const DEFAULT_TIMEOUT_SECONDS = 30;

export type DestinationType = 'folder' | 's3' | 'sftp' | 'rclone';
export const DESTINATION_TYPES: readonly DestinationType[] = ['folder', 's3', 'sftp', 'rclone'];

/** One entry of `destinations` in backup_config.json, after `${VAR}` interpolation. */
export interface DestinationConfig {
  name: string;
  type: DestinationType;
  /** Name of this server's folder on the destination (default: top-level `source`, else the host name). */
  source?: string;
  /** Copy every new set here right after `create` (default true). */
  copyAfterBackup?: boolean;
  /** Encrypt the copies here (with the config's `encryption`) even when local sets are not encrypted. */
  encrypt?: boolean;
  /** Files uploaded, or fetched for a restore, at the same time (default 4). */
  parallel?: number;
  /**
   * s3, rclone, sftp: connecting, or a request during which nothing is sent nor received (sftp: keepalives
   * unanswered), for this long fails (a transient error, retried); a long transfer that keeps moving never times
   * out. Default DEFAULT_TIMEOUT_SECONDS.
   */
  timeoutSeconds?: number;
  /** folder: target folder; sftp/rclone: folder on the server or remote. */
  path?: string;
  /** s3 */
  endpoint?: string;
  region?: string;
  bucket?: string;
  prefix?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle?: boolean;
  /** s3: "auto" (default: SHA-256 where the store accepts it), "sha256" (required), "off". */
  checksums?: 'auto' | 'sha256' | 'off';
  /** sftp */
  host?: string;
  port?: number;
  user?: string;
  privateKey?: string;
  passphrase?: string;
  password?: string;
  hostKey?: string;
  /** rclone: remote name (as in rclone's config, or defined by `config`). */
  remote?: string;
  /** rclone: the remote's settings, passed to rclone as RCLONE_CONFIG_<REMOTE>_<KEY> variables. */
  config?: Record<string, string>;
  binPath?: string;
  /** Retention at this destination, over the top-level `retention` (may keep longer than local). */
  retention?: Partial<RetentionPolicy> & { manual?: Partial<ManualRetention> };
}

/** What loading a config needs of a destination type (./rules.ts): no SDK, no client library. */
export interface DestinationRules {
  /** Problems of type-specific fields, with a path relative to the entry (`bucket`). Pure. */
  validate(cfg: DestinationConfig): { path: string; problem: string; hint?: string }[];
  /** Fields of this type that hold secrets (masked in every output). */
  secretFields: readonly (keyof DestinationConfig)[];
}

/** A destination type: checks its config fields and opens a destination. */
export interface DestinationFactory extends DestinationRules {
  open(cfg: DestinationConfig): Promise<Destination>;
}

/** Where a set lives on a destination: `<source>/<id>`. */
export function setKey(source: string, id: string): string {
  return `${source}/${id}`;
}

/** Posix join of key parts. */
export function joinKey(...parts: string[]): string {
  return parts.filter(Boolean).join('/');
}

/**
 * `body` (a stream a destination's `get` returns) with its errors mapped by `map`: a connection lost while
 * the file is read fails the reader with the destination's own error (a DestinationError naming it, transient
 * when a retry may succeed), as it does for any other call, never with the client library's raw error.
 * Destroying the returned stream destroys `body`.
 */
export function withMappedErrors(body: Readable, map: (err: unknown) => Error): Readable {
  const out = new PassThrough({ highWaterMark: body.readableHighWaterMark });
  body.on('error', (err) => out.destroy(map(err))); // every error: a stream may fail twice (the connection, then its requests)
  out.once('close', () => body.destroy());
  body.pipe(out);
  return out;
}

/**
 * A folder at the name of a file being written at destination `dest` (`key`; `where`, its full path there), or with
 * `removing` removed (a keep mark cleared): made by hand, never by respaldo, and never removed by it. Said as the
 * destination's (a folder's raw EISDIR was taken for the local file's failure; sftp's bare "Failure" named nothing;
 * Node's "Path is a directory: rm returned EISDIR" stayed English in the menu), with how to clear it.
 */
export function folderInTheWay(dest: string, key: string, where: string, removing = false): DestinationError {
  const id = key.split('/')[1] ?? '';
  const doing: Record<string, string> = removing ? { removing: 'true' } : {};
  const said = phrase('dest.folderInTheWay', { dest, key, ...doing });
  const hint = phrase('dest.folderInTheWayHint', { where, set: isSetId(id) ? id : 'ID', dest, ...doing });
  // the message without the `destination "NAME": ` DestinationError puts before it
  const message = english(said).slice(`destination "${dest}": `.length);
  return new DestinationError(dest, message, english(hint)).withPhrases(said, hint);
}

/**
 * The first of `names` (paths a copy writes, relative to the set's folder) that is a folder at the destination:
 * `listed` (that folder's `listFiles`) holds files below it. On an object store (S3, rclone's) nothing stops an object
 * `manifest.json` beside objects `manifest.json/…`, which a listing then shows as a folder (and a folder or sftp
 * destination as a damaged set): the copy is refused before it writes anything, as where a folder is in the way.
 */
export function folderAmong(listed: readonly RemoteFile[], names: readonly string[]): string | null {
  const dirs = new Set<string>();
  for (const f of listed) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return names.find((n) => dirs.has(n)) ?? null;
}
