import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { FILE_MODE } from './fs-util.js';
import type { FileEntry } from '../core/types.js';
import { entryText } from './manifest.js';

/** Bytes of entries gathered before they are written to the spill file. */
const FLUSH_AT = 64 << 10;
/** Bytes of the spill file read at once when the manifest is written. */
const READ_WINDOW = 256 << 10;

/**
 * The file entries of a create, written to a file in the set's staging folder as each file is stored, instead of
 * held as objects until the manifest is written: 100 000 files held some 90 MiB of entries, the create's peak RSS
 * 284 MiB. Each entry is kept as the text the manifest gives it (manifestText's piece for one entry of `files`), by
 * its place in the scan (`n`): they are stored several at once, and read back in that order whatever the order they
 * were stored in. Per entry only its offset and length are held (12 bytes), with the sums the manifest's totals take.
 *
 * The file is made 0600 (O_EXCL) inside the staging folder: an interrupted create leaves it only there, swept with
 * that folder; `remove` deletes it before the set is published.
 */
export class FileEntrySpill {
  private fd: number | undefined;
  private offsets = new Float64Array(0);
  private lengths = new Uint32Array(0);
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private written = 0;
  /** Entries put. */
  count = 0;
  /** The sum of the entries' sizes (the manifest's totals.rawBytes for files). */
  rawBytes = 0;
  /** Entries put of each group. */
  readonly groups = { config: 0, application: 0 };
  /** Every folder (`group/a/b`) that holds an entry, as folderEntries takes it. */
  readonly holding = new Set<string>();

  constructor(readonly path: string) {
    this.fd = openSync(path, 'wx+', FILE_MODE);
  }

  /** Room for entries 0 to `places - 1`. */
  reserve(places: number): void {
    if (places <= this.offsets.length) return;
    const offsets = new Float64Array(places);
    const lengths = new Uint32Array(places);
    offsets.set(this.offsets);
    lengths.set(this.lengths);
    this.offsets = offsets;
    this.lengths = lengths;
  }

  /** Keeps `entry` as the `n`th of the manifest's files (its place among those put, whatever the order). */
  put(n: number, entry: FileEntry): void {
    this.reserve(n + 1);
    const text = Buffer.from(entryText(entry));
    this.offsets[n] = this.written + this.pendingBytes;
    this.lengths[n] = text.length + 1; // 0: no entry at this place
    this.pending.push(text);
    this.pendingBytes += text.length;
    this.count++;
    this.rawBytes += entry.size;
    this.groups[entry.group]++;
    const parts = `${entry.group}/${entry.relative}`.split('/');
    for (let i = 2; i < parts.length; i++) this.holding.add(parts.slice(0, i).join('/'));
    // Never thrown here (the entry's file is stored): a write that fails (a full disk) is tried again at the next
    // entry, and at the end (texts), where it fails the run.
    if (this.pendingBytes >= FLUSH_AT)
      try {
        this.flush();
      } catch {
        /* kept pending */
      }
  }

  private flush(): void {
    if (!this.pendingBytes) return;
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [all];
    // A write cut short (a full disk) starts again at the same place next time.
    let done = 0;
    while (done < all.length) done += writeSync(this.fd!, all, done, all.length - done, this.written + done);
    this.written += all.length;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Each entry's text in the manifest (its piece of `files`, as manifestText writes it), in their places' order. */
  *texts(): Generator<string> {
    this.flush();
    // Read through one buffer, a window of the file at a time (entries were stored nearly in order): a buffer an
    // entry was as much garbage again as the manifest.
    let window = Buffer.allocUnsafeSlow(READ_WINDOW);
    let from = 0;
    let to = 0;
    for (let n = 0; n < this.lengths.length; n++) {
      const length = this.lengths[n]! - 1;
      if (length < 0) continue;
      const at = this.offsets[n]!;
      if (at < from || at + length > to) {
        if (length > window.length) window = Buffer.allocUnsafeSlow(length);
        let got = 0;
        while (got < length) {
          const r = readSync(this.fd!, window, got, window.length - got, at + got);
          if (r === 0) throw new Error(`${this.path}: ended before entry ${n}`);
          got += r;
        }
        from = at;
        to = at + got;
      }
      yield window.toString('utf8', at - from, at - from + length);
    }
  }

  /** Closes and deletes the file (once the manifest is written, or the run failed). */
  remove(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.path, { force: true });
  }
}
