import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES, buildProgram } from '../src/cli/program.js';
import { CLI_BIN, REPO_ROOT, collect, describeResult, startNode } from './helpers/cli.js';
import { demoSetup, makeTmpDir } from './helpers/tmp.js';

const TRACE_HOOK = join(REPO_ROOT, 'test', 'helpers', 'module-trace.mjs');
const COMMAND_MODULES = [
  'create',
  'list',
  'verify',
  'restore',
  'drill',
  'manage',
  'prune',
  'schedule',
  'notify',
  'key',
];

/** Runs the built CLI with the module trace preloaded: its result and every module it loaded (as URLs). */
async function traced(args: string[], cwd: string) {
  const trace = join(makeTmpDir(), 'modules.txt');
  const r = await collect(
    startNode(['--import', TRACE_HOOK, CLI_BIN, ...args], { cwd, env: { RESPALDO_MODULE_TRACE: trace } }),
  );
  const loaded = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
  const commandModules = loaded
    .map((url) => /\/dist\/cli\/commands\/([a-z-]+)\.js$/.exec(url)?.[1])
    .filter((m): m is string => m !== undefined && COMMAND_MODULES.includes(m));
  return { r, loaded, commandModules };
}

const uiOrMenu = (url: string) => /\/dist\/ui\/|\/node_modules\/(ink|react|@inkjs)\//.test(url);

describe('each command loads only its own module', () => {
  it.each([
    ['list', ['list'], ['list'], 0],
    ['status', ['status'], ['manage'], 0],
    ['verify --all (nothing to verify)', ['verify', '--all'], ['verify'], 0],
  ])('%s: its command module and no other, no menu, no Ink or React', async (_name, args, expected, code) => {
    const s = demoSetup();
    const { r, loaded, commandModules } = await traced([...args, '--config', s.configFile], s.dir);
    expect(r.code, describeResult(r)).toBe(code);
    expect(loaded.some((u) => u.endsWith('/dist/cli/program.js'))).toBe(true);
    expect(commandModules).toEqual(expected);
    expect(loaded.filter(uiOrMenu)).toEqual([]);
  });

  it('--help loads every command module and lists every command', async () => {
    const { r, commandModules } = await traced(['--help'], REPO_ROOT);
    expect(r.code, describeResult(r)).toBe(0);
    expect([...commandModules].sort()).toEqual([...COMMAND_MODULES].sort());
    for (const name of COMMAND_NAMES) expect(r.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
  });

  it("the table of command names is what the modules register, in help's order, each name to its module", async () => {
    const all = await buildProgram();
    expect(all.commands.map((c) => c.name())).toEqual(COMMAND_NAMES);
    const list = await buildProgram(['list', '--json']);
    expect(list.commands.map((c) => c.name())).toEqual(['list', 'show']);
    for (const name of COMMAND_NAMES)
      expect((await buildProgram([name, '--help'])).commands.map((c) => c.name())).toContain(name);
    const mistyped = await buildProgram(['lst']);
    expect(mistyped.commands.map((c) => c.name())).toEqual(COMMAND_NAMES);
  });
});
