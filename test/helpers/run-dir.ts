import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Global setup: one folder for this run's shared scratch (the demo templates of tmp.ts), named to every
 * test process by RESPALDO_TEST_RUN_DIR and removed when the run ends. The test processes are ended by the
 * pool without their `exit` handlers running, so each left its templates in /tmp (about 190 MB a run).
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'respaldo-run-'));
  process.env['RESPALDO_TEST_RUN_DIR'] = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
