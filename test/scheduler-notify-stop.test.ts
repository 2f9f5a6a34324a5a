import { createServer, type Server, type Socket } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, describeResult, startCli, waitFor } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

/**
 * A mail server that takes the connection and never answers (a firewall dropping the replies, a hung relay), as the
 * scheduler tells it how a job ended, and the operator stops the scheduler twice to abort: it stops at once. It
 * waited for the mail server's timeouts and retries (about 48 s) while saying "aborting the running job".
 */
const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function silentServer(): Promise<{ port: number; connections: () => number }> {
  let n = 0;
  const server = createServer((socket) => {
    n++;
    sockets.push(socket);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, connections: () => n };
}

describe('stopping the scheduler while it tells a mail server that never answers', () => {
  it('a second SIGTERM gives the channel up at once: exit 130, the set kept, the log says it was not sent', async () => {
    const mail = await silentServer();
    const s = demoSetup((c) => ({
      ...c,
      files: undefined,
      schedule: { jobs: [{ name: 'minutely', when: '* * * * *', type: 'full', databases: ['*'], files: false }] },
      notifications: [
        {
          type: 'email',
          name: 'ops',
          on: ['success', 'failure', 'partial'],
          host: '127.0.0.1',
          port: mail.port,
          tls: 'none',
          from: 'respaldo@example.com',
          to: ['ops@example.com'],
        },
      ],
    }));
    // A first start catches the job up at once; its end is told to the silent server.
    const child = startCli(['scheduler', '--config', s.configFile], { cwd: s.dir });
    const done = collect(child);
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    await waitFor(() => mail.connections() > 0, 'the scheduler to connect to the mail server', 60_000, 20);
    child.kill('SIGTERM');
    await waitFor(() => err.includes('finishing the running job'), 'the first SIGTERM to be taken', 10_000, 10);
    const aborted = Date.now();
    child.kill('SIGTERM');
    const r = await done;
    const took = Date.now() - aborted;
    expect(r.code, describeResult(r)).toBe(130);
    expect(took, describeResult(r)).toBeLessThan(10_000);
    expect(r.stdout).toMatch(/minutely: COMPLETED set \d{8}_\d{6}/);
    const logs = join(s.backupDir, 'logs');
    const log = readdirSync(logs)
      .map((f) => readFileSync(join(logs, f), 'utf8'))
      .join('');
    expect(log).toMatch(/"event":"notify".*"channel":"ops".*"outcome":"failed".*"not sent: the run was stopped/);
  });
});
