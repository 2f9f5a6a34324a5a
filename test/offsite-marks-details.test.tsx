/**
 * The set details' off-site line follows what respaldo itself did at each destination: a set removed there by
 * `delete --from` said "nas: ok" (copies.json kept its mark, with prunedAt, so that copy does not send it again), and
 * a later copy of it that failed without changing what is there left no trace. Both are said now, and the line says
 * it is what respaldo last recorded, the destination not asked. Real CLI runs on a folder destination, the real
 * facade's marks, the details screen at 80×24 in English and Spanish.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { Manifest } from '../src/core/types.js';
import { loadConfig } from '../src/config/load.js';
import { readCopies } from '../src/engine/copy.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { SetDetailsScreen } from '../src/ui/screens/SetDetailsScreen.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';
import { cleanupSized, FakeFacade, frameProblems, renderSized, waitFrame } from './ui-fake-facade.js';

afterEach(() => {
  cleanup();
  cleanupSized();
});
const noop = (): void => undefined;

describe('off-site marks in the set details', () => {
  it('a set deleted at nas is NOT there; a failed re-copy is said; both as last recorded', async () => {
    const s = demoSetup({ files: undefined });
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(
      s.configFile,
      JSON.stringify({ ...doc, destinations: [{ name: 'nas', type: 'folder', path: './nas', source: 'srv1' }] }),
    );
    const cli = (args: string[]) => runCli([...args, '--config', s.configFile], { cwd: s.dir });
    const a = await cli(['create', '--json']);
    expect(a.code, describeResult(a)).toBe(0);
    const ma = parseJsonOutput<Manifest>(a.stdout);
    const b = await cli(['create', '--json']);
    expect(b.code, describeResult(b)).toBe(0);
    const mb = parseJsonOutput<Manifest>(b.stdout);

    const del = await cli(['delete', ma.id, '--from', 'nas', '--yes']);
    expect(del.code, describeResult(del)).toBe(0);
    // nas unreachable (its folder a file): the copy of B fails before it changes anything there.
    renameSync(nas, `${nas}.away`);
    writeFileSync(nas, 'not a folder');
    const again = await cli(['copy', mb.id, '--to', 'nas']);
    expect(again.code, describeResult(again)).toBe(12);
    expect(readCopies(join(s.backupDir, mb.id))['nas']).toMatchObject({
      ok: true,
      lastFailure: { error: expect.any(String) },
    });

    const facade = createEngineFacade(await loadConfig({ configPath: s.configFile }));
    const [markA] = await facade.offsite(ma.id);
    expect(markA).toMatchObject({ destination: 'nas', ok: false, removedAt: expect.any(String) });
    const [markB] = await facade.offsite(mb.id);
    expect(markB).toMatchObject({ destination: 'nas', ok: true, lastFailure: { error: expect.any(String) } });

    for (const [lang, removed, failed, recorded] of [
      ['en', 'nas: NOT there: removed by delete/prune --from', 'nas: the copy of', 'as respaldo last recorded it'],
      ['es', 'nas: NO está: quitada con delete/prune', 'nas: la copia del', 'según lo último que respaldo anotó'],
    ] as const) {
      const fake = new FakeFacade();
      const [fa, fb] = [fake.manifests[0]!, fake.manifests[1]!];
      fake.offsiteMarks[fa.id] = [markA!];
      fake.offsiteMarks[fb.id] = [markB!];
      const one = renderSized(<SetDetailsScreen id={fa.id} onBack={noop} onRestore={noop} onDeleted={noop} />, {
        facade: fake,
        lang,
      });
      const fr = await waitFrame(one.lastFrame, (x) => x.includes(removed));
      expect(frameProblems(fr), fr).toEqual([]);
      expect(fr.replace(/\s+/g, ' ')).toContain(recorded);
      expect(fr).not.toMatch(/nas: ok/);
      cleanup();
      cleanupSized();
      const two = renderSized(<SetDetailsScreen id={fb.id} onBack={noop} onRestore={noop} onDeleted={noop} />, {
        facade: fake,
        lang,
      });
      const fr2 = await waitFrame(two.lastFrame, (x) => x.includes(failed));
      expect(frameProblems(fr2), fr2).toEqual([]);
      cleanup();
      cleanupSized();
    }
  });
});
