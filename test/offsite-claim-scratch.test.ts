/**
 * A copy to rclone (and s3) writes its claim's few bytes to a file in the system's temporary folder before it sends
 * them. Killed in that moment (kill -9: no `finally`), it left `$TMPDIR/respaldo-claim-XXXXXX/` for good. Its folder
 * now carries its pid: `status` names it once that process is gone, and the next copy (or create, restore) removes it.
 */
import { mkdirSync, readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { collect, describeResult, parseJsonOutput, runCli, startCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

const claims = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('respaldo-claim-'));

describe('the claim file of a copy killed while it wrote it', () => {
  it('kill -9 as the claim folder appears: status names it, the next copy removes it', async () => {
    const s = demoSetup();
    const tmp = join(s.dir, 'tmp');
    mkdirSync(tmp);
    writeFileSync(
      s.configFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(s.configFile, 'utf8')),
        destinations: [
          {
            name: 'cloud',
            type: 'rclone',
            remote: 'offsite',
            path: join(s.dir, 'remote'),
            source: 'srv1',
            config: { type: 'local' },
            copyAfterBackup: false,
          },
        ],
      }),
    );
    const env = { TMPDIR: tmp };
    const cli = (args: string[]) => runCli([...args, '--config', s.configFile], { cwd: s.dir, env });
    const made = await cli(['create', '--json']);
    expect(made.code, describeResult(made)).toBe(0);
    const m = parseJsonOutput<Manifest>(made.stdout);

    const child = startCli(['copy', m.id, '--to', 'cloud', '--config', s.configFile], { cwd: s.dir, env });
    const done = collect(child);
    // Killed the moment its claim folder is made (inotify: no polling interval to miss it in).
    const watcher = watch(tmp, (_event, name) => {
      if (name?.startsWith('respaldo-claim-')) child.kill('SIGKILL');
    });
    const killed = await done;
    watcher.close();
    expect(killed.signal, describeResult(killed)).toBe('SIGKILL');
    const left = claims(tmp);
    expect(left).toHaveLength(1);

    const st = await cli(['status', '--json']);
    expect(parseJsonOutput<{ leftovers: string[] }>(st.stdout).leftovers).toContain(join(tmp, left[0]!));

    const again = await cli(['copy', m.id, '--to', 'cloud', '--json']);
    expect(again.code, describeResult(again)).toBe(0);
    expect(claims(tmp)).toEqual([]);
  });
});
