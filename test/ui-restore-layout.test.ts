/**
 * The plan step's help line (src/ui/screens/restore/layout.ts): while the plan is made keys do nothing,
 * so the help says to wait (and that Ctrl-C leaves the menu) instead of offering "Enter or Esc back";
 * while its set is read at a destination for the plan, it also says that Esc stops that.
 */
import { describe, expect, it } from 'vitest';
import { uiContext } from '../src/ui/app.js';
import { initialWizardState, type WizardState } from '../src/ui/restore-wizard.js';
import { restoreLayout } from '../src/ui/screens/restore/layout.js';
import { emptyProgress } from '../src/ui/use-progress.js';
import { FakeFacade } from './ui-fake-facade.js';

const size = { columns: 80, body: 18 };

describe('restore plan step: help line', () => {
  it.each([
    ['en', 'fetching', 'Please wait… Esc stops reading it (nothing is changed) · Ctrl-C leaves the menu'],
    ['en', 'planning', 'Please wait… Ctrl-C leaves the menu (nothing is changed)'],
    ['es', 'fetching', 'Espere… Esc deja de leerla (no se cambia nada) · Ctrl-C sale del menú'],
    ['es', 'planning', 'Espere… Ctrl-C sale del menú (no se cambia nada)'],
    ['en', null, 'Enter or Esc back'],
  ] as const)('%s, busy %s: %s', (lang, busy, help) => {
    const ui = uiContext(new FakeFacade(), { TERM: 'xterm-256color', LANG: 'C.UTF-8' }, lang);
    const s: WizardState = { ...initialWizardState(), step: { name: 'plan' }, busy };
    expect(restoreLayout(s, false, ui, size, emptyProgress).help).toBe(help);
  });
});

describe('restore outcome step: what the run warned of', () => {
  it('lists every warning of the run after the outcome, folded to the screen width', () => {
    const ui = uiContext(new FakeFacade(), { TERM: 'xterm-256color', LANG: 'C.UTF-8' }, 'en');
    const outcome = {
      setId: '20261202_070000',
      ok: true,
      safetySetIds: [],
      removedSafetySetIds: [],
      databases: [{ name: 'users', ok: true, restoredTo: '/srv/app/users.db' }],
      filesRestoredTo: null,
      recovered: [],
    };
    const s: WizardState = { ...initialWizardState(), step: { name: 'outcome', outcome } };
    const resumed =
      'destination "ssh": reading srv1/20261202_070000/databases/users.sqlite.zst: 10.0.0.5:22 is unreachable or ' +
      'closed the connection (No response from server); resuming that file where it stopped, after 3.9 MB';
    const progress = { ...emptyProgress, warnings: [resumed, 'users: decrypted as it is restored'] };
    const text = restoreLayout(s, false, ui, size, progress).rows.map((r) => r.map((g) => g.text).join(''));
    expect(text.join(' ').replace(/\s+/g, ' ')).toContain(`WARNING: ${resumed}`);
    expect(text.slice(-2)).toEqual(['    it stopped, after 3.9 MB', 'WARNING: users: decrypted as it is restored']);
    expect(text[1]).toBe(''); // set apart from the outcome
    for (const line of text) expect(line.length).toBeLessThanOrEqual(80);
  });
});
