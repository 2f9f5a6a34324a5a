import { describe, expect, test } from 'vitest';
import { NotFoundError } from '../src/core/errors.js';
import { english, phrase } from '../src/core/phrases.js';
import type { DatabaseConfig, DatabaseEntry } from '../src/core/types.js';
import {
  MAX_IDENTIFIER_BYTES,
  byteLength,
  describePg,
  parsePgUrl,
  resolveConnection,
  validatePgConfig,
  type PgConnection,
} from '../src/drivers/postgres/config.js';
import {
  childEnv,
  pgProgressLine,
  connString,
  pgDumpArgs,
  pgDumpDirArgs,
  pgRestoreDirArgs,
  finishedDataItem,
  copyRows,
  pgDumpallGlobalsArgs,
  lockWaitTimeout,
  pgRestoreArgs,
  pgRestoreListArgs,
  quoteConnValue,
  quoteIdent,
  quoteLiteral,
  toolPath,
} from '../src/drivers/postgres/args.js';
import {
  clientTooOld,
  createDatabaseSql,
  databasePropertiesSql,
  derivedName,
  hintForStderr,
  parseDerivedName,
  parseToolVersion,
  planPgRestore,
  preRestoreDbName,
  resolveTables,
  restoreDbName,
  serverMajor,
  truncateBytes,
} from '../src/drivers/postgres/plan.js';

const pgdb = (fields: Partial<DatabaseConfig>): DatabaseConfig => ({
  name: 'inventario',
  engine: 'postgres',
  ...fields,
});

describe('parsePgUrl', () => {
  test.each([
    [
      'postgresql://app:s3cret@db1:5432/inventario',
      { user: 'app', password: 's3cret', host: 'db1', port: 5432, database: 'inventario', params: {} },
    ],
    ['postgres://app@db1/inventario', { user: 'app', host: 'db1', database: 'inventario', params: {} }],
    [
      'postgresql://app:p%40ss%3Aw%2Frd@db1:6543/my%20db',
      { user: 'app', password: 'p@ss:w/rd', host: 'db1', port: 6543, database: 'my db', params: {} },
    ],
    ['postgresql://app:pw@@db1/x', { user: 'app', password: 'pw@', host: 'db1', database: 'x', params: {} }],
    [
      'postgresql://user@/db?host=/var/run/postgresql',
      { user: 'user', host: '/var/run/postgresql', database: 'db', params: {} },
    ],
    ['postgresql:///db', { database: 'db', params: {} }],
    ['postgresql://%2Ftmp%2Fsock/db', { host: '/tmp/sock', database: 'db', params: {} }],
    ['postgresql://[::1]:5433/x', { host: '::1', port: 5433, database: 'x', params: {} }],
    [
      'postgresql://h/db?sslmode=require&connect_timeout=5&application_name=x',
      { host: 'h', database: 'db', params: { sslmode: 'require', connect_timeout: '5' } },
    ],
    [
      'postgresql://h/db?password=fromquery&user=u&port=7',
      { host: 'h', database: 'db', user: 'u', password: 'fromquery', port: 7, params: {} },
    ],
    ['POSTGRESQL://h/db', { host: 'h', database: 'db', params: {} }],
    // Passwords interpolated raw from ${DB_PASSWORD}: the user info ends at the last "@".
    [
      "postgresql://app:p@ss/w?o#r:d'x@db1:5432/inv",
      { user: 'app', password: "p@ss/w?o#r:d'x", host: 'db1', port: 5432, database: 'inv', params: {} },
    ],
    [
      'postgresql://app:100%sure@db1/inv',
      { user: 'app', password: '100%sure', host: 'db1', database: 'inv', params: {} },
    ],
    [
      'postgresql://h1:5432,h2:5433/db?target_session_attrs=read-write',
      { host: 'h1,h2', database: 'db', params: { port: '5432,5433', target_session_attrs: 'read-write' } },
    ],
  ])('%s', (url, expected) => {
    expect(parsePgUrl(url)).toEqual(expected);
  });

  test.each([
    ['mysql://h/db'],
    ['postgresql:/h/db'],
    ['postgresql://h/db#frag'],
    ['postgresql://%zz@h/db'],
    ['postgresql://h/%zz'],
  ])('rejects %s', (url) => {
    expect(() => parsePgUrl(url)).toThrow();
  });

  test('errors never quote the password', () => {
    let message = '';
    try {
      parsePgUrl('postgresql://u:topsecret@h/db#x');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/cannot read/);
    expect(message).not.toContain('topsecret');
  });
});

describe('resolveConnection', () => {
  test('explicit fields override the URL', () => {
    expect(
      resolveConnection(pgdb({ url: 'postgresql://a:b@h:1/x', password: 'override', database: 'y', port: 2 })),
    ).toEqual({ host: 'h', port: 2, user: 'a', password: 'override', database: 'y', params: {} });
  });
  test('the database defaults to the entry name', () => {
    expect(resolveConnection(pgdb({ host: 'db1' })).database).toBe('inventario');
    expect(resolveConnection(pgdb({ url: 'postgresql://u@db1:5432' })).database).toBe('inventario');
  });
  test('fields alone', () => {
    expect(resolveConnection(pgdb({ host: 'db1', port: 5432, user: 'app', password: 'pw', database: 'inv' }))).toEqual({
      host: 'db1',
      port: 5432,
      user: 'app',
      password: 'pw',
      database: 'inv',
      params: {},
    });
  });
});

describe('validatePgConfig', () => {
  test.each<[string, Partial<DatabaseConfig>, { path: string; problem: RegExp }[]]>([
    ['url ok', { url: 'postgresql://app:x@db1:5432/inventario' }, []],
    [
      'fields ok',
      { host: 'db1', database: 'inventario', port: 5432, globals: true, binPath: '/usr/lib/postgresql/15/bin' },
      [],
    ],
    ['bad scheme', { url: 'mysql://db1/x' }, [{ path: 'url', problem: /not a postgresql:\/\/ URL/ }]],
    ['no database in url: the entry name', { url: 'postgresql://db1' }, []],
    ['no database field: the entry name', { host: 'db1' }, []],
    ['no name and no database', { host: 'db1', name: '' }, [{ path: 'database', problem: /no database name/ }]],
    ['port out of range', { url: 'postgresql://db1:70000/x' }, [{ path: 'url', problem: /port 70000/ }]],
    ['port field not integer', { database: 'x', port: 5432.5 }, [{ path: 'port', problem: /whole number/ }]],
    [
      'globals not boolean',
      { database: 'x', globals: 'yes' as unknown as boolean },
      [{ path: 'globals', problem: /true or false/ }],
    ],
    ['name too long', { database: 'x'.repeat(64) }, [{ path: 'database', problem: /longer than 63 bytes/ }]],
    [
      'binPath not string',
      { database: 'x', binPath: 3 as unknown as string },
      [{ path: 'binPath', problem: /string/ }],
    ],
    ['lockWaitTimeout ok', { database: 'x', lockWaitTimeout: '45s' }, []],
    ['jobs ok', { database: 'x', jobs: 2 }, []],
    [
      'jobs 0',
      { database: 'x', jobs: 0 },
      [{ path: 'jobs', problem: /^0 is not a whole number of jobs from 1 to 64/ }],
    ],
    ['jobs 2.5', { database: 'x', jobs: 2.5 }, [{ path: 'jobs', problem: /^2\.5 is not a whole number/ }]],
    ['jobs 65', { database: 'x', jobs: 65 }, [{ path: 'jobs', problem: /from 1 to 64/ }]],
    [
      'sslpassword would reach argv',
      { url: 'postgresql://app@db1/x?sslmode=verify-full&sslpassword=s3cret' },
      [{ path: 'url', problem: /sslpassword is not supported/ }],
    ],
    [
      'lockWaitTimeout not a duration',
      { database: 'x', lockWaitTimeout: 'soon' },
      [{ path: 'lockWaitTimeout', problem: /"soon" is not a duration/ }],
    ],
  ])('%s', (_label, fields, expected) => {
    const problems = validatePgConfig(pgdb(fields));
    expect(problems).toHaveLength(expected.length);
    expected.forEach((e, i) => {
      expect(problems[i]!.path).toBe(e.path);
      expect(problems[i]!.problem).toMatch(e.problem);
    });
  });
});

describe('describePg', () => {
  test.each([
    [{ url: 'postgresql://app:SECRET@db1:5432/inventario' }, 'database "inventario" on db1:5432 as app'],
    [{ host: 'db1', database: 'x', password: 'SECRET' }, 'database "x" on db1:5432'],
    [{ url: 'postgresql://app:SECRET@/x?host=/run/pg' }, 'database "x" on socket /run/pg as app'],
    [{ url: 'postgresql://app:SECRET@h/%zz' }, 'PostgreSQL database (invalid url)'],
  ])('%j', (fields, expected) => {
    const text = describePg(pgdb(fields));
    expect(text).toBe(expected);
    expect(text).not.toContain('SECRET');
  });
});

describe('quoting', () => {
  test.each([
    ['users', '"users"'],
    ['a"b', '"a""b"'],
    ['-odd=name', '"-odd=name"'],
    ['ñandú café', '"ñandú café"'],
  ])('quoteIdent(%j)', (input, out) => expect(quoteIdent(input)).toBe(out));
  test.each([
    ["it's", "'it''s'"],
    ['back\\slash', "E'back\\\\slash'"],
    ['plain', "'plain'"],
  ])('quoteLiteral(%j)', (input, out) => expect(quoteLiteral(input)).toBe(out));
  test.each([
    ["a'b", "'a\\'b'"],
    ['c:\\x', "'c:\\\\x'"],
    ['x y=z', "'x y=z'"],
  ])('quoteConnValue(%j)', (input, out) => expect(quoteConnValue(input)).toBe(out));
  test('NUL is refused', () => {
    expect(() => quoteIdent('a\0b')).toThrow();
    expect(() => quoteLiteral('a\0b')).toThrow();
  });
});

const conn: PgConnection = {
  host: 'db1',
  port: 5432,
  user: 'app',
  password: 'SECRET',
  database: 'inventario',
  params: { sslmode: 'require', bogus: 'x' },
};

describe('argument arrays', () => {
  test.each([
    [
      'full',
      undefined,
      [
        '--format=custom',
        '--compress=0',
        '--no-password',
        "--dbname=host='db1' port='5432' user='app' dbname='inventario' application_name='respaldo' sslmode='require'",
      ],
    ],
    [
      'schema',
      undefined,
      [
        '--format=custom',
        '--compress=0',
        '--no-password',
        '--schema-only',
        "--dbname=host='db1' port='5432' user='app' dbname='inventario' application_name='respaldo' sslmode='require'",
      ],
    ],
    [
      'full',
      '00000003-0000001B-1',
      [
        '--format=custom',
        '--compress=0',
        '--no-password',
        '--snapshot=00000003-0000001B-1',
        "--dbname=host='db1' port='5432' user='app' dbname='inventario' application_name='respaldo' sslmode='require'",
      ],
    ],
  ] as const)('pg_dump %s snapshot=%s', (type, snapshot, expected) => {
    expect(pgDumpArgs({ conn, type, snapshot })).toEqual(expected);
  });

  test.each([
    [
      'full',
      undefined,
      2,
      true,
      ['--format=directory', '--compress=0', '--jobs=2', '--verbose', '--no-password', '--no-sync', '--file=/s/d'],
    ],
    [
      'full',
      undefined,
      2,
      false,
      ['--format=directory', '--compress=0', '--jobs=2', '--verbose', '--no-password', '--file=/s/d'],
    ],
    [
      'schema',
      undefined,
      4,
      true,
      [
        '--format=directory',
        '--compress=0',
        '--jobs=4',
        '--verbose',
        '--no-password',
        '--no-sync',
        '--schema-only',
        '--file=/s/d',
      ],
    ],
    [
      'full',
      '00000003-0000001B-1',
      0,
      false,
      [
        '--format=directory',
        '--compress=0',
        '--jobs=1',
        '--verbose',
        '--no-password',
        '--snapshot=00000003-0000001B-1',
        '--file=/s/d',
      ],
    ],
  ] as const)('pg_dump directory %s snapshot=%s jobs=%s noSync=%s', (type, snapshot, jobs, noSync, expected) => {
    const args = pgDumpDirArgs({ conn, type, dir: '/s/d', jobs, noSync, snapshot });
    expect(args).toEqual([
      ...expected,
      "--dbname=host='db1' port='5432' user='app' dbname='inventario' application_name='respaldo' sslmode='require'",
    ]);
    expect(args.join(' ')).not.toContain('SECRET');
  });

  test('pg_restore of a staged directory: jobs, no single transaction, the list when tables are selected', () => {
    const db =
      "--dbname=host='db1' port='5432' user='app' dbname='x__restore_1' application_name='respaldo' sslmode='require'";
    expect(pgRestoreDirArgs({ conn, database: 'x__restore_1', dir: '/s/d', jobs: 3 })).toEqual([
      '--exit-on-error',
      '--jobs=3',
      '--no-password',
      '--format=directory',
      db,
      '/s/d',
    ]);
    const listed = pgRestoreDirArgs({ conn, database: 'x__restore_1', dir: '/s/d', jobs: 2, listFile: '/s/l' });
    expect(listed).toContain('--use-list=/s/l');
    expect(listed).not.toContain('--single-transaction');
    // One section of the dump (a restore that loads its large tables with sessions of their own).
    const section = pgRestoreDirArgs({ conn, database: 'x__restore_1', dir: '/s/d', jobs: 1, section: 'pre-data' });
    expect(section.slice(0, 5)).toEqual([
      '--exit-on-error',
      '--jobs=1',
      '--no-password',
      '--format=directory',
      '--section=pre-data',
    ]);
    expect(section.slice(-2)).toEqual([db, '/s/d']);
    // The data and the indexes after the schema (a restore that writes its small data files out beside the schema).
    const after = pgRestoreDirArgs({
      conn,
      database: 'x__restore_1',
      dir: '/s/d',
      jobs: 2,
      section: ['data', 'post-data'],
    });
    expect(after.slice(3, 6)).toEqual(['--format=directory', '--section=data', '--section=post-data']);
  });

  test.each([
    ['pg_dump: finished item 3358 TABLE DATA public orders', '3358.dat'],
    ['pg_dump: finished item 12 TABLE DATA Ünï "x" tabla con espacios', '12.dat'],
    ['pg_dump: finished item 3360 BLOBS BLOBS', null],
    ['pg_dump: dumping contents of table "public.orders"', null],
    ['pg_dump: finished item 7 SEQUENCE SET public s', null],
  ])('finished data item of %j', (line, file) => {
    expect(finishedDataItem(line)).toBe(file);
  });

  test.each([
    ['three rows and the terminator', 'a\nb\nc\n\\.\n\n\n', 3],
    ['empty table', '\\.\n\n\n', 0],
    ['a value ending in an escaped backslash-dot', 'x\\\\.\n\\.\n\n\n', 1],
    ['no terminator (counted as rows)', 'a\nb\n', 2],
  ])('rows of a COPY data file: %s', (_what, content, rows) => {
    const newlines = content.split('\n').length - 1;
    expect(copyRows(newlines, content.slice(-16))).toBe(rows);
  });

  test('several hosts become libpq host and port lists', () => {
    const c = resolveConnection(pgdb({ url: 'postgresql://u@h1:5432,h2:5433/db' }));
    expect(connString(c)).toBe("host='h1,h2' port='5432,5433' user='u' dbname='db' application_name='respaldo'");
  });

  test('a database name starting with "-" or holding "=" and quotes stays one quoted dbname value', () => {
    const args = pgDumpArgs({ conn: { ...conn, database: "-x=y 'z'", params: {} }, type: 'full' });
    expect(args.at(-1)).toBe(
      `--dbname=host='db1' port='5432' user='app' dbname='-x=y \\'z\\'' application_name='respaldo'`,
    );
    expect(args.filter((a) => !a.startsWith('--'))).toEqual([]);
  });

  test('no argument of any planner contains the password', () => {
    const all = [
      ...pgDumpArgs({ conn, type: 'full' }),
      ...pgDumpallGlobalsArgs({ conn, rolePasswords: true }),
      ...pgRestoreArgs({ conn, database: 'x' }),
      connString(conn),
    ];
    for (const a of all) expect(a).not.toContain('SECRET');
  });

  test.each([
    ['pg_dump: reading extensions', true],
    ['pg_dump: dumping contents of table "public.orders"', true],
    ['pg_dump: finished item 3358 TABLE DATA orders', true],
    ['pg_restore: processing item 3358 TABLE DATA orders', true],
    ['pg_dump: error: query failed: ERROR:  canceling statement due to lock timeout', false],
    ['pg_dump: detail: Query was: LOCK TABLE public.t IN ACCESS SHARE MODE', false],
    ['pg_dump: warning: could not find where to insert IF EXISTS', false],
    ['pg_dump: hint: Use --no-sync', false],
    ['pg_dump: [archiver (db)] connection to database "x" failed: FATAL:  no pg_hba.conf entry', false],
    ['ERROR:  relation "t" does not exist', false],
    ['	Is the server running on that host and accepting TCP/IP connections?', false],
  ])('pgProgressLine(%j) is %s', (line, progress) => {
    expect(pgProgressLine(line)).toBe(progress);
  });

  test('the password goes to the child environment only', () => {
    expect(childEnv(conn)).toEqual({
      PGAPPNAME: 'respaldo',
      PGCONNECT_TIMEOUT: '15',
      PGPASSWORD: 'SECRET',
      LC_ALL: 'C',
    });
    expect(childEnv({ ...conn, password: undefined } as unknown as PgConnection)).not.toHaveProperty('PGPASSWORD');
  });

  test.each([
    [true, ['--globals-only', '--no-password', "--database=dbname='inventario'"]],
    [false, ['--globals-only', '--no-password', '--no-role-passwords', "--database=dbname='inventario'"]],
  ])('pg_dumpall rolePasswords=%s', (rolePasswords, head) => {
    const args = pgDumpallGlobalsArgs({ conn, rolePasswords });
    expect(args.slice(0, -1)).toEqual(head);
    expect(args.at(-1)).toMatch(/^--dbname=host='db1'/);
  });

  test.each([
    [
      'whole archive',
      undefined,
      [
        '--exit-on-error',
        '--single-transaction',
        '--no-password',
        "--dbname=host='db1' port='5432' user='app' dbname='tmp' application_name='respaldo' sslmode='require'",
      ],
    ],
    [
      'selected tables',
      '/s/x.restore-list',
      [
        '--exit-on-error',
        '--single-transaction',
        '--no-password',
        '--use-list=/s/x.restore-list',
        "--dbname=host='db1' port='5432' user='app' dbname='tmp' application_name='respaldo' sslmode='require'",
      ],
    ],
  ] as const)('pg_restore: %s', (_label, listFile, expected) => {
    expect(pgRestoreArgs({ conn, database: 'tmp', listFile })).toEqual(expected);
    expect(pgRestoreListArgs()).toEqual(['--list', '--verbose']);
  });

  test('pg_dump waits for locks at most lockWaitTimeout', () => {
    expect(pgDumpArgs({ conn, type: 'full', lockWaitTimeout: '30s' })).toContain('--lock-wait-timeout=30s');
    expect(pgDumpArgs({ conn, type: 'full' }).some((a) => a.startsWith('--lock-wait-timeout'))).toBe(false);
  });

  test.each([
    ['30s', '30s'],
    [' 5 min ', '5min'],
    ['1h', '1h'],
    ['250ms', '250ms'],
    [1500, '1500'],
    ['90', '90'],
    ['0s', null],
    [0, null],
    [-5, null],
    [1.5, null],
    ['30 seconds', null],
    ['30s; DROP', null],
    [true, null],
  ])('lockWaitTimeout(%j) = %j', (value, expected) => {
    expect(lockWaitTimeout(value)).toBe(expected);
  });

  test.each([
    [{}, {}, 'pg_dump'],
    [{ binPath: '/opt/pg16/bin' }, { PG_BIN_PATH: '/ignored' }, '/opt/pg16/bin/pg_dump'],
    [{}, { PG_BIN_PATH: '/usr/lib/postgresql/15/bin' }, '/usr/lib/postgresql/15/bin/pg_dump'],
  ])('toolPath %j %j', (db, env, expected) => {
    expect(toolPath('pg_dump', db, env)).toBe(expected);
  });
});

describe('derived database names', () => {
  test.each([
    ['users', '20261122_101010', 'users__restore_20261122_101010', 'users__pre_restore_20261122_101010'],
    ['Ñandú', '20261122_101010_2', 'Ñandú__restore_20261122_101010_2', 'Ñandú__pre_restore_20261122_101010_2'],
  ])('%s / %s', (live, id, staging, safety) => {
    expect(restoreDbName(live, id)).toBe(staging);
    expect(preRestoreDbName(live, id)).toBe(safety);
    expect(parseDerivedName(live, staging)).toEqual({ kind: 'restore', id });
    expect(parseDerivedName(live, safety)).toEqual({ kind: 'pre_restore', id });
  });

  test.each([['a'.repeat(63)], ['ü'.repeat(31)], ['inventario_central_de_la_empresa_con_nombre_largo']])(
    'long live names are shortened to 63 bytes, deterministically, on a character boundary: %s',
    (live) => {
      for (const kind of ['restore', 'pre_restore'] as const) {
        const name = derivedName(live, kind, '20261122_101010');
        expect(byteLength(name)).toBeLessThanOrEqual(MAX_IDENTIFIER_BYTES);
        expect(name).toBe(derivedName(live, kind, '20261122_101010'));
        expect(name.endsWith(`__${kind}_20261122_101010`)).toBe(true);
        expect(name).not.toContain('\uFFFD');
        expect(parseDerivedName(live, name)).toEqual({ kind, id: '20261122_101010' });
        // Another live name with the same first bytes gets another name.
        expect(derivedName(live + 'x', kind, '20261122_101010')).not.toBe(name);
      }
    },
  );

  test('very long set ids are hashed but still recognised', () => {
    const name = restoreDbName('users', 'x'.repeat(80));
    expect(byteLength(name)).toBeLessThanOrEqual(63);
    expect(parseDerivedName('users', name)?.kind).toBe('restore');
  });

  test.each([
    ['users', 'users'],
    ['users', 'users__restore_'],
    ['users', 'other__restore_1'],
    ['users', 'users_x__pre_restore_1'],
    ['users', 'xusers__pre_restore_1'],
  ])('%s does not own %s', (live, name) => {
    expect(parseDerivedName(live, name)).toBeNull();
  });

  test('truncateBytes never splits a character', () => {
    expect(truncateBytes('añb', 2)).toBe('a');
    expect(truncateBytes('añb', 3)).toBe('añ');
  });
});

describe('database properties', () => {
  test('CREATE DATABASE with encoding and locale', () => {
    expect(createDatabaseSql('x__restore_1', { encoding: 'UTF8', collate: 'C.UTF-8', ctype: "it's" })).toBe(
      `CREATE DATABASE "x__restore_1" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'it''s'`,
    );
    expect(createDatabaseSql('x', { encoding: 'UTF8', localeProvider: 'icu', iculocale: 'es-ES' })).toBe(
      `CREATE DATABASE "x" TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'es-ES'`,
    );
    expect(createDatabaseSql('x', undefined)).toBe('CREATE DATABASE "x" TEMPLATE template0');
  });

  test('owner, settings and privileges; unknown roles are skipped', () => {
    const { statements, skipped } = databasePropertiesSql(
      't',
      {
        owner: 'app',
        settings: ['work_mem=8MB', 'search_path="$user", public', "app.tenant=a'b", 'bad key=1'],
        acl: [
          { grantee: null, privilege: 'TEMPORARY', grantable: false },
          { grantee: 'app', privilege: 'CONNECT', grantable: true },
          { grantee: 'ghost', privilege: 'CONNECT', grantable: false },
        ],
      },
      new Set(['app']),
    );
    expect(statements).toEqual([
      'ALTER DATABASE "t" OWNER TO "app"',
      `ALTER DATABASE "t" SET work_mem TO '8MB'`,
      'ALTER DATABASE "t" SET search_path TO "$user", public',
      `ALTER DATABASE "t" SET app.tenant TO 'a''b'`,
      'REVOKE ALL ON DATABASE "t" FROM PUBLIC',
      'GRANT TEMPORARY ON DATABASE "t" TO PUBLIC',
      'GRANT CONNECT ON DATABASE "t" TO "app" WITH GRANT OPTION',
    ]);
    expect(skipped).toEqual([
      phrase('prop.setting', { setting: 'bad key=1' }),
      phrase('prop.grantee', { privilege: 'CONNECT', grantee: 'ghost' }),
    ]);
    expect(skipped.map(english)).toEqual([
      'database property not restored: setting bad key=1',
      'database property not restored: CONNECT for ghost (role does not exist)',
    ]);
  });

  test('connection limit, comment, and settings of roles in the database; a role that does not exist is skipped', () => {
    const { statements, skipped } = databasePropertiesSql(
      't',
      {
        connectionLimit: 50,
        comment: "it's ours",
        roleSettings: [
          { role: 'app', settings: ['statement_timeout=33s', 'search_path=app, public'] },
          { role: 'ghost', settings: ['work_mem=1MB'] },
        ],
      },
      new Set(['app']),
    );
    expect(statements).toEqual([
      `ALTER ROLE "app" IN DATABASE "t" SET statement_timeout TO '33s'`,
      'ALTER ROLE "app" IN DATABASE "t" SET search_path TO app, public',
      'ALTER DATABASE "t" WITH CONNECTION LIMIT 50',
      `COMMENT ON DATABASE "t" IS 'it''s ours'`,
    ]);
    expect(skipped.map(english)).toEqual([
      'database property not restored: setting work_mem=1MB of role ghost in it (role does not exist)',
    ]);
    // no limit (-1), no comment: nothing said to the server
    expect(databasePropertiesSql('t', { connectionLimit: -1, comment: null }, new Set()).statements).toEqual([]);
  });

  test('default privileges (acl null) are left alone', () => {
    expect(databasePropertiesSql('t', { acl: null }, new Set()).statements).toEqual([]);
  });
});

describe('versions', () => {
  test.each([
    ['pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)', { major: 15, version: '15.18' }],
    ['pg_dump (PostgreSQL) 16.2', { major: 16, version: '16.2' }],
    ['pg_dump (PostgreSQL) 9.6.24', { major: 9, version: '9.6.24' }],
    ['pg_dump (PostgreSQL) 17devel', { major: 17, version: '17' }],
    ['something else', null],
  ])('parseToolVersion(%j)', (out, expected) => expect(parseToolVersion(out)).toEqual(expected));

  test.each([
    [150018, 15],
    [160002, 16],
    [90624, 9],
  ])('serverMajor(%d) = %d', (num, major) => expect(serverMajor(num)).toBe(major));

  test.each([
    [15, 15, false],
    [16, 15, false],
    [14, 15, true],
  ])('pg_dump %d vs server %d too old: %s', (client, server, old) => {
    expect(clientTooOld('pg_dump', client, server) !== null).toBe(old);
  });
});

describe('resolveTables', () => {
  const keys = ['public.album', 'sales.a.b', 'my schema.t'];
  test.each([
    [['public.album'], [{ schema: 'public', table: 'album' }]],
    [['album'], [{ schema: 'public', table: 'album' }]],
    [['my schema.t'], [{ schema: 'my schema', table: 't' }]],
  ])('%j', (req, out) => expect(resolveTables(req, { keys })).toEqual(out));
  test('relations recorded in the manifest disambiguate dots in names', () => {
    expect(resolveTables(['sales.a.b'], { keys, relations: [['sales.a', 'b']] })).toEqual([
      { schema: 'sales.a', table: 'b' },
    ]);
  });
  test('an unknown table is refused', () => {
    expect(() => resolveTables(['public.nope'], { keys })).toThrow(/not in this backup/);
  });
});

describe('hintForStderr', () => {
  test.each([
    [
      'pg_dump: error: connection to server at "h" failed: FATAL:  password authentication failed for user "app"',
      /password/,
    ],
    ['pg_dump: error: connection to server at "h", port 5432 failed: Connection refused', /running and reachable/],
    ['pg_dump: error: aborting because of server version mismatch', /postgresql-client/],
    ['pg_restore: error: could not execute query: ERROR:  role "ghost" does not exist', /--create-roles/],
    [
      'pg_dump: error: query failed: ERROR:  canceling statement due to statement timeout | pg_dump: detail: Query was: LOCK TABLE public.t IN ACCESS SHARE MODE',
      /lockWaitTimeout/,
    ],
    ['ERROR:  canceling statement due to lock timeout', /lockWaitTimeout/],
    ['FATAL:  database "nope" does not exist', /database name/],
    ['ERROR:  permission denied for table x', /privilege/],
    [
      'pg_restore: error: could not set default_tablespace to ts1: ERROR:  invalid value for parameter "default_tablespace": "ts1" | DETAIL:  Tablespace "ts1" does not exist.',
      /tablespace "ts1", which this server lacks.*CREATE TABLESPACE "ts1" LOCATION/,
    ],
    [
      'DETAIL:  Could not open extension control file "/usr/share/postgresql/15/extension/postgis.control": No such file or directory. | HINT:  The extension must first be installed on the system where PostgreSQL is running. | Command was: CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public;',
      /extension "postgis", which is not installed on this server/,
    ],
    ['ERROR:  extension "pgcrypto" is not available', /extension "pgcrypto", which is not installed/],
    [
      'pg_dump: error: query failed: ERROR:  out of shared memory | HINT:  You might need to increase max_locks_per_transaction. | pg_dump: detail: Query was: SELECT last_value, is_called FROM public.t_02780_id_seq',
      /raise max_locks_per_transaction in postgresql\.conf.*restart the server/,
    ],
    [
      'pg_dump: detail: Error message from server: ERROR:  invalid page in block 5 of relation base/16384/16386 | pg_dump: error: a worker process died unexpectedly',
      /damaged data in database "inventario".*restore the newest set that holds it without error/,
    ],
    [
      'pg_dump: error: Dumping the contents of table "t" failed: ERROR:  missing chunk number 0 for toast value 16444',
      /damaged data/,
    ],
    ['something unknown', undefined],
  ])('%s', (stderr, hint) => {
    const h = hintForStderr(stderr, { tool: 'pg_dump', conn });
    if (hint === undefined) expect(h).toBeUndefined();
    else expect(h).toMatch(hint);
  });

  test('a refused password names the ${VAR} it came from, never its value', () => {
    const stderr = 'pg_restore: error: connection to server at "h" failed: FATAL:  password authentication failed';
    const h = hintForStderr(stderr, { tool: 'pg_restore', conn: { ...conn, passwordVariable: 'PG_PASSWORD' } });
    expect(h).toMatch(/^The password comes from PG_PASSWORD: check PG_PASSWORD in the environment or \.env/);
  });
});

describe('planPgRestore', () => {
  const entry: DatabaseEntry = {
    name: 'inventario',
    engine: 'postgres',
    file: 'databases/inventario.dump.gz',
    format: 'pg-custom',
    compressed: true,
    rawBytes: 1,
    storedBytes: 1,
    md5: null,
    sha256: null,
    tables: { 'public.a': 1 },
    durationMs: 1,
    error: null,
    details: { rowCounts: 'exact' },
  };
  const db = pgdb({ url: 'postgresql://app:SECRET@db1:5432/inventario' });

  test('in place: staging, renamed safety copy, steps and rollback', () => {
    const plan = planPgRestore({ db, entry, setId: '20261122_101010', target: { kind: 'in-place' } });
    expect(plan).toMatchObject({
      database: 'inventario',
      target: 'database "inventario" on db1:5432 as app',
      replaces: true,
      staging: 'inventario__restore_20261122_101010',
      safety: { kind: 'renamed-database', name: 'inventario__pre_restore_20261122_101010' },
    });
    expect(plan.steps.join('\n')).toMatch(
      /pg_restore the backup into "inventario__restore_20261122_101010"[\s\S]*check row counts[\s\S]*--terminate-connections[\s\S]*rename "inventario" to "inventario__pre_restore_20261122_101010"[\s\S]*rename "inventario__restore_20261122_101010" to "inventario"/,
    );
    expect(plan.rollback).toMatch(/ALTER DATABASE "inventario__pre_restore_20261122_101010" RENAME TO "inventario"/);
    expect(JSON.stringify(plan)).not.toContain('SECRET');
  });

  test('a database name with quotes and spaces is named once in the target, in place and beside', () => {
    const quoted = pgdb({
      host: 'db1',
      port: 5432,
      user: 'app',
      password: 'SECRET',
      database: 'Año "Contable" 2026',
    });
    const set = '20261122_101010';
    expect(planPgRestore({ db: quoted, entry, setId: set, target: { kind: 'in-place' } }).target).toBe(
      'database "Año "Contable" 2026" on db1:5432 as app',
    );
    const beside = planPgRestore({
      db: quoted,
      entry,
      setId: set,
      target: { kind: 'side-by-side', name: 'Copia Año' },
    });
    expect(beside.target).toBe('new database "Copia Año" on db1:5432 as app');
  });

  test('in place while an earlier restore of the set keeps its safety copy: the plan names the next round', () => {
    const plan = planPgRestore({
      db,
      entry,
      setId: '20261122_101010',
      target: { kind: 'in-place' },
      keptSafeties: ['inventario__pre_restore_20261122_101010', 'inventario__pre_restore_20261122_090909'],
    });
    expect(plan.safety).toEqual({ kind: 'renamed-database', name: 'inventario__pre_restore_20261122_101010__2' });
    expect(plan.steps.join('\n')).toContain(
      'rename "inventario" to "inventario__pre_restore_20261122_101010__2" (the safety copy)',
    );
    expect(plan.rollback).toMatch(/ALTER DATABASE "inventario__pre_restore_20261122_101010__2" RENAME TO "inventario"/);
  });

  test('in place onto a server without the database (a new server): no sessions, no safety copy, the rollback drops it', () => {
    const plan = planPgRestore({
      db,
      entry,
      setId: '20261122_101010',
      target: { kind: 'in-place' },
      targetExists: false,
    });
    expect(plan).toMatchObject({
      replaces: true,
      staging: 'inventario__restore_20261122_101010',
      safety: { kind: 'none', reason: 'database "inventario" does not exist now; nothing is replaced' },
    });
    expect(plan.steps.slice(-2)).toEqual([
      'rename "inventario__restore_20261122_101010" to "inventario"',
      'if anything fails: drop "inventario__restore_20261122_101010"; no existing database is touched',
    ]);
    expect(plan.steps.join('\n')).not.toMatch(/pre_restore|terminate-connections/);
    expect(plan.rollback).toBe(
      'Nothing is replaced. Drop "inventario" when you no longer need it: DROP DATABASE "inventario";',
    );
    expect(plan.stepPhrases?.map(english)).toEqual(plan.steps);
  });

  test('how pg_restore loads: one transaction for a custom-format dump, parallel sessions for a directory one', () => {
    const step = (format: string) =>
      planPgRestore({ db, entry: { ...entry, format }, setId: '1', target: { kind: 'in-place' } }).steps.find((x) =>
        x.startsWith('pg_restore the backup'),
      );
    expect(step('pg-custom')).toBe(
      'pg_restore the backup into "inventario__restore_1" (one transaction, stop on the first error)',
    );
    expect(step('pg-directory')).toBe(
      'pg_restore the backup into "inventario__restore_1": its schema first, in one session, then its data and indexes in parallel sessions (stop on the first error)',
    );
  });

  test('side by side with selected tables', () => {
    const plan = planPgRestore({
      db,
      entry: { ...entry, details: { rowCounts: 'estimate' } },
      setId: '1',
      target: { kind: 'side-by-side', name: 'inv_copy' },
      tables: ['public.a'],
    });
    expect(plan).toMatchObject({
      replaces: false,
      staging: 'inventario__restore_1',
      safety: { kind: 'none' },
      target: 'new database "inv_copy" on db1:5432 as app',
    });
    expect(plan.steps.join('\n')).toMatch(
      /pg_restore only public\.a[\s\S]*estimates only[\s\S]*refuse if "inv_copy" already exists/,
    );
  });

  test('a selected table the backup does not hold is refused as not found (exit 8), naming the tables there', () => {
    const plan = () =>
      planPgRestore({
        db,
        entry: { ...entry, details: { rowCounts: 'exact', partitionedTables: [] } },
        setId: '1',
        target: { kind: 'side-by-side', name: 'inv_copy' },
        tables: ['public.a', 'public.nosuch'],
      });
    expect(plan).toThrow(NotFoundError);
    expect(plan).toThrow('Database inventario: table "public.nosuch" is not in this backup.');
    try {
      plan();
    } catch (err) {
      expect(err).toMatchObject({ kind: 'notFound', hint: 'Tables in this backup: public.a' });
    }
  });

  test('a selection not found among thousands of tables: the closest names first, with how many there are', () => {
    const tables = Object.fromEntries(
      Array.from({ length: 5000 }, (_, i) => [`public.tabla_${String(i).padStart(5, '0')}`, 1]),
    );
    const plan = () =>
      planPgRestore({
        db,
        entry: { ...entry, tables, details: { rowCounts: 'exact', partitionedTables: [] } },
        setId: '1',
        target: { kind: 'side-by-side', name: 'inv_copy' },
        tables: ['public.tabla_4999'],
      });
    expect(plan).toThrow(NotFoundError);
    try {
      plan();
    } catch (err) {
      const hint = (err as NotFoundError).hint ?? '';
      expect(hint).toMatch(
        /^This backup holds 5000 tables; the closest to "public\.tabla_4999": public\.tabla_04999, /,
      );
      expect(hint).toMatch(/respaldo show <set id> lists them all/);
      expect(hint.length).toBeLessThan(1000);
    }
  });

  test('the tables named for a selection not found include the partitioned ones (--table takes them), first', () => {
    const plan = () =>
      planPgRestore({
        db,
        entry: {
          ...entry,
          tables: { 'public.z': 1, 'public.m_2024': 2, 'public.m_2025': 3, 'public.a': 4 },
          details: { rowCounts: 'exact', partitionedTables: [['public', 'm']] },
        },
        setId: '1',
        target: { kind: 'side-by-side', name: 'inv_copy' },
        tables: ['public.nosuch'],
      });
    expect(plan).toThrow(
      expect.objectContaining({
        hint: 'Tables in this backup: public.m (partitioned), public.a, public.m_2024, public.m_2025, public.z',
      }),
    );
  });
});
