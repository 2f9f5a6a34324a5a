import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { UsageError } from '../src/core/errors.js';
import { Menu } from '../src/ui/Menu.js';
import { ConfigureScheduleScreen } from '../src/ui/screens/ConfigureScheduleScreen.js';
import { formToJob, formWindow, jobToForm, newJobForm } from '../src/ui/schedule-form.js';
import {
  cleanupSized,
  FakeFacade,
  KEY,
  frameProblems,
  press,
  renderSized,
  renderUi,
  type,
  waitFrame,
} from './ui-fake-facade.js';

afterEach(() => {
  cleanup();
  cleanupSized();
});

const noop = (): void => undefined;

/** Every word of `sentence` in `frame`, in order (the preview folds beside the form, so lines interleave). */
function wordsInOrder(frame: string, sentence: string): boolean {
  const words = frame.split(/\s+/);
  let at = 0;
  for (const w of sentence.split(/\s+/)) {
    while (at < words.length && words[at] !== w) at++;
    if (at++ >= words.length) return false;
  }
  return true;
}
const DBS = ['users', 'inventario', 'auditoria'];

describe('schedule form (pure)', () => {
  it.each([
    ['daily at 02:00', { frequency: 'daily', time: '02:00' }],
    ['daily at 3:05', { frequency: 'daily', time: '03:05' }],
    ['weekly on sunday at 23:30', { frequency: 'weekly', weekday: 0, time: '23:30' }],
    ['Weekly on Friday at 01:00', { frequency: 'weekly', weekday: 5, time: '01:00' }],
    ['monthly on day 1 at 00:00', { frequency: 'monthly', monthday: '1', time: '00:00' }],
    ['monthly on last day at 23:00', { frequency: 'monthly', monthday: 'last', time: '23:00' }],
    ['weekly on monday,thursday at 01:00', { frequency: 'cron', expression: 'weekly on monday,thursday at 01:00' }],
    ['hourly at :15', { frequency: 'cron', expression: 'hourly at :15' }],
    ['0 2 * * 1-5', { frequency: 'cron', expression: '0 2 * * 1-5' }],
  ])('reads %s into the editor', (when, expected) => {
    expect(jobToForm({ name: 'j', when, type: 'full', databases: ['*'], files: true }, DBS)).toMatchObject(expected);
  });

  it.each([
    'daily at 02:00',
    'weekly on sunday at 23:30',
    'monthly on day 15 at 04:10',
    'monthly on last day at 23:00',
    '*/30 * * * *',
  ])('round-trips %s', (when) => {
    const job = {
      name: 'j',
      when,
      type: 'schema' as const,
      databases: ['users'],
      files: false,
      timezone: 'Europe/Madrid',
    };
    expect(formToJob(jobToForm(job, DBS), DBS)).toEqual(job);
  });

  it('writes all databases as * and a new job has a free name', () => {
    const f = newJobForm(['daily'], DBS);
    expect(f.name).toBe('job2');
    expect(formToJob(f, DBS)).toEqual({
      name: 'job2',
      when: 'daily at 02:00',
      type: 'full',
      databases: ['*'],
      files: true,
    });
  });
});

describe('configure automatic backup screen', () => {
  it('lists the jobs with their next run and the retention', async () => {
    const { lastFrame } = renderUi(<ConfigureScheduleScreen onBack={noop} />);
    const f = await waitFrame(lastFrame, (x) => x.includes('Retention'));
    expect(f).toMatch(/daily\s+daily at 02:00\s+full\s+all\s+2026-11-2\d 02:00/);
    expect(f).toContain('keep last 3, daily 30, weekly 12, monthly 12, yearly 5');
    expect(f).toContain('s save');
  });

  it('edits a job showing the next 5 runs of what is entered, then saves it', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<ConfigureScheduleScreen onBack={noop} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Retention'));
    await press(stdin, KEY.enter);
    let f = await waitFrame(lastFrame, (x) => x.includes('Next 5 runs'));
    expect(f).toContain('daily at 02:00');
    expect(f.match(/2026-11-2\d 02:00|2026-11-2\d 0[0-9]:00/g)?.length).toBe(5);
    // frequency → weekly
    await press(stdin, KEY.down, KEY.right);
    f = await waitFrame(lastFrame, (x) => x.includes('weekly on sunday at 02:00'));
    expect(f).toMatch(/Day of week\s*: ‹ sunday ›|Day of week\s*: sunday/);
    // change the time to 23:30
    await press(stdin, KEY.down, KEY.right, KEY.down);
    await waitFrame(lastFrame, (x) => x.includes('weekly on monday at 02:00'));
    await press(stdin, ...Array(5).fill(KEY.backspace));
    await type(stdin, '23:30');
    f = await waitFrame(lastFrame, (x) => x.includes('weekly on monday at 23:30'));
    const runs = f.match(/\d{4}-\d\d-\d\d 23:30 \w+/g) ?? [];
    expect(runs).toHaveLength(5);
    for (const r of runs) expect(r.endsWith('mon')).toBe(true);
    await press(stdin, KEY.enter);
    f = await waitFrame(lastFrame, (x) => x.includes('Unsaved changes'));
    expect(f).toContain('weekly on monday at 23:30');
    expect(facade.saved).toBeNull();
    await press(stdin, 's');
    await waitFrame(lastFrame, (x) => x.includes('Saved to the config file.'));
    expect(facade.saved!.jobs).toEqual([
      { name: 'daily', when: 'weekly on monday at 23:30', type: 'full', databases: ['*'], files: true },
    ]);
  });

  it('an invalid cron expression is shown as invalid and cannot be accepted', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<ConfigureScheduleScreen onBack={noop} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Retention'));
    await press(stdin, 'a');
    await waitFrame(lastFrame, (x) => x.includes('Job: job2'));
    await press(stdin, KEY.down, KEY.left);
    await waitFrame(lastFrame, (x) => x.includes('Cron expression'));
    await press(stdin, KEY.down, ...Array(12).fill(KEY.backspace));
    await type(stdin, '99 * * * *');
    const f = await waitFrame(lastFrame, (x) => x.includes('Invalid:'));
    expect(f).not.toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d \w{3}/);
    await press(stdin, KEY.enter);
    await waitFrame(
      lastFrame,
      (x) => x.includes('Job: job2') && x.includes('neither a simple form nor a valid cron expression'),
    );
    await press(stdin, ...Array(12).fill(KEY.backspace));
    await type(stdin, '*/30 * * * *');
    await waitFrame(lastFrame, (x) => !x.includes('Invalid:') && /\d{4}-\d\d-\d\d 12:30/.test(x));
    await press(stdin, KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('*/30 * * * *') && x.includes('Unsaved changes'));
  });

  it.each(['en', 'es'] as const)(
    'a long error in the preview wraps beside the form, which keeps its layout (80×24, %s)',
    async (lang) => {
      const facade = new FakeFacade();
      const { lastFrame, stdin } = renderSized(<ConfigureScheduleScreen onBack={noop} />, { facade, lang });
      await waitFrame(lastFrame, (x) => x.includes('daily'));
      await press(stdin, KEY.enter);
      await waitFrame(lastFrame, (x) => x.includes('02:00') && x.includes('inventario'));
      await press(stdin, KEY.down, KEY.down, ...Array(5).fill(KEY.backspace));
      await type(stdin, '25:99');
      const f = await waitFrame(lastFrame, (x) => x.includes('25:99": 25:99'));
      expect(frameProblems(f), f).toEqual([]);
      // each database beside its box on one line (the preview's error squeezed the form: "[x]" / "inventario")
      for (const db of DBS) expect(f, db).toMatch(new RegExp(`(\\[x\\]|☑|✔) ${db}`));
    },
  );

  it('edits retention with digits only and saves it', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderUi(<ConfigureScheduleScreen onBack={noop} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Retention'));
    await press(stdin, 't');
    await waitFrame(lastFrame, (x) => x.includes('Keep last'));
    await press(stdin, KEY.backspace, '7', 'x', KEY.down, KEY.backspace, KEY.backspace, '1', '4', KEY.enter);
    await waitFrame(lastFrame, (x) => x.includes('keep last 7, daily 14, weekly 12'));
    await press(stdin, 's');
    await waitFrame(lastFrame, (x) => x.includes('Saved to the config file.'));
    expect(facade.saved!.retention).toEqual({ keepLast: 7, daily: 14, weekly: 12, monthly: 12, yearly: 5 });
  });

  it.each([
    ['en', 'Saved to the config file.', 'Restart it (or its service) to apply the changes.'],
    ['es', 'Guardado en el archivo de configuración.', 'Reinícielo (o su servicio) para aplicar los cambios.'],
  ] as const)('%s: saved while a scheduler runs (a service), it says to restart it', async (lang, saved, restart) => {
    const facade = new FakeFacade();
    facade.schedulerRunsElsewhere = true;
    const { lastFrame, stdin } = renderSized(<ConfigureScheduleScreen onBack={noop} />, { facade, lang });
    await waitFrame(lastFrame, (x) => x.includes(lang === 'es' ? 'Retención' : 'Retention'));
    await press(stdin, 'x', 's');
    const f = await waitFrame(lastFrame, (x) => x.includes(saved));
    expect(f.replace(/\s+/g, ' ')).toContain(restart);
    expect(frameProblems(f), f).toEqual([]);
  });

  it('x removes a job; Esc with unsaved changes asks first, a second Esc discards', async () => {
    const facade = new FakeFacade();
    let back = 0;
    const { lastFrame, stdin } = renderUi(<ConfigureScheduleScreen onBack={() => back++} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Retention'));
    await press(stdin, 'x');
    await waitFrame(lastFrame, (x) => x.includes('No jobs: nothing runs automatically.'));
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('Press Esc again to discard them'));
    expect(back).toBe(0);
    await press(stdin, KEY.esc);
    expect(back).toBe(1);
    expect(facade.saved).toBeNull();
  });

  it('a failing save is shown as message + hint and nothing is marked saved', async () => {
    const facade = new FakeFacade();
    facade.fail.saveSchedule = new UsageError(
      'schedule.jobs[0].databases[0]: no database named "ventas" in the config',
      'Known databases: users, inventario, auditoria; or "*" for all. Nothing was changed in /srv/app/backup_config.json.',
    );
    const { lastFrame, stdin } = renderUi(<ConfigureScheduleScreen onBack={noop} />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('Retention'));
    await press(stdin, 'x', 's');
    const f = await waitFrame(lastFrame, (x) => x.includes('Error:'));
    expect(f).toContain('no database named "ventas" in the config');
    expect(f).toContain('What to do: Known databases: users, inventario, auditoria');
    expect(f).toContain('Unsaved changes');
  });

  it('saving from the menu refreshes the header promise (weekly schedule: no stale warning)', async () => {
    const facade = new FakeFacade(0);
    facade.manifests = [
      (await import('./ui-fake-facade.js')).manifestFor('20261119_100000', { startedAt: '2026-11-19T10:00:00Z' }),
    ];
    const { lastFrame, stdin } = renderUi(<Menu />, { facade });
    await waitFrame(lastFrame, (x) => x.includes('WARNING: users'));
    await press(stdin, '2');
    await waitFrame(lastFrame, (x) => x.includes('Retention'));
    await press(stdin, KEY.enter, KEY.down, KEY.right, KEY.enter, 's');
    await waitFrame(lastFrame, (x) => x.includes('Saved to the config file.'));
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('1. Create backup now') && !x.includes('WARNING'));
  });

  it("tells what is wrong with a time or a time zone in the operator's language (the parser spoke English only)", async () => {
    for (const [lang, time, zone] of [
      ['en', '"daily at 25:99": 25:99 is not a time of day (00:00 to 23:59)', '"Europe/Madird" is not a time zone'],
      [
        'es',
        '"daily at 25:99": 25:99 no es una hora del día (00:00 a 23:59)',
        '"Europe/Madird" no es una zona horaria',
      ],
    ] as const) {
      const { lastFrame, stdin, unmount } = renderUi(<ConfigureScheduleScreen onBack={noop} />, { lang });
      await waitFrame(lastFrame, (x) => x.includes('daily'));
      await press(stdin, KEY.enter);
      await waitFrame(lastFrame, (x) => x.includes('02:00') && x.includes('inventario'));
      await press(stdin, KEY.down, KEY.down, ...Array(5).fill(KEY.backspace));
      await type(stdin, '25:99');
      let f = await waitFrame(lastFrame, (x) => x.includes('25:99":'));
      expect(wordsInOrder(f, time), f).toBe(true);
      await press(stdin, ...Array(5).fill(KEY.backspace));
      await type(stdin, '02:00');
      await press(stdin, KEY.down);
      await type(stdin, 'Europe/Madird');
      f = await waitFrame(lastFrame, (x) => x.includes('Madird"'));
      expect(wordsInOrder(f, zone), f).toBe(true);
      expect(f).not.toContain('Invalid time zone specified');
      if (lang === 'es') expect(f).not.toMatch(/is not a|time zone/);
      unmount();
    }
  });

  it('speaks Spanish', async () => {
    const { lastFrame, stdin } = renderUi(<ConfigureScheduleScreen onBack={noop} />, { lang: 'es' });
    const f = await waitFrame(lastFrame, (x) => x.includes('Retención'));
    expect(f).toContain('Copia automática');
    expect(f).toContain('conservar últimas 3, diarias 30');
    await press(stdin, KEY.enter);
    const g = await waitFrame(lastFrame, (x) => x.includes('Próximas 5 ejecuciones'));
    expect(g).toContain('Frecuencia');
    expect(g).toContain('diaria');
  });
});

describe('the job form with many databases at 80×24', () => {
  const LONG = 'base_de_datos_de_facturacion_electronica_sucursal_norte_2026_x';
  const many = () => {
    const facade = new FakeFacade();
    const names = [...Array.from({ length: 20 }, (_, i) => `sucursal_${String(i + 1).padStart(2, '0')}`), LONG];
    facade.cfg = { ...facade.cfg, databases: names.map((name) => ({ name, engine: 'sqlite' as const })) };
    return facade;
  };

  it.each([
    [[1, 1, 1], 0, 10, [0, 3]], // all fit: no marks
    [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 0, 6, [0, 4]], // two lines kept for the marks
    [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 9, 6, [6, 10]],
    [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 5, 6, [3, 7]], // the cursor's row kept near the middle
    [[1, 1, 3, 1, 1, 1], 2, 6, [1, 3]], // a row of 3 lines counts as 3
    [[5, 1], 0, 4, [0, 1]], // a row taller than the room is still drawn (cut at the bottom)
  ])('formWindow(%j, %i, %i) is %j', (heights, at, room, expected) => {
    expect(formWindow(heights, at, room)).toEqual(expected);
  });

  it('scrolls to the row under the cursor: the last databases and "Incluir archivos" can be seen and changed', async () => {
    const { lastFrame, stdin } = renderSized(<Menu />, { facade: many(), lang: 'es' });
    await waitFrame(lastFrame, (x) => x.includes('1. Crear copia ahora'));
    await press(stdin, '2');
    await waitFrame(lastFrame, (x) => x.includes('Retención'));
    await press(stdin, KEY.enter);
    let f = await waitFrame(lastFrame, (x) => x.includes('Próximas 5'));
    expect(frameProblems(f)).toEqual([]);
    expect(f).toMatch(/^› Nombre/m);
    // Down to the last database and the files row: each is drawn, with the cursor on it.
    await press(stdin, ...Array(26).fill(KEY.down));
    f = await waitFrame(lastFrame, (x) => /^› Incluir archivos\s+: ‹ sí ›/m.test(x));
    expect(frameProblems(f)).toEqual([]);
    expect(f).toContain('sucursal_20');
    expect(f).toContain('─'.repeat(70)); // the key line is still there
    expect(f).toMatch(/Bases de datos\s+: \[x\] sucursal_/); // the label names the first database row drawn
    await press(stdin, ' ');
    f = await waitFrame(lastFrame, (x) => /^› Incluir archivos\s+: ‹ no ›/m.test(x));
    // The long name is drawn whole, its continuation under its first line (the label column kept).
    await press(stdin, KEY.up);
    f = await waitFrame(lastFrame, (x) => !/^› Incluir/m.test(x));
    expect(frameProblems(f)).toEqual([]);
    const lines = f.split('\n');
    const first = lines.findIndex((l) => l.includes('[x] base_de_datos'));
    expect(first, f).toBeGreaterThan(0);
    const col = lines[first]!.indexOf('[x] base');
    expect(lines[first]!.startsWith('›')).toBe(true);
    const joined = [lines[first]!.slice(col + 4), ...lines.slice(first + 1, first + 3).map((l) => l.slice(col))]
      .map((l) => l.slice(0, 30).trim())
      .join('');
    expect(joined.startsWith(LONG), f).toBe(true);
    await press(stdin, KEY.enter);
    f = await waitFrame(lastFrame, (x) => x.includes('Cambios sin guardar'));
    expect(frameProblems(f)).toEqual([]);
  });
});
