/**
 * A restore of the files alone from a local encrypted set opens each stored file once (strace counts the opens): its
 * ciphertext is hashed as it streams into age, which releases only authenticated chunks, and the decrypted file is
 * decoded into the partial folder, where before it was hashed in a pass of its own, decrypted whole into the scratch
 * folder, then read from there. One flipped byte, in a small file, a large one or a large one's age header, fails
 * the restore with exit 5, recorded as a failed verification, and leaves the target as it was; so does a stored
 * file swapped for another of the set by someone who also rewrote its ciphertext hashes (age authenticates it, its
 * plaintext does not match); one encrypted again from bytes that do not decompress, every hash rewritten, is exit 5
 * saying its data is damaged (not that it failed authentication); a key that is not the set's is exit 13, nothing made.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { Manifest } from '../src/core/types.js';
import { planRestore } from '../src/engine/restore.js';
import { catalogue } from '../src/ui/i18n/index.js';
import { planRows } from '../src/ui/screens/restore-rows.js';
import { createTheme } from '../src/ui/theme.js';
import { ageKeygen, encryptConfig } from './helpers/age.js';
import { CLI_BIN, childEnv, collect, describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expected: number) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, describeResult(r)).toBe(expected);
  return r;
}

/** An encrypted set of an uploads folder: 120 small files (text, random bytes), an empty one, one of 3 MiB. */
async function encryptedUploads(): Promise<{ s: DemoSetup; m: Manifest; files: Map<string, Buffer> }> {
  const s = demoSetup({ files: { config: [], application: [{ path: './data/uploads' }] } });
  const { recipient } = encryptConfig(s.configFile, s.dir);
  const uploads = join(s.dataDir, 'uploads');
  const files = new Map<string, Buffer>();
  for (let i = 0; i < 120; i++)
    files.set(`d${i % 6}/f${i}.bin`, i % 2 ? randomBytes(500 + i * 10) : Buffer.from(`line ${i}\n`.repeat(i)));
  files.set('empty.txt', Buffer.alloc(0));
  files.set('big.bin', Buffer.concat([randomBytes(1 << 20), Buffer.from('text\n'.repeat(400_000))]));
  for (const [name, bytes] of files) {
    mkdirSync(dirname(join(uploads, name)), { recursive: true });
    writeFileSync(join(uploads, name), bytes);
  }
  const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json', '--db', 'users'], 0)).stdout);
  expect(m.encryption?.recipients).toEqual([recipient]);
  return { s, m, files };
}

const storedOf = (s: DemoSetup, m: Manifest, relative: string): string =>
  join(s.backupDir, m.id, m.files.find((f) => f.relative === relative)!.stored!);

/** Flips the byte at `at` of a stored file (its size unchanged; the middle by default); returns its old bytes. */
function damage(path: string, at?: number): Buffer {
  const bytes = readFileSync(path);
  const changed = Buffer.from(bytes);
  changed[at ?? changed.length >> 1]! ^= 0xff;
  writeFileSync(path, changed);
  return bytes;
}

const left = (s: DemoSetup) => readdirSync(s.dir).sort();

describe('a restore of the files alone from an encrypted set', () => {
  it('opens each stored file once, decrypting it on the way, and restores every file whole', async () => {
    const { s, m, files } = await encryptedUploads();
    const to = join(s.dir, 'restored');
    const trace = join(s.dir, 'opens.txt');
    const args = ['restore', m.id, '--files', '--to', to, '--yes', '--config', s.configFile];
    const strace = ['-f', '-qq', '-e', 'trace=openat,mkdir,mkdirat', '-o', trace, process.execPath, CLI_BIN, ...args];
    const traced = spawn('strace', strace, { cwd: s.dir, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const r = await collect(traced);
    expect(r.code, describeResult(r)).toBe(0);
    const lines = readFileSync(trace, 'utf8').split('\n');
    const opened = new Map<string, number>();
    for (const line of lines) {
      const path = /openat\(AT_FDCWD, "([^"]+)", O_RDONLY/.exec(line)?.[1];
      if (path) opened.set(path, (opened.get(path) ?? 0) + 1);
    }
    const stored = m.files.filter((f) => f.stored).map((f) => join(s.backupDir, m.id, f.stored!));
    expect(stored).toHaveLength(files.size);
    expect(stored.every((p) => p.endsWith('.age'))).toBe(true);
    const notOnce = stored.filter((p) => opened.get(p) !== 1).map((p) => `${p}: ${opened.get(p) ?? 0}`);
    expect(notOnce).toEqual([]);
    // Nothing decrypted into a scratch folder first.
    expect(lines.filter((l) => l.includes('/decrypted'))).toEqual([]);
    for (const [name, bytes] of files)
      expect(readFileSync(join(to, 'application', 'uploads', name)).equals(bytes), name).toBe(true);
    const plan = await cli(s, ['restore', m.id, '--files', '--dry-run'], 0);
    // The plan says each is decrypted on the way, not only checked: on the CLI and on the menu's plan screen.
    expect(plan.stdout.replace(/\s+/g, ' ')).toContain(
      'each is decrypted as the restore reads it (age authenticates every chunk) and checked against the manifest (sha256 of the stored file, then of the decrypted file)',
    );
    const cfg = await loadConfig({ configPath: s.configFile });
    const planned = await planRestore(cfg, m.id, { databases: [], files: true, checkAsRead: true });
    const screen = (lang: 'en' | 'es'): string =>
      planRows(planned, { t: catalogue(lang), lang, theme: createTheme({ LANG: 'es_ES.UTF-8' }) }, 80)
        .map((r) => r.map((seg) => seg.text).join(''))
        .join('\n');
    expect(screen('en').replace(/\s+/g, ' ')).toContain('each stored file is decrypted as it is read and checked');
    expect(screen('es').replace(/\s+/g, ' ')).toContain('cada archivo guardado se descifra al leerlo y se comprueba');
    expect(
      Math.max(
        ...screen('es')
          .split('\n')
          .map((l) => l.length),
      ),
    ).toBeLessThanOrEqual(80);
  });

  it('a flipped byte, in a small file, a large one or its age header: exit 5, the target as it was', async () => {
    const { s, m } = await encryptedUploads();
    const empty = join(s.dir, 'restored');
    mkdirSync(empty);
    const before = left(s);
    for (const [victim, at, to] of [
      ['uploads/d3/f15.bin', undefined, empty],
      ['uploads/big.bin', undefined, join(s.dir, 'new', 'place')],
      ['uploads/big.bin', 40, empty],
    ] as const) {
      const path = storedOf(s, m, victim);
      const bytes = damage(path, at);
      const r = await cli(s, ['restore', m.id, '--files', '--to', to, '--yes'], 5);
      expect(r.stderr, `${victim} at ${at}`).toContain(`${victim}.zst.age does not match its manifest (sha256)`);
      expect(left(s), victim).toEqual(before);
      expect(readdirSync(empty), victim).toEqual([]);
      writeFileSync(path, bytes);
    }
    const listed = parseJsonOutput<{ id: string; lastVerified?: { ok: boolean } }[]>(
      (await cli(s, ['list', '--json'], 0)).stdout,
    );
    expect(listed.find((x) => x.id === m.id)?.lastVerified?.ok).toBe(false);
  });

  it('a stored file swapped for another with its ciphertext hashes rewritten: exit 5 on its plaintext, nothing made', async () => {
    const { s, m } = await encryptedUploads();
    // A large file in place of a small one: age authenticates every chunk of it, only its plaintext tells.
    const other = readFileSync(storedOf(s, m, 'uploads/big.bin'));
    const victim = 'uploads/d2/f14.bin';
    writeFileSync(storedOf(s, m, victim), other);
    const manifest = join(s.backupDir, m.id, 'manifest.json');
    const edited = JSON.parse(readFileSync(manifest, 'utf8')) as Manifest;
    Object.assign(
      edited.files.find((f) => f.relative === victim)!,
      {
        storedBytes: other.length,
        md5: createHash('md5').update(other).digest('hex'),
        sha256: createHash('sha256').update(other).digest('hex'),
      },
    );
    writeFileSync(manifest, JSON.stringify(edited, null, 2));
    const before = left(s);
    const to = join(s.dir, 'restored');
    const r = await cli(s, ['restore', m.id, '--files', '--to', to, '--yes'], 5);
    expect(r.stderr).toContain(`${victim}.zst.age of set ${m.id}: the decrypted file does not match the manifest`);
    expect(left(s)).toEqual(before);
  });

  it('a stored file encrypted again from bytes that do not decompress, every hash rewritten: exit 5 saying its data is damaged, not its encryption', async () => {
    const { s, m } = await encryptedUploads();
    const recipient = (JSON.parse(readFileSync(s.configFile, 'utf8')) as { encryption: { recipients: string[] } })
      .encryption.recipients[0]!;
    const manifest = join(s.backupDir, m.id, 'manifest.json');
    const original = readFileSync(manifest);
    // Where a database is restored from, and where verify --read-data reads, the same file says the same.
    const users = m.databases.find((d) => d.name === 'users')!;
    for (const victim of ['uploads/d3/f15.bin', 'uploads/big.bin', users.file!]) {
      const path = victim === users.file ? join(s.backupDir, m.id, victim) : storedOf(s, m, victim);
      const kept = readFileSync(path);
      // Authenticated bytes that are no zstd: age opens them, the decompressor does not.
      const junk = randomBytes(victim === 'uploads/big.bin' ? 2 << 20 : 4000);
      const sealed = execFileSync('age', ['-r', recipient], { input: junk, maxBuffer: 8 << 20 });
      writeFileSync(path, sealed);
      const edited = JSON.parse(original.toString('utf8')) as Manifest;
      const entry: object =
        victim === users.file
          ? edited.databases.find((d) => d.name === 'users')!
          : edited.files.find((f) => f.relative === victim)!;
      Object.assign(entry, {
        storedBytes: sealed.length,
        md5: createHash('md5').update(sealed).digest('hex'),
        sha256: createHash('sha256').update(sealed).digest('hex'),
        plain: {
          bytes: junk.length,
          md5: createHash('md5').update(junk).digest('hex'),
          sha256: createHash('sha256').update(junk).digest('hex'),
        },
      });
      writeFileSync(manifest, JSON.stringify(edited, null, 2));
      const before = left(s);
      const to = join(s.dir, 'restored');
      const args =
        victim === users.file
          ? ['restore', m.id, '--db', 'users', '--to', join(s.dir, 'users-copy.db'), '--yes']
          : ['restore', m.id, '--files', '--to', to, '--yes'];
      const r = await cli(s, args, 5);
      // A database's restore said it so already (its driver decompresses the decrypted file): the files now alike.
      expect(r.stderr, victim).toMatch(
        victim === users.file
          ? /\.sqlite\.zst of users cannot be decompressed \(.*\): it is damaged/
          : /decrypted and authenticated, but its decrypted data does not decompress \(.*\): the data it holds is damaged/,
      );
      expect(r.stderr, victim).not.toContain('failed authentication');
      expect(left(s), victim).toEqual(before);
      writeFileSync(path, kept);
      writeFileSync(manifest, original);
    }
  });

  it('with a database too (the files not checked as read): a file that does not decompress is exit 5, named, with the hint', async () => {
    const { s, m } = await encryptedUploads();
    const recipient = (JSON.parse(readFileSync(s.configFile, 'utf8')) as { encryption: { recipients: string[] } })
      .encryption.recipients[0]!;
    const manifest = join(s.backupDir, m.id, 'manifest.json');
    const victim = 'uploads/d3/f15.bin';
    const junk = randomBytes(4000);
    const sealed = execFileSync('age', ['-r', recipient], { input: junk });
    writeFileSync(storedOf(s, m, victim), sealed);
    const edited = JSON.parse(readFileSync(manifest, 'utf8')) as Manifest;
    Object.assign(
      edited.files.find((f) => f.relative === victim)!,
      {
        storedBytes: sealed.length,
        md5: createHash('md5').update(sealed).digest('hex'),
        sha256: createHash('sha256').update(sealed).digest('hex'),
        plain: {
          bytes: junk.length,
          md5: createHash('md5').update(junk).digest('hex'),
          sha256: createHash('sha256').update(junk).digest('hex'),
        },
      },
    );
    writeFileSync(manifest, JSON.stringify(edited, null, 2));
    const to = join(s.dir, 'restored');
    const r = await cli(s, ['restore', m.id, '--db', 'users', '--files', '--to', to, '--yes'], 5);
    expect(r.stderr.replace(/\s+/g, ' ')).toMatch(
      /The stored file \S+f15\.bin\.zst\S* of application\/uploads\/d3\/f15\.bin cannot be decompressed \(.*\): it is damaged\..* hint: Do not restore from this set\./,
    );
    expect(r.stderr).not.toContain('internal error');
  });

  it("a key that is not the set's: exit 13, nothing made", async () => {
    const { s, m } = await encryptedUploads();
    const config = JSON.parse(readFileSync(s.configFile, 'utf8')) as { encryption: Record<string, unknown> };
    const otherKey = join(s.dir, 'other.txt');
    ageKeygen(otherKey);
    config.encryption['identityFile'] = otherKey;
    writeFileSync(s.configFile, JSON.stringify(config));
    const before = left(s);
    await cli(s, ['restore', m.id, '--files', '--to', join(s.dir, 'restored'), '--yes'], 13);
    expect(left(s)).toEqual(before);
  });
});
