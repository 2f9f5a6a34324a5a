import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { ConfigError } from '../src/core/errors.js';
import { say, sayMessage } from '../src/ui/i18n/index.js';
import { describeResult, runCli } from './helpers/cli.js';
import { demoConfig, makeTmpDir, writeConfig } from './helpers/tmp.js';

/**
 * Schema errors in the operator's words, as data: one bad config for each kind of check the schema makes (required,
 * an unknown field, enum, type, pattern, minLength, minimum, maximum, minItems, uniqueItems, minProperties, the
 * notifications' discriminator). Each names the field by its path, says what was found and what was expected, and
 * gives a hint; ajv's own wording ("must have required property", "must NOT have additional properties", "must be
 * equal to one of the allowed values") never shows, in English or in the menu's Spanish.
 */

type Doc = Record<string, unknown>;
const db = { name: 'users', engine: 'sqlite', path: './data/users.db' };
const email = { type: 'email', on: ['failure'], host: 'smtp.example', from: 'a@example.com', to: ['b@example.com'] };
const sftp = { name: 'nas', type: 'sftp', host: 'h', user: 'u', path: '/b', hostKey: `SHA256:${'A'.repeat(43)}` };

interface Case {
  name: string;
  edit: (c: Doc) => Doc;
  path: string;
  message: (string | RegExp)[];
  hint: string | RegExp;
  es: (string | RegExp)[];
}

const cases: Case[] = [
  {
    name: 'required (top level)',
    edit: (c) => ({ ...c, backupDir: undefined }),
    path: 'backupDir',
    message: ['is missing (the top level needs "backupDir")'],
    hint: 'Add "backupDir" to the top level.',
    es: ['falta (el nivel superior necesita "backupDir")'],
  },
  {
    name: 'required (in an entry)',
    edit: (c) => ({ ...c, databases: [db, { engine: 'sqlite', path: './x.db' }] }),
    path: 'databases[1].name',
    message: ['is missing (databases[1] needs "name")'],
    hint: 'Add "name" to databases[1].',
    es: ['falta (databases[1] necesita "name")'],
  },
  {
    name: 'an unknown field, a letter off',
    edit: (c) => ({ ...c, databases: [{ name: 'users', engine: 'sqlite', pth: './data/users.db' }] }),
    path: 'databases[0].pth',
    message: ['is not a field respaldo knows here (did you mean "path"?)'],
    hint: 'Write "path" (or remove the field).',
    es: ['no es un campo que respaldo conozca aquí (¿quería decir "path"?)'],
  },
  {
    name: 'an unknown field, nothing near',
    edit: (c) => ({ ...c, frobnicate: true }),
    path: 'frobnicate',
    message: ['is not a field respaldo knows here'],
    hint: /Correct its spelling, or remove it; the fields here: .*backupDir, databases/,
    es: ['no es un campo que respaldo conozca aquí'],
  },
  {
    name: 'enum',
    edit: (c) => ({ ...c, databases: [db, { name: 'b', engine: 'mysql', path: './b.db' }] }),
    path: 'databases[1].engine',
    message: ['found "mysql", expected one of "sqlite", "postgres", "sqlserver"'],
    hint: 'Write one of "sqlite", "postgres", "sqlserver".',
    es: ['se encontró "mysql", se esperaba uno de "sqlite", "postgres", "sqlserver"'],
  },
  {
    name: 'type: a number in quotes',
    edit: (c) => ({ ...c, compression: { level: '6' } }),
    path: 'compression.level',
    message: ['found "6", expected a whole number'],
    hint: 'Write 6 without the quotes.',
    es: ['se encontró "6", se esperaba un número entero', 'Escriba 6 sin las comillas.'],
  },
  {
    name: 'type: a text where a list goes',
    edit: (c) => ({ ...c, files: { config: './data/app/.env', application: [] } }),
    path: 'files.config',
    message: ['found "./data/app/.env", expected a list [ … ]'],
    hint: 'Write a list [ … ] there.',
    es: ['se esperaba una lista [ … ]'],
  },
  {
    name: 'type: a name that is a number',
    edit: (c) => ({ ...c, databases: [{ ...db, name: 5 }] }),
    path: 'databases[0].name',
    message: ['found 5, expected a text in quotes'],
    hint: 'Write a text in quotes there.',
    es: ['se encontró 5, se esperaba un texto entre comillas'],
  },
  {
    name: 'pattern: a name',
    edit: (c) => ({ ...c, databases: [{ ...db, name: 'my db' }] }),
    path: 'databases[0].name',
    message: ['found "my db", expected a name of letters, digits, _ . -'],
    hint: 'Rename it with those characters only',
    es: ['se encontró "my db", se esperaba un nombre de letras, cifras'],
  },
  {
    name: 'pattern: a host key',
    edit: (c) => ({ ...c, destinations: [{ ...sftp, hostKey: 'ssh-ed25519 AAAA' }] }),
    path: 'destinations[0].hostKey',
    message: ['found "ssh-ed25519 AAAA", expected a SHA-256 host key fingerprint'],
    hint: 'ssh-keygen -lf',
    es: ['se esperaba la huella SHA-256'],
  },
  {
    name: 'minLength',
    edit: (c) => ({ ...c, destinations: [{ ...sftp, host: '' }] }),
    path: 'destinations[0].host',
    message: ['is empty, expected a value'],
    hint: 'Fill it in, or remove the field.',
    es: ['está vacío, se esperaba un valor'],
  },
  {
    name: 'minimum',
    edit: (c) => ({ ...c, destinations: [{ ...sftp, port: 0 }] }),
    path: 'destinations[0].port',
    message: ['found 0, expected at least 1'],
    hint: 'Write a whole number from 1 to 65535.',
    es: ['se encontró 0, se esperaba al menos 1', 'de 1 a 65535'],
  },
  {
    name: 'maximum',
    edit: (c) => ({ ...c, databases: [{ name: 'pg', url: 'postgresql://app@db1/app', jobs: 100 }] }),
    path: 'databases[0].jobs',
    message: ['found 100, expected at most 64'],
    hint: 'Write a whole number from 1 to 64.',
    es: ['se encontró 100, se esperaba como mucho 64'],
  },
  {
    name: 'minItems',
    edit: (c) => ({ ...c, notifications: [{ ...email, on: [] }] }),
    path: 'notifications[0].on',
    message: ['found 0 entries, expected at least 1'],
    hint: 'Add an entry to the list, or remove the field.',
    es: ['se encontraron 0 elementos, se esperaban al menos 1'],
  },
  {
    name: 'uniqueItems',
    edit: (c) => ({ ...c, notifications: [{ ...email, on: ['failure', 'partial', 'failure'] }] }),
    path: 'notifications[0].on',
    message: ['entries 0 and 2 are the same ("failure")'],
    hint: 'Remove one of them.',
    es: ['los elementos 0 y 2 son iguales ("failure")'],
  },
  {
    name: 'minProperties',
    edit: (c) => ({ ...c, drill: { server: {} } }),
    path: 'drill.server',
    message: ['is empty ({}), expected at least 1 field(s)'],
    hint: 'Fill in its fields, or remove it.',
    es: ['está vacío ({}), se esperaba al menos 1 campo(s)'],
  },
  {
    name: 'discriminator: a channel type respaldo has not',
    edit: (c) => ({ ...c, notifications: [{ ...email, type: 'sms' }] }),
    path: 'notifications[0].type',
    message: ['found "sms", expected one of "email", "webhook"'],
    hint: 'Write one of "email", "webhook".',
    es: ['se encontró "sms", se esperaba uno de "email", "webhook"'],
  },
];

const AJV_WORDS =
  /must have required property|must NOT have|must be equal to|must be (integer|string|array|>=|<=)|must match/;

async function configError(edit: (c: Doc) => Doc): Promise<ConfigError> {
  const { configFile } = writeConfig(makeTmpDir(), (c) => {
    const out = edit(c);
    return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
  });
  const err = await loadConfig({ configPath: configFile, env: {} }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

const matches = (text: string, f: string | RegExp) =>
  f instanceof RegExp ? expect(text).toMatch(f) : expect(text).toContain(f);

describe('schema errors in the operator’s words', () => {
  it.each(cases)('$name: the path, what was found, what was expected, a hint (and in Spanish)', async (c) => {
    const err = await configError(c.edit);
    const line = `${err.file}: ${c.path}: `;
    expect(err.message.startsWith(line), err.message).toBe(true);
    for (const f of c.message) matches(err.message, f);
    matches(err.hint ?? '', c.hint);
    expect(err.hint).toContain('nothing was changed');
    expect(err.message + err.hint).not.toMatch(AJV_WORDS);
    expect(err.toJSON()).toMatchObject({ error: 'config', exitCode: 3, details: { path: c.path } });
    const es = sayMessage('es', err.phrases, err.message) + '\n' + say('es', err.phrases?.hint, err.hint ?? '');
    expect(es).toContain(`${c.path}: `);
    for (const f of c.es) matches(es, f);
    expect(es).toContain('no se cambió nada');
    expect(es).not.toMatch(AJV_WORDS);
  });

  it('several problems are all listed, one a line with its path, and the CLI exits 3 writing nothing', async () => {
    const dir = makeTmpDir();
    const { configFile } = writeConfig(dir, (c) => ({
      ...c,
      compresion: { level: 6 },
      databases: [db, { name: 'b', engine: 'mysql', path: './b.db', jobs: '4' }],
      destinations: [{ ...sftp, port: 0 }],
    }));
    const before = readdirSync(dir).sort();
    const r = await runCli(['create', '--config', configFile], { cwd: dir });
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stderr).toContain(`${configFile}: 4 problems in the config:\n`);
    for (const line of [
      '  compresion: is not a field respaldo knows here (did you mean "compression"?)',
      '  databases[1].engine: found "mysql", expected one of "sqlite", "postgres", "sqlserver"',
      '  databases[1].jobs: found "4", expected a whole number',
      '  destinations[0].port: found 0, expected at least 1',
    ])
      expect(r.stderr).toContain(line + '\n');
    expect(r.stderr).toMatch(/\nhint: Write "compression" \(or remove the field\)\. Write one of "sqlite"/);
    expect(r.stderr).not.toMatch(AJV_WORDS);
    expect(existsSync(join(dir, 'backups'))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('many problems: the first six listed, the rest counted', async () => {
    const err = await configError((c) => ({
      ...c,
      databases: Array.from({ length: 9 }, (_, i) => ({ name: `d${i}`, engine: 'oracle', path: `./d${i}.db` })),
    }));
    expect(err.message).toContain('9 problems in the config:');
    expect(err.message.split('\n').filter((l) => /^ {2}databases\[\d\]\.engine: found "oracle"/.test(l))).toHaveLength(
      6,
    );
    expect(err.message).toMatch(/\n {2}and 3 more of the same kinds$/);
  });

  it('a secret found where a number goes is *** in the message, the hint and the menu’s phrases', async () => {
    const { configFile } = writeConfig(makeTmpDir(), { ...demoConfig(), compression: { level: '${DB_PASSWORD}' } });
    const err = (await loadConfig({ configPath: configFile, env: { DB_PASSWORD: 'S3cr3t"q' } }).catch(
      (e: unknown) => e,
    )) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    const es = sayMessage('es', err.phrases, err.message) + say('es', err.phrases?.hint, err.hint ?? '');
    for (const text of [err.message, err.hint ?? '', es, JSON.stringify(err.phrases)])
      expect(text).not.toContain('S3cr3t');
    expect(err.message).toContain('compression.level: found "***", expected a whole number');
  });
});
