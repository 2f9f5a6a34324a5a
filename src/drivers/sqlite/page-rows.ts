/**
 * Row counts of a SQLite file read from its b-tree pages as they pass by (the snapshot's bytes on their way to
 * the compressor), instead of a `SELECT count(*)` of every table that reads the whole file once more through
 * SQLite (0.5 CPU-s per 788 MiB, on a core the compression wants). The sum is SQLite's own `count(*)`: the cells
 * of a rowid table's leaf pages; for a WITHOUT ROWID table (an index b-tree), the cells of every page of its tree.
 *
 * Each page's header is noted as it passes (its type, its cell count and, for an interior page, its children); once
 * the whole file passed, each table's tree is walked from its root page. Anything that does not add up (a child
 * past the end, a page reached twice, an interior page of the other kind of tree, a cell pointer outside its
 * page) gives no counts at all, and the caller counts with SQL; so does a file of more than MAX_PAGES pages
 * (what is noted grows with the file: about 11 bytes a page, 22 MiB at the cap).
 * File format: https://www.sqlite.org/fileformat2.html#b_tree_pages
 */

/** Pages noted at most: 2 Mi pages (8 GiB of 4 KiB pages). */
export const MAX_PAGES = 1 << 21;

const INDEX_INTERIOR = 0x02;
const TABLE_INTERIOR = 0x05;
const INDEX_LEAF = 0x0a;
const TABLE_LEAF = 0x0d;

export class PageRowCounter {
  private pageSize = 0;
  private pageCount = 0;

  /** `fileBytes`: the size of the whole file, whose pages will pass. */
  constructor(private readonly fileBytes: number) {}

  /** Page size and count, once the first page passed (0 before, or when the file is not counted). */
  get pages(): { pageSize: number; pageCount: number } {
    return { pageSize: this.pageSize, pageCount: this.pageCount };
  }

  /** Bytes of a page cut by the end of a block, joined to the next block. */
  private carry: Buffer | undefined;
  private nextPage = 1;
  private kinds = new Uint8Array(0);
  private cells = new Uint16Array(0);
  /** Interior pages: where their children start in `children` (their count is their cells + 1). */
  private firstChild = new Uint32Array(0);
  private children = new Uint32Array(1024);
  private childrenUsed = 0;
  /** Set once anything does not add up: no counts. */
  private broken = false;

  /** Notes the pages of the next `block` of the file (blocks in order, from the file's first byte). */
  observe(block: Buffer): void {
    if (this.broken || block.length === 0) return;
    let data = block;
    if (this.carry) {
      data = Buffer.concat([this.carry, block]);
      this.carry = undefined;
    }
    if (this.pageSize === 0 && !this.readHeader(data)) {
      if (data.length < 100) this.carry = Buffer.from(data);
      return;
    }
    const whole = data.length - (data.length % this.pageSize);
    for (let at = 0; at < whole && !this.broken; at += this.pageSize) {
      this.notePage(data.subarray(at, at + this.pageSize), this.nextPage++);
    }
    if (whole < data.length) this.carry = Buffer.from(data.subarray(whole));
  }

  /**
   * Rows of each table (`roots`: name → root page, in the order wanted), or undefined when they cannot be had
   * from the pages: a table without a root page (a virtual table), a file that did not pass whole, or a tree that
   * does not add up.
   */
  rows(roots: readonly (readonly [string, number])[]): Record<string, number> | undefined {
    if (this.broken || this.pageSize === 0 || this.carry || this.nextPage - 1 !== this.pageCount) return undefined;
    const seen = new Uint8Array(this.pageCount + 1);
    const out: Record<string, number> = {};
    for (const [name, root] of roots) {
      const n = this.treeRows(root, seen);
      if (n === undefined) return undefined;
      out[name] = n;
    }
    return out;
  }

  private readHeader(data: Buffer): boolean {
    if (data.length < 100) return false;
    if (data.toString('latin1', 0, 16) !== 'SQLite format 3\0') return this.fail();
    const raw = data.readUInt16BE(16);
    this.pageSize = raw === 1 ? 65536 : raw;
    if (this.pageSize < 512 || (this.pageSize & (this.pageSize - 1)) !== 0) return this.fail();
    this.pageCount = this.fileBytes / this.pageSize;
    if (!Number.isInteger(this.pageCount) || this.pageCount === 0 || this.pageCount > MAX_PAGES) return this.fail();
    this.kinds = new Uint8Array(this.pageCount + 1);
    this.cells = new Uint16Array(this.pageCount + 1);
    this.firstChild = new Uint32Array(this.pageCount + 1);
    return true;
  }

  private notePage(page: Buffer, no: number): void {
    if (no > this.pageCount) return void this.fail();
    const hdr = no === 1 ? 100 : 0;
    const kind = page[hdr]!;
    if (kind !== INDEX_INTERIOR && kind !== TABLE_INTERIOR && kind !== INDEX_LEAF && kind !== TABLE_LEAF) return;
    const n = page.readUInt16BE(hdr + 3);
    this.kinds[no] = kind;
    this.cells[no] = n;
    if (kind === INDEX_LEAF || kind === TABLE_LEAF) return;
    // An interior page of a tree nobody walks (a free page that once was one) may hold anything: its children are
    // noted as they are, and only a walk that reaches it judges them.
    if (hdr + 12 + 2 * n > page.length) {
      this.kinds[no] = 0xff; // not a page a tree can have: a walk reaching it gives up
      return;
    }
    this.reserve(n + 1);
    this.firstChild[no] = this.childrenUsed;
    for (let i = 0; i < n; i++) {
      const cell = page.readUInt16BE(hdr + 12 + 2 * i);
      this.children[this.childrenUsed++] = cell + 4 <= page.length ? page.readUInt32BE(cell) : 0;
    }
    this.children[this.childrenUsed++] = page.readUInt32BE(hdr + 8);
  }

  private reserve(more: number): void {
    if (this.childrenUsed + more <= this.children.length) return;
    const grown = new Uint32Array(Math.max(this.children.length * 2, this.childrenUsed + more));
    grown.set(this.children.subarray(0, this.childrenUsed));
    this.children = grown;
  }

  private treeRows(root: number, seen: Uint8Array): number | undefined {
    if (!Number.isInteger(root) || root < 1 || root > this.pageCount) return undefined;
    const rootKind = this.kinds[root];
    const index = rootKind === INDEX_INTERIOR || rootKind === INDEX_LEAF;
    const interior = index ? INDEX_INTERIOR : TABLE_INTERIOR;
    const leaf = index ? INDEX_LEAF : TABLE_LEAF;
    let rows = 0;
    const stack = [root];
    while (stack.length) {
      const p = stack.pop()!;
      if (p < 1 || p > this.pageCount || seen[p]) return undefined;
      seen[p] = 1;
      const kind = this.kinds[p];
      if (kind === leaf) {
        rows += this.cells[p]!;
      } else if (kind === interior) {
        // An index b-tree keeps entries in its interior cells too; a table b-tree only keys.
        if (index) rows += this.cells[p]!;
        const from = this.firstChild[p]!;
        for (let i = 0; i <= this.cells[p]!; i++) stack.push(this.children[from + i]!);
      } else {
        return undefined;
      }
    }
    return rows;
  }

  private fail(): false {
    this.broken = true;
    this.pageSize = 0;
    this.pageCount = 0;
    this.kinds = new Uint8Array(0);
    this.cells = new Uint16Array(0);
    this.firstChild = new Uint32Array(0);
    this.children = new Uint32Array(0);
    return false;
  }
}
