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
    // Most test files wait on child processes and servers (sqlite3, PostgreSQL, sshd, tmux): with two files at
    // once a 2-core machine was busy 1.3 cores of 2 on average (user + sys 1350 s over 1009 s). Three at once
    // (one more than the cores) on the same quiet machine: vitest 864 -> 763 s, every test passing (2026-12-05).
    // Four at once (twice the cores) was slower: 1178 s against 981 for three, user + sys 2153 s against 1749
    // (2026-12-07, quiet): the files then contend for the cores they already kept busy.
    maxWorkers: Math.max(3, availableParallelism()),
    reporters: ['default'],
  },
});
