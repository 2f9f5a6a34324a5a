/**
 * What the Spanish menu still said in English (left by session 46): the hints of PostgreSQL's ended sessions and of
 * failed pg_dump/pg_restore runs, a config that cannot be read for another reason, no terminal to ask a passphrase
 * on, a keep mark whose set is gone at a destination, a folder where a destination's file goes, a copy refused onto
 * another set of its id there, and why prune keeps everything. Each is said as the menu says it, in Spanish; the
 * English (CLI, logs) stays word for word. Why one file of about 470 lines: one list of what was left English, each
 * case with its English pinned beside its Spanish, sharing the helpers that say an error as the menu does.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Encrypter } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { CommandError, RespaldoError, asOperatorError } from '../src/core/errors.js';
import { silentReporter } from '../src/core/events.js';
import { english, nestedPhrase, phrase } from '../src/core/phrases.js';
import type { Manifest, ManifestEncryption, ScheduleJob, SetSummary } from '../src/core/types.js';
import { pgError } from '../src/drivers/postgres/connection.js';
import { resolveConnection } from '../src/drivers/postgres/config.js';
import { hintForStderr, hintPhraseForStderr, sessionEndedBy } from '../src/drivers/postgres/plan.js';
import { commandDone } from '../src/drivers/postgres/tools.js';
import { copySet } from '../src/engine/copy.js';
import { CLAIMS_DIR } from '../src/engine/copy-claim.js';
import { createBackup } from '../src/engine/create.js';
import { decrypterFor, newIdentity } from '../src/engine/crypt.js';
import { pruneRefusal } from '../src/engine/prune.js';
import { pruneRemote } from '../src/engine/remote-prune.js';
import { engineRetention } from '../src/scheduler/run-job.js';
import { Scheduler, type SchedulerLogEntry } from '../src/scheduler/scheduler.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { logLine } from '../src/ui/screens/SchedulerScreen.js';
import { catalogue, say, sayInMenu, sayMessage } from '../src/ui/i18n/index.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

/** What the menu's error box says of `err` in Spanish: its message, then its hint. */
function spanish(err: unknown): string {
  expect(err).toBeInstanceOf(RespaldoError);
  const e = err as RespaldoError;
  return `${sayMessage('es', e.phrases, e.message)} | ${sayInMenu('es', e.phrases?.hint, e.hint ?? '')}`;
}

const caught = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => null,
    (e: unknown) => e,
  );

/** English words that must not be left in a Spanish text (commands, options and SQL are kept as they are). */
const ENGLISH = /\b(the|server|Nothing|was|Check|Run|Another|not|this|set|holds|sent|copy again|Is the)\b/;

const conn = resolveConnection({ name: 'x', engine: 'postgres', url: 'postgresql://app@db1:5433/x' });

describe('PostgreSQL: the hints of ended sessions and failed client tools', () => {
  it.each([
    [
      'pg_dump: error: query failed: FATAL:  terminating connection due to administrator command',
      'The server ended the session on purpose: an administrator or a tool ran pg_terminate_backend() on it, or the ' +
        'server is being shut down (pg_ctl stop, systemctl stop). The server is running unless it was shut down; its ' +
        'log says which. Nothing half-made was kept for this database (a backup publishes no dump, a restore replaces ' +
        'nothing); run it again once that is over.',
      'El servidor terminó la sesión a propósito: un administrador o una herramienta ejecutó pg_terminate_backend() ' +
        'sobre ella, o el servidor se está deteniendo (pg_ctl stop, systemctl stop). El servidor sigue en marcha salvo ' +
        'que se haya detenido; su registro dice cuál de las dos. No se guardó nada a medias de esta base (una copia no ' +
        'publica el volcado, una restauración no sustituye nada); vuelva a ejecutarlo cuando eso haya pasado.',
    ],
    ['FATAL:  terminating connection due to idle-in-transaction timeout', /^The server's idle_in/, /^El idle_in/],
    ['FATAL:  terminating connection due to conflict with recovery', /standby/, /^Este servidor es una réplica/],
    ['FATAL:  terminating connection because of crash of another server process', /crashed/, /^Otro proceso/],
    [
      'ERROR:  could not extend file "base/1/2": No space left on device',
      /^The database server ran out of disk space/,
      /^El servidor de la base se quedó sin espacio/,
    ],
    [
      'pg_dump: error: could not write to output file: No space left on device',
      /^The disk pg_dump writes the dump to is full: the backup folder's/,
      /^Está lleno el disco en el que pg_dump escribe el volcado/,
    ],
    ['ERROR:  canceling statement due to statement timeout', /statement_timeout cancelled/, /^El statement_timeout/],
  ] as [string, string | RegExp, string | RegExp][])('%s', (stderr, en, es) => {
    const ended = sessionEndedBy(stderr)!;
    expect(ended.hint).toEqual(typeof en === 'string' ? en : expect.stringMatching(en));
    expect(english(ended.hintPhrase)).toBe(ended.hint);
    const spanishHint = say('es', ended.hintPhrase, ended.hint);
    expect(spanishHint).toEqual(typeof es === 'string' ? es : expect.stringMatching(es));
    expect(spanishHint).not.toMatch(ENGLISH);
    expect(hintForStderr(stderr, { tool: 'pg_dump', conn })).toBe(ended.hint);
  });

  it.each([
    [
      'pg_dump: error: connection to server failed: FATAL:  password authentication failed for user "app"',
      'Check the user and password for db1:5433 in the config (the password comes from the URL or "password", or the ${VAR} they name, read from the environment or .env).',
      'Revise el usuario y la contraseña de db1:5433 en la configuración (la contraseña viene de la URL o de "password", o de la variable ${…} que nombran, leída del entorno o de .env).',
    ],
    [
      'pg_dump: error: connection to server at "db1", port 5433 failed: Connection refused',
      'Is the PostgreSQL server at db1:5433 running and reachable from here? Check host and port in the config.',
      '¿Está en marcha el servidor PostgreSQL de db1:5433 y se puede llegar a él desde aquí? Revise host y port en la configuración.',
    ],
    [
      'pg_dump: error: aborting because of server version mismatch',
      /^Install the PostgreSQL client \(pg_dump\)/,
      /^Instale el cliente de PostgreSQL \(pg_dump\)/,
    ],
    [
      'pg_dump: error: query failed: ERROR:  canceling statement due to statement timeout\npg_dump: detail: Query was: LOCK TABLE public.t',
      /lockWaitTimeout/,
      /^Otra sesión retuvo un bloqueo de tabla/,
    ],
    [
      'pg_restore: error: role "app_ro" does not exist',
      /^The backup refers to a role/,
      /^La copia hace referencia a un rol/,
    ],
    [
      'pg_dump: error: FATAL:  database "x" does not exist',
      'Check the database name in the config; `psql -l` lists the databases on db1:5433.',
      'Revise el nombre de la base en la configuración; `psql -l` lista las bases de db1:5433.',
    ],
    [
      'pg_dump: error: query failed: ERROR:  permission denied for table t',
      /^The configured user lacks/,
      /^Al usuario configurado/,
    ],
    [
      'pg_dump: error: FATAL:  no pg_hba.conf entry for host "10.0.0.9", user "app"',
      'The server refuses this client in pg_hba.conf; ask the DBA to allow app from this host.',
      'El servidor rechaza a este cliente en pg_hba.conf; pida al administrador de la base que permita a app conectarse desde este equipo.',
    ],
  ] as [string, string | RegExp, string | RegExp][])('%s', (stderr, en, es) => {
    const said = hintPhraseForStderr(stderr, { tool: 'pg_dump', conn })!;
    expect(english(said)).toEqual(typeof en === 'string' ? en : expect.stringMatching(en));
    expect(hintForStderr(stderr, { tool: 'pg_dump', conn })).toBe(english(said));
    const spanishHint = say('es', said, english(said));
    expect(spanishHint).toEqual(typeof es === 'string' ? es : expect.stringMatching(es));
    expect(spanishHint).not.toMatch(ENGLISH);
  });

  it("a failed pg_dump run's error carries its hint's phrase; pgError's ended session too", async () => {
    const stderrTail = 'pg_dump: error: query failed: FATAL:  terminating connection due to administrator command';
    const failed = new CommandError('pg_dump exited with code 1', 'a generic hint', {
      command: 'pg_dump x',
      exitCode: 1,
      signal: null,
      stderrTail,
    });
    const err = (await caught(commandDone(Promise.reject(failed), 'pg_dump', conn, 'Database x'))) as RespaldoError;
    expect(err.message).toBe(
      'Database x: the server said "terminating connection due to administrator command" (pg_dump exited with code 1)',
    );
    expect(err.hint).toMatch(/^The server ended the session on purpose/);
    expect(say('es', err.phrases?.hint, err.hint!)).toMatch(/^El servidor terminó la sesión a propósito/);
    const raw = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    const ended = pgError(raw, conn, 'x', 'listing tables') as RespaldoError;
    expect(ended.hint).toMatch(/^The server ended the session on purpose/);
    expect(spanish(ended)).toMatch(/\| El servidor terminó la sesión a propósito/);
  });
});

/** A config with a folder destination `nas` (source srv1) and a set of users copied there. */
async function copiedTo(
  s: DemoSetup,
  root: string,
  copyAfterBackup = false,
): Promise<{ id: string; cfg: Awaited<ReturnType<typeof loadConfig>> }> {
  mkdirSync(root, { recursive: true });
  const doc = {
    backupDir: s.backupDir,
    source: 'srv1',
    databases: [{ name: 'users', engine: 'sqlite', path: s.dbs.users }],
    destinations: [{ name: 'nas', type: 'folder', path: root, copyAfterBackup }],
  };
  writeFileSync(s.configFile, JSON.stringify(doc));
  const cfg = await loadConfig({ configPath: s.configFile, env: {} });
  const m = await createBackup(cfg, { databases: ['users'], files: false }, silentReporter);
  expect((await copySet(cfg, m.id, 'nas', silentReporter)).ok).toBe(true);
  return { id: m.id, cfg };
}

describe('the config, the passphrase, a keep mark, a copy: in Spanish, the English as it was', () => {
  it('a config that cannot be read for another reason (a file where a folder is on its path)', async () => {
    const s = demoSetup();
    const file = join(s.configFile, 'backup_config.json');
    const err = await caught(loadConfig({ configPath: file, env: {} }));
    expect((err as Error).message).toBe(`${file}: cannot read: ENOTDIR: not a directory, stat '${file}'`);
    expect(spanish(err)).toBe(
      `${file}: no se puede leer: no es una carpeta | Revise el archivo y el disco en que está (puede pasar una copia de la configuración con --config); no se cambió nada.`,
    );
    // the menu's English names the path once too
    const e = err as RespaldoError;
    expect(sayMessage('en', e.phrases, e.message)).toBe(`${file}: cannot read: not a folder`);
  });

  it('no terminal to ask the passphrase of a set, or of a protected identity file', async () => {
    delete process.env['RESPALDO_PASSPHRASE_FILE'];
    const set = (await caught(
      decrypterFor({}, { passphrase: true, recipients: [] } as unknown as ManifestEncryption, '20261205_010203'),
    )) as RespaldoError;
    expect(set.message).toBe(
      'There is no terminal to ask for the passphrase of the backups of set 20261205_010203 (it is protected by a passphrase).',
    );
    expect(set.hint).toBe(
      'Run the command on a terminal to be asked for it, or name a file (mode 0600) holding it with RESPALDO_PASSPHRASE_FILE=FILE.',
    );
    expect(spanish(set)).toBe(
      'No hay terminal en el que pedir la frase de paso de la copia 20261205_010203 (está cifrada con ella). | ' +
        'Ejecute la orden en un terminal para que se le pida, o indique con RESPALDO_PASSPHRASE_FILE=ARCHIVO un ' +
        'archivo (modo 0600) que la contenga.',
    );
    const s = demoSetup();
    const { text, recipient } = await newIdentity();
    const e = new Encrypter();
    e.setPassphrase('correct horse battery staple');
    e.setScryptWorkFactor(10);
    const locked = join(s.dir, 'key.age');
    writeFileSync(locked, await e.encrypt(text), { mode: 0o600 });
    const identity = await caught(
      decrypterFor({ encryption: { identityFile: locked } }, { recipients: [recipient] } as ManifestEncryption, 'x'),
    );
    expect((identity as Error).message).toBe(
      `There is no terminal to ask for the passphrase of the identity file ${locked} (it is protected by a passphrase).`,
    );
    expect(spanish(identity)).toMatch(
      /^No hay terminal en el que pedir la frase de paso del archivo de identidad .*key\.age \(está protegido por ella\)\. \| Ejecute/,
    );
  });

  it('a keep mark whose set is gone at the destination (removed there by hand): the menu says it in Spanish', async () => {
    const s = demoSetup();
    const root = join(s.dir, 'nas');
    const { id, cfg } = await copiedTo(s, root);
    rmSync(join(root, 'srv1', id), { recursive: true });
    const err = await caught(createEngineFacade(cfg).setKeep(id, true));
    // the error in parentheses without its own full stop (it was `… "nas".).`), and no retry for a set gone there
    expect((err as Error).message).toBe(
      `The keep mark is set here, but not at nas (No set ${id} of this server (source "srv1") at destination "nas").`,
    );
    expect((err as RespaldoError).hint).toBe(
      `Set ${id} is no longer at nas: \`respaldo copy ${id} --to nas\` sends it there again, with its keep mark.`,
    );
    expect(spanish(err)).toBe(
      `La marca de conservar se puso aquí, pero no en nas (No hay ninguna copia ${id} de este servidor (origen ` +
        `"srv1") en el destino "nas"). | La copia ${id} ya no está en nas: \`respaldo copy ${id} --to nas\` la ` +
        'vuelve a enviar allí, con su marca de conservar.',
    );
    const unset = await caught(createEngineFacade(cfg).setKeep(id, false));
    expect((unset as RespaldoError).hint).toBe(
      `Set ${id} is no longer at nas, so no keep mark is left there to clear.`,
    );
    expect(spanish(unset)).toMatch(
      new RegExp(
        `\\| La copia ${id} ya no está en nas, así que allí no queda ninguna marca de conservar que quitar\\.$`,
      ),
    );
  });

  it('a keep mark that failed at two destinations: the hint says what to do at each, in English and Spanish', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    const usb = join(s.dir, 'usb');
    const { id, cfg: one } = await copiedTo(s, nas);
    mkdirSync(usb);
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as { destinations: object[] };
    doc.destinations.push({ name: 'usb', type: 'folder', path: usb, copyAfterBackup: false });
    writeFileSync(s.configFile, JSON.stringify(doc));
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    expect((await copySet(cfg, id, 'usb', silentReporter)).ok).toBe(true);
    expect(one.destinations).toHaveLength(1);
    rmSync(join(nas, 'srv1', id), { recursive: true });
    rmSync(join(usb, 'srv1', id), { recursive: true });
    const err = await caught(createEngineFacade(cfg).setKeep(id, true));
    expect((err as RespaldoError).hint).toBe(
      `Set ${id} is no longer at nas: \`respaldo copy ${id} --to nas\` sends it there again, with its keep mark. ` +
        `Set ${id} is no longer at usb: \`respaldo copy ${id} --to usb\` sends it there again, with its keep mark.`,
    );
    expect(spanish(err)).toMatch(
      new RegExp(
        `\\| La copia ${id} ya no está en nas: .* La copia ${id} ya no está en usb: \`respaldo copy ${id} --to usb\` ` +
          'la vuelve a enviar allí, con su marca de conservar\\.$',
      ),
    );
  });

  it('a folder where a stored file goes at a folder destination: said in Spanish, the English as it was', async () => {
    const s = demoSetup();
    const root = join(s.dir, 'nas');
    const { id, cfg } = await copiedTo(s, root);
    rmSync(join(root, 'srv1', id), { recursive: true });
    // made by hand where the manifest goes
    mkdirSync(join(root, 'srv1', id, 'manifest.json', 'x'), { recursive: true });
    const r = await copySet(cfg, id, 'nas', silentReporter);
    expect(r.ok).toBe(false);
    expect(r.error).toBe(
      `destination "nas": writing srv1/${id}/manifest.json: a folder is there, where respaldo writes a file`,
    );
    expect(r.hint).toContain(
      `respaldo writes only files there: check who put ${join(root, 'srv1', id, 'manifest.json')} there`,
    );
    const es = say('es', r.errorPhrase, r.error!);
    expect(es).toBe(
      `destino "nas": al escribir srv1/${id}/manifest.json: hay una carpeta donde respaldo escribe un archivo`,
    );
    const facade = createEngineFacade(cfg);
    const mark = (await facade.offsite(id)).find((o) => o.destination === 'nas');
    expect(say('es', mark?.errorPhrase, mark?.error ?? '')).toBe(es);
  });

  it("a copy refused onto another set of its id there, or onto another's claim: said in Spanish where the menu shows it", async () => {
    const s = demoSetup();
    const root = join(s.dir, 'nas');
    const { id, cfg } = await copiedTo(s, root);
    // this server's set now started a millisecond later than the one there: another set of the same id
    const file = join(s.backupDir, id, 'manifest.json');
    const mine = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    const later = new Date(Date.parse(mine.startedAt) + 1).toISOString();
    writeFileSync(file, JSON.stringify({ ...mine, startedAt: later }));
    writeFileSync(join(s.backupDir, id, 'copies.json'), '{}');
    const other = await copySet(cfg, id, 'nas', silentReporter);
    expect(other.ok).toBe(false);
    expect(other.error).toBe(
      `destination "nas" already holds a set ${id} of source "srv1" that is not this one (it started at ${mine.startedAt}, on ${mine.host}; this one at ${later}, on ${mine.host}): nothing was sent, so as not to overwrite it.`,
    );
    expect(other.hint).toBe(
      'Another config (or server) copies there under the same source "srv1". Give each config its own "source" (top level, or on the destination), such as "srv1-users", then copy again.',
    );
    const es = say('es', other.errorPhrase, other.error!);
    expect(es).toBe(
      `el destino "nas" ya tiene una copia ${id} del origen "srv1" que no es esta (empezó el ${mine.startedAt}, en ${mine.host}; esta, el ${later}, en ${mine.host}): no se envió nada, para no sobrescribirla.`,
    );
    // the set there gone, another set's claim of that id left there (a copy cut short): refused too
    rmSync(join(root, 'srv1', id), { recursive: true });
    mkdirSync(join(root, 'srv1', CLAIMS_DIR), { recursive: true });
    writeFileSync(join(root, 'srv1', CLAIMS_DIR, `${id}.0123456789abcdef`), '{}\n');
    const claimed = await copySet(cfg, id, 'nas', silentReporter);
    expect(claimed.ok).toBe(false);
    expect(claimed.error).toMatch(
      new RegExp(
        `^destination "nas": another set ${id} of source "srv1", not this one, is being copied there or its copy was cut short \\(.*\\.0123456789abcdef\\): nothing was sent, so as not to mix the two sets' files\\.$`,
      ),
    );
    expect(say('es', claimed.errorPhrase, claimed.error!)).toMatch(
      new RegExp(
        `^destino "nas": otra copia ${id} del origen "srv1", no esta, se está enviando allí o su envío quedó a medias \\(.*\\): no se envió nada, para no mezclar los archivos de las dos copias\\.$`,
      ),
    );
    expect(claimed.hint).toMatch(/^Another config \(or server\) copies there under the same source "srv1"\./);
    // when it will be taken over (copy-claim.ts staleClaimReason), in both languages
    expect(claimed.hint).toContain('Once nothing was written there for 24 h (claimed ');
    const when = phrase('copy.claimedThereHint', {
      source: 'srv1',
      where: 'w',
      set: id,
      claim: 'c',
      quiet: '24 h',
      claimed: 'x',
    });
    expect(say('es', when, english(when))).toContain(
      'Cuando lleve 24 h sin que se escriba nada allí (reservada el x), un envío la tomará.',
    );
  });
});

describe('the English menu says a system error once', () => {
  it('a read-only file system or a denied permission on a path: the path once, not again in the system words', () => {
    const raw = Object.assign(new Error("EROFS: read-only file system, open '/srv/b/x'"), {
      code: 'EROFS',
      path: '/srv/b/x',
    });
    const ro = asOperatorError(raw) as RespaldoError;
    // the CLI keeps the system's words
    expect(ro.message).toBe("Read-only file system on /srv/b/x (EROFS: read-only file system, open '/srv/b/x').");
    expect(sayMessage('en', ro.phrases, ro.message)).toBe('Read-only file system on /srv/b/x.');
    expect(say('en', ro.phrases!.message, ro.message)).toBe('Read-only file system on /srv/b/x.');
    expect(sayMessage('es', ro.phrases, ro.message)).toBe('Sistema de archivos de solo lectura en /srv/b/x.');
    const denied = asOperatorError(
      Object.assign(new Error("EACCES: permission denied, open '/srv/b/y'"), { code: 'EACCES', path: '/srv/b/x' }),
    ) as RespaldoError;
    // another path in the system's words: said, in words
    expect(sayMessage('en', denied.phrases, denied.message)).toBe(
      'Permission denied on /srv/b/x (permission denied: /srv/b/y).',
    );
    const full = asOperatorError(
      Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
    ) as RespaldoError;
    expect(sayMessage('en', full.phrases, full.message)).toBe('No space left on the disk. Nothing was published.');
  });
});

describe('why prune keeps everything: in Spanish on the scheduler screen, the English as it was', () => {
  it('a set dated ahead of the clock: the retention after a backup is refused, said in Spanish', async () => {
    const s = demoSetup();
    const cfg0 = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg0, { databases: ['users'], files: false }, silentReporter);
    // the set's manifest says it started two days from now (a clock that was wrong where it was made)
    const file = join(s.backupDir, m.id, 'manifest.json');
    const ahead = new Date(Date.now() + 2 * 86_400_000).toISOString();
    writeFileSync(file, JSON.stringify({ ...(JSON.parse(readFileSync(file, 'utf8')) as Manifest), startedAt: ahead }));
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const logs: SchedulerLogEntry[] = [];
    const job: ScheduleJob = { name: 'nightly', when: 'daily at 02:00', type: 'full', databases: ['*'], files: false };
    const scheduler = new Scheduler({
      backupDir: s.backupDir,
      jobs: [job],
      catchUp: false,
      singleInstance: false,
      runJob: async () => ({ outcome: 'completed', setId: m.id, bytes: 1 }),
      applyRetention: engineRetention(cfg),
      listSets: async () => [],
      writeLogLine: () => undefined,
    });
    scheduler.on('log', (e: SchedulerLogEntry) => logs.push(e));
    await scheduler.runNow(job);
    const failed = logs.find((l) => l.event === 'retention-failed')!;
    expect(failed.error).toBe(
      `Nothing pruned: set ${m.id} is dated ${ahead}, ahead of this machine's clock (a clock that was wrong here or where it was made).`,
    );
    expect(failed.hint).toBe(
      "Check this machine's clock (timedatectl); if the set's date is what is wrong, delete it or move it out of the backup folder, then prune again.",
    );
    expect(logLine(failed, catalogue('es'), 'es')).toMatch(
      new RegExp(
        `^\\d\\d:\\d\\d(:\\d\\d)? retención FALLÓ: La retención no borró nada: la copia ${m.id} tiene fecha ${ahead}, ` +
          'por delante del reloj de esta máquina \\(un reloj que estaba mal aquí o donde se hizo\\)\\.$',
      ),
    );
    expect(logLine(failed, catalogue('en'), 'en')).toContain(`retention FAILED: ${failed.error as string}`);
  });

  it.each([
    [
      { status: 'partial', failedDatabases: ['users'] },
      null,
      'Nothing pruned: the newest backup set 20261205_020000 is partial (users failed).',
      'La retención no borró nada: la copia más reciente, 20261205_020000, está incompleta (fallaron users).',
    ],
    [
      { status: 'completed', failedDatabases: [] },
      { at: '2026-12-05T03:00:00.000Z', setId: '20261205_030000' },
      'Nothing pruned: the last backup (20261205_030000) failed and wrote no set.',
      'La retención no borró nada: la última copia de seguridad (20261205_030000) falló y no escribió ninguna copia.',
    ],
  ] as const)('%o', (newest, lastFailed, en, es) => {
    const set = { id: '20261205_020000', type: 'full', startedAt: '2026-12-05T02:00:00.000Z', ...newest };
    const refusal = pruneRefusal([set as unknown as SetSummary], lastFailed, new Date('2026-12-05T04:00:00Z'))!;
    const message = phrase('prune.refused', nestedPhrase(refusal.said));
    expect(english(message)).toBe(en);
    expect(`Nothing pruned: ${refusal.reason}.`).toBe(en);
    expect(say('es', message, en)).toBe(es);
  });
});

describe('why prune at a destination keeps everything, after a scheduled backup', () => {
  it('a set there dated ahead of the clock: refused, said in Spanish on the scheduler screen; the English as it was', async () => {
    const s = demoSetup();
    const root = join(s.dir, 'nas');
    const { id, cfg } = await copiedTo(s, root, true);
    const there = join(root, 'srv1', id, 'manifest.json');
    const ahead = new Date(Date.now() + 2 * 86_400_000).toISOString();
    writeFileSync(
      there,
      JSON.stringify({ ...(JSON.parse(readFileSync(there, 'utf8')) as Manifest), startedAt: ahead }),
    );
    const refused = (await caught(pruneRemote(cfg, 'nas', {}, silentReporter))) as RespaldoError;
    const reason = `set ${id} is dated ${ahead}, ahead of this machine's clock (a clock that was wrong here or where it was made)`;
    expect(refused.message).toBe(`destination "nas": Nothing pruned: ${reason}.`);
    expect(refused.hint).toBe(
      "Check this machine's clock (timedatectl); if the set's date is what is wrong, remove it there with " +
        `\`respaldo delete ${id} --from nas\`, then prune again.`,
    );
    expect(spanish(refused)).toBe(
      `destino "nas": La retención no borró nada: la copia ${id} tiene fecha ${ahead}, por delante del reloj de esta ` +
        'máquina (un reloj que estaba mal aquí o donde se hizo). | Revise el reloj de esta máquina (timedatectl); si ' +
        `lo que está mal es la fecha de la copia, bórrela allí con \`respaldo delete ${id} --from nas\` y vuelva a ` +
        'aplicar la retención.',
    );
    const logs: SchedulerLogEntry[] = [];
    const job: ScheduleJob = { name: 'nightly', when: 'daily at 02:00', type: 'full', databases: ['*'], files: false };
    const scheduler = new Scheduler({
      backupDir: s.backupDir,
      jobs: [job],
      catchUp: false,
      singleInstance: false,
      runJob: async () => ({ outcome: 'completed', setId: id, bytes: 1 }),
      applyRetention: engineRetention(cfg),
      listSets: async () => [],
      writeLogLine: () => undefined,
    });
    scheduler.on('log', (e: SchedulerLogEntry) => logs.push(e));
    await scheduler.runNow(job);
    const failed = logs.find((l) => l.event === 'retention-failed')!;
    expect(failed.error).toBe(refused.message);
    expect(logLine(failed, catalogue('es'), 'es')).toMatch(
      new RegExp(`retención FALLÓ: destino "nas": La retención no borró nada: la copia ${id} tiene fecha ${ahead}, `),
    );
    expect(logLine(failed, catalogue('es'), 'es')).not.toMatch(/Nothing|destination|ahead/);
  });
});
