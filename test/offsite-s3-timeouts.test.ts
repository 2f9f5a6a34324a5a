/**
 * An S3 store that accepts connections and then answers nothing (s3rver stopped with SIGSTOP): requests time out
 * on inactivity (`timeoutSeconds`), are retried, then fail naming the destination (list: exit 7, copy: exit 12);
 * and a SIGTERM while a request hangs stops the run at once (exit 130), without waiting for the timeouts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, describeResult, startCli, waitFor } from './helpers/cli.js';
import { SECRET, cli } from './helpers/offsite.js';
import { S3RVER_KEY, startS3rver, stopAllS3rvers, s3Destination, type S3Server } from './helpers/s3rver.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

afterEach(stopAllS3rvers);

function withS3(s: DemoSetup, srv: S3Server, extra: Record<string, unknown> = {}): void {
  writeFileSync(
    s.configFile,
    JSON.stringify({
      ...JSON.parse(readFileSync(s.configFile, 'utf8')),
      destinations: [s3Destination(srv, { source: 'srv1', copyAfterBackup: false, ...extra })],
    }),
  );
}

/** Whether a TCP connection to 127.0.0.1:`port` is established (from /proc/net/tcp). */
function connectedTo(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .some((line) => {
      const f = line.trim().split(/\s+/);
      return f[2] === `0100007F:${hex}` && f[3] === '01';
    });
}

const env = { S3_KEY_ID: S3RVER_KEY, S3_SECRET_KEY: SECRET };

describe('an S3 store that answers nothing (frozen)', () => {
  it('list --from and copy time out on inactivity, retried, then exit 7 and 12 naming the destination', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    withS3(s, srv, { timeoutSeconds: 1 });
    await cli(s, ['create']);
    srv.freeze();
    try {
      const list = await cli(s, ['list', '--from', 'offsite'], 7);
      expect(list.stderr).toMatch(/destination "offsite": listing .*unreachable or failing \(TimeoutError/);
      expect(list.stderr).toContain('hint:');
      const copy = await cli(s, ['copy', '--to', 'offsite'], 12);
      expect(copy.stderr).toMatch(/NOT copied: \d{8}_\d{6} to offsite: destination "offsite": .*TimeoutError/);
    } finally {
      srv.thaw();
    }
    // The store back: the copy completes.
    await cli(s, ['copy', '--to', 'offsite']);
  });

  it('a SIGTERM while a request hangs stops list --from and copy at once (exit 130)', async () => {
    const srv = await startS3rver();
    const s = demoSetup();
    withS3(s, srv); // the default timeout (30 s): the signal must not wait for it
    await cli(s, ['create']);
    srv.freeze();
    try {
      for (const args of [
        ['list', '--from', 'offsite'],
        ['copy', '--to', 'offsite'],
      ]) {
        const child = startCli([...args, '--config', s.configFile], { cwd: s.dir, env });
        const done = collect(child);
        await waitFor(() => connectedTo(srv.port), 'a connection to the frozen store', 20_000);
        const t0 = Date.now();
        child.kill('SIGTERM');
        const r = await done;
        expect(r.code, describeResult(r)).toBe(130);
        expect(Date.now() - t0).toBeLessThan(10_000);
        expect(r.stderr).toContain('SIGTERM received, stopping safely');
      }
    } finally {
      srv.thaw();
    }
  });
});
