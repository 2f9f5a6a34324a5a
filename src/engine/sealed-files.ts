import type { PlainHashes } from '../core/types.js';

/** A local stored file sent encrypted: the local file's size and hashes (`plain`), and the ciphertext's (`sealed`). */
export interface SealedFile {
  plain: PlainHashes;
  sealed: PlainHashes;
}

/** What reads the files an encrypted copy sent (a SealedFiles, or a Map of a few). */
export interface SentFiles {
  readonly size: number;
  has(path: string): boolean;
  get(path: string): SealedFile | undefined;
  keys(): Iterable<string>;
  values(): Iterable<SealedFile>;
  /** The ciphertext's bytes of every file, added up. */
  sealedBytes(): number;
}

/** Bytes of one file's hashes: the plaintext's MD5 and SHA-256, then the ciphertext's. */
const HASH_BYTES = 16 + 32 + 16 + 32;

const MD5_HEX = /^[0-9a-f]{32}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The files an encrypted copy sent, by local path, kept compactly: each file's four hashes as bytes in one array and
 * its two sizes in another, where a SealedFile each (two objects and four hex strings) held about 400 bytes a file,
 * 40 MiB for a copy of 100 000 files, all needed at its end to write the manifest sent there. A record whose hashes are
 * not lowercase hex, or whose sizes are not whole numbers (a damaged journal line), is kept as it is.
 */
export class SealedFiles implements SentFiles {
  private readonly index = new Map<string, number>();
  private readonly odd = new Map<string, SealedFile>();
  private hashes = Buffer.alloc(0);
  private sizes = new Float64Array(0);
  /**
   * Slots taken in the arrays. Not `index.size`: a file recorded again with hashes that are not hex leaves the index
   * and its slot unused, and the next file given a slot by the index's size took that of the last one recorded.
   */
  private slots = 0;

  /**
   * `expected`: the files it will hold, room made for them at once. Doubled as they came, the arrays of a copy of
   * 100 000 files held room for 131 072 (3.3 MiB unused at its end), and at 65 536 the old arrays and their copy
   * twice as large were held at once.
   */
  constructor(expected = 0) {
    if (expected > 0) this.room(expected, expected);
  }

  get size(): number {
    return this.index.size + this.odd.size;
  }

  has(path: string): boolean {
    return this.index.has(path) || this.odd.has(path);
  }

  set(path: string, f: SealedFile): this {
    const { plain, sealed } = f;
    const compact =
      [plain.md5, sealed.md5].every((h) => MD5_HEX.test(h)) &&
      [plain.sha256, sealed.sha256].every((h) => SHA256_HEX.test(h)) &&
      [plain.bytes, sealed.bytes].every((n) => Number.isSafeInteger(n) && n >= 0);
    if (!compact) {
      this.index.delete(path);
      this.odd.set(path, f);
      return this;
    }
    this.odd.delete(path);
    let i = this.index.get(path);
    if (i === undefined) {
      i = this.slots++;
      this.room(i + 1);
      this.index.set(path, i);
    }
    // Written in place: a Buffer made of each hash first was four more objects a file for the collector.
    const at = i * HASH_BYTES;
    this.hashes.write(plain.md5, at, 16, 'hex');
    this.hashes.write(plain.sha256, at + 16, 32, 'hex');
    this.hashes.write(sealed.md5, at + 48, 16, 'hex');
    this.hashes.write(sealed.sha256, at + 64, 32, 'hex');
    this.sizes[2 * i] = plain.bytes;
    this.sizes[2 * i + 1] = sealed.bytes;
    return this;
  }

  get(path: string): SealedFile | undefined {
    const i = this.index.get(path);
    return i === undefined ? this.odd.get(path) : this.at(i);
  }

  *keys(): Generator<string> {
    yield* this.index.keys();
    yield* this.odd.keys();
  }

  *values(): Generator<SealedFile> {
    for (const i of this.index.values()) yield this.at(i);
    yield* this.odd.values();
  }

  /**
   * Without making each file's record, as `values()` does (four hex strings a file): at the end of a copy of 100 000
   * files, adding up their sizes that way made 40 MiB of garbage in one stretch, which filled V8's young generation
   * and left its pages in RSS (+14 MiB at the copy's peak).
   */
  sealedBytes(): number {
    let bytes = 0;
    for (const i of this.index.values()) bytes += this.sizes[2 * i + 1]!;
    for (const f of this.odd.values()) bytes += f.sealed.bytes;
    return bytes;
  }

  private at(i: number): SealedFile {
    const at = i * HASH_BYTES;
    const hex = (from: number, bytes: number): string => this.hashes.toString('hex', at + from, at + from + bytes);
    return {
      plain: { bytes: this.sizes[2 * i]!, md5: hex(0, 16), sha256: hex(16, 32) },
      sealed: { bytes: this.sizes[2 * i + 1]!, md5: hex(48, 16), sha256: hex(64, 32) },
    };
  }

  /** Room for `count` files: the arrays made for `files` (doubled as they fill). */
  private room(count: number, files = Math.max(1024, count * 2)): void {
    if (count * 2 <= this.sizes.length) return;
    const hashes = Buffer.alloc(files * HASH_BYTES);
    this.hashes.copy(hashes);
    const sizes = new Float64Array(files * 2);
    sizes.set(this.sizes);
    this.hashes = hashes;
    this.sizes = sizes;
  }
}
