/**
 * The copy after a backup sends the sets a new differential or incremental applies on before it: when its base
 * cannot be sent (a destination with no room for a full), the incremental is not sent alone, marked copied and
 * `create` exit 0, which left a copy there that no restore can use. Needs root for the small disk (a tmpfs), as CI.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli } from './helpers/offsite.js';
import { execSql, makeBigDb } from './helpers/sqlite.js';
import { demoSetup } from './helpers/tmp.js';
import { mountSmallDisk, tmpfsProblem, unmountAllSmallDisks } from './helpers/tmpfs.js';

afterEach(() => unmountAllSmallDisks());

const diskSkip = tmpfsProblem();
if (diskSkip) console.log(`SKIPPED chain copy on a full destination: ${diskSkip}`);
const MB = 1024 * 1024;

describe.skipIf(diskSkip !== null)('copy after an incremental whose base is not at the destination', () => {
  it('a base that does not fit there keeps the incremental from being sent: exit 12, said, copied later with room', async () => {
    const s = demoSetup();
    makeBigDb(s.dbs.users, 3); // incompressible: its full does not fit on the 1 MB disk, a small delta does
    const disk = mountSmallDisk(join(s.dir, 'nas'), 1 * MB);
    const cfg = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    cfg['destinations'] = [{ name: 'nas', type: 'folder', path: disk.dir, source: 'srv1' }];
    writeFileSync(s.configFile, JSON.stringify(cfg));
    const full = parseJsonOutput<Manifest>(
      (await cli(s, ['create', '--db', 'users', '--no-files', '--json'], 12)).stdout,
    );

    execSql(s.dbs.users, 'UPDATE blobs SET data = randomblob(100) WHERE id = 1');
    const r = await cli(s, ['create', '--db', 'users', '--no-files', '--type', 'incremental', '--json'], 12);
    const inc = parseJsonOutput<Manifest>(r.stdout);
    expect(inc.databases[0]!.base).toBe(full.id);
    expect(r.stderr).toContain(`set ${inc.id} NOT copied to nas: not sent: set ${full.id}, which it applies on`);
    // Not there alone (a manifest there lists it as a set), and marked not copied, so health and the next run see it.
    expect(existsSync(join(disk.dir, 'srv1', inc.id, 'manifest.json'))).toBe(false);
    const marks = JSON.parse(readFileSync(join(s.backupDir, inc.id, 'copies.json'), 'utf8')) as Record<
      string,
      { ok: boolean; error?: string }
    >;
    expect(marks['nas']).toMatchObject({ ok: false });

    // With room, the next copy sends both, the base first, and the incremental restores from there.
    disk.resize(64 * MB);
    await cli(s, ['copy']);
    const to = join(s.dir, 'users-from-nas.db');
    await cli(s, ['restore', inc.id, '--from', 'nas', '--db', 'users', '--to', to, '--yes']);
    expect(existsSync(to)).toBe(true);
  });
});
