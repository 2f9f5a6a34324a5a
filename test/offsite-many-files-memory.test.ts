/**
 * Memory of commands on a set of many files, here and at a destination on a new server (no backup folder): the set's
 * manifest is read as its entries are needed (its head alone where that is all the command needs), never held whole.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { writeFileAtomic } from '../src/core/durable-fs.js';
import { manifestText } from '../src/engine/manifest.js';
import { CLI_BIN, collect, describeResult, parseJsonOutput, startNode, type CliResult } from './helpers/cli.js';
import { peakRssOf } from './helpers/offsite.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

const MiB = 1024 * 1024;

/**
 * A set of `count` files at folder destination `nas` (or `here`, in the backup folder), its manifest as respaldo writes
 * it (the one file stored, named `count` ways), and no backup folder (`nas`); the peak RSS of `args` run on it.
 */
async function peakOf(
  count: number,
  args: (id: string, s: DemoSetup) => string[],
  where: 'nas' | 'here' = 'nas',
  then?: (s: DemoSetup, id: string) => Promise<string>,
): Promise<{ peak: number; r: CliResult; s: DemoSetup }> {
  const s = demoSetup({
    files: { config: [], application: [{ path: './data/uploads' }] },
    destinations: [{ name: 'nas', type: 'folder', path: './nas' }],
  });
  mkdirSync(join(s.dataDir, 'uploads'));
  mkdirSync(join(s.dir, 'nas'));
  writeFileSync(join(s.dataDir, 'uploads', 'one.bin'), 'one');
  const made = await collect(startNode([CLI_BIN, 'create', '--json', '--config', s.configFile], { cwd: s.dir }));
  expect(made.code, describeResult(made)).toBe(0);
  const id = parseJsonOutput<Manifest>(made.stdout).id;
  const there = (readdirSync(join(s.dir, 'nas'), { recursive: true }) as string[]).find((p) =>
    p.endsWith(`${id}/manifest.json`),
  );
  expect(there, 'the set copied to the folder destination').toBeDefined();
  const file = where === 'nas' ? join(s.dir, 'nas', there!) : join(s.backupDir, id, 'manifest.json');
  const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  const one = m.files.find((f) => f.relative.endsWith('one.bin'))!;
  m.files = Array.from({ length: count }, (_, i) => ({ ...one, relative: `uploads/d${i >> 9}/f${i}.bin` }));
  m.totals = { ...m.totals, files: count };
  await writeFileAtomic(file, manifestText(m));
  // The new-server day: nothing here but the config.
  if (where === 'nas') rmSync(s.backupDir, { recursive: true });
  // What is made after that set (a set applying on it), and the set `args` are run on
  const on = then ? await then(s, id) : id;
  const { mib, r } = await peakRssOf(s, args(on, s));
  return { peak: mib * MiB, r, s };
}

/** How much higher `args` peaks for 100 000 files than for 5000 (the lower of two tries when over `limit` MiB). */
async function rise(
  args: (id: string, s: DemoSetup) => string[],
  check: (got: Awaited<ReturnType<typeof peakOf>>, count: number) => void | Promise<void>,
  limit: number,
  where: 'nas' | 'here' = 'nas',
  then?: (s: DemoSetup, id: string) => Promise<string>,
): Promise<{ rise: number; said: string }> {
  const run = async (count: number) => {
    const got = await peakOf(count, args, where, then);
    await check(got, count);
    return got.peak;
  };
  const few = await run(5000);
  let many = await run(100_000);
  // A loaded machine's collector lags now and then (files-memory.test.ts): the lower of two tries.
  if (many - few >= limit * MiB) many = Math.min(many, await run(100_000));
  return {
    rise: many - few,
    said: `peak RSS ${(few / MiB).toFixed(0)} MiB for 5000 files, ${(many / MiB).toFixed(0)} for 100 000`,
  };
}

describe('a drill of the databases of a set of many files', () => {
  it('peaks less than 30 MiB higher for 100 000 files than for 5000, here and from a destination', async () => {
    for (const from of [[], ['--from', 'nas']]) {
      const { rise: up, said } = await rise(
        (id) => ['drill', id, ...from, '--json'],
        ({ r }) => {
          expect(r.code, describeResult(r)).toBe(0);
          const out = parseJsonOutput<{ ok: boolean; results: { database: string; ok: boolean }[] }>(r.stdout);
          expect(out.ok).toBe(true);
          expect(out.results.map((x) => x.database).sort()).toEqual(['auditoria', 'inventario', 'users']);
        },
        30,
        from.length ? 'nas' : 'here',
      );
      // Each entry held, whether or not its files were drilled: from 98 to 139 MiB here, from 103 to 144 from nas (the
      // restore's fetch of the manifest already lean); gone through only by a files drill: +1 to +3 (2026-12-06).
      expect(up, said).toBeLessThan(30 * MiB);
    }
  });
});

describe('a copy of a set of many files', () => {
  it('peaks less than 40 MiB higher for 100 000 files than for 5000', async () => {
    const { rise: up, said } = await rise(
      (id) => ['copy', id, '--to', 'nas', '--json'],
      ({ r }) => {
        expect(r.code, describeResult(r)).toBe(0);
        // Its manifest sent again (changed here): what differs goes, and the set there is whole.
        expect(parseJsonOutput<{ ok: boolean; filesSent: number }[]>(r.stdout)).toMatchObject([
          { ok: true, filesSent: 1 },
        ]);
      },
      40,
      'here',
    );
    // Read whole (and the files to send listed with the young generation let grow): from 86 to 206 MiB; read lean, from
    // 90 to 157–162; the list made with the young generation held (garbage.ts heldYoung): from 82 to 109 (2026-12-06).
    // What still grows: the list of the files to send (a path, a size and a SHA-256 each).
    expect(up, said).toBeLessThan(40 * MiB);
  });
});

describe('a restore of a database whose chain has a set of many files', () => {
  it('peaks less than 20 MiB higher for 100 000 files than for 5000', async () => {
    // An incremental made after the full set of many files: its restore reads the full set as a member of its chain.
    const incremental = async (s: DemoSetup) => {
      const r = await collect(
        startNode([CLI_BIN, 'create', '--type', 'incremental', '--no-files', '--json', '--config', s.configFile], {
          cwd: s.dir,
        }),
      );
      expect(r.code, describeResult(r)).toBe(0);
      const made = parseJsonOutput<Manifest>(r.stdout);
      expect(made.databases.find((d) => d.name === 'users')?.base).toBeDefined();
      return made.id;
    };
    const { rise: up, said } = await rise(
      (id, s) => ['restore', id, '--db', 'users', '--to', join(s.dir, 'users-back.db'), '--yes'],
      ({ r }) => expect(r.code, describeResult(r)).toBe(0),
      20,
      'here',
      incremental,
    );
    // The full set read whole as a member of the chain (its stored files checked, then applied): from 95 to 156 MiB;
    // its head alone: from 86 to 93 (2026-12-06).
    expect(up, said).toBeLessThan(20 * MiB);
  });
});

describe('show of a set of many files (where an operator finds the path to restore)', () => {
  it('peaks less than 20 MiB higher for 100 000 files than for 5000, in text and in JSON, the same output', async () => {
    for (const json of [[], ['--json']]) {
      const { rise: up, said } = await rise(
        (id) => ['show', id, ...json],
        ({ r, s }, count) => {
          expect(r.code, describeResult(r)).toBe(0);
          if (json.length) {
            // What the manifest says, whole, and as JSON.stringify lays it out
            const id = (JSON.parse(r.stdout) as Manifest).id;
            const text = readFileSync(join(s.backupDir, id, 'manifest.json'), 'utf8');
            expect(r.stdout).toBe(JSON.stringify(JSON.parse(text), null, 2) + '\n');
            return;
          }
          const rows = r.stdout.split('\n').filter((l) => l.startsWith('    application  uploads/'));
          expect(rows.length).toBe(count);
          expect(rows[700]).toMatch(/^ {4}application {2}uploads\/d1\/f700\.bin +3 B +[0-9a-f]{32} {2}[0-9a-f]{16}…$/);
          expect(r.stdout).toContain(`  files (${count})`);
        },
        20,
        'here',
      );
      // The manifest read whole, then its table (or its JSON text) built whole: from 83 to 280 MiB (86 to 288 with
      // --json); its entries read as printed, in two passes for the table's widths: 87 to 104 (85 to 102), 2026-12-06.
      expect(up, said).toBeLessThan(20 * MiB);
    }
  });
});

describe('status of a set of many files (what monitoring runs every few minutes)', () => {
  it('peaks less than 20 MiB higher for 100 000 files than for 5000', async () => {
    const { rise: up, said } = await rise(
      () => ['status', '--json'],
      ({ r }) => expect(r.code, describeResult(r)).toBe(0),
      20,
      'here',
    );
    // Every set's manifest read whole for its databases' figures: from 85 to 168 MiB; their heads alone: 78 to 79.
    expect(up, said).toBeLessThan(20 * MiB);
  });
});

describe('a set of many files at a destination', () => {
  it('restore of one path peaks less than 30 MiB higher for 100 000 files than for 5000', async () => {
    const path = 'application/uploads/d1/f700.bin';
    const { rise: up, said } = await rise(
      (id, s) => ['restore', id, '--from', 'nas', '--files', '--path', path, '--to', join(s.dir, 'back'), '--yes'],
      ({ r, s }) => {
        expect(r.code, describeResult(r)).toBe(0);
        // Only the path asked for came back, whole.
        const back = join(s.dir, 'back');
        expect(readdirSync(back, { recursive: true }).filter((p) => String(p).endsWith('.bin'))).toEqual([path]);
        expect(readFileSync(join(back, path), 'utf8')).toBe('one');
      },
      30,
    );
    // Read whole (fetched, and again to check the key before the files were fetched), from 96–99 to 173–204 MiB; read
    // as needed, from 113 to 126 (2026-12-06). A local restore of that path: from 94 to 122.
    expect(up, said).toBeLessThan(30 * MiB);
  });

  it('verify --from --json peaks less than 30 MiB higher for 100 000 files than for 5000, every file listed', async () => {
    const { rise: up, said } = await rise(
      (id) => ['verify', id, '--from', 'nas', '--json'],
      async ({ r, s }, count) => {
        expect(r.code, describeResult(r)).toBe(0);
        // Every file checked is listed (the three databases' and the entries'), though none is held.
        const json = parseJsonOutput<{ ok: boolean; files: { ok: boolean }[]; destination: string }>(r.stdout);
        expect(json).toMatchObject({ ok: true, destination: 'nas' });
        expect(json.files.length).toBe(count + 3);
        expect(json.files.every((f) => f.ok)).toBe(true);
        expect(json).not.toHaveProperty('checked');
        if (count > 5000) return;
        const id = (json as unknown as { setId: string }).setId;
        const text = await collect(startNode([CLI_BIN, 'verify', id, '--from', 'nas', '--config', s.configFile]));
        expect(text.stdout).toContain(`${id} at nas: OK (${count + 3} file(s) checked for presence and size)`);
      },
      30,
    );
    // Read whole, a result held for each file: from 80 to 216 MiB (2026-12-06, without --json); read as checked, only
    // the failures held and --json's results written aside: from 86 to 108–109.
    expect(up, said).toBeLessThan(30 * MiB);
  });
});
