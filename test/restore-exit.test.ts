import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { restoreExit } from '../src/cli/commands/restore.js';
import { silentReporter } from '../src/core/events.js';
import { EXIT } from '../src/core/exit-codes.js';
import { loadConfig } from '../src/config/load.js';
import { createBackup } from '../src/engine/create.js';
import { executeRestore, planRestore, type RestoreOutcome } from '../src/engine/restore.js';
import type { Manifest } from '../src/core/types.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

function setConfig(s: DemoSetup, patch: Record<string, unknown>): void {
  const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(s.configFile, JSON.stringify({ ...doc, ...patch }, null, 2));
}

/** A restore's exit code says what stopped it, also when the driver refuses once the restore is under way. */

const outcome = (...dbs: RestoreOutcome['databases']): RestoreOutcome => ({
  setId: '20261203_120000',
  ok: dbs.every((d) => d.ok),
  safetySetIds: [],
  removedSafetySetIds: [],
  databases: dbs,
  filesRestoredTo: null,
  recovered: [],
});

describe('the exit code of a restore that ran', () => {
  it.each([
    ['every database restored', [{ name: 'a', ok: true }], EXIT.ok],
    ['refused while it ran (a session connected meanwhile)', [{ name: 'a', ok: false, errorKind: 'refused' }], 9],
    ['bad input found by the driver (a target name too long)', [{ name: 'a', ok: false, errorKind: 'usage' }], 2],
    ['a failure', [{ name: 'a', ok: false, errorKind: 'failed' }], 7],
    ['no kind recorded (an older outcome)', [{ name: 'a', ok: false }], 7],
    [
      'a refusal and a failure: the failure',
      [
        { name: 'a', ok: false, errorKind: 'refused' },
        { name: 'b', ok: false, errorKind: 'failed' },
      ],
      7,
    ],
    [
      'damage before anything else',
      [
        { name: 'a', ok: false, errorKind: 'refused' },
        { name: 'b', ok: false, damaged: true, errorKind: 'verifyFailed' },
      ],
      5,
    ],
    [
      'one restored, one refused: partial, something was changed',
      [
        { name: 'a', ok: true },
        { name: 'b', ok: false, errorKind: 'refused' },
      ],
      4,
    ],
    [
      'one restored, one failed',
      [
        { name: 'a', ok: true },
        { name: 'b', ok: false, errorKind: 'failed' },
      ],
      4,
    ],
  ] as [string, RestoreOutcome['databases'], number][])('%s → %i', (_what, dbs, code) => {
    expect(restoreExit(outcome(...dbs))).toBe(code);
  });

  it('a target that appeared after the plan: the driver refuses, the outcome says refused (exit 9), the file untouched', async () => {
    const s = demoSetup();
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg, { databases: ['users'], files: false }, silentReporter);
    const to = join(s.dir, 'copy.db');
    const plan = await planRestore(cfg, m.id, { databases: ['users'], to });
    expect(plan.refusals).toEqual([]);
    writeFileSync(to, 'made meanwhile');
    const out = await executeRestore(cfg, plan, silentReporter);
    expect(out.databases[0]).toMatchObject({ name: 'users', ok: false, errorKind: 'refused' });
    expect(restoreExit(out)).toBe(EXIT.refused);
    expect(readFileSync(to, 'utf8')).toBe('made meanwhile');
  });

  it.each([
    ['its set damaged', 'damaged', /failed verification/],
    ['a wrong passphrase', 'passphrase', /Wrong passphrase: it does not open set/],
  ])('a restore refused before anything was touched (%s) is logged once, as refused', async (_what, how, said) => {
    const s = demoSetup();
    const words = join(s.dir, 'backups.pass');
    writeFileSync(words, 'the right words\n', { mode: 0o600 });
    if (how === 'passphrase') setConfig(s, { encryption: { passphraseFile: './backups.pass' } });
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg, { databases: ['users'], files: false }, silentReporter);
    if (how === 'damaged') appendFileSync(join(s.backupDir, m.id, m.databases[0]!.file!), 'x');
    else writeFileSync(words, 'other words\n', { mode: 0o600 });
    const plan = await planRestore(cfg, m.id, { databases: ['users'] });
    await expect(executeRestore(cfg, plan, silentReporter)).rejects.toThrow(said);
    const logs = join(s.backupDir, 'logs');
    const ends = readdirSync(logs)
      .flatMap((f) => readFileSync(join(logs, f), 'utf8').split('\n'))
      .filter((l) => l.includes('"event":"restore-end"'))
      .map((l) => (JSON.parse(l) as { outcome: string }).outcome);
    expect(ends).toEqual(['refused']);
  });

  it('row counts edited by hand in a manifest: the restore is refused with a hint that says so (verify passes)', async () => {
    const s = demoSetup();
    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const m = await createBackup(cfg, { databases: ['users'], files: false }, silentReporter);
    const file = join(s.backupDir, m.id, 'manifest.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    doc.databases[0]!.tables!['users'] = 999;
    writeFileSync(file, JSON.stringify(doc, null, 2));
    const plan = await planRestore(cfg, m.id, { databases: ['users'], to: join(s.dir, 'r.db') });
    const out = await executeRestore(cfg, plan, silentReporter);
    expect(out.databases[0]!.error).toContain('does not match the backup');
    expect(out.databases[0]!.hint).toContain('the row counts its manifest.json records are not those stored');
  });
});
