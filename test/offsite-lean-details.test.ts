/**
 * What the menu reads of a set at a destination (its restore and drill from there): the head of its manifest, its
 * first DETAILS_FILES files and what all of them are, read lean there (remote.ts readRemoteManifestLean), as the
 * details of a set here are; each entry is still checked as it is read. The listing of a destination counts each
 * set's files without keeping them. Read whole, the manifest there of a set of 100 000 files peaked at 192–197 MiB
 * RSS in the menu's restore wizard.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { Manifest } from '../src/core/types.js';
import { manifestText } from '../src/engine/manifest.js';
import { createEngineFacade, DETAILS_FILES } from '../src/ui/engine-facade.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { demoSetup } from './helpers/tmp.js';

const COUNT = 50;

describe('a set at a destination, as the menu reads it', () => {
  it('its head, first files and their count come from the destination (not this folder); a bad entry is damage', async () => {
    const nas = join(demoSetup({}, { demo: false }).dir, 'nas');
    mkdirSync(nas, { mode: 0o700 });
    const s = demoSetup({
      source: 'srv1',
      files: { config: [], application: [{ path: './data/uploads' }] },
      destinations: [{ name: 'nas', type: 'folder', path: nas }],
    });
    mkdirSync(join(s.dataDir, 'uploads'));
    writeFileSync(join(s.dataDir, 'uploads', 'one.bin'), 'one');
    const id = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--json'])).stdout).id;
    const there = join(nas, 'srv1', id, 'manifest.json');
    expect(existsSync(there)).toBe(true);
    // There, the one file stored named COUNT ways; here, the set is gone (a new server restoring from the copy).
    const m = JSON.parse(readFileSync(there, 'utf8')) as Manifest;
    const one = m.files.find((f) => f.relative.endsWith('one.bin'))!;
    m.files = Array.from({ length: COUNT }, (_, i) => ({ ...one, relative: `uploads/f${i}.bin` }));
    m.totals = { ...m.totals, files: COUNT };
    writeFileSync(there, [...manifestText(m)].join(''));
    rmSync(join(s.backupDir, id), { recursive: true });

    const facade = createEngineFacade(await loadConfig({ configPath: s.configFile }));
    const details = await facade.readSetDetails(id, 'nas');
    expect(details.manifest.id).toBe(id);
    expect(details.manifest.databases.map((d) => d.name)).toEqual(['users']);
    expect(details.manifest.files.map((f) => f.relative)).toEqual(
      Array.from({ length: DETAILS_FILES }, (_, i) => `uploads/f${i}.bin`),
    );
    expect(details.files).toEqual({ count: COUNT, bytes: COUNT * 3, groups: ['application'] });
    const listed = await facade.listSets({ from: 'nas' });
    expect(listed.map((x) => [x.id, x.files, x.fileGroups])).toEqual([[id, COUNT, ['application']]]);

    // An entry past the first ones that fails its checks: the set there is damaged, as when it was read whole.
    m.files[COUNT - 1] = { ...one, relative: '../outside.bin' };
    writeFileSync(there, [...manifestText(m)].join(''));
    const bad = await facade.readSetDetails(id, 'nas').then(
      () => null,
      (err: Error) => err.message,
    );
    expect(bad).toContain(`set srv1/${id} has a bad manifest`);
    const again = await facade.listSets({ from: 'nas' });
    expect(again.length).toBe(0);
    expect(again.damaged?.map((d) => d.id)).toEqual([id]);
  }, 60_000);
});
