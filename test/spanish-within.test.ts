/**
 * Errors that stayed English inside the Spanish menu: a passphrase or identity file that is a FIFO, a config file
 * that is not there (or a folder, or whose backupDir is a file), and a keep mark a destination could not take (`p`
 * on a set's details). Each is made for real (a FIFO, a missing file, a folder destination whose mark path is a
 * folder) and said as the menu says it; the English (CLI, logs) stays word for word what it was.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { RespaldoError } from '../src/core/errors.js';
import { silentReporter } from '../src/core/events.js';
import { copySet } from '../src/engine/copy.js';
import { createBackup } from '../src/engine/create.js';
import { sealerFor, unlockIdentity } from '../src/engine/crypt.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { english, phrase } from '../src/core/phrases.js';
import { say, sayInMenu, sayMessage } from '../src/ui/i18n/index.js';
import { demoSetup } from './helpers/tmp.js';

/** What the menu's error box says of `err` in Spanish: its message, then its hint. */
async function spanish(p: Promise<unknown> | (() => unknown)): Promise<{ err: RespaldoError; es: string }> {
  let caught: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(RespaldoError);
  const err = caught as RespaldoError;
  const es = `${sayMessage('es', err.phrases, err.message)} | ${sayInMenu('es', err.phrases?.hint, err.hint ?? '')}`;
  return { err, es };
}

describe('said whole in Spanish', () => {
  it('a passphrase file or identity file that is a FIFO: the reason and the hint in Spanish', async () => {
    const s = demoSetup();
    const fifo = join(s.dir, 'pass.fifo');
    execFileSync('mkfifo', [fifo]);
    const sealing = await spanish(() => sealerFor({ passphraseFile: fifo, local: true }));
    expect(sealing.err.message).toBe(
      `Cannot read the passphrase file (encryption.passphraseFile) ${fifo} (it is a FIFO, not a regular file).`,
    );
    expect(sealing.es).toBe(
      `No se puede leer el archivo de la frase de paso (encryption.passphraseFile) ${fifo} (es una FIFO (tubería con ` +
        'nombre), no un archivo normal). | Indique ahí el propio archivo de la clave o de la frase de paso (una FIFO ' +
        '(tubería con nombre) no se lee: una FIFO esperaría para siempre); no se cambió nada.',
    );
    const identity = await spanish(unlockIdentity(fifo, 'x'));
    expect(identity.err.message).toBe(`Cannot read the identity file ${fifo} (it is a FIFO, not a regular file).`);
    expect(identity.es).toContain(`No se puede leer el archivo de identidad ${fifo} (es una FIFO`);
    // one that is not there: the system's word said in Spanish, the hint too
    const missing = await spanish(unlockIdentity(join(s.dir, 'none.txt'), 'x'));
    expect(missing.es).toBe(
      `No se puede leer el archivo de identidad ${join(s.dir, 'none.txt')} (no existe). | Haga que ` +
        '"encryption.identityFile" nombre el archivo que escribió `respaldo key generate` (o age-keygen); guarde una ' +
        'copia fuera del servidor.',
    );
    // the file RESPALDO_PASSPHRASE_FILE names (a protected identity's): its reason said in Spanish too
    const env = phrase('error.passphraseFile', {
      file: fifo,
      env: 'RESPALDO_PASSPHRASE_FILE',
      why: 'it is a FIFO, not a regular file',
      kind: 'a FIFO',
    });
    expect(english(env)).toBe(
      `Cannot read the passphrase file named by RESPALDO_PASSPHRASE_FILE: ${fifo} (it is a FIFO, not a regular file).`,
    );
    expect(say('es', env, '')).toBe(
      `No se puede leer el archivo de la frase de paso que indica RESPALDO_PASSPHRASE_FILE: ${fifo} (es una FIFO ` +
        '(tubería con nombre), no un archivo normal).',
    );
    for (const x of [sealing, identity, missing]) expect(x.es).not.toMatch(/ regular file|Cannot|ENOENT|Point /);
  });

  it('an identity file that holds no key, or a protected one that cannot be opened: in Spanish, the English as it was', async () => {
    const s = demoSetup();
    const empty = join(s.dir, 'notes.txt');
    writeFileSync(empty, 'not a key\n');
    const none = await spanish(unlockIdentity(empty, 'x'));
    expect(none.err.message).toBe(`The identity file ${empty} holds no age identity (AGE-SECRET-KEY-1…).`);
    expect(none.es).toMatch(
      /^El archivo de identidad .* no contiene ninguna identidad age \(AGE-SECRET-KEY-1…\)\. \| Haga que/,
    );
    // An age file (a protected identity) that is cut short: age cannot open it, whatever the passphrase
    const cut = join(s.dir, 'cut.age');
    writeFileSync(cut, 'age-encryption.org/v1\n-> scrypt AAAA 10\n');
    const unopened = await spanish(unlockIdentity(cut, 'x'));
    expect(unopened.err.message).toMatch(/^The identity file .* could not be opened \(.+\)\.$/);
    expect(unopened.es).toMatch(/^No se pudo abrir el archivo de identidad .* \(.+\)\. \| Haga que/);
  });

  it('a config file that is not there: in Spanish, the English as it was', async () => {
    const s = demoSetup();
    const file = join(s.dir, 'nope.json');
    const { err, es } = await spanish(loadConfig({ configPath: file, env: {} }));
    expect(err.message).toBe(`${file}: file not found`);
    expect(es).toBe(
      `${file}: no existe el archivo | Indique --config RUTA, defina RESPALDO_CONFIG o ejecute desde la carpeta que ` +
        'contiene backup_config.json (`npm run demo` crea una instalación de prueba).',
    );
    // a folder named as the config, and a config whose backupDir is a file
    const folder = await spanish(loadConfig({ configPath: s.dir, env: {} }));
    expect(folder.err.message).toBe(`${s.dir}: is a folder, not a config file`);
    expect(folder.es).toBe(
      `${s.dir}: es una carpeta, no un archivo de configuración | Indique el propio archivo (--config ` +
        `${join(s.dir, 'backup_config.json')}, por ejemplo) o defina RESPALDO_CONFIG con él.`,
    );
    const notDir = join(s.dir, 'backups-file');
    writeFileSync(notDir, '');
    writeFileSync(s.configFile, JSON.stringify({ backupDir: notDir, databases: [] }));
    const dir = await spanish(loadConfig({ configPath: s.configFile, env: {} }));
    expect(dir.err.message).toBe(`${s.configFile}: backupDir: ${notDir} is a file, not a folder`);
    expect(dir.es).toBe(
      `${s.configFile}: backupDir: ${notDir} es un archivo, no una carpeta | Haga que "backupDir" sea una carpeta ` +
        '(se crea si falta) y vuelva a ejecutar la orden; no se cambió nada.',
    );
  });

  it('a keep mark a folder destination cannot take: the menu says so in Spanish (it was a bug box)', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    const doc = {
      backupDir: s.backupDir,
      source: 'srv1',
      databases: [{ name: 'users', engine: 'sqlite', path: s.dbs.users }],
      destinations: [{ name: 'nas', type: 'folder', path: nas, copyAfterBackup: false }],
    };
    writeFileSync(s.configFile, JSON.stringify(doc));
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg, { databases: ['users'], files: false }, silentReporter);
    expect((await copySet(cfg, m.id, 'nas', silentReporter)).ok).toBe(true);
    // where the mark goes, a folder that is not empty: the rename onto it fails (EISDIR or ENOTEMPTY)
    mkdirSync(join(nas, 'srv1', m.id, 'keep', 'x'), { recursive: true });
    const facade = createEngineFacade(cfg);
    const { err, es } = await spanish(facade.setKeep(m.id, true));
    expect(err.message).toMatch(/^The keep mark is set here, but not at nas \(/);
    expect(es).toMatch(/^La marca de conservar se puso aquí, pero no en nas \(/);
    // reachable, but a folder is where the mark goes: removing it there mends it, not waiting
    expect(es).toContain(
      `| respaldo solo escribe archivos allí: borre esa carpeta en nas y ejecute respaldo keep ${m.id} --from nas.`,
    );
    expect(err.hint).toBe(
      `respaldo writes only files there: remove that folder at nas, then run respaldo keep ${m.id} --from nas.`,
    );
    expect(es).not.toMatch(/keep mark|Run respaldo|EISDIR|ENOTEMPTY/);
    // the local mark stands
    expect((await facade.listSets())[0]?.keep).toBe(true);
    // cleared: the folder where the mark would be is said so too (it was Node's "Path is a directory: rm returned
    // EISDIR", English in the Spanish menu)
    const unset = await spanish(facade.setKeep(m.id, false));
    const where = join(nas, 'srv1', m.id, 'keep');
    expect(unset.err.message).toBe(
      `The keep mark is cleared here, but not at nas (destination "nas": removing srv1/${m.id}/keep: a folder is ` +
        'there, where respaldo keeps a file).',
    );
    expect(unset.es).toBe(
      `La marca de conservar se quitó aquí, pero no en nas (destino "nas": al borrar srv1/${m.id}/keep: hay una ` +
        'carpeta donde respaldo guarda un archivo). | respaldo solo escribe archivos allí: borre esa carpeta en nas y ' +
        `ejecute respaldo keep ${m.id} --unset --from nas.`,
    );
    expect(existsSync(where)).toBe(true);
  });
});
