/**
 * Sending a local file to an SFTP server with its bytes copied once on the way. ssh2's `SFTP.write` copies
 * the data into a write request, then `channelData` copies the request into an SSH packet, which is encrypted
 * in place. Here the file is read (one `readv` per batch) straight into the SSH packets of the requests,
 * hashed there, and each packet is encrypted in place and sent, as `channelData` would; sent packets are
 * filled again (`SparePackets`). That leans on ssh2's internals (`Session` below): `PacketSender.of` checks
 * them and gives null when they are not as expected, and sftp.ts then writes through `SFTP.write`.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { type WriteBudget, writeError } from './sftp-writes.js';

/** ssh2's outgoing packet writer (`Protocol._packetRW.write`): a packet is allocated, filled from `allocStart`. */
interface PacketWriter {
  allocStart: number;
  alloc(payloadLen: number): Buffer;
  finalize(packet: Buffer): Buffer;
}

/** The parts of ssh2's `Protocol` that `channelData` uses, and the window-adjust handler. */
interface Protocol {
  _packetRW: { write: PacketWriter };
  _cipher: { encrypt(packet: Buffer): void };
  /** Set while keys are being exchanged: packets are queued, in another layout. */
  _kexinit: unknown;
  _handlers: Record<string, unknown>;
  channelData(channel: number, data: Buffer): void;
}

/** ssh2's SFTP client session (an `SFTP`, which stands in for its channel). */
interface Session {
  outgoing: { id: number; window: number; packetSize: number; state: string };
  _protocol: Protocol;
  _requests: Record<number, { cb: (err?: Error) => void }>;
  _writeReqid: number;
  /** Requests ssh2 holds until the channel's window opens (the first maybe partly sent). */
  _buffer: unknown[];
  _maxWriteLen: number;
  _maxOutPktLen: number;
  once(event: 'end' | 'close', listener: () => void): unknown;
}

const CHANNEL_DATA = 94; // SSH_MSG_CHANNEL_DATA
const FXP_WRITE = 6;
const MAX_REQID = 2 ** 32 - 1; // as ssh2 counts them
/** File bytes read (into packets) at once per file. */
const BATCH = 1024 * 1024;
/** Bytes of sent packets kept for reuse (64 of OpenSSH's 32 KiB). */
const SPARE_BYTES = 2 * 1024 * 1024;

function isSession(s: unknown): s is Session {
  const x = s as Partial<Session> | null;
  const proto = x?._protocol;
  const rw = proto?._packetRW?.write;
  return (
    typeof x?.outgoing?.id === 'number' &&
    typeof x.outgoing.window === 'number' &&
    typeof x.outgoing.packetSize === 'number' &&
    typeof x._requests === 'object' &&
    typeof x._writeReqid === 'number' &&
    Array.isArray(x._buffer) &&
    typeof x._maxWriteLen === 'number' &&
    typeof x._maxOutPktLen === 'number' &&
    typeof proto?.channelData === 'function' &&
    typeof proto._cipher?.encrypt === 'function' &&
    typeof proto._handlers?.CHANNEL_WINDOW_ADJUST === 'function' &&
    typeof rw?.alloc === 'function' &&
    typeof rw.finalize === 'function' &&
    typeof rw.allocStart === 'number'
  );
}

/** One SFTP write request laid out in SSH packets: `data` are the views of the file bytes in them. */
interface Request {
  packets: Buffer[];
  /** Where each packet's channel data starts (the SFTP bytes). */
  starts: number[];
  data: Buffer[];
  bytes: number;
  /** Of the whole request (header included): what it takes of the channel's window. */
  wireBytes: number;
}

/** The packet layout of ssh2 when packets were allocated: they may be sent as they are only under the same. */
interface Layout {
  writer: PacketWriter;
  allocStart: number;
  cipher: unknown;
}

function sameLayout(a: Layout, b: Layout): boolean {
  return a.writer === b.writer && a.allocStart === b.allocStart && a.cipher === b.cipher;
}

/**
 * Full packets that were sent, to fill again rather than having ssh2 allocate new ones (an allocation per
 * 32 KiB packet made V8 collect garbage every few MiB, and each new buffer's pages fault in again).
 * A packet is reused only once the socket has handed every write to the kernel, and only under the
 * layout it was allocated for. ssh2 writes the same header for a payload length (packet and padding
 * lengths), kept in `header`, then fills the padding with random bytes, as `take` does again.
 */
class SparePackets {
  private readonly free: Buffer[] = [];
  private sent: Buffer[] = [];
  private header: Buffer | undefined;
  private readonly random = Buffer.allocUnsafe(64 * 1024);
  private randomAt = this.random.length;

  constructor(
    readonly layout: Layout,
    /** The payload length of a full packet: only those are kept. */
    readonly payloadLen: number,
  ) {}

  /** A packet for `payloadLen` bytes of payload, from `layout.allocStart`. */
  take(payloadLen: number): Buffer {
    const { writer, allocStart } = this.layout;
    const packet = payloadLen === this.payloadLen ? this.free.pop() : undefined;
    if (!packet) {
      const fresh = writer.alloc(payloadLen);
      if (payloadLen === this.payloadLen) this.header ??= Buffer.from(fresh.subarray(0, allocStart));
      return fresh;
    }
    this.header!.copy(packet, 0);
    this.randomTail(packet, allocStart + payloadLen);
    return packet;
  }

  /** Random bytes from `at` to the end of `packet` (the padding), drawn from a pool: one call per 64 KiB. */
  private randomTail(packet: Buffer, at: number): void {
    const n = packet.length - at;
    if (n <= 0) return;
    if (this.randomAt + n > this.random.length) {
      randomFillSync(this.random);
      this.randomAt = 0;
    }
    this.random.copy(packet, at, this.randomAt, (this.randomAt += n));
  }

  /** `packet` was given to ssh2 to send. */
  sentOne(payloadLen: number, packet: Buffer): void {
    const most = Math.max(4, Math.floor(SPARE_BYTES / this.payloadLen));
    if (payloadLen === this.payloadLen && this.sent.length + this.free.length < most) this.sent.push(packet);
  }

  /** The socket holds no write: every packet sent is free. */
  flushed(): void {
    this.free.push(...this.sent);
    this.sent = [];
  }
}

/** Sends SFTP write requests built in place in ssh2's packets, on one session. */
export class PacketSender {
  private readonly roomWaiters = new Set<() => void>();
  private spares: SparePackets | undefined;

  private constructor(
    private readonly session: Session,
    private readonly sock: Socket | undefined,
  ) {
    const handlers = session._protocol._handlers;
    const adjust = handlers.CHANNEL_WINDOW_ADJUST as (...args: unknown[]) => void;
    handlers.CHANNEL_WINDOW_ADJUST = (...args: unknown[]) => {
      adjust(...args); // ssh2 first sends what it holds
      this.wake();
    };
    session.once('end', () => this.wake());
    session.once('close', () => this.wake());
  }

  /** A sender on ssh2's SFTP session `sftp`, or null when ssh2's internals are not the ones this knows. */
  static of(sftp: unknown, sock: Socket | undefined): PacketSender | null {
    return isSession(sftp) ? new PacketSender(sftp, sock) : null;
  }

  private wake(): void {
    const wake = [...this.roomWaiters];
    this.roomWaiters.clear();
    for (const w of wake) w();
  }

  /** The spare packets of `layout`: those of another are dropped (keys were exchanged). */
  private sparesFor(layout: Layout): SparePackets {
    if (!this.spares || !sameLayout(this.spares.layout, layout))
      this.spares = new SparePackets(layout, 9 + this.session.outgoing.packetSize);
    return this.spares;
  }

  private layout(): Layout {
    const proto = this.session._protocol;
    return { writer: proto._packetRW.write, allocStart: proto._packetRW.write.allocStart, cipher: proto._cipher };
  }

  /** Whether the channel's window takes `bytes` now, with nothing held by ssh2 (ours would overtake it). */
  private fits(bytes: number): boolean {
    const s = this.session;
    if (s.outgoing.state !== 'open') throw new Error('No SFTP connection: the channel closed');
    return s._buffer.length === 0 && s.outgoing.window >= bytes;
  }

  /** Resolves when the server opens the window further, or the channel closes. */
  private windowMoved(): Promise<void> {
    return new Promise<void>((resolve) => this.roomWaiters.add(resolve));
  }

  /**
   * Writes the local file at `source` to the open remote `handle` with up to `limit` bytes of requests in
   * flight (shared through `budget` by all the files on the connection); resolves with the SHA-256 (hex)
   * and length of the bytes sent, once every request was answered. Reads the length the file has when it
   * is opened: a file that shrinks meanwhile is sent only as far as it could be read.
   */
  async writeFile(
    handle: Buffer,
    source: string,
    budget: WriteBudget,
    limit: number,
    signal?: AbortSignal,
  ): Promise<{ sha256: string; bytes: number }> {
    const hash = createHash('sha256');
    const fh = await open(source, 'r');
    let mine = 0; // this file's requests in flight
    let failed: Error | undefined;
    let sent = 0;
    try {
      const size = (await fh.stat()).size;
      const perRequest = this.requestBytes(handle.length);
      while (sent < size) {
        signal?.throwIfAborted();
        while (budget.inFlight >= limit && !failed) await budget.settled();
        if (failed) throw failed;
        const layout = this.layout();
        const batch: Request[] = [];
        for (let at = sent, end = Math.min(size, sent + BATCH); at < end;) {
          const n = Math.min(perRequest, end - at);
          batch.push(this.request(handle, at, n, layout));
          at += n;
        }
        const views = batch.flatMap((r) => r.data);
        const wanted = batch.reduce((t, r) => t + r.bytes, 0);
        const { bytesRead } = await fh.readv(views, sent);
        if (bytesRead < wanted) break; // the file shrank: what was sent is checked by the caller
        for (const v of views) hash.update(v);
        for (const req of batch) {
          // checked and sent in one go: another file's writer may take the room meanwhile
          while (!this.fits(req.wireBytes) && !failed) await this.windowMoved();
          if (failed) throw failed;
          budget.inFlight += req.bytes;
          mine += req.bytes;
          this.send(req, layout, (err) => {
            mine -= req.bytes;
            if (err) failed ??= writeError(err);
            budget.answered(req.bytes);
            if (err) this.wake();
          });
          sent += req.bytes;
        }
      }
      while (mine > 0 && !failed) await budget.settled();
      if (failed) throw failed;
      return { sha256: hash.digest('hex'), bytes: sent };
    } finally {
      await fh.close();
    }
  }

  /**
   * File bytes per request: as many as the server takes (`limits@openssh.com`), cut to fill whole packets
   * (only full packets are reused).
   */
  private requestBytes(handleLen: number): number {
    const s = this.session;
    const header = 4 + 1 + 4 + 4 + handleLen + 8 + 4;
    const most = Math.min(s._maxWriteLen, s._maxOutPktLen - header);
    const packet = s.outgoing.packetSize;
    const whole = Math.floor((most + header) / packet) * packet - header;
    return Math.max(1, whole > 0 ? whole : most);
  }

  /** Allocates the packets of a request for `n` file bytes at `offset`, with its header but for its id. */
  private request(handle: Buffer, offset: number, n: number, layout: Layout): Request {
    const spares = this.sparesFor(layout);
    const header = 4 + 1 + 4 + 4 + handle.length + 8 + 4;
    const wireBytes = header + n;
    const maxData = this.session.outgoing.packetSize;
    const packets: Buffer[] = [];
    const starts: number[] = [];
    const data: Buffer[] = [];
    for (let at = 0; at < wireBytes; at += maxData) {
      const len = Math.min(maxData, wireBytes - at);
      const p = layout.allocStart;
      const packet = spares.take(9 + len);
      packet[p] = CHANNEL_DATA;
      packet.writeUInt32BE(this.session.outgoing.id, p + 1);
      packet.writeUInt32BE(len, p + 5);
      let d = p + 9;
      if (at === 0) {
        packet.writeUInt32BE(wireBytes - 4, d);
        packet[d + 4] = FXP_WRITE;
        packet.writeUInt32BE(handle.length, d + 9);
        handle.copy(packet, d + 13);
        packet.writeUInt32BE(Math.floor(offset / 2 ** 32), d + 13 + handle.length);
        packet.writeUInt32BE(offset >>> 0, d + 17 + handle.length);
        packet.writeUInt32BE(n, d + 21 + handle.length);
        d += header;
      }
      packets.push(packet);
      starts.push(p + 9);
      data.push(packet.subarray(d, p + 9 + len));
    }
    return { packets, starts, data, bytes: n, wireBytes };
  }

  /**
   * Sends a request (the window takes it: `fits`). Its packets go as they are unless ssh2 changed
   * its layout since they were allocated (keys exchanged meanwhile, or being exchanged): then through
   * `channelData`, which copies them into packets of the current layout (or queues them during the exchange).
   */
  private send(req: Request, layout: Layout, answered: (err?: Error) => void): void {
    const s = this.session;
    const proto = s._protocol;
    const reqid = (s._writeReqid = (s._writeReqid + 1) & MAX_REQID);
    req.packets[0]!.writeUInt32BE(reqid >>> 0, req.starts[0]! + 5);
    s._requests[reqid] = { cb: answered };
    s.outgoing.window -= req.wireBytes;
    const asAllocated = proto._kexinit === undefined && sameLayout(this.layout(), layout);
    const spares = this.spares && sameLayout(this.spares.layout, layout) ? this.spares : undefined;
    this.sock?.cork();
    try {
      req.packets.forEach((packet, i) => {
        const start = req.starts[i]!;
        const payloadLen = 9 + packet.readUInt32BE(start - 4);
        if (asAllocated) proto._cipher.encrypt(layout.writer.finalize(packet));
        else proto.channelData(s.outgoing.id, packet.subarray(start, start - 9 + payloadLen));
        spares?.sentOne(payloadLen, packet);
      });
    } finally {
      this.sock?.uncork();
    }
    if (this.sock?.writableLength === 0) spares?.flushed();
  }
}
