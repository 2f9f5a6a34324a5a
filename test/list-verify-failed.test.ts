/**
 * A set whose own verification failed (a flipped byte in a stored database, then `respaldo verify`): `list` says it
 * DAMAGED in STATUS (it said `completed`, only VERIFIED said FAILED) with a line saying not to restore from it, and
 * `status` marks it DAMAGED as the newest set of its database, as the menu's list says it; `list --json` keeps the
 * run's status. A sound set beside it stays `completed`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest, SetSummary } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir, env: { COLUMNS: '200' } });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

describe('a set whose verification failed, in list and status', () => {
  it('is DAMAGED in STATUS, said under the list, and in status; --json keeps its status', async () => {
    const s = demoSetup();
    const create = async () =>
      parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout);
    const sound = await create();
    const bad = await create();
    const path = join(s.backupDir, bad.id, bad.databases[0]!.file!);
    const buf = readFileSync(path);
    buf[buf.length >> 1] = buf[buf.length >> 1]! ^ 0x01;
    writeFileSync(path, buf);
    await cli(s, ['verify', bad.id], 5);

    const list = await cli(s, ['list']);
    const cells = (id: string) =>
      list.stdout
        .split('\n')
        .find((l) => l.startsWith(`${id} `))!
        .trim()
        .split(/\s+/);
    const titles = list.stdout.split('\n')[0]!.trim().split(/\s+/);
    const status = titles.indexOf('STATUS') + 1; // DATE is two cells (day and time)
    expect(cells(bad.id)[status], list.stdout).toBe('DAMAGED');
    expect(cells(sound.id)[status], list.stdout).toBe('completed');
    expect(list.stdout).toMatch(new RegExp(`DAMAGED: set ${bad.id} failed its verification on .*: do not restore`));
    const json = parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--json'])).stdout);
    expect(json.find((x) => x.id === bad.id)).toMatchObject({ status: 'completed', lastVerified: { ok: false } });

    const st = await cli(s, ['status']);
    expect(st.stdout.split('\n').find((l) => l.startsWith('users '))).toContain(`${bad.id} DAMAGED`);
  });
});
