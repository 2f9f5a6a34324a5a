import type { Key } from 'ink';
import type { Phrase } from '../core/phrases.js';
import type { DatabaseEntry, Manifest, SetSummary } from '../core/types.js';
import { capabilitiesOf } from '../drivers/capabilities.js';
import { chooseLatest } from '../engine/catalog.js';
import { atWithin } from '../engine/chain.js';
import { completedPath, typedChoices, type PathChoices } from '../engine/stored-path-choices.js';
import type { KeyLock, KeySubject, RestoreOutcome, RestorePlan, RestoreRequest, SetList } from './engine-facade.js';
import { scrollWindow } from './components/Rows.js';
import { editText, isCtrlC, isDown, isUp } from './use-keys.js';
import { onAtKey, onPassphraseKey, onSourceKey } from './restore-wizard-steps.js';

/**
 * The restore wizard of the menu (option 4) as a pure reducer: `(state, event) → { state, effect }`,
 * no React. Events are the operator's keys and the answers of the engine; an effect is what the
 * screen must do next (load a manifest, plan, run, go back), whose answer comes back as an event.
 * RestoreScreen.tsx draws the state, one small component per step (screens/restore/).
 *
 * Steps: with destinations configured, where from (this server's backup folder or a destination) →
 * pick a set (or latest; or `t`: "as of a date and time", the time and databases) → what to restore → where (in place
 * or side by side) → for one PostgreSQL database side by side, which tables → for the files alone, which of them
 * (stored paths, each typed and added by Enter, none for all; Tab lists what is stored there and completes it) →
 * the plan (nothing changed yet; the operator types the confirmation word) → when only connected sessions stop an
 * in-place restore of a server database, whether to close them at the swap (default no; yes plans again with them
 * closed) → when the identity file is passphrase-protected and not opened yet, or the set is encrypted to a passphrase
 * no file gives, that passphrase (masked; once opened the key is checked again, so sets needing both kinds ask one,
 * then the other) →
 * progress → the outcome. On the set step, `d` drills the set instead (here or at the destination: DrillScreen,
 * the CLI's `drill ID [--from NAME]`), then Esc comes back to the sets. New steps' keys live in
 * restore-wizard-steps.ts, but for the paths step's, a few lines that add a path, start the plan or list the paths
 * here.
 *
 * Why one file of about 680 lines: it is one state machine whose transitions read each other's states;
 * the steps added for destinations and points in time are in restore-wizard-steps.ts.
 */

export type WizardStep =
  | { name: 'source' }
  | { name: 'set' }
  | { name: 'at' }
  | { name: 'passphrase' }
  | { name: 'items' }
  | { name: 'target' }
  | { name: 'tables' }
  | { name: 'paths' }
  | { name: 'plan' }
  | { name: 'sessions'; choice: 0 | 1 }
  | { name: 'running'; interruptWarned: boolean }
  | { name: 'outcome'; outcome: RestoreOutcome }
  | { name: 'error'; error: unknown; back: ErrorBack }
  /** `d` on the set step: a restore drill of set `id` (at `from` when read there) instead; its screen owns the keys. */
  | { name: 'drill'; id: string };

/** The step an error goes back to. */
export type ErrorBack = 'set' | 'items' | 'target' | 'paths' | 'plan';

export interface WizardState {
  step: WizardStep;
  /** Opened on a set (from the list): no set step, Esc on the first step leaves. */
  initialSetId: string | null;
  /** The sets to pick from; null until loaded. */
  sets: SetList | null;
  /** Cursor over the set list (row 0 is `latest` when there is one). */
  setIndex: number;
  manifest: Manifest | null;
  /** How many file entries the set has when `manifest.files` holds only the first of them (readSetDetails). */
  fileCount?: number | undefined;
  /** What breaks the chain of the set of `manifest` (a set of this folder): its steps say BROKEN, as the list does. */
  chainProblems: Phrase[];
  /** One per restorable database, then the files row and the roles row when shown. */
  picked: boolean[];
  cursor: number;
  sideBySide: boolean;
  to: string;
  /** Why Enter did not go on (an i18n key of `t.restore`). */
  problem:
    'nothingPicked' | 'newTargetNeeded' | 'oneServerDatabase' | 'badTime' | 'ambiguousTime' | 'futureTime' | null;
  /** Configured destinations (the source step is shown when there is one) and databases (the at step's rows). */
  destinations: string[];
  databases: string[];
  /** Cursor of the source step: 0 the backup folder, then the destinations; and whether the operator moved it. */
  sourceIndex: number;
  sourceMoved: boolean;
  /** The destination the sets are listed from and restored from; null: this server's backup folder. */
  from: string | null;
  /**
   * "As of a date and time": the typed time, its cursor row, the databases chosen, and the time once accepted (ISO).
   */
  atText: string;
  atCursor: number;
  atPicks: boolean[];
  at: string | null;
  /**
   * The passphrase being typed (never drawn), whose it is (the identity file's or the set's), and why the
   * last one did not open it.
   */
  passphrase: string;
  keyLock: KeyLock | null;
  keyError: unknown;
  /**
   * The passphrase is asked before the items: an encrypted delta at a destination (its chain is decrypted as fetched).
   */
  keyFirst: boolean;
  /** Row 0: all tables; then one row per table of `tableNames`. */
  tablePicks: boolean[];
  tableCursor: number;
  /**
   * With the files: the stored paths added (Enter on a path typed), the one being typed (Enter on it empty: on to the
   * plan, of the paths added, of every file when none), and what the set stores there when listed.
   */
  pathsAdded: string[];
  pathText: string;
  pathChoices: PathChoices | null;
  plan: RestorePlan | null;
  /** What the screen waits for (an i18n key): keys typed meanwhile wait for the step that follows (waitsOnEngine). */
  busy: 'loading' | 'planning' | 'fetching' | 'unlocking' | null;
  /** First row of the plan (or of the outcome) shown when it does not fit. */
  scrollTop: number;
}

/** What the screen must do after a transition; its answer comes back as an event. */
export type WizardEffect =
  | { kind: 'load-sets'; from?: string }
  | { kind: 'load-manifest'; id: string; from?: string }
  | { kind: 'plan'; request: RestoreRequest }
  /** What set `id` stores below `typed` (answered by `paths-listed`); `complete`: Tab, the path is completed. */
  | { kind: 'list-paths'; id: string; typed: string; complete: boolean; from?: string }
  /**
   * Whether a passphrase must be typed first to decrypt `of` (answered by `key-checked`): the plan, or an
   * encrypted set of a destination before its items (fetching its chain decrypts).
   */
  | { kind: 'check-key'; of: KeySubject }
  | { kind: 'unlock'; passphrase: string; of: KeySubject }
  | { kind: 'execute'; plan: RestorePlan }
  | { kind: 'abort' }
  /** Esc while a destination is read (its sets listed, a manifest read, the set fetched): stop it, drop its answer. */
  | { kind: 'cancel' }
  | { kind: 'back' };

/** What the screen measured, which some keys need: the set list's page and the scrolled rows' window. */
export interface WizardView {
  setPage: number;
  scrollRows: number;
  scrollHeight: number;
}

export type WizardEvent =
  | { type: 'mounted' }
  /** The header's status, loaded after the wizard opened, found no set in this server's backup folder. */
  | { type: 'no-sets-here' }
  | { type: 'key'; input: string; key: Key; view: WizardView }
  | { type: 'sets-loaded'; sets: SetList }
  | { type: 'manifest-loaded'; manifest: Manifest; chainProblems?: Phrase[]; fileCount?: number }
  | { type: 'planned'; plan: RestorePlan }
  | { type: 'paths-listed'; listed: PathChoices; complete: boolean }
  | { type: 'confirmed' }
  | { type: 'key-checked'; locked: KeyLock | null }
  | { type: 'unlocked' }
  | { type: 'unlock-failed'; error: unknown }
  | { type: 'confirm-cancelled' }
  | { type: 'interrupt' }
  | { type: 'restored'; outcome: RestoreOutcome }
  /** The drill's screen was left: back to the sets, where it was chosen. */
  | { type: 'drill-left' }
  | { type: 'failed'; error: unknown; back: ErrorBack };

export interface Transition {
  state: WizardState;
  effect: WizardEffect | null;
}

/**
 * The wizard's first state. `noSetsHere`: this server's backup folder holds no set (a new server): the source step's
 * cursor starts on the first destination, where the sets to restore are.
 */
export function initialWizardState(
  initialSetId?: string,
  config: { destinations?: string[]; databases?: string[]; noSetsHere?: boolean } = {},
): WizardState {
  const destinations = config.destinations ?? [];
  const databases = config.databases ?? [];
  return {
    step: initialSetId ? { name: 'items' } : destinations.length ? { name: 'source' } : { name: 'set' },
    initialSetId: initialSetId ?? null,
    sets: null,
    setIndex: 0,
    manifest: null,
    chainProblems: [],
    picked: [],
    cursor: 0,
    sideBySide: false,
    to: '',
    problem: null,
    tablePicks: [],
    tableCursor: 0,
    pathsAdded: [],
    pathText: '',
    pathChoices: null,
    plan: null,
    busy: null,
    scrollTop: 0,
    destinations,
    databases,
    sourceIndex: config.noSetsHere && destinations.length ? 1 : 0,
    sourceMoved: false,
    from: null,
    atText: '',
    atCursor: 0,
    atPicks: databases.map(() => true),
    at: null,
    passphrase: '',
    keyLock: null,
    keyError: null,
    keyFirst: false,
  };
}

/** What the state implies: the rows of the items step, what is chosen, the tables offered. */
export interface WizardDerived {
  /** `latest` as the engine means it: the newest set that is not a safety copy and did not fail. */
  latest: SetSummary | undefined;
  /** Rows of the set list (the sets, plus `latest` on top when there is one), and the cursor among them. */
  setCount: number;
  setIndex: number;
  restorable: DatabaseEntry[];
  /**
   * Row of the files (when the set has any), of the roles choice (when a PostgreSQL database stored
   * its roles); -1 when absent.
   */
  filesRow: number;
  rolesRow: number;
  itemRows: number;
  chosenDbs: string[];
  chosenFiles: boolean;
  /** The files alone, no database: they always go into a new folder (typed, or the default), never "in place". */
  filesOnly: boolean;
  createRoles: boolean;
  /** Side by side, one PostgreSQL database with recorded tables: the tables the operator may pick from. */
  onlyDb: DatabaseEntry | undefined;
  tableNames: string[];
  chosenTables: string[];
  /** The plan is shown and nothing refuses it: the confirmation word is asked. */
  confirming: boolean;
}

/**
 * The databases of `manifest` a restore can take: stored without error, and in the config (`configured`, when it
 * names any: a set from a destination may hold a database this server does not have, which no restore can reach).
 */
export function restorableOf(manifest: Manifest | null, configured: readonly string[] = []): DatabaseEntry[] {
  if (!manifest) return [];
  return manifest.databases.filter(
    (d) => !d.error && (d.file || d.safetyDatabase) && (!configured.length || configured.includes(d.name)),
  );
}

export function deriveWizard(s: WizardState): WizardDerived {
  // `latest` in the menu is the CLI's `restore latest`: the newest set holding every database of this config
  // (chooseLatest), passing over a set whose chain its list says cannot be used (BROKEN: a set it applies on missing
  // or damaged, here or at the destination), as `restore latest [--from]` does. When none does, the newest holding
  // something this config can restore (the items step then offers what it holds).
  const usable = (x: SetSummary) =>
    !s.databases.length || x.files > 0 || x.databases.some((d) => s.databases.includes(d));
  const want = { databases: s.databases, files: false };
  const whole = s.sets?.filter((x) => !x.chainProblems?.length);
  const latest =
    (s.sets && whole ? (chooseLatest(whole, want) ?? chooseLatest(s.sets, want))?.chosen : undefined) ??
    s.sets?.find((x) => x.type !== 'pre_restore' && x.status !== 'failed' && usable(x) && !x.chainProblems?.length) ??
    s.sets?.find((x) => x.type !== 'pre_restore' && x.status !== 'failed' && usable(x));
  const setCount = (s.sets?.length ?? 0) + (latest ? 1 : 0);
  const restorable = restorableOf(s.manifest, s.databases);
  const filesRow = s.manifest && s.manifest.files.length > 0 ? restorable.length : -1;
  const hasRoles = restorable.some(
    (d) => capabilitiesOf(d.engine).roles && d.extras?.some((x) => x.role === 'globals'),
  );
  const rolesRow = hasRoles ? restorable.length + (filesRow >= 0 ? 1 : 0) : -1;
  const chosenDbs = restorable.filter((_, i) => s.picked[i]).map((d) => d.name);
  const onlyDb = chosenDbs.length === 1 ? restorable.find((d) => d.name === chosenDbs[0]) : undefined;
  const tableNames =
    s.sideBySide && onlyDb && capabilitiesOf(onlyDb.engine).tableSelection && onlyDb.tables
      ? Object.keys(onlyDb.tables).sort()
      : [];
  return {
    latest,
    setCount,
    setIndex: setCount === 0 ? 0 : Math.min(Math.max(s.setIndex, 0), setCount - 1),
    restorable,
    filesRow,
    rolesRow,
    itemRows: restorable.length + (filesRow >= 0 ? 1 : 0) + (rolesRow >= 0 ? 1 : 0),
    chosenDbs,
    chosenFiles: filesRow >= 0 && !!s.picked[filesRow],
    filesOnly: !s.at && chosenDbs.length === 0 && filesRow >= 0 && !!s.picked[filesRow],
    createRoles: rolesRow >= 0 && !!s.picked[rolesRow],
    onlyDb,
    tableNames,
    chosenTables: s.tablePicks[0] === false ? tableNames.filter((_, i) => s.tablePicks[i + 1]) : [],
    confirming: s.step.name === 'plan' && s.plan !== null && s.plan.refusals.length === 0,
  };
}

/** The engine's request for the current choices; `terminate` only after the operator said yes to closing sessions. */
export function planRequest(s: WizardState, terminate: boolean): RestoreRequest {
  const d = deriveWizard(s);
  if (s.at)
    return {
      setId: '',
      ...(s.from ? { from: s.from } : {}),
      at: s.at,
      atWithin: atWithin(s.atText),
      databases: s.databases.filter((_, i) => s.atPicks[i]),
      files: false,
      ...(s.sideBySide ? { to: s.to.trim() } : {}),
      ...(terminate ? { terminateConnections: true } : {}),
    };
  return {
    ...(s.from ? { from: s.from } : {}),
    setId: s.manifest?.id ?? '',
    databases: d.chosenDbs,
    files: d.chosenFiles,
    ...((s.sideBySide || d.filesOnly) && s.to.trim() ? { to: s.to.trim() } : {}),
    ...(terminate ? { terminateConnections: true } : {}),
    ...(d.createRoles ? { createRoles: true } : {}),
    ...(d.chosenTables.length ? { tables: d.chosenTables } : {}),
    ...(d.filesOnly && s.pathsAdded.length ? { paths: s.pathsAdded } : {}),
  };
}

/**
 * The databases of a plan restored in place on a server engine (the live database is kept renamed)
 * that have sessions connected: what the operator may choose to close at the swap. SQLite targets
 * in use are never among them (there is nothing to close; they stay refused).
 */
export function connectedSessions(plan: RestorePlan): RestorePlan['databases'] {
  return plan.databases.filter(
    (d) => d.restoreTarget.kind === 'in-place' && d.safety.kind === 'renamed-database' && d.state.inUseBy.length > 0,
  );
}

/**
 * Whether to ask the operator about closing sessions: the plan did not already ask to close them,
 * some server database has sessions connected, and the sessions are all that stops the restore
 * (any other refusal would still stop it, so the question would be pointless and the refusals
 * are shown as they are).
 */
export function mayCloseSessions(plan: RestorePlan): boolean {
  if (plan.options.terminateConnections) return false;
  return (
    connectedSessions(plan).length > 0 && plan.refusals.length > 0 && plan.refusals.every((r) => r.kind === 'sessions')
  );
}

const stay = (state: WizardState): Transition => ({ state, effect: null });
const CANCEL: WizardEffect = { kind: 'cancel' };
/** No set opened: what the items, target and tables steps read of one. */
const NO_SET = {
  manifest: null,
  chainProblems: [],
  picked: [],
  cursor: 0,
  tablePicks: [],
} satisfies Partial<WizardState>;
const to = (state: WizardState, effect: WizardEffect | null = null): Transition => ({ state, effect });

/** Planning: the plan step with nothing shown yet while the engine plans (nothing is changed). */
function startPlan(s: WizardState, terminate: boolean): Transition {
  if (!s.manifest && !s.at) return stay(s);
  const request = planRequest(s, terminate);
  const busy = request.from ? 'fetching' : 'planning';
  return to({ ...s, step: { name: 'plan' }, plan: null, scrollTop: 0, busy }, { kind: 'plan', request });
}

/**
 * The paths step when the files are restored alone (a file or a folder brought back from a set), what the set stores
 * at the path typed listed; else the plan. With databases, all the files (a server brought back whole keeps its flow).
 */
function pathsOrPlan(s: WizardState): Transition {
  if (!deriveWizard(s).filesOnly || !s.manifest) return startPlan(s, false);
  return listPaths({ ...s, step: { name: 'paths' } }, false);
}

/**
 * Enter on a path typed: added to those restored (once), and the field emptied for another, the set's top listed again.
 * One the set was listed at, where it names no stored file or folder, stays typed (the screen says so).
 */
function addPath(s: WizardState): Transition {
  const path = s.pathText.trim();
  const known = typedChoices(s.pathChoices, s.pathText);
  if (known.current && known.chosen === 0) return stay(s);
  const pathsAdded = s.pathsAdded.includes(path) ? s.pathsAdded : [...s.pathsAdded, path];
  return listPaths({ ...s, pathsAdded, pathText: '', pathChoices: null }, false);
}

/** Lists what the set stores at the path typed (`complete`: Tab, which completes it too). */
function listPaths(s: WizardState, complete: boolean): Transition {
  if (!s.manifest) return stay(s);
  const from = s.from ? { from: s.from } : {};
  const effect = { kind: 'list-paths' as const, id: s.manifest.id, typed: s.pathText, complete, ...from };
  return to({ ...s, busy: 'loading' }, effect);
}

/** The items step with `picked`: 'choose at least one' goes once a database or the files are chosen. */
function withPicked(s: WizardState, picked: boolean[]): WizardState {
  const next = { ...s, picked };
  const d = deriveWizard(next);
  return d.chosenDbs.length > 0 || d.chosenFiles ? { ...next, problem: null } : next;
}

/** Moves the cursor over `count` rows as the set list does (arrows, j/k, PgUp/PgDn, Home/End); null: not a list key. */
function moveInList(index: number, count: number, page: number, input: string, key: Key): number | null {
  const clamp = (i: number): number => (count === 0 ? 0 : Math.min(Math.max(i, 0), count - 1));
  const from = clamp(index);
  if (isUp(input, key)) return clamp(from - 1);
  if (isDown(input, key)) return clamp(from + 1);
  if (key.pageUp) return clamp(from - page);
  if (key.pageDown) return clamp(from + page);
  if (key.home) return 0;
  if (key.end) return clamp(count - 1);
  return null;
}

/**
 * ↑↓ (j/k when nothing is typed), PgUp/PgDn, Home/End move the window over the plan or the outcome; null: not a
 * scroll key.
 */
function scrolled(s: WizardState, input: string, key: Key, view: WizardView, typing: boolean): number | null {
  const w = scrollWindow(view.scrollRows, view.scrollHeight, s.scrollTop);
  if (key.home) return 0;
  if (key.end) return w.maxTop;
  const up = key.upArrow || (!typing && input === 'k');
  const down = key.downArrow || (!typing && input === 'j');
  const by = up ? -1 : down ? 1 : key.pageUp ? -w.shown : key.pageDown ? w.shown : 0;
  if (!by) return null;
  return Math.max(0, Math.min(w.maxTop, w.top + by));
}

/**
 * Esc while a destination is read: a slow or frozen one must never hold the operator. The fetch of the
 * set goes back to the target step, the read of a manifest stays on the sets (the effect stops the work
 * and drops its answer; nothing was changed).
 */
function cancelRemote(s: WizardState): Transition | null {
  if (!s.from) return null;
  if (s.busy === 'fetching') return to({ ...s, busy: null, plan: null, step: { name: 'target' } }, CANCEL);
  if (s.busy === 'loading' && (s.step.name === 'set' || s.step.name === 'paths'))
    return to({ ...s, busy: null }, CANCEL);
  return null;
}

/** The screen waits on the engine (the sets listed, a manifest read, a plan made, a set fetched, a key opened). */
export function waitsOnEngine(s: WizardState): boolean {
  return s.busy !== null || (s.step.name === 'set' && s.sets === null);
}

/** Esc stops the wait at once instead of waiting for the step that follows: a destination read, the sets listed. */
export function escapesWait(s: WizardState): boolean {
  return cancelRemote(s) !== null || (s.step.name === 'set' && s.sets === null && s.busy === null);
}

function onKey(s: WizardState, input: string, key: Key, view: WizardView): Transition {
  const cancelled = key.escape ? cancelRemote(s) : null;
  if (cancelled) return cancelled;
  if (isCtrlC(input, key) || s.busy || s.step.name === 'running') return stay(s);
  const d = deriveWizard(s);
  const step = s.step;
  switch (step.name) {
    case 'source':
      return onSourceKey(s, input, key);
    case 'at':
      return onAtKey(s, input, key);
    case 'passphrase':
      return onPassphraseKey(s, input, key);
    case 'set': {
      if (key.escape) {
        // Sets of a destination still being listed: the listing is stopped.
        if (s.destinations.length) return to({ ...s, step: { name: 'source' } }, s.from && !s.sets ? CANCEL : null);
        return to(s, { kind: 'back' });
      }
      // "As of a time" restores what the time picks, not a set opened before: its items and tables are forgotten.
      if (input === 't' && s.databases.length)
        return stay({ ...s, ...NO_SET, problem: null, atCursor: 0, step: { name: 'at' } });
      const moved = moveInList(s.setIndex, d.setCount, view.setPage, input, key);
      if (moved !== null) return stay({ ...s, setIndex: moved });
      if (!(key.return || input === 'd') || !s.sets) return stay(s);
      const chosen = d.latest && d.setIndex === 0 ? d.latest : s.sets[d.setIndex - (d.latest ? 1 : 0)];
      if (!chosen) return stay(s);
      if (input === 'd') return stay({ ...s, problem: null, step: { name: 'drill', id: chosen.id } });
      const load = { kind: 'load-manifest' as const, id: chosen.id, ...(s.from ? { from: s.from } : {}) };
      return to({ ...s, at: null, busy: 'loading' }, load);
    }
    case 'items': {
      if (key.escape) {
        if (s.initialSetId) return to(s, { kind: 'back' });
        return stay({ ...s, problem: null, step: { name: 'set' } });
      }
      if (isUp(input, key)) return stay({ ...s, cursor: Math.max(0, s.cursor - 1) });
      if (isDown(input, key)) return stay({ ...s, cursor: Math.min(d.itemRows - 1, s.cursor + 1) });
      if (input === ' ')
        return stay(
          withPicked(
            s,
            s.picked.map((v, i) => (i === s.cursor ? !v : v)),
          ),
        );
      if (input === 'a')
        return stay(
          withPicked(
            s,
            s.picked.map((_, i) => i < d.restorable.length || i === d.filesRow),
          ),
        );
      if (key.return) {
        if (d.chosenDbs.length === 0 && !d.chosenFiles) return stay({ ...s, problem: 'nothingPicked' });
        return stay({ ...s, problem: null, step: { name: 'target' } });
      }
      return stay(s);
    }
    case 'target': {
      if (key.escape) return stay({ ...s, problem: null, step: { name: s.at ? 'at' : 'items' } });
      if (key.upArrow && !d.filesOnly) return stay({ ...s, sideBySide: false });
      if (key.downArrow && !d.filesOnly) return stay({ ...s, sideBySide: true });
      if (key.return) {
        if (s.sideBySide && !d.filesOnly && !s.to.trim()) return stay({ ...s, problem: 'newTargetNeeded' });
        // A new name is one PostgreSQL or SQL Server database (its driver keeps a database, not a file): the plan
        // would refuse several, in the CLI's words (--to, --db).
        const serverDb = d.restorable.some((x) => d.chosenDbs.includes(x.name) && x.engine !== 'sqlite');
        if (s.sideBySide && serverDb && d.chosenDbs.length > 1) return stay({ ...s, problem: 'oneServerDatabase' });
        const next = { ...s, problem: null };
        if (d.tableNames.length > 0) {
          const fresh = s.tablePicks.length !== d.tableNames.length + 1;
          const tablePicks = fresh ? [true, ...d.tableNames.map(() => false)] : s.tablePicks;
          return stay({ ...next, tablePicks, tableCursor: 0, step: { name: 'tables' } });
        }
        return pathsOrPlan(next);
      }
      if (s.sideBySide || d.filesOnly) {
        const edited = editText(s.to, input, key);
        if (edited !== null) return stay({ ...s, to: edited });
      }
      return stay(s);
    }
    case 'tables': {
      if (key.escape) return stay({ ...s, step: { name: 'target' } });
      if (isUp(input, key)) return stay({ ...s, tableCursor: Math.max(0, s.tableCursor - 1) });
      if (isDown(input, key)) return stay({ ...s, tableCursor: Math.min(d.tableNames.length, s.tableCursor + 1) });
      if (input === ' ') {
        if (s.tableCursor === 0) return stay({ ...s, tablePicks: [true, ...d.tableNames.map(() => false)] });
        const next = s.tablePicks.map((v, i) => (i === s.tableCursor ? !v : v));
        next[0] = !next.slice(1).some(Boolean);
        return stay({ ...s, tablePicks: next });
      }
      if (key.return) return pathsOrPlan(s);
      return stay(s);
    }
    case 'paths': {
      if (key.escape) return stay({ ...s, step: { name: d.tableNames.length ? 'tables' : 'target' } });
      if (key.return) return s.pathText.trim() ? addPath(s) : startPlan(s, false);
      if (key.tab) return listPaths(s, true);
      // Backspace with nothing typed takes back the path added last, to be typed again.
      if ((key.backspace || key.delete) && !s.pathText && s.pathsAdded.length)
        return stay({ ...s, pathsAdded: s.pathsAdded.slice(0, -1), pathText: s.pathsAdded.at(-1)! });
      const edited = editText(s.pathText, input, key);
      return edited === null ? stay(s) : stay({ ...s, pathText: edited });
    }
    case 'plan': {
      const top = scrolled(s, input, key, view, d.confirming);
      if (top !== null) return stay({ ...s, scrollTop: top });
      if (key.escape && !d.confirming) return stay({ ...s, step: { name: 'target' } });
      return stay(s);
    }
    case 'sessions': {
      const no = { ...s, plan: null, step: { name: 'target' } as const };
      if (key.escape) return stay(no);
      if (isUp(input, key)) return stay({ ...s, step: { name: 'sessions', choice: 0 } });
      if (isDown(input, key)) return stay({ ...s, step: { name: 'sessions', choice: 1 } });
      if (key.return) return step.choice === 1 ? startPlan(s, true) : stay(no);
      return stay(s);
    }
    case 'drill':
      return stay(s);
    case 'outcome': {
      const top = scrolled(s, input, key, view, false);
      if (top !== null) return stay({ ...s, scrollTop: top });
      if (key.escape || key.return) return to(s, { kind: 'back' });
      return stay(s);
    }
    case 'error': {
      if (!(key.escape || key.return)) return stay(s);
      if (step.back === 'set' && !s.sets && s.destinations.length) return stay({ ...s, step: { name: 'source' } });
      if (step.back === 'set' && (s.initialSetId || !s.sets)) return to(s, { kind: 'back' });
      const back: WizardStep = { name: step.back === 'plan' ? 'target' : step.back };
      return stay({ ...s, step: back });
    }
  }
}

/** The wizard's transition for one event. */
export function restoreWizard(s: WizardState, e: WizardEvent): Transition {
  switch (e.type) {
    case 'no-sets-here':
      // The header's status came after the wizard opened: its cursor goes where a new server's sets are, unless moved.
      return stay(s.step.name === 'source' && !s.sourceMoved && s.destinations.length ? { ...s, sourceIndex: 1 } : s);
    case 'mounted':
      if (s.initialSetId) return to({ ...s, busy: 'loading' }, { kind: 'load-manifest', id: s.initialSetId });
      if (s.step.name === 'source') return stay(s);
      return to(s, { kind: 'load-sets' });
    case 'key':
      return onKey(s, e.input, e.key, e.view);
    case 'sets-loaded':
      return stay({ ...s, sets: e.sets });
    case 'manifest-loaded': {
      const restorable = restorableOf(e.manifest, s.databases);
      const picked = [...restorable.map(() => restorable.length === 1), false, false];
      // A set at a destination: what breaks its chain there is what its list said (a set it applies on gone there).
      const listed = s.sets?.find((x) => x.id === e.manifest.id);
      const chainProblems = e.chainProblems ?? listed?.chainProblemPhrases ?? [];
      const items = { name: 'items' } as const;
      const fileCount = e.fileCount;
      const loaded = {
        ...s,
        manifest: e.manifest,
        fileCount,
        chainProblems,
        picked,
        cursor: 0,
        pathsAdded: [],
        pathText: '',
        pathChoices: null,
        busy: null,
        step: items,
      };
      // An encrypted delta at a destination: the sets of its chain are decrypted as they are fetched (planning).
      if (s.from && e.manifest.encryption && e.manifest.databases.some((d) => d.base))
        return to(
          { ...loaded, busy: 'unlocking', keyFirst: true },
          { kind: 'check-key', of: { setId: e.manifest.id, from: s.from } },
        );
      return stay(loaded);
    }
    case 'paths-listed': {
      if (s.step.name !== 'paths') return stay({ ...s, busy: null });
      // Completed only when what was listed is still what is typed (nothing is typed while it is listed: held).
      const typed = e.complete && e.listed.typed === s.pathText ? completedPath(s.pathText, e.listed) : s.pathText;
      const next = { ...s, busy: null, pathChoices: e.listed, pathText: typed };
      // Completed to a folder: what it holds is listed at once, as the next Tab would.
      return typed !== s.pathText && typed.endsWith('/') ? listPaths(next, false) : stay(next);
    }
    case 'planned': {
      const next = { ...s, plan: e.plan, busy: null };
      if (mayCloseSessions(e.plan)) return stay({ ...next, step: { name: 'sessions', choice: 0 } });
      return stay(next);
    }
    case 'confirmed':
      if (s.step.name !== 'plan' || !s.plan) return stay(s);
      // An encrypted set (or a chain chosen by time, whose sets may be) may need the key's passphrase first.
      if (s.at || s.manifest?.encryption) return to({ ...s, busy: 'unlocking' }, { kind: 'check-key', of: s.plan });
      return to({ ...s, step: { name: 'running', interruptWarned: false } }, { kind: 'execute', plan: s.plan });
    case 'key-checked': {
      const ask = {
        ...s,
        busy: null,
        passphrase: '',
        keyLock: e.locked,
        keyError: null,
        step: { name: 'passphrase' } as const,
      };
      if (s.keyFirst)
        return e.locked ? stay(ask) : stay({ ...s, busy: null, keyFirst: false, step: { name: 'items' } });
      if ((s.step.name !== 'plan' && s.step.name !== 'passphrase') || !s.plan) return stay({ ...s, busy: null });
      if (e.locked) return stay(ask);
      return to(
        { ...s, busy: null, step: { name: 'running', interruptWarned: false } },
        { kind: 'execute', plan: s.plan },
      );
    }
    case 'unlocked': {
      // Checked again: the sets of a restore "as of" a time may need the other kind of key too (one encrypted
      // to the identity, another to the passphrase of the backups); it runs once nothing is locked.
      const of = s.keyFirst && s.manifest && s.from ? { setId: s.manifest.id, from: s.from } : s.plan;
      if (!of || (!s.keyFirst && s.step.name !== 'passphrase')) return stay({ ...s, busy: null });
      return to({ ...s, busy: 'unlocking', keyError: null }, { kind: 'check-key', of });
    }
    case 'unlock-failed':
      return stay({ ...s, busy: null, passphrase: '', keyError: e.error });
    case 'confirm-cancelled':
      return stay({ ...s, step: { name: 'target' } });
    case 'interrupt':
      if (s.step.name !== 'running') return stay(s);
      if (!s.step.interruptWarned) return stay({ ...s, step: { name: 'running', interruptWarned: true } });
      return to(s, { kind: 'abort' });
    case 'restored':
      return stay({ ...s, scrollTop: 0, step: { name: 'outcome', outcome: e.outcome } });
    case 'drill-left':
      return s.step.name === 'drill' ? stay({ ...s, step: { name: 'set' } }) : stay(s);
    case 'failed':
      return stay({ ...s, busy: null, step: { name: 'error', error: e.error, back: e.back } });
  }
}
