import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Collection of the short-lived buffers of compression and decompression. Every 1 MiB block costs Node's
 * zlib a new output buffer and a new (de)compression context, and node:zlib has no way to compress or
 * decode into a buffer of ours, so they cannot be pooled. V8 collects such external memory only once about
 * 64 MiB more of it exists than after its last collection: measured, decoding a 788 MiB SQLite file held
 * 50–75 MiB of it (peak RSS 135–137 MiB for the decoding alone; 86–87 with these collections). The streams
 * that make this garbage report its bytes here, and a full collection runs every GARBAGE_BUDGET bytes — a
 * few ms each, on a heap of about 10 MiB. Where V8's `gc` cannot be had, nothing is collected early.
 */

/** Bytes of transient buffers between two collections. */
export const GARBAGE_BUDGET = 32 << 20;

type Gc = (opts: { type: 'major'; execution: 'async' }) => PromiseLike<void>;

let gc: Gc | null | undefined;
let spent = 0;

function collector(): Gc | null {
  if (gc === undefined) {
    try {
      // Exposes `gc` to contexts made from now on; the main context and its globals are not changed.
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as Gc;
    } catch {
      gc = null;
    }
  }
  return gc;
}

/**
 * Notes `bytes` of transient buffers made; once GARBAGE_BUDGET were made since the last collection, starts
 * one and returns its promise (await it so the next buffers come after it), else undefined.
 */
export function madeGarbage(bytes: number): PromiseLike<void> | undefined {
  spent += bytes;
  return spent >= GARBAGE_BUDGET ? collect() : undefined;
}

/** At the end of a stream: collects what it left when that is a quarter of the budget or more. */
export function leftGarbage(): PromiseLike<void> | undefined {
  return spent >= GARBAGE_BUDGET / 4 ? collect() : undefined;
}

function collect(): PromiseLike<void> | undefined {
  spent = 0;
  return collector()?.({ type: 'major', execution: 'async' });
}
