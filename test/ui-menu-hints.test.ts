/**
 * The hints of the restore's refusals and warnings name CLI options (`--to`, `--terminate-connections`) the menu
 * does not have: the menu says its own way (its "Side by side" / "Al lado" step, its question about sessions), in
 * both languages and in ASCII; the CLI keeps the engine's words (src/core/phrases.ts).
 */
import { describe, expect, it } from 'vitest';
import { english, phrase, type PhraseId } from '../src/core/phrases.js';
import type { RestorePlan } from '../src/ui/engine-facade.js';
import { uiContext } from '../src/ui/app.js';
import { planRows, refusalRows } from '../src/ui/screens/restore-rows.js';
import { FakeFacade } from './ui-fake-facade.js';

const HINTS: PhraseId[] = [
  'refuse.filesTargetHint',
  'refuse.targetExistsHint',
  'refuse.schemaInPlaceHint',
  'refuse.readOnlyInPlaceHint',
  'refuse.fullInPlaceHint',
  'refuse.fullInPlaceServerHint',
  'refuse.sessionsHint',
];
const CLI_ONLY = /--to\b|--terminate-connections/;
const text = (rows: { text: string }[][]): string =>
  rows
    .map((r) => r.map((g) => g.text).join(''))
    .join(' ')
    .replace(/\s+/g, ' ');

describe.each([
  ['en', 'C.UTF-8', 'Side by side'],
  ['es', 'es_ES.UTF-8', 'Al lado'],
  ['es', 'es_ES', 'Al lado'],
] as const)('menu %s (%s)', (lang, LANG, sideBySide) => {
  const ui = uiContext(new FakeFacade(), { TERM: 'xterm-256color', LANG }, lang);

  it.each(HINTS)('%s: no CLI option in the refusal box', (id) => {
    const hint = phrase(id, { command: 'respaldo restore 20261204_120000 --db inv --to inv_restored --yes' });
    expect(english(hint)).toMatch(CLI_ONLY); // the CLI's words still name it
    const message = phrase('refuse.filesTarget', { to: '/srv/restored' });
    const refusal = { kind: 'files-target' as const, database: null, message: english(message), hint: english(hint) };
    const shown = text(refusalRows({ ...refusal, phrases: { message, hint } }, ui, 80));
    expect(shown).not.toMatch(CLI_ONLY);
    // Files alone never go side by side: their hint names the folder typed for them.
    if (id === 'refuse.filesTargetHint') expect(shown).toContain(lang === 'es' ? 'para los archivos' : 'for the files');
    else if (id !== 'refuse.sessionsHint') expect(shown).toContain(sideBySide);
  });

  it("plan.diskShort: the warning says the menu's side by side, not --to", () => {
    const w = phrase('plan.diskShort', { dbs: 'users', needed: '2 GB', path: '/srv', free: '1 GB' });
    const plan = {
      setId: '20261204_120000',
      setType: 'full',
      setStartedAt: '2026-12-04T12:00:00.000Z',
      setStatus: 'completed',
      databases: [],
      files: null,
      safety: '',
      refusals: [],
      warnings: [english(w)],
      warningPhrases: [w],
    } as unknown as RestorePlan;
    const shown = text(planRows(plan, ui, 80));
    expect(english(w)).toContain('--to');
    expect(shown).not.toContain('--to');
    expect(shown).toContain(sideBySide);
  });
});
