/**
 * Restoring a SQL Server backup onto a server of another version, through the driver against the fake server
 * (test/helpers/sqlserver-fake.ts): a later version restores anything, an earlier one never restores a backup of a
 * later version (error 3169; RESTORE FILELISTONLY says 3241, "incorrectly formed", which reads as a damaged backup).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RespaldoError } from '../src/core/errors.js';
import { CollectingReporter } from '../src/core/events.js';
import type { DatabaseEntry } from '../src/core/types.js';
import type { DriverContext, RestoreRequest } from '../src/drivers/driver.js';
import { createSqlServerDriver } from '../src/drivers/sqlserver/index.js';
import { mapSqlError } from '../src/drivers/sqlserver/errors.js';
import { resolveSettings } from '../src/drivers/sqlserver/config.js';
import { FakeServer, fakeMssqlConfig, sqlError } from './helpers/sqlserver-fake.js';

let dir: string;
let localDir: string;
let server: FakeServer;

function ctx(): DriverContext {
  const reporter = new CollectingReporter();
  return { reporter, signal: new AbortController().signal, scratchDir: join(dir, 'scratch'), log: () => undefined };
}

const driver = () => createSqlServerDriver({ connect: server.connector, retryDelayMs: () => 0 });

/** A full backup of `users` taken through the driver on the current fake server. */
async function backup(): Promise<{ entry: DatabaseEntry; content: Buffer }> {
  const session = await driver().backup({ db: fakeMssqlConfig(localDir), type: 'full', purpose: 'backup' }, ctx());
  const opened = await session.parts[0]!.open();
  const chunks: Buffer[] = [];
  for await (const c of opened.stream) chunks.push(Buffer.from(c as Buffer));
  const facts = await opened.finished;
  await session.cleanup();
  const entry: DatabaseEntry = {
    name: 'users',
    engine: 'sqlserver',
    file: 'databases/users.bak',
    format: 'mssql-bak',
    compressed: false,
    rawBytes: 1000,
    storedBytes: 1000,
    md5: null,
    sha256: null,
    tables: facts.tables,
    durationMs: 1,
    error: null,
    details: facts.details,
  };
  return { entry, content: Buffer.concat(chunks) };
}

function restoreReq(entry: DatabaseEntry, content: Buffer): RestoreRequest {
  return {
    db: fakeMssqlConfig(localDir),
    entry,
    setId: '20261122_101500',
    target: { kind: 'in-place' },
    openPart: () => Readable.from([content]),
    terminateConnections: false,
  };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'respaldo-mssql-version-'));
  localDir = join(dir, 'shared');
  mkdirSync(localDir);
  server = new FakeServer(localDir);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('restore onto a server of another SQL Server version', () => {
  it('a backup of SQL Server 2022 onto SQL Server 2019 fails before anything is copied, naming both versions', async () => {
    server.addDb('users', { 'dbo.t': 5 });
    const { entry, content } = await backup();
    expect(entry.details.serverVersion).toBe('16.0.4135.4');

    server = new FakeServer(localDir);
    server.productVersion = '15.0.4153.1';
    server.addDb('users', { 'dbo.t': 9 });
    const err = (await driver()
      .restore(restoreReq(entry, content), ctx())
      .catch((x: unknown) => x)) as RespaldoError;
    expect(err).toBeInstanceOf(RespaldoError);
    expect(err.exitCode).toBe(7);
    expect(err.message).toMatch(
      /made by SQL Server 2022 \(16\.0\); .* runs SQL Server 2019 \(15\.0\), an older version.*\(error 3169\)\. Nothing was changed\./,
    );
    expect(err.message).not.toMatch(/damaged/);
    expect(err.hint).toMatch(/^Restore it on a server running SQL Server 2022 \(16\.0\) or later/);
    expect(err.phrases?.message?.id).toBe('mssql.olderServer');
    expect(server.log.some((r) => r.sql.startsWith('RESTORE'))).toBe(false);
    expect(readdirSync(localDir)).toEqual([]);
    expect([...server.dbs.keys()]).toEqual(['users']);
    expect(server.dbs.get('users')!.tables).toEqual({ 'dbo.t': 9 });
  });

  it('a backup of SQL Server 2019 restores on SQL Server 2022', async () => {
    server.productVersion = '15.0.4153.1';
    server.addDb('users', { 'dbo.t': 5 });
    const { entry, content } = await backup();
    server = new FakeServer(localDir);
    server.addDb('users', { 'dbo.t': 9 });
    await driver().restore(restoreReq(entry, content), ctx());
    expect(server.dbs.get('users')!.tables).toEqual({ 'dbo.t': 5 });
  });

  it('error 3169 from the server (a set that did not record its version) is said as a version problem', () => {
    const s = resolveSettings(fakeMssqlConfig(localDir));
    const text =
      'The database was backed up on a server running version 16.00.4135. That version is incompatible with this ' +
      'server, which is running version 15.00.4153.';
    const err = Object.assign(sqlError(3013, 'RESTORE DATABASE is terminating abnormally.'), {
      precedingErrors: [sqlError(3169, text)],
    });
    const mapped = mapSqlError(err, 'restore x', s) as RespaldoError;
    expect(mapped.message).toMatch(/made by a later SQL Server version than this server's/);
    expect(mapped.hint).toMatch(/never restores a backup on an older version/);
  });
});
