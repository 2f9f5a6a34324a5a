import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, runCli } from './helpers/cli.js';
import { demoSetup, makeTmpDir } from './helpers/tmp.js';

/**
 * What a destination holds may be anything: a manifest that is not JSON is quoted in the error, and its bytes
 * must never reach the operator's terminal as escape sequences (clearing the screen, recolouring what follows).
 */
describe('a damaged manifest at a destination, holding escape sequences', () => {
  it('list --from and restore --from name it without passing its control characters to the terminal', async () => {
    const nas = makeTmpDir();
    const s = demoSetup({ destinations: [{ name: 'nas', type: 'folder', path: nas }], source: 'srv1' });
    const run = (args: string[]) => runCli([...args, '--config', s.configFile], { cwd: s.dir });
    for (let i = 0; i < 2; i++) {
      const made = await run(['create', '--no-files', '--db', 'users']);
      expect(made.code, describeResult(made)).toBe(0);
    }
    const [older, newer] = readdirSync(join(nas, 'srv1'))
      .filter((n) => !n.startsWith('.')) // a copy's claims folder (copy-claim.ts)
      .sort();
    writeFileSync(join(nas, 'srv1', newer!, 'manifest.json'), '\u001b[2J\u001b[31mALL SETS OK\r\n\u009b0m');

    const listed = await run(['list', '--from', 'nas']);
    const restored = await run([
      'restore',
      'latest',
      '--from',
      'nas',
      '--db',
      'users',
      '--to',
      join(s.dir, 'r.db'),
      '--yes',
    ]);
    expect(restored.code, describeResult(restored)).toBe(0);
    for (const r of [listed, restored]) {
      const said = r.stdout + r.stderr;
      expect(said).toContain('unreadable manifest');
      expect(said).not.toMatch(/[\u001b\u009b\r]/);
    }
    expect(listed.stdout).toContain(older!);
    expect(restored.stdout + restored.stderr).toContain(older!);
  });

  it('hints name the destination asked, not a placeholder', async () => {
    const nas = makeTmpDir();
    const s = demoSetup({ destinations: [{ name: 'nas', type: 'folder', path: nas }], source: 'srv1' });
    const run = (args: string[]) => runCli([...args, '--config', s.configFile], { cwd: s.dir });
    expect((await run(['create', '--no-files', '--db', 'users'])).code).toBe(0);
    const missing = await run(['restore', '20990101_000000', '--from', 'nas', '--db', 'users', '--yes']);
    const notId = await run(['restore', 'yesterday', '--from', 'nas', '--db', 'users', '--yes']);
    const at = await run(['restore', '--from', 'nas', '--db', 'users', '--at', '2000-01-01T00:00', '--yes']);
    for (const r of [missing, notId, at]) {
      expect(r.code, describeResult(r)).not.toBe(0);
      expect(r.stderr).toMatch(/respaldo list --from nas\b/);
      expect(r.stderr).not.toContain('NAME');
    }
  });
});
