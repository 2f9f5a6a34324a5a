import { chownSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from './helpers/offsite.js';
import { dbDigest } from './helpers/sqlite.js';
import { sftpDestination, startSshd, stopAllSshd } from './helpers/sshd.js';
import { demoSetup } from './helpers/tmp.js';

/**
 * A database restored in place onto a server where it does not exist (the new-server day) is given to the owner of
 * its folder, the application's user who must write SQLite's journals there; a side-by-side copy stays the
 * restoring user's. Changing owners needs root (CI runs as root).
 */

afterEach(stopAllSshd);

const root = process.getuid?.() === 0;
if (!root) console.log('SKIPPED new-server owner test: chown needs root; run as root to include it.');

describe.skipIf(!root)('a database restored where none is', () => {
  it('takes the owner of its folder, mode 0600; a side-by-side copy does not', async () => {
    const srv = await startSshd();
    const s = demoSetup();
    writeFileSync(
      s.configFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(s.configFile, 'utf8')),
        destinations: [sftpDestination(srv, { source: 'srv1' })],
      }),
    );
    await cli(s, ['create', '--db', 'users', '--no-files']);
    const before = dbDigest(s.dbs.users);
    rmSync(s.backupDir, { recursive: true, force: true });
    const folder = dirname(s.dbs.users);
    for (const x of ['', '-wal', '-shm']) rmSync(s.dbs.users + x, { force: true });
    chownSync(folder, 4242, 4343); // the application's user, as the operator made its folder on the new server

    const r = await cli(s, ['restore', 'latest', '--from', 'ssh', '--db', 'users', '--yes']);
    expect(r.stdout).toContain('it takes the owner of its folder');
    const st = statSync(s.dbs.users);
    expect([st.uid, st.gid, (st.mode & 0o777).toString(8)]).toEqual([4242, 4343, '600']);
    expect(dbDigest(s.dbs.users)).toEqual(before);

    const side = join(s.dir, 'side');
    mkdirSync(side);
    chownSync(side, 4242, 4343);
    await cli(s, ['restore', 'latest', '--from', 'ssh', '--db', 'users', '--to', join(side, 'u.db'), '--yes']);
    expect(statSync(join(side, 'u.db')).uid).toBe(process.getuid!());
  });
});
