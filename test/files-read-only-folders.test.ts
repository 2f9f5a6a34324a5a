/**
 * respaldo run as the application's user (not root) on an application with a read-only folder (a deployed release,
 * 0555): restored files keep their folders' modes, so the scratch copy a drill of the files makes, and the partial
 * folder of a failed restore, have folders their owner cannot empty. Removed with a plain `rm -rf`, the drill failed
 * (exit 7) and left its scratch in the backup folder, and every later create and drill failed removing it.
 * Running as another user needs root to start it (CI runs as root); the node binary is linked where that user can
 * run it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, linkSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_BIN } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

const NOBODY = 65534;
const root = process.getuid?.() === 0;
if (!root) console.log('SKIPPED files-read-only-folders: running respaldo as another user needs root.');

describe.skipIf(!root)('read-only folders of the files, respaldo not run as root', () => {
  it('a drill of the files removes its scratch copy, and the next create runs', () => {
    const s = demoSetup({ files: { config: [], application: [{ path: './data/app', include: [] }] } });
    mkdirSync(join(s.appDir, 'release', 'lib'), { recursive: true });
    writeFileSync(join(s.appDir, 'release', 'lib', 'x.js'), 'x\n');
    writeFileSync(join(s.appDir, 'release', 'VERSION'), '4.2\n');
    chmodSync(join(s.appDir, 'release', 'lib'), 0o555);
    chmodSync(join(s.appDir, 'release'), 0o555);
    const node = join(s.dir, 'node');
    try {
      linkSync(process.execPath, node);
    } catch {
      copyFileSync(process.execPath, node);
    }
    chmodSync(s.dir, 0o755);
    spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, s.dir]);
    const run = (args: string[]) => {
      const r = spawnSync(node, [CLI_BIN, ...args, '--config', s.configFile], {
        cwd: s.dir,
        uid: NOBODY,
        gid: NOBODY,
        env: { ...process.env, HOME: s.dir, RESPALDO_CONFIG: undefined },
        encoding: 'utf8',
      });
      return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
    };
    const probe = run(['--version']);
    if (probe.code !== 0) {
      console.log(`SKIPPED files-read-only-folders: the repository cannot be read as uid ${NOBODY}: ${probe.out}`);
      return;
    }
    const made = run(['create']);
    expect(made.code, made.out).toBe(0);

    const drill = run(['drill', 'latest', '--files']);
    expect(drill.code, drill.out).toBe(0);
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    const again = run(['create']);
    expect(again.code, again.out).toBe(0);
  });
});
