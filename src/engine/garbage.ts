import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Collection of the short-lived buffers of compression, decompression and reads from a destination. Every
 * 1 MiB block costs Node's zlib a new output buffer and a new (de)compression context, node:zlib has no way to
 * compress or decode into a buffer of ours, and a socket or ssh2 hands over each chunk in a new buffer: they
 * cannot be pooled. V8 collects such external memory only once about 64 MiB more of it exists than after its
 * last collection: measured, decoding a 788 MiB SQLite file held 50–75 MiB of it (peak RSS 135–137 MiB for the
 * decoding alone; 86–87 with these collections). The streams that make this garbage report its bytes here.
 *
 * Most of it dies within milliseconds of being made (read, hashed, written, dropped), while its JavaScript
 * object is still in V8's young generation: a minor collection (a scavenge of that generation, which visits
 * only what is still alive there) frees it, every MINOR_BUDGET bytes. What outlived two of them (a chunk that
 * waited in a stream's queue) is in the old generation, which only a full collection frees: every
 * GARBAGE_BUDGET bytes. Measured on a 307 MB set fetched from SFTP for a restore (five alternating runs): peak
 * RSS 129–136 MiB with scavenges every 8 MiB and full collections every 64 MiB, against 152–160 MiB with full
 * collections every 32 MiB alone, CPU within the runs' noise; from S3 119 against 150. Where V8's `gc` cannot be
 * had, nothing is collected early.
 */

/** Bytes of transient buffers between two minor collections. */
export const MINOR_BUDGET = 8 << 20;
/** Bytes of transient buffers between two full collections. */
export const GARBAGE_BUDGET = 64 << 20;

/**
 * What one small file or block counts at least, whatever its bytes: its streams, handles, zlib object and buffers are
 * garbage of their own. Counted by their bytes alone, 5000 files of 100 bytes left so much of it uncollected that a
 * create peaked at 266 MiB RSS (183 counted so; 89 for 50 such files), and a restore of them at 241 MiB.
 */
export const SMALL_ITEM_COST = 64 << 10;

type Gc = {
  (opts: { type: 'major' | 'minor'; execution: 'async' }): PromiseLike<void>;
  (opts: { type: 'major'; execution: 'sync' }): void;
};

let gc: Gc | null | undefined;
let spent = 0;
let young = 0;

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
 * Notes `bytes` of transient buffers made; once GARBAGE_BUDGET were made since the last full collection, starts
 * one, else once MINOR_BUDGET were made since the last collection, a minor one; returns its promise (await it so
 * the next buffers come after it), or undefined when none was started.
 */
export function madeGarbage(bytes: number): PromiseLike<void> | undefined {
  spent += bytes;
  young += bytes;
  if (spent >= GARBAGE_BUDGET) return collect('major');
  return young >= MINOR_BUDGET ? collect('minor') : undefined;
}

/**
 * madeGarbage for objects that die as soon as they are made (text made, handed on and dropped): they never reach the
 * old generation, so they count towards minor collections only. Counted by madeGarbage, the text of a manifest of
 * 100 000 entries also asked for a full collection (25 ms each) every 16 MiB of text.
 */
export function madeYoungGarbage(bytes: number): PromiseLike<void> | undefined {
  young += bytes;
  return young >= MINOR_BUDGET ? collect('minor') : undefined;
}

/**
 * `items`, each handed on before the garbage making it left (`garbageOf` it, in bytes) is counted by madeYoungGarbage,
 * so that one long run of small objects made and dropped (a manifest's text, a journal's lines) has its minor
 * collections on the way instead of filling the young generation.
 */
export async function* youngCollected<T>(items: Iterable<T>, garbageOf: (item: T) => number): AsyncGenerator<T> {
  for (const item of items) {
    yield item;
    await madeYoungGarbage(garbageOf(item));
  }
}

/** At the end of a stream: a full collection of what it left when that is an eighth of the budget or more. */
export function leftGarbage(): PromiseLike<void> | undefined {
  return spent >= GARBAGE_BUDGET / 8 ? collect('major') : undefined;
}

function collect(type: 'major' | 'minor'): PromiseLike<void> | undefined {
  young = 0;
  if (type === 'major') spent = 0;
  return collector()?.({ type, execution: 'async' });
}

/**
 * The young generation's size (both semi-spaces) past which it is not grown. V8 doubles it, up to 128 MiB on Node 24,
 * each time the objects that outlived scavenges since it last grew add up to its size. Storing or restoring many small
 * files makes a few hundred bytes of such objects per file (streams, handles, hashes in flight), so it grew to the
 * maximum, and its pages stayed in RSS: 5000 files of 100 bytes peaked at 172–178 MiB for a create, 148–166 for a
 * restore. Held at 32 MiB: 128–133 and 131–137, CPU within the runs' noise; a 293 MB SQLite database's create and
 * restore alike. Held at 16 MiB (what `--max-semi-space-size=8` gives): 117, at about a fifth more CPU.
 */
export const YOUNG_LIMIT = 32 << 20;

/** The growth factor last set (V8's own is 2), and whether setting it failed (then V8's sizing stays). */
let factor = 2;
let unsettable = false;

function setFactor(wanted: number): void {
  if (wanted === factor || unsettable) return;
  try {
    setFlagsFromString(`--semi-space-growth-factor=${wanted}`);
    factor = wanted;
  } catch {
    unsettable = true;
  }
}

/** The factor the young generation's size calls for: 1 (no growth) once it is YOUNG_LIMIT or more. */
function wantedFactor(): number {
  const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  return young >= YOUNG_LIMIT ? 1 : 2;
}

/**
 * Stops the young generation from growing past YOUNG_LIMIT for the rest of the process. Its largest size can only be
 * set when Node starts (`--max-semi-space-size`), but the factor by which V8 grows it is read at each growth: after
 * each collection, it is 1 (no growth) once the young generation is YOUNG_LIMIT or more, and back to V8's 2 when a
 * memory-reducing collection shrank it below. Where the flag cannot be set, V8's own sizing stays.
 */
export function boundYoungGeneration(): void {
  const observer = new PerformanceObserver(() => {
    if (!held) setFactor(wantedFactor());
    if (unsettable) observer.disconnect();
  });
  observer.observe({ entryTypes: ['gc'] });
}

/** Bytes of text past which a read that keeps what it parses first collects what the last such read left. */
export const BIG_KEEP = 4 << 20;

/** Inside heldYoung (a nested call leaves the factor to the outer one). */
let held = false;

/**
 * Runs `work`, one long synchronous stretch that keeps most of what it makes (parsing and checking a manifest of
 * thousands of files), without letting the young generation grow meanwhile. The observer above runs only between
 * tasks, so during such a stretch V8 doubled the young generation at every scavenge, everything surviving: reading the
 * manifest of 20 000 files grew it from 1 to 64 MiB, and `list` of that one set peaked at 167–177 MiB RSS (the same
 * read held: 86 against 108 MiB, and faster). The factor goes back to what the young generation's size calls for.
 *
 * `keeps`, the bytes of text to be parsed: from BIG_KEEP, a full collection first frees what the last such read left
 * (a restore reads its manifest for the plan, then again under the lock; both were held at once). With both, `list`
 * of that set peaks at 115 MiB and its restore at 147 instead of 175.
 */
export function heldYoung<T>(work: () => T, keeps = 0): T {
  if (keeps >= BIG_KEEP) collector()?.({ type: 'major', execution: 'sync' });
  const release = holdYoung();
  try {
    return work();
  } finally {
    release();
  }
}

/**
 * Runs async `work` with the young generation held (holdYoung): a destination's listing of thousands of files keeps an
 * entry for each while the next are read, and V8 grew the young generation for what outlived its scavenges (a copy's
 * rerun of 100 000 files: 153 MiB RSS, 130–135 with the listing held).
 */
export async function heldAcross<T>(work: () => Promise<T>): Promise<T> {
  const release = holdYoung();
  try {
    return await work();
  } finally {
    release();
  }
}

/**
 * heldYoung for work that is not one synchronous stretch: the young generation is held until the release returned is
 * called (by a `finally`), across the awaits between. A manifest's entries read again from its file (its `files`, read
 * lean) are parsed as they are iterated, and what iterates them keeps them (a restore's plan, its check, the restore
 * of the files itself): unheld, V8's heap grew from 33 to 94 MiB while the 20 000 entries of an encrypted set's 15 MB
 * manifest were read so, and a restore of its files peaked at 163–170 MiB RSS; held, 140 (unencrypted: 117–121, then
 * 105–115). An inner hold leaves it to the outer one; the observer of boundYoungGeneration leaves a hold alone.
 */
export function holdYoung(): () => void {
  if (held) return () => undefined;
  held = true;
  setFactor(1);
  return () => {
    held = false;
    setFactor(wantedFactor());
  };
}
