/**
 * `restore --at` typed to the second a set ended in: that second stands for all of it (planAt `within`), so the
 * preview says the set's end in that second (02:06:31.4 as 02:06:31), in the CLI and in the menu's Spanish. It said
 * the next second ("between 02:06:30 and 02:06:32"), after the time typed, next to "ending at or before that time".
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { formatLocal } from '../src/core/format.js';
import type { Manifest } from '../src/core/types.js';
import { atWithin, parseAtTime } from '../src/engine/chain.js';
import { planRestoreAt } from '../src/engine/restore-plan.js';
import { uiContext } from '../src/ui/app.js';
import type { EngineFacade } from '../src/ui/engine-facade.js';
import { sourceRows } from '../src/ui/screens/restore/at-rows.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

describe('restore --at to the second a set ended in', () => {
  it('says the set ended in that second, not the next one (CLI and the Spanish menu)', async () => {
    const s = demoSetup();
    let m: Manifest;
    // A set ending on a whole second would read the same either way: another one then.
    do {
      m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--no-files', '--json'])).stdout);
    } while (Date.parse(m.completedAt) % 1000 === 0);
    const typed = formatLocal(m.completedAt, { seconds: true }); // the second it ended in, as the preview says it
    const next = formatLocal(new Date(Date.parse(m.completedAt) + 1000), { seconds: true });

    const dry = await cli(s, ['restore', '--at', typed, '--db', 'users', '--dry-run']);
    expect(dry.stdout).toContain(`Restore as of ${typed}: set ${m.id}`);
    expect(dry.stdout).toMatch(new RegExp(`(and|as of|ended at) ${typed}\\b`));
    expect(dry.stdout).not.toContain(next);

    const cfg = await loadConfig({ configPath: s.configFile, env: {} });
    const plan = await planRestoreAt(cfg, parseAtTime(typed)!, { databases: ['users'], atWithin: atWithin(typed) });
    expect(plan.at?.setId).toBe(m.id);
    const es = uiContext({} as EngineFacade, { TERM: 'xterm-256color', LANG: 'C.UTF-8' }, 'es');
    const rows = sourceRows(plan, null, es, 400)
      .map((r) => r.map((seg) => seg.text).join(''))
      .join(' ');
    expect(rows).toContain(m.id);
    expect(rows).toMatch(new RegExp(`(y|datos a|terminó a las) ${typed}\\b`));
    expect(rows).not.toContain(next);
  });
});
