import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { useBigDb } from './helpers/big-db.js';
import { demoSetup } from './helpers/tmp.js';
import { TMUX_SERVER, startCliInTmux } from './helpers/tty.js';

const bigDb = useBigDb(100);

describe('progress output of the scheduler', () => {
  it("a scheduler line said while a job's progress line shows starts a line of its own", async () => {
    const s = demoSetup((c) => ({
      ...c,
      databases: [{ name: 'big', path: bigDb() }],
      files: undefined,
      schedule: { jobs: [{ name: 'nightly', when: '* * * * *', type: 'full', databases: ['*'], files: false }] },
    }));
    // A first start catches the job up at once; Ctrl-C as its progress shows says "finishing nightly" (its log line)
    // and the signal's answer. Both were written on after the progress line: `big: 1.0 MB 0% 440 KB/s^CSat 2026-…`.
    const tty = startCliInTmux(['scheduler', '--config', s.configFile], s.dir);
    try {
      await tty.waitForScreen(/big: [\d.]+ (KB|MB|GB) \d+% [\d.]+ (KB|MB|GB)\/s/, 60_000);
      execFileSync('tmux', [...TMUX_SERVER, 'send-keys', '-t', tty.name, 'C-c']);
      await tty.waitForScreen(/finishing nightly, then stopping/, 30_000);
      expect(await tty.exitCode(120_000)).toBe(0);
      const screen = tty.screen();
      expect(screen).toMatch(/^\w{3} \d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? \S+ {2}finishing nightly, then stopping/m);
      expect(screen).toMatch(/^respaldo: SIGINT: finishing the running job, then stopping/m);
      expect(screen).toMatch(/nightly: COMPLETED/);
    } finally {
      tty.kill();
    }
  });
});
