import { createServer, connect, type Socket } from 'node:net';

/**
 * A TCP proxy on a free loopback port in front of a real server (sshd, s3rver): a dropped connection on demand,
 * the server itself staying up. `cutAfter(n)` arms it: the connection that next carries `n` more bytes from the
 * server to the client is destroyed (both ends, as a network that fails), once.
 */
export interface CutProxy {
  port: number;
  /** Arms one cut after `bytes` more bytes from the server to the client, counted over every connection. */
  cutAfter(bytes: number): void;
  /** Connections cut so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

export async function startCutProxy(targetPort: number): Promise<CutProxy> {
  const sockets = new Set<Socket>();
  let armed: number | null = null;
  let cuts = 0;
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true); // as the real connection: no Nagle delay added per request
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    const pipe = (from: Socket, to: Socket) => (d: Buffer) => {
      if (!to.write(d)) from.pause();
    };
    client.on('drain', () => upstream.resume());
    upstream.on('drain', () => client.resume());
    client.on('data', pipe(client, upstream));
    upstream.on('data', (d: Buffer) => {
      if (armed !== null) {
        armed -= d.length;
        if (armed <= 0) {
          armed = null;
          cuts++;
          client.resetAndDestroy();
          upstream.destroy();
          return;
        }
      }
      pipe(upstream, client)(d);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    cutAfter: (bytes) => void (armed = bytes),
    get cuts() {
      return cuts;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
