/**
 * End to end: the new-server day in the menu, with the real built binary in a real terminal (tmux,
 * 80×24). Sets are backed up encrypted (age) and copied to a folder destination, the whole local
 * backup folder and the live users.db are lost, and the key's identity file is passphrase-protected.
 * The menu's restore offers the destination, lists its sets, plans (fetching and checking the set),
 * asks the confirmation word and then the passphrase masked (a wrong one is said and asked again),
 * and restores users.db as it was. Nothing of the fetched set stays behind, the passphrase is on no
 * screen and in no log.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Encrypter } from 'age-encryption';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { CLI_BIN, parseJsonOutput } from './helpers/cli.js';
import { cli, expectNothingLeftNorLogged } from './helpers/offsite.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup, removeTmpDirs } from './helpers/tmp.js';
import { TmuxScreen } from './helpers/tty.js';
import { ageKeygen } from './helpers/age.js';

const PASSPHRASE = 'menu new server words';

afterAll(() => {
  TmuxScreen.closeAll();
  removeTmpDirs();
});

describe('menu end to end: restore from a folder destination on a new server (tmux, 80×24)', () => {
  it('source → destination sets → plan → word → passphrase (wrong, then right) → users.db restored', async () => {
    const s = demoSetup();
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    const config = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    config['encryption'] = { recipients: [recipient], identityFile: './key.txt' };
    config['destinations'] = [{ name: 'nas', type: 'folder', path: './nas', source: 'srv1' }];
    writeFileSync(s.configFile, JSON.stringify(config, null, 2));

    mkdirSync(join(s.dir, 'nas'));
    const before = dbDigest(s.dbs.users);
    await cli(s, ['create', '--db', 'inventario', '--no-files']);
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    expect(m.encryption?.recipients).toEqual([recipient]);

    // The new server: no backup folder, no users.db, and the key protected by a passphrase (`age -p`).
    rmSync(s.backupDir, { recursive: true, force: true });
    for (const x of ['', '-wal', '-shm']) rmSync(s.dbs.users + x, { force: true });
    const e = new Encrypter();
    e.setPassphrase(PASSPHRASE);
    e.setScryptWorkFactor(12);
    writeFileSync(join(s.dir, 'key.age'), await e.encrypt(readFileSync(keyFile)), { mode: 0o600 });
    rmSync(keyFile);
    config['encryption'] = { recipients: [recipient], identityFile: './key.age' };
    writeFileSync(s.configFile, JSON.stringify(config, null, 2));

    const t = await TmuxScreen.open(
      `respaldo-e2e-offsite-${process.pid}`,
      `cd ${s.dir} && env -u RESPALDO_PASSPHRASE_FILE LANG=en_US.UTF-8 LC_ALL= NO_COLOR=1 TERM=xterm-256color node ${CLI_BIN} --config ${s.configFile}; echo EXIT=$?; sleep 60`,
      80,
      24,
    );
    // The header says the way to the sets, in one line where each database had one saying it was never backed up.
    // (Waited for: the header's status loads after the menu is drawn, slowly when the machine is busy.)
    let screen = await t.waitFor('To restore from the off-site copy: 4. Restore, then "nas"');
    expect(screen).toContain('1. Create backup now');
    expect(screen).toContain('WARNING: users, inventario, auditoria have never been backed up successfully');
    expect(screen).toContain('To restore from the off-site copy: 4. Restore, then "nas"');
    await t.key('4');
    // The backup folder holds nothing: the cursor is on the destination, Enter alone goes there.
    screen = await t.waitFor('Destination "nas" (off-site copy)');
    expect(screen).toContain("  This server's backup folder");
    expect(screen).toContain('› Destination "nas" (off-site copy)');
    await t.key('Enter');
    screen = await t.waitFor(new RegExp(`at destination "nas"[\\s\\S]*› latest`), 30_000);
    expect(screen).toContain(m.id);
    await t.key('Enter');
    await t.waitFor('users (sqlite)');
    await t.key('Space');
    await t.waitFor('[x] users (sqlite)');
    await t.key('Enter');
    await t.waitFor('In place: replace the live database');
    await t.key('Enter');
    screen = await t.waitFor('Type RESTORE', 60_000);
    expect(screen).toContain('At destination "nas": its files are there.');
    expect(screen).toContain(`From set: ${m.id}`);
    await t.typeWord('RESTORE');
    await t.key('Enter');
    screen = await t.waitFor('Passphrase of the key');
    expect(screen).toContain('key.age');
    await t.type('not the words');
    await t.waitFor('*************');
    await t.key('Enter');
    screen = await t.waitFor('Wrong passphrase', 30_000);
    expect(existsSync(s.dbs.users)).toBe(false);
    await t.type(PASSPHRASE);
    await t.key('Enter');
    screen = await t.waitFor((x) => x.includes('Restore finished') || x.includes('FAILED'), 60_000);
    expect(screen).toContain('Restore finished');
    for (const secret of [PASSPHRASE, 'not the words']) expect(screen).not.toContain(secret);
    await t.key('Enter');
    await t.waitFor('1. Create backup now');
    await t.key('q');
    await t.waitFor('EXIT=0');

    expect(dbDigest(s.dbs.users)).toEqual(before);
    expectNothingLeftNorLogged(s, PASSPHRASE);
  }, 180_000);
});
