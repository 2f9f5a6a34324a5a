/**
 * The last manifests read are kept (the menu reads a set's manifest for its list, header, details, drills and
 * copies), within a budget of their heads' sizes: a set of a PostgreSQL database of 5000 tables has a head of 2.4 MB
 * (its `databases` entry lists every stored file), and 256 of them were all kept. A caller that only looks at a head
 * (`shared`) gets the one kept, not a copy.
 */
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { leanReadsKept, readManifestLean } from '../src/engine/manifest.js';
import { runCli } from './helpers/cli.js';
import { demoSetup, removeTmpDirs } from './helpers/tmp.js';

afterAll(() => removeTmpDirs());

describe('the last manifests read, kept within a budget', () => {
  it('sets of 5000 stored files each: at most 32 MiB of heads kept; a shared read is the head kept', async () => {
    const s = demoSetup();
    expect(
      (await runCli(['--config', s.configFile, 'create', '--db', 'users', '--no-files'], { cwd: s.dir })).code,
    ).toBe(0);
    const [id] = readdirSync(s.backupDir).filter((n) => /^\d{8}_\d{6}$/.test(n));
    const m = JSON.parse(readFileSync(join(s.backupDir, id!, 'manifest.json'), 'utf8')) as Manifest;
    const db = m.databases[0]!;
    const like = {
      role: 'pgdir:1.dat',
      file: db.file!,
      compressed: true,
      rawBytes: 1,
      storedBytes: 1,
      md5: db.md5!,
      sha256: db.sha256!,
    };
    db.extras = Array.from({ length: 5000 }, (_, i) => ({
      ...like,
      role: `pgdir:${i}.dat`,
      file: `databases/t/${i}.dat.zst`,
    }));
    const text = JSON.stringify(m, null, 2) + '\n';
    expect(text.length).toBeGreaterThan(1.5e6);
    // 24 such sets (ids one second apart), each read twice as the menu does.
    const dirs = Array.from({ length: 24 }, (_, i) => {
      const sid = `20261201_0100${String(i).padStart(2, '0')}`;
      const dir = join(s.backupDir, sid);
      mkdirSync(dir);
      cpSync(join(s.backupDir, id!, 'databases'), join(dir, 'databases'), { recursive: true });
      writeFileSync(join(dir, 'manifest.json'), text.replace(`"id": "${m.id}"`, `"id": "${sid}"`));
      return dir;
    });
    const before = leanReadsKept();
    for (const dir of dirs) {
      const head = readManifestLean(dir).head;
      expect(head.databases[0]!.extras).toHaveLength(5000);
      expect(readManifestLean(dir, { shared: true }).head).toBe(readManifestLean(dir, { shared: true }).head);
      // A caller that may change its head gets a copy: the one kept is not changed.
      head.databases[0]!.extras!.length = 0;
      expect(readManifestLean(dir).head.databases[0]!.extras).toHaveLength(5000);
    }
    const kept = leanReadsKept();
    expect(kept.bytes).toBeLessThanOrEqual(32 << 20);
    expect(kept.count - before.count).toBeLessThan(24);
    expect(kept.count - before.count).toBeGreaterThanOrEqual(10);
  });
});
