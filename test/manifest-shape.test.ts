import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { shapeProblem } from '../src/engine/manifest.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

/**
 * A manifest whose fields are not what respaldo writes (totals removed, a time that is not one): the set is named
 * as damaged by list, verify and restore latest; it had vanished from list (exit 0) while show and restore ID
 * accepted it, and retention and delete could not see what it needs.
 */
describe('a manifest missing a field every listing reads', () => {
  it('list names the set damaged (exit 5), restore latest passes over it, restore ID refuses it', async () => {
    const s = demoSetup();
    const run = (args: string[]) => runCli([...args, '--config', s.configFile], { cwd: s.dir });
    const older = parseJsonOutput<Manifest>((await run(['create', '--no-files', '--db', 'users', '--json'])).stdout);
    const newer = parseJsonOutput<Manifest>((await run(['create', '--no-files', '--db', 'users', '--json'])).stdout);
    const file = join(s.backupDir, newer.id, 'manifest.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    delete doc['totals'];
    writeFileSync(file, JSON.stringify(doc, null, 2));

    const listed = await run(['list']);
    expect(listed.code, describeResult(listed)).toBe(5);
    expect(listed.stdout + listed.stderr).toMatch(new RegExp(`${newer.id}.*totals`));
    const verified = await run(['verify', '--all']);
    expect(verified.code, describeResult(verified)).toBe(5);
    const latest = await run(['restore', 'latest', '--db', 'users', '--to', join(s.dir, 'r.db'), '--yes']);
    expect(latest.code, describeResult(latest)).toBe(0);
    expect(latest.stdout + latest.stderr).toContain(older.id);
    expect(latest.stdout + latest.stderr).toContain(newer.id); // named as passed over
    const byId = await run(['restore', newer.id, '--db', 'users', '--to', join(s.dir, 'r2.db'), '--yes']);
    expect(byId.code, describeResult(byId)).toBe(5);
  });

  const file = { relative: 'app/a', size: 1, mode: 0o644, mtime: '2026-12-03T12:00:00.000Z' };
  it.each([
    ['totals removed', { totals: undefined }, 'totals'],
    ['totals not numbers', { totals: { storedBytes: '1', rawBytes: 1, files: 1 } }, 'totals'],
    ['a time that is not one', { startedAt: 'yesterday' }, 'startedAt'],
    ['an unknown type', { type: 'weekly' }, 'type'],
    ['an unknown status', { status: 'done' }, 'status'],
    ['a database without a name', { databases: [{}] }, 'databases[0]'],
    ['a total of 1e300 bytes', { totals: { storedBytes: 1e300, rawBytes: 2, files: 0 } }, 'totals'],
    ['a negative total', { totals: { storedBytes: 1, rawBytes: -2, files: 0 } }, 'totals'],
    ['a database of 1e300 raw bytes', { databases: [{ name: 'users', rawBytes: 1e300 }] }, 'rawBytes 1e+300 of users'],
    [
      'a database part of -5 bytes',
      { databases: [{ name: 'users', extras: [{ file: 'databases/g.sql', storedBytes: -5 }] }] },
      'storedBytes -5 of databases/g.sql',
    ],
    [
      'a database listed twice',
      { databases: [{ name: 'users' }, { name: 'users' }] },
      'database users is listed twice',
    ],
    [
      'a negative row count (a good restore failed as "does not match")',
      { databases: [{ name: 'users', tables: { roles: -4 } }] },
      'row count -4 of table "roles" of users',
    ],
    [
      'row counts that are no object',
      { databases: [{ name: 'users', tables: [3] }] },
      'tables of users is not a list of row counts',
    ],
    ['a file of 1.5 bytes', { files: [{ relative: 'app/a', size: 1.5 }] }, 'size 1.5 of app/a'],
    ['a file mode that is none', { files: [{ ...file, mode: 'rwx' }] }, 'mode "rwx" of app/a'],
    ['a file mode with its type bits', { files: [{ ...file, mode: 0o100644 }] }, 'mode 33188 of app/a'],
    ['a file without its mode', { files: [{ ...file, mode: undefined }] }, 'mode undefined of app/a'],
    ['a file time that is none', { files: [{ ...file, mtime: 'garbage' }] }, 'mtime "garbage" of app/a'],
  ])('%s: said, naming the field', (_what, over, field) => {
    const good = {
      schemaVersion: 1,
      id: '20261203_120000',
      type: 'full',
      status: 'completed',
      startedAt: '2026-12-03T12:00:00.000Z',
      completedAt: '2026-12-03T12:00:01.000Z',
      totals: { storedBytes: 1, rawBytes: 2, files: 0 },
      databases: [{ name: 'users' }],
      files: [file],
    };
    expect(shapeProblem(good as unknown as Manifest)).toBeNull();
    expect(shapeProblem({ ...good, ...over } as unknown as Manifest)).toContain(field);
  });
});
