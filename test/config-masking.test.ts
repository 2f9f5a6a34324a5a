import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { maskSecrets } from '../src/exec/spawn.js';
import { describeResult, runCli } from './helpers/cli.js';
import { ageKeygen } from './helpers/age.js';
import { demoSetup, makeTmpDir, writeConfig } from './helpers/tmp.js';

/**
 * What is masked: secrets (the values of password, passphrase and access-key fields, and of secret-looking
 * variables), never the path of a key file given through a variable whose name holds KEY (`${AGE_KEY_FILE}`):
 * "cannot read ***" hid which file on the day it is needed. A key pasted where its path goes stays masked.
 */
describe('masking secrets, not key files’ paths', () => {
  const keyPath = '/srv/keys/age-identity.txt';
  const sshKey = '/root/.ssh/id_backup';
  const env = {
    AGE_KEY_FILE: keyPath,
    SSH_PRIVATE_KEY: sshKey,
    SFTP_PW: 'pw-Zq81-hidden',
    S3_SECRET_KEY: 'S3-secret-77Hq',
    RCLONE_KEY_FILE: '/root/.ssh/rclone_key',
  };
  const config = (identityFile: string) =>
    writeConfig(makeTmpDir(), (c) => ({
      ...c,
      encryption: { recipients: ['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'], identityFile },
      destinations: [
        {
          name: 'nas',
          type: 'sftp',
          host: 'nas.example',
          user: 'b',
          path: '/b',
          hostKey: `SHA256:${'A'.repeat(43)}`,
          privateKey: '${SSH_PRIVATE_KEY}',
          password: '${SFTP_PW}',
        },
        {
          name: 's3',
          type: 's3',
          bucket: 'b',
          region: 'x',
          accessKeyId: 'AKIA0',
          secretAccessKey: '${S3_SECRET_KEY}',
        },
        {
          name: 'cloud',
          type: 'rclone',
          remote: 'cloud',
          path: 'b',
          config: {
            type: 'sftp',
            host: 'h',
            key_file: '${RCLONE_KEY_FILE}',
            known_hosts_file: '/root/.ssh/known_hosts',
          },
        },
      ],
    }));

  it('the paths of identityFile, privateKey and an rclone key_file show; passwords and keys stay ***', async () => {
    const cfg = await loadConfig({ configPath: config('${AGE_KEY_FILE}').configFile, env });
    expect(cfg.encryption?.identityFile).toBe(keyPath);
    for (const path of [keyPath, sshKey, env.RCLONE_KEY_FILE]) expect(cfg.secrets).not.toContain(path);
    // SFTP_PW's name looks like no secret: its field does
    expect(cfg.secrets).toEqual(expect.arrayContaining([env.SFTP_PW, env.S3_SECRET_KEY]));
    expect(maskSecrets(`cannot read ${keyPath} (ENOENT); ${sshKey} as b with ${env.SFTP_PW}`, cfg.secrets)).toBe(
      `cannot read ${keyPath} (ENOENT); ${sshKey} as b with ***`,
    );
  });

  it('a key pasted into the variable where its path goes is masked, and so is a KEY variable used elsewhere too', async () => {
    const pasted = 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ';
    const cfg = await loadConfig({
      configPath: config('${AGE_KEY_FILE}').configFile,
      env: { ...env, AGE_KEY_FILE: pasted },
    });
    expect(cfg.secrets).toContain(pasted);
    const both = writeConfig(makeTmpDir(), (c) => ({
      ...c,
      databases: [{ name: 'pg', url: 'postgresql://app:${API_KEY}@127.0.0.1:5432/app' }],
      encryption: {
        recipients: ['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'],
        identityFile: '${API_KEY}',
      },
    }));
    const again = await loadConfig({ configPath: both.configFile, env: { API_KEY: 'k-Secret-9' } });
    expect(again.secrets).toContain('k-Secret-9');
  });

  it('restore with a missing identity file named by ${AGE_KEY_FILE} names the file (it said "***"), exit 13', async () => {
    const s = demoSetup();
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    const missing = join(s.dir, 'keys', 'lost-key.txt');
    writeConfig(s.dir, { encryption: { recipients: [recipient], identityFile: '${AGE_KEY_FILE}' } });
    const run = (args: string[], file: string) =>
      runCli([...args, '--config', s.configFile], { cwd: s.dir, env: { AGE_KEY_FILE: file } });
    const made = await run(['create', '--json', '--db', 'users', '--no-files'], keyFile);
    expect(made.code, describeResult(made)).toBe(0);
    const id = (JSON.parse(made.stdout) as { id: string }).id;
    const r = await run(['restore', id, '--db', 'users', '--yes'], missing);
    expect(r.code, describeResult(r)).toBe(13);
    expect(r.stderr).toContain(`Cannot read the identity file ${missing} (ENOENT)`);
    expect(r.stderr).not.toContain('***');
  });
});
