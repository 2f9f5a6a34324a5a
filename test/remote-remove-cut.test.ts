import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FolderDestination } from '../src/destinations/folder.js';
import { removeSetFolder } from '../src/engine/remote-prune.js';
import { makeTmpDir } from './helpers/tmp.js';

/**
 * A prune or delete at a destination cut while it removes a set's folders (killed in that walk, the connection lost):
 * what it leaves must be a set that the next `prune --from` or `delete ID --from` sees, not empty folders that no
 * listing shows.
 */
describe('removing a set folder at a destination, cut while its folders are removed', () => {
  it('leaves a file there (an unfinished set that listings show), not only empty folders', async () => {
    const root = makeTmpDir();
    const set = join(root, 'srv1', '20261201_020000');
    for (const f of ['manifest.json', 'databases/users.sqlite.zst', 'application/app/sub/deep/x.txt.zst']) {
      mkdirSync(join(set, f, '..'), { recursive: true });
      writeFileSync(join(set, f), 'x');
    }
    const real = new FolderDestination('nas', root);
    const key = 'srv1/20261201_020000';
    const files = await real.listFiles(key);
    expect(files).toHaveLength(3);
    // The run stops the first time it walks the folders to remove them.
    const cut = Object.create(real) as FolderDestination;
    cut.removeEmptyDirs = () => Promise.reject(new Error('killed while removing the folders'));
    await expect(removeSetFolder(cut, key, files)).rejects.toThrow('killed');

    const left = await real.listFiles(key);
    expect(left.map((f) => f.path)).toEqual(['databases/users.sqlite.zst']);
    expect((await real.listSets('srv1')).map((x) => x.id)).toEqual([]); // its manifest went first

    // Uncut, everything goes, folders included.
    await removeSetFolder(real, key, left);
    expect(await real.listFiles('srv1')).toEqual([]);
    expect(() => mkdirSync(set)).not.toThrow(); // the set's folder itself was removed
  });
});
