import { execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shellWord } from '../src/engine/rollback-advice.js';
import { CLI_BIN, describeResult, runCli } from './helpers/cli.js';
import { dbDigest, execSql } from './helpers/sqlite.js';
import { demoSetup } from './helpers/tmp.js';

describe('the rollback command a restore prints', () => {
  it.each([
    ['/srv/app/backup_config.json', '/srv/app/backup_config.json'],
    ['/srv/my app/config ñ.json', "'/srv/my app/config ñ.json'"],
    ["/srv/it's.json", "'/srv/it'\\''s.json'"],
  ])('quotes %s for the shell as %s', (word, quoted) => {
    expect(shellWord(word)).toBe(quoted);
    expect(execFileSync('sh', ['-c', `printf %s ${quoted}`], { encoding: 'utf8' })).toBe(word);
  });

  it('names the config given with --config, so it rolls back the same databases typed anywhere', async () => {
    const s = demoSetup();
    const config = join(s.dir, 'config ñ.json');
    copyFileSync(s.configFile, config);
    const run = (args: string[]) => runCli([...args, '--config', config], { cwd: tmpdir() });
    expect((await run(['create', '--db', 'users', '--no-files'])).code).toBe(0);
    execSql(s.dbs.users, 'CREATE TABLE after_the_set (x); INSERT INTO after_the_set VALUES (1);');
    const live = dbDigest(s.dbs.users);
    const r = await run(['restore', 'latest', '--db', 'users', '--yes']);
    expect(r.code, describeResult(r)).toBe(0);
    const command = /To roll back: (respaldo restore .*)$/m.exec(r.stdout)?.[1];
    expect(command, r.stdout).toContain(`--config ${shellWord(config)}`);
    expect(dbDigest(s.dbs.users)).not.toEqual(live);
    // Typed from another folder, as printed: the live database of before the restore comes back.
    execFileSync('sh', ['-c', command!.replace(/^respaldo /, `"${process.execPath}" "${CLI_BIN}" `)], {
      cwd: '/',
      stdio: 'pipe',
    });
    expect(dbDigest(s.dbs.users)).toEqual(live);
  });
});
