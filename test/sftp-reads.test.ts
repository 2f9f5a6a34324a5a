/**
 * The pipelined SFTP reader (src/destinations/sftp-reads.ts) against a stand-in session whose answers come back
 * out of order, short or empty, as a server may send them: the bytes come out in file order, whole, with no more
 * than the window asked for at once. The real server is exercised by the SFTP destination tests.
 */
import { randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { READ_REQUEST, pipelinedRead, type RawSftpReader } from '../src/destinations/sftp-reads.js';

/** A session serving `file`; `answer` picks how many bytes a request gets, answers are delayed at random. */
function session(file: Buffer, answer: (len: number, position: number) => number = (len) => len) {
  const stats = { inFlight: 0, maxInFlight: 0, maxBytesInFlight: 0, bytesInFlight: 0, closed: 0 };
  const sftp: RawSftpReader = {
    open: (_path, _flags, cb) => setImmediate(() => cb(undefined, Buffer.from('h'))),
    read(_h, buf, off, len, position, cb) {
      stats.inFlight++;
      stats.bytesInFlight += len;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      stats.maxBytesInFlight = Math.max(stats.maxBytesInFlight, stats.bytesInFlight);
      setTimeout(() => {
        stats.inFlight--;
        stats.bytesInFlight -= len;
        const n = Math.max(0, Math.min(answer(len, position), file.length - position));
        if (n > 0) file.copy(buf, off, position, position + n);
        cb(undefined, n);
      }, Math.random() * 3);
    },
    close: (_h, cb) => (stats.closed++, cb()),
  };
  return { sftp, stats };
}

describe('pipelined SFTP reads', () => {
  it('reads the whole file in order with many requests in flight, within the window', async () => {
    const file = randomBytes(20 * READ_REQUEST + 1234);
    const { sftp, stats } = session(file);
    const got = await buffer(pipelinedRead(sftp, '/f', file.length, 0, 4 * READ_REQUEST));
    expect(got.equals(file)).toBe(true);
    expect(stats.maxInFlight).toBe(4);
    expect(stats.maxBytesInFlight).toBeLessThanOrEqual(4 * READ_REQUEST);
    expect(stats.closed).toBe(1);
  });

  it('a window smaller than a request still reads, one request at a time', async () => {
    const file = randomBytes(3 * READ_REQUEST + 5);
    const { sftp, stats } = session(file);
    expect((await buffer(pipelinedRead(sftp, '/f', file.length, 0, 1024))).equals(file)).toBe(true);
    expect(stats.maxInFlight).toBe(1);
  });

  it('asks again for what a short answer left out, and starts at an offset', async () => {
    const file = randomBytes(10 * READ_REQUEST);
    const { sftp } = session(file, (len, position) => (position % 3 === 0 ? Math.ceil(len / 3) : len));
    expect((await buffer(pipelinedRead(sftp, '/f', file.length))).equals(file)).toBe(true);
    const from = 3 * READ_REQUEST + 17;
    expect((await buffer(pipelinedRead(sftp, '/f', file.length, from))).equals(file.subarray(from))).toBe(true);
  });

  it('ends where the file ends when it is shorter than its size said (the caller finds it short)', async () => {
    const file = randomBytes(3 * READ_REQUEST);
    const { sftp } = session(file);
    const got = await buffer(pipelinedRead(sftp, '/f', 5 * READ_REQUEST));
    expect(got.equals(file)).toBe(true);
  });

  it('fails with the error of a request, and closes the file', async () => {
    const file = randomBytes(6 * READ_REQUEST);
    const { sftp, stats } = session(file);
    const read = sftp.read.bind(sftp);
    sftp.read = (h, buf, off, len, position, cb) =>
      position >= 2 * READ_REQUEST
        ? setImmediate(() => cb(new Error('No response from server'), 0))
        : read(h, buf, off, len, position, cb);
    await expect(buffer(pipelinedRead(sftp, '/f', file.length))).rejects.toThrow('No response from server');
    expect(stats.closed).toBe(1);
  });
});
