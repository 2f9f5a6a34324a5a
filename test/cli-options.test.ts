/**
 * Typed options per command (src/cli/options.ts): the parser as a table of values → typed options or the
 * UsageError naming the flag; and, through the real binary, that every command's spec matches the options
 * it declares (a mismatch is a bug, exit 1) and that a bad value exits 2 naming the flag before anything runs.
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { flagName, parseOptions, type OptionSpec } from '../src/cli/options.js';
import { hoistGlobalOptions } from '../src/cli/program.js';
import { describeResult, runCli } from './helpers/cli.js';
import { demoSetup, makeTmpDir } from './helpers/tmp.js';

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
    ['to', { to: '' }, '--to: needs a value, not an empty one'],
    ['to', { to: '  ' }, '--to: needs a value, not an empty one'],
    ['db', { db: ['users', ''] }, '--db: needs a value, not an empty one'],
    ['to', { to: 'a\nb\u001b[31m' }, '--to: holds a control character (got "a\\nb\\u001b[31m")'],
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

describe('an option and its negation both typed', () => {
  it('schedule set --files --no-files exits 2 naming both and leaves the config as it was (commander kept the last)', async () => {
    const s = demoSetup();
    const before = readFileSync(s.configFile, 'utf8');
    for (const order of [
      ['--files', '--no-files'],
      ['--no-files', '--files'],
    ]) {
      const r = await runCli([
        'schedule',
        'set',
        'daily',
        '--when',
        'daily at 02:00',
        ...order,
        '--config',
        s.configFile,
      ]);
      expect(r.code, describeResult(r)).toBe(2);
      expect(r.stderr).toContain('Use either --files or --no-files, not both.');
      expect(r.stderr).toContain('Run the command again with the one you mean; nothing was changed.');
      expect(readFileSync(s.configFile, 'utf8')).toBe(before);
    }
    // Either alone still works.
    const one = await runCli([
      'schedule',
      'set',
      'daily',
      '--when',
      'daily at 02:00',
      '--no-files',
      '--config',
      s.configFile,
    ]);
    expect(one.code, describeResult(one)).toBe(0);
  });
});

describe('an empty value (a variable a script did not set)', () => {
  it('restore --to "" exits 2 and changes nothing: it meant no --to, and replaced the live database', async () => {
    const s = demoSetup();
    await runCli(['create', '--no-files', '--config', s.configFile]);
    const before = readFileSync(s.dbs.users);
    writeFileSync(s.dbs.users + '.marker', 'x'); // the live file's neighbours are not touched either
    const r = await runCli(['restore', 'latest', '--db', 'users', '--to', '', '--yes', '--config', s.configFile]);
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toContain('--to: needs a value, not an empty one (got "").');
    expect(r.stderr).toContain('often a shell variable that was not set');
    expect(readFileSync(s.dbs.users).equals(before)).toBe(true);
    expect(readdirSync(s.backupDir).filter((n) => /^\d{8}_\d{6}/.test(n))).toHaveLength(1); // no safety copy taken
  });

  it('restore --db "" exits 2 and changes nothing: it was dropped, and every database was restored in place', async () => {
    const s = demoSetup();
    await runCli(['create', '--no-files', '--config', s.configFile]);
    const before = Object.values(s.dbs).map((f) => readFileSync(f));
    const r = await runCli(['restore', 'latest', '--db', '', '--yes', '--config', s.configFile]);
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toContain('--db: needs a value, not an empty one');
    expect(Object.values(s.dbs).map((f) => readFileSync(f).equals(before.shift()!))).toEqual([true, true, true]);
    expect(readdirSync(s.backupDir).filter((n) => /^\d{8}_\d{6}/.test(n))).toHaveLength(1); // no safety copy taken
  });

  it('create --db "" exits 2 and makes no set: it backed up every database', async () => {
    const s = demoSetup();
    const r = await runCli(['create', '--db', '', '--config', s.configFile]);
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toContain('--db: needs a value, not an empty one');
    expect(existsSync(s.backupDir)).toBe(false);
  });
});

describe('global options typed before the command', () => {
  it.each([
    ['--config before list', ['--config', 'c.json', 'list'], ['list', '--config', 'c.json']],
    [
      '-c and --json before restore',
      ['-c', 'c.json', '--json', 'restore', 'ID', '--db', 'users'],
      ['restore', 'ID', '--db', 'users', '-c', 'c.json', '--json'],
    ],
    [
      '--config= before a subcommand word',
      ['--config=c.json', 'key', 'generate', 'k.txt'],
      ['key', 'generate', 'k.txt', '--config=c.json'],
    ],
    ['kept before a --', ['--json', 'list', '--', '-x'], ['list', '--json', '--', '-x']],
    ['after the command: unchanged', ['list', '--config', 'c.json'], ['list', '--config', 'c.json']],
    [
      'the menu (no command): unchanged',
      ['--config', 'c.json', '--lang', 'es'],
      ['--config', 'c.json', '--lang', 'es'],
    ],
    // hoisted too, so that commander names the word ("unknown command 'lsit'"), not the option before it
    ['not a command: moved past it', ['--config', 'c.json', 'lsit'], ['lsit', '--config', 'c.json']],
    [
      'another option first: unchanged',
      ['--lang', 'es', '--config', 'c.json', 'list'],
      ['--lang', 'es', '--config', 'c.json', 'list'],
    ],
    ['--json=x is not the flag: unchanged', ['--json=x', 'list'], ['--json=x', 'list']],
    ['--config with no value: unchanged', ['--config'], ['--config']],
  ])('%s', (_title, argv, expected) => {
    expect(hoistGlobalOptions(argv)).toEqual(expected);
  });

  it.each([
    [['--config', 'c.json', 'bogus'], "unknown command 'bogus'"],
    [['--json', 'bogus'], "unknown command 'bogus'"],
    [['--json'], '--json goes with a command (the menu has no JSON output).'],
    [['--lang', 'xx'], '--lang must be es or en (got "xx").'],
  ])('respaldo %j names what is wrong (it said "unknown option" of an option it documents)', async (args, said) => {
    const r = await runCli(args, { cwd: makeTmpDir() });
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stdout + r.stderr).toContain(said);
    expect(r.stdout + r.stderr).not.toContain('unknown option');
  });

  it('respaldo --config FILE --json list lists the sets of that config', async () => {
    const s = demoSetup();
    const created = await runCli(['--config', s.configFile, 'create'], { cwd: makeTmpDir() });
    expect(created.code, describeResult(created)).toBe(0);
    const r = await runCli(['--config', s.configFile, '--json', 'list'], { cwd: makeTmpDir() });
    expect(r.code, describeResult(r)).toBe(0);
    expect(JSON.parse(r.stdout) as unknown[]).toHaveLength(1);
  });
});

describe('--json and a command line commander refuses', () => {
  it.each([
    [['create', '--type', 'bogus', '--json'], /argument 'bogus' is invalid|bogus/],
    [['create', '--bogus', '--json'], /unknown option '--bogus'/],
    [['--json', 'frobnicate'], /unknown (command 'frobnicate'|option '--json')/],
  ])('%j: one JSON document on stdout, the usage error, exit 2', async (argv, message) => {
    const r = await runCli(argv, { cwd: makeTmpDir() });
    expect(r.code, describeResult(r)).toBe(2);
    const doc = JSON.parse(r.stdout) as { error: string; message: string; exitCode: number };
    expect(doc).toMatchObject({ error: 'usage', exitCode: 2 });
    expect(doc.message).toMatch(message);
    expect(r.stderr).toMatch(message);
  });
});

describe('an option whose value is missing, followed by another option', () => {
  it.each([
    // `--description $DESC --json` with DESC unset: a set described "--json", and text to a script that read JSON
    [['create', '--description', '--json'], '--description needs a value, and the next word is the option --json'],
    // hoisted to `create --db --json`: a database named "--json", said in text
    [['--json', 'create', '--db'], '--db needs a value, and the next word is the option --json'],
    [['create', '--db', '--no-files', '--json'], '--db needs a value, and the next word is the option --no-files'],
  ])('respaldo %j exits 2 with one JSON document, and makes no set', async (args, said) => {
    const s = demoSetup(); // its ./backup_config.json: a --config after the args would be the next word
    const r = await runCli(args, { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(2);
    expect((JSON.parse(r.stdout) as { message: string }).message).toContain(said);
    expect(r.stderr).toContain(said);
    expect(existsSync(s.backupDir)).toBe(false);
  });

  it('restore latest --to --yes exits 2 naming --to: it was a side-by-side restore into ./--yes, refused for want of --yes', async () => {
    const s = demoSetup();
    expect((await runCli(['create', '--config', s.configFile])).code).toBe(0);
    const r = await runCli(['restore', 'latest', '--db', 'users', '--to', '--yes', '--config', s.configFile], {
      cwd: s.dir,
    });
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toContain('--to needs a value, and the next word is the option --yes');
    expect(existsSync(join(s.dir, '--yes'))).toBe(false);
  });
});

describe('restore --files --table', () => {
  it('exits 2 and restores nothing: --table was passed over and the files restored (exit 0)', async () => {
    const s = demoSetup();
    expect((await runCli(['create', '--config', s.configFile])).code).toBe(0);
    const to = join(s.dir, 'restored');
    const args = ['restore', 'latest', '--files', '--table', 'public.orders', '--to', to, '--yes'];
    const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toContain('--table chooses tables of a database, and --files alone restores no database.');
    expect(existsSync(to)).toBe(false);
  });
});

describe('verify --from with --all or --chain', () => {
  it.each([['--all'], ['--chain']])('%s is refused (exit 2) before anything is read, naming the flag', async (flag) => {
    const dir = makeTmpDir();
    const r = await runCli(['verify', flag, '--from', 'nas', '--config', join(dir, 'missing.json')], { cwd: dir });
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toContain(`--from checks one set at a destination; ${flag} is for the sets here.`);
    expect(r.stderr).toContain('hint: Check each set there: respaldo list --from nas lists them');
  });
});

describe('an option that takes one value, given twice', () => {
  it.each([
    [['create', '--type', 'full', '--type', 'incremental'], '--type is given twice (full, incremental): give it once.'],
    [['restore', 'latest', '--to', 'a.db', '--to', 'b.db', '--dry-run'], '--to is given twice (a.db, b.db)'],
    [['restore', '--at', '2026-11-22 10:00', '--at', '2026-11-22 11:00', '--dry-run'], '--at is given twice'],
  ])('respaldo %j exits 2 before anything runs (commander kept the last)', async (args, said) => {
    const s = demoSetup();
    const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toContain(said);
    expect(existsSync(s.backupDir)).toBe(false);
  });

  it('a repeatable one (--db) still collects every value', async () => {
    const s = demoSetup();
    const r = await runCli(['create', '--db', 'users', '--db', 'inventario', '--no-files', '--config', s.configFile]);
    expect(r.code, describeResult(r)).toBe(0);
  });

  it('restore --to inside the backup folder is refused (exit 2): it would sit in a set as a file not written by respaldo', async () => {
    const s = demoSetup();
    expect((await runCli(['create', '--db', 'users', '--no-files', '--config', s.configFile])).code).toBe(0);
    const [id] = readdirSync(s.backupDir).filter((n) => /^\d{8}_\d{6}$/.test(n));
    const before = readdirSync(join(s.backupDir, id!)).sort();
    for (const to of [join(s.backupDir, id!, 'users.db'), s.backupDir]) {
      const r = await runCli(['restore', 'latest', '--db', 'users', '--to', to, '--yes', '--config', s.configFile]);
      expect(r.code, describeResult(r)).toBe(2);
      expect(r.stderr).toContain(`--to ${to} is inside the backup folder`);
    }
    expect(readdirSync(join(s.backupDir, id!)).sort()).toEqual(before);
  });

  it('a value given twice is taken once: restore --db users --db users restores users once', async () => {
    const s = demoSetup();
    expect((await runCli(['create', '--db', 'users', '--no-files', '--config', s.configFile])).code).toBe(0);
    const to = join(s.dir, 'once.db');
    const r = await runCli([
      'restore',
      'latest',
      '--db',
      'users',
      '--db',
      'users,users',
      '--to',
      to,
      '--yes',
      '--config',
      s.configFile,
    ]);
    expect(r.code, describeResult(r)).toBe(0);
    expect(statSync(to).isFile()).toBe(true);
    expect(r.stdout.match(/^restored users/gm)).toHaveLength(1);
    const inPlace = await runCli([
      'restore',
      'latest',
      '--db',
      'users',
      '--db',
      'users',
      '--yes',
      '--config',
      s.configFile,
    ]);
    expect(inPlace.code, describeResult(inPlace)).toBe(0);
  });
});
