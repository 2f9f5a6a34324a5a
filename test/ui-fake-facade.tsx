/**
 * Test support for the menu's frame tests (not a test file itself): an in-memory EngineFacade,
 * a render helper with the UI context, and key helpers for ink-testing-library. Why one file of about 800
 * lines: the fake implements the whole EngineFacade, and every frame test imports it with the helpers.
 */
import { EventEmitter } from 'node:events';
import type { ReactElement } from 'react';
import { render as inkRender } from 'ink';
import { render } from 'ink-testing-library';
import stringWidth from 'string-width';
import stripAnsi from 'strip-ansi';
import { InterruptedError, RespaldoError } from '../src/core/errors.js';
import { lastDrillOf, summaryFromManifest } from '../src/engine/catalog.js';
import { safetyOf } from '../src/engine/restore.js';
import { pathChoices, type PathChoices } from '../src/engine/stored-path-choices.js';
import { choosingPath, normalStoredPath, shownPath } from '../src/engine/restore-files.js';
import { english, phrase, type Phrase } from '../src/core/phrases.js';
import type { Reporter } from '../src/core/events.js';
import type {
  DrillRecord,
  DrillResult,
  Manifest,
  RetentionPolicy,
  ScheduleJob,
  SetSummary,
} from '../src/core/types.js';
import type {
  BackupTypePreview,
  CatchUpPlan,
  CreateRequest,
  DamagedNote,
  DrillOutcome,
  EngineFacade,
  HeaderStatus,
  MenuConfig,
  MenuHealth,
  KeyLock,
  KeySubject,
  OffsiteMark,
  RestoreOutcome,
  RestorePlan,
  RestoreRequest,
  SchedulerEvent,
  SchedulerHandle,
  SchedulerStatus,
  SetDetails,
  SetList,
  VerifyReport,
} from '../src/ui/engine-facade.js';
import { DETAILS_FILES } from '../src/ui/engine-facade.js';
import { catalogue, type Lang } from '../src/ui/i18n/index.js';
import { createTheme } from '../src/ui/theme.js';
import type { UiContextValue } from '../src/ui/use-ui.js';
import { UiRoot } from '../src/ui/UiRoot.js';
import { nextRuns as realNextRuns } from '../src/scheduler/when.js';

export const NOW = new Date('2026-11-22T12:00:00Z');

export function manifestFor(
  id: string,
  opts: {
    startedAt?: string;
    databases?: string[];
    failed?: { name: string; message: string; hint: string }[];
    type?: Manifest['type'];
    files?: number;
  } = {},
): Manifest {
  const startedAt = opts.startedAt ?? '2026-11-22T10:00:00.000Z';
  const dbs = opts.databases ?? ['users', 'inventario', 'auditoria'];
  return {
    schemaVersion: 1,
    id,
    type: opts.type ?? 'full',
    description: null,
    startedAt,
    completedAt: new Date(new Date(startedAt).getTime() + 4200).toISOString(),
    status: opts.failed?.length ? 'partial' : 'completed',
    tool: { name: 'respaldo', version: '0.1.0' },
    host: 'db1',
    job: null,
    restoreOf: null,
    compressionLevel: 6,
    databases: [
      ...dbs.map((name) => ({
        name,
        engine: 'sqlite' as const,
        file: `databases/${name}.sqlite.gz`,
        format: 'sqlite-db',
        compressed: true,
        rawBytes: 40960,
        storedBytes: 12288,
        md5: 'd41d8cd98f00b204e9800998ecf8427e',
        sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        tables: { [name]: 3 },
        durationMs: 100,
        error: null,
        details: {},
      })),
      ...(opts.failed ?? []).map((f) => ({
        name: f.name,
        engine: 'sqlite' as const,
        file: null,
        format: 'sqlite-db',
        compressed: true,
        rawBytes: 0,
        storedBytes: 0,
        md5: null,
        sha256: null,
        tables: null,
        durationMs: 5,
        error: { message: f.message, hint: f.hint },
        details: {},
      })),
    ],
    files: Array.from({ length: opts.files ?? 0 }, (_, i) => ({
      group: 'config' as const,
      source: `/srv/app/.env${i}`,
      relative: `.env${i}`,
      kind: 'file' as const,
      stored: `files/config/.env${i}.gz`,
      linkTarget: null,
      size: 120,
      mode: 0o600,
      mtime: startedAt,
      md5: 'aa',
      sha256: 'bb',
    })),
    warnings: [],
    totals: { storedBytes: 12288 * dbs.length, rawBytes: 40960 * dbs.length, files: dbs.length },
  };
}

export function summaryOf(
  m: Manifest,
  kept: ReadonlySet<string> = new Set(),
  drills: Map<string, DrillRecord> = new Map(),
): SetSummary {
  const s = summaryFromManifest(m, `/backups/${m.id}`, { keep: kept.has(m.id), lastVerified: null });
  return { ...s, lastDrill: lastDrillOf(drills.get(m.id) ?? null) };
}

/** A drill result as the engine records it: the restore's checks, and the failure given (if any). */
export function drillResultFor(database: string, at: string, failure?: { error: string; hint: string }): DrillResult {
  const checks: DrillResult['checks'] = [
    { name: 'stored files match the manifest', ok: true },
    { name: 'restore', ok: true, detail: `into /srv/backups/.tmp-drill-1/${database}.db` },
    { name: 'row counts against the manifest', ok: true, detail: '1 table(s)' },
    failure
      ? { name: 'PRAGMA integrity_check', ok: false, detail: failure.error }
      : { name: 'PRAGMA integrity_check', ok: true, detail: 'ok' },
  ];
  return {
    database,
    engine: 'sqlite',
    ok: !failure,
    at,
    durationMs: 1250,
    scratch: `/srv/backups/.tmp-drill-1/${database}.db`,
    checks,
    ...(failure ? { error: `PRAGMA integrity_check: ${failure.error}`, hint: failure.hint } : {}),
  };
}

/** An in-memory engine with the calls recorded; `fail` makes a named method throw a RespaldoError. */
export class FakeFacade implements EngineFacade {
  cfg: MenuConfig = {
    file: '/srv/app/backup_config.json',
    namedFile: null,
    backupDir: '/srv/backups',
    databases: [
      { name: 'users', engine: 'sqlite' },
      { name: 'inventario', engine: 'sqlite' },
      { name: 'auditoria', engine: 'sqlite' },
    ],
    fileSources: 1,
    destinations: [],
    identityFile: null,
    schedule: [{ name: 'daily', when: 'daily at 02:00', type: 'full', databases: ['*'], files: true }],
    retention: { keepLast: 3, daily: 30, weekly: 12, monthly: 12, yearly: 5 },
  };
  manifests: Manifest[] = [];
  calls: { method: string; args: unknown[] }[] = [];
  fail: Partial<Record<keyof EngineFacade, RespaldoError>> = {};
  /** Resolvers for createBackup/executeRestore held open by tests (to look at progress frames). */
  hold = false;
  /** Warnings executeRestore and drillSet emit as they start (a read resumed, a file decrypted on the way). */
  restoreWarnings: string[] = [];
  release: (() => void) | null = null;
  saved: { jobs: ScheduleJob[]; retention: RetentionPolicy } | null = null;
  /** What saveSchedule says of a scheduler running on the backup folder (a service). */
  schedulerRunsElsewhere = false;
  schedulerListener: ((e: SchedulerEvent) => void) | null = null;
  schedulerStops = 0;
  schedulerRunning: string | null = null;
  /**
   * What the engine's inspectTarget would report as using each live database: sessions for server
   * engines (engine taken from the set's manifest entry), processes for SQLite.
   */
  inUse: Record<string, string[]> = {};
  /** What health() answers; null: every database healthy, its newest set the newest manifest holding it. */
  healthAnswer: MenuHealth | null = null;
  private resolveSchedulerDone: (code: number) => void = () => undefined;

  constructor(setCount = 3) {
    for (let i = 0; i < setCount; i++) {
      const d = new Date(Date.UTC(2026, 10, 22, 10) - i * 86_400_000);
      const p = (n: number) => String(n).padStart(2, '0');
      const id = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}_${p(d.getUTCHours())}0000`;
      this.manifests.push(manifestFor(id, { startedAt: d.toISOString(), files: 2 }));
    }
  }

  private record(method: keyof EngineFacade, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const f = this.fail[method];
    if (f) throw f;
  }

  private waitRelease(): Promise<void> {
    if (!this.hold) return Promise.resolve();
    return new Promise((r) => (this.release = r));
  }

  config(): MenuConfig {
    return this.cfg;
  }
  async health(): Promise<MenuHealth> {
    this.record('health');
    if (this.healthAnswer) return this.healthAnswer;
    const newestOf = (name: string) => this.manifests.find((m) => m.databases.some((d) => d.name === name));
    return {
      report: {
        at: '2026-11-22T12:00:00.000Z',
        healthy: true,
        issues: [],
        problems: [],
        freeBytes: 50 * 1024 ** 3,
        minFreeBytes: 20_000_000_000,
        databases: this.cfg.databases.map((d) => ({
          database: d.name,
          lastSuccessAt: newestOf(d.name)?.completedAt ?? null,
          ageSeconds: null,
          promisedEverySeconds: 86_400,
          missedRunAt: null,
          overdue: false,
          lastDurationMs: null,
          medianDurationMs: null,
          lastStoredBytes: null,
          previousStoredBytes: null,
          successes30d: 3,
          attempts30d: 3,
          successRate30d: 1,
          lastDrill: null,
          problems: [],
        })),
      },
      newest: this.cfg.databases.map((d) => {
        const m = newestOf(d.name);
        return {
          database: d.name,
          engine: d.engine,
          setId: m?.id ?? null,
          type: m?.type ?? null,
          completedAt: m?.completedAt ?? null,
          ageSeconds: null,
        };
      }),
      offsite: [],
      createdRoles: [],
      lastRestores: [],
    };
  }
  /** While set, status() answers only once it settles (a header status that loads slowly). */
  statusGate: Promise<void> | null = null;
  async status(): Promise<HeaderStatus> {
    this.record('status');
    await this.statusGate;
    const sets = this.manifests.filter((m) => m.type !== 'pre_restore');
    const newest = sets[0];
    return {
      setCount: sets.length,
      safetyCount: this.manifests.length - sets.length,
      newest: newest ? { id: newest.id, startedAt: newest.startedAt } : null,
      lastGood: this.cfg.databases.map((d) => ({
        database: d.name,
        at:
          this.manifests.find((m) => m.type === 'full' && m.databases.some((x) => x.name === d.name && !x.error))
            ?.startedAt ?? null,
      })),
      lockHolder: null,
      freeBytes: 50 * 1024 ** 3,
      notOffsite: newest ? this.notCopied(newest.id) : [],
      looseSecrets: this.looseSecrets,
      drills: this.cfg.databases.flatMap((d) => {
        const all = [...this.drills.entries()].flatMap(([setId, r]) =>
          r.results[d.name] ? [{ setId, r: r.results[d.name]! }] : [],
        );
        const newest = all.sort((a, b) => (a.r.at < b.r.at ? 1 : -1))[0];
        return newest
          ? [
              {
                database: d.name,
                at: newest.r.at,
                ok: newest.r.ok,
                setId: newest.setId,
                ...(newest.r.error ? { error: newest.r.error } : {}),
              },
            ]
          : [];
      }),
    };
  }
  /**
   * Off-site marks by set id (as copies.json holds them); a set without an entry has none. With
   * `createCopies`, the set createBackup makes gets these marks.
   */
  /** Key files other users can read, as the header status reports them. */
  looseSecrets: { path: string; mode: string }[] = [];
  offsiteMarks: Record<string, OffsiteMark[]> = {};
  createCopies: OffsiteMark[] | null = null;
  private notCopied(id: string): string[] {
    return (this.offsiteMarks[id] ?? []).filter((o) => !o.ok).map((o) => o.destination);
  }
  async offsite(id: string): Promise<OffsiteMark[]> {
    this.record('offsite', id);
    return this.offsiteMarks[id] ?? [];
  }
  /** Recorded drills per set id (drilled.json). */
  drills = new Map<string, DrillRecord>();
  /** Databases whose drill fails, with the error and hint the engine would give. */
  drillFailures: Record<string, { error: string; hint: string }> = {};
  /** Of a drill from a destination: whether its fetched copy was removed (as the engine does whatever happens). */
  drillFetchRemoved: boolean | null = null;
  async drillSet(id: string, reporter: Reporter, signal?: AbortSignal, from?: string): Promise<DrillOutcome> {
    this.record('drillSet', ...(from ? [id, from] : [id]));
    if (from) {
      this.drillFetchRemoved = false;
      try {
        return await this.drillThere(id, from, reporter, signal);
      } finally {
        this.drillFetchRemoved = true;
      }
    }
    return this.drillHere(id, reporter);
  }
  /** `drill ID --from`: a bar of the bytes fetched, then the drill (interrupted when `signal` aborts while held). */
  private async drillThere(id: string, from: string, reporter: Reporter, signal?: AbortSignal): Promise<DrillOutcome> {
    const m = await this.readManifest(id, from);
    const item = `${m.id} @ ${from}`;
    reporter.emit({ type: 'run-start', operation: 'drill', setId: m.id, items: [item] });
    reporter.emit({ type: 'item-start', item, kind: 'fetch', totalBytes: 81920 });
    reporter.emit({ type: 'item-progress', item, bytes: 40960, totalBytes: 81920 });
    if (this.hold)
      await new Promise<void>((resolve, reject) => {
        this.release = resolve;
        const stopped = new InterruptedError(phrase('error.interruptedUnchanged')); // as a destination's read stops
        signal?.addEventListener('abort', () => reject(stopped), { once: true });
      });
    reporter.emit({ type: 'item-end', item, ok: true });
    const names = m.databases.filter((d) => d.file).map((d) => d.name);
    const results = names.map((db) => ({ ...drillResultFor(db, NOW.toISOString(), this.drillFailures[db]), from }));
    const ok = results.every((r) => r.ok);
    const here = this.manifests.some((x) => x.id === m.id);
    if (here) this.drills.set(m.id, { setId: m.id, results: Object.fromEntries(results.map((r) => [r.database, r])) });
    return { setId: m.id, ok, results, recovered: [], recorded: here, from, ...(here ? {} : { notHere: true }) };
  }
  private async drillHere(id: string, reporter: Reporter): Promise<DrillOutcome> {
    const m = await this.readManifest(id);
    const names = m.databases.filter((d) => d.file).map((d) => d.name);
    reporter.emit({ type: 'run-start', operation: 'drill', setId: m.id, items: names });
    for (const db of names) {
      reporter.emit({ type: 'item-start', item: db, kind: 'restore', totalBytes: 40960 });
      reporter.emit({ type: 'item-progress', item: db, bytes: 20480, totalBytes: 40960 });
    }
    for (const message of this.restoreWarnings) reporter.emit({ type: 'warning', item: names[0], message });
    await this.waitRelease();
    const results = names.map((db) => drillResultFor(db, NOW.toISOString(), this.drillFailures[db]));
    for (const r of results)
      reporter.emit({
        type: 'item-end',
        item: r.database,
        ok: r.ok,
        ...(r.error ? { error: r.error } : {}),
        ...(r.hint ? { hint: r.hint } : {}),
      });
    const ok = results.every((r) => r.ok);
    reporter.emit({ type: 'run-end', ok, setId: m.id, durationMs: 3750 });
    const previous = this.drills.get(m.id)?.results ?? {};
    this.drills.set(m.id, {
      setId: m.id,
      results: { ...previous, ...Object.fromEntries(results.map((r) => [r.database, r])) },
    });
    return { setId: m.id, ok, results, recovered: [], recorded: true };
  }
  async readDrills(id: string): Promise<DrillRecord | null> {
    this.record('readDrills', id);
    const m = await this.readManifest(id);
    return this.drills.get(m.id) ?? null;
  }
  /** Sets at each destination (listSets/readManifest/planRestore with `from`). */
  remote: Record<string, Manifest[]> = {};
  /** The passphrase of the identity file, when it is protected (keyLocked until unlockKey gets it). */
  keyPassphrase: string | null = null;
  keyOpened = false;
  /** The passphrase of the sets encrypted to a passphrase (`encryption.passphrase`), when no file gives it. */
  setsPassphrase: string | null = null;
  setsOpened = false;
  async keyLocked(of?: KeySubject): Promise<KeyLock | null> {
    this.record('keyLocked', of?.setId);
    const all = [...this.manifests, ...Object.values(this.remote).flat()];
    const m = of ? all.find((x) => x.id === of.setId) : undefined;
    if (of && !m?.encryption) return null;
    if (m?.encryption?.passphrase) return this.setsPassphrase !== null && !this.setsOpened ? 'passphrase' : null;
    return this.keyPassphrase === null || this.keyOpened ? null : 'identity';
  }
  async unlockKey(passphrase: string, of?: KeySubject): Promise<void> {
    this.record('unlockKey', passphrase.length);
    if ((await this.keyLocked(of)) === 'passphrase') {
      if (passphrase !== this.setsPassphrase) {
        const message = phrase('error.wrongPassphrase', { set: of!.setId });
        const hint = phrase('error.wrongPassphraseHint');
        throw new RespaldoError('key', english(message), english(hint)).withPhrases(message, hint);
      }
      this.setsOpened = true;
      return;
    }
    if (passphrase !== this.keyPassphrase) {
      // as the engine's unlockIdentity says it (a typed passphrase)
      const message = phrase('error.identityPassphrase', { path: '/srv/app/key.txt' });
      const hint = phrase('error.identityPassphraseTyped');
      throw new RespaldoError('key', english(message), english(hint)).withPhrases(message, hint);
    }
    this.keyOpened = true;
  }
  async releaseFetched(): Promise<void> {
    this.record('releaseFetched');
  }
  /** Sets whose manifest fails its checks, by where: '' here, else the destination's name. */
  damaged: Record<string, DamagedNote[]> = {};
  /** This server's source and the others at a destination holding none of its sets (listSets with `from`). */
  sourcesAt: Record<string, { source: string; otherSources: string[] }> = {};
  async listSets(filter?: { database?: string; from?: string }): Promise<SetList> {
    this.record('listSets', filter);
    const damaged = { damaged: this.damaged[filter?.from ?? ''] ?? [] };
    if (filter?.from)
      return Object.assign(
        (this.remote[filter.from] ?? []).map((m) => summaryOf(m, new Set(), new Map())),
        damaged,
        this.sourcesAt[filter.from] ?? {},
      );
    const marked = (s: SetSummary): SetSummary =>
      this.offsiteMarks[s.id] ? { ...s, notCopiedTo: this.notCopied(s.id) } : s;
    const sets = this.manifests
      .map((m) => marked(summaryOf(m, this.kept, this.drills)))
      .filter(
        (s) =>
          !filter?.database || s.databases.includes(filter.database) || s.failedDatabases.includes(filter.database),
      );
    return Object.assign(sets, damaged);
  }
  async readManifest(id: string, from?: string): Promise<Manifest> {
    this.record('readManifest', ...(from ? [id, from] : [id]));
    const all = from ? (this.remote[from] ?? []) : this.manifests;
    const m = id === 'latest' ? all[0] : all.find((x) => x.id === id);
    if (!m)
      throw new RespaldoError(
        'notFound',
        `No backup set ${id}.`,
        'Run `respaldo list` to see the backup sets that exist.',
      );
    return m;
  }
  async readSetDetails(id: string, from?: string): Promise<SetDetails> {
    this.record('readSetDetails', ...(from ? [id, from] : [id]));
    const m = await this.readManifest(id, from);
    return {
      manifest: { ...m, files: m.files.slice(0, DETAILS_FILES) },
      files: {
        count: m.files.length,
        bytes: m.files.reduce((sum, f) => sum + f.size, 0),
        groups: [...new Set(m.files.map((f) => f.group))],
      },
    };
  }
  /** What the set stores below a typed path, from its manifest's files (the engine's pathChoices). */
  async storedPathChoices(id: string, typed: string, limit: number, from?: string): Promise<PathChoices> {
    this.record('storedPathChoices', ...(from ? [id, typed, from] : [id, typed]));
    const m = await this.readManifest(id, from);
    return pathChoices(m.files, m.folders ?? [], typed, limit);
  }
  /** What breaks the chain of a set, by id (chainProblems). */
  chainBreaks: Record<string, Phrase[]> = {};
  async chainProblems(id: string): Promise<Phrase[]> {
    this.record('chainProblems', id);
    return this.chainBreaks[id] ?? [];
  }
  /** Databases a differential or incremental stores as a full, with the reason (planBackupTypes, createBackup). */
  chainFallbacks: Record<string, string> = {};
  async planBackupTypes(req: { databases: string[]; type: CreateRequest['type'] }): Promise<BackupTypePreview[]> {
    this.record('planBackupTypes', req);
    const chained = req.type === 'differential' || req.type === 'incremental';
    return req.databases.map((database) => {
      const fallback = chained ? (this.chainFallbacks[database] ?? null) : null;
      const base = chained && !fallback ? (this.manifests[0]?.id ?? null) : null;
      return { database, type: fallback ? 'full' : req.type, base, fallback };
    });
  }
  async createBackup(req: CreateRequest, reporter: Reporter): Promise<Manifest> {
    this.record('createBackup', req);
    const id = '20261122_120000';
    const items = [...req.databases, ...(req.files ? ['files'] : [])];
    reporter.emit({ type: 'run-start', operation: 'create', setId: id, items });
    for (const db of req.databases) {
      reporter.emit({ type: 'item-start', item: db, kind: 'database', totalBytes: 40960 });
      reporter.emit({ type: 'item-progress', item: db, bytes: 20480, totalBytes: 40960 });
    }
    await this.waitRelease();
    for (const db of req.databases)
      reporter.emit({ type: 'item-end', item: db, ok: true, bytes: 12288, durationMs: 100 });
    if (req.files) {
      reporter.emit({ type: 'item-start', item: 'files', kind: 'files' });
      reporter.emit({ type: 'item-end', item: 'files', ok: true, bytes: 300, durationMs: 10 });
    }
    const m = manifestFor(id, { startedAt: NOW.toISOString(), databases: req.databases, files: req.files ? 2 : 0 });
    if (req.type === 'differential' || req.type === 'incremental') {
      const notes = (await this.planBackupTypes(req)).flatMap((p) =>
        p.fallback
          ? [
              `${p.database}: stored as a full, not ${req.type === 'incremental' ? 'an' : 'a'} ${req.type}: ${p.fallback}`,
            ]
          : [],
      );
      m.type = notes.length === req.databases.length ? 'full' : req.type;
      if (notes.length) m.chainNotes = notes;
    }
    reporter.emit({ type: 'run-end', ok: true, setId: id, status: 'completed', durationMs: 4200 });
    this.manifests.unshift(m);
    if (this.createCopies) this.offsiteMarks[id] = this.createCopies;
    return m;
  }
  async verifySet(id: string, _reporter?: Reporter, opts: { readData?: boolean } = {}): Promise<VerifyReport> {
    this.record('verifySet', opts.readData ? `${id} --read-data` : id);
    const m = this.manifests.find((x) => x.id === id)!;
    if (opts.readData && m.encryption && (await this.keyLocked({ setId: m.id })))
      throw new RespaldoError('key', 'The key or the passphrase of the set is needed.', 'Type it.');
    return {
      ...(opts.readData && m.encryption ? { decrypted: true } : {}),
      setId: id,
      ok: true,
      files: m.databases.filter((d) => d.file).map((d) => ({ path: d.file!, ok: true, bytes: d.storedBytes })),
    };
  }
  async deleteSet(id: string): Promise<void> {
    this.record('deleteSet', id);
    this.manifests = this.manifests.filter((m) => m.id !== id);
  }
  /** What deleteNotes says of each set (none by default). */
  notesBeforeDelete = new Map<string, Phrase[]>();
  async deleteNotes(id: string): Promise<Phrase[]> {
    const given = this.notesBeforeDelete.get(id);
    if (given) return given;
    // As before-delete.ts says it: a safety set's databases kept on a server are dropped with it.
    const m = await this.readManifest(id);
    const drops = m.databases.flatMap((d) => (d.safetyDatabase ? [d.safetyDatabase] : []));
    return drops.length
      ? [phrase('delete.dropsSafety', { set: m.id, dbs: drops.join(', '), count: drops.length })]
      : [];
  }
  /** Sets marked keep. */
  kept = new Set<string>();
  async setKeep(id: string, keep: boolean): Promise<void> {
    this.record('setKeep', id, keep);
    if (keep) this.kept.add(id);
    else this.kept.delete(id);
  }
  /**
   * Plans like the engine: SQLite in use is refused; server sessions are refused unless terminateConnections (then a
   * warning).
   */
  async planRestore(req: RestoreRequest): Promise<RestorePlan> {
    this.record('planRestore', req);
    const reached = req.at ? this.manifests.find((x) => x.completedAt <= req.at!) : undefined;
    if (req.at && !reached)
      throw new RespaldoError('notFound', `No backup set ends at or before ${req.at}.`, 'Pick a later time.');
    const m = reached ?? (await this.readManifest(req.setId, req.from));
    const refusals: RestorePlan['refusals'] = [];
    const warnings: string[] = [];
    const databases: RestorePlan['databases'] = [];
    for (const name of req.databases) {
      const engine = m.databases.find((d) => d.name === name)?.engine ?? 'sqlite';
      const inUseBy = req.to ? [] : (this.inUse[name] ?? []);
      if (engine === 'sqlite') {
        if (inUseBy.length)
          refusals.push({
            kind: 'in-use',
            database: name,
            message: `/srv/app/data/${name}.db is open in another process (${inUseBy.join(', ')}).`,
            hint: 'Stop the application that uses it, then run the restore again.',
          });
        databases.push({
          database: name,
          target: req.to ? `${req.to}/${name}.db` : `/srv/app/data/${name}.db`,
          replaces: !req.to,
          staging: `/srv/app/data/.${name}.restoring`,
          safety: req.to ? { kind: 'none' as const, reason: 'side by side' } : { kind: 'pre-restore-set' as const },
          steps: ['verify the stored file', 'restore beside the target', 'swap it in'],
          rollback: req.to ? `delete ${req.to}/${name}.db` : `respaldo restore <pre_restore set id> --db ${name} --yes`,
          engine: 'sqlite',
          restoreTarget: req.to
            ? { kind: 'side-by-side' as const, name: `${req.to}/${name}.db` }
            : { kind: 'in-place' as const },
          state: { exists: !req.to, sizeBytes: req.to ? null : 40960, inUseBy },
          storedBytes: 12288,
          rawBytes: 40960,
          format: 'sqlite-db',
          estimatedRestoredBytes: 40960,
          estimateSource: 'database-file',
        });
        continue;
      }
      if (inUseBy.length) {
        if (!req.terminateConnections)
          refusals.push({
            kind: 'sessions',
            database: name,
            message: `${inUseBy.length} session(s) are connected to ${name}: ${inUseBy.slice(0, 5).join(', ')}.`,
            hint: 'Stop the application, or pass --terminate-connections to close them at the swap.',
          });
        else warnings.push(`${inUseBy.length} session(s) connected to ${name} will be terminated at the swap.`);
      }
      const safetyName = `${name}__pre_restore_${m.id}`;
      databases.push({
        database: name,
        target: req.to ? `new database "${req.to}" on db1:5432` : `database "${name}" on db1:5432`,
        replaces: !req.to,
        staging: `${name}__restoring_${m.id}`,
        safety: req.to
          ? { kind: 'none' as const, reason: 'side-by-side restore into a new database; nothing is replaced' }
          : { kind: 'renamed-database' as const, name: safetyName },
        steps: [
          ...(req.createRoles ? ['create the roles stored with the set that this server lacks'] : []),
          'create the empty staging database',
          req.tables ? `pg_restore only ${req.tables.join(', ')} into it` : 'pg_restore the backup into it',
          `rename "${name}" to "${safetyName}" (the safety copy)`,
        ],
        rollback: req.to
          ? `Nothing is replaced. Drop "${req.to}" when you no longer need it.`
          : `The previous database is kept as "${safetyName}".`,
        engine,
        restoreTarget: req.to ? { kind: 'side-by-side' as const, name: req.to } : { kind: 'in-place' as const },
        state: { exists: !req.to, sizeBytes: req.to ? null : 40960, inUseBy },
        storedBytes: 12288,
        rawBytes: 40960,
        format: 'pg-custom',
      });
    }
    const safety = safetyOf(databases);
    return {
      setId: m.id,
      setType: m.type,
      setStartedAt: m.startedAt,
      setStatus: m.status,
      databases,
      files: req.files ? filesPlanned(m, req) : null,
      safety: safety.map(english).join('; '),
      safetyPhrases: safety,
      refusals,
      warnings,
      ...(reached ? { at: atPreview(req.at!, reached) } : {}),
      options: {
        databases: req.databases,
        files: req.files,
        ...(req.to ? { to: req.to } : {}),
        ...(req.terminateConnections ? { terminateConnections: true } : {}),
      },
    };
  }
  async executeRestore(plan: RestorePlan, reporter: Reporter): Promise<RestoreOutcome> {
    this.record('executeRestore', plan);
    reporter.emit({
      type: 'run-start',
      operation: 'restore',
      setId: plan.setId,
      items: plan.databases.map((d) => d.database),
    });
    for (const message of this.restoreWarnings) reporter.emit({ type: 'warning', message });
    await this.waitRelease();
    for (const d of plan.databases) {
      reporter.emit({ type: 'item-start', item: d.database, kind: 'restore', totalBytes: d.rawBytes });
      reporter.emit({ type: 'item-end', item: d.database, ok: true, durationMs: 50 });
    }
    const replaced = plan.databases.some((d) => d.replaces);
    return {
      setId: plan.setId,
      ok: true,
      safetySetIds: replaced ? ['20261122_120500'] : [],
      removedSafetySetIds: [],
      databases: plan.databases.map((d) => ({
        name: d.database,
        ok: true,
        restoredTo: d.target,
        ...(d.safety.kind === 'renamed-database' ? { safetyDatabase: d.safety.name } : {}),
      })),
      filesRestoredTo: null,
      recovered: [],
    };
  }
  nextRuns(when: string, timezone: string | undefined, count: number, from?: Date): Date[] {
    return realNextRuns({ when, ...(timezone ? { timezone } : {}) }, count, from ?? NOW);
  }
  async saveSchedule(jobs: ScheduleJob[], retention: RetentionPolicy): Promise<{ schedulerRunning: boolean }> {
    this.record('saveSchedule', jobs, retention);
    this.saved = { jobs, retention };
    this.cfg = { ...this.cfg, schedule: jobs, retention };
    return { schedulerRunning: this.schedulerRunsElsewhere };
  }
  schedulerStatus(): SchedulerStatus {
    return {
      running: this.schedulerRunning,
      waiting: [],
      stopping: this.schedulerStops === 0 ? 'no' : this.schedulerStops === 1 ? 'finishing' : 'aborting',
      jobs: this.cfg.schedule.map((j) => ({
        name: j.name,
        when: j.when,
        type: j.type,
        nextRun: '2026-11-23T02:00:00.000Z',
        lastRun: null,
        lastEnd: null,
        lastOutcome: null,
        lastSuccess: null,
        lastDurationMs: null,
        lastSetId: null,
        lastBytes: null,
        lastError: null,
        successes: 0,
        failures: 0,
        skipped: 0,
      })),
      totals: { successes: 0, failures: 0, skipped: 0 },
    };
  }
  /** What planCatchUp returns (default: nothing missed). */
  catchUpPlan: CatchUpPlan = { runs: [], satisfied: [] };
  async planCatchUp(): Promise<CatchUpPlan> {
    this.record('planCatchUp');
    return this.catchUpPlan;
  }
  async startScheduler(
    listener: (event: SchedulerEvent) => void,
    opts?: { catchUp?: boolean },
  ): Promise<SchedulerHandle> {
    this.record('startScheduler', opts ?? {});
    this.schedulerListener = listener;
    const done = new Promise<number>((r) => (this.resolveSchedulerDone = r));
    return {
      status: () => this.schedulerStatus(),
      stop: () => {
        this.schedulerStops++;
        if (!this.schedulerRunning) {
          listener({ type: 'stopped', code: 0 });
          this.resolveSchedulerDone(0);
          return 'stopped';
        }
        if (this.schedulerStops >= 2) {
          this.schedulerRunning = null;
          listener({ type: 'state', status: this.schedulerStatus() });
          listener({ type: 'stopped', code: 130 });
          this.resolveSchedulerDone(130);
          return 'aborting';
        }
        return 'finishing';
      },
      done,
    };
  }
}

/** Renders `el` inside the UI context (English by default, 100 columns). */
export function renderUi(el: ReactElement, opts: { facade?: EngineFacade; lang?: Lang; env?: NodeJS.ProcessEnv } = {}) {
  const env = opts.env ?? { LANG: 'en_US.UTF-8' };
  const theme = createTheme(env);
  const lang = opts.lang ?? 'en';
  const ctx: UiContextValue = {
    t: catalogue(lang, theme.unicode),
    lang,
    theme,
    facade: opts.facade ?? new FakeFacade(),
    now: () => NOW,
  };
  const inst = render(<UiRoot value={ctx}>{el}</UiRoot>);
  return { ...inst, ctx };
}

export const KEY = {
  up: '\x1b[A',
  down: '\x1b[B',
  left: '\x1b[D',
  right: '\x1b[C',
  enter: '\r',
  esc: '\x1b',
  space: ' ',
  backspace: '\x7f',
  ctrlC: '\x03',
  pageDown: '\x1b[6~',
};

export const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends keys one at a time, waiting for Ink to process each. */
export async function press(stdin: { write: (s: string) => void }, ...keys: string[]): Promise<void> {
  for (const k of keys) {
    stdin.write(k);
    await tick(k === KEY.esc ? 40 : 20);
  }
}

/** Types text one character at a time. */
export async function type(stdin: { write: (s: string) => void }, text: string): Promise<void> {
  for (const ch of text) await press(stdin, ch);
}

/** Polls the last frame until `pred` holds (or fails with the frame after `ms`). */
export async function waitFrame(
  lastFrame: () => string | undefined,
  pred: (f: string) => boolean,
  ms = 5000,
): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const f = lastFrame() ?? '';
    if (pred(f)) return f;
    if (Date.now() > end) throw new Error(`frame did not match within ${ms} ms:\n${f}`);
    await tick(10);
  }
}

/** The files a restore plans: those `req.paths` choose (with what each chose, of the set's), or all of them. */
function filesPlanned(m: Manifest, req: RestoreRequest): NonNullable<RestorePlan['files']> {
  const to = req.to ? `${req.to}/files` : `/srv/app/restored/${m.id}`;
  const paths = req.paths?.map(normalStoredPath);
  const chosen = paths ? m.files.filter((f) => choosingPath(shownPath(f), paths) !== undefined) : m.files;
  const bytes = (fs: Manifest['files']) => fs.reduce((n, f) => n + f.size, 0);
  return {
    to,
    count: chosen.length,
    bytes: bytes(chosen),
    symlinks: 0,
    ...(paths
      ? {
          paths: paths.map((p) => ({
            path: p,
            count: m.files.filter((f) => choosingPath(shownPath(f), [p]) !== undefined).length,
            symlinks: 0,
          })),
          ofSet: { count: m.files.length, symlinks: 0, bytes: bytes(m.files) },
        }
      : {}),
  };
}

/** A stdout of a given size for frame tests (ink-testing-library's is 100 columns and has no rows). */
class SizedStdout extends EventEmitter {
  frames: string[] = [];
  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    super();
  }
  write = (frame: string): void => {
    this.frames.push(frame);
  };
  lastFrame = (): string | undefined => this.frames[this.frames.length - 1];
}

/** A TTY stdin as ink-testing-library's: `write` hands a chunk to Ink as one read. */
class SizedStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write = (data: string): void => {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  };
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

/**
 * Renders `el` inside the UI context on a terminal of `columns`×`rows` (default 80×24); stdin as ink-testing-library's.
 */
export function renderSized(
  el: ReactElement,
  opts: { facade?: EngineFacade; lang?: Lang; env?: NodeJS.ProcessEnv; columns?: number; rows?: number } = {},
) {
  const env = opts.env ?? { LANG: 'en_US.UTF-8' };
  const theme = createTheme(env);
  const lang = opts.lang ?? 'en';
  const ctx: UiContextValue = {
    t: catalogue(lang, theme.unicode),
    lang,
    theme,
    facade: opts.facade ?? new FakeFacade(),
    now: () => NOW,
  };
  const stdin = new SizedStdin();
  const stdout = new SizedStdout(opts.columns ?? 80, opts.rows ?? 24);
  const stderr = new SizedStdout(opts.columns ?? 80, opts.rows ?? 24);
  const inst = inkRender(<UiRoot value={ctx}>{el}</UiRoot>, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  sized.push(inst);
  return { stdin, stdout, lastFrame: stdout.lastFrame, unmount: inst.unmount, ctx };
}
const sized: { unmount: () => void; cleanup: () => void }[] = [];

/** Unmounts what renderSized rendered (call from afterEach with cleanup()). */
export function cleanupSized(): void {
  for (const i of sized.splice(0)) {
    i.unmount();
    i.cleanup();
  }
}

/**
 * What an 80×24 frame must satisfy: at most `rows` lines and none wider than `columns` (ANSI
 * codes removed). Returns the problems found (empty when the frame fits).
 */
export function frameProblems(frame: string, columns = 80, rows = 24): string[] {
  const lines = stripAnsi(frame).split('\n');
  const problems: string[] = [];
  if (lines.length > rows) problems.push(`${lines.length} lines drawn (at most ${rows})`);
  lines.forEach((l, i) => {
    if (stringWidth(l) > columns) problems.push(`line ${i + 1} is ${stringWidth(l)} columns: ${l}`);
  });
  return problems;
}

/** The `restore --at` preview of a fake set: a chain of itself alone. */
function atPreview(at: string, m: Manifest): NonNullable<RestorePlan['at']> {
  const member = { id: m.id, type: m.type, storedBytes: 12288, completedAt: m.completedAt };
  return {
    at,
    setId: m.id,
    point: m.completedAt,
    taken: m.startedAt,
    databases: m.databases.map((d) => ({
      database: d.name,
      chain: { database: d.name, members: [member], problem: null },
      storedBytes: 12288,
    })),
    order: [m.id],
    totalBytes: 12288 * m.databases.length,
    skipped: [],
  };
}
