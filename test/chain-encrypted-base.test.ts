import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { ageKeygen } from './helpers/age.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

/**
 * A set encrypted locally (made while the config encrypted local sets) is never the base of a delta made once the
 * config no longer does ("local": false, as the full's own note advises, or no encryption): its stored files are
 * ciphertext. The next differential or incremental is a full saying the base is encrypted; it read the base's
 * ciphertext as zstd and said a good set was damaged ("cannot be decompressed … it is damaged"), while its dry run
 * announced an incremental on it.
 */

function setConfig(s: DemoSetup, patch: Record<string, unknown>): void {
  writeFileSync(s.configFile, JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), ...patch }, null, 2));
}

async function create(s: DemoSetup, args: string[]): Promise<Manifest> {
  return parseJsonOutput<Manifest>((await cli(s, ['create', '--json', '--db', 'users', '--no-files', ...args])).stdout);
}

describe('an encrypted set as the newest base', () => {
  it('is passed over as a base once local sets are plain: a full saying why, then chains on that full', async () => {
    const s = demoSetup();
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    setConfig(s, { encryption: { recipients: [recipient], identityFile: keyFile } });
    const encrypted = await create(s, []);
    expect(encrypted.encryption?.format).toBe('age');
    const atEncrypted = dbDigest(s.dbs.users);

    setConfig(s, { encryption: { recipients: [recipient], identityFile: keyFile, local: false } });
    const plan = (await cli(s, ['create', '--dry-run', '--db', 'users', '--no-files', '--type', 'incremental'])).stdout;
    expect(plan).toContain('Would create a full backup set');
    expect(plan).toContain(`(${encrypted.id}) cannot be a base: the set is encrypted`);

    const full = await create(s, ['--type', 'incremental']);
    expect(full.type).toBe('full');
    expect(full.encryption).toBeUndefined();
    const notes = (full.chainNotes ?? []).join('\n');
    expect(notes).toContain(`the newest backup of users (${encrypted.id}) cannot be a base: the set is encrypted`);
    expect(notes).not.toMatch(/damaged|decompress/);

    const differential = await create(s, ['--type', 'differential']);
    expect(differential.type).toBe('differential');
    expect(differential.base).toBe(full.id);

    // The encrypted set still restores with its key.
    const out = join(s.dir, 'restored.db');
    await cli(s, ['restore', encrypted.id, '--db', 'users', '--to', out, '--yes']);
    expect(dbDigest(out)).toEqual(atEncrypted);
  });
});
