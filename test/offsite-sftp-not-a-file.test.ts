/**
 * What is at an sftp destination under the name of a set's file may be no file (someone else controls that server):
 * a FIFO or a folder is refused at once, as the folder destination does (offsite-damaged-remote.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { startSshd, stopAllSshd, sftpDestination } from './helpers/sshd.js';
import { demoSetup } from './helpers/tmp.js';
import { loadConfig } from '../src/config/load.js';
import { RespaldoError } from '../src/core/errors.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { sayMessage } from '../src/ui/i18n/index.js';

afterEach(stopAllSshd);

describe('something else than a file at an sftp destination', () => {
  it('a FIFO or a folder named as a manifest or a stored file is refused at once, never read', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    const dest = sftpDestination(srv, { source: 'srv1' });
    writeFileSync(
      s.configFile,
      JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), destinations: [dest] }),
    );
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const set = join(srv.root, 'srv1', m.id);
    const users = m.databases.find((d) => d.name === 'users')!.file!;
    rmSync(s.backupDir, { recursive: true, force: true });
    // A bound, not a wait: a FIFO there blocked the server's open, and the restore, for ever.
    const run = (args: string[]) => runCli([...args, '--config', s.configFile], { cwd: s.dir, timeoutMs: 30_000 });
    const to = join(s.dir, 'users-check.db');

    rmSync(join(set, users));
    execFileSync('mkfifo', [join(set, users)]);
    for (const how of [[], ['--stream']]) {
      const r = await run(['restore', m.id, '--from', 'ssh', '--db', 'users', '--to', to, '--yes', ...how]);
      expect(r.code, describeResult(r)).toBe(5);
      expect(r.stderr).toContain(`${users} is missing there`);
    }
    const v = await run(['verify', m.id, '--from', 'ssh', '--read-data']);
    expect(v.code, describeResult(v)).toBe(5);
    for (const make of [(p: string) => execFileSync('mkfifo', [p]), (p: string) => mkdirSync(p)]) {
      rmSync(join(set, 'manifest.json'), { recursive: true, force: true });
      make(join(set, 'manifest.json'));
      const r = await run(['restore', m.id, '--from', 'ssh', '--db', 'users', '--to', to, '--yes']);
      // A damaged set there, as a truncated manifest is (exit 5), never "not there" (8).
      expect(r.code, describeResult(r)).toBe(5);
      expect(r.stderr).toMatch(
        new RegExp(
          `set srv1/${m.id} has a bad manifest: manifest.json is (a FIFO, socket or device|a folder), not a file`,
        ),
      );
    }
    expect(existsSync(to)).toBe(false);
  });

  it('a folder where a keep mark is removed: said as a folder in the way, in English and Spanish', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    const dest = sftpDestination(srv, { source: 'srv1' });
    writeFileSync(
      s.configFile,
      JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), destinations: [dest] }),
    );
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--no-files', '--json'])).stdout);
    const mark = join(srv.root, 'srv1', m.id, 'keep');
    rmSync(mark, { force: true });
    mkdirSync(join(mark, 'inside'), { recursive: true });
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const err = (await createEngineFacade(cfg)
      .setKeep(m.id, false)
      .catch((e: unknown) => e)) as RespaldoError;
    expect(err).toBeInstanceOf(RespaldoError);
    expect(err.message).toBe(
      `The keep mark is cleared here, but not at ssh (destination "ssh": removing srv1/${m.id}/keep: a folder is ` +
        'there, where respaldo keeps a file).',
    );
    expect(sayMessage('es', err.phrases, err.message)).not.toMatch(/removing|a folder is there/);
    expect(err.hint).toBe(
      `respaldo writes only files there: remove that folder at ssh, then run respaldo keep ${m.id} --unset --from ssh.`,
    );
  });
});
