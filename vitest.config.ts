import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Rebuilds dist/ (run by the CLI tests through bin/respaldo.js) when src/ is newer.
    globalSetup: ['test/helpers/build-dist.ts', 'test/helpers/run-dir.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Most test files wait on child processes and servers (sqlite3, PostgreSQL, sshd, tmux): two files at
    // once on a 2-core machine (vitest's default there is one) took the suite from ~14 to well under 15 min
    // and passed while other work loaded the cores.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    reporters: ['default'],
  },
});
