/**
 * backup_config.json as the operator writes it: malformed JSON, schema errors by JSON path, ${VAR} and .env, and
 * what each database entry becomes. One file because every case checks the same contract (exit 3, the file and the
 * field named, a hint, nothing written) with the helper below; its parts are the describe blocks.
 */
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectEngine, loadConfig, resolveConfigPath } from '../src/config/load.js';
import { ConfigError } from '../src/core/errors.js';
import { say, sayMessage } from '../src/ui/i18n/index.js';
import { parsePgUrl } from '../src/drivers/postgres/config.js';
import { maskSecrets } from '../src/exec/spawn.js';
import { drillTarget } from '../src/engine/drill-target.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoConfig, makeTmpDir, writeConfig } from './helpers/tmp.js';

/** Runs `create --config FILE` and checks the config error contract: exit 3, file named, nothing written. */
async function expectConfigError(dir: string, file: string, ...fragments: (string | RegExp)[]): Promise<string> {
  const before = readdirSync(dir).sort();
  const r = await runCli(['create', '--config', file], { cwd: dir });
  expect(r.code, describeResult(r)).toBe(3);
  expect(r.stderr).toContain(file);
  expect(r.stderr).toMatch(/hint: /);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack: an operator error
  for (const f of fragments)
    expect(r.stderr).toMatch(f instanceof RegExp ? f : new RegExp(f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  expect(existsSync(join(dir, 'backups')), 'backupDir must not be created by a bad config').toBe(false);
  expect(readdirSync(dir).sort()).toEqual(before);
  return r.stderr;
}

function writeRaw(dir: string, text: string, name = 'backup_config.json'): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('malformed JSON', () => {
  it('names the file, the line and the column (trailing comma in an object), exit 3', async () => {
    const dir = makeTmpDir();
    // line 3 holds the offending `}` after a trailing comma
    const file = writeRaw(dir, '{\n  "backupDir": "./backups",\n}\n');
    await expectConfigError(dir, file, 'malformed JSON', /line 3, column 1\b/);
  });

  it('a byte order mark (Notepad saves one) is read past; a number JSON reads as Infinity names its field', async () => {
    const dir = makeTmpDir();
    const config = { backupDir: './backups', databases: [{ name: 'users', engine: 'sqlite', path: './u.db' }] };
    const file = writeRaw(dir, '\uFEFF' + JSON.stringify(config));
    await expect(loadConfig({ configPath: file, env: {} })).resolves.toMatchObject({ backupDir: join(dir, 'backups') });
    const huge = writeRaw(dir, JSON.stringify(config).replace(/}$/, ',"health":{"minFreeBytes":1e400}}'), 'huge.json');
    await expectConfigError(dir, huge, 'health.minFreeBytes: Infinity is not a number respaldo can use');
  });

  it('names the line and column of a missing comma', async () => {
    const dir = makeTmpDir();
    const file = writeRaw(dir, '{\n  "backupDir": "./backups"\n  "databases": []\n}\n');
    await expectConfigError(dir, file, 'malformed JSON', /line 3, column 3\b/);
  });

  it('names the line and column of a trailing comma in an array (the usual mistake after removing a database)', async () => {
    const dir = makeTmpDir();
    const text = JSON.stringify(demoConfig(), null, 2).replace(
      /("url": "sqlite:\.\/data\/auditoria\.db"\n\s*})/,
      '$1,',
    );
    const file = writeRaw(dir, text);
    const lines = text.split('\n');
    const bad = lines.findIndex((l, i) => i > 0 && /^\s*\]/.test(l) && /,\s*$/.test(lines[i - 1]!)) + 1;
    expect(bad).toBeGreaterThan(1);
    const stderr = await expectConfigError(dir, file, 'malformed JSON');
    expect(stderr).toContain(`line ${bad}, column ${lines[bad - 1]!.indexOf(']') + 1}:`);
  });

  it('a config or .env saved as Latin-1 or UTF-16 is refused naming the file and the line (its bytes became U+FFFD)', async () => {
    const dir = makeTmpDir();
    const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
    const file = join(dir, 'backup_config.json');
    const config = '{\n  "backupDir": "./backups",\n  "databases": [{ "name": "users", "path": "./data/año.db" }]\n}\n';
    writeFileSync(file, latin1(config));
    await expectConfigError(dir, file, `${file}: line 3 is not UTF-8 text`, 'Save the file as UTF-8');
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(config, 'utf16le')]));
    await expectConfigError(dir, file, `${file}: is UTF-16 text, not UTF-8`);
    writeFileSync(file, config);
    writeFileSync(join(dir, '.env'), latin1('A=1\nDB_PASSWORD=contraseña\n'));
    await expectConfigError(dir, join(dir, '.env'), `${join(dir, '.env')}: line 2 is not UTF-8 text`);
  });

  it('a key written twice in one object is named with both lines (JSON kept the second: the first databases dropped)', async () => {
    const dir = makeTmpDir();
    const text = [
      '{',
      '  "backupDir": "./backups",',
      '  "databases": [{ "name": "users", "path": "./data/users.db" }],',
      '  "files": { "application": [{ "path": "./app", "exclude": ["a\\"b", "\\"exclude\\":"] }] },',
      '  "databases": [{ "name": "ventas", "path": "./data/ventas.db" }]',
      '}',
    ].join('\n');
    const file = writeRaw(dir, text);
    await expectConfigError(
      dir,
      file,
      `${file}: databases: is written twice (lines 3 and 5)`,
      'hint: Keep one of them',
    );
    const nested = text
      .split('\n')
      .slice(0, 4)
      .join('\n')
      .replace(/,$/, '\n}')
      .replace('"exclude": [', '"include": ["**"], "include": [');
    writeRaw(dir, nested);
    await expectConfigError(dir, file, `${file}: files.application[0].include: is written twice (lines 4 and 4)`);
    // the menu says it in Spanish
    const err = (await loadConfig({ configPath: file }).catch((e: unknown) => e)) as ConfigError;
    expect(sayMessage('es', err.phrases, err.message)).toBe(
      `${file}: files.application[0].include: está escrito dos veces (líneas 4 y 4); JSON se quedaría solo con la segunda, sin avisar`,
    );
    expect(say('es', err.phrases!.hint!, err.hint ?? '')).toMatch(/^Deje solo uno/);
  });

  it('a config that is a symlink loop is said so, with a hint about the link (not "the field named above")', async () => {
    const dir = makeTmpDir();
    symlinkSync('b.json', join(dir, 'a.json'));
    symlinkSync('a.json', join(dir, 'b.json'));
    const stderr = await expectConfigError(dir, join(dir, 'a.json'), 'is a symbolic link that leads back to itself');
    expect(stderr).toContain('hint: Point the link at the config file');
    const err = (await loadConfig({ configPath: join(dir, 'a.json') }).catch((e: unknown) => e)) as ConfigError;
    expect(sayMessage('es', err.phrases, err.message)).toContain('es un enlace simbólico que vuelve a sí mismo');
  });

  it('an empty file is a config error, not a crash', async () => {
    const dir = makeTmpDir();
    const file = writeRaw(dir, '');
    await expectConfigError(dir, file, 'malformed JSON');
  });
});

describe('schema errors name the JSON path', () => {
  it('wrong type: databases[0].name', async () => {
    const { dir, configFile } = writeConfig(makeTmpDir(), (c) => ({
      ...c,
      databases: [{ name: 5, engine: 'sqlite', path: './data/users.db' }],
    }));
    await expectConfigError(dir, configFile, 'databases[0].name', 'found 5, expected a text in quotes');
  });

  it('wrong type: compression.level as a string', async () => {
    const { dir, configFile } = writeConfig(makeTmpDir(), { compression: { level: 'high' } });
    await expectConfigError(dir, configFile, 'compression.level', 'found "high", expected a whole number');
  });

  it('unknown engine', async () => {
    const { dir, configFile } = writeConfig(makeTmpDir(), (c) => ({
      ...c,
      databases: [{ name: 'users', engine: 'oracle', path: './data/users.db' }],
    }));
    await expectConfigError(
      dir,
      configFile,
      'databases[0].engine',
      /found "oracle", expected one of "sqlite", "postgres", "sqlserver"/,
    );
  });

  it('a url with an unknown scheme and no engine', async () => {
    const { dir, configFile } = writeConfig(makeTmpDir(), (c) => ({
      ...c,
      databases: [{ name: 'users', url: 'mysql://u@h/db' }],
    }));
    await expectConfigError(dir, configFile, 'databases[0].url', 'cannot tell the engine');
  });

  it('sqlite entry without path: databases[1].path required', async () => {
    const { dir, configFile } = writeConfig(makeTmpDir(), (c) => ({
      ...c,
      databases: [
        { name: 'users', engine: 'sqlite', path: './data/users.db' },
        { name: 'inventario', engine: 'sqlite' },
      ],
    }));
    await expectConfigError(dir, configFile, /databases\[1\]\.path: required/);
  });

  it('jobs: 0 on a PostgreSQL database, and jobs on a SQLite one (which runs no jobs), are named', async () => {
    const pg = { name: 'inventario', url: 'postgresql://app@db1/inventario' };
    const zero = writeConfig(makeTmpDir(), (c) => ({ ...c, databases: [{ ...pg, jobs: 0 }] }));
    await expectConfigError(zero.dir, zero.configFile, 'databases[0].jobs', 'found 0, expected at least 1');
    const sqlite = writeConfig(makeTmpDir(), (c) => ({
      ...c,
      databases: [pg, { name: 'users', engine: 'sqlite', path: './data/users.db', jobs: 2 }],
    }));
    await expectConfigError(
      sqlite.dir,
      sqlite.configFile,
      /databases\[1\]\.jobs: only PostgreSQL databases take "jobs"/,
    );
  });

  it('unknown field (a typo) is named', async () => {
    const { dir, configFile } = writeConfig(makeTmpDir(), (c) => ({
      ...c,
      databases: [{ name: 'users', engine: 'sqlite', pth: './data/users.db' }],
    }));
    await expectConfigError(
      dir,
      configFile,
      'databases[0].pth',
      'is not a field respaldo knows here (did you mean "path"?)',
    );
  });

  it('unknown top-level field', async () => {
    const { dir, configFile } = writeConfig(makeTmpDir(), { backupdir: './x' });
    await expectConfigError(
      dir,
      configFile,
      'backupdir',
      'is not a field respaldo knows here (did you mean "backupDir"?)',
    );
  });

  it('missing backupDir', async () => {
    const { dir, configFile } = writeConfig(makeTmpDir(), { backupDir: undefined });
    await expectConfigError(dir, configFile, /backupDir: is missing/);
  });

  it('duplicate database names', async () => {
    const { dir, configFile } = writeConfig(makeTmpDir(), (c) => ({
      ...c,
      databases: [
        { name: 'users', engine: 'sqlite', path: './data/users.db' },
        { name: 'Users', engine: 'sqlite', path: './data/inventario.db' },
      ],
    }));
    await expectConfigError(dir, configFile, 'databases[1].name', 'already used by databases[0]');
  });

  it('a missing config file is exit 3 naming the path', async () => {
    const dir = makeTmpDir();
    const r = await runCli(['list'], { cwd: dir });
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stderr).toContain(join(dir, 'backup_config.json'));
    expect(r.stderr).toContain('not found');
  });
});

describe('${VAR} interpolation', () => {
  const withVar = (c: Record<string, unknown>) => ({ ...c, backupDir: '${BK_DIR}/backups' });

  it('a missing variable is named with its JSON path, exit 3', async () => {
    const { dir, configFile } = writeConfig(makeTmpDir(), withVar);
    const r = await runCli(['create', '--config', configFile], { cwd: dir, env: { BK_DIR: undefined } });
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stderr).toContain('${BK_DIR}');
    expect(r.stderr).toContain('backupDir');
    expect(r.stderr).toContain(join(dir, '.env'));
    expect(readdirSync(dir).sort()).toEqual(['backup_config.json', 'data']);
  });

  it('a variable set to nothing is named where the field needs a value (it said "is empty: fill it in")', async () => {
    const { configFile, dir } = writeConfig(makeTmpDir(), { backupDir: '${BK_DIR}' });
    writeFileSync(join(dir, '.env'), 'BK_DIR=\n');
    const stderr = await expectConfigError(dir, configFile, 'backupDir: ${BK_DIR} is set but empty');
    expect(stderr).toContain('hint: Give BK_DIR a value in the environment or in');
    const err = (await loadConfig({ configPath: configFile }).catch((e: unknown) => e)) as ConfigError;
    expect(sayMessage('es', err.phrases, err.message)).toBe(
      `${configFile}: backupDir: \${BK_DIR} tiene un valor vacío`,
    );
  });

  it('comes from the environment', async () => {
    const { dir, configFile } = writeConfig(makeTmpDir(), withVar);
    const other = makeTmpDir();
    const cfg = await loadConfig({ configPath: configFile, env: { BK_DIR: other } });
    expect(cfg.backupDir).toBe(join(other, 'backups'));
    const r = await runCli(['create', '--config', configFile, '--json'], { cwd: dir, env: { BK_DIR: other } });
    expect(r.code, describeResult(r)).toBe(0);
    expect(readdirSync(join(other, 'backups')).some((n) => /^\d{8}_\d{6}/.test(n))).toBe(true);
  });

  it('comes from a .env beside the config; the environment wins over it', async () => {
    const { configFile, dir } = writeConfig(makeTmpDir(), withVar);
    writeFileSync(join(dir, '.env'), 'BK_DIR=/from/dotenv\nDB_PASSWORD=s3cr3t-from-dotenv\n');
    const fromFile = await loadConfig({ configPath: configFile, env: {} });
    expect(fromFile.backupDir).toBe('/from/dotenv/backups');
    const fromEnv = await loadConfig({ configPath: configFile, env: { BK_DIR: '/from/env' } });
    expect(fromEnv.backupDir).toBe('/from/env/backups');
  });

  it.each(['BK_DIR: /from/dotenv', 'export BK_DIR /from/dotenv'])(
    'a .env line that names the variable but is not KEY=VALUE (%s) is named by its number, never its value',
    async (line) => {
      const { configFile, dir } = writeConfig(makeTmpDir(), withVar);
      writeFileSync(join(dir, '.env'), `# backups\nOTHER=1\n${line}\n`);
      const err = await loadConfig({ configPath: configFile, env: {} }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      const text = `${(err as ConfigError).message} ${(err as ConfigError).hint ?? ''}`;
      expect(text).toContain(
        `Line 3 of ${join(dir, '.env')} names BK_DIR but is not KEY=VALUE, so it is passed over: write it as BK_DIR=value.`,
      );
      expect(text).not.toContain('/from/dotenv');
    },
  );

  it('a folder named .env beside the config is a config error naming it (exit 3), not an internal error', async () => {
    const { configFile, dir } = writeConfig(makeTmpDir(), (c) => c);
    mkdirSync(join(dir, '.env'));
    const before = readdirSync(dir).sort();
    const r = await runCli(['create', '--json', '--config', configFile], { cwd: dir });
    expect(r.code, describeResult(r)).toBe(3);
    expect(parseJsonOutput<{ error: string }>(r.stdout).error).toBe('config');
    expect(r.stderr).toContain(`${join(dir, '.env')}: is a folder`);
    expect(r.stderr).toContain('hint: Move that folder away');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('$${ writes a literal ${', async () => {
    const { configFile } = writeConfig(makeTmpDir(), { backupDir: './b$${X}' });
    const cfg = await loadConfig({ configPath: configFile, env: {} });
    expect(cfg.backupDir.endsWith('/b${X}')).toBe(true);
  });

  it.each(['./b${DIRA:-x}', './b${lower-case}', './b${}', './b${UNCLOSED'])(
    '%s is no variable respaldo reads: the field is named, nothing is left as literal text',
    async (backupDir) => {
      const { configFile } = writeConfig(makeTmpDir(), { backupDir });
      const err = await loadConfig({ configPath: configFile, env: { DIRA: '/x' } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain('backupDir');
      expect((err as ConfigError).message).toContain('is not a variable respaldo reads');
      expect((err as ConfigError).hint).toContain('$${ for a literal');
    },
  );

  it('interpolated secrets are collected for masking', async () => {
    const { configFile } = writeConfig(makeTmpDir(), (c) => ({
      ...c,
      databases: [{ name: 'pg', url: 'postgresql://app:${DB_PASSWORD}@127.0.0.1:5432/app' }],
    }));
    const cfg = await loadConfig({ configPath: configFile, env: { DB_PASSWORD: 'hunter2-xyz' } });
    expect(cfg.databases[0]!.engine).toBe('postgres');
    expect(cfg.secrets).toContain('hunter2-xyz');
  });

  it("an rclone remote's secrets are masked, not its key file's path, a switch or a number: status --json stays JSON", async () => {
    const { configFile, dir } = writeConfig(makeTmpDir(), (c) => ({
      ...c,
      destinations: [
        {
          name: 'cloud',
          type: 'rclone',
          remote: 'cloud',
          path: '/srv/backups',
          config: {
            type: 'sftp',
            host: 'backup.example.net',
            key_file: '/root/.ssh/id_ed25519',
            key_use_agent: 'false',
            known_hosts_file: '/root/.ssh/known_hosts',
            key_file_pass: '${KEY_PASS}',
          },
        },
        { name: 'swift', type: 'rclone', remote: 'swift', path: 'b', config: { type: 'swift', auth_version: '3' } },
      ],
    }));
    const env = { KEY_PASS: 'c2VjcmV0LW9ic2N1cmVk' };
    const cfg = await loadConfig({ configPath: configFile, env });
    expect(cfg.secrets).toContain('c2VjcmV0LW9ic2N1cmVk');
    expect(cfg.secrets).not.toContain('/root/.ssh/id_ed25519');
    expect(cfg.secrets).not.toContain('false');
    expect(cfg.secrets).not.toContain('3');
    const r = await runCli(['status', '--json', '--config', configFile], { cwd: dir, env });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).not.toContain('***');
    expect(() => parseJsonOutput(r.stdout), r.stdout).not.toThrow();
  });

  it('records which ${VAR} a password came from (its name only): password, url, a whole url; none when written out', async () => {
    const url = (pw: string) => `postgresql://app:${pw}@127.0.0.1:5432/app`;
    const { configFile } = writeConfig(makeTmpDir(), (c) => ({
      ...c,
      databases: [
        { name: 'a', url: url('${PG_PASSWORD}') },
        { name: 'b', url: url('x'), password: '${B_PASS}' },
        { name: 'c', url: '${C_URL}' },
        { name: 'd', url: url('written-out') },
        { name: 'e', url: 'postgresql://${PG_USER}:plain@127.0.0.1:5432/app' },
      ],
      drill: { server: { url: 'postgresql://postgres:${DRILL_PG_PASSWORD}@127.0.0.1:5433/postgres' } },
    }));
    const env = { PG_PASSWORD: 'pa', B_PASS: 'pb', C_URL: url('pc'), PG_USER: 'app', DRILL_PG_PASSWORD: 'pd' };
    const cfg = await loadConfig({ configPath: configFile, env });
    expect(cfg.databases.map((d) => d.passwordVariable)).toEqual([
      'PG_PASSWORD',
      'B_PASS',
      'C_URL',
      undefined,
      undefined,
    ]);
    expect(cfg.drill?.server?.passwordVariable).toBe('DRILL_PG_PASSWORD');
    // a database drilled on drill.server names the server's variable, never its own
    expect(drillTarget(cfg, cfg.databases[0]!).passwordVariable).toBe('DRILL_PG_PASSWORD');
    const { password: _pw, passwordVariable: _v, ...written } = cfg.drill!.server!;
    const literal = { ...cfg, drill: { server: { ...written, password: 'plain' } } };
    expect(drillTarget(literal, cfg.databases[0]!).passwordVariable).toBeUndefined();
  });

  it.each(['p@ss/w#rd?Q', 'a:b@c', 'p%40ss'])(
    'a raw password %j in a PostgreSQL URL is masked whole, as the driver reads it (not a piece of it)',
    async (password) => {
      const { configFile } = writeConfig(makeTmpDir(), (c) => ({
        ...c,
        databases: [{ name: 'pg', url: 'postgresql://weird:${WPASS}@127.0.0.1:5432/app' }],
      }));
      const cfg = await loadConfig({ configPath: configFile, env: { WPASS: password } });
      const read = parsePgUrl(cfg.databases[0]!.url!).password!;
      expect(cfg.secrets).toContain(read);
      expect(cfg.secrets.filter((x) => x !== read && read.includes(x))).toEqual([]);
      expect(maskSecrets(`connecting as weird with ${read} to pg; ports and paths stay`, cfg.secrets)).toBe(
        'connecting as weird with *** to pg; ports and paths stay',
      );
    },
  );
});

describe('database entries that contradict themselves', () => {
  it.each([
    [
      { name: 'd', engine: 'sqlite', url: 'postgresql://app:pw@h/db' },
      'databases[0].url',
      'is a postgres URL, and "engine" says sqlite',
    ],
    [
      { name: 'd', engine: 'postgres', url: 'sqlite:./x.db' },
      'databases[0].url',
      'is a sqlite URL, and "engine" says postgres',
    ],
    [{ name: 'd', path: './a.db', url: 'sqlite:./b.db' }, 'databases[0].url', 'and "path" both name the SQLite file'],
    [{ name: 'd', path: 'sqlite:./data/a.db' }, 'databases[0].path', 'is a sqlite: URL, not a file path'],
    [{ name: 'd', path: 'postgresql://app:pw@h/db' }, 'databases[0].path', 'is a postgresql: URL, not a file path'],
  ])('%j is a config error naming the field', async (db, field, problem) => {
    const { configFile } = writeConfig(makeTmpDir(), { databases: [db] });
    const err = await loadConfig({ configPath: configFile, env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(field);
    expect((err as ConfigError).message).toContain(problem);
    expect((err as ConfigError).message).not.toContain(':pw@');
    expect((err as ConfigError).hint).not.toContain(':pw@');
  });

  it('a Windows drive in "path" is a path, and a sqlite: URL there is said with the path to write', async () => {
    const { configFile } = writeConfig(makeTmpDir(), { databases: [{ name: 'd', path: 'C:\\data\\a.db' }] });
    await expect(loadConfig({ configPath: configFile, env: {} })).resolves.toBeTruthy();
    const bad = writeConfig(makeTmpDir(), { databases: [{ name: 'd', path: 'sqlite:./data/a.db' }] });
    const err = (await loadConfig({ configPath: bad.configFile, env: {} }).catch((e: unknown) => e)) as ConfigError;
    expect(err.hint).toBe('Move it to "url", or give the file alone: "path": "./data/a.db".');
  });
});

describe('engine detection', () => {
  it.each([
    [{ url: 'postgresql://u@h/db' }, 'postgres'],
    [{ url: 'postgres://u@h/db' }, 'postgres'],
    [{ url: 'POSTGRESQL://u@h/db' }, 'postgres'],
    [{ url: 'sqlserver://h:1433;database=x' }, 'sqlserver'],
    [{ url: 'mssql://u@h/db' }, 'sqlserver'],
    [{ url: 'sqlite:./data/a.db' }, 'sqlite'],
    [{ url: 'sqlite:///abs/a.db' }, 'sqlite'],
    [{ url: './data/a.db' }, 'sqlite'],
    [{ url: '/var/lib/app/a.db' }, 'sqlite'],
    [{ path: './a.db' }, 'sqlite'],
    [{ url: 'mysql://u@h/db' }, undefined],
    [{ url: 'http://example.com/a.db' }, undefined],
    [{}, undefined],
    [{ engine: 'postgres', url: 'sqlite:./x.db' }, 'postgres'],
  ] as const)('%j → %s', (db, expected) => {
    expect(detectEngine(db)).toBe(expected);
  });

  it('a sqlite: url becomes an absolute path relative to the config folder', async () => {
    const { configFile, dataDir } = writeConfig(makeTmpDir());
    const cfg = await loadConfig({ configPath: configFile, env: {} });
    const aud = cfg.databases.find((d) => d.name === 'auditoria')!;
    expect(aud.engine).toBe('sqlite');
    expect(aud.path).toBe(join(dataDir, 'auditoria.db'));
  });
});

describe('which config file is used', () => {
  it('resolveConfigPath: --config, else RESPALDO_CONFIG, else ./backup_config.json', () => {
    expect(resolveConfigPath({ configPath: 'a.json', env: { RESPALDO_CONFIG: '/b.json' }, cwd: '/w' })).toBe(
      '/w/a.json',
    );
    expect(resolveConfigPath({ env: { RESPALDO_CONFIG: 'b.json' }, cwd: '/w' })).toBe('/w/b.json');
    expect(resolveConfigPath({ env: {}, cwd: '/w' })).toBe('/w/backup_config.json');
  });

  it('the CLI follows the same precedence', async () => {
    const dir = makeTmpDir();
    writeConfig(dir, { backupDir: './bk-default' });
    writeConfig(dir, { backupDir: './bk-env' }, { fileName: 'env.json' });
    writeConfig(dir, { backupDir: './bk-flag' }, { fileName: 'flag.json' });
    const used = async (args: string[], env: Record<string, string | undefined>) => {
      const r = await runCli(['status', '--json', ...args], { cwd: dir, env });
      expect(r.code, describeResult(r)).toBe(0);
      return parseJsonOutput<{ backupDir: string; configFile: string }>(r.stdout);
    };
    expect((await used(['--config', 'flag.json'], { RESPALDO_CONFIG: join(dir, 'env.json') })).backupDir).toBe(
      join(dir, 'bk-flag'),
    );
    expect((await used([], { RESPALDO_CONFIG: join(dir, 'env.json') })).backupDir).toBe(join(dir, 'bk-env'));
    const def = await used([], {});
    expect(def.backupDir).toBe(join(dir, 'bk-default'));
    expect(def.configFile).toBe(join(dir, 'backup_config.json'));
  });

  it('loadConfig throws a typed ConfigError carrying file and path', async () => {
    const dir = makeTmpDir();
    mkdirSync(join(dir, 'x'));
    const { configFile } = writeConfig(dir, (c) => ({ ...c, databases: [{ name: 'users', engine: 'sqlite' }] }), {
      demo: false,
    });
    const err = await loadConfig({ configPath: configFile, env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).file).toBe(configFile);
    expect((err as ConfigError).path).toBe('databases[0].path');
    expect((err as ConfigError).exitCode).toBe(3);
  });
});

describe('paths that are not what the config says they are', () => {
  it('a backupDir that is a file: a config error naming backupDir (it was an internal error), nothing changed', async () => {
    const dir = makeTmpDir();
    const s = writeConfig(dir, { backupDir: './data/users.db' });
    const said = await expectConfigError(dir, s.configFile, 'backupDir', 'is a file, not a folder');
    expect(said).not.toContain('internal error');
  });

  it('a SQLite path that is a folder: a config error naming databases[i].path (it was "disk I/O error")', async () => {
    const dir = makeTmpDir();
    const s = writeConfig(dir, (c) => ({
      ...c,
      databases: [...(c['databases'] as object[]), { name: 'carpeta', engine: 'sqlite', path: './data/app' }],
    }));
    await expectConfigError(dir, s.configFile, 'databases[3].path', 'is a folder, not a SQLite database file');
  });
});

describe('a secret put where a path or a time goes', () => {
  it('is *** in the progress lines, the --json error lines and a config error, as in the final error and the log', async () => {
    const dir = makeTmpDir();
    const secret = 'S3cr3t!x"q';
    writeFileSync(join(dir, '.env'), `DB_PASSWORD='${secret}'\n`);
    const s = writeConfig(dir, (c) => ({
      ...c,
      databases: [{ name: 'users', engine: 'sqlite', path: './data/${DB_PASSWORD}.db' }],
    }));
    for (const args of [
      ['create', '--no-files'],
      ['create', '--no-files', '--json'],
    ]) {
      const r = await runCli([...args, '--config', s.configFile], { cwd: dir });
      expect(r.code, describeResult(r)).toBe(7);
      expect(r.stdout + r.stderr).toContain('***');
      expect(r.stdout + r.stderr).not.toContain('S3cr3t');
    }
    const bad = writeConfig(dir, (c) => ({
      ...c,
      schedule: { jobs: [{ name: 'nightly', when: '${DB_PASSWORD}' }] },
    }));
    const r = await runCli(['create', '--config', bad.configFile], { cwd: dir });
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stderr).toContain('schedule.jobs[0].when');
    expect(r.stderr).not.toContain('S3cr3t');
  });
});

describe('--config naming a folder', () => {
  it('says it is a folder and how to name the file (it said "fix the field named above" with no field)', async () => {
    const dir = makeTmpDir();
    const r = await runCli(['list', '--config', dir], { cwd: dir });
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stderr).toContain(`${dir}: is a folder, not a config file`);
    expect(r.stderr).toContain(`hint: Pass the file itself (--config ${join(dir, 'backup_config.json')}, say)`);
    expect(r.stderr).not.toContain('field named above');
  });
});
