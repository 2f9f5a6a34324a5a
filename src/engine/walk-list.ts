import type { FileItem } from './files.js';

/** What few files have (a name that is not UTF-8, a SQLite role), held as given, by the file's place. */
type Rare = Partial<Pick<FileItem, 'exact' | 'linkTargetBytes' | 'sqlite' | 'linkTarget'>>;

/** Text that is not well-formed UTF-16 (a lone surrogate): it would not come back the same from UTF-8 bytes. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

type Typed = Float64Array | Uint32Array | Uint16Array | Uint8Array;

/** Items by chunk: one array a file had to grow by copies, each copy garbage until the next full collection. */
const CHUNK = 1 << 12;

/** Numbers by place, in typed arrays of CHUNK numbers (made as needed, never copied). */
class Column<T extends Typed> {
  private chunks: T[] = [];
  constructor(private readonly make: (n: number) => T) {}

  set(n: number, value: number): void {
    const c = n >>> 12;
    while (this.chunks.length <= c) this.chunks.push(this.make(CHUNK));
    this.chunks[c]![n & (CHUNK - 1)] = value;
  }

  get(n: number): number {
    return this.chunks[n >>> 12]![n & (CHUNK - 1)]!;
  }
}

/** Bytes of text held in one buffer (a longer text has one of its own). */
const TEXT_CHUNK = 1 << 18;

/**
 * Texts appended as UTF-8 in buffers of TEXT_CHUNK bytes, each read back by its number: a string an entry was 30 to
 * 100 bytes of heap more than its text.
 */
class Texts {
  private buffers: Buffer[] = [];
  private used = TEXT_CHUNK;
  /** Each text's buffer, start in it, and length. */
  private buffer = new Column((n) => new Uint32Array(n));
  private start = new Column((n) => new Uint32Array(n));
  private bytes = new Column((n) => new Uint32Array(n));
  private length = 0;

  /** Appends `text` and gives its number. */
  add(text: string): number {
    const need = Buffer.byteLength(text);
    const last = this.buffers.at(-1);
    if (!last || this.used + need > last.length) {
      this.buffers.push(Buffer.allocUnsafeSlow(Math.max(TEXT_CHUNK, need)));
      this.used = 0;
    }
    const n = this.length++;
    this.buffer.set(n, this.buffers.length - 1);
    this.start.set(n, this.used);
    this.bytes.set(n, need);
    this.used += this.buffers.at(-1)!.write(text, this.used);
    return n;
  }

  get(n: number): string {
    const start = this.start.get(n);
    return this.buffers[this.buffer.get(n)]!.toString('utf8', start, start + this.bytes.get(n));
  }
}

const APPLICATION = 1;
const SYMLINK = 2;

/**
 * The files a create's scan found, held compactly until stored: one object a file (its source and relative paths as
 * strings of their own) was some 0.35 KiB, and a create of 100 000 files held them all from the walk to the end of
 * the store (its peak 180 MiB RSS). Here the paths are split into the folder part, shared by the files found in that
 * folder (`source` `/srv/app/d1/` with `relative` `uploads/d1/`, held once), and the name, kept as UTF-8 in one
 * buffer; the numbers are typed arrays; what few files have (a SQLite role, bytes that are not UTF-8) is held as given.
 * About 60 bytes a file (a symlink 20 more, and its target). `get(n)` makes the FileItem again, as pushed.
 */
export class WalkList {
  private texts = new Texts();
  /** Folder parts: `source` and `relative` up to the name, by number, and the number of each pair. */
  private prefixes: [string, string][] = [];
  private prefixNumbers = new Map<string, number>();
  private lastPrefix = -1;
  /** Owners (uid, gid) by number: a few in a folder of any size. */
  private owners: [number, number][] = [];
  private ownerNumbers = new Map<string, number>();
  private prefix = new Column((n) => new Uint32Array(n));
  private name = new Column((n) => new Uint32Array(n));
  /** The link target's text number plus one (0: none). */
  private target = new Column((n) => new Uint32Array(n));
  private sizes = new Column((n) => new Float64Array(n));
  private mtimes = new Column((n) => new Float64Array(n));
  private modes = new Column((n) => new Uint16Array(n));
  private owner = new Column((n) => new Uint32Array(n));
  private flags = new Column((n) => new Uint8Array(n));
  private rare = new Map<number, Rare>();
  /** Items held. */
  length = 0;
  /** The sum of their sizes. */
  totalSize = 0;

  push(item: FileItem): void {
    const n = this.length;
    // The name: what follows the last `/` of `relative`, when `source` ends with it as well.
    let tail = item.relative.slice(item.relative.lastIndexOf('/') + 1);
    if (!item.source.endsWith(tail) || LONE_SURROGATE.test(item.source) || LONE_SURROGATE.test(item.relative))
      tail = ''; // held whole in the prefixes (a config file named otherwise, a name that is not text)
    this.prefix.set(
      n,
      this.prefixOf(
        item.source.slice(0, item.source.length - tail.length),
        item.relative.slice(0, item.relative.length - tail.length),
      ),
    );
    this.name.set(n, this.texts.add(tail));
    const oddTarget = item.linkTarget !== null && LONE_SURROGATE.test(item.linkTarget);
    this.target.set(n, item.linkTarget === null || oddTarget ? 0 : this.texts.add(item.linkTarget) + 1);
    this.sizes.set(n, item.size);
    this.mtimes.set(n, item.mtime);
    this.modes.set(n, item.mode);
    this.owner.set(n, this.ownerOf(item.uid, item.gid));
    this.flags.set(n, (item.group === 'application' ? APPLICATION : 0) | (item.kind === 'symlink' ? SYMLINK : 0));
    if (item.exact || item.linkTargetBytes || item.sqlite || oddTarget)
      this.rare.set(n, {
        ...(oddTarget ? { linkTarget: item.linkTarget } : {}),
        ...(item.exact ? { exact: item.exact } : {}),
        ...(item.linkTargetBytes ? { linkTargetBytes: item.linkTargetBytes } : {}),
        ...(item.sqlite ? { sqlite: item.sqlite } : {}),
      });
    this.totalSize += item.size;
    this.length++;
  }

  /** The `n`th item pushed, made again (a new object each time). */
  get(n: number): FileItem {
    const [source, relative] = this.prefixes[this.prefix.get(n)]!;
    const name = this.texts.get(this.name.get(n));
    const target = this.target.get(n);
    const [uid, gid] = this.owners[this.owner.get(n)]!;
    const flags = this.flags.get(n);
    return {
      group: flags & APPLICATION ? 'application' : 'config',
      source: source + name,
      relative: relative + name,
      kind: flags & SYMLINK ? 'symlink' : 'file',
      size: this.sizes.get(n),
      mode: this.modes.get(n),
      mtime: this.mtimes.get(n),
      uid,
      gid,
      linkTarget: target ? this.texts.get(target - 1) : null,
      ...this.rare.get(n),
    };
  }

  /** Whether the `n`th item is a symlink, without making it again. */
  isSymlink(n: number): boolean {
    return (this.flags.get(n) & SYMLINK) !== 0;
  }

  /** The `n`th item's SQLite role, if any. */
  sqliteRole(n: number): 'database' | 'side' | undefined {
    return this.rare.get(n)?.sqlite?.role;
  }

  /** The `n`th item's size. */
  size(n: number): number {
    return this.sizes.get(n);
  }

  *[Symbol.iterator](): Generator<FileItem> {
    for (let n = 0; n < this.length; n++) yield this.get(n);
  }

  map<T>(f: (item: FileItem, n: number) => T): T[] {
    return Array.from({ length: this.length }, (_, n) => f(this.get(n), n));
  }

  /** A list holding `items`. */
  static of(items: Iterable<FileItem>): WalkList {
    const list = new WalkList();
    for (const item of items) list.push(item);
    return list;
  }

  private prefixOf(source: string, relative: string): number {
    const last = this.prefixes[this.lastPrefix];
    if (last && last[0] === source && last[1] === relative) return this.lastPrefix;
    const key = `${source}\0${relative}`;
    let k = this.prefixNumbers.get(key);
    if (k === undefined) {
      k = this.prefixes.length;
      this.prefixes.push([source, relative]);
      this.prefixNumbers.set(key, k);
    }
    this.lastPrefix = k;
    return k;
  }

  private ownerOf(uid: number, gid: number): number {
    const key = `${uid}:${gid}`;
    let k = this.ownerNumbers.get(key);
    if (k === undefined) {
      k = this.owners.length;
      this.owners.push([uid, gid]);
      this.ownerNumbers.set(key, k);
    }
    return k;
  }
}
