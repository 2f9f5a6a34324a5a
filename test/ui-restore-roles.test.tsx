/**
 * Issue 4: roles stored with a PostgreSQL set (`globals: true`) are created on a server that lacks
 * them only when the operator ticks the choice (the CLI's --create-roles); it is offered only when
 * a PostgreSQL database of the set stored its roles, and the plan shows the step before the word.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { RestoreRequest } from '../src/ui/engine-facade.js';
import { RestoreScreen } from '../src/ui/screens/RestoreScreen.js';
import { FakeFacade, KEY, press, renderUi, waitFrame } from './ui-fake-facade.js';

afterEach(() => cleanup());

const SET = '20261122_100000';
const ROLES = 'PostgreSQL roles: create those missing on the server (stored in this set)';
const planned = (f: FakeFacade) =>
  f.calls.filter((c) => c.method === 'planRestore').map((c) => c.args[0] as RestoreRequest);

/** A facade whose set holds `inventario` as PostgreSQL, with its roles stored when `globals`. */
function pgFacade(globals: boolean): FakeFacade {
  const facade = new FakeFacade();
  for (const m of facade.manifests) {
    for (const d of m.databases) {
      if (d.name !== 'inventario') continue;
      d.engine = 'postgres';
      if (globals)
        d.extras = [
          {
            role: 'globals',
            file: 'databases/inventario.globals.sql.gz',
            compressed: true,
            rawBytes: 900,
            storedBytes: 400,
            md5: 'x',
            sha256: 'y',
          },
        ];
    }
  }
  return facade;
}

describe('restore: creating missing PostgreSQL roles', () => {
  it('offered when the set stored roles; ticked, the plan creates them first', async () => {
    const facade = pgFacade(true);
    const r = renderUi(<RestoreScreen onBack={() => undefined} initialSetId={SET} />, { facade });
    const items = await waitFrame(r.lastFrame, (x) => x.includes(ROLES));
    expect(items).toMatch(/\[ \] PostgreSQL roles/);
    // inventario (second row), then the roles row (after the three databases and the files).
    await press(r.stdin, KEY.down, KEY.space, KEY.down, KEY.down, KEY.down, KEY.space);
    await waitFrame(r.lastFrame, (x) => /\[x\] PostgreSQL roles/.test(x) && /\[x\] inventario/.test(x));
    await press(r.stdin, KEY.enter);
    await waitFrame(r.lastFrame, (x) => x.includes('Where to restore'));
    await press(r.stdin, KEY.enter);
    const plan = await waitFrame(r.lastFrame, (x) => x.includes('Type RESTORE'));
    expect(plan).toContain('1. create the roles stored with the set that this server lacks');
    expect(planned(facade)).toEqual([{ setId: SET, databases: ['inventario'], files: false, createRoles: true }]);
  });

  it('left unticked, nothing about roles is asked of the engine', async () => {
    const facade = pgFacade(true);
    const r = renderUi(<RestoreScreen onBack={() => undefined} initialSetId={SET} />, { facade });
    await waitFrame(r.lastFrame, (x) => x.includes(ROLES));
    await press(r.stdin, KEY.down, KEY.space, KEY.enter);
    await waitFrame(r.lastFrame, (x) => x.includes('Where to restore'));
    await press(r.stdin, KEY.enter);
    const plan = await waitFrame(r.lastFrame, (x) => x.includes('Type RESTORE'));
    expect(plan).not.toContain('create the roles');
    expect(planned(facade)).toEqual([{ setId: SET, databases: ['inventario'], files: false }]);
  });

  it('not offered when no PostgreSQL database of the set stored its roles, nor in Spanish wording', async () => {
    const r = renderUi(<RestoreScreen onBack={() => undefined} initialSetId={SET} />, { facade: pgFacade(false) });
    const items = await waitFrame(r.lastFrame, (x) => x.includes('inventario (postgres)'));
    expect(items).not.toContain('PostgreSQL roles');
    cleanup();
    const es = renderUi(<RestoreScreen onBack={() => undefined} initialSetId={SET} />, {
      facade: pgFacade(true),
      lang: 'es',
    });
    await waitFrame(es.lastFrame, (x) => x.includes('Roles de PostgreSQL: crear los que faltan en el servidor'));
  });
});
