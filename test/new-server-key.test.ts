import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Encrypter } from 'age-encryption';
import { afterEach, describe, expect, it } from 'vitest';
import type { RespaldoError } from '../src/core/errors.js';
import type { ManifestEncryption } from '../src/core/types.js';
import { decrypterFor } from '../src/engine/crypt.js';
import { say } from '../src/ui/i18n/index.js';
import { ageKeygen } from './helpers/age.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { dbDigest } from './helpers/sqlite.js';
import { sftpDestination, startSshd, stopAllSshd } from './helpers/sshd.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';
import { startCliInTmux } from './helpers/tty.js';

/**
 * The new-server day with an encrypted set at an SFTP destination and an identity protected by a passphrase: what
 * the errors about the key tell the operator to write is accepted as written, and a passphrase mistyped at the
 * terminal says to run the command again (the menu asks again; the command has ended).
 */

afterEach(stopAllSshd);

function setConfig(s: DemoSetup, patch: Record<string, unknown>): void {
  writeFileSync(s.configFile, JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), ...patch }, null, 2));
}

/** A set of users encrypted to a key whose identity file is protected by `words`, copied to sshd; the backups lost. */
async function lostServer(words: string) {
  const srv = await startSshd();
  const s = demoSetup();
  const plainKey = join(s.dir, 'key.txt');
  const recipient = ageKeygen(plainKey);
  const e = new Encrypter();
  e.setPassphrase(words);
  e.setScryptWorkFactor(12);
  const key = join(s.dir, 'key.age');
  writeFileSync(key, await e.encrypt(readFileSync(plainKey)), { mode: 0o600 });
  rmSync(plainKey);
  setConfig(s, {
    encryption: { recipients: [recipient] },
    destinations: [sftpDestination(srv, { source: 'srv1' })],
  });
  await cli(s, ['create', '--db', 'users', '--no-files']);
  const before = dbDigest(s.dbs.users);
  rmSync(s.backupDir, { recursive: true, force: true });
  rmSync(s.dbs.users, { force: true });
  const pass = join(s.dir, 'pass.txt');
  writeFileSync(pass, `${words}\n`, { mode: 0o600 });
  return { s, key, recipient, before, env: { RESPALDO_PASSPHRASE_FILE: pass } };
}

describe('the key on a new server', () => {
  it('a config without "encryption" is told the whole block to add, with the set\'s recipient, and that block works', async () => {
    const { s, key, recipient, before, env } = await lostServer('new server words');
    const config = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    delete config['encryption'];
    writeFileSync(s.configFile, JSON.stringify(config, null, 2));

    const restore = ['restore', 'latest', '--from', 'ssh', '--db', 'users', '--yes'];
    const noKey = await cli(s, restore, 13, env);
    expect(noKey.stderr).toContain('names no identity');
    const json = parseJsonOutput<{ hint: string; exitCode: number }>(
      (await cli(s, [...restore, '--json'], 13, env)).stdout,
    );
    expect(json.exitCode).toBe(13);
    // The block the hint says to add, as written, with the key's path in place of the example one.
    const block = /Add "encryption": (\{.*?\}) to /.exec(json.hint)?.[1];
    expect(block, json.hint).toBeDefined();
    const encryption = JSON.parse(block!.replace('/path/to/key.txt', key)) as Record<string, unknown>;
    expect(encryption).toEqual({ recipients: [recipient], identityFile: key });
    expect(json.hint).toContain(s.configFile);
    setConfig(s, { encryption });
    await cli(s, restore, 0, env);
    expect(dbDigest(s.dbs.users)).toEqual(before);
  });

  it('a config with recipients but no identity is told to add "identityFile" to it; in Spanish in the menu', async () => {
    const { s, key, recipient, env } = await lostServer('new server words');
    const noKey = await cli(s, ['verify', 'latest', '--from', 'ssh', '--read-data'], 13, env);
    expect(noKey.stderr).toContain(`hint: Add "identityFile": "/path/to/key.txt" to "encryption" in ${s.configFile}`);
    expect(noKey.stderr).toContain(`whose public key is ${recipient}`);
    const err = (await decrypterFor(
      { encryption: { recipients: [recipient] }, file: s.configFile },
      {
        recipients: [recipient],
      } as ManifestEncryption,
      '20261122_020000',
    ).catch((e: unknown) => e)) as RespaldoError;
    expect(say('es', err.phrases!.message, err.message)).toContain('la configuración no nombra ninguna identidad');
    expect(say('es', err.phrases!.hint, '')).toContain('Añada "identityFile"');

    // "identityFile" alone is refused (recipients are required): the hint gives that key's recipient, not a new key.
    setConfig(s, { encryption: { identityFile: key } });
    const refused = await cli(s, ['list', '--from', 'ssh'], 3, env);
    expect(refused.stderr).toContain(`age-keygen -y ${key}`);
    expect(refused.stderr).toContain(`age -d ${key} | age-keygen -y`);
    expect(refused.stderr).not.toContain('key generate');
  });

  it('a passphrase mistyped at the terminal says to run the command again, and nothing is restored', async () => {
    const { s, key, recipient, before } = await lostServer('tty words');
    setConfig(s, { encryption: { recipients: [recipient], identityFile: key } });
    const restore = ['restore', 'latest', '--from', 'ssh', '--db', 'users', '--yes', '--config', s.configFile];
    const wrong = startCliInTmux(restore, s.dir);
    try {
      await wrong.waitForScreen(/Passphrase of the identity file/);
      wrong.type('not the words', true);
      expect(await wrong.exitCode()).toBe(13);
      expect(wrong.screen()).toContain('Run the command again and type the passphrase');
      expect(wrong.screen()).not.toContain('Type it again.');
    } finally {
      wrong.kill();
    }
    const right = startCliInTmux(restore, s.dir);
    try {
      await right.waitForScreen(/Passphrase of the identity file/);
      right.type('tty words', true);
      expect(await right.exitCode()).toBe(0);
    } finally {
      right.kill();
    }
    expect(dbDigest(s.dbs.users)).toEqual(before);
  });
});
