import { describe, expect, it } from 'vitest';
import { describeResult, runCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

/**
 * What an operator reads on a new server, its backup folder empty and the copies at a destination, and while writing
 * the config for it: each error names what to do next.
 */
const nas = [{ name: 'nas', type: 'folder', path: './nas' }];

describe('hints on a new server', () => {
  it('no set here, a destination configured: restore, drill and show latest name `--from` it; exit 8', async () => {
    const s = demoSetup();
    const withNas = demoSetup({ destinations: nas });
    for (const [args, from] of [
      [['restore', 'latest', '--db', 'users'], '`respaldo restore latest --from nas …` restores from there'],
      [['drill', 'latest', '--db', 'users'], '`respaldo drill latest --from nas …` drills from there'],
      [['show', 'latest'], ''],
    ] as const) {
      const r = await runCli([...args, '--config', withNas.configFile], { cwd: withNas.dir });
      expect(r.code, describeResult(r)).toBe(8);
      expect(r.stderr).toContain('There are no backup sets yet.');
      expect(r.stderr).toContain('This server holds no set. Its copies may be at a destination:');
      expect(r.stderr).toContain('`respaldo list --from nas` lists them');
      if (from) expect(r.stderr).toContain(from);
      // Without a destination, what it always said.
      const plain = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
      expect(plain.code, describeResult(plain)).toBe(8);
      expect(plain.stderr).toContain('hint: Run `respaldo create` first, or check --config / backupDir.');
      expect(plain.stderr).not.toContain('--from');
    }
  });

  it('list with no set here names `list --from` the destination (exit 0); without one, only create', async () => {
    const withNas = demoSetup({ destinations: nas });
    const r = await runCli(['list', '--config', withNas.configFile], { cwd: withNas.dir });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain(
      `No backup sets in ${withNas.backupDir}. Sets copied off-site are listed by: respaldo list --from nas. ` +
        'Create one with: respaldo create',
    );
    const s = demoSetup();
    const plain = await runCli(['list', '--config', s.configFile], { cwd: s.dir });
    expect(plain.code, describeResult(plain)).toBe(0);
    expect(plain.stdout.trim()).toBe(`No backup sets in ${s.backupDir}. Create one with: respaldo create`);
  });

  it('an application folder written as its path alone: the hint writes the object it means', async () => {
    const s = demoSetup({ files: { config: [], application: ['./data/app'] } });
    const r = await runCli(['list', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(3);
    expect(r.stderr).toContain('files.application[0]: found "./data/app", expected an object { … }');
    expect(r.stderr).toContain(
      'hint: Write it as an object: {"path":"./data/app"} (other fields it may have: "include", "exclude").',
    );
    const n = demoSetup({ files: { config: [], application: [7] } });
    const other = await runCli(['list', '--config', n.configFile], { cwd: n.dir });
    expect(other.code, describeResult(other)).toBe(3);
    expect(other.stderr).toContain(
      'hint: Write an object { … } there with "path" (and, if wanted, "include", "exclude").',
    );
  });

  it('a set id not here, a destination configured: the hint says it may be there, and how to restore it', async () => {
    const s = demoSetup({ destinations: nas });
    const r = await runCli(['restore', '20261201_010203', '--db', 'users', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(8);
    expect(r.stderr).toContain(`No backup set 20261201_010203 in ${s.backupDir}.`);
    expect(r.stderr).toContain(
      'set 20261201_010203 may be at a destination: `respaldo list --from nas` lists them, `respaldo restore 20261201_010203 --from nas …` restores from there.',
    );
  });
});
