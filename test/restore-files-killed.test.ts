/**
 * A files restore killed (SIGKILL: no `finally` runs) leaves its partial folder beside `--to`, the restored files in
 * it, an application's `.env` too. `status` (and its JSON) names it and says what to do; it named only the backup
 * folder's leftovers. The next files restore removes it. The folder is 0700 from the start, whatever the umask.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { CLI_BIN, collect, describeResult, parseJsonOutput, runCli, startShell, waitFor } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';
import { loadConfig } from '../src/config/load.js';
import { getStatus } from '../src/engine/status.js';
import { say } from '../src/ui/i18n/index.js';

function writeRandom(file: string, mib: number): void {
  const fd = openSync(file, 'w');
  try {
    for (let i = 0; i < mib; i++) writeSync(fd, randomBytes(1 << 20));
  } finally {
    closeSync(fd);
  }
}

/** A demo config whose application folder holds a 96 MiB file, and its set (a restore of it takes a while). */
async function setOfBigFile() {
  const s = demoSetup();
  writeRandom(join(s.appDir, 'big.bin'), 96);
  const cli = (args: string[]) => runCli([...args, '--config', s.configFile], { cwd: s.dir });
  const made = await cli(['create', '--json']);
  expect(made.code, describeResult(made)).toBe(0);
  return { s, cli, m: parseJsonOutput<Manifest>(made.stdout) };
}

describe('a files restore killed with SIGKILL', () => {
  it('leaves a 0700 partial folder that status names with what to do, and the next restore removes', async () => {
    const { s, cli, m } = await setOfBigFile();
    const to = join(s.dir, 'restored');
    const partial = join(s.dir, `.restored.respaldo-partial-${m.id}`);
    const big = join(partial, 'application', 'app', 'big.bin');

    // umask 000: the folder's mode is its own, not what the umask leaves.
    const child = startShell(
      `umask 000; exec "${process.execPath}" "${CLI_BIN}" restore ${m.id} --files --to "${to}" --yes --config "${s.configFile}"`,
      { cwd: s.dir },
    );
    const done = collect(child);
    await waitFor(() => existsSync(big) && statSync(big).size > 4 * 1024 * 1024, 'restore writing big.bin', 120_000, 2);
    expect(statSync(partial).mode & 0o777).toBe(0o700);
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal, describeResult(killed)).toBe('SIGKILL');
    expect(existsSync(partial)).toBe(true);
    expect(existsSync(join(partial, 'config', 'app', '.env')) || existsSync(join(partial, 'config'))).toBe(true);

    const st = await cli(['status']);
    expect(st.code, describeResult(st)).toBe(0);
    expect(st.stdout).toContain(partial);
    expect(st.stdout).toMatch(/partial folder of a files restore that was killed holds restored files, secrets/);
    const json = await cli(['status', '--json']);
    const doc = parseJsonOutput<{ leftovers: string[]; leftoversHint: string | null }>(json.stdout);
    expect(doc.leftovers).toContain(partial);
    expect(doc.leftoversHint).toContain(`rm -r ${JSON.stringify(partial)}`);
    // Said in Spanish too (the menu, alerts)
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const report = await getStatus(cfg);
    expect(say('es', report.leftoversHintPhrase, report.leftoversHint!)).toBe(
      'la carpeta parcial de una restauración de archivos que se mató guarda archivos restaurados, secretos (.env) ' +
        `también: la próxima copia o restauración la quita, o quítela usted (rm -r ${JSON.stringify(partial)}); ` +
        'luego ejecute la restauración de nuevo',
    );

    const again = await cli(['restore', m.id, '--files', '--to', join(s.dir, 'elsewhere'), '--yes']);
    expect(again.code, describeResult(again)).toBe(0);
    expect(again.stdout + again.stderr).toContain(`removed ${partial}, left by an interrupted restore`);
    expect(readdirSync(s.dir).filter((n) => n.includes('respaldo-partial'))).toEqual([]);
    const after = parseJsonOutput<{ leftovers: string[] }>((await cli(['status', '--json'])).stdout);
    expect(after.leftovers).toEqual([]);
  });

  it('into folders it made (--to new/deeper/restored): status names them; the next run removes them, empty', async () => {
    const { s, cli, m } = await setOfBigFile();
    const folder = join(s.dir, 'new');
    const to = join(folder, 'deeper', 'restored');
    const partial = join(folder, 'deeper', `.restored.respaldo-partial-${m.id}`);
    const big = join(partial, 'application', 'app', 'big.bin');
    const child = startShell(
      `exec "${process.execPath}" "${CLI_BIN}" restore ${m.id} --files --to "${to}" --yes --config "${s.configFile}"`,
      { cwd: s.dir },
    );
    const done = collect(child);
    await waitFor(() => existsSync(big) && statSync(big).size > 4 * 1024 * 1024, 'restore writing big.bin', 120_000, 2);
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal, describeResult(killed)).toBe('SIGKILL');
    const doc = parseJsonOutput<{ leftovers: string[] }>((await cli(['status', '--json'])).stdout);
    expect(doc.leftovers).toEqual(expect.arrayContaining([partial, join(folder, 'deeper')]));
    const next = await cli(['create', '--no-files']);
    expect(next.code, describeResult(next)).toBe(0);
    expect(next.stdout + next.stderr).toContain(join(folder, 'deeper'));
    expect(existsSync(folder), describeResult(next)).toBe(false);
    expect(parseJsonOutput<{ leftovers: string[] }>((await cli(['status', '--json'])).stdout).leftovers).toEqual([]);
  });
});
