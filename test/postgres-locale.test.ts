import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandError } from '../src/core/errors.js';
import { runCapture } from '../src/exec/spawn.js';
import { childEnv } from '../src/drivers/postgres/args.js';
import type { PgConnection } from '../src/drivers/postgres/config.js';
import { commandDone } from '../src/drivers/postgres/tools.js';
import { findPgBinDir, freePort, pgAvailable } from './helpers/pg-cluster.js';
import { makeTmpDir } from './helpers/tmp.js';

/**
 * PostgreSQL's client tools on a server whose operator works in Spanish: without respaldo's environment they
 * print their errors in Spanish, and respaldo's hints (matched on the English text) are lost. A Spanish locale
 * is compiled into a scratch LOCPATH (localedef, from the machine's locale sources).
 */

function spanishLocale(): Record<string, string> | null {
  const dir = makeTmpDir();
  spawnSync('localedef', ['-i', 'es_ES', '-f', 'UTF-8', join(dir, 'es_ES.UTF-8')], { stdio: 'ignore' });
  if (!existsSync(join(dir, 'es_ES.UTF-8', 'LC_MESSAGES'))) return null;
  return { LOCPATH: dir, LC_ALL: 'es_ES.UTF-8', LANGUAGE: 'es' };
}

const available = pgAvailable();
const spanish = available ? spanishLocale() : null;
if (available && !spanish)
  console.warn('SKIPPED postgres locale tests: localedef could not build es_ES.UTF-8 (install the locales package)');

describe.skipIf(!spanish)('PostgreSQL client tools under a Spanish locale', () => {
  const saved = { ...process.env };
  beforeEach(() => Object.assign(process.env, spanish));
  afterEach(() => {
    for (const k of Object.keys(spanish ?? {})) if (saved[k] === undefined) Reflect.deleteProperty(process.env, k);
    Object.assign(process.env, saved);
  });

  /** pg_dump of a database nobody listens for, through respaldo's spawn and error path: the error it throws. */
  async function refused(env: (conn: PgConnection) => Record<string, string | undefined>) {
    const conn: PgConnection = { host: '127.0.0.1', port: await freePort(), database: 'app', params: {} };
    const child = runCapture({
      command: join(findPgBinDir()!, 'pg_dump'),
      args: ['--host', conn.host!, '--port', String(conn.port), conn.database],
      env: env(conn),
    });
    return commandDone(child, 'pg_dump', conn, 'dumping app').then(
      () => expect.fail('pg_dump connected to a port nobody listens on'),
      (err: unknown) => err as CommandError,
    );
  }

  it('a refused connection is reported in English with its hint (in Spanish, without a hint, before)', async () => {
    const before = await refused(() => ({ PGAPPNAME: 'respaldo' }));
    expect(before.message).toMatch(/rehusada|falló la conexión/);
    expect(before.hint ?? '').not.toMatch(/running and reachable/);

    const now = await refused(childEnv);
    expect(now.message).toContain('Connection refused');
    expect(now.hint).toMatch(/Is the PostgreSQL server at 127\.0\.0\.1:\d+ running and reachable/);
  });
});
