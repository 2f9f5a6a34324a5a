import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './cli.js';

/**
 * vitest globalSetup: the CLI tests run bin/respaldo.js, which runs dist/. Before any test file
 * runs, dist/ is rebuilt (`tsc -p tsconfig.json`) when a source file (or tsconfig.json) is newer
 * than what was built from it, or its output is missing; a failing build fails the run loudly.
 * A full build costs about 7 s on this project's machine; a fresh dist/ costs only the mtime scan.
 * tsc writes dist/ even when it reports errors: a marker keeps such a build stale until one succeeds.
 */
export default function buildDistIfStale(): void {
  const stale = staleSources();
  if (stale.length === 0) return;
  const shown = stale.slice(0, 3).join(', ') + (stale.length > 3 ? ` and ${stale.length - 3} more` : '');
  process.stderr.write(`dist/ is stale (${shown}): building (tsc -p tsconfig.json)\n`);
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.status !== 0) {
    mkdirSync(join(REPO_ROOT, 'dist'), { recursive: true });
    writeFileSync(FAILED_MARK, `tsc exit ${r.status}\n`);
    const output = `${r.stdout}${r.stderr}`;
    throw new Error(`dist/ is stale (${shown}) and the build failed (tsc exit ${r.status}):\n${output}`);
  }
  rmSync(FAILED_MARK, { force: true });
  const still = staleSources();
  if (still.length > 0) throw new Error(`dist/ is still older than ${still.join(', ')} after a successful build`);
}

const FAILED_MARK = join(REPO_ROOT, 'dist', '.build-failed');

/**
 * Source files (relative to the repository) whose built .js in dist/ is missing or older than they are;
 * `dist/.build-failed` when the last build reported errors.
 */
export function staleSources(): string[] {
  if (existsSync(FAILED_MARK)) return ['dist/.build-failed (the last build failed)'];
  const src = join(REPO_ROOT, 'src');
  const dist = join(REPO_ROOT, 'dist');
  const config = statSync(join(REPO_ROOT, 'tsconfig.json')).mtimeMs;
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        const built = join(dist, relative(src, path)).replace(/\.tsx?$/, '.js');
        const builtAt = existsSync(built) ? statSync(built).mtimeMs : -1;
        if (builtAt < Math.max(statSync(path).mtimeMs, config)) stale.push(relative(REPO_ROOT, path));
      }
    }
  };
  walk(src);
  return stale;
}
