import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Encrypter } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { EXIT } from '../src/core/exit-codes.js';
import { silentReporter } from '../src/core/events.js';
import type { Manifest } from '../src/core/types.js';
import { PASSPHRASE_FILE_ENV } from '../src/engine/crypt.js';
import { engineJobRunner } from '../src/scheduler/run-job.js';
import { ageKeygen } from './helpers/age.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup, makeTmpDir, type DemoSetup } from './helpers/tmp.js';
import { startWebhookServer, type WebhookServer } from './helpers/webhook.js';

/**
 * A drill run with a missing or wrong key (a wrong passphrase, an identity file that is not there) is the operator's
 * key problem, not a backup that failed its drill: exit 13, nothing in drilled.json, no "restore drill FAILED"
 * alert, and `status --check` stays healthy. The scheduled drill fails its job with the key error and alerts about
 * the key.
 */

async function cli(s: DemoSetup, args: string[], code: number, env: Record<string, string> = {}) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir, env });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(code);
  return r;
}

function setConfig(s: DemoSetup, patch: Record<string, unknown>): void {
  writeFileSync(s.configFile, JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), ...patch }, null, 2));
}

function alerts(server: WebhookServer): { subject: string; lines: string[] }[] {
  return server.received.map((r) => JSON.parse(r) as { subject: string; lines: string[] });
}

/**
 * A demo setup of users alone, alerting `server` on drill failures, with a set of users encrypted as `encryption`
 * says (its passphraseFile, `./backups.pass`, holds "right words").
 */
async function encryptedSet(server: WebhookServer, encryption: Record<string, unknown>) {
  const s = demoSetup((base) => ({
    ...base,
    databases: (base['databases'] as { name: string }[]).filter((d) => d.name === 'users'),
    encryption,
    notifications: [{ type: 'webhook', on: ['drill-failure'], url: server.url, format: 'json' }],
  }));
  writeFileSync(join(s.dir, 'backups.pass'), 'right words\n', { mode: 0o600 });
  const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json', '--db', 'users', '--no-files'], 0)).stdout);
  return { s, m, drilled: join(s.backupDir, m.id, 'drilled.json') };
}

/** A set encrypted to a key whose identity file is protected by the passphrase "right words". */
async function setWithLockedIdentity(server: WebhookServer) {
  const keyFile = join(makeTmpDir(), 'key.txt');
  const recipient = ageKeygen(keyFile);
  const set = await encryptedSet(server, { recipients: [recipient] });
  const e = new Encrypter();
  e.setPassphrase('right words');
  e.setScryptWorkFactor(12);
  const locked = join(set.s.dir, 'key.age');
  writeFileSync(locked, await e.encrypt(readFileSync(keyFile)), { mode: 0o600 });
  rmSync(keyFile);
  setConfig(set.s, { encryption: { recipients: [recipient], identityFile: locked } });
  const wrong = join(set.s.dir, 'wrong.pass');
  writeFileSync(wrong, 'wrong words\n', { mode: 0o600 });
  return { ...set, locked, wrong };
}

describe('a drill with a missing or wrong key', () => {
  it('a wrong passphrase of the backups (encryption.passphraseFile): exit 13, nothing recorded, no alert, healthy', async () => {
    const server = await startWebhookServer();
    try {
      const { s, drilled } = await encryptedSet(server, { passphraseFile: './backups.pass' });
      writeFileSync(join(s.dir, 'backups.pass'), 'other words\n', { mode: 0o600 });
      const r = await cli(s, ['drill', 'latest', '--db', 'users'], EXIT.key);
      expect(r.stderr).toMatch(/Wrong passphrase: it does not open set .*passphraseFile/s);
      expect(r.stdout).not.toMatch(/FAILED/);
      expect(existsSync(drilled)).toBe(false);
      expect(alerts(server)).toEqual([]);
      await cli(s, ['status', '--check'], EXIT.ok);
    } finally {
      server.close();
    }
  });

  it('a protected identity with a wrong RESPALDO_PASSPHRASE_FILE, or no identity file: exit 13, nothing recorded', async () => {
    const server = await startWebhookServer();
    try {
      const { s, drilled, locked, wrong } = await setWithLockedIdentity(server);
      const r = await cli(s, ['drill', 'latest', '--db', 'users'], EXIT.key, { [PASSPHRASE_FILE_ENV]: wrong });
      expect(r.stderr).toContain(`Wrong passphrase for the identity file ${locked}`);
      rmSync(locked);
      expect((await cli(s, ['drill', 'latest', '--db', 'users'], EXIT.key)).stderr).toContain(
        'Cannot read the identity file',
      );
      expect(existsSync(drilled)).toBe(false);
      expect(alerts(server)).toEqual([]);
      await cli(s, ['status', '--check'], EXIT.ok);
    } finally {
      server.close();
    }
  });

  it('a scheduled drill with a wrong key fails its job with the key error and alerts about the key, not the set', async () => {
    const server = await startWebhookServer();
    const job = { name: 'drills', when: 'daily at 03:00', type: 'drill' as const, databases: ['users'], files: false };
    const ctx = { signal: new AbortController().signal, reporter: silentReporter, reason: 'scheduled' as const };
    try {
      // the passphrase of the backups changed in its file since the set was made
      const one = await encryptedSet(server, { passphraseFile: './backups.pass' });
      writeFileSync(join(one.s.dir, 'backups.pass'), 'other words\n', { mode: 0o600 });
      const run = engineJobRunner(await loadConfig({ configPath: one.s.configFile }));
      await expect(run(job, ctx)).rejects.toThrow(/Wrong passphrase: it does not open set/);
      expect(existsSync(one.drilled)).toBe(false);

      // the identity's passphrase file holds the wrong words
      const two = await setWithLockedIdentity(server);
      process.env[PASSPHRASE_FILE_ENV] = two.wrong;
      try {
        const locked = engineJobRunner(await loadConfig({ configPath: two.s.configFile }));
        await expect(locked(job, ctx)).rejects.toThrow(/Wrong passphrase for the identity file/);
      } finally {
        Reflect.deleteProperty(process.env, PASSPHRASE_FILE_ENV);
      }
      expect(existsSync(two.drilled)).toBe(false);

      const sent = alerts(server);
      expect(sent).toHaveLength(2);
      for (const a of sent) {
        expect(a.subject).toMatch(/restore drill NOT RUN: the key to decrypt the backups is missing or wrong/);
        expect(a.subject).not.toMatch(/FAILED/);
      }
      expect(sent[0]!.lines.join('\n')).toMatch(/Wrong passphrase: it does not open set/);
      expect(sent[1]!.lines.join('\n')).toMatch(/Wrong passphrase for the identity file/);
    } finally {
      server.close();
    }
  });

  it('create with drillAfterBackup and a wrong key: the set is made, exit 13, nothing recorded, the alert names the key', async () => {
    const server = await startWebhookServer();
    try {
      const { s, wrong } = await setWithLockedIdentity(server);
      setConfig(s, { drillAfterBackup: true });
      const r = await cli(s, ['create', '--json', '--db', 'users', '--no-files'], EXIT.key, {
        [PASSPHRASE_FILE_ENV]: wrong,
      });
      const m = parseJsonOutput<Manifest>(r.stdout);
      expect(m.status).toBe('completed');
      expect(existsSync(join(s.backupDir, m.id, 'drilled.json'))).toBe(false);
      expect(alerts(server).map((a) => a.subject)).toEqual([
        expect.stringMatching(/restore drill NOT RUN: the key/) as unknown,
      ]);
    } finally {
      server.close();
    }
  });
});
