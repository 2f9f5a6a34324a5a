/**
 * A real drill's checks in the operator's language: respaldo's own words (stored files, restore, row
 * counts, extracted files) come with phrases the menu says in Spanish; the tools' words (integrity_check)
 * stay as they are; the CLI's JSON keeps the English words only.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { silentReporter } from '../src/core/events.js';
import { runDrill } from '../src/engine/drill.js';
import { catalogue } from '../src/ui/i18n/index.js';
import { drillOutcomeRows } from '../src/ui/screens/DrillScreen.js';
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
});
