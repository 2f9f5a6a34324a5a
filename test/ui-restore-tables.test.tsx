/**
 * Issue 4: one PostgreSQL database restored side by side may be limited to some of its tables (the
 * CLI's --table): the menu lists the tables the set recorded, all of them by default.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { RestoreRequest } from '../src/ui/engine-facade.js';
import { RestoreScreen } from '../src/ui/screens/RestoreScreen.js';
import { FakeFacade, KEY, press, renderUi, type, waitFrame } from './ui-fake-facade.js';

afterEach(() => cleanup());

const SET = '20261122_100000';
const planned = (f: FakeFacade) =>
  f.calls.filter((c) => c.method === 'planRestore').map((c) => c.args[0] as RestoreRequest);

function pgFacade(): FakeFacade {
  const facade = new FakeFacade();
  for (const m of facade.manifests) {
    for (const d of m.databases) {
      if (d.name !== 'inventario') continue;
      d.engine = 'postgres';
      d.tables = { 'public.pedidos': 1200, 'public.clientes': 1, 'ventas.facturas': 88 };
    }
  }
  return facade;
}

/** Picks inventario, side by side into `inv_check`, and waits for the next screen. */
async function toAfterTarget(facade: FakeFacade, sideBySide: boolean, until: (f: string) => boolean) {
  const r = renderUi(<RestoreScreen onBack={() => undefined} initialSetId={SET} />, { facade });
  await waitFrame(r.lastFrame, (x) => x.includes('[ ] inventario (postgres)'));
  await press(r.stdin, KEY.down, KEY.space, KEY.enter);
  await waitFrame(r.lastFrame, (x) => x.includes('Where to restore'));
  if (sideBySide) {
    await press(r.stdin, KEY.down);
    await type(r.stdin, 'inv_check');
    await waitFrame(r.lastFrame, (x) => x.includes('inv_check'));
  }
  await press(r.stdin, KEY.enter);
  await waitFrame(r.lastFrame, until);
  return r;
}

describe('restore: some tables of a PostgreSQL database', () => {
  it('lists the recorded tables (all by default); picking some restores only those, side by side', async () => {
    const facade = pgFacade();
    const r = await toAfterTarget(facade, true, (x) =>
      x.includes('Tables of inventario to restore into the new database'),
    );
    let f = r.lastFrame()!;
    expect(f).toMatch(/› \[x\] All tables: the whole database/);
    expect(f).toMatch(/\[ \] public\.clientes 1 row/);
    expect(f).toMatch(/\[ \] public\.pedidos 1200 rows/);
    expect(f).toMatch(/\[ \] ventas\.facturas 88 rows/);
    expect(f).toContain('come with their keys, indexes, triggers, sequences');
    await press(r.stdin, KEY.down, KEY.down, KEY.space, KEY.down, KEY.space);
    f = await waitFrame(r.lastFrame, (x) => /\[x\] ventas\.facturas/.test(x));
    expect(f).toMatch(/\[ \] All tables/);
    expect(f).toMatch(/\[x\] public\.pedidos/);
    await press(r.stdin, KEY.enter);
    f = await waitFrame(r.lastFrame, (x) => x.includes('Type RESTORE'));
    expect(f).toContain('pg_restore only public.pedidos, ventas.facturas into it');
    expect(planned(facade)).toEqual([
      {
        setId: SET,
        databases: ['inventario'],
        files: false,
        to: 'inv_check',
        tables: ['public.pedidos', 'ventas.facturas'],
      },
    ]);
  });

  it('untick every table, or choose All again: the whole database', async () => {
    const facade = pgFacade();
    const r = await toAfterTarget(facade, true, (x) => x.includes('Tables of inventario'));
    await press(r.stdin, KEY.down, KEY.space);
    await waitFrame(r.lastFrame, (x) => /\[x\] public\.clientes/.test(x) && /\[ \] All tables/.test(x));
    await press(r.stdin, KEY.space);
    await waitFrame(r.lastFrame, (x) => /\[ \] public\.clientes/.test(x) && /\[x\] All tables/.test(x));
    await press(r.stdin, KEY.space);
    await waitFrame(r.lastFrame, (x) => /\[x\] public\.clientes/.test(x) && /\[ \] All tables/.test(x));
    await press(r.stdin, KEY.up, KEY.space);
    await waitFrame(r.lastFrame, (x) => /\[ \] public\.clientes/.test(x) && /\[x\] All tables/.test(x));
    await press(r.stdin, KEY.enter);
    await waitFrame(r.lastFrame, (x) => x.includes('Type RESTORE'));
    expect(planned(facade)).toEqual([{ setId: SET, databases: ['inventario'], files: false, to: 'inv_check' }]);
  });

  it('in place there is no table choice (tables are restored side by side only)', async () => {
    const facade = pgFacade();
    const r = await toAfterTarget(facade, false, (x) => x.includes('Type RESTORE'));
    expect(r.lastFrame()).not.toContain('Tables of inventario');
    expect(planned(facade)[0]!.tables).toBeUndefined();
  });
});
