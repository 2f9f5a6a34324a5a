import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { cliCommandLine, describeResult, parseJsonOutput, runShell } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

/** Mode of every file and folder below `root` (symlinks reported as such). */
function modes(root: string): { path: string; kind: 'dir' | 'file' | 'symlink'; mode: number }[] {
  const out: { path: string; kind: 'dir' | 'file' | 'symlink'; mode: number }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = lstatSync(p);
      const kind = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'file';
      out.push({ path: relative(root, p), kind, mode: st.mode & 0o777 });
      if (kind === 'dir') walk(p);
    }
  };
  walk(root);
  return out;
}

describe('backup files are 0600 and folders 0700 whatever the umask', () => {
  it('create, verify and a restore under umask 000', async () => {
    const s = demoSetup();
    const sh = (args: string[]) =>
      runShell(`umask 000; ${cliCommandLine([...args, '--config', s.configFile])}`, { cwd: s.dir });
    const r = await sh(['create', '--json']);
    expect(r.code, describeResult(r)).toBe(0);
    const m = parseJsonOutput<Manifest>(r.stdout);
    expect((await sh(['verify', m.id])).code).toBe(0);
    // an in-place restore writes a pre_restore set and a restored database
    const rr = await sh(['restore', m.id, '--db', 'users', '--yes']);
    expect(rr.code, describeResult(rr)).toBe(0);

    expect(lstatSync(s.backupDir).mode & 0o777).toBe(0o700);
    const all = modes(s.backupDir);
    expect(all.some((e) => e.path.startsWith('logs/') && e.kind === 'file')).toBe(true);
    expect(all.filter((e) => e.path.includes(m.id)).length).toBeGreaterThan(5);
    expect(all.filter((e) => e.kind === 'symlink')).toEqual([]);
    const wrong = all.filter((e) => e.mode !== (e.kind === 'dir' ? 0o700 : 0o600));
    expect(wrong.map((e) => `${e.path} ${e.kind} ${e.mode.toString(8)}`)).toEqual([]);
    expect(all.find((e) => e.path === 'logs')).toMatchObject({ kind: 'dir', mode: 0o700 });
  });

  it('files restored with --files keep their own modes, as do the folders walked, inside private folders', async () => {
    const s = demoSetup();
    const create = await runShell(`umask 000; ${cliCommandLine(['create', '--json', '--config', s.configFile])}`, {
      cwd: s.dir,
    });
    const m = parseJsonOutput<Manifest>(create.stdout);
    const to = join(s.dir, 'out');
    const r = await runShell(
      `umask 000; ${cliCommandLine(['restore', m.id, '--files', '--to', to, '--yes', '--config', s.configFile])}`,
      { cwd: s.dir },
    );
    expect(r.code, describeResult(r)).toBe(0);
    // The restore's own folders (the target, config/, application/, a config file's parents) are private; each
    // application folder walked keeps its mode, made under umask 000 here (0777 on this machine's defaults).
    const recorded = new Map((m.folders ?? []).map((d) => [`${d.group}/${d.relative}`, d.mode & 0o777]));
    expect(recorded.size).toBeGreaterThan(0);
    expect(statSync(to).mode & 0o777).toBe(0o700);
    for (const e of modes(to)) {
      if (e.kind === 'dir') expect(e.mode, e.path).toBe(recorded.get(e.path) ?? 0o700);
    }
    const envCopy = m.files.find((f) => f.relative.endsWith('.env'))!;
    expect(lstatSync(join(to, envCopy.group, envCopy.relative)).mode & 0o777).toBe(0o600);
    const settings = m.files.find((f) => f.group === 'application' && f.relative.endsWith('settings.json'))!;
    expect(lstatSync(join(to, settings.group, settings.relative)).mode & 0o777).toBe(settings.mode & 0o777);
  });
});
