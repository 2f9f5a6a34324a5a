import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { dbDigest } from './helpers/sqlite.js';
import { readStored } from './helpers/stored.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

describe('safety copy of a damaged database', () => {
  it('a live file SQLite cannot read is kept byte for byte, and the restore still goes on', async () => {
    const s = demoSetup();
    const good = dbDigest(s.dbs.users);
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json', '--no-files'])).stdout);
    const damaged = Buffer.concat([Buffer.from('not a database any more\n'), readFileSync(s.dbs.users).subarray(4096)]);
    writeFileSync(s.dbs.users, damaged);

    const out = parseJsonOutput<{ ok: boolean; safetySetIds: string[] }>(
      (await cli(s, ['restore', m.id, '--db', 'users', '--yes', '--json'])).stdout,
    );
    expect(out.ok).toBe(true);
    expect(dbDigest(s.dbs.users)).toEqual(good);

    const safetyId = out.safetySetIds[0]!;
    const safety = parseJsonOutput<Manifest>((await cli(s, ['show', safetyId, '--json'])).stdout);
    expect(safety.type).toBe('pre_restore');
    const entry = safety.databases.find((d) => d.name === 'users')!;
    expect(entry.format).toBe('sqlite-raw');
    expect(readStored(join(s.backupDir, safetyId, entry.file!)).equals(damaged)).toBe(true);

    const refused = await cli(s, ['restore', safetyId, '--db', 'users', '--yes'], 9);
    expect(refused.stderr).toContain('raw byte copy');
    expect(dbDigest(s.dbs.users)).toEqual(good);
  });
});
