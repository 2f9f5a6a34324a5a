import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../src/core/exit-codes.js';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

/**
 * A destination name that is not in the config (a typo in `--from` / `--to`) is exit 8, as an unknown `--db` is: the
 * command line is well formed (exit 2 is for that), the config is valid (exit 3); the name is not there. Every
 * command that takes a destination name says so the same way, naming it and listing the configured ones.
 */
describe('an unknown destination name', () => {
  it('is exit 8 in list, verify, prune, copy, delete and restore, naming it and listing the destinations', async () => {
    const s = demoSetup((base) => ({
      ...base,
      destinations: [
        { name: 'nas', type: 'folder', path: './nas' },
        { name: 'usb', type: 'folder', path: './usb' },
      ],
    }));
    for (const d of ['nas', 'usb']) mkdirSync(join(s.dir, d));
    const run = (args: string[]) => runCli([...args, '--config', s.configFile], { cwd: s.dir });
    const made = await run(['create', '--json', '--no-files']);
    expect(made.code, describeResult(made)).toBe(EXIT.ok);
    const m = parseJsonOutput<Manifest>(made.stdout);
    const sets = () => readdirSync(s.backupDir).filter((n) => /^\d{8}_\d{6}/.test(n));
    const before = sets();

    const commands = [
      ['list', '--from', 'nope'],
      ['verify', 'latest', '--from', 'nope'],
      ['prune', '--from', 'nope', '--dry-run'],
      ['prune', '--from', 'nope'],
      ['copy', m.id, '--to', 'nope'],
      ['delete', m.id, '--from', 'nope', '--yes'],
      ['restore', 'latest', '--from', 'nope', '--db', 'users', '--to', join(s.dir, 'r.db'), '--yes'],
    ];
    for (const args of commands) {
      const r = await run(args);
      expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(EXIT.notFound);
      expect(r.stderr).toContain(`No destination named "nope" in ${s.configFile}.`);
      expect(r.stderr).toContain('hint: Destinations: nas, usb.');
    }
    // the same code as an unknown database
    const db = await run(['restore', 'latest', '--db', 'nope', '--yes']);
    expect(db.code, describeResult(db)).toBe(EXIT.notFound);
    expect(sets()).toEqual(before);
  });
});
