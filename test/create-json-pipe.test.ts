/**
 * `create --json` prints the manifest of the set it made a line at a time, waiting for its reader (a slow pipe had
 * Node queue it all). A reader that leaves early (`| head`) must end that wait: no drain comes after EPIPE.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_BIN, describeResult, runCli, runShell, shq } from './helpers/cli.js';
import { demoSetup, removeTmpDirs } from './helpers/tmp.js';

afterAll(() => removeTmpDirs());

describe('create --json into a reader that leaves', () => {
  it('`create --json | head -c 100`: the set is made, exit 0, no internal error', async () => {
    const s = demoSetup({ files: { config: [], application: [{ path: './data/uploads' }] } });
    const uploads = join(s.dataDir, 'uploads');
    mkdirSync(uploads);
    // About 300 bytes of manifest a file: 600 files are several pipe buffers (64 KiB) of it.
    for (let i = 0; i < 600; i++) writeFileSync(join(uploads, `f${i}.txt`), `file ${i}\n`);
    const rc = join(s.dir, 'rc');
    const err = join(s.dir, 'err');
    const r = await runShell(
      `{ ${shq(process.execPath)} ${shq(CLI_BIN)} create --json --config ${shq(s.configFile)} 2>${shq(err)}; ` +
        `echo $? > ${shq(rc)}; } | head -c 100 > /dev/null`,
      { cwd: s.dir, timeoutMs: 60_000 },
    );
    expect(r.code, describeResult(r)).toBe(0);
    const stderr = readFileSync(err, 'utf8');
    // Before: "internal error: the command stopped waiting on an operation that can never finish", exit 1.
    expect(stderr).not.toContain('internal error');
    expect(readFileSync(rc, 'utf8').trim(), stderr).toBe('0');
    const listed = await runCli(['list', '--config', s.configFile], { cwd: s.dir });
    expect(listed.stdout).toMatch(/completed .* 600 /);
  });
});
