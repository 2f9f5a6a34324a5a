import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, REPO_ROOT, runCli, runShell, shq } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

/**
 * Node.js upgraded (or another one first on PATH) under an installed respaldo: its native modules were built for
 * the other one. Said as what to do, not as dlopen's words with "check the config". Needs a Node of another ABI
 * than the suite's: the machine's own (/usr/bin/node, Node 20 in CI, the suite on 24).
 */
const OTHER_NODE = '/usr/bin/node';

function otherAbi(): string | null {
  if (!existsSync(OTHER_NODE)) return null;
  const abi = execFileSync(OTHER_NODE, ['-p', 'process.versions.modules']).toString().trim();
  return abi === process.versions.modules ? null : execFileSync(OTHER_NODE, ['--version']).toString().trim();
}

describe('native modules built for another Node.js', () => {
  it('create and restore say which module, which Node, and the rebuild to run; nothing is written or kept as raw bytes', async (ctx) => {
    const version = otherAbi();
    if (!version) {
      console.log(`SKIPPED: no Node.js of another ABI than ${process.version} at ${OTHER_NODE}`);
      ctx.skip();
      return;
    }
    const s = demoSetup();
    const r = await runShell(
      [OTHER_NODE, join(REPO_ROOT, 'bin', 'respaldo.js'), 'create', '--no-files', '--config', s.configFile]
        .map(shq)
        .join(' '),
      { cwd: s.dir },
    );
    expect(r.code, describeResult(r)).toBe(7);
    const said = r.stdout + r.stderr;
    expect(said).toContain(`better_sqlite3.node) was built for another version of Node.js than this one (${version})`);
    // the folder respaldo is installed in: the one node_modules is in (a linked node_modules: where it really is)
    const installed = dirname(realpathSync(join(REPO_ROOT, 'node_modules')));
    expect(said).toContain(`npm rebuild better-sqlite3 ssh2 cpu-features (in ${installed})`);
    expect(said).not.toContain('Check the errors above and the config');
    // every database says it (the module loaded again in the process: "did not self-register")
    expect(said.match(/was built for another version of Node\.js/g)!.length).toBeGreaterThanOrEqual(4);
    expect(said).not.toContain('did not self-register');
    const sets = () => (existsSync(s.backupDir) ? readdirSync(s.backupDir).filter((n) => /^\d{8}_/.test(n)) : []);
    expect(sets()).toEqual([]);

    // a restore in place: its safety copy is not taken as the raw bytes of a file "SQLite cannot read"
    const made = await runCli(['create', '--no-files', '--db', 'users', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const restored = await runShell(
      [OTHER_NODE, join(REPO_ROOT, 'bin', 'respaldo.js'), 'restore', 'latest', '--db', 'users', '--yes']
        .concat(['--config', s.configFile])
        .map(shq)
        .join(' '),
      { cwd: s.dir },
    );
    expect(restored.code, describeResult(restored)).toBe(7);
    expect(restored.stdout + restored.stderr).toContain('was built for another version of Node.js than this one');
    expect(restored.stdout + restored.stderr).not.toContain('cannot be read as a SQLite database');
    expect(sets()).toHaveLength(1);
  });
});
