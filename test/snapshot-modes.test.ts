import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, describeResult, runShell, shq } from './helpers/cli.js';
import { makeTmpDir } from './helpers/tmp.js';

/**
 * Runs the built SQLite driver's backup in a child under `umask 000` and records the mode of every file the
 * snapshot copy opens in the scratch folder, as it is opened (before a byte is written: the snapshot and, in WAL
 * mode, the copy of the -wal), the modes in the scratch folder when the snapshot step starts, and once the stored
 * stream was read.
 */
const CHILD = `
import fs, { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { syncBuiltinESMExports } from 'node:module';
const [driverUrl, file, scratch] = process.argv.slice(2);
const opened = [];
const note = (p, fd) => {
  if (String(p).startsWith(scratch)) opened.push(basename(String(p)) + ' ' + (fs.fstatSync(fd).mode & 0o777).toString(8));
};
const openSync = fs.openSync;
fs.openSync = (p, ...rest) => { const fd = openSync(p, ...rest); note(p, fd); return fd; };
const open = fs.promises.open;
fs.promises.open = async (p, ...rest) => { const fh = await open(p, ...rest); note(p, fh.fd); return fh; };
syncBuiltinESMExports();
const { sqliteDriver } = await import(driverUrl);
const modes = () => Object.fromEntries(readdirSync(scratch).map((n) => [n, (statSync(join(scratch, n)).mode & 0o777).toString(8)]));
const during = [];
const reporter = { emit: (e) => { if (e.type === 'item-progress' && /snapshot/.test(e.message ?? '')) during.push(modes()); } };
const logs = [];
const ctx = { reporter, signal: new AbortController().signal, scratchDir: scratch, log: (m, d) => logs.push({ m, ...d }) };
const session = await sqliteDriver.backup({ db: { name: 'big', engine: 'sqlite', path: file }, type: 'full', purpose: 'backup' }, ctx);
const part = await session.parts[0].open();
for await (const _ of part.stream) { /* read it all */ }
await part.finished;
const after = modes();
await session.cleanup();
process.stdout.write(JSON.stringify({ umask: process.umask().toString(8), opened, during, after, logs }));
`;

describe('the SQLite snapshot is 0600 from its first byte, whatever the umask', () => {
  it.each(['delete', 'wal'])('journal_mode %s, umask 000', async (journal) => {
    const dir = makeTmpDir();
    const file = join(dir, 'big.db');
    const db = new Database(file);
    db.pragma(`journal_mode = ${journal}`);
    db.pragma('wal_autocheckpoint = 0'); // commits stay in the -wal while this connection is open
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, pad BLOB)');
    const ins = db.prepare('INSERT INTO t (pad) VALUES (randomblob(1000))');
    db.transaction(() => {
      for (let i = 0; i < 3000; i++) ins.run();
    })();
    const scratch = join(dir, 'scratch');
    mkdirSync(scratch, { mode: 0o700 });
    const script = join(dir, 'child.mjs');
    writeFileSync(script, CHILD);
    const driverUrl = pathToFileURL(join(REPO_ROOT, 'dist', 'drivers', 'sqlite', 'index.js')).href;
    const r = await runShell(`umask 000; ${[process.execPath, script, driverUrl, file, scratch].map(shq).join(' ')}`, {
      cwd: dir,
    });
    db.close();
    expect(r.code, describeResult(r)).toBe(0);
    const got = JSON.parse(r.stdout) as {
      umask: string;
      opened: string[];
      during: Record<string, string>[];
      after: Record<string, string>;
      logs: { m: string; method?: string }[];
    };
    expect(got.umask).toBe('0');
    expect(got.logs.find((l) => l.m === 'sqlite snapshot taken')?.method).toBe('copy');
    // every file the copy writes is 0600 as it is opened, before its first byte: the -wal's copy too
    expect(got.opened).toEqual(
      journal === 'wal'
        ? [
            'big.snapshot.sqlite 600',
            'big.snapshot.sqlite 600',
            'big.snapshot.sqlite-wal 600',
            'big.snapshot.sqlite 600',
          ]
        : ['big.snapshot.sqlite 600', 'big.snapshot.sqlite 600', 'big.snapshot.sqlite 600'],
    );
    expect(got.during.length).toBeGreaterThan(0);
    for (const seen of [...got.during, got.after]) {
      for (const [name, mode] of Object.entries(seen)) expect(`${name} ${mode}`).toBe(`${name} 600`);
    }
  });
});
