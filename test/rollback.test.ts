/**
 * Rolling back an in-place PostgreSQL restore with the command the CLI prints (`respaldo restore
 * <pre_restore set> --db NAME --yes`), on a real throwaway cluster through the built CLI; the
 * rollback of the rollback; the in-use refusal; and the same rollback through the menu's facade.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { silentReporter } from '../src/core/events.js';
import { EXIT } from '../src/core/exit-codes.js';
import { SWAP_JOURNAL_PREFIX } from '../src/engine/restore.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { pgCli, plainDump, type SyncCliResult, writePgConfig } from './helpers/pg-cli.js';

const available = pgAvailable();
const ROOT = resolve(__dirname, '..');
const PASSWORD = `rb-${Math.random().toString(36).slice(2, 10)}`;

let cluster: PgCluster;
let work: string;
let configFile: string;

function cli(args: string[]): SyncCliResult {
  return pgCli(configFile, PASSWORD, args, { cwd: work });
}

function dump(database: string): string {
  return plainDump(cluster, database);
}

/** The command of the "To roll back:" line a restore printed, as argv (without `respaldo`). */
function rollbackCommand(stdout: string): string[] {
  const m = /To roll back: respaldo (restore \S+ --db \S+ --yes)/.exec(stdout);
  if (!m) throw new Error(`no rollback command in:\n${stdout}`);
  return m[1]!.split(' ');
}

/** Ids of the sets of `type` holding database `db`. */
function setIds(type: string, db: string): string[] {
  const list = cli(['list', '--json']).json as { id: string; type: string; databases: string[] }[];
  return list.filter((s) => s.type === type && s.databases.includes(db)).map((s) => s.id);
}

describe.skipIf(!available)('rollback of an in-place PostgreSQL restore', () => {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js')))
      throw new Error('dist/ is missing: run `npx tsc -p tsconfig.json` first.');
    work = mkdtempSync(join(tmpdir(), 'respaldo-rollback-'));
    cluster = await startPgCluster({ password: PASSWORD });
    configFile = writePgConfig(cluster, work, ['tienda', 'corte', 'menu', 'cortado']);
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('restore in place, roll back with the printed command, then roll the rollback back', async () => {
    cluster.createDatabase('tienda');
    cluster.psql(
      `CREATE TABLE item (id int PRIMARY KEY, name text); INSERT INTO item SELECT g, 'v1-' || g FROM generate_series(1, 500) g;`,
      'tienda',
    );
    const created = cli(['create', '--db', 'tienda', '--no-files', '--json']);
    expect(created.code, created.stderr).toBe(EXIT.ok);
    const backupId = created.json.id as string;
    const atBackup = dump('tienda');

    cluster.psql(
      `DELETE FROM item WHERE id > 100; INSERT INTO item VALUES (9999, 'after the backup'); CREATE TABLE extra (x int);`,
      'tienda',
    );
    const beforeRestore = dump('tienda');
    expect(beforeRestore).not.toBe(atBackup);

    const restored = cli(['restore', backupId, '--db', 'tienda', '--yes']);
    expect(restored.code, restored.stderr + restored.stdout).toBe(EXIT.ok);
    expect(dump('tienda')).toBe(atBackup);
    const [preRestore] = setIds('pre_restore', 'tienda');
    expect(preRestore).toBeDefined();
    const rollback = rollbackCommand(restored.stdout);
    expect(rollback).toEqual(['restore', preRestore, '--db', 'tienda', '--yes']);

    // The plan says it is a rollback and what it keeps.
    const dry = cli([...rollback.filter((a) => a !== '--yes'), '--dry-run', '--json']);
    expect(dry.code, dry.stderr + dry.stdout).toBe(EXIT.ok);
    expect(dry.json.databases[0]).toMatchObject({
      replaces: true,
      swapsBack: `tienda__pre_restore_${backupId}`,
      safety: { kind: 'renamed-database', name: `tienda__pre_restore_${preRestore}` },
      estimateSource: 'kept-database',
    });
    expect(dry.json.refusals).toEqual([]);
    expect(cli([...rollback.filter((a) => a !== '--yes'), '--dry-run']).stdout).toMatch(
      /rolls back: the kept database tienda__pre_restore_/,
    );

    // A session on the live database refuses the rollback unless --terminate-connections.
    const holder = await cluster.client('tienda');
    try {
      const refused = cli(rollback);
      expect(refused.code, refused.stderr + refused.stdout).toBe(EXIT.refused);
      expect(refused.stderr + refused.stdout).toMatch(/terminate-connections/);
      expect(dump('tienda')).toBe(atBackup);
    } finally {
      await holder.end().catch(() => undefined);
    }

    const rolledBack = cli(rollback);
    expect(rolledBack.code, rolledBack.stderr + rolledBack.stdout).toBe(EXIT.ok);
    expect(dump('tienda')).toBe(beforeRestore);
    expect(dump(`tienda__pre_restore_${preRestore}`)).toBe(atBackup);
    expect(cluster.databases()).not.toContain(`tienda__pre_restore_${backupId}`);
    expect(cluster.databases().filter((n) => n.includes('__restore_'))).toEqual([]);
    // The used pre_restore set is gone (its database is live again); a new one lists the replaced database.
    const safetySets = setIds('pre_restore', 'tienda');
    expect(safetySets).not.toContain(preRestore);
    expect(safetySets).toHaveLength(1);
    const again = rollbackCommand(rolledBack.stdout);
    expect(again).toEqual(['restore', safetySets[0], '--db', 'tienda', '--yes']);
    expect(cli(['show', safetySets[0]!, '--json']).json.databases[0]).toMatchObject({
      safetyDatabase: `tienda__pre_restore_${preRestore}`,
      file: null,
    });

    // Rolling back the rollback puts the restored data back.
    const redo = cli(again);
    expect(redo.code, redo.stderr + redo.stdout).toBe(EXIT.ok);
    expect(dump('tienda')).toBe(atBackup);
    const last = setIds('pre_restore', 'tienda');
    expect(last).toHaveLength(1);
    // Named after the set it came from (as every safety copy): the replaced database of restoring `again`.
    expect(dump(`tienda__pre_restore_${again[1]}`)).toBe(beforeRestore);
    expect(cli(['show', last[0]!, '--json']).json.databases[0]).toMatchObject({
      safetyDatabase: `tienda__pre_restore_${again[1]}`,
    });

    // The same set cannot be used twice: its safety copy is live now.
    const twice = cli(again);
    expect(twice.code).not.toBe(EXIT.ok);
    expect(dump('tienda')).toBe(atBackup);
  });

  test('a rollback killed between its swap and its sets is finished by the next create', () => {
    cluster.createDatabase('corte');
    cluster.psql(`CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 30);`, 'corte');
    const created = cli(['create', '--db', 'corte', '--no-files', '--json']);
    expect(created.code, created.stderr).toBe(EXIT.ok);
    cluster.psql(`INSERT INTO t VALUES (31);`, 'corte');
    const before = dump('corte');
    const restored = cli(['restore', created.json.id, '--db', 'corte', '--yes']);
    expect(restored.code, restored.stderr + restored.stdout).toBe(EXIT.ok);
    const [, p] = rollbackCommand(restored.stdout);
    const show = cli(['show', p!, '--json']).json;
    // What a rollback killed right after its swap leaves: the databases swapped, the journal, no new set.
    const kept = `corte__pre_restore_${created.json.id}`;
    const newSafety = `corte__pre_restore_${p}`;
    cluster.psql(
      `BEGIN; ALTER DATABASE corte RENAME TO "${newSafety}"; ALTER DATABASE "${kept}" RENAME TO corte; COMMIT;`,
    );
    const entry = { ...show.databases[0], safetyDatabase: newSafety };
    const journal = { setId: p, entries: [{ database: 'corte', kept, newSafety, entry }] };
    writeFileSync(join(work, 'backups', `${SWAP_JOURNAL_PREFIX}${p}.json`), JSON.stringify(journal));
    const setsBefore = setIds('pre_restore', 'corte');

    const next = cli(['create', '--db', 'corte', '--no-files']);
    expect(next.code, next.stderr + next.stdout).toBe(EXIT.ok);
    expect(next.stderr).toMatch(/finished a rollback cut short/);
    expect(dump('corte')).toBe(before);
    const after = setIds('pre_restore', 'corte');
    expect(after).not.toContain(p); // the used set no longer lists the live database
    const fresh = after.filter((id) => !setsBefore.includes(id));
    expect(fresh).toHaveLength(1);
    expect(cli(['show', fresh[0]!, '--json']).json.databases[0]).toMatchObject({ safetyDatabase: newSafety });
    expect(existsSync(join(work, 'backups', `${SWAP_JOURNAL_PREFIX}${p}.json`))).toBe(false);
  });

  test('an in-place restore killed between its swap and its pre_restore set: the next create lists the safety copy', () => {
    cluster.createDatabase('cortado');
    cluster.psql(`CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 20);`, 'cortado');
    const created = cli(['create', '--db', 'cortado', '--no-files', '--json']);
    expect(created.code, created.stderr).toBe(EXIT.ok);
    const id = created.json.id as string;
    // a whole restore leaves no journal behind
    const whole = cli(['restore', id, '--db', 'cortado', '--yes']);
    expect(whole.code, whole.stderr + whole.stdout).toBe(EXIT.ok);
    expect(existsSync(join(work, 'backups', `${SWAP_JOURNAL_PREFIX}${id}.json`))).toBe(false);
    const listedBefore = setIds('pre_restore', 'cortado');
    expect(listedBefore).toHaveLength(1);
    // Restored in place again, killed right after its swap: the live database renamed to its round-2 safety name,
    // the restored copy live, the journal written before the swap, and no pre_restore set yet.
    const safety = `cortado__pre_restore_${id}__2`;
    const before = dump('cortado');
    cluster.psql(`ALTER DATABASE cortado RENAME TO "${safety}"`);
    cluster.createDatabase('cortado');
    const entry = { ...cli(['show', id, '--json']).json.databases[0], safetyDatabase: safety };
    const journal = { setId: id, entries: [{ kind: 'swap', database: 'cortado', kept: '', newSafety: safety, entry }] };
    writeFileSync(join(work, 'backups', `${SWAP_JOURNAL_PREFIX}${id}.json`), JSON.stringify(journal));

    const next = cli(['create', '--db', 'cortado', '--no-files']);
    expect(next.code, next.stderr + next.stdout).toBe(EXIT.ok);
    expect(next.stderr).toContain(`listed "${safety}" in pre_restore set`);
    const fresh = setIds('pre_restore', 'cortado').filter((x) => !listedBefore.includes(x));
    expect(fresh).toHaveLength(1);
    expect(cli(['show', fresh[0]!, '--json']).json.databases[0]).toMatchObject({ safetyDatabase: safety });
    expect(dump(safety)).toBe(before);
    expect(existsSync(join(work, 'backups', `${SWAP_JOURNAL_PREFIX}${id}.json`))).toBe(false);
    // run again: listed once, not twice
    expect(cli(['create', '--db', 'cortado', '--no-files']).stderr).not.toContain('listed');
    expect(setIds('pre_restore', 'cortado')).toHaveLength(2);
  });

  test('the menu (engine facade) restores a pre_restore set: the rollback through planRestore/executeRestore', async () => {
    cluster.createDatabase('menu');
    cluster.psql(`CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 50);`, 'menu');
    process.env['DB_PASSWORD'] = PASSWORD;
    const facade = createEngineFacade(await loadConfig({ configPath: configFile }));
    const m = await facade.createBackup({ databases: ['menu'], type: 'full', files: false }, silentReporter);
    cluster.psql(`INSERT INTO t VALUES (777);`, 'menu');
    const before = dump('menu');
    const plan = await facade.planRestore({ setId: m.id, databases: ['menu'], files: false });
    const outcome = await facade.executeRestore(plan, silentReporter);
    expect(outcome.ok).toBe(true);
    const safetyId = outcome.safetySetIds[outcome.safetySetIds.length - 1]!;

    const rollbackPlan = await facade.planRestore({ setId: safetyId, databases: ['menu'], files: false });
    expect(rollbackPlan.refusals).toEqual([]);
    expect(rollbackPlan.databases[0]).toMatchObject({ swapsBack: `menu__pre_restore_${m.id}`, replaces: true });
    expect(rollbackPlan.databases[0]!.stepPhrases?.length).toBeGreaterThan(0);
    const rolled = await facade.executeRestore(rollbackPlan, silentReporter);
    expect(rolled.ok).toBe(true);
    expect(dump('menu')).toBe(before);
  });
});
