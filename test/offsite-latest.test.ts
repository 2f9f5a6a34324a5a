/**
 * `restore latest --from NAME` chooses as a local `latest` does: the newest set holding every database asked for
 * (every configured one without --db) and the files when --files; a newer set lacking them is passed over. It took
 * the newest set holding the named databases only: `--files` restored a set without files (nothing, exit 0), and
 * without --db a newer set of one database left the others unrestored, without a word.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import type { RestorePlan } from '../src/engine/restore.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { demoSetup } from './helpers/tmp.js';

describe('restore latest --from a destination', () => {
  it('passes over a newer set that lacks the files or a database, as a local latest does', async () => {
    const s = demoSetup();
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(s.configFile, JSON.stringify({ ...doc, destinations: [{ name: 'nas', type: 'folder', path: nas }] }));
    const whole = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const usersOnly = parseJsonOutput<Manifest>(
      (await cli(s, ['create', '--json', '--db', 'users', '--no-files'])).stdout,
    );
    rmSync(s.backupDir, { recursive: true, force: true }); // the new server: nothing here

    const files = join(s.dir, 'restored-files');
    const r = await cli(s, ['restore', 'latest', '--from', 'nas', '--files', '--to', files, '--yes']);
    expect(r.stdout).toContain(`Set ${whole.id} fetched from destination "nas"`);
    expect(existsSync(join(files, 'application'))).toBe(true);

    const plan = parseJsonOutput<RestorePlan>(
      (await cli(s, ['restore', 'latest', '--from', 'nas', '--dry-run', '--json'])).stdout,
    );
    expect(plan.setId).toBe(whole.id);
    // and says so, as a local latest does
    const text = await cli(s, ['restore', 'latest', '--from', 'nas', '--dry-run']);
    expect(text.stdout).toContain(`latest is set ${whole.id}`);
    expect(text.stdout).toMatch(new RegExp(`newer sets passed over, each with what it lacks: ${usersOnly.id} \\(`));
    expect(plan.databases.map((d) => d.database).sort()).toEqual(['auditoria', 'inventario', 'users']);

    const one = parseJsonOutput<RestorePlan>(
      (await cli(s, ['restore', 'latest', '--from', 'nas', '--db', 'users', '--dry-run', '--json'])).stdout,
    );
    expect(one.setId).toBe(usersOnly.id);

    // a name the config does not know: said as a local restore says it, before the destination is read
    const unknown = await cli(s, ['restore', 'latest', '--from', 'nas', '--db', 'nope', '--to', files, '--yes'], 8);
    expect(unknown.stderr).toContain(`No database named "nope" in ${s.configFile}.`);
    expect(unknown.stderr).not.toContain('--all-sources');
  });
});
