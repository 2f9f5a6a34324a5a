/**
 * The stored files a restore's or a drill's verify bar found bad are said under that bar in the menu's language:
 * the verify item's end carries them as a phrase (`verify.badFiles`), each problem said in Spanish. Against the real
 * engine and a real backup folder (one stored database cut short), through the menu's own `say`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { CollectingReporter, silentReporter, type ProgressEvent } from '../src/core/events.js';
import { runDrill } from '../src/engine/drill.js';
import { executeRestore } from '../src/engine/restore.js';
import { planRestore } from '../src/engine/restore-plan.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { say } from '../src/ui/i18n/index.js';
import { demoSetup } from './helpers/tmp.js';

/** A set of users whose stored database lost its last 10 bytes. */
async function truncatedSet() {
  const s = demoSetup();
  const cfg = await loadConfig({ configPath: s.configFile });
  const facade = createEngineFacade(cfg);
  const m = await facade.createBackup({ databases: ['users'], type: 'full', files: false }, silentReporter);
  const file = m.databases[0]!.file!;
  const path = join(s.backupDir, m.id, file);
  const buf = readFileSync(path);
  writeFileSync(path, buf.subarray(0, buf.length - 10));
  return { s, cfg, m, file, size: buf.length };
}

/** The end of the verify bar, as the menu says it in `lang`. */
function verifyEnd(events: ProgressEvent[], lang: 'en' | 'es'): string {
  const end = events.find((e) => e.type === 'item-end' && e.item === 'verify');
  if (end?.type !== 'item-end' || end.error === undefined) throw new Error('no failed verify bar');
  return say(lang, end.errorPhrase, end.error);
}

describe('the problems under a verify bar, in Spanish', () => {
  it("a drill's verify bar: the stored file and what is wrong with it, in Spanish", async () => {
    const { cfg, m, file, size } = await truncatedSet();
    const reporter = new CollectingReporter();
    const out = await runDrill(cfg, m.id, {}, reporter);
    expect(out.ok).toBe(false);
    expect(verifyEnd(reporter.events, 'es')).toBe(
      `${file}: mide ${size - 10} bytes y el manifiesto dice ${size} (truncado o cambiado)`,
    );
    expect(verifyEnd(reporter.events, 'en')).toBe(
      `${file}: size ${size - 10} bytes, manifest says ${size} (truncated or changed)`,
    );
  });

  it("a restore's verify bar: the same, in Spanish", async () => {
    const { s, cfg, m, file, size } = await truncatedSet();
    const reporter = new CollectingReporter();
    const plan = await planRestore(cfg, m.id, { databases: ['users'], to: join(s.dir, 'users-restored.db') });
    await executeRestore(cfg, plan, reporter).catch(() => undefined);
    expect(verifyEnd(reporter.events, 'es')).toBe(
      `${file}: mide ${size - 10} bytes y el manifiesto dice ${size} (truncado o cambiado)`,
    );
  });
});
