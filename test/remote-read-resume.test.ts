/**
 * When a read from a destination fails in the middle of a file (checkedReader, src/engine/remote-read.ts): a
 * transient failure is resumed from the byte where it stopped and the file still checked whole; a failure that
 * is not transient, or one that keeps coming with nothing read between, stops the read; bytes that changed
 * between the two reads are damage. Against a stand-in destination; the real servers are in
 * offsite-resume.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { DestinationError, VerifyError } from '../src/core/errors.js';
import { phrase } from '../src/core/phrases.js';
import type { Manifest } from '../src/core/types.js';
import type { Destination } from '../src/destinations/destination.js';
import { checkedReader, RESUMES_WITHOUT_PROGRESS, type ResumedRead } from '../src/engine/remote-read.js';

const FILE = 'application/app/a.bin.zst';
const ID = '20261202_070000';

function manifestOf(bytes: Buffer): Manifest {
  const sum = (a: string) => createHash(a).update(bytes).digest('hex');
  return {
    id: ID,
    databases: [],
    files: [{ stored: FILE, md5: sum('md5'), sha256: sum('sha256') }],
  } as unknown as Manifest;
}

const lost = (transient = true) =>
  new DestinationError('nas', `reading ${FILE}: the connection was lost`, 'Check the network.', { transient });

/**
 * A destination serving `file`; read number i (from 0) fails after `failAfter[i]` bytes with `errors[i]` (a lost
 * connection when not given), or serves `changed` when given; later reads succeed. Records each read's offset.
 */
function destination(file: Buffer, failAfter: number[], opts: { errors?: Error[]; changed?: Buffer } = {}) {
  const offsets: number[] = [];
  const dest = {
    name: 'nas',
    async get(_key: string, o: { offset?: number } = {}) {
      const i = offsets.length;
      const from = o.offset ?? 0;
      offsets.push(from);
      const body = (i > 0 && opts.changed ? opts.changed : file).subarray(from);
      if (i >= failAfter.length) return Readable.from([body]);
      const out = new PassThrough();
      out.write(body.subarray(0, failAfter[i]));
      setImmediate(() => out.destroy(opts.errors?.[i] ?? lost()));
      return out;
    },
  } as unknown as Destination;
  return { dest, offsets };
}

function reader(dest: Destination, file: Buffer, resumed: ResumedRead[] = []) {
  return checkedReader(dest, 'srv1', manifestOf(file), phrase('fetch.noRoomHint'), (r) => resumed.push(r), 1)(FILE);
}

describe('a read from a destination that fails in the middle of a file', () => {
  it('is resumed where it stopped, as often as it makes progress, and the file comes out whole', async () => {
    const file = randomBytes(300_000);
    const { dest, offsets } = destination(file, [100_000, 50_000, 0, 70_000]);
    const resumed: ResumedRead[] = [];
    expect((await buffer(reader(dest, file, resumed))).equals(file)).toBe(true);
    expect(offsets).toEqual([0, 100_000, 150_000, 150_000, 220_000]);
    expect(resumed.map((r) => r.at)).toEqual([100_000, 150_000, 150_000, 220_000]);
    expect(resumed[0]!.error.message).toContain('the connection was lost');
  });

  it(`stops after ${RESUMES_WITHOUT_PROGRESS} resumed reads in a row that read nothing`, async () => {
    const file = randomBytes(100_000);
    const { dest, offsets } = destination(file, [10_000, 0, 0, 0, 0]);
    await expect(buffer(reader(dest, file))).rejects.toThrow('the connection was lost');
    expect(offsets).toEqual([0, 10_000, 10_000, 10_000]);
  });

  it('stops at once on a failure that is not transient', async () => {
    const file = randomBytes(100_000);
    const { dest, offsets } = destination(file, [10_000], { errors: [lost(false)] });
    await expect(buffer(reader(dest, file))).rejects.toThrow('the connection was lost');
    expect(offsets).toEqual([0]);
  });

  it('finds a file changed at the destination between the two reads: damage (VerifyError), not a good file', async () => {
    const file = randomBytes(100_000);
    const changed = Buffer.from(file);
    changed[80_000] = changed[80_000]! ^ 1;
    const { dest } = destination(file, [10_000], { changed });
    await expect(buffer(reader(dest, file))).rejects.toBeInstanceOf(VerifyError);
  });
});
