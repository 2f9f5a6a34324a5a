import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LoadedConfig } from '../src/core/types.js';
import { cleanLeftovers } from '../src/engine/create.js';
import { makeTmpDir } from './helpers/tmp.js';

describe('cleanLeftovers', () => {
  it('removes staging folders of killed runs but not the scratch of a restore running in this process', async () => {
    const backupDir = makeTmpDir();
    // Other tools' files in a shared folder are never touched, nor the scratch of a live restore.
    const others = [
      '.tmp-build',
      '.tmp-restore-notapid',
      '.deleting-mine',
      '20261122_020202',
      `.tmp-restore-${process.ppid}`,
    ];
    const names = [
      '.tmp-20261122_010101',
      '.tmp-restore-999999999',
      '.deleting-20261101_000000-42',
      `.tmp-restore-${process.pid}`,
      ...others,
    ];
    for (const n of names) mkdirSync(join(backupDir, n));
    const removed = await cleanLeftovers({ backupDir, secrets: [] } as unknown as LoadedConfig);
    expect(removed.sort()).toEqual(['.deleting-20261101_000000-42', '.tmp-20261122_010101', '.tmp-restore-999999999']);
    expect(existsSync(join(backupDir, `.tmp-restore-${process.pid}`))).toBe(true);
    for (const n of others) expect(existsSync(join(backupDir, n)), n).toBe(true);
  });
});
