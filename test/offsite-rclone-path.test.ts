import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CopyResult } from '../src/engine/copy.js';
import type { Manifest } from '../src/core/types.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

/**
 * An rclone destination whose `path` does not exist on its remote (a typo): real rclone, a `local` remote defined by
 * config. `list --from` says the path does not exist there (it listed "no sets"); the first `copy` creates it and
 * says so once; `--json` keeps its fields and adds `created`.
 */
function withRclone(s: DemoSetup, path: string, copyAfterBackup = true): void {
  const dest = {
    ...{ name: 'cloud', type: 'rclone', remote: 'loc', path, source: 'srv1', config: { type: 'local' } },
    copyAfterBackup,
  };
  const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(s.configFile, JSON.stringify({ ...doc, destinations: [dest] }));
}

describe('an rclone destination whose path does not exist', () => {
  it('list --from says the path does not exist (text and --json); the first copy creates it and says so once', async () => {
    const s = demoSetup();
    const typo = join(s.dir, 'remote-typo');
    withRclone(s, typo);
    const text = await cli(s, ['list', '--from', 'cloud'], 7);
    expect(text.stderr).toContain(`the path loc:${typo} does not exist on that remote`);
    expect(text.stderr).toContain('hint: Check "path" of destination "cloud"');
    expect(text.stdout).not.toMatch(/no sets|0 set/i);
    const json = await cli(s, ['list', '--from', 'cloud', '--json'], 7);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: 'failed', exitCode: 7, details: { destination: 'cloud' } });
    expect(existsSync(typo)).toBe(false); // listing created nothing
    // create copies it (copyAfterBackup): the first says it created the path, the next one nothing of it
    const first = await cli(s, ['create', '--db', 'users', '--no-files']);
    expect(first.stdout).toContain(`created loc:${typo} (the path of destination "cloud" did not exist there`);
    expect(first.stdout.match(/created loc:/g)).toHaveLength(1);
    const second = await cli(s, ['create', '--db', 'users', '--no-files']);
    expect(second.stdout).toContain('Copied to cloud');
    expect(second.stdout).not.toContain('created loc:');
    const listed = await cli(s, ['list', '--from', 'cloud']);
    expect(listed.stdout).toContain('2 set(s) at destination "cloud"');
  });

  it('copy --json to a new path adds "created" (the other fields as before)', async () => {
    const s = demoSetup();
    const fresh = join(s.dir, 'new-remote');
    withRclone(s, fresh, false);
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json', '--db', 'users', '--no-files'])).stdout);
    const r = parseJsonOutput<CopyResult[]>((await cli(s, ['copy', m.id, '--to', 'cloud', '--json'])).stdout);
    expect(r).toMatchObject([{ setId: m.id, destination: 'cloud', ok: true, created: `loc:${fresh}` }]);
    expect(Object.keys(r[0]!)).toEqual(
      expect.arrayContaining(['where', 'filesSent', 'bytesSent', 'filesAlreadyThere']),
    );
  });
});
