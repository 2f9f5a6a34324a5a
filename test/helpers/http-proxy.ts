import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';

/** A request the proxy saw: its method and its path (decoded, without the query). */
export interface ProxiedRequest {
  method: string;
  path: string;
}

export interface HttpProxy {
  port: number;
  /** Every request, in the order it arrived. */
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

/**
 * An HTTP proxy on a free loopback port in front of the server on `port` (s3rver): each request recorded, then
 * answered by `answer` when it returns true (a failure made on purpose), else passed on unchanged (the Host header
 * included, which S3 signatures cover). Node parses the requests, so one that follows another's body on a
 * kept-alive connection is seen too (a TCP proxy matching request lines missed them). `Expect: 100-continue` is
 * answered by the proxy and not passed on: the body would wait for the server's answer to it.
 */
export async function startHttpProxy(
  port: number,
  answer: (req: IncomingMessage, res: ServerResponse, seen: ProxiedRequest) => boolean = () => false,
): Promise<HttpProxy> {
  const requests: ProxiedRequest[] = [];
  const server = createServer((req, res) => {
    const seen = { method: req.method!, path: decodeURIComponent(req.url!.split('?')[0]!) };
    requests.push(seen);
    if (answer(req, res, seen)) return;
    const { expect: _continue, ...headers } = req.headers;
    const upstream = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers }, (served) => {
      res.writeHead(served.statusCode!, served.headers);
      served.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
