import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Encrypter } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { ConfigError } from '../src/core/errors.js';
import { say, sayMessage } from '../src/ui/i18n/index.js';
import { describeResult, runCli, type CliResult } from './helpers/cli.js';
import { ageKeygen } from './helpers/age.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

/**
 * Every file respaldo reads because the operator named it (the config, the `.env` beside it, an identity file, a
 * passphrase file in the config or in RESPALDO_PASSPHRASE_FILE, an sftp private key) may be a FIFO, a device or a
 * folder by mistake. Each is refused at once, naming the file, with a hint and its documented exit code; a FIFO
 * used to block the command forever (the runs below are killed after 20 s, which then fails them).
 */

function mkfifo(path: string): string {
  execFileSync('mkfifo', [path]);
  return path;
}

async function run(s: DemoSetup, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli([...args, '--config', s.configFile], { cwd: s.dir, env, timeoutMs: 20_000 });
}

function expectRefused(r: CliResult, code: number, file: string, kind: string): void {
  expect(r.signal, `hung (killed)\n${describeResult(r)}`).toBeNull();
  expect(r.code, describeResult(r)).toBe(code);
  expect(r.stderr).toContain(file);
  expect(r.stderr).toContain(`${kind}`);
  expect(r.stderr).toMatch(/\nhint: \S/);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack: an operator's error
}

function setConfig(s: DemoSetup, patch: Record<string, unknown>): void {
  writeFileSync(s.configFile, JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), ...patch }, null, 2));
}

const sets = (s: DemoSetup) => (existsSync(s.backupDir) ? readdirSync(s.backupDir).filter((n) => /^\d/.test(n)) : []);

describe('files named by the operator that are not regular files', () => {
  it('a config that is a FIFO or a device: exit 3 naming it, nothing read', async () => {
    const s = demoSetup();
    const fifo = mkfifo(join(s.dir, 'config.fifo'));
    const r = await runCli(['list', '--config', fifo], { cwd: s.dir, timeoutMs: 20_000 });
    expectRefused(r, 3, fifo, 'is a FIFO, not a config file');
    const dev = await runCli(['list', '--config', '/dev/null'], { cwd: s.dir, timeoutMs: 20_000 });
    expectRefused(dev, 3, '/dev/null', 'is a device, not a config file');
    const json = await runCli(['list', '--json', '--config', fifo], { cwd: s.dir, timeoutMs: 20_000 });
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout || json.stderr)).toMatchObject({ error: 'config', exitCode: 3 });
  });

  it('the menu says it in its language (a FIFO config, a FIFO .env), before any read', async () => {
    const s = demoSetup();
    const fifo = mkfifo(join(s.dir, 'config.fifo'));
    const es = async (configPath: string) => {
      const err = (await loadConfig({ configPath, env: {} }).catch((e: unknown) => e)) as ConfigError;
      expect(err).toBeInstanceOf(ConfigError);
      return `${sayMessage('es', err.phrases, err.message)}\n${say('es', err.phrases?.hint, err.hint ?? '')}`;
    };
    const config = await es(fifo);
    expect(config).toContain(`${fifo}: es una FIFO (tubería con nombre), no un archivo de configuración`);
    expect(config).toContain('No se cambió nada.');
    const env = mkfifo(join(s.dir, '.env'));
    expect(await es(s.configFile)).toContain(`${env}: es una FIFO (tubería con nombre), no un archivo: respaldo lee`);
  });

  it('a SQLite database path that is a FIFO: exit 3 naming the field (SQLite blocked on it, deaf to SIGTERM)', async () => {
    const s = demoSetup();
    const fifo = mkfifo(join(s.dir, 'data', 'pipe.db'));
    setConfig(s, { databases: [{ name: 'users', engine: 'sqlite', path: fifo }] });
    const r = await run(s, ['create', '--no-files']);
    expectRefused(r, 3, `databases[0].path: ${fifo} is a FIFO, not a SQLite database file`, 'FIFO');
    expect(sets(s)).toEqual([]);
  });

  it('schedule remove on a config that is a FIFO: exit 3, nothing read', async () => {
    const s = demoSetup();
    const fifo = mkfifo(join(s.dir, 'config.fifo'));
    const r = await runCli(['schedule', 'remove', 'nightly', '--config', fifo], { cwd: s.dir, timeoutMs: 20_000 });
    expectRefused(r, 3, fifo, 'FIFO');
  });

  it('a .env beside the config that is a FIFO: exit 3 naming it; create writes nothing', async () => {
    const s = demoSetup();
    const env = mkfifo(join(s.dir, '.env'));
    const r = await run(s, ['create']);
    expectRefused(r, 3, env, 'is a FIFO');
    expect(sets(s)).toEqual([]);
  });

  it('encryption.passphraseFile that is a FIFO: create stops with exit 13 naming it, no set', async () => {
    const s = demoSetup();
    const fifo = mkfifo(join(s.dir, 'pass.fifo'));
    setConfig(s, { encryption: { passphraseFile: fifo } });
    const r = await run(s, ['create', '--db', 'users', '--no-files']);
    expectRefused(r, 13, fifo, 'it is a FIFO, not a regular file');
    expect(sets(s)).toEqual([]);
  });

  it('an identityFile, or the file RESPALDO_PASSPHRASE_FILE names, that is a FIFO or a folder: exit 13', async () => {
    const s = demoSetup();
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    setConfig(s, { encryption: { recipients: [recipient], identityFile: keyFile } });
    const made = await run(s, ['create', '--json', '--db', 'users', '--no-files']);
    expect(made.code, describeResult(made)).toBe(0);
    const id = (JSON.parse(made.stdout) as { id: string }).id;
    const before = readFileSync(s.dbs.users);
    const fifo = mkfifo(join(s.dir, 'key.fifo'));
    setConfig(s, { encryption: { recipients: [recipient], identityFile: fifo } });
    const r = await run(s, ['restore', id, '--db', 'users', '--yes']);
    expectRefused(r, 13, `Cannot read the identity file ${fifo} (it is a FIFO, not a regular file)`, 'FIFO');
    const folder = join(s.dir, 'keys');
    mkdirSync(folder);
    setConfig(s, { encryption: { recipients: [recipient], identityFile: folder } });
    expectRefused(await run(s, ['verify', id, '--read-data']), 13, folder, 'it is a folder, not a regular file');
    // A protected identity, its passphrase named by RESPALDO_PASSPHRASE_FILE: a FIFO there
    const e = new Encrypter();
    e.setPassphrase('correct horse battery staple');
    e.setScryptWorkFactor(12);
    const locked = join(s.dir, 'key.age');
    writeFileSync(locked, await e.encrypt(readFileSync(keyFile)), { mode: 0o600 });
    rmSync(keyFile);
    setConfig(s, { encryption: { recipients: [recipient], identityFile: locked } });
    const pass = mkfifo(join(s.dir, 'pass.fifo'));
    const p = await run(s, ['restore', id, '--db', 'users', '--yes'], { RESPALDO_PASSPHRASE_FILE: pass });
    expectRefused(p, 13, pass, 'it is a FIFO, not a regular file');
    expect(readFileSync(s.dbs.users).equals(before)).toBe(true);
  });

  it('an sftp privateKey that is a FIFO: the destination says so, naming it (exit 7), no connection tried', async () => {
    const s = demoSetup();
    const fifo = mkfifo(join(s.dir, 'id_ed25519'));
    setConfig(s, {
      destinations: [
        {
          name: 'off',
          type: 'sftp',
          host: '127.0.0.1',
          port: 1,
          user: 'u',
          path: '/b',
          privateKey: fifo,
          hostKey: `SHA256:${'A'.repeat(43)}`,
        },
      ],
    });
    const r = await run(s, ['list', '--from', 'off']);
    expectRefused(r, 7, `cannot read the private key ${fifo} (it is a FIFO, not a regular file)`, 'privateKey');
  });
});
