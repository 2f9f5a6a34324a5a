import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES, buildProgram } from '../src/cli/program.js';
import { CLI_BIN, REPO_ROOT, collect, describeResult, parseJsonOutput, runCli, startNode } from './helpers/cli.js';
import { demoConfig, demoSetup, makeTmpDir } from './helpers/tmp.js';

const TRACE_HOOK = join(REPO_ROOT, 'test', 'helpers', 'module-trace.mjs');
const COMMAND_MODULES = [
  'create',
  'list',
  'verify',
  'restore',
  'drill',
  'manage',
  'prune',
  'schedule',
  'notify',
  'key',
];

/** Runs the built CLI with the module trace preloaded: its result and every module it loaded (as URLs). */
async function traced(args: string[], cwd: string) {
  const trace = join(makeTmpDir(), 'modules.txt');
  const r = await collect(
    startNode(['--import', TRACE_HOOK, CLI_BIN, ...args], { cwd, env: { RESPALDO_MODULE_TRACE: trace } }),
  );
  const loaded = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
  const commandModules = loaded
    .map((url) => /\/dist\/cli\/commands\/([a-z-]+)\.js$/.exec(url)?.[1])
    .filter((m): m is string => m !== undefined && COMMAND_MODULES.includes(m));
  return { r, loaded, commandModules };
}

const uiOrMenu = (url: string) => /\/dist\/ui\/|\/node_modules\/(ink|react|@inkjs)\//.test(url);

describe('each command loads only its own module', () => {
  it.each([
    ['list', ['list'], ['list'], 0],
    ['status', ['status'], ['manage'], 0],
    ['verify --all (nothing to verify)', ['verify', '--all'], ['verify'], 0],
  ])('%s: its command module and no other, no menu, no Ink or React', async (_name, args, expected, code) => {
    const s = demoSetup();
    const { r, loaded, commandModules } = await traced([...args, '--config', s.configFile], s.dir);
    expect(r.code, describeResult(r)).toBe(code);
    expect(loaded.some((u) => u.endsWith('/dist/cli/program.js'))).toBe(true);
    expect(commandModules).toEqual(expected);
    expect(loaded.filter(uiOrMenu)).toEqual([]);
  });

  it('--help loads every command module and lists every command', async () => {
    const { r, commandModules } = await traced(['--help'], REPO_ROOT);
    expect(r.code, describeResult(r)).toBe(0);
    expect([...commandModules].sort()).toEqual([...COMMAND_MODULES].sort());
    for (const name of COMMAND_NAMES) expect(r.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
  });

  it("the table of command names is what the modules register, in help's order, each name to its module", async () => {
    const all = await buildProgram();
    expect(all.commands.map((c) => c.name())).toEqual(COMMAND_NAMES);
    const list = await buildProgram(['list', '--json']);
    expect(list.commands.map((c) => c.name())).toEqual(['list', 'show']);
    for (const name of COMMAND_NAMES)
      expect((await buildProgram([name, '--help'])).commands.map((c) => c.name())).toContain(name);
    const mistyped = await buildProgram(['lst']);
    expect(mistyped.commands.map((c) => c.name())).toEqual(COMMAND_NAMES);
  });
});

/** A driver's implementation (not its light config module) or a database client library. */
const heavy = (url: string) =>
  /\/dist\/drivers\/(registry\.js|[a-z]+\/(index|backup|restore|connection|recover|safety|drill|server)\.js)$/.test(
    url,
  ) || /\/node_modules\/(better-sqlite3|bindings|pg|pg-pool|mssql|tedious)\//.test(url);

describe('commands that only read the config and the backup folder load no driver', () => {
  it('list, show, verify (every engine configured) and status (SQLite only): no driver, no database library', async () => {
    const s = demoSetup();
    const created = await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(created.code, describeResult(created)).toBe(0);
    const { id } = parseJsonOutput<{ id: string }>(created.stdout);

    // status connects to every server database to find restore leftovers (it needs their drivers then):
    // with SQLite only, it needs none.
    const status = await traced(['status', '--config', s.configFile], s.dir);
    expect(status.r.code, describeResult(status.r)).toBe(0);
    expect(status.loaded.filter(heavy)).toEqual([]);

    // A PostgreSQL and a SQL Server entry too: config loading checks them without their drivers.
    const all = demoConfig();
    all.databases = [
      ...(all.databases as object[]),
      { name: 'pgapp', url: 'postgresql://app:secret@127.0.0.1:1/app' },
      {
        name: 'erp',
        engine: 'sqlserver',
        server: '127.0.0.1',
        database: 'erp',
        user: 'sa',
        password: 'secret',
        serverBackupDir: '/var/opt/mssql/backup',
        localBackupDir: join(s.dir, 'mssql'),
      },
    ];
    writeFileSync(s.configFile, JSON.stringify(all));
    for (const args of [['list'], ['show', id], ['verify', id]]) {
      const { r, loaded } = await traced([...args, '--config', s.configFile], s.dir);
      expect(r.code, `${args.join(' ')}: ${describeResult(r)}`).toBe(0);
      expect(loaded.some((u) => u.endsWith('/dist/drivers/validators.js'))).toBe(true);
      expect(loaded.filter(heavy), args.join(' ')).toEqual([]);
    }
  });

  it.each([
    [{ name: 'app', engine: 'sqlite' }, 'databases[0].path: required for sqlite databases'],
    [{ name: 'pgapp', url: 'postgresql://app@127.0.0.1:99999/app' }, 'databases[0].url: port 99999 is not between 1'],
    [{ name: 'erp', engine: 'sqlserver', database: 'erp' }, 'databases[0].server: is missing'],
  ])('a bad %j still fails the config with its problem, loading no driver', async (entry, problem) => {
    const s = demoSetup();
    writeFileSync(s.configFile, JSON.stringify({ ...demoConfig(), databases: [entry] }));
    const { r, loaded } = await traced(['list', '--config', s.configFile], s.dir);
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stderr).toContain(problem);
    expect(loaded.filter(heavy)).toEqual([]);
  });
});

describe('destinations: only the one a command opens is loaded', () => {
  /** A destination's implementation, its client library, or Node's fetch client (node:http's ESM facade loads it). */
  const remoteCode = (url: string) =>
    /\/dist\/destinations\/(s3|s3-parts|sftp|rclone)\.js$/.test(url) ||
    /\/node_modules\/(@aws-sdk|@smithy|ssh2|ssh2-sftp-client)\//.test(url) ||
    /^node-internal:.*undici/.test(url);

  it('copy to a folder loads no S3, SFTP or rclone code and no fetch client; list loads no destination; --version no command', async () => {
    const s = demoSetup();
    const created = await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(created.code, describeResult(created)).toBe(0);
    const nas = join(s.dir, 'nas');
    mkdirSync(nas, { mode: 0o700 });
    writeFileSync(
      s.configFile,
      JSON.stringify({
        ...demoConfig(),
        destinations: [
          { name: 'nas', type: 'folder', path: nas },
          {
            name: 'cloud',
            type: 's3',
            bucket: 'b',
            accessKeyId: 'a',
            secretAccessKey: 's',
            endpoint: 'http://127.0.0.1:1',
          },
          {
            name: 'far',
            type: 'sftp',
            host: '127.0.0.1',
            user: 'u',
            path: '/b',
            password: 'p',
            hostKey: `SHA256:${'A'.repeat(43)}`,
          },
          { name: 'drive', type: 'rclone', remote: 'drive' },
        ],
      }),
    );

    const copy = await traced(['copy', '--to', 'nas', '--config', s.configFile], s.dir);
    expect(copy.r.code, describeResult(copy.r)).toBe(0);
    expect(copy.loaded.some((u) => u.endsWith('/dist/destinations/folder.js'))).toBe(true);
    expect(copy.loaded.some((u) => u.startsWith('node-internal:'))).toBe(true);
    expect(copy.loaded.filter(remoteCode)).toEqual([]);

    const list = await traced(['list', '--config', s.configFile], s.dir);
    expect(list.r.code, describeResult(list.r)).toBe(0);
    expect(list.loaded.filter((u) => /\/dist\/destinations\/(folder|s3|sftp|rclone)\.js$/.test(u))).toEqual([]);
    expect(list.loaded.filter(remoteCode)).toEqual([]);

    const version = await traced(['--version'], s.dir);
    expect(version.r.code, describeResult(version.r)).toBe(0);
    expect(version.loaded.filter((u) => /\/dist\/cli\/commands\//.test(u))).toEqual([]);
  });
});
