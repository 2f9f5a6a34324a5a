/**
 * The room check before a backup counts a SQLite database's snapshot at the database's size. It took the newest set's
 * raw bytes of it, which after an incremental are only the pages that changed: on a disk that cannot hold the
 * snapshot, the next incremental was neither warned about nor refused, and filled the disk the database lives on.
 * A small disk is a tmpfs (root only; CI runs as root).
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { readdirSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeResult, runCli } from './helpers/cli.js';
import { makeTmpDir, writeConfig } from './helpers/tmp.js';
import { mountSmallDisk, tmpfsProblem, unmountAllSmallDisks } from './helpers/tmpfs.js';

afterEach(unmountAllSmallDisks);

const problem = tmpfsProblem();
if (problem) console.log(`SKIPPED create-room-incremental: ${problem}.`);

describe.skipIf(problem !== null)('room for an incremental SQLite backup', () => {
  it('after an incremental, a disk without room for the snapshot refuses the next one (the database is on it)', async () => {
    const dir = makeTmpDir();
    const disk = mountSmallDisk(join(dir, 'disk'), 8 << 20);
    const dbFile = join(disk.dir, 'app.db');
    const db = new Database(dbFile);
    db.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)');
    const insert = db.prepare('INSERT INTO blobs (data) VALUES (?)');
    for (let i = 0; i < 24; i++) insert.run(randomBytes(100_000)); // about 2.4 MB that does not compress
    db.close();
    const s = writeConfig(
      dir,
      {
        backupDir: './disk/backups',
        databases: [{ name: 'app', engine: 'sqlite', path: './disk/app.db' }],
        files: undefined,
      },
      { demo: false },
    );
    const cli = (args: string[]) => runCli([...args, '--config', s.configFile], { cwd: dir });
    const full = await cli(['create', '--type', 'full']);
    expect(full.code, describeResult(full)).toBe(0);
    const change = new Database(dbFile);
    change.prepare('UPDATE blobs SET data = ? WHERE id = 1').run(randomBytes(100_000));
    change.close();
    const inc = await cli(['create', '--type', 'incremental', '--json']);
    expect(inc.code, describeResult(inc)).toBe(0);
    expect(inc.stdout).toContain('"type": "incremental"');
    // Leave about 1.5 MB free: more than the last incremental needed, less than the 2.4 MB snapshot.
    const st = statfsSync(disk.dir);
    writeFileSync(join(disk.dir, 'filler'), Buffer.alloc(st.bavail * st.bsize - (1536 << 10)));
    const sets = readdirSync(join(disk.dir, 'backups')).filter((n) => /^\d{8}_\d{6}/.test(n));
    const again = await cli(['create', '--type', 'incremental']);
    expect(again.code, describeResult(again)).toBe(9);
    expect(again.stderr).toContain('is on the disk of the SQLite files of app');
    // Refused before anything was written.
    expect(readdirSync(join(disk.dir, 'backups')).filter((n) => /^\d{8}_\d{6}/.test(n))).toEqual(sets);
  });
});
