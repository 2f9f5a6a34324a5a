import { Transform } from 'node:stream';
import { throttled, type Reporter } from '../core/events.js';
import { madeGarbage } from './garbage.js';

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
  /** Bytes of the files being fetched (several at once), until each is done or its attempt dropped. */
  private moving = 0;
  /**
   * A pass-through counting the bytes of a file being fetched (a new one per attempt), and `drop`, which takes
   * what it counted back out (an attempt that failed, or a file done).
   */
  counter(): { stream: Transform; drop(): void } {
    let bytes = 0;
    const stream = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        bytes += chunk.length;
        this.moving += chunk.length;
        this.tick(this.done + this.moving);
        // Each chunk read is garbage once written: with files fetched at once, V8 let 20 MiB more of them pile up.
        const collecting = madeGarbage(chunk.length);
        if (collecting) collecting.then(() => cb(null, chunk), cb);
        else cb(null, chunk);
      },
    });
    return {
      stream,
      drop: () => {
        this.moving -= bytes;
        bytes = 0;
      },
    };
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
