/**
 * A PostgreSQL restore whose restored row counts differ from the manifest's (a manifest.json edited by hand) fails
 * before the swap; the menu's outcome says why and what to do in the menu's language, as it does for SQLite. On a
 * real throwaway cluster through the menu's engine facade.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { silentReporter } from '../src/core/events.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { catalogue } from '../src/ui/i18n/index.js';
import { outcomeRows } from '../src/ui/screens/restore-rows.js';
import { createTheme } from '../src/ui/theme.js';
import { pgAvailable, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { writePgConfig } from './helpers/pg-cli.js';

const PASSWORD = `pc-${Math.random().toString(36).slice(2, 10)}`;
let cluster: PgCluster;
let work: string;
let configFile: string;

describe.skipIf(!pgAvailable())('PostgreSQL row counts unlike the manifest, in the menu', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'respaldo-pg-counts-'));
    cluster = await startPgCluster({ password: PASSWORD });
    configFile = writePgConfig(cluster, work, ['cuentas']);
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the restore outcome says the mismatch and the hint in Spanish; the English stays for the CLI', async () => {
    cluster.createDatabase('cuentas');
    cluster.psql(`CREATE TABLE movimiento (id int); INSERT INTO movimiento SELECT generate_series(1, 40);`, 'cuentas');
    process.env['DB_PASSWORD'] = PASSWORD;
    const cfg = await loadConfig({ configPath: configFile });
    const facade = createEngineFacade(cfg);
    const m = await facade.createBackup({ databases: ['cuentas'], type: 'full', files: false }, silentReporter);
    expect(m.status).toBe('completed');
    const file = join(cfg.backupDir, m.id, 'manifest.json');
    const edited = JSON.parse(readFileSync(file, 'utf8')) as { databases: { tables: Record<string, number> }[] };
    expect(edited.databases[0]!.tables['public.movimiento']).toBe(40);
    edited.databases[0]!.tables['public.movimiento'] = 41; // counts are not hashed: a hand edit
    writeFileSync(file, JSON.stringify(edited, null, 2));

    const plan = await facade.planRestore({ setId: m.id, databases: ['cuentas'], files: false, to: 'cuentas_copia' });
    expect(plan.refusals).toEqual([]);
    const outcome = await facade.executeRestore(plan, silentReporter);
    expect(outcome.ok).toBe(false);
    const failed = outcome.databases.find((d) => d.name === 'cuentas')!;
    expect(failed.error).toContain(
      'Database cuentas: the restored copy does not match the backup (public.movimiento: 40 rows, expected 41).',
    );
    expect(failed.hint).toMatch(/^Nothing was replaced\. Verify the set \(respaldo verify\)/);

    const theme = createTheme({ LANG: 'es_ES.UTF-8' });
    const said = outcomeRows(outcome, plan, { t: catalogue('es'), theme, lang: 'es' }, 200)
      .map((r) => r.map((seg) => seg.text).join(''))
      .join('\n');
    expect(said).toContain(
      'cuentas: Base cuentas: la copia restaurada no coincide con la copia de seguridad (public.movimiento: 40 filas, se esperaban 41).',
    );
    expect(said).toContain('Qué hacer: No se ha sustituido nada. Verifique la copia (respaldo verify)');
    expect(said).not.toMatch(/does not match|rows, expected|Nothing was replaced/);
  });
});
