/**
 * `list` of a chain whose middle set was deleted by hand: the sets over the gap say BROKEN, a note names the missing
 * set and `respaldo verify --chain ID`, --json has chainProblems; at 80 columns (a real tmux pane) no line is wider.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest, SetSummary } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { execSql } from './helpers/sqlite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';
import { TMUX_SERVER, startCliInTmux } from './helpers/tty.js';

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

async function create(s: DemoSetup, type: string): Promise<Manifest> {
  return parseJsonOutput<Manifest>(
    (await cli(s, ['create', '--type', type, '--db', 'users', '--no-files', '--json'])).stdout,
  );
}

/** full → incremental → incremental → incremental of users, then the first incremental deleted by hand. */
async function gap() {
  const s = demoSetup();
  const full = await create(s, 'full');
  execSql(s.dbs.users, 'CREATE TABLE a (x); INSERT INTO a VALUES (1);');
  const middle = await create(s, 'incremental');
  execSql(s.dbs.users, 'INSERT INTO a VALUES (2);');
  const over = await create(s, 'incremental');
  execSql(s.dbs.users, 'INSERT INTO a VALUES (3);');
  const last = await create(s, 'incremental');
  expect(over.databases[0]!.base).toBe(middle.id);
  rmSync(join(s.backupDir, middle.id), { recursive: true, force: true });
  return { s, full, middle, over, last };
}

describe('list: a set of the chain deleted by hand', () => {
  it('marks the sets over the gap BROKEN, names the missing set and verify --chain; --json has chainProblems', async () => {
    const { s, full, middle, over, last } = await gap();
    const missing = `set ${middle.id} (needed by ${over.id}) is missing (pruned or deleted)`;

    const text = (await cli(s, ['list'])).stdout;
    const row = (id: string) => text.split('\n').find((l) => l.startsWith(`${id} `)) ?? '';
    expect(row(over.id)).toMatch(/\sBROKEN\s/);
    expect(row(last.id)).toMatch(/\sBROKEN\s/);
    expect(row(full.id)).not.toContain('BROKEN');
    expect(text).toContain(
      `BROKEN chain: ${missing}: ${over.id} and 1 later set(s) cannot be restored (respaldo verify --chain ${over.id})`,
    );

    const json = parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--json'])).stdout);
    const byId = new Map(json.map((x) => [x.id, x]));
    expect(byId.get(over.id)?.chainProblems).toEqual([missing]);
    expect(byId.get(last.id)?.chainProblems).toEqual([missing]);
    expect(byId.get(full.id)).not.toHaveProperty('chainProblems');
    // What list says is what verify says.
    expect((await cli(s, ['verify', last.id], 5)).stdout).toContain(`chain BROKEN: ${missing}`);
  });

  it('a whole chain: nothing is marked', async () => {
    const s = demoSetup();
    await create(s, 'full');
    execSql(s.dbs.users, 'CREATE TABLE a (x); INSERT INTO a VALUES (1);');
    await create(s, 'incremental');
    const r = await cli(s, ['list']);
    expect(r.stdout).not.toContain('BROKEN');
    expect(parseJsonOutput<SetSummary[]>((await cli(s, ['list', '--json'])).stdout)[0]).not.toHaveProperty(
      'chainProblems',
    );
  });

  it('in an 80-column terminal no line is wider, and the note is there whole', async () => {
    execFileSync('tmux', ['-V']);
    const { s, middle, over } = await gap();
    const tty = startCliInTmux(['list', '--config', s.configFile], s.dir, { width: 80, height: 30 });
    try {
      expect(await tty.exitCode()).toBe(0);
      const pane = execFileSync('tmux', [...TMUX_SERVER, 'capture-pane', '-p', '-t', tty.name], { encoding: 'utf8' });
      for (const l of pane.split('\n')) expect(l.trimEnd().length, pane).toBeLessThanOrEqual(80);
      const flat = pane.replace(/\s+/g, ' ');
      expect(flat).toContain(`BROKEN chain: set ${middle.id} (needed by ${over.id}) is missing`);
      expect(flat).toContain(`(respaldo verify --chain ${over.id})`);
    } finally {
      tty.kill();
    }
  }, 60_000);
});
