import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { dbDigest, leaveHotJournal } from './helpers/sqlite.js';
import { readStored } from './helpers/stored.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

describe('safety copy of a damaged database', () => {
  it('a live file SQLite cannot read is kept byte for byte, and the restore still goes on', async () => {
    const s = demoSetup();
    const good = dbDigest(s.dbs.users);
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json', '--no-files'])).stdout);
    const damaged = Buffer.concat([Buffer.from('not a database any more\n'), readFileSync(s.dbs.users).subarray(4096)]);
    writeFileSync(s.dbs.users, damaged);

    const out = parseJsonOutput<{ ok: boolean; safetySetIds: string[] }>(
      (await cli(s, ['restore', m.id, '--db', 'users', '--yes', '--json'])).stdout,
    );
    expect(out.ok).toBe(true);
    expect(dbDigest(s.dbs.users)).toEqual(good);

    const safetyId = out.safetySetIds[0]!;
    const safety = parseJsonOutput<Manifest>((await cli(s, ['show', safetyId, '--json'])).stdout);
    expect(safety.type).toBe('pre_restore');
    const entry = safety.databases.find((d) => d.name === 'users')!;
    expect(entry.format).toBe('sqlite-raw');
    expect(readStored(join(s.backupDir, safetyId, entry.file!)).equals(damaged)).toBe(true);

    const refused = await cli(s, ['restore', safetyId, '--db', 'users', '--yes'], 9);
    expect(refused.stderr).toContain('raw byte copy');
    expect(dbDigest(s.dbs.users)).toEqual(good);
  });
});

describe('safety copy of a database a writer left with a hot journal', () => {
  it.each([
    { how: 'its path the file', linked: false },
    { how: 'its path a symlink, the journal beside the file it names', linked: true },
  ])(
    'keeps the -journal with the file ($how): put back by hand, SQLite rolls the half transaction back',
    async ({ linked }) => {
      const s = demoSetup();
      const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json', '--no-files'])).stdout);
      let live = s.dbs.inventario;
      if (linked) {
        mkdirSync(join(s.dir, 'volume'));
        live = join(s.dir, 'volume', 'inventario.db');
        renameSync(s.dbs.inventario, live);
        symlinkSync(live, s.dbs.inventario);
      }
      const db = new Database(live);
      db.pragma('journal_mode = DELETE');
      db.close();
      const committed = dbDigest(live);
      leaveHotJournal(s.dbs.inventario, "UPDATE products SET name = name || ' (half-updated)'");
      const journal = readFileSync(`${live}-journal`);
      expect(journal.length).toBeGreaterThan(0);
      const halfFile = readFileSync(live);

      // The plan says so before anything is done: its rollback is no restore of the safety copy.
      const planned = (await cli(s, ['restore', m.id, '--db', 'inventario', '--dry-run'])).stdout.replace(
        /\n\s+/g,
        ' ',
      );
      expect(planned).toMatch(
        /roll back: its safety copy will be its raw bytes .* respaldo restore <pre_restore set id> --db inventario --dry-run prints how/,
      );
      const restored = await cli(s, ['restore', m.id, '--db', 'inventario', '--yes']);
      expect(existsSync(`${live}-journal`)).toBe(false); // it would roll back onto the restored file
      // How to undo it names no restore of the safety copy, which is refused (it said to run one): a dry run that
      // prints how to put the bytes back by hand.
      const said = restored.stdout.replace(/\n\s+/g, ' ');
      const advice =
        /Safety copy of inventario: set (\d{8}_\d{6}\S*), its bytes as they were \(.*\)\. To put them back by hand: respaldo restore \1 --db inventario --dry-run --config \S+ prints how\./.exec(
          said,
        );
      expect(advice, restored.stdout).not.toBeNull();
      expect(said).not.toMatch(/To roll back: respaldo restore/);
      const safetyId = advice![1]!;
      const safety = parseJsonOutput<Manifest>((await cli(s, ['show', safetyId, '--json'])).stdout);
      const entry = safety.databases.find((d) => d.name === 'inventario')!;
      expect(entry.format).toBe('sqlite-raw');
      const kept = entry.extras?.find((x) => x.role === 'journal');
      expect(kept, JSON.stringify(entry)).toBeDefined();

      // by hand, as the README says for a raw copy: the file and its journal side by side, then opened
      const back = join(s.dir, 'by-hand');
      mkdirSync(back);
      writeFileSync(join(back, 'inventario.db'), readStored(join(s.backupDir, safetyId, entry.file!)));
      writeFileSync(join(back, 'inventario.db-journal'), readStored(join(s.backupDir, safetyId, kept!.file)));
      expect(readStored(join(s.backupDir, safetyId, entry.file!)).equals(halfFile)).toBe(true);
      const reopened = new Database(join(back, 'inventario.db'));
      reopened.prepare('SELECT count(*) FROM products').get(); // the first read rolls the hot journal back
      reopened.close();
      expect(dbDigest(join(back, 'inventario.db'))).toEqual(committed);

      // The rollback of this set is refused (it is no restorable backup); its hint, followed as printed, puts the
      // journal back beside the file too. It named the file alone: opened so, the half transaction stayed in it.
      const dry = await cli(s, ['restore', safetyId, '--db', 'inventario', '--dry-run'], 9);
      expect((dry.stdout + dry.stderr).replace(/\n\s+/g, ' ')).toMatch(/Inspect it by hand: zstd -dc .* -journal/);
      const refused = await cli(s, ['restore', safetyId, '--db', 'inventario', '--yes'], 9);
      const hint = refused.stderr.split('\n').find((l) => l.startsWith('hint: Inspect it by hand: '));
      expect(hint, refused.stderr).toContain('-journal');
      const byHint = join(s.dir, 'by-hint');
      mkdirSync(byHint);
      const command = hint!
        .slice('hint: Inspect it by hand: '.length)
        .replace(/ \(SQLite.*$/, '')
        .replaceAll('/tmp/inventario.damaged', join(byHint, 'inventario.db'));
      execFileSync('sh', ['-c', command]);
      const opened = new Database(join(byHint, 'inventario.db'));
      opened.prepare('SELECT count(*) FROM products').get();
      opened.close();
      expect(dbDigest(join(byHint, 'inventario.db'))).toEqual(committed);
    },
  );
});
