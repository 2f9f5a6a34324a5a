import { readdirSync } from 'node:fs';
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

/**
 * `restore --at TIME --files` restores the files alone, as `restore ID --files` and `restore latest --files` do. It
 * used to take every configured database too: each live database was replaced by the set's, changes since lost.
 */
describe('restore --at with --files alone', () => {
  it('restores the files of the set of that time and replaces no database', async () => {
    const s = demoSetup();
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const after = new Date(Date.parse(m.completedAt) + 1000).toISOString();
    for (const f of Object.values(s.dbs))
      execSql(f, 'CREATE TABLE made_after_the_set (x); INSERT INTO made_after_the_set VALUES (1);');
    const live = Object.values(s.dbs).map(dbDigest);

    const dry = await cli(s, ['restore', '--at', after, '--files', '--dry-run']);
    expect(dry.stdout).not.toMatch(/^ {2}database \w+ \(/m);
    expect(dry.stdout).toContain('no database is restored');
    expect(dry.stdout).toContain(`files: ${m.files.filter((f) => f.kind === 'file').length} file(s)`);
    const r = await cli(s, ['restore', '--at', after, '--files', '--yes']);
    expect(r.stdout).not.toMatch(/^restored /m);
    expect(r.stdout).toContain(`files restored into ${join(s.dir, 'restored', m.id)}`);
    expect(Object.values(s.dbs).map(dbDigest)).toEqual(live);
    // No safety copy was taken: nothing was replaced.
    expect(readdirSync(s.backupDir).filter((n) => /^\d{8}_\d{6}/.test(n))).toEqual([m.id]);
  });
});
