/**
 * The room check before a PostgreSQL incremental counts what pg_dump stages in the backup folder: every table's data
 * file, the unchanged ones too (only the changed ones are stored). It took the newest incremental's stored dump files
 * alone, so on a disk without room for the big unchanged table the next incremental was not warned about. A real
 * cluster, the backup folder on a small tmpfs (root, as CI runs).
 */
import { statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { pgCli, writePgConfig } from './helpers/pg-cli.js';
import { makeTmpDir } from './helpers/tmp.js';
import { mountSmallDisk, tmpfsProblem, unmountAllSmallDisks } from './helpers/tmpfs.js';

const problem = tmpfsProblem() ?? (pgAvailable() ? null : 'no PostgreSQL binaries');
if (problem) console.log(`SKIPPED postgres-room-incremental: ${problem}.`);
const PASSWORD = `room-${Math.random().toString(36).slice(2, 10)}`;

describe.skipIf(problem !== null)('room for a PostgreSQL incremental', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await startPgCluster({ password: PASSWORD });
  }, 120_000);
  afterEach(unmountAllSmallDisks);
  afterAll(async () => {
    await cluster?.stop();
  });

  test('after an incremental, a disk without room for the unchanged big table staged again is warned about', () => {
    cluster.createDatabase('shop');
    cluster.psql(
      "CREATE TABLE big (t text); INSERT INTO big SELECT string_agg(md5(random()::text || g::text || i::text), '') " +
        'FROM generate_series(1, 1000) g, generate_series(1, 100) i GROUP BY g; CREATE TABLE small (n int); ' +
        'INSERT INTO small VALUES (1);',
      'shop',
    );
    const dir = makeTmpDir();
    const disk = mountSmallDisk(join(dir, 'backups'), 16 << 20);
    const config = writePgConfig(cluster, dir, ['shop']);
    const full = pgCli(config, PASSWORD, ['create', '--type', 'full']);
    expect(full.code, full.stderr).toBe(0);
    cluster.psql('INSERT INTO small VALUES (2);', 'shop');
    const inc = pgCli(config, PASSWORD, ['create', '--type', 'incremental']);
    expect(inc.code, inc.stderr).toBe(0);
    expect(inc.stdout).toContain('(incremental)');
    // About 1.5 MB free: room for what the incremental stored, not for the 3.2 MB table pg_dump writes again.
    const st = statfsSync(disk.dir);
    writeFileSync(join(disk.dir, 'filler'), Buffer.alloc(st.bavail * st.bsize - (1536 << 10)));
    const again = pgCli(config, PASSWORD, ['create', '--type', 'incremental']);
    expect(again.stderr).toMatch(
      /The disk of the backup folder .* has 1\.\d MB free; this backup is estimated to need about .* \(what the last incremental set, \S+, stored/,
    );
  }, 180_000);
});
