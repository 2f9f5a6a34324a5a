import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { Text } from 'ink';
import { en } from '../src/ui/i18n/en.js';
import { es } from '../src/ui/i18n/es.js';
import { asciify, catalogue, detectLang } from '../src/ui/i18n/index.js';
import { colorEnabled, createTheme, localeIsUtf8 } from '../src/ui/theme.js';
import { DEFAULT_LIMIT_HOURS, promisedHours, staleDatabases } from '../src/ui/staleness.js';
import { emptyProgress, reduceProgress } from '../src/ui/use-progress.js';
import { formatAge, formatBytes, formatDuration, truncate, truncateStart } from '../src/ui/format.js';
import { scrollTop } from '../src/ui/components/Table.js';
import { bar, itemLabel } from '../src/ui/components/ProgressBar.js';
import { fitNames, setColumns, setRows } from '../src/ui/components/set-table.js';
import { describeError } from '../src/ui/components/ErrorBox.js';
import { RespaldoError } from '../src/core/errors.js';
import { nextRuns } from '../src/scheduler/when.js';
import { StatusWord } from '../src/ui/components/StatusWord.js';
import { UiRoot } from '../src/ui/UiRoot.js';
import { FakeFacade, NOW, manifestFor, summaryOf } from './ui-fake-facade.js';

function shape(v: unknown): unknown {
  if (typeof v === 'function') return 'fn';
  if (Array.isArray(v)) return v.map(shape);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .map(([k, x]) => [k, shape(x)])
        .sort(),
    );
  return typeof v;
}

describe('i18n', () => {
  it('es has exactly the keys of en', () => {
    expect(shape(es)).toEqual(shape(en));
    expect(es.confirmWord).toBe('RESTAURAR');
    expect(en.confirmWord).toBe('RESTORE');
  });

  it.each([
    [{ LANG: 'es_ES.UTF-8' }, undefined, 'es'],
    [{ LC_ALL: 'es_MX.UTF-8', LANG: 'en_US.UTF-8' }, undefined, 'es'],
    [{ LC_ALL: 'en_US.UTF-8', LANG: 'es_ES.UTF-8' }, undefined, 'en'],
    [{ LANG: 'en_US.UTF-8' }, 'es', 'es'],
    [{ LANG: 'es_ES.UTF-8' }, 'en', 'en'],
    [{}, undefined, 'en'],
  ])('detectLang(%o, %s) = %s', (env, flag, lang) => {
    expect(detectLang(env as NodeJS.ProcessEnv, flag)).toBe(lang);
  });

  it('asciify spells out arrows and drops accents', () => {
    expect(asciify('↑↓ mover · Esc volver…')).toBe('Up/Down mover | Esc volver...');
    expect(asciify('Menú principal, añadir, ¿sí?')).toBe('Menu principal, anadir, si?');
    expect(catalogue('es', false).main.items[1]).toBe('Configurar copia automatica');
    expect(catalogue('es', false).restore.typeWord('RESTAURAR')).toBe(
      'Escriba RESTAURAR y pulse Enter para seguir, o Esc para cancelar:',
    );
  });

  it('components and screens hold no text literals (every string comes from the catalogue)', () => {
    const dirs = ['src/ui/components', 'src/ui/screens'];
    const offenders: string[] = [];
    for (const dir of dirs) {
      // Recursive: the restore wizard's steps live in src/ui/screens/restore/.
      for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((x) => /\.tsx?$/.test(x))) {
        const text = readFileSync(join(dir, f), 'utf8');
        for (const m of text.matchAll(/<(?:Text|Box)\b[^>]*>([^<{]*)/g))
          if (/[A-Za-zÁÉÍÓÚáéíóúñ]/.test(m[1]!)) offenders.push(`${f}: ${m[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

describe('theme', () => {
  it('NO_COLOR turns colour off; status words stay', () => {
    expect(colorEnabled({ NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ NO_COLOR: '' })).toBe(true);
    expect(colorEnabled({})).toBe(true);
    const t = createTheme({ NO_COLOR: '1', LANG: 'en_US.UTF-8' });
    expect(Object.values(t.colors).every((c) => c === undefined)).toBe(true);
    const { lastFrame } = render(
      <UiRoot value={{ t: catalogue('en'), lang: 'en', theme: t, facade: new FakeFacade(), now: () => NOW }}>
        <StatusWord status="failed" />
        <Text> </Text>
        <StatusWord status="partial" />
      </UiRoot>,
    );
    expect(lastFrame()).toContain('FAILED');
    expect(lastFrame()).toContain('PARTIAL');
  });

  it('ASCII glyphs and borders when the locale is not UTF-8', () => {
    expect(localeIsUtf8({ LANG: 'C' })).toBe(false);
    expect(localeIsUtf8({ LANG: 'es_ES.ISO-8859-1' })).toBe(false);
    expect(localeIsUtf8({ LC_ALL: 'C', LANG: 'en_US.UTF-8' })).toBe(false);
    expect(localeIsUtf8({ LANG: 'en_US.utf8' })).toBe(true);
    const t = createTheme({ LANG: 'C' });
    expect([...Object.values(t.glyphs), ...Object.values(t.border)].join('')).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('staleness', () => {
  const nr = (when: string, tz: string | undefined, n: number, from: Date) =>
    nextRuns({ when, ...(tz ? { timezone: tz } : {}) }, n, from);
  const now = new Date('2026-11-22T12:00:00Z');
  it.each([
    ['no schedule', [], DEFAULT_LIMIT_HOURS],
    ['daily', [{ name: 'd', when: 'daily at 02:00', type: 'full' as const, databases: ['*'], files: true }], 26],
    [
      'weekly',
      [{ name: 'w', when: 'weekly on sunday at 23:30', type: 'full' as const, databases: ['*'], files: true }],
      170,
    ],
    ['hourly', [{ name: 'h', when: '0 * * * *', type: 'full' as const, databases: ['users'], files: true }], 3],
    [
      'hourly for another db',
      [{ name: 'h', when: '0 * * * *', type: 'full' as const, databases: ['inventario'], files: true }],
      DEFAULT_LIMIT_HOURS,
    ],
    [
      'verify only',
      [{ name: 'v', when: '0 * * * *', type: 'verify' as const, databases: ['*'], files: false }],
      DEFAULT_LIMIT_HOURS,
    ],
    ['weekdays', [{ name: 'wd', when: '0 2 * * 1-5', type: 'full' as const, databases: ['*'], files: true }], 74],
  ])('%s promises %d h for users', (_name, jobs, hours) => {
    expect(promisedHours('users', jobs, nr, now)).toBeCloseTo(hours, 5);
  });

  it('flags databases never backed up or older than promised', () => {
    const stale = staleDatabases(
      [
        { database: 'users', at: '2026-11-22T00:00:00Z' },
        { database: 'inventario', at: '2026-11-21T09:00:00Z' },
        { database: 'auditoria', at: null },
      ],
      [],
      nr,
      now,
    );
    expect(stale.map((s) => s.database)).toEqual(['inventario', 'auditoria']);
  });
});

describe('progress reducer', () => {
  it('folds engine events into per-item bars', () => {
    let s = emptyProgress;
    s = reduceProgress(s, { type: 'run-start', operation: 'create', items: ['users', 'files'] }, 0);
    s = reduceProgress(s, { type: 'item-start', item: 'users', kind: 'database', totalBytes: 100 }, 10);
    s = reduceProgress(s, { type: 'item-progress', item: 'users', bytes: 40 }, 20);
    expect(s.items[0]).toMatchObject({ item: 'users', state: 'running', bytes: 40, totalBytes: 100, startedAt: 10 });
    expect(s.items[1]).toMatchObject({ item: 'files', state: 'pending' });
    s = reduceProgress(
      s,
      { type: 'item-end', item: 'users', ok: false, error: 'locked', hint: 'stop the app', durationMs: 30 },
      50,
    );
    expect(s.items[0]).toMatchObject({ state: 'failed', error: 'locked', hint: 'stop the app', endedAt: 40 });
    s = reduceProgress(s, { type: 'warning', item: 'files', message: 'skipped a socket' }, 60);
    s = reduceProgress(s, { type: 'run-end', ok: false, setId: 'x', status: 'partial', durationMs: 70 }, 70);
    expect(s.warnings).toEqual(['files: skipped a socket']);
    expect(s.ended).toEqual({ ok: false, setId: 'x', status: 'partial', durationMs: 70 });
  });

  it('a new phase of an item (the restore after its safety copy) starts its bar from zero', () => {
    let s = emptyProgress;
    s = reduceProgress(s, { type: 'run-start', operation: 'restore', items: ['users'] }, 0);
    s = reduceProgress(s, { type: 'item-start', item: 'users', kind: 'database', totalBytes: 300 }, 10);
    s = reduceProgress(s, { type: 'item-progress', item: 'users', bytes: 300, percent: 100 }, 20);
    s = reduceProgress(s, { type: 'item-end', item: 'users', ok: true, bytes: 150, durationMs: 15 }, 25);
    s = reduceProgress(s, { type: 'item-start', item: 'users', kind: 'restore', totalBytes: 300 }, 30);
    s = reduceProgress(s, { type: 'item-progress', item: 'users', bytes: 25 }, 40);
    // The safety copy's 100 % and end were kept: the bar showed 100 % over "25 B/300 B", its time "-".
    expect(s.items[0]).toMatchObject({ state: 'running', bytes: 25, startedAt: 30 });
    expect(s.items[0]!.percent).toBeUndefined();
    expect(s.items[0]!.endedAt).toBeUndefined();
    expect(s.items[0]!.storedBytes).toBeUndefined();
  });
});

describe('formatting and drawing helpers', () => {
  it('formats sizes, durations, ages', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(40 * 1024 * 1024)).toBe('40 MB');
    expect(formatBytes(1000 / 1.08)).toBe('926 B'); // a rate: it printed 925.9259259259259 B
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(185_000)).toBe('3 min 05 s');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3 d 4 h');
    expect(formatAge(26 * 3_600_000)).toBe('26 h');
    expect(formatAge(72 * 3_600_000)).toBe('3 d');
    expect(truncate('inventario', 6)).toBe('inven…');
    expect(truncateStart('/srv/app/backup_config.json', 12)).toBe('…config.json');
  });

  it('keeps the selected row visible while scrolling', () => {
    expect(scrollTop(0, 300, 10)).toBe(0);
    expect(scrollTop(150, 300, 10)).toBe(145);
    expect(scrollTop(299, 300, 10)).toBe(290);
    expect(scrollTop(3, 5, 10)).toBe(0);
  });

  it('a drill age that does not fit the Drilled column loses its spaces, not its unit ("✓ 19 m…")', () => {
    const ui = { t: catalogue('es'), theme: createTheme({ LANG: 'es_ES.UTF-8' }) };
    const set = { ...summaryOf(manifestFor('20261122_100000'), new Set(), new Map()) };
    set.lastDrill = { at: new Date(NOW.getTime() - 19 * 60_000).toISOString(), ok: true, failed: [] };
    const layout = setColumns(ui.t, [set], 80, true);
    const row = setRows([set], ui, NOW, layout)[0]!;
    expect(row.at(-1)!.text).toBe('✓19min');
    expect(row.at(-1)!.text.length).toBeLessThanOrEqual(layout.drilledWidth);
  });

  it('fits database names to a column whole, counting those that do not fit', () => {
    const names = ['users', 'inventario', 'auditoria', 'files'];
    expect(fitNames(names, 40, '…')).toBe('users,inventario,auditoria,files');
    expect(fitNames(names, 24, '…')).toBe('users,inventario +2');
    expect(fitNames(names, 12, '…')).toBe('users +3');
    expect(fitNames(names, 7, '…')).toBe('use… +3');
    expect(fitNames(['inventario'], 7, '~')).toBe('invent~');
    expect(fitNames([], 7, '~')).toBe('');
  });

  it('draws bars', () => {
    expect(bar(0.5, 10, '#', '-')).toBe('#####-----');
    expect(bar(2, 4, '#', '-')).toBe('####');
  });

  it("names the files and verify items in the operator's language, a database by its own name", () => {
    const t = catalogue('es');
    expect(itemLabel({ item: 'files', kind: 'files' }, t)).toBe('archivos');
    expect(itemLabel({ item: 'files', kind: undefined }, t)).toBe('archivos');
    expect(itemLabel({ item: 'files', kind: 'restore' }, t)).toBe('archivos');
    expect(itemLabel({ item: 'verify', kind: 'verify' }, t)).toBe('verificación');
    expect(itemLabel({ item: 'files', kind: 'database' }, t)).toBe('files');
    expect(itemLabel({ item: 'users', kind: 'database' }, t)).toBe('users');
    expect(itemLabel({ item: 'verify', kind: 'verify' }, catalogue('en'))).toBe('verify');
  });

  it('describes errors as message + hint, bugs with the bug hint', () => {
    expect(describeError(new RespaldoError('failed', 'm', 'h'), 'bug')).toEqual({ message: 'm', hint: 'h' });
    expect(describeError(new RespaldoError('failed', 'm'), 'bug')).toEqual({ message: 'm', hint: '' });
    expect(describeError(new Error('boom'), 'bug')).toEqual({ message: 'boom', hint: 'bug' });
    expect(describeError('weird', 'bug')).toEqual({ message: 'weird', hint: 'bug' });
  });
});
