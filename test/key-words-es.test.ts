/**
 * A wrong key, said in the menu's language: an identity file that holds another key than the set's, or no valid
 * key at all, stopped a Spanish restore with English words. Real age keys (age-keygen) and a real encrypted set.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { KeyError } from '../src/engine/crypt.js';
import { silentReporter } from '../src/core/events.js';
import { english } from '../src/core/phrases.js';
import { createBackup } from '../src/engine/create.js';
import { executeRestore, planRestore } from '../src/engine/restore.js';
import { say } from '../src/ui/i18n/index.js';
import { ageKeygen } from './helpers/age.js';
import { demoSetup } from './helpers/tmp.js';

/** A set encrypted to one key, then the config pointed at `identity` (written by `write`): the restore's error. */
async function restoreWith(write: (file: string) => void): Promise<KeyError> {
  const s = demoSetup();
  const key = join(s.dir, 'key.txt');
  const recipient = ageKeygen(key);
  const doc = (identityFile: string) => ({ encryption: { recipients: [recipient], identityFile } });
  const base = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(s.configFile, JSON.stringify({ ...base, ...doc(key) }));
  const m = await createBackup(await loadConfig({ configPath: s.configFile, env: {} }), {}, silentReporter);
  const other = join(s.dir, 'other.txt');
  write(other);
  writeFileSync(s.configFile, JSON.stringify({ ...base, ...doc(other) }));
  const cfg = await loadConfig({ configPath: s.configFile, env: {} });
  const err = await executeRestore(cfg, await planRestore(cfg, m.id, { databases: ['users'] }), silentReporter).catch(
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KeyError);
  const e = err as KeyError;
  expect(e.message).toBe(english(e.phrases!.message!));
  expect(e.hint).toBe(english(e.phrases!.hint!));
  return e;
}

describe('a wrong key in Spanish', () => {
  it('an identity file holding another key', async () => {
    const e = await restoreWith((file) => ageKeygen(file));
    expect(e.message).toMatch(/does not hold the key of set/);
    const es = say('es', e.phrases?.message, e.message);
    expect(es).toMatch(/^El archivo de identidad .*other\.txt no tiene la clave de la copia \d{8}_\d{6}: abre age1/);
    expect(say('es', e.phrases?.hint, e.hint!)).toMatch(/^Use el archivo de identidad cuya clave pública/);
  });

  it('an identity file whose key line is cut', async () => {
    const e = await restoreWith((file) => writeFileSync(file, 'AGE-SECRET-KEY-1QQQ\n', { mode: 0o600 }));
    const es = say('es', e.phrases?.message, e.message);
    expect(es).toMatch(/no tiene ninguna identidad age válida: sus 1 línea\(s\) AGE-SECRET-KEY/);
  });
});
