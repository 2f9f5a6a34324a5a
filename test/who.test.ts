import { readFileSync, readdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { commandLine } from '../src/core/who.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

describe('who ran it', () => {
  it.each([
    [['create', '--db', 'users'], 'respaldo create --db users'],
    [
      ['create', '--description', "before upgrade 4.2 (Ana's)"],
      `respaldo create --description 'before upgrade 4.2 (Ana'\\''s)'`,
    ],
    [[], 'respaldo'],
  ])('command line %j → %s', (args, line) => {
    expect(commandLine(args)).toBe(line);
  });

  it('a set records the OS user, host, pid and command line in its manifest and in the log; verify logs them too', async () => {
    const s = demoSetup();
    const r = await runCli(['create', '--config', s.configFile, '--no-files', '--description', 'by hand', '--json']);
    expect(r.code, describeResult(r)).toBe(0);
    const m = parseJsonOutput<Manifest>(r.stdout);
    const stored = JSON.parse(readFileSync(join(s.backupDir, m.id, 'manifest.json'), 'utf8')) as Manifest;
    expect(stored.ranBy).toMatchObject({ user: userInfo().username, host: m.host });
    expect(stored.ranBy!.pid).toBeGreaterThan(0);
    expect(stored.ranBy!.command).toBe(
      `respaldo create --config ${s.configFile} --no-files --description 'by hand' --json`,
    );
    expect((await runCli(['verify', m.id, '--config', s.configFile])).code).toBe(0);
    const lines = readdirSync(join(s.backupDir, 'logs'))
      .flatMap((f) =>
        readFileSync(join(s.backupDir, 'logs', f), 'utf8')
          .trim()
          .split('\n'),
      )
      .map((l) => JSON.parse(l) as { event: string; user: string; ranBy?: { command: string } });
    expect(lines.every((l) => l.user === userInfo().username)).toBe(true);
    expect(lines.find((l) => l.event === 'create-start')?.ranBy?.command).toMatch(/^respaldo create /);
    expect(lines.find((l) => l.event === 'verify')?.ranBy?.command).toMatch(/^respaldo verify /);
  });
});
