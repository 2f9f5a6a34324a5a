import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { makeBigDb } from './sqlite.js';

/**
 * One big SQLite database of random blobs (incompressible, so `create` takes seconds) shared by
 * the tests of a file: made in beforeAll, removed in afterAll. Returns a getter for its path.
 */
export function useBigDb(mb = 200): () => string {
  let dir = '';
  let file = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'respaldo-big-'));
    file = join(dir, 'big.db');
    makeBigDb(file, mb);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () => file;
}
