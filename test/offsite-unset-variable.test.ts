import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup } from './helpers/tmp.js';

/**
 * A `${VAR}` of one destination that is not set stops only the commands that use that destination. On the
 * new-server day the .env holding the S3 keys is gone, and `restore --from nas` needs none of them; it exited 3.
 */
describe('a variable of a destination not set', () => {
  it('create copies to the others (exit 12 naming it), restore and list --from another work; using it is exit 3', async () => {
    const s = demoSetup({
      source: 'srv1',
      destinations: [
        { name: 'nas', type: 'folder', path: './nas' },
        {
          name: 'offsite',
          type: 's3',
          endpoint: 'http://127.0.0.1:9',
          bucket: 'b',
          accessKeyId: '${S3_KEY_ID}',
          secretAccessKey: '${S3_SECRET_KEY}',
        },
      ],
    });
    mkdirSync(join(s.dir, 'nas'));
    const run = (args: string[]) => runCli([...args, '--config', s.configFile], { cwd: s.dir });

    const made = await run(['create', '--db', 'users', '--no-files', '--json']);
    expect(made.code, describeResult(made)).toBe(12);
    expect(made.stderr).toContain('destinations[1].accessKeyId: ${S3_KEY_ID} is not set');
    expect(made.stderr).toContain('Set S3_KEY_ID in the environment or in');
    const id = parseJsonOutput<Manifest>(made.stdout).id;
    expect(existsSync(join(s.dir, 'nas', 'srv1', id, 'manifest.json'))).toBe(true);

    // The new-server day: no backup folder, no S3 keys.
    const live = dbDigest(s.dbs.users);
    rmSync(s.backupDir, { recursive: true, force: true });
    const listed = await run(['list', '--from', 'nas']);
    expect(listed.code, describeResult(listed)).toBe(0);
    expect(listed.stdout).toContain(id);
    const to = join(s.dir, 'users-back.db');
    const back = await run(['restore', 'latest', '--from', 'nas', '--db', 'users', '--to', to, '--yes']);
    expect(back.code, describeResult(back)).toBe(0);
    expect(dbDigest(to)).toEqual(live);

    for (const args of [
      ['list', '--from', 'offsite'],
      ['restore', 'latest', '--from', 'offsite', '--db', 'users', '--to', join(s.dir, 'x.db'), '--yes'],
      ['copy', '--to', 'offsite'],
    ]) {
      const r = await run(args);
      expect(r.code, `${args.join(' ')}: ${describeResult(r)}`).toBe(3);
      expect(r.stderr).toContain('destinations[1].accessKeyId: ${S3_KEY_ID} is not set');
      expect(r.stderr).toContain('Set S3_KEY_ID in the environment or in');
    }
    expect(existsSync(join(s.dir, 'x.db'))).toBe(false);
  });

  it('a variable of anything else (a database) still stops every command', async () => {
    const s = demoSetup({
      destinations: [{ name: 'nas', type: 'folder', path: './nas' }],
      databases: [{ name: 'pg', url: 'postgresql://app:${PG_PASSWORD}@127.0.0.1:5432/app' }],
    });
    const r = await runCli(['list', '--from', 'nas', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stderr).toContain('${PG_PASSWORD} is not set');
  });
});
