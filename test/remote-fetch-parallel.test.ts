/**
 * A restore `--from` fetches the set's files several at once (`parallel` of the destination, default 4): each file
 * costs round trips to a distant destination, so one after another a set of many small files took a round trip
 * per request per file. Against a real folder destination whose reads are held a few milliseconds (the
 * destination opened through the real registry, wrapped), so that the files in flight can be counted.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { Destination } from '../src/destinations/destination.js';
import { fetchSet } from '../src/engine/remote-fetch.js';
import { cli } from './helpers/offsite.js';
import { FakeReporter } from './helpers/reporter.js';
import { demoSetup } from './helpers/tmp.js';

const reads = { now: 0, most: 0 };
vi.mock('../src/destinations/registry.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/destinations/registry.js')>();
  return {
    ...real,
    openDestination: async (...args: Parameters<typeof real.openDestination>) => {
      const dest = await real.openDestination(...args);
      const get = dest.get.bind(dest);
      return Object.assign(Object.create(dest) as Destination, {
        async get(key: string, opts?: { offset?: number }): Promise<Readable> {
          if (key.endsWith('manifest.json')) return get(key, opts);
          reads.now++;
          reads.most = Math.max(reads.most, reads.now);
          await new Promise((r) => setTimeout(r, 10));
          const body = await get(key, opts);
          body.once('close', () => reads.now--);
          return body;
        },
      });
    },
  };
});

describe('a restore --from fetches', () => {
  it('the files of a set several at once: `parallel` of the destination, 4 when not set', async () => {
    const s = demoSetup({ files: { config: [], application: [{ path: './data/many', include: ['**'] }] } });
    mkdirSync(join(s.dir, 'data', 'many'), { recursive: true });
    for (let i = 0; i < 12; i++) writeFileSync(join(s.dir, 'data', 'many', `f${i}.txt`), `file ${i}\n`.repeat(1000));
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    for (const parallel of [undefined, 2]) {
      doc['destinations'] = [
        { name: 'nas', type: 'folder', path: nas, source: 'srv1', ...(parallel ? { parallel } : {}) },
      ];
      writeFileSync(s.configFile, JSON.stringify(doc));
      if (!parallel) await cli(s, ['create']);
      const cfg = await loadConfig({ configPath: s.configFile, env: {} });
      reads.most = 0;
      const fetched = await fetchSet(cfg, 'nas', 'latest', { files: true }, new FakeReporter());
      try {
        const many = readFileSync(join(fetched.dir, 'manifest.json'), 'utf8');
        expect(JSON.parse(many).files.length).toBe(12);
        expect(reads.most).toBe(parallel ?? 4);
      } finally {
        await fetched.remove();
      }
    }
  });
});
