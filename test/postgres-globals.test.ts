import { describe, expect, test } from 'vitest';
import { english, phrase } from '../src/core/phrases.js';
import {
  dropCreatedRolesSql,
  parseGlobals,
  planMissingRoles,
  type StoredGlobals,
} from '../src/drivers/postgres/globals.js';

/**
 * Real `pg_dumpall --globals-only` output of a PostgreSQL 15.18 cluster (pg_dumpall 15.18), made with:
 *   CREATE ROLE app LOGIN PASSWORD 'x'; CREATE ROLE reader NOLOGIN;
 *   CREATE ROLE "Rôle ""raro"" x" LOGIN CREATEDB CONNECTION LIMIT 3 VALID UNTIL '2030-01-01';
 *   CREATE ROLE admin SUPERUSER LOGIN PASSWORD 'y'; CREATE ROLE "select" CREATEROLE REPLICATION BYPASSRLS;
 *   ALTER ROLE app SET search_path TO 'a;b'; ALTER ROLE app SET work_mem TO '64MB';
 *   ALTER ROLE app IN DATABASE postgres SET statement_timeout TO '5s';   -- not in the output (pg_dump --create has it)
 *   ALTER ROLE "Rôle ""raro"" x" SET application_name TO 'it''s; "x"';
 *   GRANT reader TO app; GRANT reader TO "Rôle ""raro"" x" WITH ADMIN OPTION GRANTED BY admin; GRANT app TO "select";
 *   COMMENT ON ROLE reader IS 'it''s; fine'; COMMENT ON ROLE "Rôle ""raro"" x" IS E'back\\slash -- not a comment';
 * Password hashes replaced by a fake SCRAM string. `--no-role-passwords` gives the same text without the PASSWORD
 * clauses.
 */
const DUMP = String.raw`--
-- PostgreSQL database cluster dump
--

\restrict va45USZZ1bCwem4Sw9rU4EkhdhxOv6Y3b4gJfQ50tlHYapUkm8yhsza6AlFJ2Qh

SET default_transaction_read_only = off;

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

--
-- Roles
--

CREATE ROLE "Rôle ""raro"" x";
ALTER ROLE "Rôle ""raro"" x" WITH NOSUPERUSER INHERIT NOCREATEROLE CREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 3 VALID UNTIL '2030-01-01 00:00:00+00';
COMMENT ON ROLE "Rôle ""raro"" x" IS E'back\\slash -- not a comment';
CREATE ROLE admin;
ALTER ROLE admin WITH SUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:ZmFrZS1zYWx0LTEyMw==$ZmFrZS1zdG9yZWQta2V5LWZvci10ZXN0cy0xMjM0NQ==:ZmFrZS1zZXJ2ZXIta2V5LWZvci10ZXN0cy0xMjM0NQ==';
CREATE ROLE app;
ALTER ROLE app WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:ZmFrZS1zYWx0LTEyMw==$ZmFrZS1zdG9yZWQta2V5LWZvci10ZXN0cy0xMjM0NQ==:ZmFrZS1zZXJ2ZXIta2V5LWZvci10ZXN0cy0xMjM0NQ==';
CREATE ROLE postgres;
ALTER ROLE postgres WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:ZmFrZS1zYWx0LTEyMw==$ZmFrZS1zdG9yZWQta2V5LWZvci10ZXN0cy0xMjM0NQ==:ZmFrZS1zZXJ2ZXIta2V5LWZvci10ZXN0cy0xMjM0NQ==';
CREATE ROLE reader;
ALTER ROLE reader WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;
COMMENT ON ROLE reader IS 'it''s; fine';
CREATE ROLE "select";
ALTER ROLE "select" WITH NOSUPERUSER INHERIT CREATEROLE NOCREATEDB NOLOGIN REPLICATION BYPASSRLS;

--
-- User Configurations
--

--
-- User Config "Rôle "raro" x"
--

ALTER ROLE "Rôle ""raro"" x" SET application_name TO 'it''s; "x"';

--
-- User Config "app"
--

ALTER ROLE app SET search_path TO 'a;b';
ALTER ROLE app SET work_mem TO '64MB';


--
-- Role memberships
--

GRANT app TO "select" GRANTED BY postgres;
GRANT reader TO "Rôle ""raro"" x" WITH ADMIN OPTION GRANTED BY admin;
GRANT reader TO app GRANTED BY postgres;






\unrestrict va45USZZ1bCwem4Sw9rU4EkhdhxOv6Y3b4gJfQ50tlHYapUkm8yhsza6AlFJ2Qh

--
-- PostgreSQL database cluster dump complete
--

`;

const DUMP_NO_PASSWORDS = DUMP.replace(/ PASSWORD '[^']*'/g, '');

const FAKE_SCRAM = 'SCRAM-SHA-256$4096:ZmFrZS1zYWx0LTEyMw==';

/**
 * Real output (same server version) with a tablespace, its ALTER/GRANT/COMMENT, and a membership in a predefined role.
 */
const DUMP_TABLESPACE = String.raw`--
-- PostgreSQL database cluster dump
--

\restrict dN9bZEJYECxQCe21QZmBSDfAqH1wJEUmJPN0LhaPlVDbpoXbpxj1PCkbNAxh9EN

SET default_transaction_read_only = off;

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

--
-- Roles
--

CREATE ROLE "App2";
ALTER ROLE "App2" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS;
CREATE ROLE postgres;
ALTER ROLE postgres WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS;
CREATE ROLE reader;
ALTER ROLE reader WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;

--
-- User Configurations
--


--
-- Role memberships
--

GRANT pg_read_all_data TO reader GRANTED BY postgres;




--
-- Tablespaces
--

CREATE TABLESPACE "ts 1" OWNER "App2" LOCATION '/srv/pg/ts1';
ALTER TABLESPACE "ts 1" SET (random_page_cost=2);
GRANT ALL ON TABLESPACE "ts 1" TO reader;
COMMENT ON TABLESPACE "ts 1" IS 'fast; disk';


\unrestrict dN9bZEJYECxQCe21QZmBSDfAqH1wJEUmJPN0LhaPlVDbpoXbpxj1PCkbNAxh9EN

--
-- PostgreSQL database cluster dump complete
--

`;

const RARO = 'Rôle "raro" x';

const globals = (sql: string): StoredGlobals => parseGlobals(sql);

describe('parseGlobals on real pg_dumpall output', () => {
  const g = globals(DUMP);

  test('roles, in dump order, with unquoted names', () => {
    expect(g.roles.map((r) => r.name)).toEqual([RARO, 'admin', 'app', 'postgres', 'reader', 'select']);
    expect(g.unrecognized).toEqual([]);
    expect(g.tablespaces).toEqual([]);
  });

  test('attributes, settings and comments', () => {
    const byName = new Map(g.roles.map((r) => [r.name, r]));
    expect(byName.get('app')).toEqual({
      name: 'app',
      attributes: `NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS PASSWORD '${FAKE_SCRAM}$ZmFrZS1zdG9yZWQta2V5LWZvci10ZXN0cy0xMjM0NQ==:ZmFrZS1zZXJ2ZXIta2V5LWZvci10ZXN0cy0xMjM0NQ=='`,
      settings: ["ALTER ROLE app SET search_path TO 'a;b'", "ALTER ROLE app SET work_mem TO '64MB'"],
      comment: null,
    });
    expect(byName.get('reader')).toEqual({
      name: 'reader',
      attributes: 'NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS',
      settings: [],
      comment: "COMMENT ON ROLE reader IS 'it''s; fine'",
    });
    expect(byName.get(RARO)).toEqual({
      name: RARO,
      attributes:
        "NOSUPERUSER INHERIT NOCREATEROLE CREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 3 VALID UNTIL '2030-01-01 00:00:00+00'",
      settings: [`ALTER ROLE "Rôle ""raro"" x" SET application_name TO 'it''s; "x"'`],
      comment: String.raw`COMMENT ON ROLE "Rôle ""raro"" x" IS E'back\\slash -- not a comment'`,
    });
  });

  test('memberships keep the full statement', () => {
    expect(g.memberships).toEqual([
      { role: 'app', member: 'select', statement: 'GRANT app TO "select" GRANTED BY postgres' },
      {
        role: 'reader',
        member: RARO,
        statement: 'GRANT reader TO "Rôle ""raro"" x" WITH ADMIN OPTION GRANTED BY admin',
      },
      { role: 'reader', member: 'app', statement: 'GRANT reader TO app GRANTED BY postgres' },
    ]);
  });

  test('--no-role-passwords output parses the same, without passwords', () => {
    const n = globals(DUMP_NO_PASSWORDS);
    expect(n.roles.map((r) => r.name)).toEqual(g.roles.map((r) => r.name));
    expect(n.roles.find((r) => r.name === 'app')?.attributes).toBe(
      'NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS',
    );
    expect(n.memberships).toEqual(g.memberships);
    expect(n.unrecognized).toEqual([]);
  });

  test('tablespaces are listed by name; their ALTER, GRANT and COMMENT are recognised', () => {
    const t = globals(DUMP_TABLESPACE);
    expect(t.tablespaces).toEqual(['ts 1']);
    expect(t.unrecognized).toEqual([]);
    expect(t.roles.map((r) => r.name)).toEqual(['App2', 'postgres', 'reader']);
    expect(t.memberships).toEqual([
      { role: 'pg_read_all_data', member: 'reader', statement: 'GRANT pg_read_all_data TO reader GRANTED BY postgres' },
    ]);
  });
});

describe('parseGlobals on edge cases', () => {
  type Expect = {
    roles?: string[];
    settings?: string[];
    comment?: string | null;
    memberships?: [string, string][];
    tablespaces?: string[];
    unrecognized?: string[];
  };
  test.each<[string, string, Expect]>([
    [
      'semicolons inside quotes',
      `CREATE ROLE "a;b";\nALTER ROLE "a;b" SET search_path TO 'x;y', "z;w";`,
      { roles: ['a;b'], settings: [`ALTER ROLE "a;b" SET search_path TO 'x;y', "z;w"`], unrecognized: [] },
    ],
    ['doubled double quotes and non-ASCII', 'CREATE ROLE "We""ird ñ";', { roles: ['We"ird ñ'] }],
    ['bare names fold to lower case (ASCII only)', 'CREATE ROLE App;\nCREATE ROLE Ñandú;', { roles: ['app', 'Ñandú'] }],
    [
      'line and block comments',
      '-- CREATE ROLE ghost;\nCREATE ROLE real; /* CREATE ROLE ghost2; /* nested; */ still; */\n',
      { roles: ['real'], unrecognized: [] },
    ],
    [
      '"--" inside a literal is not a comment',
      "CREATE ROLE c;\nCOMMENT ON ROLE c IS 'a -- b; c';",
      { comment: "COMMENT ON ROLE c IS 'a -- b; c'" },
    ],
    [
      'E-string with a backslash-escaped quote',
      String.raw`CREATE ROLE c; COMMENT ON ROLE c IS E'it\'s; \\ fine';`,
      { comment: String.raw`COMMENT ON ROLE c IS E'it\'s; \\ fine'`, unrecognized: [] },
    ],
    [
      'dollar-quoted literal',
      'CREATE ROLE c; COMMENT ON ROLE c IS $x$a;b$x$;',
      { comment: 'COMMENT ON ROLE c IS $x$a;b$x$' },
    ],
    [
      'session SETs and psql \\restrict are ignored',
      "\\restrict abc\nSET default_transaction_read_only = off;\nSET client_encoding = 'UTF8';\nCREATE ROLE a;\n\\unrestrict abc\n",
      { roles: ['a'], unrecognized: [] },
    ],
    [
      'IN DATABASE settings belong to the role',
      'CREATE ROLE a;\nALTER ROLE a IN DATABASE "my db" SET work_mem TO \'8MB\';',
      { settings: [`ALTER ROLE a IN DATABASE "my db" SET work_mem TO '8MB'`] },
    ],
    [
      'grant lists expand to pairs',
      'GRANT a, "B" TO c, d;',
      {
        memberships: [
          ['a', 'c'],
          ['a', 'd'],
          ['B', 'c'],
          ['B', 'd'],
        ],
      },
    ],
    [
      'PostgreSQL 16 grant options',
      'GRANT a TO b WITH ADMIN OPTION, INHERIT TRUE, SET FALSE GRANTED BY postgres;',
      { memberships: [['a', 'b']], unrecognized: [] },
    ],
    [
      'GRANT … ON TABLESPACE is not a membership',
      'CREATE TABLESPACE "t s" OWNER a LOCATION \'/x\';\nGRANT ALL ON TABLESPACE "t s" TO a;\nREVOKE ALL ON TABLESPACE "t s" FROM PUBLIC;\nCOMMENT ON TABLESPACE "t s" IS \'x\';',
      { tablespaces: ['t s'], memberships: [], unrecognized: [] },
    ],
    [
      'SECURITY LABEL is not understood',
      "CREATE ROLE a;\nSECURITY LABEL FOR selinux ON ROLE a IS 'x';",
      { unrecognized: ["SECURITY LABEL FOR selinux ON ROLE a IS 'x'"] },
    ],
    [
      'other statements and psql commands are not understood',
      'DROP ROLE IF EXISTS a;\n\\connect foo\nGRANT SELECT ON TABLE t TO a;\nALTER ROLE a RENAME TO b;',
      {
        unrecognized: [
          'DROP ROLE IF EXISTS a',
          '\\connect foo',
          'GRANT SELECT ON TABLE t TO a',
          'ALTER ROLE a RENAME TO b',
        ],
      },
    ],
    [
      'statements on a role the dump never created',
      "ALTER ROLE ghost WITH LOGIN;\nCOMMENT ON ROLE ghost IS 'x';",
      { roles: [], unrecognized: ['ALTER ROLE ghost WITH LOGIN', "COMMENT ON ROLE ghost IS 'x'"] },
    ],
    [
      'an unterminated last statement (truncated dump)',
      'CREATE ROLE a;\nCREATE ROLE b',
      { roles: ['a'], unrecognized: ['CREATE ROLE b'] },
    ],
    [
      'an unterminated literal',
      "CREATE ROLE a;\nCOMMENT ON ROLE a IS 'oops;\n",
      { comment: null, unrecognized: ["COMMENT ON ROLE a IS 'oops;\n"] },
    ],
    [
      'passwords are masked in unrecognized statements',
      "ALTER ROLE ghost WITH LOGIN PASSWORD 'SCRAM-SHA-256$4096:secret';",
      { unrecognized: ["ALTER ROLE ghost WITH LOGIN PASSWORD '***'"] },
    ],
  ])('%s', (_name, sql, want) => {
    const g = globals(sql);
    if (want.roles) expect(g.roles.map((r) => r.name)).toEqual(want.roles);
    if (want.settings) expect(g.roles[0]?.settings).toEqual(want.settings);
    if (want.comment !== undefined) expect(g.roles[0]?.comment).toBe(want.comment);
    if (want.memberships) expect(g.memberships.map((m) => [m.role, m.member])).toEqual(want.memberships);
    if (want.tablespaces) expect(g.tablespaces).toEqual(want.tablespaces);
    if (want.unrecognized) expect(g.unrecognized).toEqual(want.unrecognized);
  });
});

describe('planMissingRoles', () => {
  const g = globals(DUMP);
  const scram = /SCRAM-SHA-256/;

  test('a server with only postgres: everything else created, memberships granted without GRANTED BY', () => {
    const plan = planMissingRoles(g, new Set(['postgres']));
    expect(plan.create).toEqual([
      { name: RARO, summary: 'CREATEDB, LOGIN' },
      { name: 'admin', summary: 'SUPERUSER, LOGIN, password' },
      { name: 'app', summary: 'LOGIN, password' },
      { name: 'reader', summary: 'NOLOGIN' },
      { name: 'select', summary: 'CREATEROLE, REPLICATION, BYPASSRLS, NOLOGIN' },
    ]);
    const appAttrs = g.roles.find((r) => r.name === 'app')?.attributes;
    const adminAttrs = g.roles.find((r) => r.name === 'admin')?.attributes;
    expect(plan.statements).toEqual([
      'CREATE ROLE "Rôle ""raro"" x"',
      `ALTER ROLE "Rôle ""raro"" x" WITH NOSUPERUSER INHERIT NOCREATEROLE CREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 3 VALID UNTIL '2030-01-01 00:00:00+00'`,
      `ALTER ROLE "Rôle ""raro"" x" SET application_name TO 'it''s; "x"'`,
      String.raw`COMMENT ON ROLE "Rôle ""raro"" x" IS E'back\\slash -- not a comment'`,
      'CREATE ROLE "admin"',
      `ALTER ROLE "admin" WITH ${adminAttrs}`,
      'CREATE ROLE "app"',
      `ALTER ROLE "app" WITH ${appAttrs}`,
      "ALTER ROLE app SET search_path TO 'a;b'",
      "ALTER ROLE app SET work_mem TO '64MB'",
      'CREATE ROLE "reader"',
      'ALTER ROLE "reader" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS',
      "COMMENT ON ROLE reader IS 'it''s; fine'",
      'CREATE ROLE "select"',
      'ALTER ROLE "select" WITH NOSUPERUSER INHERIT CREATEROLE NOCREATEDB NOLOGIN REPLICATION BYPASSRLS',
      'GRANT "app" TO "select"',
      'GRANT "reader" TO "Rôle ""raro"" x" WITH ADMIN OPTION',
      'GRANT "reader" TO "app"',
    ]);
    expect(plan.skipped).toEqual([]);
    expect(plan.statements.some((s) => /GRANTED BY/i.test(s))).toBe(false);
  });

  test('every role already exists: nothing to do', () => {
    const plan = planMissingRoles(g, new Set(g.roles.map((r) => r.name)));
    expect(plan).toEqual({ create: [], statements: [], skipped: [] });
  });

  test('partial: existing roles get no statement, only grants to a new member', () => {
    const plan = planMissingRoles(g, new Set(['postgres', 'reader', 'admin', 'app']));
    expect(plan.create.map((c) => c.name)).toEqual([RARO, 'select']);
    const grants = plan.statements.filter((s) => s.startsWith('GRANT'));
    expect(grants).toEqual(['GRANT "app" TO "select"', 'GRANT "reader" TO "Rôle ""raro"" x" WITH ADMIN OPTION']);
    for (const existing of ['reader', 'admin', 'app']) {
      expect(
        plan.statements.filter((s) => !s.startsWith('GRANT') && new RegExp(`ROLE "?${existing}\\b`).test(s)),
      ).toEqual([]);
    }
    expect(plan.skipped).toEqual([]);
  });

  test('only: a selection, with memberships to roles left out noted', () => {
    const plan = planMissingRoles(g, new Set(['postgres']), { only: ['app', 'nobody', 'postgres'] });
    expect(plan.create).toEqual([{ name: 'app', summary: 'LOGIN, password' }]);
    expect(plan.statements.map((s) => s.replace(/ WITH .*/, ' WITH …'))).toEqual([
      'CREATE ROLE "app"',
      'ALTER ROLE "app" WITH …',
      "ALTER ROLE app SET search_path TO 'a;b'",
      "ALTER ROLE app SET work_mem TO '64MB'",
    ]);
    expect(plan.skipped.map(english)).toEqual([
      'role "nobody" not created: it is not in the backup',
      'role "postgres" already exists on the server: left unchanged',
      'membership of "select" in "app" not granted: role "select" does not exist on the server and is not being created',
      'membership of "Rôle ""raro"" x" in "reader" not granted: roles "reader" and "Rôle ""raro"" x" do not exist on the server and are not being created',
      'membership of "app" in "reader" not granted: role "reader" does not exist on the server and is not being created',
    ]);
  });

  test('membership in a predefined role that exists on the server', () => {
    const t = globals(DUMP_TABLESPACE);
    const plan = planMissingRoles(t, new Set(['postgres', 'pg_read_all_data']));
    expect(plan.create.map((c) => c.name)).toEqual(['App2', 'reader']);
    expect(plan.statements).toContain('GRANT "pg_read_all_data" TO "reader"');
    expect(plan.statements.some((s) => /TABLESPACE/i.test(s))).toBe(false);
  });

  test.each<[string, string, string[], string[]]>([
    [
      'GRANTED BY dropped, PostgreSQL 16 options kept',
      'CREATE ROLE a; CREATE ROLE b; GRANT a TO b WITH ADMIN OPTION, INHERIT FALSE GRANTED BY "Boss";',
      ['GRANT "a" TO "b" WITH ADMIN OPTION, INHERIT FALSE'],
      [],
    ],
    [
      'the same grant by two grantors is granted once',
      'CREATE ROLE a; CREATE ROLE b; GRANT a TO b GRANTED BY x; GRANT a TO b GRANTED BY y;',
      ['GRANT "a" TO "b"'],
      [],
    ],
    [
      'grants between existing roles are left alone',
      'CREATE ROLE a; GRANT ex1 TO ex2 GRANTED BY x; GRANT ex1 TO a;',
      ['GRANT "ex1" TO "a"'],
      [],
    ],
    [
      'grants to an unknown role are noted',
      'CREATE ROLE a; GRANT a TO ghost;',
      [],
      ['membership of "ghost" in "a" not granted: role "ghost" does not exist on the server and is not being created'],
    ],
    [
      'an existing role never gains a membership in a new role',
      'CREATE ROLE a; GRANT a TO ex1;',
      [],
      ['membership of existing role "ex1" in new role "a" not granted: existing roles are left unchanged'],
    ],
  ])('memberships: %s', (_name, sql, grants, skipped) => {
    const plan = planMissingRoles(globals(sql), new Set(['ex1', 'ex2']));
    expect(plan.statements.filter((s) => s.startsWith('GRANT'))).toEqual(grants);
    expect(plan.skipped.map(english)).toEqual(skipped);
  });

  test.each<[string, string | null, string]>([
    ['no ALTER ROLE in the dump', null, 'NOLOGIN'],
    ['plain login', 'LOGIN', 'LOGIN'],
    [
      'all notable flags',
      'SUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS LOGIN',
      'SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS, LOGIN',
    ],
    [
      'NO… flags are not listed',
      'NOSUPERUSER NOINHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1',
      'NOLOGIN',
    ],
    ['password, lower case keywords', "login encrypted password 'md5abc' valid until 'infinity'", 'LOGIN, password'],
    ['PASSWORD NULL is no password', 'LOGIN PASSWORD NULL', 'LOGIN'],
  ])('summary: %s', (_name, attributes, summary) => {
    const plan = planMissingRoles(
      {
        roles: [{ name: 'r', attributes, settings: [], comment: null }],
        memberships: [],
        tablespaces: [],
        unrecognized: [],
      },
      new Set(),
    );
    expect(plan.create).toEqual([{ name: 'r', summary }]);
    expect(plan.statements).toEqual(
      attributes === null ? ['CREATE ROLE "r"'] : ['CREATE ROLE "r"', `ALTER ROLE "r" WITH ${attributes}`],
    );
  });

  test.each<[string, string, string]>([
    ['an unknown attribute', 'LOGIN SYSID 12', 'SYSID'],
    ['a second statement', 'LOGIN; DROP TABLE t', '(not one list of attributes)'],
    ['an unterminated literal', "LOGIN PASSWORD 'abc", '(not one list of attributes)'],
  ])('a role whose attributes hold %s is not created', (_name, attributes, problem) => {
    const plan = planMissingRoles(
      {
        roles: [{ name: 'r', attributes, settings: [], comment: null }],
        memberships: [],
        tablespaces: [],
        unrecognized: [],
      },
      new Set(),
    );
    expect(plan.create).toEqual([]);
    expect(plan.statements).toEqual([]);
    expect(plan.skipped.map(english)).toEqual([
      `role "r" not created: its attributes hold "${problem}", which respaldo does not understand`,
    ]);
  });

  test('what is left out is data: a phrase per note, the names quoted as parameters (the menu says it in Spanish)', () => {
    const plan = planMissingRoles(g, new Set(['postgres']), { only: ['app', 'nobody', 'postgres'] });
    expect(plan.skipped).toEqual([
      phrase('role.notInBackup', { role: '"nobody"' }),
      phrase('role.exists', { role: '"postgres"' }),
      phrase('role.membershipMissing', { member: '"select"', role: '"app"', missing: '"select"' }),
      phrase('role.membershipBothMissing', { member: '"Rôle ""raro"" x"', role: '"reader"' }),
      phrase('role.membershipMissing', { member: '"app"', role: '"reader"', missing: '"reader"' }),
    ]);
    const reserved = planMissingRoles(
      globals('CREATE ROLE pg_custom; CREATE ROLE a; GRANT a TO ex1;'),
      new Set(['ex1']),
    );
    expect(reserved.skipped).toEqual([
      phrase('role.reserved', { role: '"pg_custom"' }),
      phrase('role.membershipExisting', { member: '"ex1"', role: '"a"' }),
    ]);
  });

  test('reserved pg_ names are not created', () => {
    const plan = planMissingRoles(globals('CREATE ROLE pg_custom;'), new Set());
    expect(plan.statements).toEqual([]);
    expect(plan.skipped.map(english)).toEqual([
      `role "pg_custom" not created: names starting with pg_ are reserved for PostgreSQL's predefined roles`,
    ]);
  });

  test('no password hash in summaries, notes or unrecognized statements', () => {
    const plan = planMissingRoles(g, new Set(), { only: ['app', 'admin'] });
    expect(JSON.stringify(plan.create)).not.toMatch(scram);
    expect(JSON.stringify(plan.skipped)).not.toMatch(scram);
    expect(JSON.stringify(globals(DUMP.replace(/CREATE ROLE app;/, '')).unrecognized)).not.toMatch(scram);
  });
});

describe('dropCreatedRolesSql', () => {
  test.each<[string[], string[]]>([
    [[], []],
    [['a'], ['DROP ROLE IF EXISTS "a"']],
    [
      ['app', RARO, 'select'],
      ['DROP ROLE IF EXISTS "select"', 'DROP ROLE IF EXISTS "Rôle ""raro"" x"', 'DROP ROLE IF EXISTS "app"'],
    ],
  ])('%j', (names, sql) => {
    expect(dropCreatedRolesSql(names)).toEqual(sql);
  });

  test('drops what a plan created, last first', () => {
    const plan = planMissingRoles(g0(), new Set(['postgres']));
    expect(dropCreatedRolesSql(plan.create.map((c) => c.name))[0]).toBe('DROP ROLE IF EXISTS "select"');
  });
});

function g0(): StoredGlobals {
  return parseGlobals(DUMP);
}
