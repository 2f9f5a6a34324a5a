import { closeSync, openSync, readFileSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { ConfigError } from '../src/core/errors.js';
import { say, sayMessage } from '../src/ui/i18n/index.js';
import { describeResult, runCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

/**
 * A config (or the `.env` beside it) far larger than any config (a log or a dump named by mistake) is refused before
 * it is read: a 300 MB one was read whole (about 650 MB of memory) before its JSON error. The files below are sparse:
 * their size is on the disk's books only.
 */

function sparse(path: string, bytes: number): string {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return path;
}

describe('a config file larger than any config', () => {
  it('300 MB: exit 3 naming it and its size, with a hint, nothing read (--json too)', async () => {
    const s = demoSetup();
    const big = sparse(join(s.dir, 'huge.json'), 300 * 1024 * 1024);
    const r = await runCli(['list', '--config', big], { cwd: s.dir, timeoutMs: 20_000 });
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stderr).toContain(`${big}: is 300 MB, more than any config (respaldo reads at most 1.0 MB of one`);
    expect(r.stderr).toMatch(/\nhint: A config is a few KB: check that --config/);
    const json = await runCli(['list', '--json', '--config', big], { cwd: s.dir, timeoutMs: 20_000 });
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout || json.stderr)).toMatchObject({ error: 'config', exitCode: 3 });
  });

  it('a .env of 2 MB beside the config: exit 3 naming it; a config of 900 KB (spaces) still loads', async () => {
    const s = demoSetup();
    const text = readFileSync(s.configFile, 'utf8');
    writeFileSync(s.configFile, text.replace('{', '{' + ' '.repeat(900 * 1024)));
    const ok = await runCli(['list', '--config', s.configFile], { cwd: s.dir, timeoutMs: 20_000 });
    expect(ok.code, describeResult(ok)).toBe(0);
    const env = sparse(join(s.dir, '.env'), 2 * 1024 * 1024);
    const r = await runCli(['list', '--config', s.configFile], { cwd: s.dir, timeoutMs: 20_000 });
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stderr).toContain(`${env}: is 2.0 MB, more than any .env of \${VAR} values`);
    expect(r.stderr).toMatch(/\nhint: A \.env holds a few KEY=VALUE lines/);
  });

  it('said in Spanish for the menu', async () => {
    const s = demoSetup();
    const big = sparse(join(s.dir, 'huge.json'), 300 * 1024 * 1024);
    const err = (await loadConfig({ configPath: big, env: {} }).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(sayMessage('es', err.phrases, err.message)).toContain(
      `${big}: ocupa 300 MB, más que cualquier configuración`,
    );
    expect(say('es', err.phrases?.hint, err.hint ?? '')).toContain('No se cambió nada.');
  });
});
