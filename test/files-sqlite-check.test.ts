/**
 * A SQLite database among the config and application files is stored as a snapshot (files-sqlite.test.ts); the
 * snapshot is checked with `PRAGMA quick_check` before it is stored. One that fails it (here an index page
 * overwritten: the file opens, its rows read, quick_check reports the page) is still stored, as it is what the
 * operator has, with a warning naming the file and what the check said. A healthy one gives no warning.
 */
import Database from 'better-sqlite3';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { demoSetup } from './helpers/tmp.js';

/** A database of 2000 rows with an index on v; returns the number of a leaf page of that index. */
function indexedDb(file: string): { leaf: number; pageSize: number } {
  const db = new Database(file);
  try {
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t(v)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 2000; i++) insert.run(`value ${i}`);
    })();
    const root = db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 't_v'").pluck().get() as number;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const page = readFileSync(file).subarray((root - 1) * pageSize, root * pageSize);
    expect(page[0]).toBe(0x02); // an interior index page: its right-most child is a leaf
    return { leaf: page.readUInt32BE(8), pageSize };
  } finally {
    db.close();
  }
}

function quickCheck(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('PRAGMA quick_check').pluck().all() as string[]).join('\n');
  } finally {
    db.close();
  }
}

describe('a SQLite database among the application files whose snapshot fails quick_check', () => {
  it('is stored as it is, with a warning naming it and what the check said; the set stays COMPLETED', async () => {
    const s = demoSetup();
    const damaged = join(s.appDir, 'cache.db');
    const healthy = join(s.appDir, 'sessions.db');
    indexedDb(healthy);
    const { leaf, pageSize } = indexedDb(damaged);
    // The second half of the leaf page (its cells) overwritten: the schema and the table still read.
    const fd = openSync(damaged, 'r+');
    writeSync(fd, Buffer.alloc(pageSize / 2, 0x41), 0, pageSize / 2, (leaf - 1) * pageSize + pageSize / 2);
    closeSync(fd);
    expect(quickCheck(damaged)).toContain(`page ${leaf} cell`);
    const before = readFileSync(damaged);

    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--json'])).stdout);
    expect(m.status).toBe('completed');
    expect(m.warnings).toHaveLength(1);
    expect(m.warnings[0]).toMatch(
      new RegExp(
        `^${damaged.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: SQLite database whose snapshot fails PRAGMA quick_check \\(Tree \\d+ page ${leaf} cell \\d+: Extends off end of page;`,
      ),
    );
    expect(m.files.map((f) => f.relative)).toEqual(expect.arrayContaining(['app/cache.db', 'app/sessions.db']));

    const to = join(s.dir, 'restored');
    await cli(s, ['restore', m.id, '--files', '--to', to, '--yes']);
    const restored = join(to, 'application', 'app', 'cache.db');
    // The snapshot is what the operator had: the same damage (SQLite rewrites the header's counters, not pages).
    const page = (b: Buffer) => b.subarray((leaf - 1) * pageSize, leaf * pageSize);
    expect(page(readFileSync(restored)).equals(page(before))).toBe(true);
    expect(quickCheck(restored)).toBe(quickCheck(damaged));
    expect(quickCheck(join(to, 'application', 'app', 'sessions.db'))).toBe('ok');
  }, 120_000);
});
