import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Encrypter } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import type { Manifest, ManifestEncryption } from '../src/core/types.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli, tree } from './helpers/offsite.js';
import { dbDigest } from './helpers/sqlite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';
import { startCliInTmux, startRecordedInTmux } from './helpers/tty.js';
import { ageKeygen } from './helpers/age.js';
import type { RespaldoError } from '../src/core/errors.js';
import { decrypterFor, unlockIdentity } from '../src/engine/crypt.js';
import { say } from '../src/ui/i18n/index.js';

/**
 * Encryption with age: what respaldo writes is read by Debian's `age` CLI, what `age` writes is
 * restored by respaldo, a damaged file or a missing/wrong key changes nothing, and no secret leaks.
 * Why one file of about 530 lines: every case shares the age key setup and the `age` CLI checks of what was written.
 */

/** A demo setup whose config encrypts to a fresh key; `identity: false` leaves identityFile out. */
function encryptedSetup(opts: { identity?: boolean; extra?: Record<string, unknown> } = {}) {
  const s = demoSetup();
  const keyFile = join(s.dir, 'key.txt');
  const recipient = ageKeygen(keyFile);
  const encryption = {
    recipients: [recipient],
    ...(opts.identity === false ? {} : { identityFile: keyFile }),
    ...opts.extra,
  };
  setConfig(s, { encryption });
  return { s, keyFile, recipient };
}

function setConfig(s: DemoSetup, patch: Record<string, unknown>): void {
  writeFileSync(s.configFile, JSON.stringify({ ...JSON.parse(readFileSync(s.configFile, 'utf8')), ...patch }, null, 2));
}

function readManifest(s: DemoSetup, id: string): Manifest {
  return JSON.parse(readFileSync(join(s.backupDir, id, 'manifest.json'), 'utf8')) as Manifest;
}

function hashes(buf: Buffer) {
  return { md5: createHash('md5').update(buf).digest('hex'), sha256: createHash('sha256').update(buf).digest('hex') };
}

/** Replaces a stored file's bytes and makes the manifest agree (as a tamperer who rewrote both would). */
function replaceStored(s: DemoSetup, id: string, file: string, bytes: Buffer): void {
  writeFileSync(join(s.backupDir, id, file), bytes);
  const m = readManifest(s, id);
  const d = m.databases.find((x) => x.file === file)!;
  Object.assign(d, { storedBytes: bytes.length, ...hashes(bytes) });
  writeFileSync(join(s.backupDir, id, 'manifest.json'), JSON.stringify(m, null, 2));
}

async function create(s: DemoSetup, args: string[] = []): Promise<Manifest> {
  return parseJsonOutput<Manifest>((await cli(s, ['create', '--json', ...args])).stdout);
}

/** The decompressor of a set's codec (zstd on Node 24, gzip where Node lacks zstd). */
function unzip(m: Manifest): string {
  return m.codec === 'zstd' ? 'zstd -dc' : 'gunzip -c';
}

function setIds(s: DemoSetup): string[] {
  return readdirSync(s.backupDir).filter((n) => /^\d{8}_\d{6}/.test(n));
}

/** A set of users encrypted to a key whose identity file is protected by `words` (as `age -p` writes it). */
async function setWithLockedIdentity(words: string) {
  const { s, keyFile, recipient } = encryptedSetup();
  const m = await create(s, ['--db', 'users', '--no-files']);
  const e = new Encrypter();
  e.setPassphrase(words);
  e.setScryptWorkFactor(12);
  const locked = join(s.dir, 'key.age');
  writeFileSync(locked, await e.encrypt(readFileSync(keyFile)), { mode: 0o600 });
  rmSync(keyFile);
  setConfig(s, { encryption: { recipients: [recipient], identityFile: locked } });
  return { s, m, to: join(s.dir, 'r.db') };
}

describe('encrypted sets', () => {
  it('every stored file is an age file the age CLI decrypts; verify needs no key; restore decrypts', async () => {
    const { s, keyFile, recipient } = encryptedSetup({ identity: false });
    const m = await create(s);
    expect(m.encryption).toEqual({ format: 'age', recipients: [recipient], passphrase: false });
    const users = m.databases.find((d) => d.name === 'users')!;
    expect(users.file).toMatch(/^databases\/users_\d{8}_\d{6}\.sqlite\.(zst|gz)\.age$/);
    const stored = join(s.backupDir, m.id, users.file!);
    expect(readFileSync(stored).subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    expect(users.plain).toBeDefined();
    expect(users.sha256).toBe(hashes(readFileSync(stored)).sha256);
    for (const f of m.files.filter((x) => x.kind === 'file')) expect(f.stored).toMatch(/\.(zst|gz)\.age$/);

    // The README's hand-restore recipe, with Debian's age and zstd.
    const out = join(s.dir, 'by-hand.db');
    execFileSync('sh', ['-c', `age -d -i "$1" "$2" | ${unzip(m)} > "$3"`, 'sh', keyFile, stored, out]);
    expect(dbDigest(out)).toEqual(dbDigest(s.dbs.users));
    const plain = execFileSync('age', ['-d', '-i', keyFile, stored]);
    expect(hashes(plain).sha256).toBe(users.plain!.sha256);

    // Backing up and verifying need only the public recipient.
    expect((await cli(s, ['verify', m.id])).stdout).toContain('OK');
    const noKey = await cli(s, ['restore', m.id, '--db', 'users', '--to', join(s.dir, 'r1.db'), '--yes'], 13);
    expect(noKey.stderr).toContain('names no identity');
    expect(noKey.stderr).toContain('identityFile');

    setConfig(s, { encryption: { recipients: [recipient], identityFile: keyFile } });
    await cli(s, ['restore', m.id, '--db', 'users', '--to', join(s.dir, 'r2.db'), '--yes']);
    expect(dbDigest(join(s.dir, 'r2.db'))).toEqual(dbDigest(s.dbs.users));
    await cli(s, ['restore', m.id, '--files', '--to', join(s.dir, 'files'), '--yes']);
    const env = m.files.find((f) => f.group === 'config' && f.source.endsWith('/.env'))!;
    expect(readFileSync(join(s.dir, 'files', 'config', env.relative), 'utf8')).toBe(
      readFileSync(join(s.appDir, '.env'), 'utf8'),
    );
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.tmp'))).toEqual([]);

    // A drill decrypts the same way.
    await cli(s, ['drill', m.id, '--db', 'users', '--files']);

    // No secret key in the manifest, the logs or the config.
    const secret = readFileSync(keyFile, 'utf8').match(/AGE-SECRET-KEY-\S+/)![0];
    for (const f of Object.keys(tree(s.backupDir)))
      expect(readFileSync(join(s.backupDir, f)).includes(secret)).toBe(false);
    expect(readFileSync(s.configFile, 'utf8')).not.toContain('AGE-SECRET-KEY');
  });

  it('respaldo restores a file the age CLI encrypted (same code path as its own)', async () => {
    const { s, keyFile, recipient } = encryptedSetup();
    const m = await create(s, ['--db', 'users', '--no-files']);
    const file = m.databases[0]!.file!;
    const plain = execFileSync('age', ['-d', '-i', keyFile, join(s.backupDir, m.id, file)]);
    const byCli = execFileSync('age', ['-r', recipient], { input: plain });
    replaceStored(s, m.id, file, byCli);
    await cli(s, ['verify', m.id]);
    await cli(s, ['restore', m.id, '--db', 'users', '--to', join(s.dir, 'r.db'), '--yes']);
    expect(dbDigest(join(s.dir, 'r.db'))).toEqual(dbDigest(s.dbs.users));
  });

  it('a flipped byte is damage (exit 5) before anything reaches the target, even when the manifest agrees', async () => {
    const { s } = encryptedSetup();
    const m = await create(s, ['--db', 'users', '--no-files']);
    const file = m.databases[0]!.file!;
    const before = readFileSync(s.dbs.users);
    const sets = setIds(s);
    const bytes = readFileSync(join(s.backupDir, m.id, file));
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0x01;
    writeFileSync(join(s.backupDir, m.id, file), bytes);
    expect((await cli(s, ['restore', m.id, '--db', 'users', '--yes'], 5)).stderr).toContain('mismatch');
    replaceStored(s, m.id, file, bytes); // the ciphertext hashes agree now: only age's authentication can tell
    await cli(s, ['verify', m.id]);
    const r = await cli(s, ['restore', m.id, '--db', 'users', '--yes'], 5);
    expect(r.stderr).toContain('failed authentication');
    expect(readFileSync(s.dbs.users).equals(before)).toBe(true);
    expect(setIds(s)).toEqual(sets); // not even a safety copy was taken
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.tmp'))).toEqual([]);
    expect((await cli(s, ['drill', m.id, '--db', 'users'], 11)).stdout + '').toBeDefined();
  });

  it("a byte of a file's age header changed is damage (exit 5), not a wrong key: the set's own key is the one given", async () => {
    const { s } = encryptedSetup();
    const m = await create(s, ['--db', 'users', '--no-files']);
    const file = m.databases[0]!.file!;
    const bytes = readFileSync(join(s.backupDir, m.id, file));
    // Inside the X25519 stanza of the header ("-> X25519 <share>"): no key opens it any more.
    const stanza = bytes.indexOf('-> X25519 ') + 20;
    bytes[stanza] = bytes[stanza] === 0x41 ? 0x42 : 0x41;
    replaceStored(s, m.id, file, bytes); // the manifest agrees: only the header can tell
    const before = readFileSync(s.dbs.users);
    const r = await cli(s, ['restore', m.id, '--db', 'users', '--yes'], 5);
    expect(r.stderr).toContain(`its age header holds no key the set's identity opens`);
    expect(r.stderr).not.toContain('encrypted for another key');
    expect((await cli(s, ['verify', m.id, '--read-data'], 5)).stdout + '').toBeDefined();
    expect(readFileSync(s.dbs.users).equals(before)).toBe(true);
  });

  it('a wrong key or an unreadable identity file is exit 13 with a hint; nothing changes', async () => {
    const { s, recipient } = encryptedSetup();
    const m = await create(s, ['--db', 'users', '--no-files']);
    const other = join(s.dir, 'other.txt');
    const otherRecipient = ageKeygen(other);
    setConfig(s, { encryption: { recipients: [recipient], identityFile: other } });
    const before = readFileSync(s.dbs.users);
    const r = await cli(s, ['restore', m.id, '--db', 'users', '--yes'], 13);
    expect(r.stderr).toContain(`does not hold the key of set ${m.id}`);
    expect(r.stderr).toContain(otherRecipient);
    expect(r.stderr).toMatch(/hint: /);
    setConfig(s, { encryption: { recipients: [recipient], identityFile: join(s.dir, 'missing.txt') } });
    expect((await cli(s, ['restore', m.id, '--db', 'users', '--yes'], 13)).stderr).toContain(
      'Cannot read the identity file',
    );
    expect((await cli(s, ['drill', m.id], 13)).stderr).toContain('Cannot read the identity file');
    // a key cut short: said so (it was "it opens nothing")
    const cut = join(s.dir, 'cut.txt');
    writeFileSync(cut, readFileSync(other, 'utf8').replace(/(AGE-SECRET-KEY-1\w{20})\w+/, '$1'), { mode: 0o600 });
    setConfig(s, { encryption: { recipients: [recipient], identityFile: cut } });
    const bad = await cli(s, ['restore', m.id, '--db', 'users', '--yes'], 13);
    expect(bad.stderr).toContain(`The identity file ${cut} holds no valid age identity`);
    expect(bad.stderr).not.toContain('opens nothing');
    expect(readFileSync(s.dbs.users).equals(before)).toBe(true);
  });

  it('a new key: one identity file holding the old key and the new one reads the sets of both, as `age -d -i` does', async () => {
    const { s, keyFile } = encryptedSetup();
    const old = await create(s, ['--db', 'users', '--no-files']);
    // The key changed: new sets to the new recipient, the old key kept in the same identity file (age's own format:
    // one identity a line) for the sets made before.
    const newKey = join(s.dir, 'new.txt');
    const newRecipient = ageKeygen(newKey);
    const both = join(s.dir, 'both.txt');
    writeFileSync(both, readFileSync(keyFile, 'utf8') + readFileSync(newKey, 'utf8'), { mode: 0o600 });
    setConfig(s, { encryption: { recipients: [newRecipient], identityFile: both } });
    const made = await create(s, ['--db', 'users', '--no-files']);
    expect(made.encryption?.recipients).toEqual([newRecipient]);
    for (const m of [old, made]) {
      expect((await cli(s, ['verify', m.id, '--read-data'])).stdout).toContain(`${m.id}: OK`);
      const to = join(s.dir, `${m.id}.db`);
      await cli(s, ['restore', m.id, '--db', 'users', '--to', to, '--yes']);
      expect(dbDigest(to)).toEqual(dbDigest(s.dbs.users));
      const stored = join(s.backupDir, m.id, m.databases[0]!.file!);
      const plain = execFileSync('sh', ['-c', `age -d -i "$1" "$2" | ${unzip(m)}`, 'sh', both, stored]);
      expect(plain.length).toBe(statSync(to).size);
    }
    // The old key alone no longer reads the new sets: exit 13 naming the set.
    setConfig(s, { encryption: { recipients: [newRecipient], identityFile: keyFile } });
    expect((await cli(s, ['verify', made.id, '--read-data'], 13)).stderr).toContain(
      `does not hold the key of set ${made.id}`,
    );
  });

  it('a passphrase-protected identity opens with RESPALDO_PASSPHRASE_FILE; without it and no terminal, exit 13', async () => {
    const { s, keyFile, recipient } = encryptedSetup();
    const m = await create(s, ['--db', 'users', '--no-files']);
    // The identity file encrypted with a passphrase (scrypt), as `age -p` writes it.
    const e = new Encrypter();
    e.setPassphrase('correct horse battery staple');
    e.setScryptWorkFactor(12);
    const locked = join(s.dir, 'key.age');
    writeFileSync(locked, await e.encrypt(readFileSync(keyFile)), { mode: 0o600 });
    rmSync(keyFile);
    setConfig(s, { encryption: { recipients: [recipient], identityFile: locked } });
    const to = join(s.dir, 'r.db');
    const none = await cli(s, ['restore', m.id, '--db', 'users', '--to', to, '--yes'], 13);
    expect(none.stderr).toContain('protected by a passphrase');
    expect(none.stderr).toContain('RESPALDO_PASSPHRASE_FILE');
    const wrong = join(s.dir, 'wrong.txt');
    writeFileSync(wrong, 'not it\n', { mode: 0o600 });
    expect(
      (await cli(s, ['restore', m.id, '--db', 'users', '--to', to, '--yes'], 13, { RESPALDO_PASSPHRASE_FILE: wrong }))
        .stderr,
    ).toContain(
      `Wrong passphrase for the identity file ${locked}.\nhint: Put the identity file's passphrase in ${wrong} (the file RESPALDO_PASSPHRASE_FILE names), or unset RESPALDO_PASSPHRASE_FILE to be asked for it.`,
    );
    // a file named that cannot be read: how to fix it, not "run it on a terminal" (it is read at a terminal too)
    const nowhere = join(s.dir, 'nope.txt');
    const missing = await cli(s, ['restore', m.id, '--db', 'users', '--to', to, '--yes'], 13, {
      RESPALDO_PASSPHRASE_FILE: nowhere,
    });
    expect(missing.stderr).toContain(
      `Cannot read the passphrase file named by RESPALDO_PASSPHRASE_FILE: ${nowhere} (ENOENT).\nhint: Put the passphrase in that file (mode 0600), or unset RESPALDO_PASSPHRASE_FILE to be asked for it on the terminal`,
    );
    process.env['RESPALDO_PASSPHRASE_FILE'] = nowhere;
    const unread = (await decrypterFor(
      { encryption: { identityFile: locked } },
      {
        recipients: [recipient],
      } as ManifestEncryption,
      m.id,
    ).catch((e: unknown) => e)) as RespaldoError;
    delete process.env['RESPALDO_PASSPHRASE_FILE'];
    expect(say('es', unread.phrases!.message, unread.message)).toBe(
      `No se puede leer el archivo de la frase de paso que indica RESPALDO_PASSPHRASE_FILE: ${nowhere} (no existe).`,
    );
    expect(say('es', unread.phrases!.hint, '')).toContain('o quite RESPALDO_PASSPHRASE_FILE para que se pida');
    expect(existsSync(to)).toBe(false);
    // Typed in the menu: said in its language, and no word of a file nobody named
    const typed = (await unlockIdentity(locked, 'wrong horse').catch((e: unknown) => e)) as RespaldoError;
    expect(say('es', typed.phrases!.message, typed.message)).toBe(
      `La frase de paso no abre el archivo de identidad ${locked}.`,
    );
    expect([typed.hint, say('es', typed.phrases!.hint, typed.hint ?? '')]).toEqual([
      'Type it again.',
      'Escríbala de nuevo.',
    ]);
    const right = join(s.dir, 'pass.txt');
    writeFileSync(right, 'correct horse battery staple\n', { mode: 0o600 });
    await cli(s, ['restore', m.id, '--db', 'users', '--to', to, '--yes'], 0, { RESPALDO_PASSPHRASE_FILE: right });
    expect(dbDigest(to)).toEqual(dbDigest(s.dbs.users));
    const logs = Object.keys(tree(join(s.backupDir, 'logs')));
    for (const f of logs) expect(readFileSync(join(s.backupDir, 'logs', f), 'utf8')).not.toContain('correct horse');
  });

  it('on a terminal the passphrase of a protected identity is asked, not echoed', async () => {
    const { s, m, to } = await setWithLockedIdentity('tty secret words');
    const tty = startCliInTmux(
      ['restore', m.id, '--db', 'users', '--to', to, '--yes', '--config', s.configFile],
      s.dir,
    );
    try {
      await tty.waitForScreen(/Passphrase of the identity file/);
      tty.type('tty secret words', true);
      expect(await tty.exitCode()).toBe(0);
      expect(tty.screen()).not.toContain('tty secret words');
    } finally {
      tty.kill();
    }
    expect(dbDigest(to)).toEqual(dbDigest(s.dbs.users));
  });

  it('the terminal closing at the passphrase prompt stops the restore cleanly: nothing written, interrupted logged', async () => {
    const { s, m, to } = await setWithLockedIdentity('tty secret words');
    const tty = startRecordedInTmux(
      ['restore', m.id, '--db', 'users', '--to', to, '--yes', '--config', s.configFile],
      s.dir,
    );
    try {
      await tty.waitForScreen(/Passphrase of the identity file/);
      tty.closeTerminal();
      // ended by the hang-up once it stopped, not waiting forever on a prompt whose terminal is gone
      expect(await tty.ended()).toEqual({ code: null, signal: 'SIGHUP' });
    } finally {
      tty.closeTerminal();
    }
    expect(existsSync(to)).toBe(false);
    expect(readdirSync(s.backupDir).filter((n) => n.startsWith('.'))).toEqual([]);
    const logs = join(s.backupDir, 'logs');
    const logged = readdirSync(logs)
      .map((f) => readFileSync(join(logs, f), 'utf8'))
      .join('');
    expect(logged).toContain('interrupted (terminal closed)');
  });

  it('on a terminal the passphrase of the backups is asked once per drill, and a wrong one is refused first', async () => {
    const s = demoSetup();
    const words = join(s.dir, 'backups.pass');
    writeFileSync(words, 'drill words\n', { mode: 0o600 });
    setConfig(s, { encryption: { passphraseFile: './backups.pass' } });
    const m = await create(s, ['--db', 'users', '--no-files']);
    rmSync(words);
    setConfig(s, { encryption: undefined });

    const drillOnTty = () => startCliInTmux(['drill', m.id, '--db', 'users', '--config', s.configFile], s.dir);
    const wrong = drillOnTty();
    try {
      await wrong.waitForScreen(/Passphrase of the backups of set/);
      wrong.type('not the words', true);
      expect(await wrong.exitCode()).toBe(13);
      expect(wrong.screen()).toContain('Wrong passphrase');
    } finally {
      wrong.kill();
    }
    // the key is checked before the drill: no drill was recorded
    expect(existsSync(join(s.backupDir, m.id, 'drilled.json'))).toBe(false);

    const tty = drillOnTty();
    try {
      await tty.waitForScreen(/Passphrase of the backups of set/);
      tty.type('drill words', true);
      expect(await tty.exitCode()).toBe(0);
      // the drill's key check and its decryption used the one answer (they asked once each before)
      expect(tty.screen().match(/Passphrase of the backups/g)).toHaveLength(1);
      expect(tty.screen()).not.toContain('drill words');
    } finally {
      tty.kill();
    }
    expect(JSON.parse(readFileSync(join(s.backupDir, m.id, 'drilled.json'), 'utf8'))).toMatchObject({
      results: { users: { ok: true } },
    });
  });

  it('a passphrase recipient (scrypt) instead of public keys', async () => {
    const s = demoSetup();
    writeFileSync(join(s.dir, 'backups.pass'), 'a long passphrase for the backups\n', { mode: 0o600 });
    setConfig(s, { encryption: { passphraseFile: './backups.pass' } });
    const m = await create(s, ['--db', 'users', '--no-files']);
    expect(m.encryption).toEqual({ format: 'age', recipients: [], passphrase: true });
    const manifestText = readFileSync(join(s.backupDir, m.id, 'manifest.json'), 'utf8');
    expect(manifestText).not.toContain('a long passphrase');
    await cli(s, ['restore', m.id, '--db', 'users', '--to', join(s.dir, 'r.db'), '--yes']);
    expect(dbDigest(join(s.dir, 'r.db'))).toEqual(dbDigest(s.dbs.users));
  });

  it('a passphrase set on a server without the passphrase file: a wrong RESPALDO_PASSPHRASE_FILE is "Wrong passphrase"', async () => {
    const s = demoSetup();
    writeFileSync(join(s.dir, 'backups.pass'), 'a long passphrase for the backups\n', { mode: 0o600 });
    setConfig(s, { encryption: { passphraseFile: './backups.pass' } });
    const m = await create(s, ['--db', 'users', '--no-files']);
    // The new server's config names no passphrase file; the operator brings it in a file of their own.
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    delete doc['encryption'];
    writeFileSync(s.configFile, JSON.stringify(doc, null, 2));
    const to = join(s.dir, 'r.db');
    const wrong = join(s.dir, 'wrong.txt');
    writeFileSync(wrong, 'not it\n', { mode: 0o600 });
    const bad = await cli(s, ['restore', m.id, '--db', 'users', '--to', to, '--yes'], 13, {
      RESPALDO_PASSPHRASE_FILE: wrong,
    });
    expect(bad.stderr).toContain(`Wrong passphrase: it does not open set ${m.id}.`);
    // nothing was typed: the hint is about the file it was read from
    expect(bad.stderr).toContain(`in ${wrong} (the file RESPALDO_PASSPHRASE_FILE names), or unset`);
    expect(bad.stderr).not.toContain('Type the passphrase');
    expect(bad.stderr).not.toContain('identityFile');
    expect(existsSync(to)).toBe(false);
    const right = join(s.dir, 'right.txt');
    writeFileSync(right, 'a long passphrase for the backups\n', { mode: 0o600 });
    const ok = await cli(s, ['restore', m.id, '--db', 'users', '--to', to, '--yes'], 0, {
      RESPALDO_PASSPHRASE_FILE: right,
    });
    expect(ok.stderr).not.toContain('other users');
    expect(dbDigest(to)).toEqual(dbDigest(s.dbs.users));
  });

  it('a passphraseFile changed since the set was made is "Wrong passphrase" naming that file, before anything is done', async () => {
    const s = demoSetup();
    const pass = join(s.dir, 'backups.pass');
    writeFileSync(pass, 'the passphrase of last year\n', { mode: 0o600 });
    setConfig(s, { encryption: { passphraseFile: './backups.pass' } });
    const m = await create(s, ['--db', 'users', '--no-files']);
    writeFileSync(pass, 'the passphrase of this year\n', { mode: 0o600 });
    const to = join(s.dir, 'r.db');
    const bad = await cli(s, ['restore', m.id, '--db', 'users', '--to', to, '--yes'], 13);
    expect(bad.stderr).toContain(`Wrong passphrase: it does not open set ${m.id}.`);
    expect(bad.stderr).toContain(`The passphrase in ${pass} ("encryption.passphraseFile") is not the one`);
    expect(bad.stderr).not.toContain('identityFile');
    expect(existsSync(to)).toBe(false);
    // A drill: the key's problem, not a failed drill of the set (exit 13, nothing recorded)
    const drill = await cli(s, ['drill', m.id], 13);
    expect(drill.stderr).toContain('Wrong passphrase');
    expect(existsSync(join(s.backupDir, m.id, 'drilled.json'))).toBe(false);
    writeFileSync(pass, 'the passphrase of last year\n', { mode: 0o600 });
    await cli(s, ['restore', m.id, '--db', 'users', '--to', to, '--yes']);
    expect(dbDigest(to)).toEqual(dbDigest(s.dbs.users));
  });

  it('a passphrase or identity file other users can read is used, with a warning and the fix on every command', async () => {
    const { s, keyFile } = encryptedSetup();
    chmodSync(keyFile, 0o644);
    const pass = join(s.dir, 'pass.txt');
    writeFileSync(pass, 'anything\n', { mode: 0o640 });
    const r = await cli(s, ['list'], 0, { RESPALDO_PASSPHRASE_FILE: pass });
    expect(r.stderr).toContain(
      `warning: the identity file (encryption.identityFile) ${keyFile} can be read by other users (mode 0644): run chmod 600 ${keyFile}`,
    );
    expect(r.stderr).toContain(
      `the passphrase file named by RESPALDO_PASSPHRASE_FILE ${pass} can be read by other users (mode 0640)`,
    );
    chmodSync(keyFile, 0o600);
    chmodSync(pass, 0o600);
    expect((await cli(s, ['list'], 0, { RESPALDO_PASSPHRASE_FILE: pass })).stderr).not.toContain('other users');
  });

  it('config errors name the field', async () => {
    const s = demoSetup({ encryption: { recipients: ['age1notakey'] } });
    expect((await cli(s, ['list'], 3)).stderr).toContain('encryption.recipients[0]');
    const t = demoSetup({ encryption: { recipients: ['AGE-SECRET-KEY-1QQQ'] } });
    expect((await cli(t, ['list'], 3)).stderr).toContain('is a secret key');
    const u = demoSetup({ destinations: [{ name: 'nas', type: 'folder', path: './nas', encrypt: true }] });
    expect((await cli(u, ['list'], 3)).stderr).toContain('destinations[0].encrypt');
    const v = demoSetup({ encryption: {} });
    expect((await cli(v, ['create'], 3)).stderr).toContain('encryption.recipients');
    expect(existsSync(v.backupDir)).toBe(false);
  });

  it('respaldo key generate writes a 0600 identity the age CLI accepts, refuses to overwrite, prints the recipient', async () => {
    const s = demoSetup();
    const file = join(s.dir, 'k', 'key.txt');
    mkdirSync(join(s.dir, 'k'));
    const r = await cli(s, ['key', 'generate', file]);
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
    const recipient = execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim();
    expect(r.stdout).toContain(recipient);
    expect(r.stdout).not.toContain('AGE-SECRET-KEY');
    const before = readFileSync(file);
    expect((await cli(s, ['key', 'generate', file], 9)).stderr).toContain('already exists');
    expect(readFileSync(file).equals(before)).toBe(true);
    // An empty FILE (a variable not set) is a bad command line, as an empty option value: it was the current
    // folder, "already exists", exit 9.
    const empty = await cli(s, ['key', 'generate', ''], 2);
    expect(empty.stderr).toContain('FILE needs a value, not an empty one');
    expect(empty.stderr).not.toContain('already exists');
  });
});

describe('encrypted copies', () => {
  it('encrypt only off-site: the local set stays plain, the folder copy is encrypted, restore --from decrypts', async () => {
    const s = demoSetup();
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    setConfig(s, {
      encryption: { recipients: [recipient], identityFile: keyFile, local: false },
      destinations: [{ name: 'nas', type: 'folder', path: nas, source: 'srv1', encrypt: true }],
    });
    const m = await create(s);
    expect(m.encryption).toBeUndefined();
    expect(m.databases[0]!.file).toMatch(/\.(zst|gz)$/);
    const remote = join(nas, 'srv1', m.id);
    const remoteFiles = Object.keys(tree(remote));
    expect(remoteFiles.filter((f) => f !== 'manifest.json').every((f) => f.endsWith('.age'))).toBe(true);
    const rm = JSON.parse(readFileSync(join(remote, 'manifest.json'), 'utf8')) as Manifest;
    expect(rm.encryption?.recipients).toEqual([recipient]);
    const users = rm.databases.find((d) => d.name === 'users')!;
    execFileSync('sh', [
      '-c',
      `age -d -i "$1" "$2" | ${unzip(m)} > "$3"`,
      'sh',
      keyFile,
      join(remote, users.file!),
      join(s.dir, 'h.db'),
    ]);
    expect(dbDigest(join(s.dir, 'h.db'))).toEqual(dbDigest(s.dbs.users));

    // A rerun sends nothing; verify --read-data decrypts and checks both hashes.
    const again = parseJsonOutput<{ filesSent: number }[]>((await cli(s, ['copy', m.id, '--json'])).stdout);
    expect(again[0]!.filesSent).toBe(0);
    expect((await cli(s, ['verify', m.id, '--from', 'nas', '--read-data'])).stdout).toContain('OK');

    // The new-server day, with the copy only.
    const before = dbDigest(s.dbs.users);
    rmSync(s.backupDir, { recursive: true, force: true });
    rmSync(s.dbs.users, { force: true });
    await cli(s, ['restore', 'latest', '--from', 'nas', '--db', 'users', '--yes']);
    expect(dbDigest(s.dbs.users)).toEqual(before);

    // Without the key the copy cannot be read back.
    setConfig(s, { encryption: { recipients: [recipient], local: false } });
    expect((await cli(s, ['verify', m.id, '--from', 'nas', '--read-data'], 13)).stderr).toContain('names no identity');
  });

  it('encrypting a set already copied in the clear removes its plain files there, never an operator note beside them', async () => {
    const s = demoSetup();
    const keyFile = join(s.dir, 'key.txt');
    const recipient = ageKeygen(keyFile);
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    const dest = { name: 'nas', type: 'folder', path: nas, source: 'srv1' };
    setConfig(s, { destinations: [dest] });
    const m = await create(s);
    const remote = join(nas, 'srv1', m.id);
    const plain = Object.keys(tree(remote)).filter((f) => f !== 'manifest.json');
    expect(plain.length).toBeGreaterThan(0);
    writeFileSync(join(remote, 'notas.txt'), 'copied here by hand on the day of the audit\n');

    setConfig(s, {
      encryption: { recipients: [recipient], identityFile: keyFile, local: false },
      destinations: [{ ...dest, encrypt: true }],
    });
    const r = parseJsonOutput<{ removedUnencrypted?: string[] }[]>((await cli(s, ['copy', m.id, '--json'])).stdout);
    expect(r[0]!.removedUnencrypted).toEqual([...plain].sort());
    const after = Object.keys(tree(remote)).sort();
    expect(after).toEqual(['manifest.json', 'notas.txt', ...plain.map((f) => f + '.age')].sort());
    expect(readFileSync(join(remote, 'notas.txt'), 'utf8')).toContain('audit');
  });
});
