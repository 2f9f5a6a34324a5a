import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { FileCheck } from '../../engine/verify.js';

/**
 * The per-file results of `verify --json` (every stored file checked, matching or not), which the document prints in
 * full: written as they come, one JSON line each, to a file (0600, in a folder of its own, 0700) instead of held (a
 * set of 100 000 files held 100 000 of them), and read back as the document is printed, with the text
 * JSON.stringify(doc, null, 2) gives it.
 */
export class SpilledChecks {
  private readonly dir = mkdtempSync(join(tmpdir(), 'respaldo-verify-'));
  private readonly path = join(this.dir, 'files.jsonl');
  private readonly fd = openSync(this.path, 'wx', 0o600);
  private pending = '';
  count = 0;

  add(f: FileCheck): void {
    this.pending += JSON.stringify(f) + '\n';
    this.count++;
    if (this.pending.length >= 64 << 10) this.flush();
  }

  private flush(): void {
    if (this.pending) writeSync(this.fd, this.pending);
    this.pending = '';
  }

  /** The results written, in order, one at a time (the file read in 64 KiB pieces). */
  *checks(): Generator<FileCheck> {
    this.flush();
    const fd = openSync(this.path, 'r');
    try {
      const piece = Buffer.alloc(64 << 10);
      // A character cut between two pieces is decoded whole with the next
      const text = new StringDecoder('utf8');
      let rest = '';
      for (let read; (read = readSync(fd, piece, 0, piece.length, null)) > 0;) {
        const lines = (rest + text.write(piece.subarray(0, read))).split('\n');
        rest = lines.pop()!;
        for (const line of lines) yield JSON.parse(line) as FileCheck;
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Removes the file and its folder. */
  remove(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What stands for spill `i` in the document, as a string in place of its `files`. */
export function spilledMark(i: number): string {
  return `\u0000spilled files ${i}`;
}

/**
 * The lines (each with its line break) of JSON.stringify(doc, null, 2), where each `files` given as spilledMark(i)
 * is the array of the results of `spills[i]`.
 */
export function* spilledJsonLines(doc: unknown, spills: readonly SpilledChecks[]): Generator<string> {
  const mark = /^( *)"files": "\\u0000spilled files (\d+)"(,?)$/;
  for (const line of JSON.stringify(doc, null, 2).split('\n')) {
    const found = mark.exec(line);
    if (!found) {
      yield line + '\n';
      continue;
    }
    const [, indent, which, comma] = found as unknown as [string, string, string, string];
    const spill = spills[Number(which)]!;
    if (!spill.count) {
      yield `${indent}"files": []${comma}\n`;
      continue;
    }
    yield `${indent}"files": [\n`;
    let left = spill.count;
    for (const f of spill.checks()) {
      const text = JSON.stringify(f, null, 2).replace(/^/gm, `${indent}  `);
      yield `${text}${--left ? ',' : ''}\n`;
    }
    yield `${indent}]${comma}\n`;
  }
}
