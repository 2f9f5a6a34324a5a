/**
 * The PostgreSQL connection errors an operator meets most on the worst day (server down, wrong host,
 * wrong password, missing database, a server restarting, a connection lost), as pgError classifies
 * the pg client's errors: the same English words as always (CLI, JSON, logs), and phrases the menu
 * says in Spanish, with the driver's own words (what it was doing, the library's detail) kept inside.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RespaldoError } from '../src/core/errors.js';
import { pgError } from '../src/drivers/postgres/connection.js';
import { say } from '../src/ui/i18n/index.js';
import { DOING_ES, doingEs } from '../src/ui/i18n/phrases-es.js';

const conn = { host: 'db1', port: 5433, user: 'app', password: 's3cret', database: 'inventario', params: {} };

describe('pgError: English words, Spanish phrases', () => {
  it.each([
    [
      { code: 'ECONNREFUSED' },
      'PostgreSQL at db1:5433 refused the connection while listing tables.',
      'PostgreSQL en db1:5433 rechazó la conexión (listing tables).',
      '¿Está el servidor en marcha y escuchando en db1:5433? Revise host y port en la configuración.',
    ],
    [
      { code: 'ENOTFOUND' },
      'PostgreSQL host db1 not found while listing tables.',
      'No se encuentra el host de PostgreSQL db1 (listing tables).',
      'Revise el nombre del host en la configuración y el DNS de esta máquina.',
    ],
    [
      { code: 'EHOSTUNREACH' },
      'PostgreSQL at db1:5433 cannot be reached (EHOSTUNREACH) while listing tables.',
      'No se llega a PostgreSQL en db1:5433 (equipo inalcanzable; listing tables).',
      'Revise la red y el cortafuegos hasta el servidor de la base.',
    ],
    [
      { code: '28P01', message: 'password authentication failed for user "app" (s3cret)' },
      'PostgreSQL at db1:5433 refused the password of user "app" (password authentication failed).',
      'PostgreSQL en db1:5433 rechazó la contraseña del usuario "app" (falló la autenticación por contraseña).',
      'Revise el usuario y la contraseña de la configuración (su "password", o la variable ${…} que nombra, leída del entorno o de .env) y repita; no se cambió nada.',
    ],
    [
      { code: '3D000' },
      'PostgreSQL at db1:5433: database "inventario" does not exist.',
      'PostgreSQL en db1:5433: la base "inventario" no existe.',
      'Revise el nombre de la base en la configuración; `psql -l` lista las bases de db1:5433.',
    ],
    [
      { code: '57P03' },
      'PostgreSQL at db1:5433 is starting up or shutting down.',
      'PostgreSQL en db1:5433 está arrancando o deteniéndose.',
      'Espere a que el servidor acepte conexiones y repita la orden.',
    ],
    [
      { message: 'Connection terminated unexpectedly' },
      'Lost the connection to PostgreSQL at db1:5433 while listing tables: Connection terminated unexpectedly',
      'Se perdió la conexión con PostgreSQL en db1:5433 (listing tables): Connection terminated unexpectedly',
      '¿Está en marcha el servidor de db1:5433? Revíselo y repita.',
    ],
    [
      { code: '28000', message: 'no pg_hba.conf entry for host "10.0.0.9", user "app"' },
      'PostgreSQL at db1:5433 rejected user "app": no pg_hba.conf entry for host "10.0.0.9", user "app"',
      'PostgreSQL en db1:5433 rechazó al usuario "app": no pg_hba.conf entry for host "10.0.0.9", user "app"',
      'El pg_hba.conf del servidor no admite este usuario, equipo o base; pida al administrador de la base que lo permita.',
    ],
    [
      { code: '53300', message: 'sorry, too many clients already' },
      'PostgreSQL at db1:5433 has no free connection slots.',
      'PostgreSQL en db1:5433 no tiene conexiones libres.',
      'Cierre conexiones inactivas o suba max_connections, y vuelva a intentarlo.',
    ],
    [
      { code: '42501', message: 'permission denied to create database' },
      'PostgreSQL at db1:5433: permission denied while listing tables: permission denied to create database',
      'PostgreSQL en db1:5433: permiso denegado (listing tables): permission denied to create database',
      'Conéctese como el dueño de la base o con un rol que tenga los privilegios necesarios (CREATEDB para restaurar).',
    ],
    [
      { code: '57P02', message: 'terminating connection due to crash of another server process' },
      'PostgreSQL at db1:5433 ended the session while listing tables: terminating connection due to crash of another server process',
      'PostgreSQL en db1:5433 terminó la sesión (listing tables): terminating connection due to crash of another server process',
      'El servidor se detuvo o se terminó la sesión; revise el servidor y vuelva a intentarlo.',
    ],
    [
      { code: '22P02', message: 'invalid input syntax for type integer: "x"' },
      'PostgreSQL at db1:5433: invalid input syntax for type integer: "x" (while listing tables, SQLSTATE 22P02)',
      'PostgreSQL en db1:5433: invalid input syntax for type integer: "x" (listing tables, SQLSTATE 22P02)',
      '',
    ],
  ] as [{ code?: string; message?: string }, string, string, string][])('%o', (raw, english, spanish, hintEs) => {
    const err = pgError(Object.assign(new Error(raw.message ?? raw.code), raw), conn, 'inventario', 'listing tables');
    expect(err).toBeInstanceOf(RespaldoError);
    const e = err as RespaldoError;
    expect(e.message).toBe(english);
    expect(e.phrases).toBeDefined();
    expect(say('es', e.phrases!.message, e.message)).toBe(spanish);
    expect(say('es', e.phrases!.hint, e.hint ?? '')).toBe(hintEs);
    // the menu's English: the same, a code of the system in it said in words (system-errors.ts)
    expect(say('en', e.phrases!.message, e.message)).toBe(english.replace('(EHOSTUNREACH)', '(host unreachable)'));
    for (const text of [e.message, e.hint ?? '', spanish]) expect(text).not.toContain('s3cret');
  });
});

describe('a refused password names the ${VAR} it came from', () => {
  it('in English and Spanish, never its value', () => {
    const withVar = { ...conn, passwordVariable: 'PG_PASSWORD' };
    const raw = Object.assign(new Error('password authentication failed for user "app"'), { code: '28P01' });
    const e = pgError(raw, withVar, 'inventario', 'connecting') as RespaldoError;
    expect(e.message).toBe(
      'PostgreSQL at db1:5433 refused the password of user "app" (password authentication failed).',
    );
    expect(e.hint).toBe(
      'The password comes from PG_PASSWORD: check PG_PASSWORD in the environment or .env (and the user in the config), then try again; nothing was changed.',
    );
    expect(say('es', e.phrases!.hint, e.hint!)).toBe(
      'La contraseña viene de PG_PASSWORD: revise PG_PASSWORD en el entorno o en .env (y el usuario en la configuración), y repita; no se cambió nada.',
    );
    for (const text of [e.message, e.hint!]) expect(text).not.toContain('s3cret');
  });
});

describe('what the driver was doing, in Spanish', () => {
  it('every fixed "doing" of the PostgreSQL driver has its Spanish words', () => {
    const dir = new URL('../src/drivers/postgres/', import.meta.url);
    const said = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [
        ...readFileSync(new URL(f, dir), 'utf8').matchAll(
          /(?:pgError\([^)]*?|openMaintenance\([^)]*?|\.open\([^)]*?)(['"])([^'"]+)\1\)/g,
        ),
        // a doing chosen by a condition (recover.ts: on the drill server or not)
        ...readFileSync(new URL(f, dir), 'utf8').matchAll(/\? (['"])(looking [^'"]+)\1 : (['"])(looking [^'"]+)\3/g),
      ])
      .flatMap((x) => (x[4] ? [x[2]!, x[4]] : [x[2]!]));
    expect(said.length).toBeGreaterThan(12);
    for (const doing of new Set(said)) expect(DOING_ES, doing).toHaveProperty([doing]);
  });

  it('a refused connection while backing up reads in Spanish whole; a destination key keeps its path', () => {
    const err = pgError({ code: 'ECONNREFUSED' }, conn, 'inventario', 'connecting for the backup') as RespaldoError;
    expect(err.message).toBe('PostgreSQL at db1:5433 refused the connection while connecting for the backup.');
    expect(say('es', err.phrases!.message, err.message)).toBe(
      'PostgreSQL en db1:5433 rechazó la conexión (al conectar para la copia).',
    );
    expect(doingEs('reading srv1/20261201_020000/manifest.json')).toBe('al leer srv1/20261201_020000/manifest.json');
    expect(doingEs('listing tables')).toBe('listing tables'); // words it has none for stay as they are
    expect(doingEs('listing srv1/')).toBe('al listar srv1/'); // a destination's source folder
    expect(doingEs('connecting')).toBe('al conectar');
  });
});
