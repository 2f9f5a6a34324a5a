/**
 * The driver conformance suite: what every driver promises (src/drivers/driver.ts), stated once
 * and run for each engine by a small test file that hands in a `DriverUnderTest` (sqlite, the real
 * PostgreSQL cluster, the SQL Server fake, the live SQL Server when configured). A new engine
 * feature (chains, drills, …) adds its cases here, once, for every engine.
 *
 * The engine's part (compression, manifests, hashes) is left out: a backup's parts are stored as
 * plain files and read back as they are, so each case exercises the driver alone.
 *
 * A kill is simulated with the driver's own seams (its connection factory, or the fs calls of
 * the SQLite driver): from the chosen point on, every call of the "killed" run never settles, so
 * nothing after it runs — no cleanup, no journal removal — as when the process dies. What the
 * dead run held (connections) is then closed, and a fresh driver's `recover` must put things right.
 */
import { createReadStream, createWriteStream, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { RefusedError, RespaldoError } from '../../src/core/errors.js';
import { english } from '../../src/core/phrases.js';
import { CollectingReporter } from '../../src/core/events.js';
import type { ChainType, DatabaseConfig, DatabaseEntry } from '../../src/core/types.js';
import { CAPABILITIES } from '../../src/drivers/capabilities.js';
import type { Driver, DriverContext, RestoreRequest, RestoreResult, RestoreTarget } from '../../src/drivers/driver.js';

/** Where a restore's swap is cut by a simulated kill. */
export type KillPoint = 'before the swap' | 'during the swap' | 'after the swap';
export const KILL_POINTS: readonly KillPoint[] = ['before the swap', 'during the swap', 'after the swap'];

/** A driver that dies at a point of an in-place restore's swap. */
export interface Killing {
  driver: Driver;
  /** Resolves once the run died (a call hung). */
  killed: Promise<void>;
  /** Closes what the dead run held (connections, fs hooks), as the end of the process would. */
  release(): Promise<void>;
}

/** What a conformance run needs from an engine: the driver and ways to look at its databases directly. */
export interface DriverUnderTest {
  driver: Driver;
  /** A private folder for stored dumps and scratch folders (removed by the test file). */
  workDir(): string;
  /** A new live database called `name` (a file name or a database name) with a few rows in two tables. */
  makeDatabase(name: string): Promise<DatabaseConfig>;
  /** Writes to the live database so that it differs from any earlier backup of it. */
  change(db: DatabaseConfig): Promise<void>;
  /** Content of target `name` (default: the live database), comparable with toEqual; null when it does not exist. */
  content(db: DatabaseConfig, name?: string): Promise<unknown>;
  /** The restore target name of the live database itself (its path or database name). */
  liveName(db: DatabaseConfig): string;
  /** A side-by-side target nothing uses yet, made from `label`. */
  sideName(db: DatabaseConfig, label: string): string;
  /** For `renamed-database` drivers: the name the live database is kept under by an in-place restore of `setId`. */
  safetyName?(db: DatabaseConfig, setId: string): string;
  /** Names the engine must handle (spaces, quotes, unicode, mixed case where allowed); each used once. */
  oddNames: readonly string[];
  /** Temporary things respaldo made for this database that are still there (staging, journals, half swaps). */
  leftovers(db: DatabaseConfig): Promise<string[]>;
  /** A driver whose run dies at `point` of an in-place restore of `db`. */
  killing(db: DatabaseConfig, point: KillPoint): Killing;
  /** Holds the live database open (a session, another process) until the returned function runs. */
  holdOpen?(db: DatabaseConfig): Promise<() => Promise<void>>;
  /**
   * Chains (drivers with `chains`): the config of `db` with what its engine needs to store deltas (SQL Server:
   * `chain: true`); absent: `db` as it is (then the driver's `chainFallback` says whether it chains).
   */
  chainConfig?(db: DatabaseConfig): DatabaseConfig;
  /**
   * Chains: adds a table of a few hundred KiB that `change` never touches and `content` need not show, so
   * that a delta stores visibly less than a full (and needs its full). Absent when the engine's stored sizes
   * say nothing (the SQL Server fake): the delta is then only required to be made and to restore.
   */
  addBulk?(db: DatabaseConfig): Promise<void>;
}

export interface ConformanceOptions {
  /** Cases this engine is known to fail, by title → the defect; they run as `it.fails` (and must still fail). */
  knownDefects?: Record<string, string>;
}

/** A backup as the driver produced it: each part stored as a plain file. */
export interface StoredBackup {
  entry: DatabaseEntry;
  files: Record<string, string>;
  /** Set id it is stored under (chain cases: a real set id, as content maps refer to them). */
  setId?: string;
  /** BackupSession.fellBack of a delta stored as a full. */
  fellBack?: string;
}

/** A stored backup in a chain: its set id is known. */
export type ChainMember = StoredBackup & { setId: string };

/** A differential or incremental asked of the driver, on `base` (as the engine's planBackup chose it). */
export interface DeltaAsked {
  type: ChainType;
  base: ChainMember;
}

let setCounter = 0;
/** A set id as the engine makes them (content maps refer to set ids), unique in this run. */
export function nextSetId(): string {
  return `20261201_${String(++setCounter).padStart(6, '0')}`;
}

/** The members a chain member restores with, oldest first, itself last (following `entry.base`). */
function chainOf(member: ChainMember, known: readonly ChainMember[]): ChainMember[] {
  if (!member.entry.base) return [member];
  const base = known.find((k) => k.setId === member.entry.base);
  if (!base) throw new Error(`base ${member.entry.base} of ${member.setId} is not among the stored members`);
  return [...chainOf(base, known), member];
}

/** Raw bytes of every stored file of a backup (main and extras). */
function storedBytes(stored: StoredBackup): number {
  return Object.values(stored.files).reduce((sum, f) => sum + statSync(f).size, 0);
}

/** The same member with every stored file cut in half (`cut`) or gone (`gone`). */
async function damagedMember(stored: ChainMember, how: 'cut' | 'gone'): Promise<ChainMember> {
  const files: Record<string, string> = {};
  for (const [role, file] of Object.entries(stored.files)) {
    files[role] = `${file}.${how}`;
    if (how === 'cut') await copyHalf(file, files[role]);
  }
  return { ...stored, entry: { ...stored.entry, file: files['main']! }, files };
}

let counter = 0;
/** A name no other case of this run uses. */
export function uniqueName(stem: string): string {
  return `${stem}${++counter}`;
}

export function makeCtx(
  dut: DriverUnderTest,
  signal = new AbortController().signal,
): DriverContext & { reporter: CollectingReporter } {
  return { reporter: new CollectingReporter(), signal, scratchDir: dut.workDir(), log: () => undefined };
}

/**
 * Runs `driver.backup` the way the engine does (parts in order, members as they come, `finished` awaited) and stores
 * the parts.
 */
export async function storeBackup(
  dut: DriverUnderTest,
  db: DatabaseConfig,
  purpose: 'backup' | 'safety' = 'backup',
  delta?: DeltaAsked,
): Promise<StoredBackup> {
  const base = delta && { setId: delta.base.setId, entry: delta.base.entry, openPart: partOpener(delta.base) };
  const session = await dut.driver.backup(
    { db, type: delta?.type ?? 'full', purpose, ...(base ? { base } : {}) },
    makeCtx(dut),
  );
  const files: Record<string, string> = {};
  let main: { format: string; tables: Record<string, number> | null; details: Record<string, unknown> } | null = null;
  const extras: NonNullable<DatabaseEntry['extras']> = [];
  try {
    for (const part of session.parts) {
      const file = join(dut.workDir(), `${uniqueName('part')}.${part.role}.${part.extension}`);
      const opened = await part.open();
      // Members of a multi-file dump (PostgreSQL's directory format), stored as they finish, as the engine does.
      const members = (async () => {
        for await (const m of opened.members ?? []) {
          const memberFile = join(dut.workDir(), `${uniqueName('member')}.${m.name}`);
          await pipeline(m.open(), createWriteStream(memberFile));
          const bytes = statSync(memberFile).size;
          files[m.role] = memberFile;
          extras.push({
            role: m.role,
            file: memberFile,
            compressed: false,
            rawBytes: bytes,
            storedBytes: bytes,
            md5: '',
            sha256: '',
          });
          await m.stored();
        }
      })();
      const [stored, finished, membered] = await Promise.allSettled([
        pipeline(opened.stream, createWriteStream(file)),
        opened.finished,
        members,
      ]);
      if (finished.status === 'rejected') throw finished.reason;
      if (membered.status === 'rejected') throw membered.reason;
      if (stored.status === 'rejected') throw stored.reason;
      files[part.role] = file;
      const size = statSync(file).size;
      if (part.role === 'main') main = { format: part.format, ...finished.value };
      else
        extras.push({
          role: part.role,
          file,
          compressed: false,
          rawBytes: size,
          storedBytes: size,
          md5: '',
          sha256: '',
        });
    }
  } finally {
    await session.cleanup();
  }
  if (!main) throw new Error('the backup had no main part');
  const size = statSync(files['main']!).size;
  const entry: DatabaseEntry = {
    name: db.name,
    engine: db.engine,
    file: files['main']!,
    format: main.format,
    compressed: false,
    rawBytes: size,
    storedBytes: size,
    md5: null,
    sha256: null,
    tables: main.tables,
    durationMs: 0,
    error: null,
    details: main.details,
    ...(extras.length ? { extras } : {}),
    // As the engine records it: a delta names its base; a delta that fell back is a full.
    ...(delta && !session.fellBack ? { base: delta.base.setId } : {}),
  };
  return { entry, files, ...(session.fellBack ? { fellBack: session.fellBack } : {}) };
}

/** Opens a stored part afresh (`main` by default), as the engine's openStoredPart does. */
function partOpener(stored: StoredBackup): (role?: string) => Readable {
  return (role = 'main') => {
    const file = stored.files[role];
    if (!file) throw new Error(`no stored part ${role}`);
    return createReadStream(file);
  };
}

export function restoreRequest(
  db: DatabaseConfig,
  stored: StoredBackup,
  target: RestoreTarget,
  setId: string,
  terminateConnections = false,
): RestoreRequest {
  return {
    db,
    entry: stored.entry,
    setId,
    target,
    openPart: partOpener(stored),
    terminateConnections,
  };
}

/** A restore of the last member of `chain` with the members before it (RestoreRequest.chain, oldest first). */
export function chainRestoreRequest(
  db: DatabaseConfig,
  chain: readonly ChainMember[],
  target: RestoreTarget,
  terminateConnections = false,
): RestoreRequest {
  const last = chain.at(-1)!;
  const before = chain.slice(0, -1).map((m) => ({ setId: m.setId, entry: m.entry, openPart: partOpener(m) }));
  return {
    ...restoreRequest(db, last, target, last.setId, terminateConnections),
    ...(before.length ? { chain: before } : {}),
  };
}

/** The same backup with its main part cut in half (a damaged stored file that passed nothing). */
function truncatedCopy(stored: StoredBackup): StoredBackup {
  const file = `${stored.files['main']!}.half`;
  return { entry: { ...stored.entry, file }, files: { ...stored.files, main: file } };
}

async function copyHalf(from: string, to: string): Promise<void> {
  await pipeline(createReadStream(from), createWriteStream(to));
  truncateSync(to, Math.floor(statSync(to).size / 2));
}

/**
 * A switch for a simulated kill. `firstStep` recognises the swap's first change (the live database
 * renamed, its journals set aside), `lastStep` the one that puts the restored copy in place. Calls
 * are routed through `call`: before the swap the run dies at `firstStep`, during it at `lastStep`,
 * after it right after `lastStep` completed. Once dead, every call hangs.
 */
export class KillSwitch {
  readonly killed: Promise<void>;
  private fire!: () => void;
  private dead = false;

  constructor(
    private readonly point: KillPoint,
    private readonly firstStep: (op: string) => boolean,
    private readonly lastStep: (op: string) => boolean,
  ) {
    this.killed = new Promise((resolve) => (this.fire = resolve));
  }

  async call<T>(op: string, run: () => Promise<T>): Promise<T> {
    if (this.dead) return this.hang();
    if (this.point === 'before the swap' && this.firstStep(op)) return this.hang();
    if (this.point === 'during the swap' && this.lastStep(op)) return this.hang();
    const result = await run();
    if (this.point === 'after the swap' && this.lastStep(op)) this.die();
    return result;
  }

  hang<T>(): Promise<T> {
    this.die();
    return new Promise<T>(() => undefined);
  }

  private die(): void {
    this.dead = true;
    this.fire();
  }
}

/** Defines the shared cases for one driver. `get` is called inside the cases (after beforeAll set things up). */
export function driverConformance(label: string, get: () => DriverUnderTest, options: ConformanceOptions = {}): void {
  /** A case, run as `it.fails` when the engine lists it as a known defect. */
  const check = (title: string, body: () => Promise<void>): void => {
    const defect = options.knownDefects?.[title];
    if (defect) it.fails(`${title} [known defect: ${defect}]`, body);
    else it(title, body);
  };

  const restore = (
    db: DatabaseConfig,
    stored: StoredBackup,
    target: RestoreTarget,
    setId: string,
    terminate = false,
    driver?: Driver,
  ): Promise<RestoreResult> => {
    const dut = get();
    return (driver ?? dut.driver).restore(restoreRequest(db, stored, target, setId, terminate), makeCtx(dut));
  };

  describe(`driver conformance: ${label}`, () => {
    check(
      'planRestore is pure data: in place replaces, with the declared safety copy; side by side replaces nothing',
      async () => {
        const { driver, ...dut } = get();
        const db = await dut.makeDatabase(uniqueName('plan'));
        const stored = await storeBackup(get(), db);
        const inPlace = driver.planRestore({ db, entry: stored.entry, setId: 'P1', target: { kind: 'in-place' } });
        expect(inPlace.replaces).toBe(true);
        expect(inPlace.safety.kind).toBe(driver.safety);
        expect(inPlace.steps.length).toBeGreaterThan(0);
        expect(inPlace.stepPhrases?.length ?? inPlace.steps.length).toBe(inPlace.steps.length);
        const side = driver.planRestore({
          db,
          entry: stored.entry,
          setId: 'P1',
          target: { kind: 'side-by-side', name: dut.sideName(db, 'plan side') },
        });
        expect(side.replaces).toBe(false);
        expect(side.safety.kind).toBe('none');
        expect(await dut.content(db, dut.sideName(db, 'plan side'))).toBeNull();
      },
    );

    check(
      'round trip: restored side by side, the copy has the same content and the row counts of the backup',
      async () => {
        const dut = get();
        const db = await dut.makeDatabase(uniqueName('roundtrip'));
        const stored = await storeBackup(dut, db);
        const side = dut.sideName(db, uniqueName('copy'));
        const result = await restore(db, stored, { kind: 'side-by-side', name: side }, 'R1');
        expect(result.restoredTo).toBe(side);
        expect(result.safetyDatabase).toBeUndefined();
        expect(await dut.content(db, side)).toEqual(await dut.content(db));
        if (stored.entry.tables) expect(result.tables).toEqual(stored.entry.tables);
        expect(await dut.leftovers(db)).toEqual([]);
      },
    );

    check(
      'target exists: in place replaces the live database and keeps what it replaced as the driver declares',
      async () => {
        const dut = get();
        const db = await dut.makeDatabase(uniqueName('inplace'));
        const stored = await storeBackup(dut, db);
        const backedUp = await dut.content(db);
        await dut.change(db);
        const changed = await dut.content(db);
        expect(changed).not.toEqual(backedUp);
        const result = await restore(db, stored, { kind: 'in-place' }, 'IP1', true);
        expect(await dut.content(db)).toEqual(backedUp);
        if (dut.driver.safety === 'renamed-database') {
          expect(result.safetyDatabase).toBe(dut.safetyName!(db, 'IP1'));
          expect(await dut.content(db, result.safetyDatabase)).toEqual(changed);
        } else {
          expect(result.safetyDatabase).toBeUndefined();
        }
        expect(await dut.leftovers(db)).toEqual([]);
        expect(await dut.driver.recover(db, makeCtx(dut))).toEqual([]);
      },
    );

    check('target exists: side by side onto an existing name is refused and changes nothing', async () => {
      const dut = get();
      const db = await dut.makeDatabase(uniqueName('taken'));
      const stored = await storeBackup(dut, db);
      await dut.change(db);
      const changed = await dut.content(db);
      const err = await restore(db, stored, { kind: 'side-by-side', name: dut.liveName(db) }, 'T1').catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RefusedError);
      expect(await dut.content(db)).toEqual(changed);
      expect(await dut.leftovers(db)).toEqual([]);
    });

    check(
      'target in use: an in-place restore is refused and changes nothing; inspectTarget names the user',
      async () => {
        const dut = get();
        if (!dut.holdOpen) return;
        const db = await dut.makeDatabase(uniqueName('busy'));
        const stored = await storeBackup(dut, db);
        await dut.change(db);
        const changed = await dut.content(db);
        const release = await dut.holdOpen(db);
        try {
          expect((await dut.driver.inspectTarget(db, { kind: 'in-place' })).inUseBy.length).toBeGreaterThan(0);
          const err = await restore(db, stored, { kind: 'in-place' }, 'B1').catch((e: unknown) => e);
          expect(err).toBeInstanceOf(RefusedError);
          expect(await dut.leftovers(db)).toEqual([]);
        } finally {
          await release();
        }
        expect(await dut.content(db)).toEqual(changed);
      },
    );

    check('inspectTarget: the live database exists with its size; a free name does not exist', async () => {
      const dut = get();
      const db = await dut.makeDatabase(uniqueName('inspect'));
      const live = await dut.driver.inspectTarget(db, { kind: 'in-place' });
      expect(live.exists).toBe(true);
      expect(live.inUseBy).toEqual([]);
      if (live.sizeBytes !== null) expect(live.sizeBytes).toBeGreaterThan(0);
      expect(
        await dut.driver.inspectTarget(db, { kind: 'side-by-side', name: dut.sideName(db, uniqueName('free')) }),
      ).toMatchObject({ exists: false, sizeBytes: null, inUseBy: [] });
    });

    check('a failing restore (damaged stored file) leaves the target identical and nothing behind', async () => {
      const dut = get();
      const db = await dut.makeDatabase(uniqueName('failing'));
      const stored = await storeBackup(dut, db);
      const damaged = truncatedCopy(stored);
      await copyHalf(stored.files['main']!, damaged.files['main']!);
      await dut.change(db);
      const changed = await dut.content(db);
      const err = await restore(db, damaged, { kind: 'in-place' }, 'F1', true).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RespaldoError);
      expect(await dut.content(db)).toEqual(changed);
      const side = dut.sideName(db, uniqueName('failed copy'));
      await expect(restore(db, damaged, { kind: 'side-by-side', name: side }, 'F2')).rejects.toBeInstanceOf(
        RespaldoError,
      );
      expect(await dut.content(db, side)).toBeNull();
      expect(await dut.leftovers(db)).toEqual([]);
    });

    check('an interrupt (abort signal) before the swap leaves the target identical and nothing behind', async () => {
      const dut = get();
      const db = await dut.makeDatabase(uniqueName('aborted'));
      const stored = await storeBackup(dut, db);
      await dut.change(db);
      const changed = await dut.content(db);
      const ac = new AbortController();
      ac.abort();
      const req = restoreRequest(db, stored, { kind: 'in-place' }, 'A1', true);
      await expect(dut.driver.restore(req, makeCtx(dut, ac.signal))).rejects.toThrow();
      expect(await dut.content(db)).toEqual(changed);
      expect(await dut.leftovers(db)).toEqual([]);
    });

    for (const point of KILL_POINTS) {
      check(
        `killed ${point}: recover leaves the live database whole (old or restored), nothing behind, and is idempotent`,
        async () => {
          const dut = get();
          const db = await dut.makeDatabase(uniqueName('killed'));
          const stored = await storeBackup(dut, db);
          const backedUp = await dut.content(db);
          await dut.change(db);
          const changed = await dut.content(db);

          const killing = dut.killing(db, point);
          const run = killing.driver.restore(
            restoreRequest(db, stored, { kind: 'in-place' }, 'K1', true),
            makeCtx(dut),
          );
          const how = await Promise.race([
            killing.killed.then(() => 'killed'),
            run.then(
              () => 'finished',
              (e: unknown) => `failed: ${String(e)}`,
            ),
          ]);
          await killing.release();
          expect(how).toBe('killed');

          if (point !== 'after the swap') {
            expect(await dut.leftovers(db)).not.toEqual([]);
            if (dut.driver.findLeftovers) expect(await dut.driver.findLeftovers(db)).not.toEqual([]);
          }
          const actions = await dut.driver.recover(db, makeCtx(dut));
          if (point !== 'after the swap') expect(actions).not.toEqual([]);
          expect(await dut.leftovers(db)).toEqual([]);
          if (dut.driver.findLeftovers) expect(await dut.driver.findLeftovers(db)).toEqual([]);
          expect(await dut.driver.recover(db, makeCtx(dut))).toEqual([]);

          const now = await dut.content(db);
          if (point === 'before the swap') expect(now).toEqual(changed);
          else if (point === 'after the swap') expect(now).toEqual(backedUp);
          else expect([changed, backedUp]).toContainEqual(now);
          // When the restored copy is live, what it replaced is kept (renamed-database: under its safety name).
          if (
            dut.driver.safety === 'renamed-database' &&
            now !== null &&
            JSON.stringify(now) === JSON.stringify(backedUp)
          ) {
            expect(await dut.content(db, dut.safetyName!(db, 'K1'))).toEqual(changed);
          }
        },
      );
    }

    for (const point of KILL_POINTS) {
      check(
        `a rollback (swapBack) killed ${point}: recover leaves a live database and loses neither copy`,
        async () => {
          const dut = get();
          if (!dut.driver.swapBack) return;
          const db = await dut.makeDatabase(uniqueName('killedback'));
          const stored = await storeBackup(dut, db);
          const backedUp = await dut.content(db);
          await dut.change(db);
          const changed = await dut.content(db);
          const first = await restore(db, stored, { kind: 'in-place' }, 'KB1', true);

          const killing = dut.killing(db, point);
          const req = { db, safetyName: first.safetyDatabase!, setId: 'KB2', terminateConnections: true };
          const run = killing.driver.swapBack!(req, makeCtx(dut));
          const how = await Promise.race([
            killing.killed.then(() => 'killed'),
            run.then(
              () => 'finished',
              (e: unknown) => `failed: ${String(e)}`,
            ),
          ]);
          await killing.release();
          expect(how).toBe('killed');

          await dut.driver.recover(db, makeCtx(dut));
          expect(await dut.leftovers(db)).toEqual([]);
          if (dut.driver.findLeftovers) expect(await dut.driver.findLeftovers(db)).toEqual([]);
          expect(await dut.driver.recover(db, makeCtx(dut))).toEqual([]);
          const live = await dut.content(db);
          // A swap back may be one transaction (PostgreSQL): cut after its last rename, it is rolled back whole.
          if (point === 'before the swap') expect(live).toEqual(backedUp);
          else expect([backedUp, changed]).toContainEqual(live);
          const kept = [
            live,
            await dut.content(db, dut.safetyName!(db, 'KB1')),
            await dut.content(db, dut.safetyName!(db, 'KB2')),
          ];
          expect(kept).toContainEqual(backedUp);
          expect(kept).toContainEqual(changed);
        },
      );
    }

    check('the safety copy restores: rolling back an in-place restore brings back what it replaced', async () => {
      const dut = get();
      const db = await dut.makeDatabase(uniqueName('rollback'));
      const stored = await storeBackup(dut, db);
      const backedUp = await dut.content(db);
      await dut.change(db);
      const changed = await dut.content(db);
      if (dut.driver.safety === 'renamed-database') {
        const result = await restore(db, stored, { kind: 'in-place' }, 'S1', true);
        expect(dut.driver.swapBack, 'a renamed-database driver swaps its safety copy back').toBeDefined();
        const back = await dut.driver.swapBack!(
          { db, safetyName: result.safetyDatabase!, setId: 'S2', terminateConnections: true },
          makeCtx(dut),
        );
        expect(await dut.content(db)).toEqual(changed);
        expect(back.safetyDatabase).toBe(dut.safetyName!(db, 'S2'));
        expect(await dut.content(db, back.safetyDatabase)).toEqual(backedUp);
        expect(await dut.content(db, result.safetyDatabase)).toBeNull();
      } else {
        const safety = await storeBackup(dut, db, 'safety');
        await restore(db, stored, { kind: 'in-place' }, 'S1', true);
        expect(await dut.content(db)).toEqual(backedUp);
        await restore(db, safety, { kind: 'in-place' }, 'S2', true);
        expect(await dut.content(db)).toEqual(changed);
      }
      expect(await dut.leftovers(db)).toEqual([]);
    });

    check('odd names (spaces, quotes, unicode, mixed case): backup, restore side by side and in place', async () => {
      const dut = get();
      for (const name of dut.oddNames) {
        const db = await dut.makeDatabase(name);
        const stored = await storeBackup(dut, db);
        const backedUp = await dut.content(db);
        const side = dut.sideName(db, `${name} côpy "2"`);
        await restore(db, stored, { kind: 'side-by-side', name: side }, 'O1');
        expect(await dut.content(db, side), name).toEqual(backedUp);
        await dut.change(db);
        await restore(db, stored, { kind: 'in-place' }, 'O2', true);
        expect(await dut.content(db), name).toEqual(backedUp);
        expect(await dut.leftovers(db), name).toEqual([]);
        expect(await dut.driver.recover(db, makeCtx(dut)), name).toEqual([]);
      }
    });

    check('drills: a scratch restore passes the drill checks and is removed afterwards', async () => {
      const dut = get();
      const { driver } = dut;
      const db = await dut.makeDatabase(uniqueName('drill'));
      const stored = await storeBackup(dut, db);
      const backedUp = await dut.content(db);
      const scratch = driver.scratchName ? driver.scratchName(db, 'D1') : dut.sideName(db, uniqueName('drill scratch'));
      const result = await restore(db, stored, { kind: 'side-by-side', name: scratch, scratch: true }, 'D1');
      expect(await dut.content(db, result.restoredTo)).toEqual(backedUp);
      if (driver.drillChecks) {
        const checks = await driver.drillChecks(db, result.restoredTo, makeCtx(dut));
        expect(checks.length).toBeGreaterThan(0);
        for (const c of checks) expect(c.ok || !!c.skipped, `${c.name}: ${c.detail ?? ''}`).toBe(true);
      }
      if (driver.scratchName) {
        expect(driver.dropScratch, 'a driver with scratchName drops its scratch databases').toBeDefined();
        await expect(driver.dropScratch!(db, dut.liveName(db), makeCtx(dut))).rejects.toBeInstanceOf(RefusedError);
        await driver.dropScratch!(db, scratch, makeCtx(dut));
        expect(await dut.content(db, scratch)).toBeNull();
        expect(await dut.content(db)).toEqual(backedUp);
        // A dead drill's scratch database is dropped by recover.
        await restore(db, stored, { kind: 'side-by-side', name: scratch, scratch: true }, 'D1');
        if (driver.findLeftovers) expect(await driver.findLeftovers(db)).not.toEqual([]);
        expect(await driver.recover(db, makeCtx(dut))).not.toEqual([]);
        expect(await dut.content(db, scratch)).toBeNull();
      }
      expect(await dut.leftovers(db)).toEqual([]);
    });

    check('a renamed safety copy can be dropped; the live database cannot', async () => {
      const dut = get();
      if (dut.driver.safety !== 'renamed-database') return;
      const db = await dut.makeDatabase(uniqueName('dropsafety'));
      const stored = await storeBackup(dut, db);
      const result = await restore(db, stored, { kind: 'in-place' }, 'X1', true);
      await expect(dut.driver.dropSafetyCopy!(db, dut.liveName(db))).rejects.toBeInstanceOf(RefusedError);
      await dut.driver.dropSafetyCopy!(db, result.safetyDatabase!);
      expect(await dut.content(db, result.safetyDatabase)).toBeNull();
      expect(await dut.content(db)).not.toBeNull();
    });

    check(
      'declares its capabilities: its row of CAPABILITIES, dropSafetyCopy exactly for renamed safety copies, findLeftovers exactly with serverLeftovers',
      async () => {
        const { driver } = get();
        expect(driver.capabilities).toEqual(CAPABILITIES[driver.engine]);
        expect(typeof driver.dropSafetyCopy === 'function').toBe(driver.safety === 'renamed-database');
        expect(typeof driver.swapBack === 'function').toBe(driver.safety === 'renamed-database');
        expect(typeof driver.findLeftovers === 'function').toBe(driver.capabilities.serverLeftovers);
      },
    );

    /** Chains: the database `stem` configured for deltas, with its bulk table; null when the driver has no chains. */
    const chainFixture = async (stem: string) => {
      const dut = get();
      if (!dut.driver.chains?.length) return null;
      const live = await dut.makeDatabase(uniqueName(stem));
      const db = dut.chainConfig?.(live) ?? live;
      if (dut.addBulk) await dut.addBulk(db);
      /** Why the driver stores a full for a `type` of `db` (chainFallback), null when it chains. */
      const optOut = (type: ChainType) => {
        const why = dut.driver.chainFallback?.(db, type);
        return why ? english(why) : null;
      };
      const store = async (delta?: DeltaAsked): Promise<ChainMember> => ({
        ...(await storeBackup(dut, db, 'backup', delta)),
        setId: nextSetId(),
      });
      return { dut, db, optOut, store };
    };
    const restoreChain = (
      db: DatabaseConfig,
      chain: readonly ChainMember[],
      target: RestoreTarget,
      extra: Partial<RestoreRequest> = {},
    ): Promise<RestoreResult> => {
      const dut = get();
      return dut.driver.restore({ ...chainRestoreRequest(db, chain, target, true), ...extra }, makeCtx(dut));
    };

    check(
      'chains: full, incremental, incremental, differential: each restores with its chain to the content at its point',
      async () => {
        const fx = await chainFixture('chain');
        if (!fx) return;
        const { dut, db, optOut, store } = fx;
        const full = await store();
        const points: { member: ChainMember; content: unknown }[] = [{ member: full, content: await dut.content(db) }];
        const steps: [ChainType, () => ChainMember][] = [
          ['incremental', () => points.at(-1)!.member],
          ['incremental', () => points.at(-1)!.member],
          ['differential', () => full],
        ];
        for (const [type, base] of steps) {
          await dut.change(db);
          const asked = { type, base: base() };
          const member = await store(asked);
          const why = dut.driver.chains!.includes(type) ? optOut(type) : `${db.engine} has no ${type} backups`;
          if (why === null) {
            expect(member.fellBack, `${type}: stored a full`).toBeUndefined();
            expect(member.entry.base).toBe(asked.base.setId);
            // A delta of a little change stores less than a full (where stored sizes say so).
            if (dut.addBulk) expect(storedBytes(member), type).toBeLessThan(storedBytes(full));
          } else {
            expect(member.fellBack).toBe(why);
            expect(member.entry.base).toBeUndefined();
          }
          points.push({ member, content: await dut.content(db) });
        }
        expect(new Set(points.map((p) => JSON.stringify(p.content))).size, 'each change is seen').toBe(points.length);
        const members = points.map((p) => p.member);
        for (const [i, { member, content }] of points.entries()) {
          const chain = chainOf(member, members);
          const side = dut.sideName(db, uniqueName('chain copy'));
          const result = await restoreChain(db, chain, { kind: 'side-by-side', name: side });
          expect(result.restoredTo).toBe(side);
          const what = `point ${i} (${chain.map((m) => m.setId).join(' → ')})`;
          expect(await dut.content(db, side), what).toEqual(content);
          if (member.entry.tables) expect(result.tables).toEqual(member.entry.tables);
        }
        // `restore --at` a time after the last member: the set is restored whole.
        const last = chainOf(points[2]!.member, members);
        const side = dut.sideName(db, uniqueName('chain at'));
        await restoreChain(db, last, { kind: 'side-by-side', name: side }, { stopAt: '2999-01-01T00:00:00.000Z' });
        expect(await dut.content(db, side)).toEqual(points[2]!.content);
        expect(await dut.leftovers(db)).toEqual([]);
      },
    );

    check(
      'chains: a delta on an unusable base (files gone, not of this engine) is a full saying why, or restores',
      async () => {
        const fx = await chainFixture('chainbase');
        if (!fx) return;
        const { dut, db, store } = fx;
        const full = await store();
        const gone = await damagedMember(full, 'gone');
        const alien: ChainMember = {
          ...full,
          entry: { ...full.entry, format: 'not-a-dump-of-this-engine', details: {}, extras: [] },
        };
        for (const [label, base] of [
          ['its stored files gone', gone],
          ['not a base of this engine', alien],
        ] as const) {
          for (const type of dut.driver.chains!) {
            await dut.change(db);
            const now = await dut.content(db);
            const member = await store({ type, base });
            const what = `${type} on a base with ${label}`;
            if (label === 'not a base of this engine') expect(member.fellBack, what).toBeDefined();
            const side = dut.sideName(db, uniqueName('chain base'));
            if (member.fellBack) {
              expect(member.fellBack, what).toMatch(/\w{3}/);
              expect(member.entry.base, what).toBeUndefined();
              await restoreChain(db, [member], { kind: 'side-by-side', name: side });
            } else {
              // A delta made without reading its base (SQL Server: the server knows it) restores on the real one.
              await restoreChain(db, [full, member], { kind: 'side-by-side', name: side });
            }
            expect(await dut.content(db, side), what).toEqual(now);
          }
        }
        expect(await dut.leftovers(db)).toEqual([]);
      },
    );

    check(
      'chains: a chain with a damaged or missing member is refused before the target is touched; nothing left behind',
      async () => {
        const fx = await chainFixture('chainbad');
        if (!fx) return;
        const { dut, db, optOut, store } = fx;
        const type = dut.driver.chains!.includes('incremental') ? 'incremental' : 'differential';
        if (optOut(type) !== null) return;
        const full = await store();
        await dut.change(db);
        const delta = await store({ type, base: full });
        expect(delta.fellBack).toBeUndefined();
        await dut.change(db);
        // A second incremental, on the first: restored with the first left out (a gap) or the full left out.
        const next = type === 'incremental' ? await store({ type, base: delta }) : null;
        const atNext = await dut.content(db);
        if (next) expect(next.fellBack).toBeUndefined();
        await dut.change(db);
        const changed = await dut.content(db);
        // A file gone reaches the driver as the read error of the engine's stream (the engine verifies every
        // stored file first, so only one removed meanwhile does): any error will do, the target is what counts.
        type Variant = [string, ChainMember[], new (...args: never[]) => Error];
        const variants: Variant[] = [
          ['the full cut in half', [await damagedMember(full, 'cut'), delta], RespaldoError],
          ['the files of the full gone', [await damagedMember(full, 'gone'), delta], Error],
          ['the delta without its chain', [delta], RespaldoError],
          ...(next ? [['the full left out of the chain', [delta, next], RespaldoError] satisfies Variant] : []),
        ];
        for (const [label, chain, kind] of variants) {
          const inPlace = await restoreChain(db, chain, { kind: 'in-place' }).catch((e: unknown) => e);
          expect(inPlace, label).toBeInstanceOf(kind);
          expect(await dut.content(db), label).toEqual(changed);
          const side = dut.sideName(db, uniqueName('bad chain'));
          const sideBySide = await restoreChain(db, chain, { kind: 'side-by-side', name: side }).catch(
            (e: unknown) => e,
          );
          expect(sideBySide, label).toBeInstanceOf(kind);
          expect(await dut.content(db, side), label).toBeNull();
          expect(await dut.leftovers(db), label).toEqual([]);
        }
        // A member left out between the full and the set: refused, or (a delta that needs nothing of the member
        // left out, such as a PostgreSQL content reference to the full) the exact content; never another one.
        if (next) {
          const side = dut.sideName(db, uniqueName('gap chain'));
          const gap = await restoreChain(db, [full, next], { kind: 'side-by-side', name: side }).catch(
            (e: unknown) => e,
          );
          if (gap instanceof Error) {
            expect(gap).toBeInstanceOf(RespaldoError);
            expect(await dut.content(db, side)).toBeNull();
          } else expect(await dut.content(db, side), 'a chain with a gap').toEqual(atNext);
          expect(await dut.content(db)).toEqual(changed);
          expect(await dut.leftovers(db)).toEqual([]);
        }
        expect(await dut.driver.recover(db, makeCtx(dut))).toEqual([]);
      },
    );

    check('chains: an in-place restore of a chain set keeps what it replaced as the driver declares', async () => {
      const fx = await chainFixture('chainsafe');
      if (!fx) return;
      const { dut, db, store } = fx;
      const full = await store();
      await dut.change(db);
      const type = dut.driver.chains!.includes('incremental') ? 'incremental' : 'differential';
      const delta = await store({ type, base: full });
      const backedUp = await dut.content(db);
      await dut.change(db);
      const changed = await dut.content(db);
      const chain = chainOf(delta, [full, delta]);
      if (dut.driver.safety === 'renamed-database') {
        const result = await restoreChain(db, chain, { kind: 'in-place' });
        expect(await dut.content(db)).toEqual(backedUp);
        expect(result.safetyDatabase).toBe(dut.safetyName!(db, delta.setId));
        expect(await dut.content(db, result.safetyDatabase)).toEqual(changed);
      } else {
        const safety = await storeBackup(dut, db, 'safety');
        const result = await restoreChain(db, chain, { kind: 'in-place' });
        expect(result.safetyDatabase).toBeUndefined();
        expect(await dut.content(db)).toEqual(backedUp);
        await restore(db, safety, { kind: 'in-place' }, nextSetId(), true);
        expect(await dut.content(db)).toEqual(changed);
      }
      expect(await dut.leftovers(db)).toEqual([]);
      expect(await dut.driver.recover(db, makeCtx(dut))).toEqual([]);
    });

    check('findLeftovers is empty for a database nothing was left for', async () => {
      const dut = get();
      if (!dut.driver.findLeftovers) return;
      const db = await dut.makeDatabase(uniqueName('clean'));
      expect(await dut.driver.findLeftovers(db)).toEqual([]);
      expect(await dut.driver.recover(db, makeCtx(dut))).toEqual([]);
    });
  });
}
