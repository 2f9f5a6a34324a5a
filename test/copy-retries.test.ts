/**
 * A copy over a link that fails on the way and completes on its retries says so: how many requests were tried again,
 * in `--json`, the output and the log of `copy`, the output of `create`'s copy after the backup and the menu's create
 * summary. Before, such a copy looked like any other, and the first sign of a failing link was the copy that failed.
 * A real s3rver behind an HTTP proxy that answers the first uploads of one file with 503.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { silentReporter } from '../src/core/events.js';
import { uiContext } from '../src/ui/app.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { summaryNotices } from '../src/ui/screens/create/summary-notices.js';
import type { Manifest } from '../src/core/types.js';
import type { CopyResult } from '../src/engine/copy.js';
import { logFile } from '../src/engine/log.js';
import { parseJsonOutput } from './helpers/cli.js';
import { startHttpProxy, type HttpProxy } from './helpers/http-proxy.js';
import { cli, SECRET } from './helpers/offsite.js';
import { S3RVER_KEY, s3Destination, startS3rver, stopAllS3rvers } from './helpers/s3rver.js';
import { demoSetup, removeTmpDirs } from './helpers/tmp.js';

const proxies: HttpProxy[] = [];
afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await stopAllS3rvers();
  removeTmpDirs();
});

/** A proxy to s3rver on `port` that answers the next `fail(n)` uploads (PUT) of a path ending in `suffix` with 503. */
async function failingUploads(
  port: number,
  suffix: string,
): Promise<{ port: number; fail(n: number): void; failed(): number }> {
  let armed = 0;
  let failed = 0;
  const proxy = await startHttpProxy(port, (req, res, { method, path }) => {
    if (method !== 'PUT' || !path.endsWith(suffix) || armed === 0) return false;
    armed--;
    failed++;
    req.resume();
    req.on('end', () => {
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Slow down</Message></Error>');
    });
    return true;
  });
  proxies.push(proxy);
  return { port: proxy.port, fail: (n) => void (armed = n), failed: () => failed };
}

/** A demo setup whose destination `offsite` is s3rver behind failingUploads (`.sqlite.zst` uploads). */
async function demoWithFailingS3(extra: Record<string, unknown> = {}) {
  const srv = await startS3rver();
  const s = demoSetup();
  const proxy = await failingUploads(srv.port, '.sqlite.zst');
  const dest = s3Destination(
    { endpoint: `http://127.0.0.1:${proxy.port}`, bucket: srv.bucket },
    { forcePathStyle: true, source: 'srv1', ...extra },
  );
  writeFileSync(
    s.configFile,
    JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), destinations: [dest] }),
  );
  return { s, proxy };
}

describe('a copy that completes on its retries', () => {
  it('says how many requests were tried again: --json, the output, the log; the copy is whole there', async () => {
    const { s, proxy } = await demoWithFailingS3({ copyAfterBackup: false });
    const created = async () =>
      parseJsonOutput<Manifest>((await cli(s, ['create', '--json', '--db', 'users', '--no-files'])).stdout);
    const m = await created();
    proxy.fail(2);
    const [r] = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', m.id, '--json'])).stdout);
    expect(proxy.failed()).toBe(2);
    expect(r).toMatchObject({ ok: true, retries: 2 });
    // What the requests tried again failed with: the store's answer, said once however many times it came.
    expect(r!.retryErrors).toHaveLength(1);
    expect(r!.retryErrors![0]).toMatch(/slow ?down|503/i);
    const copyLine = readFileSync(logFile(s.backupDir), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .findLast((e) => e['event'] === 'copy');
    expect(copyLine).toMatchObject({ setId: m.id, outcome: 'ok', retries: 2, retryErrors: r!.retryErrors });
    await cli(s, ['verify', m.id, '--from', 'offsite', '--read-data']);

    // The output says it too; a copy with nothing retried says nothing of it.
    const m2 = await created();
    proxy.fail(1);
    const said = (await cli(s, ['copy', m2.id])).stdout;
    expect(said).toContain('1 request(s) to offsite tried again after a transient failure');
    expect(said).toMatch(/check the link if it recurs \(the first: .*(slow ?down|503)/i);
    expect(proxy.failed()).toBe(3);
    const [quiet] = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', m2.id, '--verify', '--json'])).stdout);
    expect(quiet).toMatchObject({ ok: true });
    expect(quiet!.retries).toBeUndefined();
  });

  it("the copy after a backup says it too: create's output, and the menu's create summary in Spanish", async () => {
    const { s, proxy } = await demoWithFailingS3();
    proxy.fail(1);
    const out = (await cli(s, ['create', '--db', 'users', '--no-files'])).stdout;
    expect(proxy.failed()).toBe(1);
    expect(out).toContain('Copied to offsite');
    expect(out).toContain('1 request(s) to offsite tried again after a transient failure');
    expect(out).toMatch(/\(the first: .*(slow ?down|503)/i);

    const cfg = await loadConfig({ configPath: s.configFile, env: { S3_KEY_ID: S3RVER_KEY, S3_SECRET_KEY: SECRET } });
    const facade = createEngineFacade(cfg);
    proxy.fail(2);
    const m = await facade.createBackup({ databases: ['users'], type: 'full', files: false }, silentReporter);
    expect(proxy.failed()).toBe(3);
    const offsite = await facade.offsite(m.id);
    expect(offsite).toMatchObject([
      { destination: 'offsite', ok: true, retried: { id: 'dest.retried', params: { count: '2', dest: 'offsite' } } },
    ]);
    const es = uiContext(facade, { TERM: 'xterm-256color', LANG: 'C.UTF-8' }, 'es');
    const text = summaryNotices(m, offsite, null, es, 200)
      .map((r) => r.map((x) => x.text).join(''))
      .join('\n');
    expect(text).toContain('2 petición(es) a offsite repetida(s) tras un fallo pasajero');
    expect(text).toMatch(/revise el enlace si se repite \(la primera: [\s\S]*users_[\s\S]*(slow ?down|503)/i);
    // The first error said in Spanish too, by its phrase: not the English of the CLI inside a Spanish sentence.
    expect(text).toMatch(/\(la primera: destino "offsite":[\s\S]*no responde o cerró la conexión \(al subir /);
    expect(text).not.toContain('unreachable');

    // A backup whose copy needed no retry says nothing of them.
    const quiet = (await cli(s, ['create', '--db', 'users', '--no-files'])).stdout;
    expect(quiet).toContain('Copied to offsite');
    expect(quiet).not.toContain('tried again');
  });
});
