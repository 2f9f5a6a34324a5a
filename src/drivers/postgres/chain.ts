import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline as pipelineCb, Readable, Transform, type TransformCallback } from 'node:stream';
import { text } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { RespaldoError } from '../../core/errors.js';
import type { BlockReader, DatabaseEntry } from '../../core/types.js';
import { fellBackOf, type BackupRequest, type DumpPart, type OpenedDump, type RestoreRequest } from '../driver.js';
import { phrase, type Phrase } from '../../core/phrases.js';

/**
 * PostgreSQL logical chains, per table data file: a differential or incremental of a directory dump
 * (`pg_dump -Fd`) stores its table of contents and only the data files whose content differs from
 * every data file of its base; each other data file is a reference to the set that stores the same
 * bytes. Every directory set stores a content map (`pgchain` extra, format below): the SHA-256 and size
 * of each file of its dump, and where those bytes are stored. Matching is by content (SHA-256 of the
 * raw file), never by table name, file name or statistics, so nothing can be missed: a TRUNCATE, a
 * rewrite, a dropped and recreated table, a reset of the statistics all change bytes or leave them
 * identical (and then identical bytes restore identical rows, the COPY statement being in the TOC).
 * A restore rebuilds the dump directory file by file from the chain and checks every SHA-256.
 *
 * Map (`pg-chain-map`, JSON): { "version": 1, "files": { "<file in this dump>": { "sha256", "bytes",
 * "set": null (this set) | "<id of an older set of the chain>", "stored": "<file name in that set>" } } }
 */

/** Manifest role of the content map. */
export const CHAIN_MAP_ROLE = 'pgchain';
/** Manifest role prefix of a stored file of a directory dump (MEMBER_ROLE in tools.ts). */
const MEMBER_ROLE = 'pgdir:';
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.]*$/;
const SHA256 = /^[0-9a-f]{64}$/;
/** A set id (as engine/set-id.ts makes them; drivers do not import the engine). */
const SET_ID = /^\d{8}_\d{6}(_\d{1,4})?$/;

/** One file of a directory dump in a content map. */
export interface ChainMapFile {
  sha256: string;
  bytes: number;
  /** The set storing these bytes: null for the set of the map itself. */
  set: string | null;
  /** The file's name in that set's dump (its role there is `pgdir:<stored>`). */
  stored: string;
}

/** The content map of a directory set. */
export interface ChainMap {
  version: 1;
  files: Record<string, ChainMapFile>;
}

/** Where bytes with a given SHA-256 are stored: set id and file name there. */
export interface StoredRef {
  set: string;
  stored: string;
}

function damaged(what: string): RespaldoError {
  return new RespaldoError(
    'failed',
    `The content map of a PostgreSQL chain set is damaged or not respaldo's (${what}).`,
    'Nothing was replaced. Verify the chain (respaldo verify --chain ID) and restore an older set.',
  );
}

/** Pure: the stored form of a map (files in name order). */
export function encodeChainMap(map: ChainMap): string {
  const files = Object.fromEntries(Object.entries(map.files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ version: 1, files })}\n`;
}

/** Pure: a stored map, checked field by field; throws a `failed` error naming what is wrong. */
export function parseChainMap(textIn: string): ChainMap {
  let raw: unknown;
  try {
    raw = JSON.parse(textIn);
  } catch {
    throw damaged('not JSON');
  }
  const obj = raw as { version?: unknown; files?: unknown };
  if (!obj || typeof obj !== 'object' || obj.version !== 1) throw damaged('unknown version');
  if (!obj.files || typeof obj.files !== 'object' || Array.isArray(obj.files)) throw damaged('no files');
  // No prototype: a file named `__proto__` in a tampered map stays a key.
  const files = Object.create(null) as Record<string, ChainMapFile>;
  for (const [name, v] of Object.entries(obj.files as Record<string, unknown>)) {
    const f = v as Partial<ChainMapFile> | null;
    const ok =
      FILE_NAME.test(name) &&
      name !== 'toc.dat' &&
      f !== null &&
      typeof f === 'object' &&
      typeof f.sha256 === 'string' &&
      SHA256.test(f.sha256) &&
      typeof f.bytes === 'number' &&
      Number.isSafeInteger(f.bytes) &&
      f.bytes >= 0 &&
      (f.set === null || (typeof f.set === 'string' && SET_ID.test(f.set))) &&
      typeof f.stored === 'string' &&
      FILE_NAME.test(f.stored) &&
      f.stored !== 'toc.dat';
    if (!ok) throw damaged(`file ${JSON.stringify(name)}`);
    files[name] = { sha256: f.sha256!, bytes: f.bytes!, set: f.set!, stored: f.stored! };
  }
  return { version: 1, files };
}

/** Pure: the contents a delta on the base set `baseId` (whose map is `map`) need not store again. */
export function knownContents(map: ChainMap, baseId: string): Map<string, StoredRef> {
  const known = new Map<string, StoredRef>();
  for (const f of Object.values(map.files)) {
    if (!known.has(f.sha256)) known.set(f.sha256, { set: f.set ?? baseId, stored: f.stored });
  }
  return known;
}

/** One file to write when rebuilding a chain set's dump directory. */
export interface AssemblyStep {
  /** File name in the rebuilt directory. */
  name: string;
  /** The chain member storing it: null for the set being restored. */
  from: string | null;
  /** Its role in that member's entry. */
  role: string;
  sha256: string;
  bytes: number;
}

/**
 * Pure: the files of the dump of a chain set, from its map, each read from the set storing it, which
 * must be one of `chainIds` (the older members of the chain). Throws when the map refers to another set.
 */
export function assemblyPlan(map: ChainMap, setId: string, chainIds: readonly string[]): AssemblyStep[] {
  const members = new Set(chainIds);
  return Object.entries(map.files).map(([name, f]) => {
    const from = f.set === null || f.set === setId ? null : f.set;
    if (from !== null && !members.has(from)) {
      throw new RespaldoError(
        'failed',
        `Set ${setId} needs ${name} from set ${from}, which is not in its chain (${chainIds.join(', ') || 'empty'}).`,
        `Nothing was replaced. Check the chain with respaldo verify --chain ${setId}, or restore an older set.`,
      );
    }
    return { name, from, role: `${MEMBER_ROLE}${f.stored}`, sha256: f.sha256, bytes: f.bytes };
  });
}

/** SHA-256 and size of what passes through, without copying it. */
export class ContentHasher extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  private result: string | undefined;
  /**
   * `done` is called with the SHA-256 and size once the whole content passed; when it throws, the stream
   * fails with that error instead of ending.
   */
  constructor(private readonly done?: (sha256: string, bytes: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    this.result = this.hash.digest('hex');
    try {
      this.done?.(this.result, this.bytes);
    } catch (err) {
      cb(err as Error); // the stream fails instead of ending
      return;
    }
    cb();
  }
  /** The SHA-256 (hex) once the stream ended. */
  get sha256(): string {
    if (this.result === undefined) throw new Error('ContentHasher read before its end');
    return this.result;
  }
}

/**
 * A file (a path, or a stream of its bytes such as a follower of a file still being written) read
 * through `through` (such as a row counter), hashed on its way out: `done` gets its SHA-256 and size
 * once the reader reached its end. A read error reaches the reader.
 */
export function hashedRead(
  source: string | Readable,
  through: Transform,
  done: (sha256: string, bytes: number) => void,
): Readable {
  const read = typeof source === 'string' ? createReadStream(source, { highWaterMark: 1 << 20 }) : source;
  return pipelineCb(read, through, new ContentHasher(done), () => undefined);
}

/**
 * hashedRead for a BlockReader: each range `source` fills is given to `observe` (such as RowCounter.count)
 * and hashed before the caller gets it; `done` gets the SHA-256 and size once the end was read.
 */
export function hashedReader(
  source: BlockReader,
  observe: (chunk: Buffer) => void,
  done: (sha256: string, bytes: number) => void,
): BlockReader {
  const hash = createHash('sha256');
  let bytes = 0;
  let ended = false;
  return {
    async read(into) {
      const length = await source.read(into);
      if (ended) return length;
      const chunk = into.subarray(0, length);
      observe(chunk);
      hash.update(chunk);
      bytes += length;
      if (length < into.length) {
        ended = true;
        done(hash.digest('hex'), bytes);
      }
      return length;
    },
    close: () => source.close(),
  };
}

/** SHA-256 and size of a file, read once through `through` (such as a row counter). */
export async function hashFile(
  path: string,
  through: Transform,
  signal: AbortSignal,
): Promise<{ sha256: string; bytes: number }> {
  const hasher = new ContentHasher();
  const sink = async (source: AsyncIterable<unknown>) => {
    for await (const _ of source) void _;
  };
  const read = createReadStream(path, { highWaterMark: 1 << 20 });
  await pipeline(read, through, hasher, sink, { signal });
  return { sha256: hasher.sha256, bytes: hasher.bytes };
}

/**
 * The contents a delta on `base` need not store, or why the delta is stored as a full: the base's map
 * (every set made since chains exist has one), else the hash of every data file it stores (an older full).
 */
export async function baseContents(
  base: NonNullable<BackupRequest['base']>,
  signal: AbortSignal,
): Promise<{ known: Map<string, StoredRef> } | { fellBack: string; fellBackPhrase: Phrase }> {
  const { entry, setId } = base;
  if (entry.format !== 'pg-directory')
    return fellBackOf(
      phrase('fallback.baseFormat', { set: setId, db: entry.name, format: entry.format, as: 'directory' }),
    );
  try {
    if (entry.extras?.some((x) => x.role === CHAIN_MAP_ROLE)) {
      return { known: knownContents(parseChainMap(await text(base.openPart(CHAIN_MAP_ROLE))), setId) };
    }
    const known = new Map<string, StoredRef>();
    for (const x of entry.extras ?? []) {
      if (!x.role?.startsWith(MEMBER_ROLE)) continue;
      const hasher = new ContentHasher();
      await pipeline(
        base.openPart(x.role),
        hasher,
        async (s: AsyncIterable<unknown>) => {
          for await (const _ of s) void _;
        },
        { signal },
      );
      known.set(hasher.sha256, { set: setId, stored: x.role.slice(MEMBER_ROLE.length) });
    }
    return { known };
  } catch (err) {
    if (signal.aborted) throw err;
    const error = err instanceof Error ? err.message : String(err);
    return fellBackOf(phrase('fallback.baseUnreadable', { set: setId, error }));
  }
}

/** The content map of a dump being made: filled as each file is hashed, stored after the dump. */
export class ChainMapRecorder {
  private readonly files = Object.create(null) as Record<string, ChainMapFile>;
  /** A file stored in this set. */
  stored(name: string, sha256: string, bytes: number): void {
    this.files[name] = { sha256, bytes, set: null, stored: name };
  }
  /** A file whose bytes an older set stores. */
  referenced(name: string, sha256: string, bytes: number, ref: StoredRef): void {
    this.files[name] = { sha256, bytes, set: ref.set, stored: ref.stored };
  }
  /** How many files are references, and their raw bytes. */
  get references(): { files: number; bytes: number } {
    const refs = Object.values(this.files).filter((f) => f.set !== null);
    return { files: refs.length, bytes: refs.reduce((s, f) => s + f.bytes, 0) };
  }
  map(): ChainMap {
    return { version: 1, files: { ...this.files } };
  }
}

/** The `pgchain` part of a directory set: the recorder's map, stored once the dump's files are all hashed. */
export function chainMapPart(recorder: ChainMapRecorder): DumpPart {
  return {
    role: CHAIN_MAP_ROLE,
    format: 'pg-chain-map',
    extension: 'json',
    compress: true,
    open(): Promise<OpenedDump> {
      return Promise.resolve({
        stream: Readable.from([Buffer.from(encodeChainMap(recorder.map()))]),
        finished: Promise.resolve({ tables: null, details: {} }),
      });
    },
  };
}

/** Whether a restore of this entry rebuilds its directory from a chain (a delta with its content map). */
export function isChainEntry(entry: DatabaseEntry): boolean {
  return Boolean(entry.base) && entry.format === 'pg-directory';
}

/** A file of a directory dump for pg_restore: its name, raw size, and its bytes (read once). */
export interface DumpSource {
  name: string;
  rawBytes: number;
  open(): Readable;
  /** Its bytes read whole (RestoreRequest.readPartWhole), or undefined: then `open`. */
  readWhole?(): Buffer | undefined;
}

/**
 * The data files of the dump of chain set `req` (an incremental or differential), each read from the set
 * of the chain storing it and checked against the SHA-256 and size the set recorded: the stream of a file
 * that differs fails at its end, before it ends cleanly (a file staged from it is then not used; a named pipe
 * fed from it never shows pg_restore an end of file).
 */
export async function chainSources(
  req: Pick<RestoreRequest, 'entry' | 'setId' | 'openPart' | 'chain'>,
): Promise<DumpSource[]> {
  if (!req.entry.extras?.some((x) => x.role === CHAIN_MAP_ROLE)) throw damaged(`set ${req.setId} has no content map`);
  const chain = req.chain ?? [];
  if (chain.length === 0) {
    throw new RespaldoError(
      'failed',
      `Set ${req.setId} stores only the tables of ${req.entry.name} that changed since set ${req.entry.base ?? '?'}; the sets it applies on were not given.`,
      `Restore it with respaldo restore ${req.setId} (which applies the whole chain), or check it with respaldo verify --chain ${req.setId}.`,
    );
  }
  const map = parseChainMap(await text(req.openPart(CHAIN_MAP_ROLE)));
  const steps = assemblyPlan(
    map,
    req.setId,
    chain.map((c) => c.setId),
  );
  const opener = new Map(chain.map((c) => [c.setId, c.openPart]));
  return steps.map((step) => ({
    name: step.name,
    rawBytes: step.bytes,
    open: () => {
      const open = step.from === null ? req.openPart : opener.get(step.from)!;
      const differs = () =>
        new RespaldoError(
          'failed',
          `${req.entry.name}: ${step.name} of set ${req.setId}, read from set ${step.from ?? req.setId}, differs from what the set recorded (SHA-256 or size).`,
          `Nothing was replaced. Check the chain with respaldo verify --chain ${req.setId}, or restore an older set.`,
        );
      const checked = new ContentHasher((sha256, bytes) => {
        if (sha256 !== step.sha256 || bytes !== step.bytes) throw differs();
      });
      return pipelineCb(open(step.role), checked, () => undefined);
    },
  }));
}
