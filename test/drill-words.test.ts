/**
 * A real drill's checks in the operator's language: respaldo's own words (stored files, restore, row
 * counts, extracted files) come with phrases the menu says in Spanish; the tools' words (integrity_check)
 * stay as they are; the CLI's JSON keeps the English words only.
 */
import { chmodSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { silentReporter, type ProgressEvent } from '../src/core/events.js';
import type { Manifest } from '../src/core/types.js';
import { runDrill } from '../src/engine/drill.js';
import { verifySet } from '../src/engine/verify.js';
import { catalogue, say } from '../src/ui/i18n/index.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { drillOutcomeRows } from '../src/ui/screens/DrillScreen.js';
import { manifestLines } from '../src/ui/screens/SetDetailsScreen.js';
import { outcomeRows } from '../src/ui/screens/restore-rows.js';
import { createTheme } from '../src/ui/theme.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

describe('drill checks in the menu language', () => {
  it('a real drill of databases and files reads in Spanish; its JSON stays English', async () => {
    const s = demoSetup();
    const made = await runCli(['create', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const cfg = await loadConfig({ configPath: s.configFile });
    const outcome = await runDrill(cfg, 'latest', { files: true }, silentReporter);
    expect(outcome.ok).toBe(true);
    const theme = createTheme({ LANG: 'es_ES.UTF-8' });
    const rows = drillOutcomeRows(outcome, { t: catalogue('es'), theme, lang: 'es' }, 200);
    const text = rows.map((r) => r.map((seg) => seg.text).join('')).join('\n');
    expect(text).toContain('✓ los archivos guardados coinciden con el manifiesto');
    expect(text).toMatch(/✓ restauración: en \S+users/);
    expect(text).toMatch(/✓ filas por tabla contra el manifiesto: \d+ tabla\(s\)/);
    expect(text).toMatch(/✓ extraídos: \d+ entrada\(s\)/);
    expect(text).toContain('✓ los tamaños extraídos coinciden con el manifiesto');
    expect(text).toContain('✓ integrity_check: ok');
    expect(text).not.toMatch(/stored files|row counts|table\(s\)|extracted|into /);

    const json = await runCli(['drill', 'latest', '--db', 'users', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(json.code, describeResult(json)).toBe(0);
    const out = parseJsonOutput<{ results: { checks: Record<string, unknown>[] }[] }>(json.stdout);
    const checks = out.results[0]!.checks;
    expect(checks.map((c) => c['name'])).toContain('stored files match the manifest');
    expect(checks.some((c) => 'phrases' in c)).toBe(false);
  });

  it('a set whose stored file is damaged: its drill, a restore of it and its details say why in Spanish', async () => {
    const s = demoSetup();
    const made = await runCli(['create', '--db', 'users', '--no-files', '--json', '--config', s.configFile], {
      cwd: s.dir,
    });
    expect(made.code, describeResult(made)).toBe(0);
    const id = parseJsonOutput<{ id: string }>(made.stdout).id;
    const stored = join(s.backupDir, id, 'databases', readdirSync(join(s.backupDir, id, 'databases'))[0]!);
    const bytes = readFileSync(stored);
    bytes[200] = bytes[200]! ^ 0xff;
    chmodSync(stored, 0o600);
    writeFileSync(stored, bytes);

    const cfg = await loadConfig({ configPath: s.configFile });
    const drillEvents: ProgressEvent[] = [];
    const outcome = await runDrill(cfg, id, {}, { emit: (e) => void drillEvents.push(e) });
    expect(outcome.ok).toBe(false);
    // the lines under the database's bar while the drill runs
    const failedBar = drillEvents.find((e) => e.type === 'item-end' && e.item === 'users' && !e.ok);
    expect(failedBar?.type === 'item-end' && say('es', failedBar.errorPhrase, failedBar.error ?? '')).toContain(
      `La copia ${id} no pasó la verificación`,
    );
    expect(failedBar?.type === 'item-end' && say('es', failedBar.hintPhrase, failedBar.hint ?? '')).toMatch(
      /^Restaure desde otra copia/,
    );
    const theme = createTheme({ LANG: 'es_ES.UTF-8' });
    const rows = drillOutcomeRows(outcome, { t: catalogue('es'), theme, lang: 'es' }, 200);
    const text = rows.map((r) => r.map((seg) => seg.text).join('')).join('\n');
    expect(text).toMatch(
      new RegExp(`✗ los archivos guardados coinciden con el manifiesto: La copia ${id} no pasó la verificación`),
    );
    expect(text.replace(/\n\s+/g, ' ')).toContain('.sqlite.zst: el md5 no coincide (contenido cambiado)');
    expect(text).not.toMatch(/failed verification|nothing was restored|mismatch/);

    // The set's details read the drill back from drilled.json, as the menu reads it: its hint in Spanish too.
    const m = JSON.parse(readFileSync(join(s.backupDir, id, 'manifest.json'), 'utf8')) as Manifest;
    const facade = createEngineFacade(cfg);
    const record = await facade.readDrills(id);
    // The menu's restore of that set, checked as it is read: why and what to do in Spanish.
    const plan = await facade.planRestore({ setId: id, databases: ['users'], files: false });
    const events: ProgressEvent[] = [];
    const restored = await facade.executeRestore(plan, { emit: (e) => void events.push(e) });
    expect(restored.ok).toBe(false);
    // the lines under the item's bar too
    const end = events.find((e) => e.type === 'item-end' && e.item === 'users' && !e.ok);
    expect(end?.type === 'item-end' && say('es', end.errorPhrase, end.error ?? '')).toMatch(
      /no coincide con su manifiesto/,
    );
    expect(end?.type === 'item-end' && say('es', end.hintPhrase, end.hint ?? '')).toMatch(/^Restaure desde otra copia/);
    const outcome2 = outcomeRows(restored, plan, { t: catalogue('es'), theme, lang: 'es' }, 200)
      .map((r) => r.map((seg) => seg.text).join(''))
      .join(' ')
      .replace(/\s+/g, ' ');
    expect(outcome2).toMatch(/FALLÓ users: Copia \d+_\d+: \S+ no coincide con su manifiesto \(sha256\)/);
    expect(outcome2).toContain(
      'Qué hacer: Restaure desde otra copia (`respaldo list`), o desde una copia en un destino',
    );
    expect(outcome2).not.toMatch(/does not match|Restore from another set|nothing was restored/);

    const verified = await verifySet(cfg, id, silentReporter);
    const details = manifestLines(m, { t: catalogue('es'), theme, lang: 'es' }, verified, null, null, record)
      .map((l) => l.text)
      .join('\n');
    expect(details).toContain('Qué hacer: Restaure desde otra copia');
    expect(details).toContain('FALLÓ: el md5 no coincide (contenido cambiado)'); // v: the file that failed, and why
    expect(details).not.toMatch(/Restore from another set|failed verification|mismatch/);
  });

  it("a files drill that finds a stored file damaged says so and what to do in Spanish; the CLI's English is the same", async () => {
    const s = demoSetup();
    const made = await runCli(['create', '--db', 'users', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const m = parseJsonOutput<Manifest>(made.stdout);
    const file = join(s.backupDir, m.id, m.files.find((f) => f.stored)!.stored!);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
    chmodSync(file, 0o600);
    writeFileSync(file, bytes);
    const cfg = await loadConfig({ configPath: s.configFile });
    const outcome = await runDrill(cfg, m.id, { files: true, filesOnly: true }, silentReporter);
    expect(outcome.ok).toBe(false);
    const files = outcome.results.find((r) => r.database === 'files')!;
    expect(files.error).toBe(`Set ${m.id}: 1 stored file(s) do not match the manifest.`);
    expect(files.hint).toBe('Do not restore files from this set; use another set.');
    const theme = createTheme({ LANG: 'es_ES.UTF-8' });
    const text = drillOutcomeRows(outcome, { t: catalogue('es'), theme, lang: 'es' }, 200)
      .map((r) => r.map((seg) => seg.text).join(''))
      .join('\n');
    expect(text).toContain(`Copia ${m.id}: 1 archivo(s) guardado(s) no coinciden con el manifiesto.`);
    expect(text).toContain('No restaure archivos de esta copia; use otra copia.');
    expect(text).not.toMatch(/do not match|another set/);
  });

  it('a drill failed by row counts that differ from the manifest says why and what to do in Spanish; JSON stays English', async () => {
    const s = demoSetup();
    const made = await runCli(['create', '--db', 'users', '--no-files', '--json', '--config', s.configFile], {
      cwd: s.dir,
    });
    expect(made.code, describeResult(made)).toBe(0);
    const id = parseJsonOutput<{ id: string }>(made.stdout).id;
    const file = join(s.backupDir, id, 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8')) as { databases: { tables: Record<string, number> }[] };
    m.databases[0]!.tables['roles'] = m.databases[0]!.tables['roles']! + 1; // counts are not hashed: a hand edit
    writeFileSync(file, JSON.stringify(m, null, 2));

    const cfg = await loadConfig({ configPath: s.configFile });
    const outcome = await runDrill(cfg, id, {}, silentReporter);
    expect(outcome.ok).toBe(false);
    const theme = createTheme({ LANG: 'es_ES.UTF-8' });
    const rows = drillOutcomeRows(outcome, { t: catalogue('es'), theme, lang: 'es' }, 200);
    const text = rows.map((r) => r.map((seg) => seg.text).join('')).join('\n');
    expect(text).toMatch(
      /✗ restauración: La copia restaurada de users no coincide con la copia de seguridad \(roles: 4 filas, se esperaban 5\)\./,
    );
    expect(text).toContain('Qué hacer: No se ha tocado el destino. Pruebe con otra copia.');
    expect(text).not.toMatch(/does not match|rows, expected|Try another set|was not touched/);

    const json = await runCli(['drill', id, '--json', '--config', s.configFile], { cwd: s.dir });
    expect(json.code, describeResult(json)).toBe(11);
    const out = parseJsonOutput<{ results: Record<string, unknown>[] }>(json.stdout);
    expect(out.results[0]!['error']).toBe(
      'The restored copy of users does not match the backup (roles: 4 rows, expected 5).',
    );
    expect(out.results[0]!['hint']).toMatch(/^The target was not touched\. Try another set\./);
    expect('phrases' in out.results[0]!).toBe(false);

    // The menu's restore of that set says it in Spanish too (the engine's outcome, drawn as the menu draws it).
    const facade = createEngineFacade(cfg);
    const plan = await facade.planRestore({ setId: id, databases: ['users'], files: false, to: join(s.dir, 'u.db') });
    const restored = await facade.executeRestore(plan, silentReporter);
    expect(restored.ok).toBe(false);
    const said = outcomeRows(restored, plan, { t: catalogue('es'), theme, lang: 'es' }, 200)
      .map((r) => r.map((seg) => seg.text).join(''))
      .join('\n');
    expect(said).toContain('users: La copia restaurada de users no coincide con la copia de seguridad');
    expect(said).toContain('Qué hacer: No se ha tocado el destino.');
    expect(said).not.toMatch(/does not match|Try another set/);
    const cliRestore = await runCli(
      ['restore', id, '--db', 'users', '--to', join(s.dir, 'v.db'), '--yes', '--json', '--config', s.configFile],
      { cwd: s.dir },
    );
    expect(cliRestore.stdout).toContain('does not match the backup');
    expect(cliRestore.stdout).not.toContain('phrases');
  });
});
