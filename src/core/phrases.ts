/**
 * The sentences of a restore plan that an operator reads before confirming (steps, how to roll
 * back, the safety copy, refusals and warnings), the errors the menu shows most, and every warning
 * the engine emits as a progress event (and what recovery after a crash did), as ids with
 * parameters. The engine and the CLI
 * use the English text below; the menu renders the same ids from its own catalogue
 * (src/ui/i18n/phrases-es.ts) in the operator's language. Parameters are names, paths and numbers
 * that are shown as they are. Why one file of about 1600 lines: one table of every sentence, which the Spanish
 * catalogue mirrors id for id (its `satisfies` checks that none is missing); split, the two would drift.
 */

export type PhraseParams = Record<string, string>;

/** `dbs`, `failed` (names, comma-separated, may be empty) and `files` (a count) of a set, in English. */
function holdsEn(p: PhraseParams): string {
  const failed = p['failed'] ? ` (failed in it: ${p['failed']})` : '';
  return `${p['dbs'] || 'no databases'}${failed}; ${p['files'] !== '0' ? `${p['files']} file(s)` : 'no files'}`;
}

/** ` and N earlier set(s) of its chain` when `chain` is not 0. */
const chainEn = (p: PhraseParams) => (p['chain'] !== '0' ? ` and ${p['chain']} earlier set(s) of its chain` : '');
/** `N file(s), B bytes` (the bytes when not 0). */
const filesEn = (p: PhraseParams) => `${p['count']} file(s)${p['bytes'] !== '0' ? `, ${p['bytes']} bytes` : ''}`;

/** The target of a restore in status's words: the live database, or the `--to` path. */
const targetEn = (p: PhraseParams): string => (p['to'] ? `the target ${p['to']}` : 'the live database');
/** ` (hang-up: the terminal closed)` and the like, when a signal stopped it. */
const signalEn = (p: PhraseParams): string =>
  p['signal'] === 'SIGHUP'
    ? ' (hang-up: the terminal closed)'
    : p['signal'] === 'SIGINT'
      ? ' (Ctrl-C)'
      : p['signal']
        ? ` (${p['signal']})`
        : '';

/** ` (needed by X)` when a chain problem's `by` is set. */
/**
 * What a backup's room estimate is made of (create-room.ts shortOfRoom): the newest set of its type's stored size, the
 * database snapshots and dump files written beside it, a fifth to spare.
 */
const estimateOf = (p: PhraseParams): string =>
  `what the last ${p['type']} set, ${p['set']}, stored${p['stored'] ? ` (${p['stored']})` : ''}, with the database ` +
  'snapshots and dump files written beside it, and a fifth to spare';
const neededEn = (p: PhraseParams) => (p['by'] ? ` (needed by ${p['by']})` : '');

/** What `at.none*` add: the sets passed over (their reasons stay English) and when the first set ends. */
function atDetails(p: PhraseParams): string {
  const passed = p['passed'] ? ` with a usable chain (passed over: ${p['passed']})` : '';
  return passed + (p['first'] ? ` (the first, set ${p['first']}, ends at ${p['ends']})` : '');
}

/** What a fetch that found damage left undone (`done`: restore, drill, or nothing to say), then a space. */
const nothingDoneEn = (p: PhraseParams): string =>
  p['done'] === 'drill'
    ? 'Nothing was drilled or recorded; nothing fetched was kept. '
    : p['done'] === 'restore'
      ? 'Nothing was restored. '
      : '';

/** How a damaged set at destination `dest` is mended: from this server when it holds set `set` (`held`). */
const repairThereEn = (p: PhraseParams): string =>
  p['held']
    ? `This server still holds set ${p['set']}: \`respaldo copy ${p['set']} --to ${p['dest']} --verify\` repairs it there (it sends again each file that differs). Or restore another set (\`respaldo list --from ${p['dest']}\`).`
    : `Restore another set (\`respaldo list --from ${p['dest']}\`); the set can be repaired there only from a server that still holds it.`;

/** What a schema problem found (`found`: the value as JSON, `foundKind`: its JSON type), in English. */
const foundEn = (p: PhraseParams) =>
  p['foundKind'] === 'object' ? 'an object { … }' : p['foundKind'] === 'array' ? 'a list [ … ]' : (p['found'] ?? '');

/** A JSON type as the schema expects it, in English. */
const TYPE_EN: PhraseParams = {
  integer: 'a whole number',
  number: 'a number',
  string: 'a text in quotes',
  boolean: 'true or false',
  object: 'an object { … }',
  array: 'a list [ … ]',
  null: 'null',
};
const typeEn = (t: string | undefined) =>
  (t ?? '')
    .split(',')
    .map((x) => TYPE_EN[x] ?? x)
    .join(' or ');

/** A problem of the config against the schema: its field's path, its phrase and its hint's phrase. */
export interface SchemaItem {
  path: string;
  id: string;
  params: PhraseParams;
  hint: string;
  hintParams: PhraseParams;
}

/**
 * The problems of a config against the schema (`items`: JSON of SchemaItem[]), each said by `say`: one on the line
 * of the file (`FILE: path: problem`), several one a line under it (`  path: problem`), `more` for those left out.
 */
export function schemaItems(
  p: PhraseParams,
  say: (id: string, params: PhraseParams) => string,
  heading: string,
  more: string,
): string {
  const items = JSON.parse(p['items'] ?? '[]') as SchemaItem[];
  const line = (i: SchemaItem) => `${i.path || '(top level)'}: ${say(i.id, i.params)}`;
  if (items.length === 1 && items[0]) return `${p['file']}: ${line(items[0])}`;
  const rest = p['more'] && p['more'] !== '0' ? `\n  ${more}` : '';
  return `${p['file']}: ${heading}\n` + items.map((i) => `  ${line(i)}`).join('\n') + rest;
}

/** The hints of `items` (as schemaItems), each once, the first three (a screen holds 24 lines), then `end`. */
export function schemaHints(p: PhraseParams, say: (id: string, params: PhraseParams) => string, end: string): string {
  const items = JSON.parse(p['items'] ?? '[]') as SchemaItem[];
  return [...[...new Set(items.map((i) => say(i.hint, i.hintParams)))].slice(0, 3), end].join(' ');
}

/** A table whose restored row count differs from the manifest's (`actual` null: the table is missing). */
export interface RowDiff {
  table: string;
  expected: number;
  actual: number | null;
}

/** The first 5 of `diffs` (RowDiff[] as JSON, the phrase's parameter), each said by `one`, joined by `; `. */
export function rowDiffs(diffs: string | undefined, one: (d: RowDiff) => string): string {
  const all = JSON.parse(diffs ?? '[]') as RowDiff[];
  return all.slice(0, 5).map(one).join('; ') + (all.length > 5 ? '; …' : '');
}

const rowDiffEn = (d: RowDiff): string =>
  d.actual === null
    ? `${d.table}: missing (expected ${d.expected} rows)`
    : `${d.table}: ${d.actual} rows, expected ${d.expected}`;

/** The phrase nested in `p` (nestedPhrase: `pid`, its parameters `p.`-prefixed), in English. */
function nestedEn(p: PhraseParams): string {
  const inner = Object.entries(p).filter(([k]) => k.startsWith('p.'));
  return PHRASES_EN[p['pid'] as PhraseId](Object.fromEntries(inner.map(([k, v]) => [k.slice(2), v])));
}

/** The secret file `what` names (config: encryption.passphraseFile, env: the file `env` names, identity). */
const secretWhatEn = (p: PhraseParams): string =>
  p['what'] === 'identity'
    ? 'the identity file'
    : p['what'] === 'env'
      ? `the passphrase file named by ${p['env']}`
      : 'the passphrase file (encryption.passphraseFile)';

/** A destination that failed a keep mark: its name and its error (`error`, `phrase` when it has one). */
export interface KeepFailure {
  destination: string;
  error: string;
  phrase?: Phrase;
}
/** A list passed as JSON in a parameter, each item said by `one` and joined by `, `; text that is no list as it is. */
export function listParam<T>(text: string | undefined, one: (item: T) => string): string {
  let items: unknown;
  try {
    items = JSON.parse(text ?? '[]');
  } catch {
    return text ?? '';
  }
  return Array.isArray(items) ? (items as T[]).map(one).join(', ') : (text ?? '');
}

/** An error said in parentheses inside a sentence: without its own closing full stop (`(… "nas".).`). */
export const inParens = (text: string): string => text.replace(/\.$/, '');

/**
 * Why a keep mark failed at a destination, where no retry mends it (keep.notAtHint's `why`): `gone`, the set is no
 * longer there; `folder`, a folder is where the mark goes; '' for the rest (a destination out of reach).
 */
export function keepFailureWhy(f: KeepFailure): 'gone' | 'folder' | '' {
  return f.phrase?.id === 'keep.noSetThere' ? 'gone' : f.phrase?.id === 'dest.folderInTheWay' ? 'folder' : '';
}

/** keep.notAtHint (see there). */
const keepNotAtHintEn = (p: PhraseParams): string =>
  p['why'] === 'gone'
    ? p['keep'] === 'true'
      ? `Set ${p['set']} is no longer at ${p['dest']}: \`respaldo copy ${p['set']} --to ${p['dest']}\` sends it there again, with its keep mark.`
      : `Set ${p['set']} is no longer at ${p['dest']}, so no keep mark is left there to clear.`
    : p['why'] === 'folder'
      ? `respaldo writes only files there: remove that folder at ${p['dest']}, then run respaldo keep ${p['set']}${p['keep'] === 'true' ? '' : ' --unset'} --from ${p['dest']}.`
      : `Run respaldo keep ${p['set']}${p['keep'] === 'true' ? '' : ' --unset'} --from ${p['dest']} once it is reachable.`;

/** `nas (its error), usb (…)`: the destinations of `failed` (KeepFailure[] as JSON), in English. */
const keepFailedEn = (p: PhraseParams): string =>
  listParam<KeepFailure>(p['failed'], (f) => `${f.destination} (${inParens(f.error)})`);

/** A destination whose retention after a backup failed (`retention.problems`): its error, and its phrase if any. */
export interface RetentionProblem {
  dest: string;
  error: string;
  phrase?: Phrase;
}

/** The destinations of `retention.problems` (`items`: JSON of RetentionProblem[]). */
export function retentionProblems(p: PhraseParams): RetentionProblem[] {
  try {
    const items = JSON.parse(p['items'] ?? '[]') as unknown;
    return Array.isArray(items) ? (items as RetentionProblem[]) : [];
  } catch {
    return [];
  }
}

/** `a as "a__pre_restore_X", …`: the databases kept renamed (`kept`: JSON of [name, renamed] pairs), in English. */
const keptEn = (p: PhraseParams): string => listParam<[string, string]>(p['kept'], ([n, r]) => `${n} as "${r}"`);

/** What to do when the server ended a session (`pgend.hint`'s `why`), in English. */
const PGEND_EN: PhraseParams = {
  admin:
    'The server ended the session on purpose: an administrator or a tool ran pg_terminate_backend() on it, ' +
    'or the server is being shut down (pg_ctl stop, systemctl stop). ' +
    'The server is running unless it was shut down; its log says which.',
  idle:
    "The server's idle_in_transaction_session_timeout (or idle_session_timeout) ended the session. " +
    'Disable it for the backup user (ALTER ROLE … SET idle_in_transaction_session_timeout = 0).',
  recovery:
    'This server is a standby and replication cancelled the session. Back up from the primary, ' +
    'or raise max_standby_streaming_delay / turn on hot_standby_feedback on the standby.',
  crash: 'Another server process crashed and PostgreSQL restarted; check the server log.',
  serverDisk:
    'The database server ran out of disk space (its data or temporary-file folder), not the backup folder. ' +
    'Free space on the server.',
  statementTimeout:
    "The server's statement_timeout cancelled the dump; disable it for the backup user " +
    '(ALTER ROLE … SET statement_timeout = 0).',
};

export const PHRASES_EN = {
  // SQLite restore steps
  'sqlite.verify': (p: PhraseParams) => `verify ${p['file']} against the manifest (md5, sha256)`,
  'restore.streamCheck': (p: PhraseParams) =>
    `check ${p['file']} as it is streamed from destination "${p['from']}" (size, sha256)`,
  'restore.localCheck': (p: PhraseParams) =>
    `check ${p['file']} against the manifest as it is read (its size first, then sha256); a mismatch stops the restore before the swap`,
  'restore.fetchCheck': (p: PhraseParams) =>
    `check ${p['file']} as it is fetched from destination "${p['from']}" (size, sha256), before anything is restored`,
  'restore.fetchedCheck': (p: PhraseParams) =>
    `${p['file']} was checked as it was fetched from destination "${p['from']}" (size, sha256)`,
  'sqlite.write': (p: PhraseParams) => `write the restored database to ${p['staging']}`,
  'sqlite.applySchema': () => 'apply the schema SQL to it',
  'sqlite.check': () => 'run PRAGMA integrity_check and compare row counts with the manifest',
  'sqlite.swapInPlace': (p: PhraseParams) => `rename it over ${p['target']} and remove stale ${p['base']}-wal/-shm`,
  'sqlite.renameSide': (p: PhraseParams) => `rename it to ${p['target']} (the live database is not touched)`,
  'sqlite.renameNew': (p: PhraseParams) =>
    `rename it to ${p['target']} (no database is there now; it takes the owner of its folder)`,
  'sqlite.rollbackInPlace': (p: PhraseParams) => `respaldo restore <pre_restore set id> --db ${p['db']} --yes`,
  'sqlite.rollbackSide': (p: PhraseParams) => `delete ${p['target']}`,
  'sqlite.rollbackRaw': (p: PhraseParams) =>
    `its safety copy will be its raw bytes (a -journal a stopped writer left beside it: it cannot be read as a ` +
    `consistent database), which no restore takes back; respaldo restore <pre_restore set id> --db ${p['db']} ` +
    `--dry-run prints how to put them back by hand`,
  'sqlite.orphanSides': (p: PhraseParams) =>
    `${p['file']} is not there, but ${p['sides']} beside it holds the last commits (or an unfinished transaction) of a database that was moved or deleted: a restore there would remove it, or SQLite would apply it to the restored file.`,
  'sqlite.orphanSidesHint': (p: PhraseParams) =>
    `Move it from ${p['dir']} to where the database it belongs to is now (or delete it if that database is gone for good), then restore again; nothing was changed.`,
  'sqlite.restoresDamaged': (p: PhraseParams) =>
    `${p['db']}: set ${p['set']} kept this database as it was when a restore replaced it, already failing ` +
    `integrity_check (${p['problems']}); restoring it puts that damaged database back`,
  'sqlite.countsDiffer': (p: PhraseParams) =>
    `The restored copy of ${p['db']} does not match the backup (${rowDiffs(p['diffs'], rowDiffEn)}).`,
  'sqlite.countsDifferHint': () =>
    'The target was not touched. Try another set. The stored file matched its hashes, so the row counts its manifest.json records are not those stored (edited by hand?); respaldo verify checks the files, not those counts.',

  // PostgreSQL restore steps
  'pg.countsDiffer': (p: PhraseParams) =>
    `Database ${p['db']}: the restored copy does not match the backup (${rowDiffs(p['diffs'], rowDiffEn)}).`,
  // verify checks the stored files against the manifest's hashes: files that pass with counts that do not
  // match mean the manifest itself was changed (its counts are not hashed), or the dump was wrong when made
  'pg.countsDifferHint': () =>
    'Nothing was replaced. Verify the set (respaldo verify): if its files pass, the row counts recorded in its manifest.json were changed since the backup, or the dump did not hold them; try an older set.',
  'pg.createRoles': () =>
    'create the roles stored with the set that this server lacks (existing roles are not changed; dropped again if the restore fails)',
  'pg.createDb': (p: PhraseParams) =>
    `create the empty database "${p['staging']}" (encoding and locale of the original)`,
  'pg.restoreTables': (p: PhraseParams) =>
    `pg_restore only ${p['tables']} into "${p['staging']}", with their keys, indexes, triggers, sequences and the types and functions they use`,
  'pg.restoreAll': (p: PhraseParams) =>
    `pg_restore the backup into "${p['staging']}" (one transaction, stop on the first error)`,
  'pg.restoreAllJobs': (p: PhraseParams) =>
    `pg_restore the backup into "${p['staging']}": its schema first, in one session, then its data and indexes in parallel sessions (stop on the first error)`,
  'pg.dbProps': () =>
    "re-apply owner, settings (its own and its roles' in it), privileges, connection limit and comment of the database",
  'pg.checkExact': () => 'check row counts of every table against the backup',
  'pg.checkEstimate': () => 'count rows of every table (the backup holds estimates only)',
  'pg.refuseSessions': (p: PhraseParams) =>
    `refuse if sessions are connected to "${p['live']}" (unless --terminate-connections, which ends them)`,
  'pg.swapPutBack': (p: PhraseParams) =>
    `Database ${p['item']}: the restored copy could not take the name "${p['live']}" (${p['error']}); the original was put back under its name, unchanged.`,
  'pg.swapPutBackHint': (p: PhraseParams) =>
    `"${p['live']}" is as it was before the restore. Check the error (a session connected to "${p['staging']}", the role's rights on databases) and restore again.`,
  'pg.renameLive': (p: PhraseParams) => `rename "${p['live']}" to "${p['safety']}" (the safety copy)`,
  'pg.rename': (p: PhraseParams) => `rename "${p['from']}" to "${p['to']}"`,
  'pg.failInPlace': (p: PhraseParams) =>
    `if anything fails before the renames: drop "${p['staging']}"; "${p['live']}" is not touched`,
  'pg.refuseExists': (p: PhraseParams) => `refuse if "${p['name']}" already exists`,
  'pg.failSide': (p: PhraseParams) => `if anything fails: drop "${p['staging']}"; no existing database is touched`,
  'pg.rollbackInPlace': (p: PhraseParams) =>
    `The previous database is kept as "${p['safety']}". To go back: ALTER DATABASE ${p['qLive']} RENAME TO <another name>; ALTER DATABASE ${p['qSafety']} RENAME TO ${p['qLive']}. Delete the pre_restore set (respaldo delete) to drop it once you are sure.`,
  'pg.rollbackSide': (p: PhraseParams) =>
    `Nothing is replaced. Drop "${p['name']}" when you no longer need it: DROP DATABASE ${p['qName']};`,
  'pg.rollbackCommand': (p: PhraseParams) =>
    `The previous database is kept as "${p['safety']}". ` +
    `To go back: respaldo restore <pre_restore set id> --db ${p['db']} --yes ` +
    '(swaps it back in; the restored one is kept as a new safety copy); ' +
    `by hand: ALTER DATABASE ${p['qLive']} RENAME TO <another name>; ` +
    `ALTER DATABASE ${p['qSafety']} RENAME TO ${p['qLive']}. ` +
    'Delete the pre_restore set (respaldo delete) to drop it once you are sure.',
  'pg.swapBackRenames': (p: PhraseParams) =>
    `in one transaction: rename "${p['live']}" to "${p['newSafety']}" (the safety copy) ` +
    `and "${p['safety']}" to "${p['live']}"; ` +
    'if either rename fails, both databases keep their names',
  'pg.swapBackNoLive': (p: PhraseParams) =>
    `if "${p['live']}" does not exist: only rename "${p['safety']}" to "${p['live']}"`,
  'pg.rollbackSwapBack': (p: PhraseParams) =>
    `The database replaced now is kept as "${p['newSafety']}" and listed in a new pre_restore set; ` +
    `respaldo restore <that set id> --db ${p['db']} --yes swaps it back.`,

  // SQL Server restore steps
  'mssql.writeBak': (p: PhraseParams) =>
    `Write the stored .bak to ${p['local']} (the server reads it as ${p['server']})`,
  'mssql.restore': (p: PhraseParams) =>
    `RESTORE FILELISTONLY, then RESTORE DATABASE "${p['temp']}" WITH CHECKSUM, MOVE of every file to new names in the instance's default data and log folders, RECOVERY`,
  'mssql.restoreChain': (p: PhraseParams) =>
    `RESTORE DATABASE "${p['temp']}" from the chain's full WITH CHECKSUM, MOVE of every file to new names, NORECOVERY; then its differential and log backups in order (RESTORE DATABASE / RESTORE LOG … WITH NORECOVERY), the last WITH RECOVERY (STOPAT with restore --at); each .bak is written to the shared folder just before its RESTORE and removed after`,
  'mssql.counts': () => 'Compare row counts per table with the manifest',
  'mssql.setAside': (p: PhraseParams) =>
    `If "${p['live']}" exists: set it SINGLE_USER (closing other sessions only with --terminate-connections) and rename it to "${p['safety']}" (the safety copy)`,
  'mssql.rename': (p: PhraseParams) => `Rename "${p['temp']}" to "${p['live']}"`,
  'mssql.multiUser': (p: PhraseParams) => `Set "${p['safety']}" back to MULTI_USER; remove the temporary .bak`,
  'mssql.renameSide': (p: PhraseParams) => `Rename "${p['temp']}" to "${p['live']}" (refused if "${p['live']}" exists)`,
  'mssql.removeBak': () => 'Remove the temporary .bak',
  'mssql.rollbackInPlace': (p: PhraseParams) =>
    `The previous database stays on the server as "${p['safety']}". To go back: rename or drop "${p['live']}", then ALTER DATABASE ${p['qSafety']} MODIFY NAME = ${p['qLive']}. If the restore fails before the swap, "${p['live']}" is not touched and "${p['temp']}" is dropped.`,
  'mssql.rollbackSide': (p: PhraseParams) =>
    `Drop "${p['live']}" when you no longer need it (DROP DATABASE ${p['qLive']}).`,
  'mssql.countsEstimate': () =>
    "Compare row counts per table with the manifest's estimates (a difference is a warning with the figures)",
  'mssql.setAsideBatch': (p: PhraseParams) =>
    `If "${p['live']}" exists: set it SINGLE_USER (closing other sessions only with --terminate-connections) ` +
    `and rename it to "${p['safety']}" (the safety copy) in one batch, ` +
    'tried again if another connection takes it first',
  'mssql.continueAfterError': () =>
    'The backup was taken WITH CONTINUE_AFTER_ERROR from a damaged database: RESTORE runs WITH CONTINUE_AFTER_ERROR ' +
    'and the damage comes back with it (run DBCC CHECKDB afterwards)',
  'mssql.settings': () =>
    'Put back owner, TRUSTWORTHY, Service Broker, recovery model, compatibility level and read-only state ' +
    'as recorded at backup time; what cannot be put back is reported',
  'mssql.swapBackCheck': (p: PhraseParams) =>
    `Check that the safety copy "${p['kept']}" exists and is ONLINE; ` +
    `refuse if sessions use "${p['live']}" (unless --terminate-connections)`,
  'mssql.swapBackRename': (p: PhraseParams) =>
    `Rename "${p['kept']}" to "${p['live']}", then set "${p['safety']}" back to MULTI_USER`,
  'mssql.swapBackNoLive': (p: PhraseParams) =>
    `If "${p['live']}" does not exist: only rename "${p['kept']}" to "${p['live']}"`,
  'mssql.rollbackSwapBack': (p: PhraseParams) =>
    `The database this rollback replaces stays on the server as "${p['safety']}"; restoring the new pre_restore set ` +
    'swaps it back again. If the swap fails, both databases keep their names.',

  // The plan as a whole
  'plan.safetyRenamed': (p: PhraseParams) => `${p['db']}: the live database is kept as ${p['name']}`,
  'plan.safetySet': (p: PhraseParams) => `${p['db']}: copied into a pre_restore set before it is replaced`,
  'plan.safetyRenamedRefused': (p: PhraseParams) =>
    `${p['db']}: the live database is kept on its server under a new name when it is replaced`,
  'plan.safetyNone': () => 'nothing is replaced (side-by-side restore)',
  'plan.safetyNothingThere': (p: PhraseParams) => `${p['db']}: nothing to keep, it does not exist now`,
  'plan.willTerminate': (p: PhraseParams) =>
    `${p['count']} session(s) connected to ${p['db']} will be terminated at the swap.`,
  'plan.noFiles': (p: PhraseParams) => `Set ${p['set']} holds no files.`,
  'plan.earlierSafetyRenamed': (p: PhraseParams) =>
    `${p['db']}: ${p['count']} safety cop${p['count'] === '1' ? 'y' : 'ies'} of earlier restores ` +
    `stay${p['count'] === '1' ? 's' : ''} on its server ` +
    `(${p['names']}), each a whole database; this restore keeps one more. ` +
    `Once you no longer need ${p['count'] === '1' ? 'it' : 'them'}: ${p['commands']}`,
  'plan.earlierSafetySets': (p: PhraseParams) =>
    `${p['db']}: ${p['count']} pre_restore set${p['count'] === '1' ? '' : 's'} of earlier restores ` +
    `stay${p['count'] === '1' ? 's' : ''} in the backup ` +
    `folder (${p['size']}); this restore adds one. ` +
    `Once you no longer need ${p['count'] === '1' ? 'it' : 'them'}: ${p['commands']}`,
  'plan.diskShort': (p: PhraseParams) =>
    `${p['dbs']}: restoring needs about ${p['needed']} on the disk of ${p['path']}, which has ${p['free']} free: ` +
    `the restore would fill it, then fail (what it replaces stays as it is). ` +
    `Free space there first, or restore elsewhere with --to.`,
  'plan.serverDiskShortIgnored': (p: PhraseParams) =>
    `${p['dbs']}: restoring needs about ${p['needed']} on the database server's disk (${p['path']}), which has ` +
    `${p['free']} free; restoring all the same (--ignore-free-space). Filled, the server stops every session ` +
    `and restarts.`,
  'plan.latestChosen': (p: PhraseParams) => `latest is set ${p['set']}, which holds: ${holdsEn(p)}`,
  'plan.setChosen': (p: PhraseParams) => `Using set ${p['set']}, which holds: ${holdsEn(p)}`,
  'plan.passedOver': (p: PhraseParams) => `newer sets passed over, each with what it lacks: ${p['sets']}`,
  'plan.passedOverPaths': (p: PhraseParams) =>
    `${p['count']} newer set(s) do not store ${p['paths']}, passed over: ${p['sets']}`,

  // Refusals and their hints
  'refuse.failedEntry': (p: PhraseParams) => `${p['db']} failed in set ${p['set']} (${p['reason']}).`,
  'refuse.failedEntryHint': (p: PhraseParams) => `Pick another set: respaldo list --db ${p['db']}`,
  'refuse.engineChanged': (p: PhraseParams) =>
    `Set ${p['set']} stores ${p['db']} as a ${p['stored']} database, and the config's ${p['db']} is ${p['now']} now.`,
  'refuse.engineChangedHint': (p: PhraseParams) =>
    `Restore it with a config whose ${p['db']} is the ${p['stored']} database it was (or by hand: README, restoring without respaldo).`,
  // A set at a destination that does not match its manifest, found while fetching or streaming it
  'fetch.missingThere': (p: PhraseParams) =>
    `destination "${p['dest']}": ${p['file']} is missing there, though its manifest lists it.`,
  'fetch.sizeThere': (p: PhraseParams) =>
    `destination "${p['dest']}": ${p['file']} has ${p['size']} bytes there where its manifest records ${p['bytes']}.`,
  'fetch.changedThere': (p: PhraseParams) =>
    `destination "${p['dest']}": ${p['file']} does not match its manifest (changed or damaged there).`,
  'fetch.notListed': (p: PhraseParams) => `destination "${p['dest']}": ${p['file']} is not listed in its manifest.`,
  'fetch.damagedHint': (p: PhraseParams) => `${nothingDoneEn(p)}${repairThereEn(p)}`,
  'fetch.brokenChain': (p: PhraseParams) =>
    `destination "${p['dest']}": Set ${p['set']} holds ${p['db']} as changes on earlier sets, and that chain cannot be used: ${p['reason']}.`,
  'fetch.brokenChainHint': (p: PhraseParams) =>
    p['held']
      ? `${nothingDoneEn(p)}Check the sets there with respaldo list --from ${p['dest']}; restore an older set, or copy the missing sets there again (respaldo copy --to ${p['dest']}).`
      : `${nothingDoneEn(p)}Check the sets there with respaldo list --from ${p['dest']} and restore an older set (one whose chain is all there, or a full); the missing sets can be sent there again only from a server that still holds them.`,
  'fetch.noRoom': (p: PhraseParams) =>
    `Fetching set ${p['set']} from destination "${p['dest']}" needs ${p['needed']} in the backup folder ${p['dir']}, and its disk has ${p['free'] || 'not that much'} free. Nothing was restored; what was fetched was removed.`,
  'create.folderReplaced': (p: PhraseParams) =>
    `The backup folder ${p['dir']} is not the one the scheduler started on: it is gone, or made again on the mount point of a disk unmounted meanwhile. Nothing was written.`,
  'create.folderReplacedHint': (p: PhraseParams) =>
    `Mount the backup disk at ${p['dir']} again (or check backupDir), then restart the scheduler; remove what it made there meanwhile.`,
  'fetch.noRoomToDrill': (p: PhraseParams) =>
    `Set ${p['set']} at destination "${p['dest']}" cannot be drilled here: a drill fetches it into the backup folder first, and ${p['because']}. Nothing was drilled or recorded; nothing fetched was kept.`,
  'fetch.noRoomToDrillHint': (p: PhraseParams) =>
    `Free space on the disk of ${p['dir']}, drill fewer databases at a time with --db, or run the drill with a copy of the config whose "backupDir" is on a disk with room (--config FILE).`,
  'fetch.noRoomHint': () =>
    'Run the restore again with --stream: the files are then streamed from the destination into the restore, each checked as it is read, and none is fetched first. Or free space on that disk (`respaldo prune --dry-run` shows what retention would remove, `respaldo delete <id>` removes one set), or run the restore with a copy of the config whose "backupDir" is on a disk with room (`--config FILE`).',
  'refuse.brokenChain': (p: PhraseParams) =>
    `Set ${p['set']} holds ${p['db']} as changes on earlier sets, and that chain cannot be used: ${p['reason']}.`,
  'refuse.brokenChainHint': (p: PhraseParams) =>
    `Check it with respaldo verify --chain ${p['set']}; restore an older set (respaldo list --db ${p['db']}) or use restore --at with an earlier time.`,
  'refuse.brokenChainNoOlderHint': (p: PhraseParams) =>
    `Check it with respaldo verify --chain ${p['set']}; no older set here restores ${p['db']} either: restore it from a copy at a destination (respaldo list --from NAME), and back it up now with respaldo create --type full.`,
  'plan.chain': (p: PhraseParams) =>
    `${p['db']}: applies ${p['count']} sets in order: ${p['sets']} (${p['bytes']} stored)`,
  'refuse.noSwapBack': (p: PhraseParams) =>
    `Set ${p['set']} keeps ${p['db']} as the database "${p['safety']}" on its server, ` +
    `and the ${p['engine']} driver cannot swap it back.`,
  'refuse.noSwapBackHint': (p: PhraseParams) => `Rename "${p['safety']}" back by hand with the server's own tools.`,
  'refuse.safetyGone': (p: PhraseParams) =>
    `The safety copy "${p['safety']}" of ${p['db']} listed in set ${p['set']} no longer exists on its server ` +
    '(dropped, or already swapped back).',
  'refuse.safetyGoneHint': (p: PhraseParams) =>
    `Nothing to roll back to from this set; respaldo list --db ${p['db']} shows the others.`,
  'refuse.raw': (p: PhraseParams) =>
    `Set ${p['set']} holds ${p['db']} as a raw byte copy of a damaged database (${p['file']}), not a restorable backup.`,
  'refuse.rawHint': (p: PhraseParams) =>
    `Inspect it by hand: ${p['cmd'] ?? 'gunzip -c'} ${p['path']} > /tmp/${p['db']}.damaged${p['sides'] ?? ''}` +
    (p['sides'] ? ' (SQLite, opening it, rolls back or replays what its -journal or -wal beside it holds)' : ''),
  'refuse.schemaInPlace': (p: PhraseParams) =>
    `Set ${p['set']} holds only the schema of ${p['db']}; restoring it in place would replace the data with empty tables.`,
  'refuse.schemaInPlaceHint': () => 'Restore it side by side with --to, or pick a full set.',
  'refuse.serverDiskShort': (p: PhraseParams) =>
    `${p['dbs']}: restoring needs about ${p['needed']} on the database server's disk (${p['path']}), which has ` +
    `${p['free']} free. Filled, the server would stop every session and restart, the live databases with it.`,
  'refuse.serverDiskShortHint': () =>
    `Free space on that disk (\`respaldo delete\` of a pre_restore set drops an earlier safety copy), or, if ` +
    `the estimate (the size when backed up) is too high, run the restore with --ignore-free-space (CLI).`,
  'refuse.drillNoRoom': (p: PhraseParams) =>
    `Not enough free space for the drill: it restores about ${p['total']} (${p['list']}) into ${p['dir']}, and that ` +
    `disk has ${p['free']} free.`,
  'refuse.drillNoRoomHint': () =>
    'Free space on the disk of the backup folder (`respaldo prune --dry-run`), or drill fewer databases at a time with --db.',
  'refuse.serverDiskShortDrillHint': () =>
    'Free space on that disk, or drill on a server with room (`drill.server` in the config; see Restore drills).',
  'refuse.backupFillsServerDisk': (p: PhraseParams) =>
    `Not backing up: the backup folder ${p['dir']} is on the disk the PostgreSQL server of ${p['dbs']} writes ` +
    `its data on, which has ${p['free']} free; this backup is estimated to need about ${p['needed']} ` +
    `(${estimateOf(p)}). Filled, the server would stop every session and restart.`,
  'refuse.backupFillsDatabaseDisk': (p: PhraseParams) =>
    `Not backing up: the backup folder ${p['dir']} is on the disk of the SQLite files of ${p['dbs']}, which has ` +
    `${p['free']} free; this backup is estimated to need about ${p['needed']} (${estimateOf(p)}). Filled, the ` +
    `application's writes to them would fail until the backup gave up.`,
  'refuse.backupFillsServerDiskHint': () =>
    'Free space there (respaldo prune --dry-run) or put backupDir on another disk; if this backup needs much less ' +
    'than the last one, run respaldo create --ignore-free-space.',
  'refuse.targetExists': (p: PhraseParams) => `${p['target']} already exists; a side-by-side restore never overwrites.`,
  'refuse.targetExistsHint': () => 'Choose another --to.',
  'refuse.readOnlyInPlace': (p: PhraseParams) =>
    `The backup folder ${p['dir']} cannot be written (${p['code']}): restoring ${p['dbs']} in place would keep ` +
    'what it replaces there first, so nothing was restored.',
  'refuse.readOnlyInPlaceHint': () =>
    'Restore beside it with --to (that reads the folder as it is), or remount the disk read-write (after I/O ' +
    'errors, check `dmesg` first), then restore in place.',
  'refuse.fullInPlace': (p: PhraseParams) =>
    `The disk of the backup folder ${p['dir']} is full (${p['free']} free): restoring ${p['dbs']} in place would ` +
    'keep what it replaces there first, so nothing was restored.',
  'refuse.fullInPlaceHint': () =>
    'Restore beside it onto another disk with --to (that needs no room in the backup folder), or free space there ' +
    '(`respaldo prune --dry-run` shows what retention would remove; `respaldo delete <id>` removes one set), then ' +
    'restore in place.',
  'refuse.fullInPlaceServerHint': (p: PhraseParams) =>
    `Restore beside the live database into a new one (that needs no room in the backup folder): ${p['command']}; ` +
    'or free space there (`respaldo prune --dry-run` shows what retention would remove; `respaldo delete <id>` ' +
    'removes one set), then restore in place.',
  'refuse.inUse': (p: PhraseParams) => `${p['target']} is open in another process (${p['users']}).`,
  'refuse.inUseHint': () => 'Stop the application that uses it, then run the restore again.',
  'refuse.sessions': (p: PhraseParams) => `${p['count']} session(s) are connected to ${p['db']}: ${p['sessions']}.`,
  'refuse.sessionsHint': () => 'Stop the application, or pass --terminate-connections to close them at the swap.',
  'refuse.missingRoles': (p: PhraseParams) =>
    `Database ${p['db']}: the backup names ${p['count']} role(s) this server lacks (owners, grantees): ${p['roles']}. ` +
    'pg_restore would stop at the first of them; nothing was fetched or restored.',
  'refuse.missingRolesStoredHint': () =>
    'The backup needs roles this server lacks, and this set stored them: restore again with --create-roles (only ' +
    'missing roles are created; existing ones are not changed).',
  'refuse.missingRolesHint': () =>
    'This set did not store the roles ("globals" was off when it was made). Create on this server the roles named ' +
    'above (on the old server, `pg_dumpall --globals-only` writes them all; load that file here with psql), then ' +
    'restore again. With "globals": true in the config, later sets store the roles and --create-roles creates the ' +
    'missing ones.',
  'refuse.filesTarget': (p: PhraseParams) =>
    `${p['to']} exists and is not empty; restored files never overwrite anything.`,
  'refuse.filesTargetHint': () => 'Choose an empty or new folder with --to.',

  // Errors the menu shows most
  'error.interrupted': () => 'Interrupted; nothing partial was published.',
  'error.zstdMissing': (p: PhraseParams) => `This set is compressed with zstd, which Node ${p['node']} cannot read.`,
  'error.zstdMissingHint': () =>
    'Run respaldo on Node 22.15 or later (24 LTS recommended), or decompress by hand with `zstd -d` ' +
    '(README: restoring by hand).',
  'error.interruptedHint': () => 'Run the command again when ready.',
  'error.interruptedUnchanged': () => 'Interrupted; nothing was changed.',
  'error.stoppedWaiting': () =>
    'Stopped while waiting for the backup folder (another respaldo process held its lock); nothing was written.',
  'error.chainBase': (p: PhraseParams) =>
    `Set ${p['id']} is the base of ${p['dependents']}: they store only changes on it, and could no longer be restored.`,
  'error.chainBaseHint': (p: PhraseParams) =>
    `Delete ${p['count'] === '1' ? 'that set' : 'those sets'} first (newest first), or keep this one.`,
  'config.schemaProblems': (p: PhraseParams): string =>
    schemaItems(
      p,
      (id, q) => PHRASES_EN[id as PhraseId](q),
      `${p['count']} problems in the config:`,
      `and ${p['more']} more of the same kinds`,
    ),
  'config.schemaHints': (p: PhraseParams): string =>
    schemaHints(p, (id, q) => PHRASES_EN[id as PhraseId](q), 'Then run the command again; nothing was changed.'),
  'schema.required': (p: PhraseParams) => `is missing (${p['parent'] || 'the top level'} needs "${p['field']}")`,
  'schema.requiredHint': (p: PhraseParams) => `Add "${p['field']}" to ${p['parent'] || 'the top level'}.`,
  'schema.unknownField': (p: PhraseParams) =>
    `is not a field respaldo knows here${p['near'] ? ` (did you mean "${p['near']}"?)` : ''}`,
  'schema.unknownFieldHint': (p: PhraseParams) =>
    p['near']
      ? `Write "${p['near']}" (or remove the field).`
      : `Correct its spelling, or remove it; the fields here: ${p['known']}.`,
  'schema.enum': (p: PhraseParams) => `found ${foundEn(p)}, expected one of ${p['allowed']}`,
  'schema.enumHint': (p: PhraseParams) => `Write one of ${p['allowed']}.`,
  'schema.type': (p: PhraseParams) => `found ${foundEn(p)}, expected ${typeEn(p['type'])}`,
  'schema.typeHint': (p: PhraseParams) =>
    p['unquoted']
      ? `Write ${p['unquoted']} without the quotes.`
      : p['example']
        ? `Write it as an object: ${p['example']}${p['optional'] ? ` (other fields it may have: ${p['optional']})` : ''}.`
        : p['fields']
          ? `Write an object { … } there with ${p['fields']}${p['optional'] ? ` (and, if wanted, ${p['optional']})` : ''}.`
          : `Write ${typeEn(p['type'])} there.`,
  'schema.name': (p: PhraseParams) =>
    `found ${foundEn(p)}, expected a name of letters, digits, _ . - (at most 63 characters, not starting with . or -)`,
  'schema.nameHint': () => 'Rename it with those characters only: it names folders and files.',
  'schema.hostKey': (p: PhraseParams) =>
    `found ${foundEn(p)}, expected a SHA-256 host key fingerprint: "SHA256:" and 43 base64 characters (as \`ssh-keygen -lf\` prints it)`,
  'schema.hostKeyHint': () =>
    'Run `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the server and copy the SHA256:… it prints.',
  'schema.empty': (p: PhraseParams) =>
    `is empty, expected ${p['limit'] === '1' ? 'a value' : `at least ${p['limit']} characters`}`,
  'schema.emptyHint': () => 'Fill it in, or remove the field.',
  'schema.minimum': (p: PhraseParams) => `found ${foundEn(p)}, expected at least ${p['limit']}`,
  'schema.maximum': (p: PhraseParams) => `found ${foundEn(p)}, expected at most ${p['limit']}`,
  'schema.rangeHint': (p: PhraseParams) =>
    `Write a whole number ${p['max'] ? `from ${p['min'] || '…'} to ${p['max']}` : `of at least ${p['min']}`}.`,
  'schema.minItems': (p: PhraseParams) => `found ${p['count']} entries, expected at least ${p['limit']}`,
  'schema.minItemsHint': (p: PhraseParams) =>
    `Add ${p['limit'] === '1' ? 'an entry' : `at least ${p['limit']} entries`} to the list, or remove the field.`,
  'schema.unique': (p: PhraseParams) => `entries ${p['j']} and ${p['i']} are the same (${p['found']})`,
  'schema.uniqueHint': () => 'Remove one of them.',
  'schema.minProperties': (p: PhraseParams) => `is empty ({}), expected at least ${p['limit']} field(s)`,
  'schema.minPropertiesHint': () => 'Fill in its fields, or remove it.',
  'schema.other': (p: PhraseParams) => `${p['text']}`,
  'config.notRegular': (p: PhraseParams) =>
    `${p['file']}: is ${p['kind']}, not a config file (respaldo reads only a regular file, and read nothing from it)`,
  'config.notRegularHint': () =>
    'Pass the config file itself with --config PATH (or RESPALDO_CONFIG); a config made by a command (<(...)) can be written to a file first. Nothing was changed.',
  'config.dotEnvNotRegular': (p: PhraseParams) =>
    `${p['file']}: is ${p['kind']}, not a file: respaldo reads the file .env beside the config for its \${VAR} values (KEY=VALUE lines)`,
  'config.dotEnvNotRegularHint': () =>
    'Move it away, or make .env a file of KEY=VALUE lines, then run the command again; nothing was changed.',
  'config.tooLarge': (p: PhraseParams) =>
    `${p['file']}: is ${p['size']}, more than any ${p['dotEnv'] ? '.env of ${VAR} values' : 'config'} (respaldo reads at most ${p['max']} of one, and read nothing from it)`,
  'config.tooLargeHint': (p: PhraseParams) =>
    p['dotEnv']
      ? 'A .env holds a few KEY=VALUE lines: check what was written there (a log, a dump?), move it away and keep only its lines in a new .env, then run the command again. Nothing was changed.'
      : 'A config is a few KB: check that --config (or RESPALDO_CONFIG) names the config file itself, not a log, a dump or a database. Nothing was changed.',
  'config.fixHint': () => 'Fix the field named above and run the command again; nothing was changed.',
  'error.lockHeld': () => 'Another respaldo process is working on this backup folder.',
  'error.lockHeldBy': (p: PhraseParams) =>
    `Another respaldo process is working on this backup folder (${p['purpose']}, pid ${p['pid']} on ${p['host']} since ${p['startedAt']}).`,
  'error.lockHeldHint': (p: PhraseParams) =>
    `Wait for it to finish. If you are sure no respaldo runs, remove ${p['lockFile']}.`,
  'error.lockHeldLiveHint': (p: PhraseParams) =>
    `Wait for it to finish (pid ${p['pid']} runs), then run this again; do not remove its lock ${p['lockFile']} while it runs.`,
  'error.restoreVerify': (p: PhraseParams) =>
    `Set ${p['set']} failed verification, nothing was restored: ${p['problems']}`,
  'error.restoreVerifyHint': () =>
    'Restore from another set (`respaldo list`), and check the disk that holds the backups.',
  // A stored file found damaged while a restore read it (`why`: longer, else the hash), or after it failed
  'restore.damagedRead': (p: PhraseParams) =>
    `Set ${p['set']}: ${p['file']} ${p['why'] === 'longer' ? 'is longer than its manifest says (changed or damaged)' : 'does not match its manifest (sha256): changed or damaged'}; nothing was restored from it.`,
  'restore.damagedFound': (p: PhraseParams) => `Set ${p['set']}: ${p['problems']}; nothing was restored from it.`,
  'restore.damagedHint': () =>
    'Restore from another set (`respaldo list`), or from a copy at a destination (`respaldo list --from <destination>`).',
  'error.identityPassphrase': (p: PhraseParams) => `Wrong passphrase for the identity file ${p['path']}.`,
  'error.identityPassphraseHint': (p: PhraseParams) =>
    `Put the identity file's passphrase in ${p['file']} (the file ${p['env']} names), or unset ${p['env']} to be asked for it.`,
  'error.identityPassphraseTyped': () => 'Type it again.',
  'error.identityPassphraseTerminal': () =>
    'Run the command again and type the passphrase the identity file was protected with (`age -p`); nothing was changed.',
  'error.wrongIdentity': (p: PhraseParams) =>
    `The identity file ${p['path']} does not hold the key of set ${p['set']}: it opens ${p['opens']}, the set was ` +
    `encrypted for ${p['recipients']}.`,
  'error.wrongIdentityHint': () =>
    'Use the identity file whose public key is listed above (its "# public key:" line); an older set may need an ' +
    'older key.',
  'error.identityUnparsable': (p: PhraseParams) =>
    `The identity file ${p['path']} holds no valid age identity: its ${p['count']} AGE-SECRET-KEY line(s) do not ` +
    'parse (cut or damaged?).',
  'error.identityUnparsableHint': () =>
    'Use the identity file `respaldo key generate` wrote (or a copy of it); `age-keygen -y FILE` shows whether a ' +
    'file holds a valid key.',
  'error.noKeyOpens': (p: PhraseParams) => `No key given opens ${p['label']}.`,
  'error.noKeyOpensHint': () =>
    'Check "encryption.identityFile" (or the passphrase): the set was encrypted for another key.',
  'error.noIdentity': (p: PhraseParams) =>
    `Set ${p['set']} is encrypted (age, for ${p['recipients']}) and the config names no identity to decrypt it.`,
  'error.noIdentityHint': (p: PhraseParams) =>
    `Add "identityFile": "/path/to/key.txt" to "encryption" in ${p['config']} (the file \`respaldo key generate\` or age-keygen wrote, whose public key is ${p['recipients']}), then run the command again.`,
  'error.noEncryptionHint': (p: PhraseParams) =>
    `Add "encryption": { "recipients": [${p['quoted']}], "identityFile": "/path/to/key.txt" } to ${p['config']} (the set's recipient, and the file \`respaldo key generate\` or age-keygen wrote), then run the command again.`,
  'error.passphraseFile': (p: PhraseParams) =>
    `Cannot read the passphrase file named by ${p['env']}: ${p['file']} (${p['why']}).`,
  'error.passphraseFileHint': (p: PhraseParams) =>
    `Put the passphrase in that file (mode 0600), or unset ${p['env']} to be asked for it on the terminal (the menu asks too), then try again.`,
  'error.wrongPassphrase': (p: PhraseParams) => `Wrong passphrase: it does not open set ${p['set']}.`,
  'error.wrongPassphraseHint': () =>
    'Type the passphrase the set was encrypted with (the one in "encryption.passphraseFile" on the server that made it).',
  'error.wrongPassphraseFileHint': (p: PhraseParams) =>
    `Put the passphrase the set was encrypted with (the one in "encryption.passphraseFile" on the server that made it) in ${p['file']} (the file ${p['env']} names), or unset ${p['env']} to be asked for it.`,
  'error.wrongPassphraseConfigHint': (p: PhraseParams) =>
    `The passphrase in ${p['file']} ("encryption.passphraseFile") is not the one the set was encrypted with (was it changed since?): put that one in the file, then try again; nothing was changed.`,
  'error.otherPassphrase': (p: PhraseParams) =>
    `That passphrase opens set ${p['opened']}, but not set ${p['locked']}, which was encrypted with another one.`,
  'error.otherPassphraseHint': (p: PhraseParams) => `Type the passphrase of set ${p['locked']}.`,

  // A run that stored nothing, its first database's error within (sayingWithin)
  'create.nothingBackedUp': (p: PhraseParams): string =>
    `Nothing could be backed up: ${PHRASES_EN[p['of'] as PhraseId](p).replace(/\.$/, '')}. No set was written.`,
  'create.safetyNotTaken': (p: PhraseParams): string =>
    `The safety copy of ${p['failedDbs']} could not be taken: ${PHRASES_EN[p['of'] as PhraseId](p).replace(/\.$/, '')}; nothing was restored.`,
  // the same, the first database's error said by its English alone (it has no phrase)
  'create.nothingBackedUpWhy': (p: PhraseParams) => `Nothing could be backed up: ${p['why']}. No set was written.`,
  'create.safetyNotTakenWhy': (p: PhraseParams) =>
    `The safety copy of ${p['failedDbs']} could not be taken: ${p['why']}; nothing was restored.`,
  'create.checkErrorsHint': () => 'Check the errors above and the config.',
  'restore.safetyNotTakenHint': () => 'Fix the problem above, or restore side by side with --to.',

  'error.diskFullStoring': (p: PhraseParams) =>
    `No space left on the disk of the backup folder ${p['dir']}${p['free'] ? ` (${p['free']} free)` : ''} while ` +
    `storing ${p['db']}.`,
  'error.diskFullHint': () =>
    'Free space there (`respaldo prune --dry-run` shows what retention would remove; `respaldo delete <id>` removes ' +
    'one set), or point "backupDir" at a bigger disk, then back up again. The databases were not changed.',
  'error.diskFullSafetyHint': () =>
    'Free space there (`respaldo prune --dry-run` shows what retention would remove; `respaldo delete <id>` removes ' +
    'one set), or point "backupDir" at a bigger disk, then run the restore again (or restore side by side with ' +
    '--to, which needs no safety copy). Nothing was changed.',

  // A live SQLite database respaldo cannot read (src/drivers/sqlite/connection.ts)
  'sqlite.notFound': (p: PhraseParams) => `SQLite database ${p['db']}: file not found: ${p['file']}`,
  'sqlite.notFoundHint': (p: PhraseParams) =>
    `Check databases[].path for "${p['db']}" in the config, or restore it from a set.`,
  'sqlite.notADb': (p: PhraseParams) => `SQLite database ${p['db']}: ${p['file']} is not a SQLite database.`,
  'sqlite.notADbHint': () => 'Check databases[].path in the config; the file may be damaged (restore it from a set).',
  'sqlite.cantOpen': (p: PhraseParams) => `SQLite database ${p['db']}: cannot open ${p['file']} (${p['error']}).`,
  'sqlite.cantOpenHint': () => 'Check that the file and its folder are readable by the user running respaldo.',
  'sqlite.corrupt': (p: PhraseParams) => `SQLite database ${p['db']}: ${p['file']} is corrupt (${p['error']}).`,
  'sqlite.corruptHint': (p: PhraseParams) =>
    `Restore the database from the newest good set (\`respaldo list --db ${p['db']}\`).`,
  'sqlite.failed': (p: PhraseParams) => `SQLite database ${p['db']}: ${p['error']} (${p['code']})`,
  'sqlite.failedHint': (p: PhraseParams) =>
    `Run PRAGMA integrity_check on ${p['file']} with sqlite3; nothing was changed.`,
  'sqlite.snapshotDamaged': (p: PhraseParams) =>
    `SQLite database ${p['db']}: the snapshot failed integrity_check: ${p['problems']}`,
  'sqlite.snapshotDamagedHint': () =>
    'The live database is damaged. Run PRAGMA integrity_check on it and restore from the newest good set.',
  'sqlite.copyUnreadable': (p: PhraseParams) =>
    `The restored copy of ${p['db']} cannot be read as a SQLite database: ${p['why']}.`,
  'sqlite.copyUnreadableHint': () =>
    'The target was not touched. Verify the set (respaldo verify) and try another set.',
  'sqlite.copyDamaged': (p: PhraseParams) => `The restored copy of ${p['db']} failed integrity_check: ${p['problems']}`,
  'sqlite.copyDamagedHint': () => 'The target was not touched. Try another set.',
  'sqlite.noFolder': (p: PhraseParams) => `Folder ${p['dir']} does not exist.`,
  'sqlite.noFolderHint': (p: PhraseParams) =>
    `Create it (the database ${p['db']} lives there), then run the restore again.`,
  'sqlite.hotJournal': (p: PhraseParams) =>
    `SQLite database ${p['db']}: ${p['file']} has a hot journal (${p['journal']}): a process stopped in the middle of a transaction and part of it is in the file. respaldo opens databases read-only and cannot roll it back.`,
  'sqlite.hotJournalHint': (p: PhraseParams) =>
    `Open it once as the application's user (sqlite3 ${p['file']} 'PRAGMA integrity_check' rolls the unfinished transaction back, as the application does when it starts), then run the backup again.`,
  'sqlite.walSideFiles': (p: PhraseParams) =>
    `SQLite database ${p['db']}: ${p['file']} is in WAL mode, and SQLite reads such a file only with its -shm and -wal beside it, which the user running respaldo (${p['user']}) cannot create or write in ${p['dir']} (${p['code']}).`,
  'sqlite.walSideFilesHint': () =>
    "Run respaldo as the application's user, or let this user write to that folder; nothing was changed.",
  'sqlite.locked': (p: PhraseParams) =>
    `SQLite database ${p['db']} is locked by another process${p['by'] ? ` (${p['by']})` : ''}.`,
  'sqlite.lockedHint': () =>
    'Try again when the writer has finished; in WAL mode (PRAGMA journal_mode=WAL) backups do not wait for writers.',
  'sqlite.lockedWal': (p: PhraseParams) =>
    `SQLite database ${p['db']} is in WAL mode, where readers do not wait for writers, yet another process${p['by'] ? ` (${p['by']})` : ''} kept it locked for 10 s: it holds it exclusively (PRAGMA locking_mode=EXCLUSIVE), or a checkpoint or recovery of it has not finished.`,
  'sqlite.lockedWalHint': () =>
    'Back it up while that application is stopped, or have it use the normal locking mode; nothing was changed.',
  // A SQLite chain rebuilt at restore (src/drivers/sqlite/restore.ts, pages.ts); `what`: delta, map, image, snapshot
  'sqlite.pagesDamaged': (p: PhraseParams) => `A stored SQLite page ${p['what']} is damaged or not respaldo's.`,
  'sqlite.pagesDamagedHint': () => 'Verify the chain (respaldo verify --chain ID) and restore an older set.',
  'sqlite.chainNoFull': (p: PhraseParams) =>
    `Set ${p['set']} stores only the pages of ${p['db']} that changed since set ${p['base']}; the full set its chain starts from was not given.`,
  'sqlite.chainGap': (p: PhraseParams) =>
    `Set ${p['set']} in the chain of ${p['db']} applies on set ${p['base']}, not on set ${p['before']}: the chain has a gap. Nothing was replaced.`,
  'sqlite.chainHint': (p: PhraseParams) =>
    `Restore it with respaldo restore ${p['set']} (which applies the whole chain), or check it with respaldo verify --chain ${p['set']}.`,
  'sqlite.chainNotDelta': (p: PhraseParams) =>
    `Set ${p['set']} in the chain of ${p['db']} is not a page delta (${p['format']}).`,
  'sqlite.chainNotDeltaHint': () => 'Restore that set by itself, or an older one.',
  'error.interruptedBeforeSwap': () => 'Restore interrupted before the swap; the target was not changed.',
  'error.interruptedBeforeSwapLive': () => 'Restore interrupted before the swap; the live database was not changed.',
  'error.interruptedRestoreOf': (p: PhraseParams) =>
    `Restore of ${p['db']} interrupted; the target was left as it was.`,
  // A restore that filled a disk (restore-databases.ts diskFullAt); `detail` is the system's words
  'restore.diskFullStaging': (p: PhraseParams) =>
    `No space left on the disk of the backup folder ${p['dir']}${p['free'] ? ` (${p['free']} free once the restore's files were removed)` : ''}, where the restore of ${p['db']} stages its files: ${p['detail']}.`,
  'restore.diskFullStagingHint': () =>
    'The target was not changed and the partial copy was removed. Free space there (`respaldo prune --dry-run` shows what retention would remove, `respaldo delete <id>` removes one set), then run the restore again.',
  'restore.diskFullTarget': (p: PhraseParams) =>
    `No space left on the disk where ${p['db']} is restored (${p['target']}): ${p['detail']}.`,
  'restore.diskFullTargetHint': () =>
    'The target was not changed and the partial copy was removed. Free space on that disk, or restore side by side onto another disk with --to.',

  // Destinations the menu shows most on the new-server day (src/destinations); `detail` is the library's words.
  'dest.unreachable': (p: PhraseParams) =>
    `destination "${p['dest']}": ${p['doing']}: ${p['where']} is unreachable or closed the connection (${p['detail']})`,
  'dest.unreachableHint': (p: PhraseParams) =>
    `Check the network and the ${p['server'] === 'ssh' ? 'SSH server' : p['server'] === 'store' ? 'store' : 'remote'}, then run the command again.`,
  'dest.notMounted': (p: PhraseParams) => `destination "${p['dest']}": ${p['path']} does not exist (not mounted?)`,
  'dest.mountHint': () => 'Mount it, then run the command again.',
  // `removing` set: the folder is where a file respaldo removes (a keep mark) would be
  'dest.folderInTheWay': (p: PhraseParams) =>
    p['removing']
      ? `destination "${p['dest']}": removing ${p['key']}: a folder is there, where respaldo keeps a file`
      : `destination "${p['dest']}": writing ${p['key']}: a folder is there, where respaldo writes a file`,
  'dest.folderInTheWayHint': (p: PhraseParams) =>
    `respaldo writes only files there: check who put ${p['where']} there; remove it (or the set there, \`respaldo delete ${p['set']} --from ${p['dest']}\`), then run ${p['removing'] ? 'the command' : '`respaldo copy`'} again.`,
  'dest.pathMissing': (p: PhraseParams) =>
    `destination "${p['dest']}": the path ${p['path']} does not exist on that remote (so it holds no sets)`,
  'dest.pathMissingHint': (p: PhraseParams) =>
    `Check "path" of destination "${p['dest']}" (a typo?); the first \`respaldo copy\` to it creates it.`,
  'dest.created': (p: PhraseParams) =>
    `created ${p['path']} (the path of destination "${p['dest']}" did not exist there; check "path" if that was not meant)`,
  'dest.retried': (p: PhraseParams) =>
    `${p['count']} request(s) to ${p['dest']} tried again after a transient failure (a connection lost, a timeout, a server error): check the link if it recurs` +
    (p['error'] ? ` (the first: ${p['error']})` : ''),
  'dest.notAFolder': (p: PhraseParams) => `destination "${p['dest']}": ${p['path']} is not a folder`,
  'dest.notAFolderHint': (p: PhraseParams) =>
    `Point "path" of destination "${p['dest']}" at the folder the sets go in (a NAS or USB mount).`,

  // PostgreSQL connections the menu shows most on the worst day (src/drivers/postgres/connection.ts); `doing` and
  // `detail` stay the driver's words.
  'pgconn.refused': (p: PhraseParams) => `PostgreSQL at ${p['at']} refused the connection while ${p['doing']}.`,
  'pgconn.refusedHint': (p: PhraseParams) =>
    `Is the server running and listening on ${p['at']}? Check host and port in the config.`,
  'pgconn.hostNotFound': (p: PhraseParams) => `PostgreSQL host ${p['host']} not found while ${p['doing']}.`,
  'pgconn.hostNotFoundHint': () => "Check the host name in the config and this machine's DNS.",
  'pgconn.unreachable': (p: PhraseParams) =>
    `PostgreSQL at ${p['at']} cannot be reached (${p['detail']}) while ${p['doing']}.`,
  'pgconn.unreachableHint': () => 'Check the network path and firewall to the database server.',
  'pgconn.drillServerHint': () =>
    'Check "drill.server" in the config (host, port, user, password): drills restore there. Without it each database is drilled on its own server.',
  'pgconn.authFailed': (p: PhraseParams) =>
    `PostgreSQL at ${p['at']} refused the password of user "${p['user']}" (password authentication failed).`,
  'pgconn.authFailedHint': () =>
    'Check the user and password in the config (its "password", or the ${VAR} it names, read from the environment or .env) and try again; nothing was changed.',
  'pgconn.authFailedVarHint': (p: PhraseParams) =>
    `The password comes from ${p['variable']}: check ${p['variable']} in the environment or .env (and the user in the config), then try again; nothing was changed.`,
  'pgconn.noDatabase': (p: PhraseParams) => `PostgreSQL at ${p['at']}: database "${p['db']}" does not exist.`,
  'pgconn.noDatabaseHint': (p: PhraseParams) =>
    `Check the database name in the config; \`psql -l\` lists the databases on ${p['at']}.`,
  'pgconn.starting': (p: PhraseParams) => `PostgreSQL at ${p['at']} is starting up or shutting down.`,
  'pgconn.startingHint': () => 'Wait until the server accepts connections and run the command again.',
  'pgconn.lost': (p: PhraseParams) =>
    `Lost the connection to PostgreSQL at ${p['at']} while ${p['doing']}: ${p['detail']}`,
  'pgconn.lostHint': (p: PhraseParams) => `Is the server at ${p['at']} running? Check it and try again.`,
  'pg.sessionsEndedHint': (p: PhraseParams) =>
    `The server at ${p['at']} ended every session of the restore (a server process crashed and the server recovered, or the sessions were terminated) and takes connections again: the restore stopped there and nothing was changed (the temporary database was dropped). Its log says why; then run the same restore again.`,
  'pg.restartedHint': (p: PhraseParams) =>
    `The server at ${p['at']} restarted (up again since ${p['since']}) while the restore ran, which ended its sessions: the restore stopped there and nothing was changed (the temporary database was dropped). Run the same restore again.`,

  // Drill checks (src/engine/drill.ts, the drivers' drillChecks)
  'drill.notRunServerAway': (p: PhraseParams) =>
    `The drill of set ${p['set']} did not run (${p['db']}'s server could not be used): nothing was restored or ` +
    'recorded, and the set is not called bad.',
  'drill.stoppedServerAway': (p: PhraseParams) =>
    `The drill of set ${p['set']} stopped (${p['db']}'s server could not be used any more): nothing was recorded, ` +
    'and the set is not called bad.',
  'drill.stoppedServerDiskFull': (p: PhraseParams) =>
    `The drill of set ${p['set']} stopped (the disk of ${p['db']}'s server filled during its scratch restore): ` +
    'nothing was recorded, and the set is not called bad.',
  'drill.storedFiles': () => 'stored files match the manifest',
  'drill.restore': () => 'restore',
  'drill.into': (p: PhraseParams) => `into ${p['target']}`,
  'drill.rowCounts': () => 'row counts against the manifest',
  'drill.tables': (p: PhraseParams) => `${p['n']} table(s)`,
  'drill.noCounts': () => 'the manifest records no row counts',
  'drill.notCleanHint': (p: PhraseParams) =>
    `Set ${p['set']} does not restore cleanly: use another set, and back up ${p['db']} again.`,
  'drill.extracted': () => 'extracted',
  'drill.entries': (p: PhraseParams) => `${p['n']} entr${p['n'] === '1' ? 'y' : 'ies'}`,
  'drill.extractedSizes': () => 'extracted sizes equal the manifest',
  'drill.filesDamaged': (p: PhraseParams) => `Set ${p['set']}: ${p['n']} stored file(s) do not match the manifest.`,
  'drill.filesDamagedHint': () => 'Do not restore files from this set; use another set.',
  'drill.amcheckOk': () => 'heap and B-tree indexes: no corruption',
  'drill.noErrors': () => 'no errors',

  // Schedule expressions (src/scheduler/when.ts)
  'when.time': (p: PhraseParams) => `"${p['when']}": expected a 24-hour time such as 02:00, got "${p['text']}"`,
  'when.timeRange': (p: PhraseParams) => `"${p['when']}": ${p['text']} is not a time of day (00:00 to 23:59)`,
  'when.empty': () => 'empty schedule expression',
  'when.weekday': (p: PhraseParams) => `"${p['when']}": "${p['day']}" is not a day of the week (monday … sunday)`,
  'when.monthDay': (p: PhraseParams) => `"${p['when']}": day ${p['day']} is not a day of the month (1 to 31)`,
  'when.monthDayRare': (p: PhraseParams) =>
    `"${p['when']}": day ${p['day']} does not exist in every month, so some months would have no run; write "monthly on last day at …" for the month's last day`,
  'when.minute': (p: PhraseParams) => `"${p['when']}": minute ${p['minute']} is out of range (00 to 59)`,
  'when.unknown': (p: PhraseParams) => `"${p['when']}" is not a schedule respaldo understands`,
  'when.cron': (p: PhraseParams) =>
    `"${p['when']}" is neither a simple form nor a valid cron expression (${p['detail']})`,
  'when.hint': () =>
    'Use a cron expression ("0 2 * * *") or a form such as "daily at 02:00", "weekly on sunday at 23:30", "monthly on day 1 at 00:00".',
  'when.timezone': (p: PhraseParams) => `"${p['timezone']}" is not a time zone`,
  // Notes and warnings while a restore runs (ProgressEvent phrase)
  'note.jobsCut': (p: PhraseParams) =>
    `${p['item']}: the server has ${p['free']} free connection slot(s): ${p['tool']} runs with --jobs=${p['jobs']} instead of ${p['wanted']}`,
  'note.safetyTaking': (p: PhraseParams) => `Taking a safety copy of ${p['dbs']} before replacing it`,
  'note.safetyRemoved': (p: PhraseParams) =>
    `Nothing was replaced, so the safety copy taken for this restore (set ${p['id']}) was removed.`,
  'note.passedOverLacking': (p: PhraseParams) => `passed over set ${p['set']} at ${p['dest']}: it lacks ${p['lacks']}`,
  'note.fetching': (p: PhraseParams) => `fetching set ${p['id']}${chainEn(p)} from ${p['name']}: ${filesEn(p)}`,
  'note.fetchingPart': (p: PhraseParams) =>
    `only what --path chooses: ${p['count']} of the ${p['stored']} stored file(s) of set ${p['id']} at ${p['name']}, ${p['bytes']} of ${p['storedBytes']}`,
  'note.planRead': (p: PhraseParams) =>
    `read the manifest of set ${p['id']}${chainEn(p)} at ${p['name']} (${filesEn(p)} there, not fetched for a plan)`,
  'note.streamingAsked': (p: PhraseParams) =>
    `streaming set ${p['id']}${chainEn(p)} from ${p['name']} into the restore (--stream): ${filesEn(p)}, each checked as it is read`,
  'note.streamingNoRoom': (p: PhraseParams) =>
    `streaming set ${p['id']}${chainEn(p)} from ${p['name']} into the restore (no room to fetch it first: it needs ${p['needed']}, the disk of ${p['dir']} has ${p['free']} free): ${filesEn(p)}, each checked as it is read`,
  'note.streamingFilled': (p: PhraseParams) =>
    `streaming set ${p['id']}${chainEn(p)} from ${p['name']} into the restore (the disk of ${p['dir']} filled while fetching it): ${filesEn(p)}, each checked as it is read`,
  'note.resumed': (p: PhraseParams) => `${p['error']}; resuming that file where it stopped, after ${p['after']}`,
  'health.overdue': (p: PhraseParams) =>
    `${p['db']}: overdue: no successful backup since the run due ${p['due']} (last ${p['age']} ago, set ${p['set']})`,
  'health.overdueNever': (p: PhraseParams) =>
    `${p['db']}: overdue: no successful backup since the run due ${p['due']} (never backed up)`,
  'health.never': (p: PhraseParams) => `${p['db']}: never backed up`,
  'health.slow': (p: PhraseParams) =>
    `${p['db']}: the last backup took ${p['took']}, over 50 % longer than usual (median ${p['median']} of the previous ${p['count']})`,
  'health.shrank': (p: PhraseParams) =>
    `${p['db']}: the last backup is ${p['size']}, more than 30 % smaller than the previous (${p['previous']}): check that no data was lost`,
  'health.grew': (p: PhraseParams) =>
    `${p['db']}: the last backup is ${p['size']}, more than twice the previous (${p['previous']})`,
  'health.verifyFailed': (p: PhraseParams) =>
    `${p['db']}: the newest backup (set ${p['set']}) failed its verification on ${p['when']}: a stored file of that set is damaged (\`respaldo verify ${p['set']}\` names it; it may be another database's), so it may not restore; run respaldo create, and check the disk of the backup folder`,
  'health.drillFailed': (p: PhraseParams) =>
    `${p['db']}: the last restore drill (set ${p['set']}, ${p['when']}) failed`,
  'health.drillFailedWhy': (p: PhraseParams) =>
    `${p['db']}: the last restore drill (set ${p['set']}, ${p['when']}) failed: ${p['error']}`,
  'health.failures': (p: PhraseParams) =>
    `${p['db']}: ${p['failed']} of ${p['count']} backups in the last 30 days failed`,
  'health.failuresLast': (p: PhraseParams) =>
    `${p['db']}: ${p['failed']} of ${p['count']} backups in the last 30 days failed, the last one (${p['when']}) too: ${p['error']}`,
  'health.lowDisk': (p: PhraseParams) =>
    `backup folder: ${p['free']} free, below the ${p['bytes']} bytes (${p['needed']}) asked by health.minFreeBytes`,
  'health.notCopied': (p: PhraseParams) =>
    `off-site: the newest set ${p['set']} is not copied to ${p['dest']} (respaldo copy sends it)`,
  'health.damagedSet': (p: PhraseParams) =>
    `backup set ${p['set']}: ${p['problem']} (\`respaldo verify --all\` lists it; it is never restored)`,
  'health.aheadSet': (p: PhraseParams) =>
    `backup set ${p['set']}: dated ${p['at']}, ahead of this machine's clock: it counts as the newest backup and can hide an overdue one (check the clock: timedatectl; prune refuses until the dates make sense)`,
  'health.filesPartial': (p: PhraseParams) =>
    `files: the newest backup (set ${p['set']}) did not store ${p['count']} file(s) of the config and application files (\`respaldo show ${p['set']}\` says which and why)`,
  'health.chainBroken': (p: PhraseParams) =>
    `${p['db']}: the newest backup (set ${p['set']}) cannot be restored: ${p['problem']} (restore latest falls back to an older set; \`respaldo create --type full\` starts a new chain)`,
  'health.chainBrokenNoFallback': (p: PhraseParams) =>
    `${p['db']}: the newest backup (set ${p['set']}) cannot be restored: ${p['problem']}, and no older set restores it either (\`respaldo create --type full\` makes one now)`,
  'folder.none': (p: PhraseParams) => `no folder ${p['dir']}`,
  'folder.notAFolder': (p: PhraseParams) => `${p['dir']} is not a folder`,
  'folder.notWritable': (p: PhraseParams) => `${p['dir']} is not writable by this user`,
  'folder.readOnly': (p: PhraseParams) => `${p['dir']} is on a read-only file system`,
  'health.backupDirUnwritable': (p: PhraseParams) =>
    `backup folder: ${p['dir']} cannot be written (${p['reason']}): every backup will fail (remount the disk read-write, or give the user running respaldo write access)`,
  'error.readOnlyFs': (p: PhraseParams) => `Read-only file system${p['on'] ? ` on ${p['on']}` : ''} (${p['detail']}).`,
  'error.readOnlyFsHint': () =>
    'That disk is mounted read-only (often after I/O errors: check `dmesg`): remount it read-write, or point "backupDir" at a writable disk, then run the command again. A restore with --to reads a backup folder there as it is; in place, read it as a folder destination (README: "A backup folder on a disk mounted read-only").',
  'error.permissionDenied': (p: PhraseParams) =>
    `Permission denied${p['on'] ? ` on ${p['on']}` : ''} (${p['detail']}).`,
  'error.permissionDeniedHint': () =>
    'Run respaldo as the user that owns the backup folder and the config (or fix their owner and mode), then run the command again.',
  'error.noSpace': (p: PhraseParams) =>
    `No space left on the disk${p['on'] ? ` holding ${p['on']}` : ''} (${p['detail']}). Nothing was published.`,
  'error.noSpaceHint': () =>
    'Free space on the disk of the backup folder (`respaldo prune --dry-run`, `respaldo delete <id>`), or point "backupDir" at a bigger disk, then run the command again.',
  'health.metricsUnwritable': (p: PhraseParams) =>
    `metrics: metrics.textfile ${p['file']} cannot be written (${p['reason']}): Prometheus gets no figures from respaldo, or old ones (create the folder, or fix the path in the config)`,
  'note.notifying': (p: PhraseParams) =>
    `Telling ${p['name']} how it ended (a channel that does not answer is retried)`,
  'note.decrypting': (p: PhraseParams) =>
    `Decrypting ${p['count']} file(s) of ${p['id']} (each checked whole before use)`,
  'note.alsoParent': (p: PhraseParams) =>
    `${p['item']}: also restored ${p['table']} (a selected table is its partition or child)`,
  'note.alsoPartition': (p: PhraseParams) =>
    `${p['item']}: also restored partition ${p['table']} (of a selected partitioned table)`,
  'note.notRestoredView': (p: PhraseParams) => `not restored: ${p['what']} (only tables are restored with --table)`,
  'note.notRestoredNeedsTable': (p: PhraseParams) =>
    `not restored: ${p['what']} (it needs a table that is not selected)`,
  'note.killedRunRoles': (p: PhraseParams) =>
    `roles ${p['roles']} on ${p['server']}, created by a restore of set ${p['set']} that was killed (${p['at']}), stay: this restore completed, so respaldo forgets them now. If nothing uses them: ${p['sql']}`,
  'note.triggerNamesLeftOut': (p: PhraseParams) =>
    `trigger ${p['trigger']} on ${p['table']} runs ${p['fn']}, which names ${p['tables']}, not restored: what it wrote there for these rows is not in "${p['db']}", and writes to ${p['table']} there fail until ${p['tables']} is there too (add it with --table)`,

  // Warnings of a restore (ProgressEvent phrase)
  'note.restoredDamaged': (p: PhraseParams) =>
    `restored as it was when it was replaced: it failed integrity_check then and fails it now (${p['problems']})`,
  'note.readOnlyFolder': (p: PhraseParams) =>
    `the backup folder ${p['dir']} cannot be written (${p['code']}): restoring from it as it is, with no lock, ` +
    'log or recovery there (its scratch files go to the system temporary folder)',
  'note.fullFolder': (p: PhraseParams) =>
    `the disk of the backup folder ${p['dir']} is full (${p['free']} free): restoring from it with its scratch ` +
    'files in the system temporary folder, without the recovery of killed runs; a record that cannot be written ' +
    'there is said, and does not stop the restore',
  'note.recordNotWritten': (p: PhraseParams) =>
    `could not write ${p['file']} of set ${p['id']} in the backup folder (${p['error']}); what was done is not affected`,
  'note.restoredBefore': (p: PhraseParams) =>
    `That was ${p['stopped']}; restored before it stopped, so replaced: ${p['dbs']}. ${p['rollback']}`,
  'note.decryptAsRestored': (p: PhraseParams) =>
    `The backup folder ${p['dir']} has no room to decrypt set ${p['id']} whole first (${p['needed']} needed, ${p['free']} free): each file is decrypted and checked as it is restored`,
  'note.safetyRound': (p: PhraseParams) =>
    `an earlier restore of this set still keeps its safety copy "${p['earlier']}"; ` +
    `this one keeps the database it replaces as "${p['safety']}", beside it`,
  'note.droppingStale': (p: PhraseParams) => `dropping "${p['name']}" left by an earlier interrupted restore`,
  'note.propertyNotRestored': (p: PhraseParams) => `database property not restored (${p['sql']}): ${p['error']}`,
  'note.couldNotDrop': (p: PhraseParams) => `could not drop "${p['name']}": ${p['error']}`,
  'note.replacedDamaged': (p: PhraseParams) =>
    `the database being replaced fails integrity_check; it is kept as it is (${p['problems']})`,
  // `of`: the driver's error said within it (sayingWithin); else `reason`, the error's own words.
  'note.replacedUnreadable': (p: PhraseParams): string =>
    `${p['file']} cannot be read as a SQLite database (${p['of'] ? PHRASES_EN[p['of'] as PhraseId](p).replace(/\.$/, '') : p['reason']}); its bytes are kept as they are`,
  'note.couldNotDropRole': (p: PhraseParams) =>
    `could not drop a role created for this restore (${p['sql']}): ${p['error']}`,

  // Roles stored with a set that a restore with --create-roles leaves out (planMissingRoles); names are quoted
  'role.notInBackup': (p: PhraseParams) => `role ${p['role']} not created: it is not in the backup`,
  'role.exists': (p: PhraseParams) => `role ${p['role']} already exists on the server: left unchanged`,
  'role.reserved': (p: PhraseParams) =>
    `role ${p['role']} not created: names starting with pg_ are reserved for PostgreSQL's predefined roles`,
  'role.attributes': (p: PhraseParams) =>
    `role ${p['role']} not created: its attributes hold "${p['problem']}", which respaldo does not understand`,
  'role.membershipMissing': (p: PhraseParams) =>
    `membership of ${p['member']} in ${p['role']} not granted: role ${p['missing']} does not exist on the server and is not being created`,
  'role.membershipBothMissing': (p: PhraseParams) =>
    `membership of ${p['member']} in ${p['role']} not granted: roles ${p['role']} and ${p['member']} do not exist on the server and are not being created`,
  'role.membershipExisting': (p: PhraseParams) =>
    `membership of existing role ${p['member']} in new role ${p['role']} not granted: existing roles are left unchanged`,
  'note.roleCreated': (p: PhraseParams) => `${p['item']}: created role ${p['role']} (${p['summary']})`,

  // Properties of a PostgreSQL database a restore cannot put back (databasePropertiesSql)
  'prop.owner': (p: PhraseParams) => `database property not restored: owner ${p['owner']} (role does not exist)`,
  'prop.setting': (p: PhraseParams) => `database property not restored: setting ${p['setting']}`,
  'prop.roleSetting': (p: PhraseParams) =>
    `database property not restored: setting ${p['setting']} of role ${p['role']} in it (role does not exist)`,
  'prop.privilege': (p: PhraseParams) => `database property not restored: privilege ${p['privilege']}`,
  'prop.grantee': (p: PhraseParams) =>
    `database property not restored: ${p['privilege']} for ${p['grantee']} (role does not exist)`,

  // Warnings of the PostgreSQL driver
  'pg.terminated': (p: PhraseParams) => `terminated ${p['count']} session(s) on "${p['db']}": ${p['sessions']}`,
  'pg.noSnapshotJobs': (p: PhraseParams) => `cannot export a snapshot (${p['error']}); pg_dump runs with one job`,
  'pg.noSnapshotCounts': (p: PhraseParams) => `cannot export a snapshot (${p['error']}); row counts are estimates`,
  'pg.globalsNoPasswords': () => 'globals stored without role passwords (the configured user is not a superuser)',
  'pg.leftoverInUse': (p: PhraseParams) =>
    `database "${p['name']}" has ${p['sessions']} session(s) connected: a restore or drill is still running with it (from another backup folder, config or host); left as it is`,
  'pg.noLive': (p: PhraseParams) =>
    `database "${p['live']}" does not exist; safety copies exist: ${p['safeties']}. Restore a set, or rename a safety copy back by hand.`,

  // Warnings of the SQL Server driver; `error`, `problem` and `sql` stay SQL Server's and respaldo's words
  'mssql.multiUserFailed': (p: PhraseParams) =>
    `Could not set the database back to MULTI_USER (${p['error']}). Run: ${p['sql']}`,
  'mssql.settingsUnread': (p: PhraseParams) =>
    `Could not read the settings of ${p['live']} after the restore (${p['error']}); owner, TRUSTWORTHY and Service Broker were not checked.`,
  'mssql.settingsNotBack': (p: PhraseParams) => `Restored ${p['live']}, but could not put back: ${p['failed']}`,
  'mssql.cdcKept': (p: PhraseParams) =>
    `Change data capture of ${p['live']} was kept (RESTORE … KEEP_CDC), but its capture and cleanup jobs are not ` +
    `in a backup: in ${p['live']} run EXEC sys.sp_cdc_add_job @job_type = N'capture'; and ` +
    "EXEC sys.sp_cdc_add_job @job_type = N'cleanup'; (until the capture job runs, the log is not truncated).",
  'mssql.cdcWillKeep': (p: PhraseParams) =>
    `${p['db']}: change data capture of ${p['live']} is kept (RESTORE … KEEP_CDC), but its capture and cleanup jobs ` +
    `are not in a backup: after the restore, in ${p['live']} run EXEC sys.sp_cdc_add_job @job_type = N'capture'; and ` +
    "EXEC sys.sp_cdc_add_job @job_type = N'cleanup'; (until the capture job runs, the log is not truncated).",
  'mssql.notOnline': (p: PhraseParams) =>
    `Database "${p['db']}" is ${p['state']}, not ONLINE` +
    (p['why'] === 'restoring'
      ? ' (a restore is under way, or it is a log-shipping secondary or a mirror)'
      : p['why'] === 'damaged'
        ? ' (damaged, or its files are missing)'
        : '') +
    `: it cannot be taken and renamed aside, so ${p['doing'] === 'rollback' ? 'a rollback by renaming' : 'an in-place restore'} ` +
    'was refused; nothing was changed.',
  'mssql.notOnlineHint': (p: PhraseParams) => {
    const beside = `restore beside it with --to ${p['db']}_restored`;
    if (p['why'] === 'restoring')
      return (
        `If a restore of it was left unfinished, finish it (RESTORE DATABASE ${p['q']} WITH RECOVERY) or drop it, ` +
        `then run again; a log-shipping secondary or a mirror is never replaced. Or ${beside}.`
      );
    if (p['why'] === 'recovering')
      return `Wait until SQL Server has recovered it (ONLINE), then run again; or ${beside}.`;
    if (p['why'] === 'offline')
      return `Bring it online (ALTER DATABASE ${p['q']} SET ONLINE), then run again; or ${beside}.`;
    return (
      `Restore beside it with --to ${p['db']}_restored, check it, then replace the damaged one by hand (keep its ` +
      `files: ALTER DATABASE ${p['q']} SET OFFLINE, or DROP DATABASE ${p['q']}; then ALTER DATABASE ${p['qRestored']} ` +
      `MODIFY NAME = ${p['q']}). See docs/sqlserver.md (What is refused up front).`
    );
  },
  'mssql.published': (p: PhraseParams) =>
    `Database "${p['db']}" on ${p['server']} is published for replication: a publication cannot be renamed aside ` +
    `and kept, so ${p['doing'] === 'rollback' ? 'a rollback by renaming' : 'an in-place restore'} was refused; ` +
    'nothing was changed.',
  'mssql.publishedHint': (p: PhraseParams) =>
    `Restore beside it with --to ${p['db']}_restored and let the DBA move it in and set the publications up ` +
    `again; or remove replication first (EXEC sp_removedbreplication N'${p['literal']}'), ` +
    'run again, then re-create the publications and re-initialise the subscriptions.',
  'mssql.availabilityGroup': (p: PhraseParams) =>
    `Database "${p['db']}" on ${p['server']} is in an availability group: it cannot be set SINGLE_USER or renamed, ` +
    `so ${p['doing'] === 'rollback' ? 'a rollback by renaming' : 'an in-place restore'} is not possible.`,
  'mssql.availabilityGroupHint': () =>
    'Restore side by side with --to NAME, or remove the database from the availability group first ' +
    '(ALTER AVAILABILITY GROUP … REMOVE DATABASE), restore, and add it back.',
  'mssql.continuedAfterError': (p: PhraseParams) =>
    `${p['live']} was restored WITH CONTINUE_AFTER_ERROR from a safety copy of a damaged database: ` +
    'the damage is restored too. Run DBCC CHECKDB on it.',
  'mssql.countsDiffer': (p: PhraseParams) =>
    `Row counts of ${p['live']} differ from the manifest's estimates` +
    `${p['written'] ? ' (the database was written during the backup)' : ''}: ` +
    `${p['diffs']}${p['more'] !== '0' ? `; … ${p['more']} more` : ''}`,
  'mssql.tempNotDropped': (p: PhraseParams) =>
    `Could not drop the temporary database ${p['temp']}: ${p['error']}. respaldo removes it on the next restore, or drop it yourself.`,
  'mssql.stillSingleUser': (p: PhraseParams) =>
    `${p['live']} is back but still ${p['access']} (${p['error']}). Run: ${p['sql']}`,
  'mssql.tde': (p: PhraseParams) =>
    `${p['db']} is encrypted with TDE${p['certificate'] ? ` (certificate ${p['certificate']})` : ''}: ` +
    'this backup restores only on a server that has that certificate with its private key. ' +
    'Back the certificate up (see docs/sqlserver.md).',
  'mssql.noCompression': (p: PhraseParams) =>
    `SQL Server refused BACKUP WITH COMPRESSION; backing up ${p['db']} uncompressed.`,
  'mssql.verifyRejectedKept': (p: PhraseParams) =>
    `Safety copy of ${p['db']} kept although RESTORE VERIFYONLY rejected it: ${p['error']}`,
  'mssql.chainBroken': (p: PhraseParams) =>
    `the ${p['kind']} backup of ${p['db']} (${p['path']}) does not continue the chain and was not kept: ${p['problem']}. Backing up a full instead.`,
  'mssql.fileLeft': (p: PhraseParams) => `SQL Server backup file left behind: ${p['problem']}`,
  'mssql.olderServer': (p: PhraseParams) =>
    `Set ${p['set']} holds a backup of ${p['db']} made by ${p['backup']}; ${p['server']} runs ${p['target']}, ` +
    'an older version, and SQL Server never restores a backup on an older version (error 3169). Nothing was changed.',
  'mssql.olderServerHint': (p: PhraseParams) =>
    `Restore it on a server running ${p['backup']} or later (a database entry for that server), or upgrade ` +
    `${p['server']}. To move data to an older version, export it (bacpac, scripts) on the newer server.`,

  // Warnings of backups, copies, prunes and drills (src/engine, src/scheduler); `error` is the error's own text
  // What to do about status's leftovers (a killed files restore's partial folder holds restored files)
  'status.leftoversHint': () => 'removed by the next create or restore',
  'status.partialLeftoverHint': (p: PhraseParams) =>
    'the partial folder of a files restore that was killed holds restored files, secrets (.env) too: the next ' +
    `create or restore removes it, or remove it yourself (rm -r ${p['paths']}); then run the restore again`,
  // status's last restore of each database (last-restores.ts), after `DATABASE: `; `to` empty: in place
  'status.restoreCompleted': (p: PhraseParams) =>
    `completed ${p['at']} from set ${p['set']}${p['to'] ? `, to ${p['to']}` : ''}`,
  /** Its database restored, the same run stopped later (on another database, or on the files). */
  'status.restoreCompletedThenInterrupted': (p: PhraseParams) =>
    `completed ${p['at']} from set ${p['set']}${p['to'] ? `, to ${p['to']}` : ''}; the same restore was then ` +
    `INTERRUPTED ${p['stopped']}: what it restored after this database is not complete`,
  'status.restoreRunning': (p: PhraseParams) => `running since ${p['started']} from set ${p['set']} (pid ${p['pid']})`,
  'status.restoreKilled': (p: PhraseParams) =>
    `KILLED: started ${p['started']} from set ${p['set']} (pid ${p['pid']}), no end logged (SIGKILL, a power cut); ` +
    `${targetEn(p)} may hold what it left (respaldo status lists what it can see of it): the next create or restore ` +
    'finishes or removes it; then run the restore again',
  'status.restoreRefused': (p: PhraseParams) =>
    `refused ${p['at']} (set ${p['set']}): ${p['error']}; nothing was changed`,
  'status.restoreFailed': (p: PhraseParams) => `FAILED ${p['at']} from set ${p['set']}: ${p['error']}`,
  'status.restoreFailedBefore': (p: PhraseParams) =>
    `not restored: the restore of set ${p['set']} failed ${p['at']} before it${p['error'] ? ` (${p['error']})` : ''}; ` +
    `${targetEn(p)} was not changed`,
  'status.restoreInterrupted': (p: PhraseParams) =>
    `INTERRUPTED ${p['at']}${signalEn(p)} while restoring it from set ${p['set']}; ${targetEn(p)} was left as it was`,
  'status.restoreInterruptedBefore': (p: PhraseParams) =>
    `not restored: the restore of set ${p['set']} was interrupted ${p['at']}${signalEn(p)} before it; ` +
    `${targetEn(p)} was not changed`,
  'warn.lowSpace': (p: PhraseParams) =>
    `The disk of the backup folder ${p['dir']} has ${p['free']} free; this backup is estimated to need about ` +
    `${p['needed']} while it is written (${estimateOf(p)}). This backup may not fit: free space (respaldo prune ` +
    '--dry-run) or move backupDir to a bigger disk.',
  'warn.cleanupFailed': (p: PhraseParams) => `cleanup failed: ${p['error']}`,
  'warn.notCopied': (p: PhraseParams) => `set ${p['set']} NOT copied to ${p['dest']}: ${p['error']}`,
  'warn.notCopiedOffsite': (p: PhraseParams) => `set ${p['set']} was not copied off-site: ${p['error']}`,
  'warn.chainNotCopied': (p: PhraseParams) =>
    `not sent: set ${p['base']}, which it applies on, could not be copied there first (${p['error']}); without it the set would not restore there`,
  'warn.notRemoved': (p: PhraseParams) => `could not remove ${p['set']}: ${p['error']}`,
  // What a set is, said before it is deleted (before-delete.ts)
  'delete.dropsSafety': (p: PhraseParams) =>
    `Set ${p['set']} keeps ${p['dbs']} on the server (the database replaced by a restore): deleting the set DROPS ${p['count'] === '1' ? 'it' : 'them'}.`,
  'delete.strayFiles': (p: PhraseParams) =>
    `The folder of set ${p['set']} also holds ${p['count']} file(s) respaldo did not write (${p['files']}${p['more'] && p['more'] !== '0' ? ` and ${p['more']} more` : ''}): deleting the set deletes ${p['count'] === '1' ? 'it' : 'them'} too. Move ${p['count'] === '1' ? 'it' : 'them'} out first to keep ${p['count'] === '1' ? 'it' : 'them'}.`,
  'delete.markedKeep': (p: PhraseParams) =>
    `Set ${p['set']} is marked keep (\`respaldo keep\`): retention never removes it.`,
  'delete.notCopied': (p: PhraseParams) =>
    `Set ${p['set']} is not copied to ${p['dests']} yet: deleting it here deletes its only copy.`,
  'delete.safetyCopy': (p: PhraseParams) =>
    `Set ${p['set']} is a safety copy: what restoring set ${p['of']} replaced (${p['at']}). Deleting it removes the way back to that state.`,
  'delete.onlyBackup': (p: PhraseParams) =>
    `Set ${p['set']} is the only backup of ${p['db']}: after it, ${p['db']} has none.`,
  'delete.newestBackup': (p: PhraseParams) =>
    `Set ${p['set']} is the newest backup of ${p['db']} (the next newest is ${p['next']}).`,
  'delete.onlyThere': (p: PhraseParams) =>
    `Set ${p['set']} is the only backup of ${p['db']} at ${p['dest']}: after it, ${p['db']} has none there.`,
  'delete.newestThere': (p: PhraseParams) =>
    `Set ${p['set']} is the newest backup of ${p['db']} at ${p['dest']} (the next newest there is ${p['next']}).`,
  'delete.notHere': (p: PhraseParams) =>
    `Set ${p['set']} is not in this server's backup folder: the copy at ${p['dest']} may be the last one.`,
  'warn.claimTakenOver': (p: PhraseParams) =>
    `took over the claim ${p['claim']} on set ${p['set']} at ${p['dest']}, left by another set's copy cut short (from ${p['host']}; nothing written there for ${p['age']}): its ${p['files']} unfinished file(s) there removed${Number(p['uploads']) > 0 ? `, its ${p['uploads']} pending multipart upload(s) there aborted` : ''}`,
  'warn.claimTakenOverGone': (p: PhraseParams) =>
    `took over the claim ${p['claim']} on set ${p['set']} at ${p['dest']}, left by another set's copy cut short (from ${p['host']}, this server; its process is gone): its ${p['files']} unfinished file(s) there removed${Number(p['uploads']) > 0 ? `, its ${p['uploads']} pending multipart upload(s) there aborted` : ''}`,
  'warn.claimTakingOver': (p: PhraseParams) =>
    `taking over, as asked (--take-over), the claim on set ${p['set']} at ${p['dest']} of another set's copy (${p['owner']}): its ${p['files']} unfinished file(s) there are removed${Number(p['uploads']) > 0 ? ` and its ${p['uploads']} pending multipart upload(s) there aborted` : ''}`,
  'warn.claimTakenOverAsked': (p: PhraseParams) =>
    `took over, as asked (--take-over), the claim on set ${p['set']} at ${p['dest']} of another set's copy (${p['owner']}): its ${p['files']} unfinished file(s) there removed${Number(p['uploads']) > 0 ? `, its ${p['uploads']} pending multipart upload(s) there aborted` : ''}`,
  'warn.notRemovedAt': (p: PhraseParams) => `could not remove ${p['set']} at ${p['dest']}: ${p['error']}`,
  'warn.damagedKept': (p: PhraseParams) =>
    `set ${p['set']} at ${p['dest']} is damaged, kept and not counted by the retention: ${p['problem']}`,
  'warn.passedOver': (p: PhraseParams) =>
    `passed over set ${p['set']} at ${p['dest']}, newer but damaged: ${p['problem']}`,
  'warn.remoteFailed': (p: PhraseParams) => `set ${p['set']} at ${p['dest']}: FAILED`,
  'note.remoteOk': (p: PhraseParams) => `set ${p['set']} at ${p['dest']}: OK`,
  'warn.drillScratch': (p: PhraseParams) =>
    `could not remove the drill's scratch target ${p['target']} (${p['error']}); the next run removes it`,
  'warn.drillNotRun': (p: PhraseParams) => `the drill after set ${p['set']} could not run: ${p['error']}`,
  'warn.drillFailed': (p: PhraseParams) => `the restore drill of set ${p['set']} failed (drilled.json)`,
  'warn.stillLists': (p: PhraseParams) =>
    `set ${p['set']} still lists ${p['dbs']}, which ${p['count'] === '1' ? 'is' : 'are'} live again: ${p['error']}; the next create or restore retries`,
  'warn.rollbackNotFinished': (p: PhraseParams) =>
    `could not finish the interrupted rollback recorded in ${p['file']}: ${p['error']}`,
  'pg.leftoverNotDropped': (p: PhraseParams) =>
    `could not drop "${p['name']}", left by an interrupted restore or drill: ${p['error']}. It stays (respaldo status lists it); the next create or restore tries again, or drop it yourself`,
  'warn.recoverFailed': (p: PhraseParams) =>
    `could not check its server for what an interrupted restore or drill may have left there (the next run checks again; respaldo status lists what it finds): ${p['error']}`,

  // Files of a backup left out or not stored (src/engine/files.ts); `error` is the system's text
  'file.notRegular': (p: PhraseParams) => `${p['path']}: not a regular file, skipped`,
  'file.sqliteConfigured': (p: PhraseParams) =>
    `${p['path']}: SQLite database file in an application folder, not copied (it is backed up through its databases entry)`,
  'file.sqliteCopied': (p: PhraseParams) =>
    `${p['path']}: SQLite database that could not be opened to take a consistent copy (${p['error']}); stored byte for byte with its -wal/-journal, which may be inconsistent if it was being written`,
  'file.sqliteCheck': (p: PhraseParams) =>
    `${p['path']}: SQLite database whose snapshot fails PRAGMA quick_check (${p['problem']}); stored as it is, the database itself is likely damaged: check it with sqlite3 (PRAGMA integrity_check) and keep the sets made before the damage`,
  'file.notFound': (p: PhraseParams) => `${p['path']}: not found`,
  'file.notFolder': (p: PhraseParams) => `${p['path']}: not a folder`,
  'file.vanished': (p: PhraseParams) =>
    `${p['path']}: vanished while being backed up (deleted after it was listed), not stored`,
  'file.changed': (p: PhraseParams) =>
    `${p['path']}: changed while it was being backed up (read ${p['attempts']} times); the stored copy may be inconsistent`,
  'file.backupDir': (p: PhraseParams) =>
    `${p['path']}: the backup folder (backupDir), inside an application folder: not stored (a set never holds the sets)`,
  'file.noSpace': (p: PhraseParams) => `${p['path']}: no space left on the disk of the backup folder`,
  'file.ownersKept': (p: PhraseParams) =>
    `${p['path']}: ${p['count']} restored file(s), symlink(s) or folder(s) are owned by root, not by their recorded owners: this system refused to give them away (${p['error']}: a container whose user ids do not include them, or a share that maps root to nobody); their contents, modes and times are restored. Set their owners by hand (chown) when putting them back`,
  'file.error': (p: PhraseParams) => `${p['path']}: ${p['error']}`,

  // What recovery did after a crash (each driver's recover, the engine's sweeps): a warning and the outcome's list
  'recover.finished': (p: PhraseParams): string =>
    `finished an interrupted restore: ${PHRASES_EN[p['of'] as PhraseId](p)}`,
  'recover.rollbackFinished': (p: PhraseParams) =>
    `${p['db']}: finished a rollback cut short ("${p['kept']}" is the live database again)`,
  'recover.listed': (p: PhraseParams) => `listed ${p['names']} in pre_restore set ${p['set']}`,
  'recover.stoppedOrphans': (p: PhraseParams) =>
    `stopped ${p['count']} process(es) an interrupted run left running (pg_restore and its workers)`,
  'recover.stoppedDumpOrphans': (p: PhraseParams) =>
    `stopped ${p['count']} process(es) an interrupted backup left running (pg_dump and its workers)`,
  'recover.removedScratch': (p: PhraseParams) => `removed ${p['path']}, left by an interrupted run`,
  'recover.safetyOfKilledRun': (p: PhraseParams) =>
    `removed safety set ${p['set']}, taken by a restore killed before it replaced anything (the databases are as it found them)`,
  'recover.removedTemp': (p: PhraseParams) => `removed ${p['path']}, left by an interrupted restore`,
  'recover.removedLeftover': (p: PhraseParams) => `removed ${p['name']} (left by an interrupted run)`,
  'recover.leftoverNotRemoved': (p: PhraseParams) =>
    `could not remove ${p['path']}, left by an interrupted run (${p['error']}): remove it by hand (\`lsattr\` shows a file made immutable, \`ls -l\` one of another user); this run goes on`,
  'recover.droppedDrill': (p: PhraseParams) =>
    `dropped "${p['name']}" (the scratch database of an interrupted restore drill)`,
  'recover.droppedDrillOn': (p: PhraseParams) =>
    `dropped "${p['name']}" on the drill server ${p['server']} (the scratch database of an interrupted restore drill)`,
  'recover.pgRenamedBack': (p: PhraseParams) =>
    `renamed "${p['from']}" back to "${p['live']}" (a restore was interrupted during the swap; the database is as before that restore)`,
  'recover.pgDropped': (p: PhraseParams) =>
    `dropped "${p['name']}" (left by an interrupted restore; "${p['live']}" was not changed by it)`,
  'recover.pgDroppedOn': (p: PhraseParams) =>
    `dropped "${p['name']}" on the drill server ${p['server']} (left by an interrupted restore drill)`,
  'recover.sqlitePutBack': (p: PhraseParams) =>
    `put back ${p['file']}, set aside by a restore interrupted before its swap`,
  'recover.sqliteStaleJournal': (p: PhraseParams) =>
    `removed a stale journal set aside by an interrupted restore: ${p['file']}`,
  'recover.sqliteKept': (p: PhraseParams) =>
    `kept ${p['file']}: set aside by a restore interrupted before its swap, but ${p['original']} exists again; check it by hand`,
  'recover.sqliteUnfinished': (p: PhraseParams) => `removed an unfinished restore file ${p['file']}`,
  'recover.mssqlRollbackFinished': (p: PhraseParams) =>
    `finished an interrupted rollback: renamed the safety copy ${p['incoming']} to ${p['live']}` +
    `${p['replaced'] ? ` (the database it replaces is kept as ${p['replaced']})` : ''}`,
  'recover.mssqlNotRenamed': (p: PhraseParams) =>
    `set ${p['live']} back to MULTI_USER (an interrupted rollback had not renamed it yet)`,
  'recover.mssqlSafetyMultiUser': (p: PhraseParams) => `set the safety copy ${p['safety']} back to MULTI_USER`,
  'recover.mssqlMultiUser': (p: PhraseParams) => `set ${p['live']} back to MULTI_USER`,
  'recover.mssqlSwapFinished': (p: PhraseParams) =>
    `finished an interrupted swap: renamed the restored database ${p['temp']} to ${p['live']} (previous database kept as ${p['safety']})`,
  'recover.mssqlSwapUndone': (p: PhraseParams) =>
    `rolled back an interrupted swap: renamed ${p['safety']} back to ${p['live']}`,
  'recover.mssqlDroppedTemp': (p: PhraseParams) => `dropped the leftover temporary database ${p['temp']}`,
  'recover.mssqlRestoreFinished': (p: PhraseParams) =>
    `finished an interrupted restore: renamed the verified database ${p['temp']} to ${p['live']}`,
  'recover.mssqlRestoreUndone': (p: PhraseParams) =>
    `rolled back an interrupted restore: dropped the temporary database ${p['temp']}` +
    `${p['untouched'] ? ` (${p['untouched']} was not touched)` : ''}`,
  'recover.mssqlRemovedFile': (p: PhraseParams) => `removed the leftover restore file ${p['file']}`,
  'recover.mssqlRemovedJournal': (p: PhraseParams) => `removed the restore journal ${p['file']}`,

  // Steps of a restore (item-progress phrase): what the running screen shows under the bars; the snapshot is
  // SQLite's (of a safety copy), the rest PostgreSQL's
  'step.snapshot': (p: PhraseParams) => `taking a snapshot (${p['total']} pages)`,
  'step.snapshotStoring': () => 'checking the snapshot (integrity_check, row counts) and storing it',
  'step.decompressing': () => 'decompressing the dump',
  'step.readingToc': () => 'reading the table of contents of the dump',
  'step.creating': (p: PhraseParams) => `creating "${p['db']}"`,
  'step.creatingRoles': () => 'creating missing roles',
  'step.pgRestore': (p: PhraseParams) => `pg_restore into "${p['db']}"`,
  'step.pgRestoreJobs': (p: PhraseParams) => `pg_restore --jobs=${p['jobs']} into "${p['db']}"`,
  'step.schema': (p: PhraseParams) => `restoring the schema into "${p['db']}"`,
  'step.loading': (p: PhraseParams) =>
    `loading the data (${p['tables'] === '1' ? '1 large table' : `${p['tables']} large tables`}, ${p['jobs']} sessions each)`,
  'step.indexes': (p: PhraseParams) => `pg_restore --jobs=${p['jobs']}: indexes and constraints`,
  'step.restoring': () => 'restoring',
  'step.restored': () => 'restored',
  'step.counting': () => 'checking row counts',
  'at.noneHere': (p: PhraseParams) => `No backup set of ${p['dbs']} ends at or before ${p['at']}${atDetails(p)}.`,
  'at.noneThere': (p: PhraseParams) =>
    `Destination "${p['dest']}" holds no set of ${p['dbs']} ending at or before ${p['at']}${atDetails(p)}.`,
  // why a set was passed over: it lacks databases asked for (`dbs`), or the files (`files` not empty)
  'at.holdsNo': (p: PhraseParams) => `holds no ${[p['dbs'], p['files'] ? 'files' : ''].filter(Boolean).join(', ')}`,
  // the same in the error of a time no set serves, whose first words name what was asked: how many it lacks
  'at.lacksOf': (p: PhraseParams) =>
    p['of'] === '1'
      ? `does not hold ${p['files'] ? 'them' : 'it'}`
      : p['n'] === p['of']
        ? 'holds none of them'
        : `lacks ${p['n']} of them`,
  // What breaks a chain (chain.ts chainOf); `by` is the set that needs it, or empty
  'chain.missing': (p: PhraseParams) => `set ${p['set']}${neededEn(p)} is missing (pruned or deleted)`,
  'chain.manifestDamaged': (p: PhraseParams) =>
    `the manifest of set ${p['set']}${neededEn(p)} is damaged (${p['what']})`,
  'chain.loop': (p: PhraseParams) => `set ${p['set']} depends on itself (damaged manifests)`,
  'chain.lacksDb': (p: PhraseParams) => `set ${p['set']}${neededEn(p)} holds no ${p['db']}`,
  'chain.notOlder': (p: PhraseParams) =>
    `set ${p['set']} is not older than ${p['child']}, which applies on it (damaged manifests)`,
  'chain.entry': (p: PhraseParams): string =>
    `${p['db']} in set ${p['set']}${neededEn(p)}: ${PHRASES_EN[p['of'] as PhraseId](p)}`,
  // What makes one database of a set unusable in a chain (the `of` of chain.entry)
  'chain.failedInSet': (p: PhraseParams) => `failed in that set (${p['error']})`,
  'chain.noCopy': () => 'no stored copy in that set',
  'chain.failedVerification': (p: PhraseParams) => `the set failed verification on ${p['at']}`,
  'chain.fileMissing': (p: PhraseParams) => `stored file ${p['file']} is missing`,
  'chain.fileSize': (p: PhraseParams) => `stored file ${p['file']} has another size than the manifest says`,
  'chain.nextFileMissing': (p: PhraseParams) =>
    `stored file ${p['file']} is missing (only a backup made on this set reads it; the set restores without it)`,
  'chain.nextFileSize': (p: PhraseParams) =>
    `stored file ${p['file']} has another size than the manifest says (only a backup made on this set reads it; ` +
    'the set restores without it)',
  'chain.nextFileAltered': (p: PhraseParams) =>
    `stored file ${p['file']} does not match its manifest (only a backup made on this set reads it; the set ` +
    'restores without it)',
  'chain.nextFileUnreadable': (p: PhraseParams) =>
    `stored file ${p['file']} matches its manifest but cannot be read (${p['error']}) (only a backup made on this ` +
    'set reads it; the set restores without it)',
  'chain.encryptedBase': () =>
    "the set is encrypted (a delta is computed against its base's content, which is ciphertext there; the set " +
    'restores with its key)',
  'verify.nextBackupOnly': (p: PhraseParams) =>
    `${p['file']}: ${p['problem']}; only a differential or incremental of ${p['db']} made on this set reads it ` +
    `(the next incremental is a differential on the full instead): the set restores without it`,
  // The stored files a verification found bad, under its bar: `path: problem; …` (each problem said in Spanish too)
  'verify.badFiles': (p: PhraseParams) => `${p['problems']}`,
  // A stored file whose hashes match but whose data does not decompress (`error`: its decompressor's)
  'verify.notDecompressing': (p: PhraseParams) => `does not decompress (${p['error']}): the data it holds is damaged`,
  'error.decodedDamaged': (p: PhraseParams) =>
    `${p['label']} decrypted and authenticated, but its decrypted data does not decompress (${p['error']}): the ` +
    'data it holds is damaged (encrypted again after the backup, or rewritten).',
  'error.storedNotDecompressing': (p: PhraseParams) =>
    `The stored file ${p['file']} of ${p['name']} cannot be decompressed (${p['error']}): it is damaged.`,
  'error.storedNotDecompressingHint': () =>
    'Do not restore from this set. Use another set (`respaldo list`, or `respaldo list --from <destination>` for ' +
    'those at a destination) and check the disk or the destination that holds it.',
  'drill.notDecompressing': (p: PhraseParams) =>
    `Set ${p['set']}: a stored file does not decompress (${p['error']}): the data it holds is damaged.`,
  'verify.notDecompressingHint': () =>
    'Do not restore from this set: a stored file whose hashes match does not decompress (rewritten after the ' +
    'backup, or damaged before it was hashed). Use another set (`respaldo list`), or its copy at a destination ' +
    '(`respaldo verify ID --from NAME --read-data`).',
  'chain.fileMissingAt': (p: PhraseParams) => `stored file ${p['file']} is missing at ${p['dest']}`,
  'chain.fileSizeAt': (p: PhraseParams) => `stored file ${p['file']} has another size at ${p['dest']}`,
  // A problem said in English only (a test's table, an older caller)
  'chain.raw': (p: PhraseParams) => p['text'] ?? '',
  'at.startedThen': (p: PhraseParams) =>
    `Restore as of ${p['at']}: set ${p['set']}, which started at that time (a time written to the second of a set's id, or to the minute \`list\` shows, names that set) and ended at ${p['ended']}.`,
  'at.before': (p: PhraseParams) =>
    `The newest set ending before it is ${p['before']}; for the data before set ${p['set']}: ${p['command']}`,
  'at.noneBefore': (p: PhraseParams) => `No set ending before set ${p['set']} restores what is asked.`,
  'prune.chainBase': (p: PhraseParams) =>
    `newest full of ${p['db']}, the base of the chain of the newer ${p['count'] === '1' ? 'set' : 'sets'} ${p['sets']}${p['more'] !== '0' ? ` and ${p['more']} more` : ''}`,
  'at.noneHereHint': () => 'Pick a later time, name fewer databases with --db, or see the sets with respaldo list.',
  'at.noneThereHint': (p: PhraseParams) =>
    `Pick a later time, name fewer databases with --db, or see the sets there with respaldo list --from ${p['dest']}.`,
  'step.writingCopy': () => 'writing the copy',
  'step.checkingCopy': () => 'checking the copy (integrity_check, row counts)',
  'step.swapping': (p: PhraseParams) => `swapping "${p['live']}" and "${p['staging']}"`,
  'step.swappingBack': (p: PhraseParams) => `swapping "${p['safety']}" back in as "${p['live']}"`,
  'step.renamingBack': (p: PhraseParams) => `renaming "${p['safety']}" to "${p['live']}"`,
  // Why a differential or incremental stores a database as a full (create-plan.ts planBackup, chain.ts chooseBase),
  // and the note a run says of it (chainFacts; `problem` the reason in English, its phrase nested: nestedPhrase)
  'fallback.noChains': (p: PhraseParams) => `${p['engine']} has no ${p['type']} backups yet`,
  'fallback.encrypted': () =>
    "encrypted local sets are always full (a delta is computed against the base's content, which an encrypting " +
    'server cannot read, by design); "local": false in "encryption" keeps local sets plain and chained and ' +
    'encrypts only the copies sent off-site',
  'fallback.noFull': (p: PhraseParams) => `no full backup of ${p['db']} yet`,
  'fallback.ahead': (p: PhraseParams) =>
    `the newest backup of ${p['db']} (${p['set']}) is dated ${p['at']}, after this machine's clock: a backup applied on it could never be restored`,
  'fallback.badBase': (p: PhraseParams) =>
    `${p['type'] === 'differential' ? 'the newest full' : 'the newest backup'} of ${p['db']} (${p['set']}) cannot be a base: ${p['problem']}`,
  'fallback.mssqlNoChain': (p: PhraseParams) =>
    `SQL Server ${p['type']} backups of ${p['db']} need "chain": true in its database entry (see docs/sqlserver.md); ` +
    'stored a COPY_ONLY full',
  // What a driver found when it came to store the delta (BackupSession.fellBackPhrase)
  'fallback.baseFormat': (p: PhraseParams) =>
    `the base set ${p['set']} stores ${p['db']} as ${p['format']}, not as ${p['as'] === 'pages' ? 'pages' : 'a directory dump'}`,
  'fallback.baseUnreadable': (p: PhraseParams) => `the base set ${p['set']} could not be read (${p['error']})`,
  'fallback.baseGone': (p: PhraseParams) => `the base set ${p['set']} is gone (${p['error']})`,
  'fallback.pageSize': (p: PhraseParams) =>
    `the page size changed since set ${p['set']} (${p['from']} → ${p['to']} bytes, after a VACUUM)`,
  // Why a SQL Server differential or log backup is a full (sqlserver/chain-plan.ts decideBackup)
  'fallback.mssqlSimple': (p: PhraseParams) =>
    `${p['db']} uses the SIMPLE recovery model, which keeps no log for BACKUP LOG; stored a full. ` +
    'Set FULL recovery (ALTER DATABASE … SET RECOVERY FULL) or schedule differentials instead of incrementals',
  'fallback.mssqlNoBase': (p: PhraseParams) => `no base for a ${p['type']} of ${p['db']}`,
  'fallback.mssqlNoHeader': (p: PhraseParams) =>
    `the base set ${p['set']} holds no backup header of ${p['db']} (made before "chain": true); stored a full that starts a new chain`,
  'fallback.mssqlCopyOnly': (p: PhraseParams) =>
    `the base of ${p['db']} in set ${p['set']} is a COPY_ONLY full (made before "chain": true); stored a full that starts a new chain`,
  'fallback.mssqlMsdb': (p: PhraseParams) =>
    `msdb's backup history is not readable (${p['error']}): without it neither the chain nor the exact ` +
    `LSNs can be checked; stored a full. Grant the login SELECT on msdb.dbo.backupset and ` +
    'msdb.dbo.backupmediafamily',
  'fallback.mssqlFork': (p: PhraseParams) =>
    `${p['db']} is on another recovery fork than set ${p['set']} (it was restored or recovered since); stored a full that starts a new chain`,
  'fallback.mssqlNoLogChain': (p: PhraseParams) =>
    `${p['db']} has no log chain to continue (sys.database_recovery_status.last_log_backup_lsn is NULL: it was in ` +
    'SIMPLE recovery since its last full, or had no full on this server), so BACKUP LOG would fail (error ' +
    '4214); stored a full that starts a new chain',
  'fallback.mssqlBaseNotFull': (p: PhraseParams) =>
    `the base set ${p['set']} of ${p['db']} is not a full; stored a full that starts a new chain`,
  'fallback.mssqlOutsideFull': (p: PhraseParams) =>
    `the server's differential base of ${p['db']} is a full taken outside respaldo${p['at'] ? ` at ${p['at']}` : ''}${p['device'] ? ` to ${p['device']}` : ''} ` +
    `(checkpoint LSN ${p['lsn']}, not ${p['baseLsn']} of set ${p['set']}); stored a full that starts a new chain`,
  'fallback.mssqlLogGap': (p: PhraseParams) =>
    `a log backup of ${p['db']} was taken outside respaldo${p['device'] ? ` (${p['device']})` : ''}, up to LSN ${p['lsn']}, after set ` +
    `${p['set']} (LSN ${p['baseLsn']}): the log chain has a gap; stored a full that starts a new chain`,
  'fallback.mssqlBroken': (p: PhraseParams) => `${p['problem']}; stored a full that starts a new chain`,
  'chain.storedFull': (p: PhraseParams) =>
    `${p['db']}: stored as a full, not ${p['type'] === 'differential' ? 'a' : 'an'} ${p['type']}: ${p['problem']}`,
  'chain.storedOnFull': (p: PhraseParams) =>
    `${p['db']}: stored as a differential on the full ${p['set']}, not an incremental: ${p['problem']}`,
  'when.timezoneHint': () =>
    "Use an IANA time zone such as Europe/Madrid or America/Mexico_City, or leave it empty for the machine's.",
  // Left English inside Spanish texts until now: secret files, the keep mark at a destination, a restore's server
  // disk and its unlisted safety copies, the config file (`what` of a secret: config, env or identity)
  'error.secretUnreadable': (p: PhraseParams) =>
    `Cannot read ${secretWhatEn(p)} ${p['file']} (${p['kind'] ? `it is ${p['kind']}, not a regular file` : p['code']}).`,
  'error.secretEmpty': (p: PhraseParams) => `${secretWhatEn(p)} ${p['file']} is empty.`,
  'error.secretNotRegularHint': (p: PhraseParams) =>
    `Name the key or passphrase file itself there (${p['kind']} is not read: a FIFO would wait forever); nothing was changed.`,
  'error.passphraseConfigHint': () =>
    'Write the passphrase of the backups into that file (mode 0600), or use "encryption.recipients".',
  'error.passphraseConfigReadHint': () => 'Write the passphrase of the backups into it.',
  'error.identityFileHint': () =>
    'Point "encryption.identityFile" at the file `respaldo key generate` (or age-keygen) wrote; keep a copy off the server.',
  'error.identityUnopenable': (p: PhraseParams) =>
    `The identity file ${p['path']} could not be opened (${p['detail']}).`,
  'error.identityNoKey': (p: PhraseParams) =>
    `The identity file ${p['path']} holds no age identity (AGE-SECRET-KEY-1…).`,
  'keep.notAt': (p: PhraseParams) =>
    `The keep mark is ${p['keep'] === 'true' ? 'set' : 'cleared'} here, but not at ${keepFailedEn(p)}.`,
  // `why` (keepFailureWhy): `gone`, the set is no longer at `dest`; `folder`, a folder is where the mark goes; no
  // retry mends either
  'keep.notAtHint': (p: PhraseParams) => keepNotAtHintEn(p),
  // keep.notAtHint of each destination of `failed` (JSON: { dest, why }[]), one after the other
  'keep.notAtHints': (p: PhraseParams) =>
    (JSON.parse(p['failed'] ?? '[]') as { dest: string; why: string }[])
      .map((f) => keepNotAtHintEn({ keep: p['keep'] ?? '', set: p['set'] ?? '', dest: f.dest, why: f.why }))
      .join(' '),
  'restore.serverEnded': (p: PhraseParams) => `${p['detail']}`,
  'restore.serverDiskFullHint': (p: PhraseParams) =>
    `The database server ran out of disk space: its data folder ${p['path']} has ${p['free']} free, and ` +
    'PostgreSQL stopped every session and restarted. The live database is as it was; the partly restored copy is ' +
    'dropped by the next restore, create or drill. Free space on that disk, then restore again.',
  'restore.replacedUnlisted': (p: PhraseParams) =>
    `The replaced databases are kept on their servers (${keptEn(p)}), but listing them in a pre_restore set failed: ${p['error']}.`,
  'restore.replacedUnlistedHint': () =>
    'Nothing is lost: those databases are the rollback. Fix the backup folder (space, permissions), then rename them back by hand if needed or drop them once you are sure.',
  'config.notFound': (p: PhraseParams) => `${p['file']}: file not found`,
  'config.notFoundHint': () =>
    'Pass --config PATH, set RESPALDO_CONFIG, or run from the folder that holds backup_config.json (`npm run demo` creates a demo setup).',
  'config.notUtf8': (p: PhraseParams) =>
    p['utf16']
      ? `${p['file']}: is UTF-16 text, not UTF-8 (respaldo read nothing from it)`
      : `${p['file']}: line ${p['line']} is not UTF-8 text (an accent saved as Latin-1 or Windows-1252?); respaldo read nothing from it`,
  'config.notUtf8Hint': () =>
    'Save the file as UTF-8 (in Notepad: Save as, Encoding UTF-8; or iconv -f latin1 -t utf-8), then run the command again; nothing was changed.',
  'config.denied': (p: PhraseParams) => `${p['file']}: permission denied`,
  'config.deniedHint': () => 'Run as a user that can read the config file.',
  'config.isFolder': (p: PhraseParams) => `${p['file']}: is a folder, not a config file`,
  'config.isFolderHint': (p: PhraseParams) =>
    `Pass the file itself (--config ${p['inside']}, say), or set RESPALDO_CONFIG to it.`,
  'config.backupDirFile': (p: PhraseParams) => `${p['dir']} is a file, not a folder`,
  'config.backupDirFileHint': () =>
    'Point "backupDir" at a folder (it is created when missing), then run the command again; nothing was changed.',
  // PostgreSQL errors said whole (src/drivers/postgres/connection.ts pgError); `doing` and `detail` the driver's words
  'pgconn.rejected': (p: PhraseParams) => `PostgreSQL at ${p['at']} rejected user "${p['user']}": ${p['detail']}`,
  'pgconn.rejectedHint': () =>
    "The server's pg_hba.conf does not allow this user/host/database; ask the DBA to allow it.",
  'pgconn.noSlots': (p: PhraseParams) => `PostgreSQL at ${p['at']} has no free connection slots.`,
  'pgconn.noSlotsHint': () => 'Close idle connections or raise max_connections, then try again.',
  'pgconn.denied': (p: PhraseParams) =>
    `PostgreSQL at ${p['at']}: permission denied while ${p['doing']}: ${p['detail']}`,
  'pgconn.deniedHint': () =>
    'Connect as the database owner or a role with the needed privileges (CREATEDB for restores).',
  'pgconn.signalBackendHint': (p: PhraseParams) =>
    `The configured user may not end the sessions of other roles: stop the application first, or grant it that right (GRANT pg_signal_backend TO ${p['user']}). Nothing was replaced.`,
  'pgconn.ended': (p: PhraseParams) => `PostgreSQL at ${p['at']} ended the session while ${p['doing']}: ${p['detail']}`,
  'pgconn.endedHint': () => 'The server was shut down or the session was terminated; check the server and try again.',
  'pgconn.sqlstate': (p: PhraseParams) =>
    `PostgreSQL at ${p['at']}: ${p['detail']} (while ${p['doing']}, SQLSTATE ${p['code']})`,
  // Left English inside the Spanish menu until now (2): PostgreSQL's client tools and ended sessions, a config that
  // cannot be read, no terminal for a passphrase, a set missing where its keep mark goes, a copy refused at a
  // destination holding another set of its id, and why prune keeps nothing
  'pgend.hint': (p: PhraseParams) =>
    `${PGEND_EN[p['why'] ?? ''] ?? ''} Nothing half-made was kept for this database (a backup publishes no dump, a restore replaces nothing); run it again once that is over.`,
  'pgend.dumpDiskFullHint': () =>
    "The disk pg_dump writes the dump to is full: the backup folder's, where the dump is staged before it is stored " +
    '(`respaldo prune --dry-run` shows what retention would remove; `respaldo delete <id>` removes one set). ' +
    'Nothing was published for this database; run it again once there is room.',
  'pgtool.passwordHint': (p: PhraseParams) =>
    `Check the user and password for ${p['at']} in the config (the password comes from the URL or "password", or the \${VAR} they name, read from the environment or .env).`,
  'pgtool.unreachableHint': (p: PhraseParams) =>
    `Is the PostgreSQL server at ${p['at']} running and reachable from here? Check host and port in the config.`,
  'pgtool.missingHint': (p: PhraseParams) =>
    `Install the PostgreSQL client (${p['tool']}), e.g. \`apt-get install postgresql-client\` or \`dnf install postgresql\`, in a version at least as new as the server; or point "binPath" in the config (or PG_BIN_PATH) at the folder that holds ${p['tool']}.`,
  'pgtool.lockTimeoutHint': () =>
    'Another session held a table lock longer than "lockWaitTimeout" (a migration, VACUUM FULL, ALTER TABLE…); nothing was published for this database. Run the backup again later, or raise lockWaitTimeout in the config.',
  'pgtool.roleMissingHint': () =>
    'The backup refers to a role that does not exist on this server. If the set stored its roles ("globals": true), restore again with --create-roles; otherwise CREATE ROLE it first.',
  'pgtool.damagedDataHint': (p: PhraseParams) =>
    `The server found damaged data in database "${p['database']}" (the file of a table or index on its disk), so nothing of it was stored. Do not wait for the next backup: restore the newest set that holds it without error (respaldo list, respaldo restore latest --dry-run), side by side first (--to NEWNAME) to compare, or only the damaged tables (--table … --to NEWNAME); check the server's disk and its log.`,
  'pgtool.locksHint': () =>
    "pg_dump locks every table and sequence of the database in one transaction, and the server's lock table (about max_locks_per_transaction × max_connections entries) cannot hold them all: raise max_locks_per_transaction in postgresql.conf so that it covers the database's tables and sequences (256 with max_connections 100 holds about 25 000), restart the server, then back up again.",
  'pgtool.tablespaceMissingHint': (p: PhraseParams) =>
    `The backup puts tables in the tablespace "${p['tablespace']}", which this server lacks (a new server: tablespaces are not created by a restore). Create it first, as a superuser, on an empty folder owned by the server's user: CREATE TABLESPACE ${p['sql']} LOCATION '/path/to/an/empty/folder'; then restore again.`,
  'pgtool.extensionMissingHint': (p: PhraseParams) =>
    `The backup uses the extension "${p['extension']}", which is not installed on this server. Install its package on the database server (pgcrypto, citext, hstore and the other contrib extensions come with the server's postgresql-contrib package; others have their own, such as postgresql-<major>-postgis-3), then restore again.`,
  'pgtool.privilegeHint': () =>
    'The configured user lacks a privilege this needs; connect as the database owner or a role with the required rights.',
  'pgtool.hbaHint': (p: PhraseParams) =>
    `The server refuses this client in pg_hba.conf; ask the DBA to allow ${p['user'] || 'this user'} from this host.`,
  'config.unreadable': (p: PhraseParams) => `${p['file']}: cannot read: ${p['detail']}`,
  'config.unreadableHint': () =>
    'Check the file and the disk it is on (a copy of the config can be passed with --config); nothing was changed.',
  'config.variableEmpty': (p: PhraseParams) => `\${${p['variable']}} is set but empty`,
  'config.variableEmptyHint': (p: PhraseParams) =>
    `Give ${p['variable']} a value in the environment or in ${p['env']} (an empty ${p['variable']}= line there, ` +
    'or an export of nothing, sets it to nothing), then run the command again; nothing was changed.',
  'config.writtenTwice': (p: PhraseParams) =>
    `is written twice (lines ${p['first']} and ${p['line']}); JSON would keep only the second, silently`,
  'config.writtenTwiceHint': () =>
    'Keep one of them (merge their values if both are wanted), then run the command again; nothing was changed.',
  'config.linkLoop': (p: PhraseParams) =>
    `${p['file']}: is a symbolic link that leads back to itself (ELOOP), not a config file`,
  'config.linkLoopHint': () =>
    'Point the link at the config file (ls -l shows where it leads), or pass the file itself with --config; nothing was changed.',
  'error.noTerminal': (p: PhraseParams) =>
    `There is no terminal to ask for the passphrase of ${p['identity'] ? `the identity file ${p['identity']}` : `the backups of set ${p['set']}`} (it is protected by a passphrase).`,
  'error.noTerminalHint': (p: PhraseParams) =>
    `Run the command on a terminal to be asked for it, or name a file (mode 0600) holding it with ${p['env']}=FILE.`,
  'keep.noSetThere': (p: PhraseParams) =>
    `No set ${p['set']} of this server (source "${p['source']}") at destination "${p['dest']}".`,
  'keep.noSetThereHint': (p: PhraseParams) => `See the sets there with respaldo list --from ${p['dest']}.`,
  'copy.claimedThere': (p: PhraseParams) =>
    `destination "${p['dest']}": another set ${p['set']} of source "${p['source']}", not this one, is being copied there or its copy was cut short (${p['claim']}): nothing was sent, so as not to mix the two sets' files.`,
  'copy.claimedThereHint': (p: PhraseParams) =>
    `Another config (or server) copies there under the same source "${p['source']}". Give each config its own "source" (top level, or on the destination), then copy again.${p['claimed'] ? ` Once nothing was written there for ${p['quiet']} (claimed ${p['claimed']}), a copy takes it over.` : ''} If no copy of that set will complete (its server or set is gone), take its claim over: \`respaldo copy ${p['set']} --to ${p['dest']} --take-over\` (its unfinished files there are removed, its pending multipart uploads aborted); or remove ${p['where']}/${p['set']} and ${p['claim']} there by hand first.`,
  'copy.claimHolderRunsHint': (p: PhraseParams) =>
    `Its copy runs on this server (pid ${p['pid']} on ${p['host']}): it is not taken over, even with --take-over. Wait for it to finish, then copy again; ${p['claim']} goes with it.`,
  'copy.anotherSetThere': (p: PhraseParams) =>
    `destination "${p['dest']}" already holds a set ${p['set']} of source "${p['source']}" that is not this one (it started at ${p['thereAt']}, on ${p['thereHost']}; this one at ${p['at']}, on ${p['host']}): nothing was sent, so as not to overwrite it.`,
  'copy.anotherSetThereHint': (p: PhraseParams) =>
    `Another config (or server) copies there under the same source "${p['source']}". Give each config its own "source" (top level, or on the destination), such as "${p['suggested']}", then copy again.`,
  'prune.refused': (p: PhraseParams) => `Nothing pruned: ${nestedEn(p)}.`,
  'prune.aheadOfClock': (p: PhraseParams) =>
    `set ${p['set']} is dated ${p['at']}, ahead of this machine's clock (a clock that was wrong here or where it was made)`,
  'prune.aheadOfClockHint': () =>
    "Check this machine's clock (timedatectl); if the set's date is what is wrong, delete it or move it out of the backup folder, then prune again.",
  'prune.lastFailed': (p: PhraseParams) => `the last backup (${p['set']}) failed and wrote no set`,
  'prune.newestNotCompleted': (p: PhraseParams) =>
    `the newest backup set ${p['set']} is ${p['status']}${p['failed'] ? ` (${p['failed']} failed)` : ''}`,
  'prune.refusedHint': (p: PhraseParams) =>
    'Retention only runs after a successful backup. Fix the failure, run `respaldo create`, then prune again.' +
    (p['oldest']
      ? ` If it fails because the disk of the backup folder is full, free room by hand: retention would remove ${p['count']} set(s), the oldest ${p['oldest']} (\`respaldo delete ${p['oldest']}\` says what it removes).`
      : ''),
  'prune.refusedAt': (p: PhraseParams) => `destination "${p['dest']}": ${nestedEn(p)}`,
  'prune.refusedThereHint': () => 'Copy a completed set there first (`respaldo copy --to NAME`), then prune again.',
  'prune.aheadOfClockThereHint': (p: PhraseParams) =>
    "Check this machine's clock (timedatectl); if the set's date is what is wrong, remove it there with " +
    `\`respaldo delete ${p['set']} --from ${p['dest']}\`, then prune again.`,
  'retention.problems': (p: PhraseParams) =>
    [
      ...(p['notRemoved'] ? [`could not remove ${p['notRemoved']}`] : []),
      ...retentionProblems(p).map((i) =>
        i.error.startsWith(`destination "${i.dest}"`) ? i.error : `at ${i.dest}: ${i.error}`,
      ),
    ].join('; '),
  // `FILE: field: problem`, the problem a nested phrase (nestedPhrase)
  'config.fieldProblem': (p: PhraseParams) => `${p['file']}: ${p['field']}: ${nestedEn(p)}`,
} satisfies Record<string, (p: PhraseParams) => string>;

export type PhraseId = keyof typeof PHRASES_EN;

/** A sentence as an id and its parameters. */
export interface Phrase {
  id: PhraseId;
  params: PhraseParams;
}

/** A phrase; every parameter is shown as text. */
export function phrase(id: PhraseId, params: Record<string, string | number> = {}): Phrase {
  return { id, params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) };
}

/** The English text of a phrase (CLI, JSON, logs). */
export function english(p: Phrase): string {
  return PHRASES_EN[p.id](p.params);
}

/**
 * A phrase carried inside another's parameters (`pid`, and its own parameters prefixed `p.`), so that a sentence
 * whose `problem` is itself a phrase is said whole in the menu's language (phrases-es.ts nestedEs); empty without one.
 */
export function nestedPhrase(p: Phrase | undefined): PhraseParams {
  if (!p) return {};
  return { pid: p.id, ...Object.fromEntries(Object.entries(p.params).map(([k, v]) => [`p.${k}`, v])) };
}

/** A sentence as its English text (CLI, JSON, logs) and its phrase (the menu says it in its language). */
export interface Said {
  message: string;
  phrase: Phrase;
}

/** A warning's or a note's message and its phrase (ProgressEvent): English for the CLI, the phrase for the menu. */
export function said(id: PhraseId, params: Record<string, string | number> = {}): Said {
  return saidOf(phrase(id, params));
}

/** A phrase with its English text. */
export function saidOf(p: Phrase): Said {
  return { message: english(p), phrase: p };
}

/**
 * `inner` said inside the sentence `id`, whose text ends with the inner one's (`recover.finished`: "finished an
 * interrupted restore: <what recovery did>"); the inner id travels as the parameter `of`.
 */
export function sayingWithin(
  id: 'recover.finished' | 'create.nothingBackedUp' | 'create.safetyNotTaken' | 'note.replacedUnreadable',
  inner: Phrase,
  params: PhraseParams = {},
): Said {
  return said(id, { ...inner.params, ...params, of: inner.id });
}
