import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { dbDigest, execSql } from './helpers/sqlite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

/** Changes one byte of `file` in its middle (its size stays). */
function flip(file: string): void {
  const b = readFileSync(file);
  b[b.length >> 1]! ^= 0x20;
  writeFileSync(file, b);
}

/**
 * A stored file found damaged breaks the chains of the database it belongs to, not every chain through its set: a
 * damaged application file, or another database's file, in a full left every database's newer sets unrestorable.
 */
describe('damage found in a full set breaks only the chains of what it belongs to', () => {
  it('an application file, then the users file: inventario still restores from the newest incremental', async () => {
    const s = demoSetup();
    const full = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    execSql(s.dbs.inventario, 'CREATE TABLE after_full (x); INSERT INTO after_full VALUES (1);');
    execSql(s.dbs.users, 'CREATE TABLE after_full (x); INSERT INTO after_full VALUES (1);');
    const incr = parseJsonOutput<Manifest>((await cli(s, ['create', '--type', 'incremental', '--json'])).stdout);
    expect(incr.databases.find((d) => d.name === 'inventario')!.base).toBe(full.id);
    const inventario = dbDigest(s.dbs.inventario);

    const app = full.files.find((f) => f.stored && f.group === 'application')!;
    flip(join(s.backupDir, full.id, app.stored!));
    expect((await cli(s, ['verify', full.id], 5)).stdout).toContain(app.stored);
    const to = join(s.dir, 'inventario-back.db');
    const r = await cli(s, ['restore', 'latest', '--db', 'inventario', '--to', to, '--yes']);
    expect(r.stdout).toContain(incr.id);
    expect(dbDigest(to)).toEqual(inventario);

    const users = full.databases.find((d) => d.name === 'users')!;
    flip(join(s.backupDir, full.id, users.file!));
    await cli(s, ['verify', full.id], 5);
    const refused = await cli(s, ['restore', incr.id, '--db', 'users', '--to', join(s.dir, 'u.db'), '--yes'], 5);
    expect(refused.stderr).toContain(`users in set ${full.id}`);
    const again = join(s.dir, 'inventario-again.db');
    await cli(s, ['restore', incr.id, '--db', 'inventario', '--to', again, '--yes']);
    expect(dbDigest(again)).toEqual(inventario);
    const chain = await cli(s, ['verify', '--chain', incr.id], 5);
    expect(chain.stdout).not.toMatch(/BROKEN: .*inventario/);
  });
});
