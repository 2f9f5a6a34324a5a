import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, describeResult, runShell, shq } from './helpers/cli.js';
import { makeTmpDir } from './helpers/tmp.js';

/**
 * Runs the built SQLite driver's backup in a child under `umask 000` and records, at the first
 * progress callback of the snapshot (SQLite is then inside the copy: the snapshot and its -journal
 * exist), the mode of every file in the scratch folder; then the modes once the stored stream was read.
 */
const CHILD = `
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
const [driverUrl, file, scratch] = process.argv.slice(2);
const { sqliteDriver } = await import(driverUrl);
const modes = () => Object.fromEntries(readdirSync(scratch).map((n) => [n, (statSync(join(scratch, n)).mode & 0o777).toString(8)]));
const during = [];
const reporter = { emit: (e) => { if (e.type === 'item-progress' && /snapshot/.test(e.message ?? '')) during.push(modes()); } };
const ctx = { reporter, signal: new AbortController().signal, scratchDir: scratch, log: () => undefined };
const session = await sqliteDriver.backup({ db: { name: 'big', engine: 'sqlite', path: file }, type: 'full', purpose: 'backup' }, ctx);
const part = await session.parts[0].open();
for await (const _ of part.stream) { /* read it all */ }
await part.finished;
const after = modes();
await session.cleanup();
process.stdout.write(JSON.stringify({ umask: process.umask().toString(8), during, after }));
`;

describe('the SQLite snapshot is 0600 from its first byte, whatever the umask', () => {
  it.each(['delete', 'wal'])('journal_mode %s, umask 000', async (journal) => {
    const dir = makeTmpDir();
    const file = join(dir, 'big.db');
    const db = new Database(file);
    db.pragma(`journal_mode = ${journal}`);
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, pad BLOB)');
    const ins = db.prepare('INSERT INTO t (pad) VALUES (randomblob(1000))');
    db.transaction(() => {
      for (let i = 0; i < 3000; i++) ins.run();
    })();
    db.close();
    const scratch = join(dir, 'scratch');
    mkdirSync(scratch, { mode: 0o700 });
    const script = join(dir, 'child.mjs');
    writeFileSync(script, CHILD);
    const driverUrl = pathToFileURL(join(REPO_ROOT, 'dist', 'drivers', 'sqlite', 'index.js')).href;
    const r = await runShell(`umask 000; ${[process.execPath, script, driverUrl, file, scratch].map(shq).join(' ')}`, {
      cwd: dir,
    });
    expect(r.code, describeResult(r)).toBe(0);
    const got = JSON.parse(r.stdout) as {
      umask: string;
      during: Record<string, string>[];
      after: Record<string, string>;
    };
    expect(got.umask).toBe('0');
    expect(got.during.length, 'the snapshot is copied in more than one step').toBeGreaterThan(0);
    const first = got.during[0]!;
    // the witness: while SQLite writes the snapshot, both it and its rollback journal exist
    expect(Object.keys(first).sort()).toEqual(['big.snapshot.sqlite', 'big.snapshot.sqlite-journal']);
    for (const seen of [...got.during, got.after]) {
      for (const [name, mode] of Object.entries(seen)) expect(`${name} ${mode}`).toBe(`${name} 600`);
    }
  });
});
