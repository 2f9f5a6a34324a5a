/**
 * Pure planning for the PostgreSQL driver: table selection, derived database names, database properties, tool
 * versions, the printable restore and rollback plans, what interrupted runs left on a server and the words for a
 * failed client command (connection settings are in config.ts, tool command lines in args.ts). Nothing here does
 * I/O; the job files beside it (backup.ts, restore.ts, …) execute.
 *
 * Why one file of about 630 lines: every function is pure and tested as a table in test/postgres-plan.test.ts;
 * the derived names, the plans that print them and the leftovers that parse them back belong together.
 */
import { createHash } from 'node:crypto';
import type { PlanRestoreInput, RestoreRequest, RestoreStepPlan } from '../driver.js';
import { NotFoundError } from '../../core/errors.js';
import type { DatabaseConfig, DatabaseEntry } from '../../core/types.js';
import { english, phrase, type Phrase } from '../../core/phrases.js';
import { MAX_IDENTIFIER_BYTES, type PgConnection, resolveConnection, byteLength, describePg } from './config.js';
import { quoteIdent, quoteLiteral, type PgTool, type Relation, type TableRef } from './args.js';
import { DERIVED_KINDS, derivedMark, firstFreeRound, parseRound, roundId, type DerivedKind } from '../shared/names.js';
import { editDistance } from '../../core/edit-distance.js';

/**
 * Resolves `schema.table` selections against the tables recorded in the manifest (keys
 * `schema.table`, and `details.relations` pairs when present). Throws an Error naming the
 * selection that matches nothing.
 */
export function resolveTables(
  requested: readonly string[],
  known: {
    keys: readonly string[];
    relations?: readonly Relation[] | undefined;
    partitioned?: readonly Relation[] | 'unknown' | undefined;
  },
): TableRef[] {
  const out: TableRef[] = [];
  // `partitioned`: partitioned tables recorded at backup (0.3+); 'unknown' for older sets, where the archive decides.
  const parents = Array.isArray(known.partitioned) ? known.partitioned : [];
  for (const want of requested) {
    const named = ([s, t]: Relation) => `${s}.${t}` === want;
    const rel = known.relations?.find(named) ?? parents.find(named);
    if (rel) {
      out.push({ schema: rel[0], table: rel[1], ...(rel[2] ? { oid: rel[2] } : {}) });
      continue;
    }
    const dot = want.indexOf('.');
    const ref =
      dot > 0 ? { schema: want.slice(0, dot), table: want.slice(dot + 1) } : { schema: 'public', table: want };
    const key = `${ref.schema}.${ref.table}`;
    const isParent = parents.some(([s, t]) => `${s}.${t}` === key);
    if (known.keys.length > 0 && !known.keys.includes(key) && !isParent && known.partitioned !== 'unknown') {
      throw new Error(`table "${want}" is not in this backup`);
    }
    out.push(ref);
  }
  return out;
}

/**
 * The `--table` selections of a restore of `entry`, resolved against the tables its manifest recorded
 * (resolveTables). A selection that is not in the backup is a NotFoundError (exit 8) naming the tables that are.
 */
export function selectTables(
  entry: Pick<DatabaseEntry, 'name' | 'tables' | 'details'>,
  requested: readonly string[],
): TableRef[] {
  const recorded = Object.keys(entry.tables ?? {});
  const details = entry.details ?? {};
  const recordedParents = details['partitionedTables'];
  const partitioned = Array.isArray(recordedParents) ? (recordedParents as Relation[]) : ('unknown' as const);
  const relations = details['relations'] as Relation[] | undefined;
  try {
    return resolveTables(requested, { keys: recorded, relations, partitioned });
  } catch (err) {
    // partitioned tables first (restoring one brings its partitions), then the tables, sorted: what --table takes
    const parents = Array.isArray(partitioned) ? partitioned.map(([s, t]) => tableKey(s, t)) : [];
    const named = [...parents.map((p) => `${p} (partitioned)`), ...recorded.filter((k) => !parents.includes(k)).sort()];
    throw new NotFoundError(
      `Database ${entry.name}: ${(err as Error).message}.`,
      tablesHint(named, /table "(.*)" is not in this backup/.exec((err as Error).message)?.[1] ?? ''),
    );
  }
}

/** How many tables a `--table` that is not in the backup is answered with. */
const TABLES_NAMED = 20;

/**
 * The hint of a `--table` the backup does not hold: every table it holds (`named`); past TABLES_NAMED (a database of
 * thousands of tables), those whose names are closest to the one asked first (a digit or a letter off, another
 * case), with how many there are and where to see them all. Pure.
 */
function tablesHint(named: string[], missing: string): string {
  if (named.length <= TABLES_NAMED) return `Tables in this backup: ${named.join(', ')}`;
  const closest = named
    .map((n) => ({ n, d: editDistance(missing.toLowerCase(), n.replace(/ \(partitioned\)$/, '').toLowerCase()) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, TABLES_NAMED)
    .map((x) => x.n);
  return `This backup holds ${named.length} tables; the closest to "${missing}": ${closest.join(', ')}, … (respaldo show <set id> lists them all, with their row counts)`;
}

/** Manifest key of a table. */
export function tableKey(schema: string, table: string): string {
  return `${schema}.${table}`;
}

export type { DerivedKind };

function shortHash(s: string, n = 8): string {
  return createHash('sha256').update(s, 'utf8').digest('hex').slice(0, n);
}

/** Cuts a string to at most `max` UTF-8 bytes without splitting a character. */
export function truncateBytes(s: string, max: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const b = byteLength(ch);
    if (bytes + b > max) break;
    out += ch;
    bytes += b;
  }
  return out;
}

function suffixFor(kind: DerivedKind, setId: string): string {
  const suffix = `${derivedMark(kind)}${setId}`;
  // Keep at least ~20 bytes of the live name readable; very long set ids are hashed.
  return byteLength(suffix) <= 40 ? suffix : `${derivedMark(kind)}${shortHash(setId, 16)}`;
}

function prefixFor(live: string, suffix: string): string {
  if (byteLength(live) + byteLength(suffix) <= MAX_IDENTIFIER_BYTES) return live;
  const room = MAX_IDENTIFIER_BYTES - byteLength(suffix) - 9;
  return `${truncateBytes(live, room)}_${shortHash(live)}`;
}

/**
 * `<live>__restore_<setId>` / `<live>__pre_restore_<setId>`, shortened deterministically to 63
 * bytes (live name cut on a character boundary plus 8 hex of its SHA-256; long set ids hashed).
 */
export function derivedName(live: string, kind: DerivedKind, setId: string): string {
  const suffix = suffixFor(kind, setId);
  return prefixFor(live, suffix) + suffix;
}

export function restoreDbName(live: string, setId: string): string {
  return derivedName(live, 'restore', setId);
}

export function preRestoreDbName(live: string, setId: string): string {
  return derivedName(live, 'pre_restore', setId);
}

/** If `name` was derived from `live` (by derivedName), its kind and the set id part; else null. */
export function parseDerivedName(live: string, name: string): { kind: DerivedKind; id: string } | null {
  for (const kind of DERIVED_KINDS) {
    const marker = derivedMark(kind);
    const at = name.lastIndexOf(marker);
    if (at <= 0) continue;
    if (kind === 'restore' && name.slice(0, at).endsWith('__pre')) continue;
    const suffix = name.slice(at);
    const id = name.slice(at + marker.length);
    if (!id) continue;
    if (prefixFor(live, suffix) + suffix === name) return { kind, id };
  }
  return null;
}

/** Database-level properties recorded at backup time and re-applied to the restored database. */
export interface DatabaseProperties {
  encoding?: string;
  collate?: string;
  ctype?: string;
  localeProvider?: string;
  iculocale?: string | null;
  owner?: string;
  /** `name=value` items of ALTER DATABASE … SET (pg_db_role_setting). */
  settings?: string[];
  /** Explicit database privileges, or null for the defaults. */
  acl?: { grantee: string | null; privilege: string; grantable: boolean }[] | null;
  /** CONNECTION LIMIT (-1: none). Absent in sets made before it was recorded. */
  connectionLimit?: number;
  /** COMMENT ON DATABASE, or null. */
  comment?: string | null;
  /** `ALTER ROLE … IN DATABASE … SET` items, per role (pg_db_role_setting of this database and a role). */
  roleSettings?: { role: string; settings: string[] }[];
}

/** CREATE DATABASE for the staging database, with the recorded encoding and locale. */
export function createDatabaseSql(name: string, props: DatabaseProperties | undefined): string {
  const parts = [`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`];
  if (props?.encoding) parts.push(`ENCODING ${quoteLiteral(props.encoding)}`);
  if (props?.localeProvider === 'icu' && props.iculocale)
    parts.push(`LOCALE_PROVIDER icu ICU_LOCALE ${quoteLiteral(props.iculocale)}`);
  if (props?.collate) parts.push(`LC_COLLATE ${quoteLiteral(props.collate)}`);
  if (props?.ctype) parts.push(`LC_CTYPE ${quoteLiteral(props.ctype)}`);
  return parts.join(' ');
}

/** GUCs whose values are lists written as-is (pg_dump's GUC_LIST_QUOTE set). */
const LIST_GUCS = new Set([
  'search_path',
  'temp_tablespaces',
  'session_preload_libraries',
  'shared_preload_libraries',
  'local_preload_libraries',
  'unix_socket_directories',
]);

/**
 * Statements that re-apply owner, settings (the database's and its roles' in it), privileges, connection limit and
 * comment of the original database to `name`.
 * Roles not in `existingRoles` are skipped and reported in `skipped` (each a whole warning, `prop.*`).
 */
export function databasePropertiesSql(
  name: string,
  props: DatabaseProperties | undefined,
  existingRoles: ReadonlySet<string>,
): { statements: string[]; skipped: Phrase[] } {
  const statements: string[] = [];
  const skipped: Phrase[] = [];
  const db = quoteIdent(name);
  if (!props) return { statements, skipped };
  if (props.owner) {
    if (existingRoles.has(props.owner)) statements.push(`ALTER DATABASE ${db} OWNER TO ${quoteIdent(props.owner)}`);
    else skipped.push(phrase('prop.owner', { owner: props.owner }));
  }
  // `name=value` as `name TO value` (a list setting such as search_path as it is, others quoted), or null
  const setTo = (item: string): string | null => {
    const eq = item.indexOf('=');
    const key = eq > 0 ? item.slice(0, eq) : '';
    const value = item.slice(eq + 1);
    if (!/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)*$/.test(key)) return null;
    return `${key} TO ${LIST_GUCS.has(key.toLowerCase()) ? value : quoteLiteral(value)}`;
  };
  for (const item of props.settings ?? []) {
    const to = setTo(item);
    if (to) statements.push(`ALTER DATABASE ${db} SET ${to}`);
    else skipped.push(phrase('prop.setting', { setting: item }));
  }
  for (const { role, settings } of props.roleSettings ?? []) {
    for (const item of settings) {
      const to = setTo(item);
      if (!existingRoles.has(role)) skipped.push(phrase('prop.roleSetting', { role, setting: item }));
      else if (to) statements.push(`ALTER ROLE ${quoteIdent(role)} IN DATABASE ${db} SET ${to}`);
      else skipped.push(phrase('prop.setting', { setting: `${item} (role ${role})` }));
    }
  }
  if (
    typeof props.connectionLimit === 'number' &&
    Number.isInteger(props.connectionLimit) &&
    props.connectionLimit >= 0
  )
    statements.push(`ALTER DATABASE ${db} WITH CONNECTION LIMIT ${props.connectionLimit}`);
  if (typeof props.comment === 'string') statements.push(`COMMENT ON DATABASE ${db} IS ${quoteLiteral(props.comment)}`);
  if (props.acl) {
    statements.push(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
    for (const a of props.acl) {
      if (!/^[A-Z ]+$/.test(a.privilege)) {
        skipped.push(phrase('prop.privilege', { privilege: a.privilege }));
        continue;
      }
      if (a.grantee !== null && !existingRoles.has(a.grantee)) {
        skipped.push(phrase('prop.grantee', { privilege: a.privilege, grantee: a.grantee }));
        continue;
      }
      const to = a.grantee === null ? 'PUBLIC' : quoteIdent(a.grantee);
      statements.push(`GRANT ${a.privilege} ON DATABASE ${db} TO ${to}${a.grantable ? ' WITH GRANT OPTION' : ''}`);
    }
  }
  return { statements, skipped };
}

/** Major version from `pg_dump --version` style output (`pg_dump (PostgreSQL) 15.18 (Debian …)`), or null. */
export function parseToolVersion(output: string): { major: number; version: string } | null {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(output);
  if (!m) return null;
  const major = Number(m[1]);
  const version = [m[1], m[2], m[3]].filter((x) => x !== undefined).join('.');
  // Before 10 the major version was two numbers (9.6); treat 9.6 as 9 for comparisons.
  return { major, version };
}

/** Major version from server_version_num (150018 → 15, 90624 → 9). */
export function serverMajor(versionNum: number): number {
  return Math.floor(versionNum / 10000);
}

/** Why a client of major `client` cannot work with a server of major `server`, or null when it can. */
export function clientTooOld(tool: PgTool, client: number, server: number): string | null {
  if (client >= server) return null;
  return `${tool} ${client} cannot dump a PostgreSQL ${server} server (pg_dump must be at least the server's major version).`;
}

/** Inputs of the pure restore planner. */
export type PgPlanInput = PlanRestoreInput & Pick<RestoreRequest, 'createRoles'>;

/** The printable plan of a PostgreSQL restore. Pure. */
export function planPgRestore(req: PgPlanInput): RestoreStepPlan {
  if (req.entry.safetyDatabase && !req.entry.file) {
    return planPgSwapBack({ db: req.db, safetyName: req.entry.safetyDatabase, setId: req.setId });
  }
  const conn = resolveConnection(req.db);
  const live = conn.database;
  const staging = restoreDbName(live, req.setId);
  const where = serverPart(req.db, live);
  const tables = req.tables && req.tables.length > 0 ? req.tables : undefined;
  if (tables) selectTables(req.entry, tables);
  const counted = req.entry.tables && req.entry.details?.['rowCounts'] === 'exact';
  const refusal = tables || req.createRoles ? undefined : missingRolesRefusal(req);
  const steps: Phrase[] = [];
  if (req.createRoles) steps.push(phrase('pg.createRoles'));
  steps.push(phrase('pg.createDb', { staging }));
  steps.push(
    tables
      ? phrase('pg.restoreTables', { tables: tables.join(', '), staging })
      : // a directory dump is loaded by pg_restore --jobs, in several sessions: not one transaction
        phrase(req.entry.format === 'pg-directory' ? 'pg.restoreAllJobs' : 'pg.restoreAll', { staging }),
  );
  if (!tables) steps.push(phrase('pg.dbProps'));
  steps.push(phrase(counted ? 'pg.checkExact' : 'pg.checkEstimate'));
  if (req.target.kind === 'in-place' && req.targetExists === false) {
    // Nothing to set aside (a new server): the restored copy only takes the name.
    steps.push(phrase('pg.rename', { from: staging, to: live }), phrase('pg.failSide', { staging }));
    const rollback = phrase('pg.rollbackSide', { name: live, qName: quoteIdent(live) });
    return {
      database: req.db.name,
      target: `database "${live}" ${where}`,
      replaces: true,
      staging,
      safety: { kind: 'none', reason: `database "${live}" does not exist now; nothing is replaced` },
      steps: steps.map(english),
      stepPhrases: steps,
      rollback: english(rollback),
      rollbackPhrase: rollback,
      ...(refusal ? { refusal } : {}),
    };
  }
  if (req.target.kind === 'in-place') {
    // The name restore.ts will use: beside a safety copy an earlier restore of this set still keeps, the next round.
    const kept = req.keptSafeties ?? [];
    const round = firstFreeRound(
      req.setId,
      (id) => preRestoreDbName(live, id),
      (n) => kept.includes(n),
    );
    const safety = preRestoreDbName(live, roundId(req.setId, round));
    steps.push(
      phrase('pg.refuseSessions', { live }),
      phrase('pg.renameLive', { live, safety }),
      phrase('pg.rename', { from: staging, to: live }),
      phrase('pg.failInPlace', { staging, live }),
    );
    const quoted = { qLive: quoteIdent(live), qSafety: quoteIdent(safety) };
    const rollback = phrase('pg.rollbackCommand', { safety, db: req.db.name, ...quoted });
    return {
      database: req.db.name,
      target: `database "${live}" ${where}`,
      replaces: true,
      staging,
      safety: { kind: 'renamed-database', name: safety },
      steps: steps.map(english),
      stepPhrases: steps,
      rollback: english(rollback),
      rollbackPhrase: rollback,
      ...(refusal ? { refusal } : {}),
    };
  }
  const name = req.target.name;
  steps.push(
    phrase('pg.refuseExists', { name }),
    phrase('pg.rename', { from: staging, to: name }),
    phrase('pg.failSide', { staging }),
  );
  const rollback = phrase('pg.rollbackSide', { name, qName: quoteIdent(name) });
  return {
    database: req.db.name,
    target: `new database "${name}" ${where}`,
    replaces: false,
    staging,
    safety: { kind: 'none', reason: 'side-by-side restore into a new database; nothing is replaced' },
    steps: steps.map(english),
    stepPhrases: steps,
    rollback: english(rollback),
    rollbackPhrase: rollback,
    ...(refusal ? { refusal } : {}),
  };
}

/**
 * The roles the set's dump names (its manifest's `referencedRoles`, recorded since respaldo records them) that the
 * target's server lacks (`serverRoles`), as a refusal: pg_restore would stop at the first one, after the whole set was
 * fetched and the restore half done. Null when the manifest or the server's roles are not known. Pure.
 */
function missingRolesRefusal(req: PgPlanInput): RestoreStepPlan['refusal'] {
  const needed = req.entry.details?.['referencedRoles'];
  if (!Array.isArray(needed) || !req.serverRoles) return undefined;
  const have = new Set(req.serverRoles);
  const missing = needed.map(String).filter((r) => !have.has(r));
  if (missing.length === 0) return undefined;
  const roles = missing.map(quoteIdent).join(', ');
  const stored = req.entry.extras?.some((x) => x.role === 'globals');
  return {
    message: phrase('refuse.missingRoles', { db: req.db.name, count: String(missing.length), roles }),
    hint: phrase(stored ? 'refuse.missingRolesStoredHint' : 'refuse.missingRolesHint'),
  };
}

/**
 * The statements of a swap back (the rollback of an in-place restore), in one transaction: the
 * live database becomes the new safety copy and the kept one takes the live name. With no live
 * database (`newSafety` null) the kept one is only renamed. Pure.
 */
export function swapBackSql(live: string, safety: string, newSafety: string | null): string[] {
  const renames = newSafety ? [`ALTER DATABASE ${quoteIdent(live)} RENAME TO ${quoteIdent(newSafety)}`] : [];
  return ['BEGIN', ...renames, `ALTER DATABASE ${quoteIdent(safety)} RENAME TO ${quoteIdent(live)}`, 'COMMIT'];
}

/** describePg without its `database "…" ` head: `on db1:5432 as app` (a name may hold quotes and spaces). Pure. */
function serverPart(db: DatabaseConfig, database: string): string {
  const text = describePg(db);
  const head = `database "${database}" `;
  return text.startsWith(head) ? text.slice(head.length) : text;
}

/** The printable plan of a swap back: `safetyName` becomes the live database again. Pure. */
export function planPgSwapBack(req: { db: DatabaseConfig; safetyName: string; setId: string }): RestoreStepPlan {
  const live = resolveConnection(req.db).database;
  const newSafety = preRestoreDbName(live, req.setId);
  const where = serverPart(req.db, live);
  const p = { live, safety: req.safetyName, newSafety, db: req.db.name };
  const steps = [phrase('pg.refuseSessions', { live }), phrase('pg.swapBackRenames', p)];
  steps.push(phrase('pg.swapBackNoLive', p));
  const rollback = phrase('pg.rollbackSwapBack', p);
  return {
    database: req.db.name,
    target: `database "${live}" ${where}`,
    replaces: true,
    staging: req.safetyName,
    safety: { kind: 'renamed-database', name: newSafety },
    steps: steps.map(english),
    stepPhrases: steps,
    rollback: english(rollback),
    rollbackPhrase: rollback,
  };
}

/**
 * Of the safety copies, the one the swap of a staging copy (`stagingIds`, the set ids of `<live>__restore_<set>`)
 * had set aside: of the same set, the newest round (`<set>__2` was kept after `<set>`'s). Pure.
 */
export function newestSafetyOf<T extends { id: string }>(
  safeties: readonly T[],
  stagingIds: readonly string[],
): T | undefined {
  return safeties
    .filter((s) => stagingIds.includes(parseRound(s.id).setId))
    .sort((a, b) => parseRound(b.id).round - parseRound(a.id).round)[0];
}

/**
 * What interrupted restores left on the server for `live`, from the list of database names, one
 * line each in operator words with how to finish it (read-only findings for `status` and `create`).
 * `liveMissing` when the live database is gone while databases respaldo derived from it are there; `interrupted`
 * when one of them is a restore's own copy, which shows a restore was cut (safety copies alone do not). Pure.
 */
export function describeLeftovers(
  live: string,
  dbName: string,
  names: readonly string[],
  opts: { drillServer?: boolean; sessions?: ReadonlyMap<string, number> } = {},
): { liveMissing: boolean; interrupted: boolean; lines: string[] } {
  const derived = names
    .map((n) => ({ name: n, parsed: parseDerivedName(live, n) }))
    .filter((d) => d.parsed && d.name !== live);
  const staging = derived.filter((d) => d.parsed!.kind === 'restore');
  const safety = derived.filter((d) => d.parsed!.kind === 'pre_restore');
  const lines: string[] = [];
  // On drill.server no live database is expected: what is there was left by drills only.
  const liveMissing = !opts.drillServer && !names.includes(live) && staging.length + safety.length > 0;
  // Only a restore's own copy (`__restore_`) shows that a restore was cut while the live name was free.
  const interrupted = liveMissing && staging.length > 0;
  const nextDrill = `the next respaldo drill of ${dbName}`;
  const nextRun = opts.drillServer ? nextDrill : `respaldo create or the next restore or drill of ${dbName}`;
  if (liveMissing) {
    const pair = newestSafetyOf(
      safety.map((s) => ({ name: s.name, id: s.parsed!.id })),
      staging.map((t) => t.parsed!.id),
    );
    if (pair) {
      lines.push(
        `database "${live}" is missing: a restore was interrupted during its swap ` +
          `("${pair.name}" is the database as it was before). ` +
          `respaldo create (or the next respaldo restore of ${dbName}) renames it back to "${live}".`,
      );
    } else if (safety.length) {
      // A swap renames one database at a time and keeps the restored copy until it takes the live name, and a
      // rollback renames both in one transaction: no interrupted restore leaves only safety copies. The live
      // database was dropped or renamed by someone else (a DBA, a migration), which is said, never guessed at.
      lines.push(
        `database "${live}" is missing, and no interrupted restore explains it: it was dropped or renamed ` +
          `(if renamed, point the config at its new name). Earlier restores kept the database they replaced as ` +
          `${safety.map((s) => `"${s.name}"`).join(', ')}. To put one back: respaldo restore <its pre_restore set id> ` +
          `--db ${dbName} --yes (respaldo list --db ${dbName} shows the set), or restore a backup set of ${dbName}.`,
      );
    } else {
      lines.push(
        `database "${live}" is missing: a restore was interrupted before the restored copy took its name. ` +
          `respaldo restore <set id> --db ${dbName} --yes restores a backup.`,
      );
    }
  }
  // Sessions on it: a run still working on it from elsewhere (the folder lock does not reach it), or processes a
  // killed run left (the next run stops those first): said, as recovery leaves it while they are there.
  const inUse = (t: { name: string }) => {
    const n = opts.sessions?.get(t.name) ?? 0;
    return n > 0
      ? ` It has ${n} session(s) connected now: a restore or drill still working on it from another backup folder, config or host is left alone until they end.`
      : '';
  };
  for (const t of staging) {
    lines.push(
      // A drill restores through the same temporary name as a restore: from here, it may have been either.
      `temporary database "${t.name}" left by an interrupted ${opts.drillServer ? 'restore drill' : 'restore or drill'} ` +
        `(set ${t.parsed!.id}); ${nextRun} drops it.${inUse(t)}`,
    );
  }
  for (const t of derived.filter((d) => d.parsed!.kind === 'drill')) {
    lines.push(
      `scratch database "${t.name}" left by an interrupted restore drill (set ${t.parsed!.id}); ` +
        `${opts.drillServer ? nextDrill : `the next respaldo create, restore or drill of ${dbName}`} drops it.${inUse(t)}`,
    );
  }
  return { liveMissing, interrupted, lines };
}

/** What the server says when a relation's file is damaged (lowercase; PostgreSQL's own messages, LC_ALL=C). */
const DAMAGED_DATA = [
  'invalid page in block',
  'could not read block',
  'unexpected zero page at block',
  'missing chunk number',
  'unexpected chunk number',
  'compressed data is corrupt',
  'invalid memory alloc request size',
  'could not access status of transaction',
];

/** Operator hint for a failed PostgreSQL client command, from its stderr (its phrase: hintPhraseForStderr). */
export function hintForStderr(stderr: string, what: { tool: PgTool; conn: PgConnection }): string | undefined {
  const said = hintPhraseForStderr(stderr, what);
  return said && english(said);
}

/** The hint for a failed PostgreSQL client command, from its stderr, as a phrase (the menu says it in Spanish). */
export function hintPhraseForStderr(stderr: string, what: { tool: PgTool; conn: PgConnection }): Phrase | undefined {
  const s = stderr.toLowerCase();
  const at = `${what.conn.host ?? 'localhost'}:${what.conn.port ?? 5432}`;
  if (s.includes('password authentication failed') || s.includes('no password supplied') || s.includes('fe_sendauth')) {
    const variable = what.conn.passwordVariable;
    if (variable && s.includes('password authentication failed'))
      return phrase('pgconn.authFailedVarHint', { variable });
    return phrase('pgtool.passwordHint', { at });
  }
  // The server's own data damaged (SQLSTATE XX001/XX002): pg_dump read a table or index whose file is corrupt.
  if (what.tool === 'pg_dump' && DAMAGED_DATA.some((m) => s.includes(m)))
    return phrase('pgtool.damagedDataHint', { database: what.conn.database });
  const ended = sessionEndedBy(stderr);
  if (ended) return ended.hintPhrase;
  if (
    s.includes('connection refused') ||
    s.includes('could not connect') ||
    s.includes('server closed the connection') ||
    s.includes('terminating connection')
  ) {
    return phrase('pgtool.unreachableHint', { at });
  }
  if (s.includes('server version mismatch')) return phrase('pgtool.missingHint', { tool: what.tool });
  // pg_dump --lock-wait-timeout runs LOCK TABLE under a statement_timeout; row counts under lock_timeout.
  if (s.includes('lock timeout') || (s.includes('statement timeout') && s.includes('lock table')))
    return phrase('pgtool.lockTimeoutHint');
  // pg_dump's LOCK TABLE of every table in one transaction, past the server's shared lock table.
  if (s.includes('out of shared memory') && s.includes('max_locks_per_transaction')) return phrase('pgtool.locksHint');
  // pg_restore's SET default_tablespace on a server without it: 'Tablespace "ts1" does not exist.'
  const tablespace = /tablespace "([^"]+)" does not exist/i.exec(stderr)?.[1];
  if (tablespace !== undefined)
    return phrase('pgtool.tablespaceMissingHint', { tablespace, sql: quoteIdent(tablespace) });
  // CREATE EXTENSION without its files on the server: 'extension "x" is not available' (PG 15+: its control file).
  const extension =
    /extension "([^"]+)" is not available/i.exec(stderr)?.[1] ??
    /could not open extension control file "[^"]*\/([^"/]+)\.control"/i.exec(stderr)?.[1];
  if (extension !== undefined) return phrase('pgtool.extensionMissingHint', { extension });
  if (s.includes('does not exist') && s.includes('role')) return phrase('pgtool.roleMissingHint');
  if (s.includes('does not exist') && s.includes('database')) return phrase('pgconn.noDatabaseHint', { at });
  if (s.includes('permission denied') || s.includes('must be owner') || s.includes('must be superuser'))
    return phrase('pgtool.privilegeHint');
  if (s.includes('no pg_hba.conf entry')) return phrase('pgtool.hbaHint', { user: what.conn.user ?? '' });
  return undefined;
}

/**
 * Why the server ended or refused a session, from its own message (a client's stderr or a pg
 * error): terminated by an administrator or a shutdown, out of disk, a timeout, a standby conflict.
 * `cause` quotes the server; `hint` says what to do (`hintPhrase`, the same as a phrase). Null when the text names
 * no such cause. Pure.
 */
export function sessionEndedBy(text: string): { cause: string; hint: string; hintPhrase: Phrase } | null {
  const quoted = /(?:FATAL|ERROR|PANIC):\s+([^\n]+)/.exec(text)?.[1]?.trim();
  const s = text.toLowerCase();
  const ended = (fallback: string, why: string) => {
    const hintPhrase = phrase('pgend.hint', { why });
    return { cause: `the server said "${quoted ?? fallback}"`, hint: english(hintPhrase), hintPhrase };
  };
  if (s.includes('terminating connection due to administrator command'))
    return ended('terminating connection due to administrator command', 'admin');
  if (s.includes('due to idle-in-transaction timeout') || s.includes('due to idle-session timeout'))
    return ended('terminating connection due to idle timeout', 'idle');
  if (s.includes('due to conflict with recovery'))
    return ended('terminating connection due to conflict with recovery', 'recovery');
  if (s.includes('because of crash of another server process'))
    return ended('the server restarted after a crash', 'crash');
  // pg_dump's own output (the dump directory it writes in the backup folder's staging), not the server's disk.
  if (
    /could not write to (output )?file/.test(s) &&
    (s.includes('no space left on device') || s.includes('disk full'))
  ) {
    const hintPhrase = phrase('pgend.dumpDiskFullHint');
    return {
      cause: 'pg_dump could not write the dump: no space left on device',
      hint: english(hintPhrase),
      hintPhrase,
    };
  }
  if (s.includes('no space left on device') || s.includes('could not extend file') || s.includes('disk full'))
    return ended('no space left on device', 'serverDisk');
  if (s.includes('statement timeout') && !s.includes('lock table'))
    return ended('canceling statement due to statement timeout', 'statementTimeout');
  return null;
}
