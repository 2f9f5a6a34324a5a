import { createServer, type Server } from 'node:http';
import { freePort } from './pg-cluster.js';

/**
 * An HTTP server on 127.0.0.1 that takes webhook alerts: each request's body as it came (`received`), answered
 * 200, or `status()` while that says otherwise (a channel that is down). Stop it with `close()`.
 */
export interface WebhookServer {
  url: string;
  received: string[];
  server: Server;
  close(): void;
}

export async function startWebhookServer(status: () => number = () => 200): Promise<WebhookServer> {
  const received: string[] = [];
  const port = await freePort();
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      res.statusCode = status();
      if (res.statusCode < 300) received.push(raw);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}/`, received, server, close: () => void server.close() };
}
