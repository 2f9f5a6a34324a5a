/**
 * Fixtures shared by the tests of the SQL Server driver's executor against the in-process fake server
 * (test/sqlserver-executor-*.test.ts): a temp folder standing for the folder shared with SQL Server, a fresh
 * FakeServer, reporter and log for each test (`useExecutorFixtures` registers that), and the requests, entries and
 * .bak stand-ins those tests build. The bindings below are reassigned before each test; read them, never keep them.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach } from 'vitest';
import { CollectingReporter } from '../../src/core/events.js';
import type { DatabaseConfig, DatabaseEntry } from '../../src/core/types.js';
import type { DriverContext, RestoreRequest } from '../../src/drivers/driver.js';
import { createSqlServerDriver } from '../../src/drivers/sqlserver/index.js';
import { FakeServer, fakeMssqlConfig } from './sqlserver-fake.js';

export let dir: string;
export let localDir: string;
export let server: FakeServer;
export let reporter: CollectingReporter;
export let logLines: string[];

/** Registers, in the calling test file, a fresh temp folder, FakeServer, reporter and log before each test. */
export function useExecutorFixtures(): void {
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'respaldo-mssql-fake-'));
    localDir = join(dir, 'shared');
    mkdirSync(localDir);
    server = new FakeServer(localDir);
    reporter = new CollectingReporter();
    logLines = [];
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
}

/** A new FakeServer on the same shared folder, for a test that runs its case again from scratch. */
export function resetServer(): FakeServer {
  server = new FakeServer(localDir);
  return server;
}

/** A new reporter, for a test that runs its case again from scratch. */
export function resetReporter(): CollectingReporter {
  reporter = new CollectingReporter();
  return reporter;
}

export function ctx(signal = new AbortController().signal): DriverContext {
  return { reporter, signal, scratchDir: join(dir, 'scratch'), log: (m) => logLines.push(m) };
}

export function cfg(extra: Partial<DatabaseConfig> = {}): DatabaseConfig {
  return fakeMssqlConfig(localDir, extra);
}

export const LIVE_TABLES = { 'dbo.Album': 347, 'dbo.Artist': 275 };
export const BACKUP_TABLES = { 'dbo.Album': 300, 'dbo.Artist': 250 };

export function entry(tables: Record<string, number> | null = BACKUP_TABLES): DatabaseEntry {
  return {
    name: 'users',
    engine: 'sqlserver',
    file: 'databases/users.bak',
    format: 'mssql-bak',
    compressed: false,
    rawBytes: 1000,
    storedBytes: 1000,
    md5: null,
    sha256: null,
    tables,
    durationMs: 1,
    error: null,
    details: {},
  };
}

export function bakContent(tables: Record<string, number> = BACKUP_TABLES): string {
  return JSON.stringify({ magic: 'FAKEBAK', database: 'users', id: 'users#from-backup', tables, compressed: true });
}

export function restoreReq(over: Partial<RestoreRequest> = {}, content = bakContent()): RestoreRequest {
  return {
    db: cfg(),
    entry: entry(),
    setId: '20261122_101500',
    target: { kind: 'in-place' },
    openPart: () => Readable.from([Buffer.from(content)]),
    terminateConnections: false,
    ...over,
  };
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export const statementsOf = (s: FakeServer): string[] => s.log.map((r) => r.sql.split('\n')[0]!);

/** Backs `users` up through the driver and returns the stored content and the manifest entry. */
export async function backupThroughDriver(
  driver = createSqlServerDriver({ connect: server.connector, retryDelayMs: () => 0 }),
  purpose: 'backup' | 'safety' = 'backup',
  c = ctx(),
): Promise<{ content: string; entry: DatabaseEntry }> {
  const session = await driver.backup({ db: cfg(), type: 'full', purpose }, c);
  const opened = await session.parts[0]!.open();
  const content = await readAll(opened.stream);
  const facts = await opened.finished;
  await session.cleanup();
  return { content, entry: { ...entry(facts.tables), details: facts.details } };
}

export const noDelay = (): ReturnType<typeof createSqlServerDriver> =>
  createSqlServerDriver({ connect: server.connector, retryDelayMs: () => 0 });
export const warnings = (): string[] => reporter.events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
