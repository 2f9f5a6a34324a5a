/**
 * pipeToNewFile: a copy that fails rejects only once its file is closed, so that removing the file on
 * failure removes it for good (a write stream destroyed before its open finished creates the file later).
 */
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pipeToNewFile } from '../src/core/durable-fs.js';

const dir = mkdtempSync(join(tmpdir(), 'respaldo-durable-fs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pipeToNewFile', () => {
  it('copies a stream into a new file, and refuses an existing one', async () => {
    const from = join(dir, 'source');
    writeFileSync(from, 'content');
    const to = join(dir, 'copy');
    await pipeToNewFile(createReadStream(from), to, { mode: 0o600 });
    expect(readFileSync(to, 'utf8')).toBe('content');
    await expect(pipeToNewFile(createReadStream(from), to, { mode: 0o600 })).rejects.toThrow(/EEXIST/);
  });

  it('a source that fails at once: the file is already there when it rejects, never created after', async () => {
    for (let i = 0; i < 100; i++) {
      const to = join(dir, `failed-${i}`);
      await expect(pipeToNewFile(createReadStream(join(dir, 'missing')), to, { mode: 0o600 })).rejects.toThrow(
        /ENOENT/,
      );
      // With a plain pipeline the file often appears only after the rejection (after a caller removed it).
      expect(existsSync(to), `attempt ${i}`).toBe(true);
    }
  });
});
