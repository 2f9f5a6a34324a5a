/**
 * Restoring files reports their bytes like every other item (item 12 of issue 10): the total at the
 * start, the bytes written as each file lands, the total at the end; the menu's bar shows them. The
 * default folder for restored files (`restored/<id>` beside the config) is ignored by git.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CollectingReporter, silentReporter, type ProgressEvent } from '../src/core/events.js';
import { loadConfig } from '../src/config/load.js';
import { createBackup } from '../src/engine/create.js';
import { executeRestore, planRestore } from '../src/engine/restore.js';
import { ProgressBar } from '../src/ui/components/ProgressBar.js';
import { emptyProgress, reduceProgress } from '../src/ui/use-progress.js';
import { REPO_ROOT } from './helpers/cli.js';
import { makeTmpDir, writeConfig } from './helpers/tmp.js';
import { renderUi } from './ui-fake-facade.js';

describe('restoring files reports bytes', () => {
  it('total at the start, growing bytes per file, the total at the end, into restored/<id> by default', async () => {
    const setup = writeConfig(makeTmpDir('respaldo-files-progress-'));
    const cfg = await loadConfig({ configPath: setup.configFile });
    const m = await createBackup(cfg, { databases: [], files: true }, silentReporter);
    const plan = await planRestore(cfg, m.id, { databases: [], files: true });
    expect(plan.files!.to).toBe(join(setup.dir, 'restored', m.id));
    const reporter = new CollectingReporter();
    await executeRestore(cfg, plan, reporter);
    const files = reporter.events.filter(
      (e): e is Extract<ProgressEvent, { item: string }> => 'item' in e && e.item === 'files',
    );
    const total = m.files.reduce((n, f) => n + f.size, 0);
    expect(total).toBeGreaterThan(0);
    expect(files[0]).toMatchObject({ type: 'item-start', kind: 'restore', totalBytes: total });
    const progress = files.filter((e) => e.type === 'item-progress').map((e) => (e as { bytes: number }).bytes);
    expect(progress.length).toBe(m.files.filter((f) => f.kind === 'file').length);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(total);
    expect(files.at(-1)).toMatchObject({ type: 'item-end', ok: true, bytes: total });

    // The menu's bar for that item shows the bytes restored, not "0 B".
    let st = emptyProgress;
    for (const e of files) st = reduceProgress(st, e, Date.now());
    const { lastFrame, unmount } = renderUi(<ProgressBar p={st.items[0]!} now={Date.now()} width={100} />);
    const size = total < 1024 ? `${total} B` : undefined;
    expect(lastFrame()).toMatch(size ? new RegExp(`${size}/${size}`) : /(\d+(\.\d)? KB)\/\1/);
    unmount();
  });

  it('the default restored/ folder is ignored by git', () => {
    execFileSync('git', ['check-ignore', '-q', 'restored/20261122_100000/config/.env'], { cwd: REPO_ROOT });
  });
});
