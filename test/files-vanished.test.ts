/**
 * A file deleted between the listing of a backup and its reading (a session, a cache file) is a warning that it
 * vanished, as tar and restic say, not a failed file: the set stays COMPLETED. Any other failure to read a file
 * still makes the set partial. The scan and the store are separate steps, so the test deletes between them.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanFiles, storeFiles, unreadable } from '../src/engine/files.js';
import { makeTmpDir } from './helpers/tmp.js';

const errno = (code: string, path?: string) =>
  Object.assign(new Error(`${code}: something, open '${path}'`), { code, ...(path ? { path } : {}) });

describe('unreadable', () => {
  it.each([
    ['gone since listed', errno('ENOENT', '/app/sess_1'), true, 'file.vanished'],
    ['gone, no path in the error', errno('ENOENT'), true, 'file.vanished'],
    ['another path missing (not this file)', errno('ENOENT', '/backups/x'), false, 'file.error'],
    ['permission denied', errno('EACCES', '/app/sess_1'), false, 'file.error'],
    ['an I/O error', errno('EIO', '/app/sess_1'), false, 'file.error'],
  ])('%s', (_what, err, vanished, id) => {
    const r = unreadable('/app/sess_1', err);
    expect(r.vanished).toBe(vanished);
    expect(r.said.phrase.id).toBe(id);
    expect(r.said.message).toContain('/app/sess_1');
  });
});

describe('a file deleted after the scan, before it is stored', () => {
  it('is left out with a warning that it vanished; one that cannot be read for another reason is a problem', async () => {
    const dir = makeTmpDir();
    const app = join(dir, 'app');
    mkdirSync(join(app, 'sessions'), { recursive: true });
    writeFileSync(join(app, 'keep.txt'), 'kept\n');
    writeFileSync(join(app, 'sessions', 'sess_1'), 'gone soon\n');
    writeFileSync(join(app, 'turns-into-folder'), 'x\n');
    const cfg = {
      baseDir: dir,
      databases: [],
      files: { config: [], application: [{ path: app, include: [], exclude: [] }] },
    };
    const scan = await scanFiles(cfg);
    expect(scan.items.map((i) => i.relative)).toEqual(['app/keep.txt', 'app/sessions/sess_1', 'app/turns-into-folder']);
    expect(scan.problems).toEqual([]);

    rmSync(join(app, 'sessions', 'sess_1'));
    rmSync(join(app, 'turns-into-folder'));
    mkdirSync(join(app, 'turns-into-folder'));
    const set = makeTmpDir();
    const stored = await storeFiles(scan.items, set, { codec: 'zstd', level: 3 }, undefined, () => undefined);

    expect(stored.entries.map((e) => e.relative)).toEqual(['app/keep.txt']);
    expect(stored.warnings.map((w) => [w.phrase.id, w.message])).toEqual([
      [
        'file.vanished',
        `${join(app, 'sessions', 'sess_1')}: vanished while being backed up (deleted after it was listed), not stored`,
      ],
    ]);
    expect(stored.problems.map((p) => p.phrase.id)).toEqual(['file.error']);
    expect(stored.problems[0]!.message).toContain('turns-into-folder');
  });
});
