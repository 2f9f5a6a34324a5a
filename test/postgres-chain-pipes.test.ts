import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RespaldoError } from '../src/core/errors.js';
import type { DatabaseConfig } from '../src/core/types.js';
import type { RestoreRequest } from '../src/drivers/driver.js';
import { parseChainMap } from '../src/drivers/postgres/chain.js';
import { createPostgresDriver } from '../src/drivers/postgres/index.js';
import {
  chainRestoreRequest,
  makeCtx,
  nextSetId,
  storeBackup,
  type ChainMember,
  type DriverUnderTest,
} from './drivers/conformance.js';
import {
  pgAvailable,
  plainDump as plainDumpOf,
  processesMentioning,
  startPgCluster,
  type PgCluster,
} from './helpers/pg-cluster.js';

/**
 * A chain set of PostgreSQL restored with its data files fed to pg_restore through named pipes (here every
 * file: pipedMinBytes 1; by default those of 8 MiB or more), each read from the set of the chain storing it
 * and checked against the SHA-256 the set recorded as it passes. A file whose bytes differ stops pg_restore
 * before it sees that file's end: the restore fails naming it, and nothing is left on the server.
 */

const available = pgAvailable();
let cluster: PgCluster;
let work: string;

const plainDump = (database: string): string => plainDumpOf(cluster, database);

/** The request with every opener watched: which data files were opened while they were named pipes. */
function watched(req: RestoreRequest, scratchDir: string): { req: RestoreRequest; piped: string[] } {
  const piped: string[] = [];
  const watch =
    (open: RestoreRequest['openPart']): RestoreRequest['openPart'] =>
    (role) => {
      const name = role?.startsWith('pgdir:') ? role.slice('pgdir:'.length) : null;
      if (name) {
        for (const stage of readdirSync(scratchDir).filter((f) => f.startsWith('pg-directory-')))
          for (const f of readdirSync(join(scratchDir, stage)))
            if (lstatSync(join(scratchDir, stage, f), { throwIfNoEntry: false })?.isFIFO()) piped.push(f);
      }
      return open(role);
    };
  const chain = req.chain?.map((m) => ({ ...m, openPart: watch(m.openPart) }));
  return { req: { ...req, openPart: watch(req.openPart), ...(chain ? { chain } : {}) }, piped };
}

describe.skipIf(!available)('PostgreSQL chain sets through named pipes', () => {
  const driver = createPostgresDriver({ pipedMinBytes: 1 });
  let dut: DriverUnderTest;
  let db: DatabaseConfig;
  let full: ChainMember;
  let inc: ChainMember;
  let atInc: string;

  beforeAll(async () => {
    cluster = await startPgCluster();
    work = mkdtempSync(join(tmpdir(), 'respaldo-pgchain-pipes-'));
    dut = { driver, workDir: () => work } as DriverUnderTest;
    cluster.createDatabase('shop');
    cluster.psql(
      `CREATE TABLE kept (id int PRIMARY KEY, v text);
       INSERT INTO kept SELECT g, 'kept row ' || g FROM generate_series(1, 20000) g;
       CREATE TABLE changed (id int PRIMARY KEY, v text);
       INSERT INTO changed SELECT g, 'first ' || g FROM generate_series(1, 500) g;
       CREATE TABLE other (n text); INSERT INTO other VALUES ('x'), ('y');`,
      'shop',
    );
    db = { name: 'shop', engine: 'postgres', url: cluster.url('shop') };
    full = { ...(await storeBackup(dut, db)), setId: nextSetId() };
    cluster.psql(`UPDATE changed SET v = 'second ' || id WHERE id % 7 = 0; INSERT INTO other VALUES ('z')`, 'shop');
    inc = { ...(await storeBackup(dut, db, 'backup', { type: 'incremental', base: full })), setId: nextSetId() };
    expect(inc.fellBack).toBeUndefined();
    expect(inc.entry.base).toBe(full.setId);
    atInc = plainDump('shop');
    // after the incremental, so a restore of it differs from the live database
    cluster.psql(`DELETE FROM kept WHERE id > 10`, 'shop');
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the incremental restores its point, the files stored by the full read from it through the pipes', async () => {
    const ctx = makeCtx(dut);
    const { req, piped } = watched(
      chainRestoreRequest(db, [full, inc], { kind: 'side-by-side', name: 'shop_at_inc' }),
      ctx.scratchDir,
    );
    const result = await driver.restore(req, ctx);
    expect(result.restoredTo).toBe('shop_at_inc');
    expect(plainDump('shop_at_inc')).toBe(atInc);
    const map = parseChainMap(await text(req.openPart('pgchain')));
    expect(Object.values(map.files).some((f) => f.set === full.setId)).toBe(true);
    expect(new Set(piped)).toEqual(new Set(Object.keys(map.files)));
    expect(readdirSync(ctx.scratchDir).filter((f) => f.startsWith('pg-directory-'))).toEqual([]);
  });

  test('a file of the full whose bytes differ from what the incremental recorded: pg_restore is stopped before its end', async () => {
    const map = parseChainMap(readFileSync(inc.files['pgchain']!, 'utf8'));
    const [name, ref] = Object.entries(map.files).find(([, f]) => f.set === full.setId && f.bytes > 1000)!;
    // One letter changed inside a row: the same size, still valid COPY data, another SHA-256.
    const role = `pgdir:${ref.stored}`;
    const bytes = readFileSync(full.files[role]!, 'latin1');
    expect(bytes).toContain('kept row 1234');
    const altered = join(work, 'altered.dat');
    writeFileSync(altered, bytes.replace('kept row 1234', 'kept row 1235'), 'latin1');
    const damaged: ChainMember = { ...full, files: { ...full.files, [role]: altered } };

    const ctx = makeCtx(dut);
    const { req, piped } = watched(
      chainRestoreRequest(db, [damaged, inc], { kind: 'side-by-side', name: 'shop_damaged' }),
      ctx.scratchDir,
    );
    const err = await driver.restore(req, ctx).catch((e: unknown) => e);
    expect(piped).toContain(name);
    expect(err).toBeInstanceOf(RespaldoError);
    expect((err as Error).message).toContain(`Reading the stored dump of shop failed (${name})`);
    expect((err as Error).message).toContain(`read from set ${full.setId}, differs from what the set recorded`);
    expect(cluster.databases().filter((n) => n.startsWith('shop__') || n === 'shop_damaged')).toEqual([]);
    expect(processesMentioning('shop__restore_')).toEqual([]);
    expect(readdirSync(ctx.scratchDir).filter((f) => f.startsWith('pg-directory-'))).toEqual([]);
  });
});
