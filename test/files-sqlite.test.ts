/**
 * A SQLite database among the config or application files (not a `databases` entry) is stored as a snapshot
 * taken with SQLite's backup API, with the commits still in its -wal, and its -wal/-shm are not stored: a byte
 * copy of the file alone lacks those commits, and a copy of a live -wal beside it may be torn. A file with the
 * SQLite header that SQLite cannot open is stored byte for byte with a warning naming it.
 */
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup, makeTmpDir, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

/** A WAL-mode database whose rows are all still in its -wal: the connection stays open, nothing is checkpointed. */
function liveWal(file: string, rows: number): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)');
  const insert = db.prepare('INSERT INTO t(v) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(`row ${i}`);
  })();
  return db;
}

/** Opens `file` alone (copied into an empty folder, no -wal beside it): its rows in t, and integrity_check. */
function alone(file: string): { rows: number | null; integrity: string } {
  const copy = join(makeTmpDir(), 'copy.db');
  copyFileSync(file, copy);
  const db = new Database(copy);
  try {
    const integrity = String(db.pragma('integrity_check', { simple: true }));
    const hasT = db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 't'").pluck().get() === 1;
    return { rows: hasT ? (db.prepare('SELECT count(*) FROM t').pluck().get() as number) : null, integrity };
  } finally {
    db.close();
  }
}

describe('a live SQLite database in a config folder or an application folder', () => {
  it('is stored as a consistent snapshot with the rows of its -wal; one SQLite cannot open is copied with a warning', async () => {
    const s = demoSetup((c) => ({
      ...c,
      files: {
        config: ['./data/app/.env', './data/conf'],
        application: [{ path: './data/app', include: ['**'], exclude: ['.env', '*.log', 'tmp/**'] }],
      },
    }));
    const conf = join(s.dataDir, 'conf');
    mkdirSync(conf);
    writeFileSync(join(conf, 'settings.ini'), 'a = 1\n');
    const broken = join(conf, 'broken.db');
    writeFileSync(broken, Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(4080, 0xee)]));
    const writers = [liveWal(join(conf, 'state.db'), 500), liveWal(join(s.appDir, 'cache.db'), 300)];
    let m: Manifest;
    try {
      // As the live files stand, the database file alone does not hold the rows: they are in the -wal.
      expect(alone(join(conf, 'state.db')).rows).toBeNull();
      expect(statSync(join(conf, 'state.db-wal')).size).toBeGreaterThan(0);

      m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--json'])).stdout);
    } finally {
      writers.forEach((w) => w.close());
    }
    expect(m.status).toBe('completed');
    const stored = m.files.map((f) => `${f.group}/${f.relative}`);
    expect(stored).toEqual(
      expect.arrayContaining([
        'config/data/conf/state.db',
        'config/data/conf/broken.db',
        'config/data/conf/settings.ini',
        'application/app/cache.db',
      ]),
    );
    expect(stored.filter((p) => /\.db-(wal|shm|journal)$/.test(p))).toEqual([]);
    expect(m.warnings.filter((w) => w.includes('.db'))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${broken}: SQLite database that could not be opened to take a consistent copy \\(.+\\); stored byte`,
        ),
      ),
    ]);
    await cli(s, ['verify', m.id]);

    const to = join(s.dir, 'restored');
    await cli(s, ['restore', m.id, '--files', '--to', to, '--yes']);
    expect(readdirSync(join(to, 'config', 'data', 'conf')).sort()).toEqual(['broken.db', 'settings.ini', 'state.db']);
    expect(alone(join(to, 'config', 'data', 'conf', 'state.db'))).toEqual({ rows: 500, integrity: 'ok' });
    expect(alone(join(to, 'application', 'app', 'cache.db'))).toEqual({ rows: 300, integrity: 'ok' });
    expect(existsSync(join(to, 'application', 'app', 'cache.db-wal'))).toBe(false);
    expect(readFileSync(join(to, 'config', 'data', 'conf', 'broken.db')).equals(readFileSync(broken))).toBe(true);
  }, 180_000);
});
