import type { LocalPart } from './copy-seal.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const SHA256_BYTES = 32;

/**
 * The files of a set a copy sends (copy.ts filesToCopy), all held for the whole copy: each one's path, local size and
 * the manifest's SHA-256, the SHA-256 kept as its 32 bytes in one array for all of them and given as hex when read.
 * As a string each (80 bytes of heap), the hashes of a copy of 100 000 files took 8 MiB of it.
 */
export class FilesToSend {
  readonly files: FileToSend[] = [];
  private hashes: Buffer;
  private slots = 0;
  /** A SHA-256 that is not lowercase hex (a manifest that was not checked), kept as it is, by slot. */
  private readonly odd = new Map<number, string>();

  /** `expected`: about how many files, room made for their hashes at once. */
  constructor(expected = 0) {
    this.hashes = Buffer.alloc(Math.max(expected, 64) * SHA256_BYTES);
  }

  add(path: string, size: number, sha256: string | null): void {
    let slot = -1;
    if (sha256 !== null) {
      slot = this.slots++;
      if (SHA256_HEX.test(sha256)) {
        if (slot * SHA256_BYTES >= this.hashes.length) {
          const more = Buffer.alloc(this.hashes.length * 2);
          this.hashes.copy(more);
          this.hashes = more;
        }
        this.hashes.write(sha256, slot * SHA256_BYTES, SHA256_BYTES, 'hex');
      } else this.odd.set(slot, sha256);
    }
    this.files.push(new FileToSend(path, size, this, slot));
  }

  /** The SHA-256 at `slot` as hex; null for -1 (a file without one). */
  sha256(slot: number): string | null {
    if (slot < 0) return null;
    return this.odd.get(slot) ?? this.hashes.toString('hex', slot * SHA256_BYTES, (slot + 1) * SHA256_BYTES);
  }
}

/**
 * One file of FilesToSend. Its `sha256` is read from the shared array: copy it by its fields (`{ path, size,
 * sha256 }`), never by spreading it, which would leave the hash out.
 */
export class FileToSend implements LocalPart {
  constructor(
    readonly path: string,
    readonly size: number,
    private readonly of: FilesToSend,
    private readonly slot: number,
  ) {}

  get sha256(): string | null {
    return this.of.sha256(this.slot);
  }
}
