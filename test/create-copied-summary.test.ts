/**
 * `create` says in its summary where the new set was copied off-site (it used to say only where it was not), so the
 * operator knows the set is off-site; --json stays the manifest.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { demoSetup } from './helpers/tmp.js';

/** Every file below `dir`. */
const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));

describe('create with a folder destination', () => {
  it('says once per destination that the set was copied there, with the files sent', async () => {
    const s = demoSetup({
      destinations: [
        { name: 'nas', type: 'folder', path: './nas' },
        { name: 'usb', type: 'folder', path: './usb' },
      ],
    });
    mkdirSync(join(s.dir, 'nas'));
    mkdirSync(join(s.dir, 'usb'));
    const r = await cli(s, ['create']);
    const id = /Backup set (\S+):/.exec(r.stdout)![1]!;
    const sent = walk(join(s.dir, 'nas')).filter((f) => f.includes(id)).length;
    expect(sent).toBeGreaterThan(3);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('Copied to '))).toEqual([
      `Copied to nas (${sent} file(s) sent)`,
      `Copied to usb (${sent} file(s) sent)`,
    ]);
    expect(r.stderr).toBe('');

    // A destination not mounted at one create gets that set with the next, said on the same line.
    const t = demoSetup({ destinations: [{ name: 'nas', type: 'folder', path: './nas' }] });
    const missed = await cli(t, ['create'], 12);
    expect(missed.stdout).not.toContain('Copied to');
    mkdirSync(join(t.dir, 'nas'));
    const next = await cli(t, ['create']);
    const both = walk(join(t.dir, 'nas')).length;
    expect(next.stdout).toContain(`Copied to nas (${both} file(s) sent, with 1 earlier set(s))`);

    // --json: stdout is the manifest alone.
    const json = await cli(s, ['create', '--json']);
    expect(parseJsonOutput<Manifest>(json.stdout).status).toBe('completed');
    expect(json.stdout).not.toContain('Copied to');
  });
});
