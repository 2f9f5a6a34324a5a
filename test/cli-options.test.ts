/**
 * Typed options per command (src/cli/options.ts): the parser as a table of values → typed options or the
 * UsageError naming the flag; and, through the real binary, that every command's spec matches the options
 * it declares (a mismatch is a bug, exit 1) and that a bad value exits 2 naming the flag before anything runs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { flagName, parseOptions, type OptionSpec } from '../src/cli/options.js';
import { describeResult, runCli } from './helpers/cli.js';
import { makeTmpDir } from './helpers/tmp.js';

const SPEC = {
  db: 'list',
  to: 'text',
  yes: 'flag',
  files: 'switch',
  catchUp: 'negated',
  type: { choices: ['full', 'schema'] },
  count: { int: [1, 100] },
} as const satisfies OptionSpec;

describe('parseOptions', () => {
  it.each([
    ['nothing given', {}, { yes: false, catchUp: true }],
    [
      'every kind given',
      { db: ['a', 'b'], to: 'x', yes: true, files: false, catchUp: false, type: 'schema', count: '7' },
      { db: ['a', 'b'], to: 'x', yes: true, files: false, catchUp: false, type: 'schema', count: 7 },
    ],
    [
      'globals kept, unknown keys dropped',
      { config: 'c.json', json: true, other: 1 },
      { config: 'c.json', json: true },
    ],
    ['a switch given on', { files: true }, { files: true }],
  ])('%s', (_title, raw, expected) => {
    expect(parseOptions(SPEC, raw)).toEqual({ yes: false, catchUp: true, json: false, ...expected });
  });

  it.each([
    ['count', { count: '0' }, '--count: must be a whole number from 1 to 100'],
    ['count', { count: '2.5' }, '--count: must be a whole number from 1 to 100'],
    ['count', { count: 'many' }, '--count: must be a whole number from 1 to 100'],
    ['type', { type: 'log' }, '--type: must be one of full, schema'],
    ['to', { to: ['a'] }, '--to: needs one value'],
    ['db', { db: 'a' }, '--db: needs a value (repeatable)'],
    ['yes', { yes: 'y' }, '--yes: takes no value'],
  ])('a bad --%s is a UsageError naming the flag', (_flag, raw, message) => {
    let caught: unknown;
    try {
      parseOptions(SPEC, raw);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as UsageError).message).toContain(message);
    expect((caught as UsageError).exitCode).toBe(2);
  });

  it('flag names are the kebab-case of the keys', () => {
    expect(['ifOlderThan', 'db', 'terminateConnections'].map(flagName)).toEqual([
      '--if-older-than',
      '--db',
      '--terminate-connections',
    ]);
  });
});

describe('every command', () => {
  // Each command runs as far as its options: a spec that differs from the declared options is a bug (exit 1).
  it.each([
    [['create']],
    [['list']],
    [['show', 'latest']],
    [['verify']],
    [['restore', 'latest']],
    [['drill']],
    [['delete', '20260101_000000']],
    [['status']],
    [['prune']],
    [['keep', 'latest']],
    [['schedule']],
    [['schedule', 'set', 'daily', '--when', 'daily at 02:00']],
    [['schedule', 'remove', 'daily']],
    [['scheduler']],
    [['notify', '--test']],
    [['copy']],
    [['key', 'generate', 'identity.txt']],
  ])('respaldo %j: its option spec matches what it declares', async (args) => {
    const dir = makeTmpDir();
    const missing = join(dir, 'missing.json');
    const r = await runCli([...args, '--config', missing], { cwd: dir });
    expect(r.code, describeResult(r)).not.toBe(1);
    expect(r.stderr).not.toContain('internal error');
    expect(existsSync(missing)).toBe(false);
  });

  it('a bad value exits 2 naming the flag, before the config is read', async () => {
    const dir = makeTmpDir();
    const missing = join(dir, 'missing.json');
    const r = await runCli(['schedule', '--count', 'many', '--config', missing], { cwd: dir });
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toContain('--count: must be a whole number from 1 to 100 (got "many")');
  });
});
