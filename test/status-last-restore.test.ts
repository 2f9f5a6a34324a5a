import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { StatusReport } from '../src/engine/status.js';
import { uiContext } from '../src/ui/app.js';
import { headerModel } from '../src/ui/components/Header.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { collect, describeResult, parseJsonOutput, runCli, startCli, waitFor } from './helpers/cli.js';
import { useBigDb, useBigSet } from './helpers/big-db.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

/**
 * `status` says how the last restore of each database ended (from the daily log), so that an operator whose SSH
 * session dropped under a restore need not read the log: completed, interrupted by a hang-up, killed outright.
 */
const bigDb = useBigDb(200);
const bigWithASet = useBigSet(bigDb);

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const restoreStaging = (s: DemoSetup) => readdirSync(s.dataDir).filter((n) => n.includes('.respaldo-restore-'));

async function status(s: DemoSetup): Promise<{ text: string; json: StatusReport }> {
  const text = await runCli(['status', '--config', s.configFile], { cwd: s.dir });
  expect(text.code, describeResult(text)).toBe(0);
  const json = await runCli(['status', '--json', '--config', s.configFile], { cwd: s.dir });
  expect(json.code, describeResult(json)).toBe(0);
  return { text: text.stdout, json: parseJsonOutput<StatusReport>(json.stdout) };
}

/** A set of the demo databases, and users restored from it side by side (`to`). */
async function restoredBeside(): Promise<{ s: DemoSetup; id: string; to: string }> {
  const s = demoSetup();
  const made = await runCli(['create', '--no-files', '--json', '--config', s.configFile], { cwd: s.dir });
  expect(made.code, describeResult(made)).toBe(0);
  const id = parseJsonOutput<{ id: string }>(made.stdout).id;
  const to = join(s.dir, 'users-copy.db');
  const restored = await runCli(['restore', id, '--db', 'users', '--to', to, '--yes', '--config', s.configFile], {
    cwd: s.dir,
  });
  expect(restored.code, describeResult(restored)).toBe(0);
  return { s, id, to };
}

const minute = /\d{4}-\d{2}-\d{2} \d{2}:\d{2}/.source;

describe('status: the last restore of each database', () => {
  it('a completed restore (side by side): completed, when, from which set, where to; none for the others', async () => {
    const { s, id, to } = await restoredBeside();
    const { text, json } = await status(s);
    expect(text).toMatch(new RegExp(`Last restores:\\n  users: completed ${minute} from set ${id}, to `));
    expect(text).not.toMatch(/ {2}inventario: /);
    expect(json.lastRestores).toEqual([
      expect.objectContaining({ database: 'users', setId: id, outcome: 'completed', to, reached: true }),
    ]);
  });

  it('a drill afterwards is no restore of the database: status still names the restore', async () => {
    const { s, id, to } = await restoredBeside();
    const drilled = await runCli(['drill', id, '--db', 'users', '--config', s.configFile], { cwd: s.dir });
    expect(drilled.code, describeResult(drilled)).toBe(0);
    const { text, json } = await status(s);
    expect(text).toMatch(new RegExp(`Last restores:\\n  users: completed ${minute} from set ${id}, to ${to}\\n`));
    expect(text).not.toMatch(/tmp-drill/);
    expect(json.lastRestores).toEqual([
      expect.objectContaining({ database: 'users', setId: id, outcome: 'completed', to, reached: true }),
    ]);
    // A log written before a drill's restore said so (no `drill` in its restore-start): told by its drill-start.
    const logs = join(s.backupDir, 'logs');
    for (const name of readdirSync(logs)) {
      const file = join(logs, name);
      writeFileSync(file, readFileSync(file, 'utf8').replaceAll(',"drill":true', ''));
    }
    expect(readdirSync(logs).some((n) => readFileSync(join(logs, n), 'utf8').includes('"drill-start"'))).toBe(true);
    expect((await status(s)).json.lastRestores).toEqual([expect.objectContaining({ database: 'users', to })]);
  });

  it('a restore in place stopped by a hang-up, then one killed outright (SIGKILL): each said, and its target', async () => {
    const { s, live, set } = await bigWithASet();
    const hash = sha256(live);
    // SIGHUP (the SSH session dropped) while it writes its staging copy: it stops, the live database as it was
    const hungUp = startCli(['restore', set.id, '--yes', '--config', s.configFile], { cwd: s.dir });
    const hungUpEnd = collect(hungUp);
    await waitFor(() => restoreStaging(s).length > 0, 'the restore to write its staging file', 120_000, 5);
    hungUp.kill('SIGHUP');
    const r = await hungUpEnd;
    expect(r.code, describeResult(r)).toBe(130);
    expect(sha256(live)).toBe(hash);
    const after = await status(s);
    expect(after.text).toMatch(
      new RegExp(
        `  big: INTERRUPTED ${minute} \\(hang-up: the terminal closed\\) while restoring it from set ${set.id}; ` +
          'the live database was left as it was',
      ),
    );
    expect(after.json.lastRestores).toEqual([
      expect.objectContaining({ database: 'big', outcome: 'interrupted', signal: 'SIGHUP', reached: true }),
    ]);

    // SIGKILL at the same point: no end is logged; status says it was killed, not that it runs or ended well
    const killed = startCli(['restore', set.id, '--yes', '--config', s.configFile], { cwd: s.dir });
    const killedEnd = collect(killed);
    await waitFor(() => restoreStaging(s).length > 0, 'the second restore to write its staging file', 120_000, 5);
    killed.kill('SIGKILL');
    expect((await killedEnd).signal).toBe('SIGKILL');
    const dead = await status(s);
    expect(dead.text).toMatch(
      new RegExp(
        `  big: KILLED: started ${minute} from set ${set.id} \\(pid ${killed.pid}\\), no end logged .*the live ` +
          'database may hold what it left',
      ),
    );
    expect(dead.json.lastRestores).toEqual([
      expect.objectContaining({ database: 'big', outcome: 'killed', pid: killed.pid }),
    ]);
    // The menu's header says the same: killed (it said "interrupted: no change", from the earlier run's end).
    const facade = createEngineFacade(await loadConfig({ configPath: s.configFile }));
    const header = await facade.status();
    for (const [lang, said] of [
      ['en', `WARNING: restore of ${set.id} KILLED `],
      ['es', `AVISO: restauración ${set.id} MATADA `],
    ] as const) {
      const ui = uiContext(facade, { TERM: 'xterm-256color', LANG: 'C.UTF-8' }, lang);
      const warnings = headerModel(facade.config(), { state: 'done', value: header }, ui, new Date(), 80).warnings;
      expect(warnings.filter((w) => w.includes(set.id))).toEqual([expect.stringContaining(said)]);
    }
  });
});
