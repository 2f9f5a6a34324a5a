import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { SEALED_SENT_JOURNAL, SEALED_SENT_NAME, SealedSentRecord } from '../src/engine/copy-seal.js';
import type { SealedFile } from '../src/engine/sealed-files.js';
import { ageKeygen } from './helpers/age.js';
import { parseJsonOutput } from './helpers/cli.js';
import { cli, peakRss, sealedSentPaths } from './helpers/offsite.js';
import { demoSetup, makeTmpDir } from './helpers/tmp.js';

/**
 * A set of many small files copied encrypted only off-site (copy-seal.ts): the record of what was sent
 * (`sealed-sent.json`) was written whole after every file, each send waiting for its write, and a snapshot of it kept
 * for every write queued: 5000 files took 112–118 s and peaked at 276–322 MiB RSS.
 */
const enc = { format: 'age' as const, recipients: ['age1x'], passphrase: false };
const file = (n: number): SealedFile => ({
  plain: { bytes: n, md5: 'a'.repeat(32), sha256: 'b'.repeat(64) },
  sealed: { bytes: n + 200, md5: 'c'.repeat(32), sha256: 'd'.repeat(64) },
});
const recorded = (dir: string) => sealedSentPaths(dir, 'nas');

describe('the record of files sent encrypted', () => {
  it('holds every file recorded once flushed; read back, those there at their recorded size are skipped', async () => {
    const dir = makeTmpDir();
    const record = new SealedSentRecord(dir, 'nas', enc);
    for (let i = 0; i < 2000; i++) record.record(`application/f${i}.zst`, file(i));
    await record.flush();
    expect(recorded(dir)).toHaveLength(2000);
    // read back as a copy cut short reads it: the files there with their recorded size are skipped
    const again = new SealedSentRecord(dir, 'nas', enc);
    const parts = [0, 1, 2].map((i) => ({ path: `application/f${i}.zst`, size: i, sha256: 'b'.repeat(64) }));
    const remote = new Map([
      ['application/f0.zst.age', 200],
      ['application/f1.zst.age', 999], // another size there: sent again
    ]);
    expect([...again.alreadySent(parts, remote).keys()]).toEqual(['application/f0.zst']);
  });

  it('each write adds the files recorded since: the record is never written again whole', async () => {
    const dir = makeTmpDir();
    const journal = join(dir, SEALED_SENT_JOURNAL);
    const record = new SealedSentRecord(dir, 'nas', enc);
    record.record('application/f0.zst', file(0));
    await record.flush();
    const first = readFileSync(journal, 'utf8');
    const inode = statSync(journal).ino;
    record.record('application/f1.zst', file(1));
    await record.flush();
    const second = readFileSync(journal, 'utf8');
    expect(second.startsWith(first)).toBe(true);
    expect(statSync(journal).ino).toBe(inode);
    expect(second.slice(first.length).trim().split('\n')).toHaveLength(1);
    expect(statSync(journal).mode & 0o777).toBe(0o600);
  });

  it('read back: a line cut short by a kill is skipped, files sent to other recipients are not skipped', async () => {
    const dir = makeTmpDir();
    const journal = join(dir, SEALED_SENT_JOURNAL);
    const parts = [0, 1, 2].map((i) => ({ path: `application/f${i}.zst`, size: i, sha256: 'b'.repeat(64) }));
    const remote = new Map(parts.map((p, i) => [`${p.path}.age`, i + 200]));
    const killed = new SealedSentRecord(dir, 'nas', enc);
    killed.record('application/f0.zst', file(0));
    killed.record('application/f1.zst', file(1));
    await killed.flush();
    appendFileSync(journal, '{"destination":"nas","path":"application/f2.zst","pla'); // killed in its write
    const rerun = new SealedSentRecord(dir, 'nas', enc);
    expect([...rerun.alreadySent(parts, remote).keys()].sort()).toEqual(['application/f0.zst', 'application/f1.zst']);
    rerun.record('application/f2.zst', file(2));
    await rerun.flush();
    const third = new SealedSentRecord(dir, 'nas', enc);
    expect(third.alreadySent(parts, remote).size).toBe(3); // the rerun's lines start on a line of their own
    // The recipients changed since: what was sent was encrypted for others, and is sent again.
    const other = new SealedSentRecord(dir, 'nas', { ...enc, recipients: ['age1y'] });
    expect(other.alreadySent(parts, remote).size).toBe(0);
    other.record('application/f0.zst', file(0));
    await other.flush();
    // Back to the first recipients: only what was sent since the change counts (the change replaced those files).
    expect(new SealedSentRecord(dir, 'nas', enc).alreadySent(parts, remote).size).toBe(0);
  });

  it('the record an earlier build wrote whole (sealed-sent.json) is read to resume, and cleared with the copy', async () => {
    const dir = makeTmpDir();
    writeFileSync(
      join(dir, SEALED_SENT_NAME),
      JSON.stringify({ nas: { encryption: enc, files: { 'a.zst': file(1) } }, cloud: { encryption: enc, files: {} } }),
    );
    const record = new SealedSentRecord(dir, 'nas', enc);
    const parts = [{ path: 'a.zst', size: 1, sha256: 'b'.repeat(64) }];
    expect([...record.alreadySent(parts, new Map([['a.zst.age', 201]])).keys()]).toEqual(['a.zst']);
    await record.clear();
    expect(Object.keys(JSON.parse(readFileSync(join(dir, SEALED_SENT_NAME), 'utf8')) as object)).toEqual(['cloud']);
    await new SealedSentRecord(dir, 'cloud', enc).clear();
    expect(existsSync(join(dir, SEALED_SENT_NAME))).toBe(false);
  });

  it('cleared while a write waits: nothing is left beside the set, other destinations kept', async () => {
    const dir = makeTmpDir();
    const other = new SealedSentRecord(dir, 'cloud', enc);
    other.record('a.zst', file(1));
    await other.flush();
    const record = new SealedSentRecord(dir, 'nas', enc);
    record.record('a.zst', file(1));
    record.record('b.zst', file(2)); // waits for the first write
    await record.clear();
    expect(recorded(dir)).toEqual([]);
    expect(sealedSentPaths(dir, 'cloud')).toEqual(['a.zst']);
    await other.clear();
    expect(existsSync(join(dir, SEALED_SENT_JOURNAL))).toBe(false);
  });
  it("cleared, drops its own lines unread and keeps another destination's, whatever their layout", async () => {
    const dir = makeTmpDir();
    const record = new SealedSentRecord(dir, 'nas', enc);
    for (let i = 0; i < 1000; i++) record.record(`f${i}.zst`, file(i));
    await record.flush();
    // A destination whose name starts as this one's, and a line of it written with its fields in another order.
    const other = new SealedSentRecord(dir, 'nas2', enc);
    other.record('a.zst', file(1));
    await other.flush();
    appendFileSync(
      join(dir, SEALED_SENT_JOURNAL),
      JSON.stringify({ path: 'b.zst', plain: file(2).plain, sealed: file(2).sealed, destination: 'nas2' }) +
        '\n{"destination":"nas","path":"cut sh\n',
    );
    const parse = vi.spyOn(JSON, 'parse');
    try {
      await new SealedSentRecord(dir, 'nas', enc).clear();
      // Read twice (counted, then kept): the lines of nas2 and the one of nas cut short, not the 1001 of nas.
      expect(parse.mock.calls.length).toBeLessThan(20);
    } finally {
      parse.mockRestore();
    }
    expect(recorded(dir)).toEqual([]);
    expect(sealedSentPaths(dir, 'nas2')).toEqual(['a.zst', 'b.zst']);
  });
});

describe('an encrypted copy of many small files', () => {
  it('4000 files: the copy completes under 150 MiB and restores from there whole', async () => {
    const s = demoSetup();
    const uploads = join(s.appDir, 'uploads');
    for (let i = 0; i < 4000; i++) {
      if (i % 500 === 0) mkdirSync(join(uploads, `d${i / 500}`), { recursive: true });
      writeFileSync(join(uploads, `d${Math.floor(i / 500)}`, `f${i}.bin`), randomBytes(200));
    }
    const key = join(s.dir, 'key.txt');
    const nas = join(s.dir, 'nas');
    mkdirSync(nas);
    writeFileSync(
      s.configFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(s.configFile, 'utf8')),
        encryption: { recipients: [ageKeygen(key)], identityFile: key, local: false },
        destinations: [{ name: 'nas', type: 'folder', path: nas, encrypt: true, copyAfterBackup: false }],
      }),
    );
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json', '--db', 'users'])).stdout);
    const peak = await peakRss(s, ['copy', m.id, '--to', 'nas']);
    expect(peak, `peak RSS ${peak.toFixed(0)} MiB`).toBeLessThan(150);
    expect(existsSync(join(s.backupDir, m.id, SEALED_SENT_JOURNAL))).toBe(false);
    const back = join(s.dir, 'back');
    await cli(s, ['restore', m.id, '--from', 'nas', '--files', '--to', back, '--yes']);
    for (const i of [0, 1999, 3999]) {
      const rel = join('uploads', `d${Math.floor(i / 500)}`, `f${i}.bin`);
      expect(readFileSync(join(back, 'application', 'app', rel)).equals(readFileSync(join(s.appDir, rel)))).toBe(true);
    }
  }, 240_000); // about 20 s alone; the build before took minutes
});
