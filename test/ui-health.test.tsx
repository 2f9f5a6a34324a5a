/**
 * The health screen (option 6 of the main menu): what `respaldo status` says of the health, per database (newest
 * set, its age against the schedule, overdue, the last drill, its problems), per destination, the backup folder's
 * problems; in English and Spanish, drawn within 80×24 and scrolling when longer; read only (Esc back, r again).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { english, phrase } from '../src/core/phrases.js';
import { Menu } from '../src/ui/Menu.js';
import type { MenuHealth } from '../src/ui/engine-facade.js';
import { HealthScreen } from '../src/ui/screens/HealthScreen.js';
import { cleanupSized, FakeFacade, frameProblems, KEY, press, renderSized, waitFrame } from './ui-fake-facade.js';

afterEach(cleanupSized);
const noop = () => undefined;

/** users overdue, its drill failed, not copied to nas; inventario fine; the backup folder low on disk. */
function unhealthy(facade: FakeFacade, databases = 2): MenuHealth {
  const base = facade.cfg.databases.slice(0, 1);
  const names = [...base.map((d) => d.name), ...Array.from({ length: databases - 1 }, (_, i) => `db${i + 1}`)];
  const issue = (
    code: MenuHealth['report']['issues'][number]['code'],
    database: string | null,
    said: ReturnType<typeof phrase>,
  ) => ({ code, database, key: `${code}:${database}`, text: english(said), phrase: said });
  const issues = [
    issue('drill-failed', 'users', phrase('health.drillFailed', { db: 'users', set: '20261120_100000', when: 'x' })),
    issue(
      'backup-dir-unwritable',
      null,
      phrase('health.backupDirUnwritable', { dir: '/srv/backups', reason: 'read-only file system' }),
    ),
  ];
  return {
    report: {
      at: '2026-11-22T12:00:00.000Z',
      healthy: false,
      issues,
      problems: issues.map((i) => i.text),
      freeBytes: 5 * 1024 ** 3,
      minFreeBytes: 20_000_000_000,
      databases: names.map((name, i) => ({
        database: name,
        lastSuccessAt: '2026-11-20T10:00:00.000Z',
        ageSeconds: 180_000,
        promisedEverySeconds: 86_400,
        missedRunAt: i === 0 ? '2026-11-21T02:00:00.000Z' : null,
        overdue: i === 0,
        lastDurationMs: 1000,
        medianDurationMs: 1000,
        lastStoredBytes: 1000,
        previousStoredBytes: 1000,
        successes30d: 28,
        attempts30d: 30,
        successRate30d: 28 / 30,
        lastDrill:
          i === 0
            ? { at: '2026-11-22T09:00:00.000Z', ok: false, error: 'row counts differ', setId: '20261120_100000' }
            : null,
        problems: [],
      })),
    },
    newest: names.map((name) => ({
      database: name,
      engine: 'sqlite',
      setId: '20261120_100000',
      type: 'full' as const,
      completedAt: '2026-11-20T10:00:00.000Z',
      ageSeconds: 180_000,
    })),
    offsite: [
      {
        destination: 'nas',
        type: 'folder',
        copyAfterBackup: true,
        newestCopied: { setId: '20261119_100000', at: '2026-11-19T10:05:00.000Z' },
        notCopied: ['20261120_100000'],
        lastError: { setId: '20261120_100000', at: '2026-11-20T10:01:00.000Z', error: 'connection refused' },
      },
    ],
    createdRoles: [],
    lastRestores: [],
  };
}

/** Roles two `restore --create-roles` runs made before they were killed (role-journal.ts), as status lists them. */
const killedRoles: MenuHealth['createdRoles'] = [
  {
    pid: 4242,
    host: 'erp',
    at: '2026-11-22T09:15:07.000Z',
    setId: '20261120_100000',
    database: 'users',
    server: '127.0.0.1:5432',
    roles: ['app_reader', 'app_writer_with_a_rather_long_name'],
    dropSql: 'DROP ROLE "app_reader"; DROP ROLE "app_writer_with_a_rather_long_name";',
  },
  {
    pid: 4343,
    host: 'erp',
    at: '2026-11-22T10:00:00.000Z',
    setId: '20261121_100000',
    database: 'db1',
    server: '/var/run/postgresql',
    roles: ['web'],
    dropSql: 'DROP ROLE "web";',
  },
];

describe('health screen', () => {
  it('is option 6 of the main menu, in one key; Esc back', async () => {
    const facade = new FakeFacade();
    const { lastFrame, stdin } = renderSized(<Menu />, { facade });
    await waitFrame(lastFrame, (f) => f.includes('6. Health') && f.includes('7. Quit'));
    await press(stdin, '6');
    const f = await waitFrame(lastFrame, (x) => x.includes('Healthy: 3 database(s)'));
    expect(frameProblems(f)).toEqual([]);
    expect(f).toMatch(/users\n +Newest set: 20261122_100000 · .*expected every 24 h/);
    expect(f).toContain('Last drill: never');
    await press(stdin, KEY.esc);
    await waitFrame(lastFrame, (x) => x.includes('1. Create backup now'));
    expect(facade.calls.filter((c) => c.method !== 'health' && c.method !== 'status')).toEqual([]);
  });

  it('says each problem where it belongs, in Spanish, within 80×24', async () => {
    const facade = new FakeFacade();
    facade.healthAnswer = unhealthy(facade);
    const { lastFrame, stdin } = renderSized(<HealthScreen onBack={noop} />, { facade, lang: 'es' });
    let f = await waitFrame(lastFrame, (x) => x.includes('2 problema(s)'));
    expect(frameProblems(f)).toEqual([]);
    expect(f).toContain('Salud de las copias');
    expect(f).toContain('ATRASADA: falta la copia que tocaba el');
    expect(f).toMatch(/Simulacro: FALLÓ hace 3 h \(copia\s+20261120_100000\)/);
    expect(f).toContain('28 de 30 copias bien en 30 días');
    expect(f).toMatch(/^ {2}users: el último simulacro/m);
    await press(stdin, KEY.pageDown, KEY.pageDown);
    f = await waitFrame(lastFrame, (x) => x.includes('Leído el'));
    expect(frameProblems(f)).toEqual([]);
    expect(f).toMatch(/nas: la más reciente allí 20261119_100000 \(hace 3 d\) · 1 copia\(s\) NO/);
    expect(f).toContain('nas: la copia 20261120_100000 NO se copió');
    // The backup folder's problem in the menu's language (its phrase), not in English.
    expect(f).toContain('Carpeta de copias y alertas');
    expect(f).toContain('/srv/backups');
    expect(f).not.toContain('cannot be written');
  });

  it('lists the roles killed restores made (--create-roles) with their DROP ROLE, in English and Spanish, within 80×24', async () => {
    for (const lang of ['en', 'es'] as const) {
      const facade = new FakeFacade();
      facade.healthAnswer = { ...unhealthy(facade), createdRoles: killedRoles };
      const { lastFrame, stdin } = renderSized(<HealthScreen onBack={noop} />, { facade, lang });
      const seen = [await waitFrame(lastFrame, (x) => x.includes('2 problem'))];
      for (let i = 0; i < 4; i++) {
        await press(stdin, KEY.pageDown);
        seen.push(lastFrame() ?? '');
      }
      for (const x of seen) expect(frameProblems(x)).toEqual([]);
      // The lines folded within 80 columns, read as one text (a last frame holds the rest of the screen too)
      const all = seen.join('\n').replace(/\s+/g, ' ');
      const said =
        lang === 'en'
          ? [
              'Roles made by killed restores (--create-roles; nothing may use them)',
              'users: "app_reader", "app_writer_with_a_rather_long_name" on 127.0.0.1:5432 (set 20261120_100000, ',
              'if unwanted: DROP ROLE "app_reader"; DROP ROLE "app_writer_with_a_rather_long_name";',
              'db1: "web" on /var/run/postgresql (set 20261121_100000, ',
              'if unwanted: DROP ROLE "web";',
            ]
          : [
              'Roles de restauraciones matadas (--create-roles; puede que nada los use)',
              'users: "app_reader", "app_writer_with_a_rather_long_name" en 127.0.0.1:5432 (copia 20261120_100000, ',
              'si no los quiere: DROP ROLE "app_reader"; DROP ROLE "app_writer_with_a_rather_long_name";',
              'db1: "web" en /var/run/postgresql (copia 20261121_100000, ',
              'si no los quiere: DROP ROLE "web";',
            ];
      for (const x of said) expect(all).toContain(x);
      cleanupSized();
    }
  });

  it('says how the last restore of each database ended, as status does, in English and Spanish, within 80×24', async () => {
    const base = { setId: '20261120_100000', startedAt: '2026-11-22T09:00:00.000Z', to: null, pid: 4242 };
    const said = (id: Parameters<typeof phrase>[0], p: Record<string, string | number>) => {
      const x = phrase(id, { set: base.setId, at: '2026-11-22 09:05', started: '2026-11-22 09:00', to: '', ...p });
      return { said: x, saidEn: english(x) };
    };
    const lastRestores: MenuHealth['lastRestores'] = [
      {
        ...base,
        database: 'users',
        outcome: 'interrupted',
        at: '2026-11-22T09:05:00.000Z',
        reached: true,
        signal: 'SIGHUP',
        ...said('status.restoreInterrupted', { signal: 'SIGHUP' }),
      },
      {
        ...base,
        database: 'db1',
        outcome: 'killed',
        at: base.startedAt,
        reached: false,
        ...said('status.restoreKilled', { pid: 4242 }),
      },
    ];
    for (const lang of ['en', 'es'] as const) {
      const facade = new FakeFacade();
      facade.healthAnswer = { ...unhealthy(facade), lastRestores };
      const { lastFrame, stdin } = renderSized(<HealthScreen onBack={noop} />, { facade, lang });
      const seen = [await waitFrame(lastFrame, (x) => x.includes('2 problem'))];
      for (let i = 0; i < 4; i++) {
        await press(stdin, KEY.pageDown);
        seen.push(lastFrame() ?? '');
      }
      for (const x of seen) expect(frameProblems(x)).toEqual([]);
      const all = seen.join('\n').replace(/\s+/g, ' ');
      const expected =
        lang === 'en'
          ? [
              'Last restore: INTERRUPTED 2026-11-22 09:05 (hang-up: the terminal closed) while restoring it from set ' +
                '20261120_100000; the live database was left as it was',
              'Last restore: KILLED: started 2026-11-22 09:00 from set 20261120_100000 (pid 4242), no end logged',
            ]
          : [
              'Última restauración: INTERRUMPIDA 2026-11-22 09:05 (cuelgue: se cerró el terminal) mientras se ' +
                'restauraba desde el conjunto 20261120_100000; la base en uso quedó como estaba',
              'Última restauración: MATADA: empezó 2026-11-22 09:00 desde el conjunto 20261120_100000 (pid 4242)',
            ];
      for (const x of expected) expect(all).toContain(x);
      cleanupSized();
    }
  });

  it('scrolls when longer than the screen: every database reached, the key line stays', async () => {
    const facade = new FakeFacade();
    facade.healthAnswer = unhealthy(facade, 12);
    const { lastFrame, stdin } = renderSized(<HealthScreen onBack={noop} />, { facade });
    let f = await waitFrame(lastFrame, (x) => x.includes('2 problem(s)'));
    expect(frameProblems(f)).toEqual([]);
    expect(f).not.toContain('db11');
    expect(f).toMatch(/lines 1-\d+ of \d+/);
    expect(f).toContain('r read again · Esc back');
    const seen = [f];
    for (let i = 0; i < 6; i++) {
      await press(stdin, KEY.pageDown);
      seen.push(lastFrame() ?? '');
    }
    f = await waitFrame(lastFrame, (x) => x.includes('Read at'));
    seen.push(f);
    for (const x of seen) expect(frameProblems(x)).toEqual([]);
    for (let i = 1; i < 12; i++) expect(seen.join('\n')).toMatch(new RegExp(`^db${i}$`, 'm'));
    expect(f).toContain('r read again · Esc back');
    // r reads it again
    const before = facade.calls.filter((c) => c.method === 'health').length;
    await press(stdin, 'r');
    await waitFrame(lastFrame, () => facade.calls.filter((c) => c.method === 'health').length > before);
  });
});
