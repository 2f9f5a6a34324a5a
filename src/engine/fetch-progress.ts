import { Transform } from 'node:stream';
import { throttled, type Reporter } from '../core/events.js';

/** The item of the fetch's progress events: bytes of the set's files fetched so far, of all of them. */
export class FetchProgress {
  private done = 0;
  private readonly started = Date.now();
  private readonly tick: (n: number) => void;
  constructor(
    private readonly reporter: Reporter,
    readonly item: string,
    private readonly total: number,
  ) {
    this.tick = throttled((n) => reporter.emit({ type: 'item-progress', item, bytes: n, totalBytes: total }), 100);
    reporter.emit({ type: 'item-start', item, kind: 'fetch', totalBytes: total });
  }
  /** A pass-through counting the bytes of the file being fetched (a new one per attempt). */
  counter(): Transform {
    let bytes = 0;
    return new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        bytes += chunk.length;
        this.tick(this.done + bytes);
        cb(null, chunk);
      },
    });
  }
  fileDone(bytes: number): void {
    this.done += bytes;
    this.reporter.emit({ type: 'item-progress', item: this.item, bytes: this.done, totalBytes: this.total });
  }
  end(): void {
    this.reporter.emit({
      type: 'item-end',
      item: this.item,
      ok: true,
      bytes: this.done,
      durationMs: Date.now() - this.started,
    });
  }
}
