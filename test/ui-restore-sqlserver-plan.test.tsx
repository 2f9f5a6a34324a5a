/**
 * The menu's plan of an in-place SQL Server restore, on an 80×24 terminal, in English and Spanish: a live database
 * that is not ONLINE (or published) is refused there with the driver's own phrases (the refusal the engine's plan
 * carries, in the menu's language, folded), and no confirmation word is asked; change data capture kept is a warning
 * with the jobs to add. The facade stands for the engine (the engine's plan is tested in
 * sqlserver-plan-refusals.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { english, phrase } from '../src/core/phrases.js';
import { liveStateProblem } from '../src/drivers/sqlserver/swap-plan.js';
import type { RestorePlan, RestoreRequest } from '../src/ui/engine-facade.js';
import { RestoreScreen } from '../src/ui/screens/RestoreScreen.js';
import { cleanupSized, FakeFacade, frameProblems, KEY, press, renderSized, waitFrame } from './ui-fake-facade.js';

afterEach(() => {
  cleanupSized();
  cleanup();
});

const SET = '20261122_100000';
const flat = (f: string) => f.replace(/[│|]/g, ' ').replace(/\s+/g, ' ');

/** A facade whose set holds `inventario` as SQL Server; its plan carries `add` (a refusal, a warning). */
class SqlServerFacade extends FakeFacade {
  constructor(private readonly add: (plan: RestorePlan) => void) {
    super();
    for (const m of this.manifests) for (const d of m.databases) if (d.name === 'inventario') d.engine = 'sqlserver';
  }
  override async planRestore(req: RestoreRequest): Promise<RestorePlan> {
    const plan = await super.planRestore(req);
    if (!req.to) this.add(plan);
    return plan;
  }
}

async function inPlacePlan(facade: FakeFacade, lang: 'en' | 'es', until: (f: string) => boolean, scroll = false) {
  const r = renderSized(<RestoreScreen onBack={() => undefined} initialSetId={SET} />, { facade, lang });
  await waitFrame(r.lastFrame, (x) => /\[ \] inventario \(sqlserver\)/.test(x));
  await press(r.stdin, KEY.down, KEY.space, KEY.enter);
  await waitFrame(r.lastFrame, (x) => x.includes(lang === 'en' ? 'Where to restore' : 'Dónde restaurar'));
  await press(r.stdin, KEY.enter);
  if (scroll) {
    // The plan's body scrolls under the word prompt: its warnings are below the steps.
    await waitFrame(r.lastFrame, (x) => /Type RESTORE|Escriba RESTAURAR/.test(x));
    await press(r.stdin, KEY.pageDown, KEY.pageDown);
  }
  return waitFrame(r.lastFrame, until);
}

describe.each(['en', 'es'] as const)('menu plan of an in-place SQL Server restore (%s, 80×24)', (lang) => {
  it('a live database SUSPECT: refused with what to do, in the menu language; no word asked', async () => {
    const problem = liveStateProblem('inventario', 'SUSPECT', 'restore')!;
    const facade = new SqlServerFacade((plan) =>
      plan.refusals.push({
        kind: 'target-state',
        database: 'inventario',
        message: english(problem.message),
        hint: english(problem.hint),
        phrases: problem,
      }),
    );
    const said = lang === 'en' ? 'is SUSPECT, not ONLINE (damaged' : 'está SUSPECT, no ONLINE (dañada';
    const frame = await inPlacePlan(facade, lang, (x) => flat(x).includes(said));
    expect(frameProblems(frame)).toEqual([]);
    expect(flat(frame)).toContain(lang === 'en' ? 'an in-place restore was refused' : 'la restauración en su sitio');
    expect(frame).not.toMatch(/Type RESTORE|Escriba RESTAURAR/);
  });

  it('change data capture kept: a warning with the jobs to add; the word is still asked', async () => {
    const warning = phrase('mssql.cdcWillKeep', { db: 'inventario', live: 'inventario' });
    const facade = new SqlServerFacade((plan) => {
      plan.warnings = [english(warning)];
      plan.warningPhrases = [warning];
    });
    const said = lang === 'en' ? 'change data capture of inventario is kept' : 'se conserva la captura de datos';
    const frame = await inPlacePlan(facade, lang, (x) => flat(x).includes(said), true);
    expect(frameProblems(frame)).toEqual([]);
    expect(frame).toMatch(/Type RESTORE|Escriba RESTAURAR/);
  });
});
