/**
 * English strings of the menu. Every word the menu shows comes from here (or from es.ts, which has
 * the same shape); components never hold literals. Functions take the values to interpolate.
 * One file of about 615 lines (es.ts the same): a language's words read, and are checked, together; split by
 * screen, a missing or stale translation would hide across files (the Catalogue type makes es.ts match this one).
 */
import type { ScheduleJob } from '../../core/types.js';
import type { JobOutcome } from '../engine-facade.js';

/** Source names said in a line: the first five, then how many more. */
const sourceNames = (names: readonly string[]) =>
  names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ');

export const en = {
  lang: 'en',
  noTty:
    'The respaldo menu needs a terminal. Without one use the subcommands: respaldo create | list | show | verify | restore | scheduler | status (see respaldo --help).',
  appName: 'respaldo',
  confirmWord: 'RESTORE',
  deleteWord: 'DELETE',

  common: {
    moreLines: (n: number) => `… and ${n} more line(s)`,
    loading: 'Loading…',
    yes: 'yes',
    no: 'no',
    all: 'all',
    none: 'none',
    back: 'back',
    error: 'Error',
    hint: 'What to do',
    bugHint:
      'This looks like a bug in respaldo. Run the same action with the CLI (`respaldo --help`) to see the details, and report it.',
    pressAnyKey: 'Press Enter or Esc to go back',
    status: {
      completed: 'OK',
      partial: 'PARTIAL',
      failed: 'FAILED',
      ok: 'OK',
      running: 'RUNNING',
      pending: 'WAITING',
      warn: 'WARNING',
    },
    setType: {
      full: 'full',
      schema: 'schema',
      differential: 'differential',
      incremental: 'incremental',
      pre_restore: 'safety',
    } as Record<string, string>,
    never: 'never',
    unknown: 'unknown',
  },

  header: {
    lock: (purpose: string, pid: number, since: string) => `Busy: ${purpose}, pid ${pid} since ${since}`,
    lockUnreadable: 'Busy: the lock file of the backup folder cannot be read',
    more: (n: number) => `… and ${n} more warning${n === 1 ? '' : 's'}`,
    free: (s: string) => `${s} free`,
    config: 'Config',
    folder: 'Backups',
    sets: (n: number) => (n === 1 ? '1 set' : `${n} sets`),
    newest: (age: string) => `newest ${age}`,
    noSets: 'no backups yet',
    noUsableSets: (n: number) => `no usable backups (${n} damaged: 3. List backups)`,
    noSetsButSafety: (n: number) => `no backups yet (${n === 1 ? '1 safety copy' : `${n} safety copies`})`,
    stale: (db: string, age: string, limit: string) =>
      `WARNING: ${db}: newest good backup ${age}; the schedule promises one every ${limit}`,
    /** One line for every database never backed up (three lines said it on a new server, over the menu). */
    neverBacked: (dbs: string[]) =>
      `WARNING: ${dbs.join(', ')} ${dbs.length === 1 ? 'has' : 'have'} never been backed up successfully`,
    /** neverBacked when the names do not fit the width. */
    neverBackedCount: (n: number) => `WARNING: ${n} databases have never been backed up successfully`,
    /** This server's folder holds no set and destinations are configured: the new-server day's way on. */
    restoreFromOffsite: (names: string[]) =>
      names.length === 1
        ? `To restore from the off-site copy: 4. Restore, then "${names[0]}"`
        : 'To restore from an off-site copy: 4. Restore, then its destination',
    // The command first: a long path cuts the reason, not the fix.
    looseSecret: (path: string, mode: string) =>
      `WARNING: run chmod 600 ${path} (mode ${mode}: other users can read this key file)`,
    /** The newest restore was interrupted (a lost terminal saw nothing of its end); short: one line at 80. */
    stoppedRestore: (id: string, when: string, restored: string[]) =>
      `WARNING: restore of ${id} interrupted ${when}: ${restored.length ? `only ${restored.join(', ')} restored` : 'no change'}`,
    /** stoppedRestore when its names do not fit the width: how many databases it restored first. */
    stoppedRestoreCount: (id: string, when: string, n: number) =>
      `WARNING: restore of ${id} interrupted ${when}: only ${n} databases`,
    /** The last restore of a database was killed (no end logged): status lists what it left. */
    killedRestore: (id: string, when: string, pid: number | null) =>
      `WARNING: restore of ${id} KILLED ${when}${pid === null ? '' : ` (pid ${pid})`}: see respaldo status`,
    statusFailed: (msg: string) => `Status unavailable: ${msg}`,
    notOffsite: (names: string) => `WARNING: the newest set is not copied off-site to ${names} (respaldo copy)`,
    drilled: (age: string, ok: boolean) => (ok ? `drilled ${age} ✓` : `drill FAILED ${age}`),
    drillFailed: (db: string, age: string, id: string) =>
      `WARNING: ${db}: last restore drill FAILED ${age} (set ${id})`,
  },

  time: {
    ago: (s: string) => `${s} ago`,
    justNow: 'just now',
    in: (s: string) => `in ${s}`,
  },

  help: {
    main: '↑↓/j k move · 1-7 choose · Enter select · q quit',
    health: '↑↓ PgUp PgDn scroll · r read again · Esc back',
    list: '↑↓ move · Enter details · f filter · v verify · r restore · d delete · Esc back',
    details: '↑↓ scroll · v verify · V verify + read data · t drill · p keep · r restore · d delete · Esc back',
    checkboxForm: '↑↓ move · Space toggle · ←→ change · Enter start · Esc back',
    running: 'Working… Ctrl-C to interrupt (nothing partial is kept)',
    busy: 'Please wait… Ctrl-C leaves the menu (nothing is changed)',
    busyFetch: 'Please wait… Esc stops reading it (nothing is changed) · Ctrl-C leaves the menu',
    done: 'Enter or Esc back',
    confirm: 'Type the word, then Enter · Esc cancel · Ctrl-C quit',
    pickSet: '↑↓ move · Enter choose · d drill · Esc back',
    pickSetAt: '↑↓ move · Enter choose · t as of a date and time · d drill · Esc back',
    pickSource: '↑↓ move · Enter choose · Esc back',
    atForm: '↑↓ move · type the time · Space toggle · Enter next · Esc back',
    passphrase: 'Type the passphrase (not shown), then Enter · Esc back to the plan · Ctrl-C quit',
    passphraseBack: 'Type the passphrase (not shown), then Enter · Esc back · Ctrl-C quit',
    pickItems: '↑↓ move · Space toggle · a all · Enter next · Esc back',
    pickTarget: '↑↓ choose · type the new path or name · Enter next · Esc back',
    pickFolder: 'type the folder (or leave it empty) · Enter next · Esc back',
    pickTables: '↑↓ move · Space toggle · Enter next · Esc back',
    pickPaths: 'type a stored path · Tab list and complete · Enter add it (empty: go on) · Esc back',
    sessions: '↑↓ choose · Enter confirm · Esc back (nothing is closed)',
    schedule: '↑↓ move · Enter edit · a add · x remove · t retention · s save · Esc back',
    jobForm: '↑↓ field · ←→ change · type text · Enter done · Esc cancel',
    retentionForm: '↑↓ field · type digits · Enter done · Esc cancel',
    scheduler: 'q or Ctrl-C stop after the current job · Esc back when stopped',
    schedulerScroll: 'q or Ctrl-C stop after the current job · ↑↓ PgUp PgDn log · Esc back when stopped',
    catchUp: 'Enter run the catch-up and start · s skip it and start · Esc back',
    confirmScroll: 'Type the word, then Enter · ↑↓ PgUp PgDn scroll · Esc cancel · Ctrl-C quit',
    doneScroll: '↑↓ PgUp PgDn scroll · Enter or Esc back',
  },

  main: {
    title: 'Main menu',
    items: [
      'Create backup now',
      'Configure automatic backup',
      'List backups',
      'Restore',
      'Run the scheduler',
      'Health',
      'Quit',
    ] as string[],
  },

  create: {
    title: 'Create backup now',
    databases: 'Databases',
    type: 'Type',
    typeFull: 'full (schema and data)',
    typeSchema: 'schema only',
    typeDifferential: 'differential (changes since the last full)',
    typeIncremental: 'incremental (changes since the last backup)',
    fellBack: 'Stored as a full instead',
    onFull: 'Stored as a differential on the full instead',
    files: 'Include files',
    filesNone: 'no files configured',
    description: 'Description (optional)',
    start: 'Start backup',
    noneSelected: 'Choose at least one database or include the files.',
    running: 'Backing up…',
    summaryTitle: 'Backup finished',
    setId: 'Set',
    status: 'Status',
    size: 'Stored size',
    rawSize: 'Original size',
    duration: 'Duration',
    checksums: 'Checksums',
    checksumsOk: (n: number) => `verified, ${n} files match MD5 and SHA-256`,
    checksumsBad: (n: number) => `${n} files do NOT match`,
    checksumsSkipped: 'not verified (the set has no stored files)',
    verifying: 'Verifying checksums…',
    dbFailed: (db: string) => `${db} failed`,
    interruptAgain: 'Press Ctrl-C again to interrupt the backup (nothing partial is kept).',
    offsite: 'Off-site',
    copiedTo: (names: string) => `copied to ${names}`,
    notCopied: (dest: string, error: string) => `NOT copied to ${dest}: ${error}`,
    notCopiedHint: 'Safe here; `respaldo copy` (or the next backup) sends it again.',
  },

  progress: {
    files: 'files',
    verify: 'verify',
    fetch: (destination: string) => `from ${destination}`,
    rate: (r: string) => `${r}/s`,
    elapsed: (s: string) => s,
    done: 'done',
    failed: 'failed',
    waiting: 'waiting',
    more: (n: number, states: string) => `+${n} more: ${states}`,
  },

  list: {
    title: 'Backups',
    /** The status of a set whose chain cannot be restored (a set under it deleted, pruned or damaged). */
    broken: 'BROKEN',
    columns: {
      id: 'ID',
      date: 'Date',
      type: 'Type',
      databases: 'Databases',
      size: 'Size',
      status: 'Status',
      verified: 'Verified',
      drilled: 'Drilled',
    },
    empty: 'No backup sets yet. Choose 1 in the main menu to create one.',
    emptyButDamaged: 'No usable backup sets: those below are damaged (do not restore).',
    emptyFilter: (db: string) => `No backup sets contain ${db}.`,
    filter: (db: string) => `Filter: ${db}`,
    noFilter: 'Filter: all databases',
    offsiteLegend: '! = not copied off-site',
    rows: (from: number, to: number, total: number) => `${from}-${to} of ${total}`,
    verifiedOk: 'OK',
    verifiedBad: 'BAD',
    drilledOk: (age: string) => `✓ ${age}`,
    drilledBad: (dbs: string[]) => `✗ ${dbs.join(',')}`,
    deleted: (id: string) => `Deleted ${id}.`,
    // What matters first (how many, what to do), the ids last: a narrow terminal cuts the end.
    damaged: (n: number, ids: string) =>
      `${n} damaged set${n === 1 ? '' : 's'} not shown (\`respaldo list\` says why): ${ids}`,
    damagedAt: (dest: string, n: number, ids: string) =>
      `${n} damaged set${n === 1 ? '' : 's'} at ${dest} not shown (do not restore): ${ids}`,
    /** The status of a set whose own last verification failed (a stored file changed, cut short or missing). */
    damagedStatus: 'DAMAGED',
  },

  details: {
    title: (id: string) => `Backup set ${id}`,
    type: 'Type',
    status: 'Status',
    started: 'Started',
    completed: 'Completed',
    duration: 'Duration',
    description: 'Description',
    job: 'Job',
    host: 'Host',
    restoreOf: 'Protects',
    totals: 'Total',
    totalsLine: (stored: string, raw: string, files: number) =>
      `${stored} stored (${raw} original), ${files === 1 ? '1 file' : `${files} files`}`,
    databases: 'Databases',
    files: 'Files',
    noFiles: 'no files in this set',
    filesSummary: (files: number, bytes: string, groups: string) => `${files} files, ${bytes} (${groups})`,
    filesFirst: (n: number) => `the first ${n}:`,
    filesMore: (n: number, id: string) => `… and ${n} more: respaldo show ${id} lists them all`,
    filesDamagedMore: (n: number) => `… and ${n} more damaged`,
    group: { config: 'config', application: 'application' } as Record<string, string>,
    file: 'file',
    size: 'size',
    md5: 'md5',
    sha256: 'sha256',
    rows: 'rows',
    tables: (n: number) => (n === 1 ? '1 table' : `${n} tables`),
    error: 'ERROR',
    warnings: 'Warnings',
    verifying: 'Verifying…',
    dataRead: '(every file decrypted and its content checked)',
    verifyOk: (n: number) => `Verify OK: ${n} files match their checksums.`,
    verifyOkWarned: (n: number, spare: number) =>
      `Verify OK: ${n} files match; ${spare} that no restore reads is missing or damaged (see its warning).`,
    warning: 'warning',
    verifyBad: (n: number) => `Verify FAILED: ${n} files do not match.`,
    verifyChainBroken: (n: number) => `Chain BROKEN: ${n} files match, but the set cannot be restored.`,
    chain: 'Chain',
    chainBroken: (problem: string) => `BROKEN: ${problem}`,
    chainCheck: (id: string) => `respaldo verify --chain ${id} checks every set it needs`,
    deleteTitle: (id: string) => `Delete backup set ${id}? This cannot be undone.`,
    deleting: 'Deleting…',
    keep: 'Keep',
    keepYes: 'yes: prune never removes this set (p to undo)',
    keepNo: 'no: retention decides (p to keep it for good)',
    offsite: 'Off-site',
    offsiteNone: 'no destinations configured',
    offsiteLocal: 'here',
    offsiteOk: (dest: string) => `${dest}: ok`,
    offsiteMissing: (dest: string) => `${dest}: NOT copied`,
    offsiteError: (dest: string, error: string) => `${dest}: NOT copied: ${error}`,
    offsiteRemoved: (dest: string, at: string) => `${dest}: NOT there: removed by delete/prune --from on ${at}`,
    offsiteLastFailed: (dest: string, at: string, error: string) =>
      `${dest}: the copy of ${at} failed (what was there is kept): ${error}`,
    offsiteAsRecorded: 'as respaldo last recorded it; the destinations were not checked now',
    kept: 'Marked keep: prune will never remove this set.',
    unkept: 'Keep mark removed: retention decides again.',
    more: (n: number) => `… ${n} more`,
    drilled: 'Drilled',
    drilledOk: (ago: string) => `${ago} ✓ restored and checked (t drills again)`,
    drilledBad: (ago: string, dbs: string[]) => `FAILED ${ago}: ${dbs.join(', ')} (t drills again)`,
    drillNever: 'never (t restores it into a scratch target and checks it)',
    drillOk: (ago: string, checks: number, took: string) => `drill ✓ ${ago} · ${checks} checks passed · ${took}`,
    drillBad: (ago: string, took: string) => `drill FAILED ${ago} · ${took}`,
    verified: 'Verified',
    verifiedNever: 'never (v checks every stored file against its checksums)',
    verifiedOk: (when: string, ago: string) => `OK ${when} (${ago})`,
    /** A failed verification: when, and how many stored files it found damaged (0: it named none, the whole set). */
    verifiedBad: (when: string, ago: string, n: number) =>
      `FAILED ${when} (${ago}): ${n === 0 ? 'the set is damaged' : n === 1 ? '1 stored file damaged' : `${n} stored files damaged`}`,
    /** Beside a stored file the last verification found damaged (before any verify on this screen). */
    damagedFile: 'did not match at the last verification',
    damagedDo:
      'Do not restore from this set: take a new backup (1 in the main menu) and check the disk of the backup folder; v verifies it again.',
    /** Under a database a safety copy kept already damaged (it failed integrity_check when a restore replaced it). */
    keptDamaged:
      'kept DAMAGED: it failed integrity_check when a restore replaced it; restoring it puts it back damaged',
  },

  health: {
    title: 'Health',
    reading: 'Reading the sets, the logs and the drills…',
    healthy: (n: number) => `Healthy: ${n} database(s), nothing to act on.`,
    problems: (n: number) => `${n} problem(s): the same as respaldo status --check and the alerts say.`,
    newest: 'Newest set',
    none: 'none',
    age: (ago: string) => ago,
    every: (period: string) => `expected every ${period}`,
    noSchedule: 'no schedule: nothing is due at a time',
    overdue: (at: string) => `OVERDUE: the backup due ${at} is missing`,
    drill: 'Last drill',
    drillNever: 'never (t on a set’s details runs one)',
    drillOk: (ago: string, id: string) => `passed ${ago} (set ${id})`,
    drillBad: (ago: string, id: string) => `FAILED ${ago} (set ${id})`,
    runs: (ok: number, all: number) => `${ok} of ${all} backups succeeded in 30 days`,
    lastRestore: 'Last restore',
    offsite: 'Off-site',
    offsiteNone: 'no destinations configured',
    noneFromHere: 'none from here',
    offsiteLine: (dest: string, newest: string, missing: number) =>
      `${dest}: newest there ${newest}${missing ? ` · ${missing} set(s) NOT copied` : ' · all copied'}`,
    offsiteError: (dest: string, id: string, ago: string, error: string) =>
      `${dest}: set ${id} NOT copied ${ago}: ${error}`,
    roles: 'Roles made by killed restores (--create-roles; nothing may use them)',
    rolesLine: (db: string, roles: string, server: string, id: string, at: string) =>
      `${db}: ${roles} on ${server} (set ${id}, ${at})`,
    rolesDrop: (sql: string) => `if unwanted: ${sql}`,
    general: 'Backup folder and alerts',
    free: (free: string, min: string) => `free disk ${free} (at least ${min} wanted)`,
    readAt: (at: string) => `Read at ${at}; r reads it again. Nothing here changes anything.`,
  },

  drill: {
    title: (id: string) => `Restore drill of set ${id}`,
    running: (id: string) => `Restoring ${id} into scratch targets (nothing live is touched)…`,
    interruptAgain: 'Press Ctrl-C again to interrupt the drill (its scratch targets are removed).',
    passed: (id: string) => `Drill of set ${id} passed: it restores, and every check passed`,
    failed: (id: string) => `Drill of set ${id} FAILED`,
    result: (name: string, ok: boolean, took: string) => `${name}: ${ok ? 'PASSED' : 'FAILED'} in ${took}`,
    check: (ok: boolean, name: string, detail: string | undefined) =>
      `${ok ? '✓' : '✗'} ${name}${detail ? `: ${detail}` : ''}`,
    skipped: (name: string, why: string) => `– ${name}: skipped (${why})`,
    recovered: (what: string) => `Cleaned up first: ${what}`,
    recorded: 'Recorded beside the set (drilled.json); list, status and the header show it.',
    notRecorded: 'Not recorded: drilled.json could not be written beside the set (see the warning below).',
    titleFrom: (id: string, dest: string) => `Restore drill of set ${id} at destination "${dest}"`,
    runningFrom: (id: string, dest: string) =>
      `Fetching ${id} from "${dest}" (each file checked as it arrives), then restoring it into scratch targets (nothing live is touched)…`,
    interruptAgainFrom:
      'Press Ctrl-C again to interrupt the drill (the fetched copy and the scratch targets are removed).',
    fetchedFrom: (dest: string, chain: string[]) =>
      `Fetched from destination "${dest}"${chain.length ? ` with the sets of its chain (${chain.join(', ')})` : ''}, each file checked as it arrived.`,
    nothingKept: (dir: string) => `Nothing fetched was kept in ${dir}.`,
    fetchedRemoved: (dir: string) => `The fetched copy was removed from ${dir}.`,
    notHere: (id: string) =>
      `Not recorded: this server's backup folder does not hold set ${id}, so there is no drilled.json to write (the log has the outcome).`,
  },

  restore: {
    title: 'Restore',
    pickSet: 'Choose the backup set to restore from',
    latest: 'latest',
    noSets: 'There are no backup sets to restore from.',
    noSetsOfSource: (source: string, others: readonly string[]) =>
      `There are no backup sets of this server's source "${source}" here.` +
      (others.length
        ? ` Sets of other sources are here: ${sourceNames(others)}. On a new server, set "source" in the config to the` +
          " old server's name, then open the menu again."
        : ''),
    pickItems: 'What to restore',
    filesItem: (n: number) => `Files (${n})`,
    rolesItem: 'PostgreSQL roles: create those missing on the server (stored in this set)',
    pickTables: (db: string) => `Tables of ${db} to restore into the new database`,
    allTables: 'All tables: the whole database',
    rowsNote: (n: number) => (n === 1 ? '1 row' : `${n} rows`),
    tablesNote:
      'Chosen tables come with their keys, indexes, triggers, sequences and the types and functions they use.',
    pickPaths: (n: number) => `Which files to restore (the set stores ${n})`,
    pathsOfSet: (n: number, of: number) => `only those of the paths typed: ${n} of the set's ${of} file(s)`,
    pathField: 'Stored path (empty: all of them)',
    pathFieldMore: 'Another stored path (empty: go on)',
    pathsAdd: (n: number) => `Enter adds this path: ${n} file(s)`,
    pathsGoOn: (n: number) => `Enter goes on with the ${n} path(s) added (Backspace takes back the last)`,
    pathsAddedList: (n: number, shown: number) => (n > shown ? `Added (${n}), the last ${shown}:` : `Added (${n}):`),
    pathsChosen: (n: number) =>
      n > 0
        ? `Enter restores ${n} file(s)`
        : 'No stored file or folder has this path: finish its name (Tab completes it)',
    pathFiles: (n: number) => (n === 1 ? '1 file' : `${n} files`),
    pathsMore: (n: number) => `… and ${n} more: type more of the path`,
    pathsNone: 'Nothing stored begins so: check the path (Tab lists what is stored where it is typed).',
    pathsNote:
      'A file or a folder, as the set lists it; a folder brings back everything below it. Tab lists what is stored there and completes the path; Enter adds it, to restore several.',
    nothingPicked: 'Choose at least one database or the files.',
    pickTarget: 'Where to restore',
    inPlace: 'In place: replace the live database (a safety copy is taken first)',
    sideBySide: 'Side by side: restore to a new path or name, leave the live one untouched',
    newTarget: 'New path or name',
    filesOnlyTarget: 'Files go into a new folder, never over the live ones.',
    filesFolder: 'Folder (empty: restored/<set> beside the config)',
    newTargetNeeded: 'Type the new path or name for the side-by-side restore.',
    oneServerDatabase:
      'A new name takes one PostgreSQL or SQL Server database: go back (Esc) and pick that database alone, then the others one at a time; or restore in place.',
    planning: 'Preparing the plan (nothing is changed)…',
    planTitle: 'Restore plan: nothing has changed yet',
    from: 'From set',
    willReplace: 'Will replace',
    willCreate: 'Will create',
    /** What the plan creates of the set's files (mid-sentence: after willCreate). */
    filesNoun: 'files',
    /** Under the files of an encrypted set restored alone (each checked as it is read). */
    filesDecryptedAsRead:
      'each stored file is decrypted as it is read and checked against the manifest; a mismatch removes all it wrote',
    sizeLabel: 'size',
    estimate: (size: string, source: string | undefined) =>
      `about ${size} once restored (${source === 'recorded-database-size' ? 'database size when backed up' : source === 'database-file' ? 'the stored database file' : 'estimate from the dump size'})`,
    swapsBackLine: (kept: string, size: string) => `rolls back: ${kept} (about ${size}) becomes live again`,
    current: (s: string) => `now ${s}`,
    safety: 'Safety copy',
    safetyYes: (what: string) => `before anything is replaced, a safety backup set of ${what} is taken`,
    safetyNone: 'none needed: nothing live is replaced',
    rollback: 'To roll back',
    typeWord: (w: string) => `Type ${w} and press Enter to go on, or Esc to cancel:`,
    wrongWord: (w: string) => `That is not ${w}. Nothing was done.`,
    enterAlone: 'That Enter came with other keys (a paste?): press Enter again, on its own.',
    running: 'Restoring…',
    outcomeOk: 'Restore finished',
    outcomeFailed: 'Restore FAILED: the target was left as it was',
    safetySet: 'Safety set (roll back with it)',
    rollbackCmd: (id: string) => `respaldo restore ${id}`,
    restored: 'Restored',
    warnings: 'Warnings',
    interruptAgain: 'Press Ctrl-C again to interrupt the restore (the target is left as it was).',
    sessionsTitle: 'Sessions are connected to the live database',
    sessionsIntro:
      'Restoring in place swaps the live database, which cannot happen while these sessions are connected. Nothing has changed yet.',
    sessionsOn: (db: string, target: string, n: number) =>
      `${db} (${target}): ${n === 1 ? '1 session connected' : `${n} sessions connected`}`,
    moreSessions: (n: number) => `…and ${n} more`,
    sessionsRisk:
      'Closing them disconnects those clients at the swap and rolls back their open transactions. The safer way: stop the application first, then restore again.',
    closeQuestion: 'Close these sessions at the swap?',
    closeNo: 'No: leave them connected and go back (nothing is restored)',
    closeYes: 'Yes: close them at the swap, then show the plan again',
    willTerminate: (db: string, n: number) =>
      `You chose to close ${n === 1 ? 'the session' : `the ${n} sessions`} connected to ${db} at the swap.`,
    scrollRows: (from: number, to: number, total: number) =>
      `lines ${from}-${to} of ${total} · ↑↓ PgUp PgDn to see the rest`,
    safetyRemoved: (id: string) =>
      `Nothing was replaced, so the safety copy taken for this restore (set ${id}) was removed.`,
    safetyDatabase: (db: string, safety: string, set: string) =>
      `Safety copy of ${db}: database ${safety} (listed in set ${set})`,
    rawSafety: (db: string, set: string) =>
      `Safety copy of ${db}: set ${set}, its bytes as they were (not a consistent database: no restore takes it back)`,
    rawSafetyHow: 'To put them back by hand (it prints how)',
    rolledBack: (db: string, kept: string, set: string) =>
      `Rolled back ${db}: ${kept} is the live database again; set ${set} no longer lists it`,
    sourceTitle: 'Where to restore from',
    sourceLocal: (dir: string) => `This server's backup folder (${dir})`,
    sourceDestination: (name: string) => `Destination "${name}" (off-site copy)`,
    sourceNote:
      'The plan of a set at a destination is made on its manifest; once you confirm, its files are fetched and each checked as it arrives; with no room here for that, they stream into the restore, each checked as it is read. Press d on a set to drill it instead: fetched, restored into scratch targets, checked and removed; nothing live is touched.',
    atDestination: (name: string) => `at destination "${name}"`,
    fetching: 'Reading the set at the destination (nothing is changed)…',
    fetchFrom: (name: string) =>
      `At destination "${name}": its files are there. Once you confirm, they are fetched here and each checked as it arrives, before anything is restored.`,
    streamedFrom: (name: string) =>
      `No room here to fetch the set first: its files stream from destination "${name}" into the restore, each checked as it is read.`,
    atTitle: 'As of a date and time',
    atTime: 'Date and time',
    atPlaceholder: 'YYYY-MM-DD HH:MM (local time)',
    atNote:
      'The newest set ending at or before that time is restored, with the sets its chain needs (full, differential, incrementals).',
    atDatabases: 'Databases',
    badTime: 'Type a time as YYYY-MM-DD HH:MM (local), e.g. 2026-11-22 14:30.',
    futureTime: 'That time is ahead of the clock: no backup is from then. Check the date (the year, the month).',
    ambiguousTime:
      'The clock showed that time twice (it was set back that night): write which with its UTC offset after it (+HH:MM; the first is summer time).',
    asOf: (when: string) => `as of ${when}`,
    atHead: (when: string, set: string) =>
      `Restore as of ${when}: set ${set}, the newest ending at or before that time.`,
    atExact: (point: string) => `The result is the data as of ${point}.`,
    atFiles: (set: string, point: string) =>
      `The files are those set ${set} stored (it ended ${point}); no database is restored.`,
    atPoint: (from: string, point: string, set: string) =>
      `The result is the data as set ${set} took it, between ${from} and ${point} (each database as of its snapshot).`,
    atOrder: (n: number, size: string) => `Sets applied, in order (${n}, ${size} stored in total):`,
    atPassed: (id: string, reason: string) => `passed over ${id}: ${reason}`,
    passphraseTitle: 'Passphrase of the key',
    passphraseIntro: (file: string) =>
      `The set is encrypted and its key (${file}) is protected by a passphrase. Nothing has changed yet.`,
    passphraseLabel: 'Passphrase',
    unlocking: 'Opening the key…',
    setPassphraseTitle: 'Passphrase of the backups',
    setPassphraseIntro: (id: string) =>
      `Set ${id} is encrypted with a passphrase, and no file holding it is configured (encryption.passphraseFile). Type it to decrypt the set. Nothing has changed yet.`,
    checkingPassphrase: 'Checking the passphrase…',
  },

  schedule: {
    title: 'Automatic backup',
    jobs: 'Jobs',
    noJobs: 'No jobs: nothing runs automatically. Press a to add one.',
    retention: 'Retention',
    retentionLine: (r: { keepLast: number; daily: number; weekly: number; monthly: number; yearly: number }) =>
      `keep last ${r.keepLast}, daily ${r.daily}, weekly ${r.weekly}, monthly ${r.monthly}, yearly ${r.yearly}`,
    saved: 'Saved to the config file.',
    restartScheduler:
      'A scheduler runs on this backup folder: it read the config when it started. Restart it (or its service) to apply the changes.',
    unsaved: 'Unsaved changes: press s to save.',
    discard: 'Unsaved changes. Press Esc again to discard them, s to save.',
    jobTitle: 'Job',
    name: 'Name',
    frequency: 'Frequency',
    freq: { daily: 'daily', weekly: 'weekly', monthly: 'monthly', cron: 'cron expression' } as Record<string, string>,
    time: 'Time (HH:MM)',
    weekday: 'Day of week',
    monthday: 'Day of month',
    cron: 'Cron expression',
    timezone: 'Time zone (optional)',
    type: 'Backup type',
    jobType: {
      full: 'full',
      differential: 'differential',
      incremental: 'incremental',
      schema: 'schema',
      verify: 'verify',
      drill: 'drill',
    } satisfies Record<ScheduleJob['type'], string> as Record<string, string>,
    databases: 'Databases',
    dbAll: 'all',
    files: 'Include files',
    nextRuns: 'Next 5 runs',
    invalid: 'Invalid',
    keepLast: 'Keep last',
    daily: 'Daily',
    weekly: 'Weekly',
    monthly: 'Monthly',
    yearly: 'Yearly',
    weekdays: ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as string[],
    badTime: 'Time must be HH:MM (00:00 to 23:59).',
    lastDay: 'last day',
    badName: 'Name: letters, digits, _ . - (not starting with . or -).',
    duplicateName: 'Another job has this name.',
    badNumber: 'Use whole numbers, 0 or more.',
    saving: 'Saving…',
  },

  scheduler: {
    retention: (removed: string[], kept: number, notCopied: string[] = []) =>
      (removed.length
        ? `retention: removed ${removed.join(', ')}; ${kept} kept`
        : `retention: nothing to remove; ${kept} kept`) +
      (notCopied.length ? ` (${notCopied.length} until copied off-site: ${notCopied.join(', ')})` : ''),
    skipped: (job: string, why: string, running: string) =>
      why === 'stopping'
        ? `${job} not run: the scheduler is stopping (the next start catches it up)`
        : why === 'waiting'
          ? `${job} skipped: it is already waiting`
          : why === 'running'
            ? `${job} skipped: it is still running`
            : `${job} skipped: ${running} is still running`,
    queued: (job: string, running: string) => `${job} waits for ${running} to finish`,
    retentionSkipped: (outcome: string) =>
      outcome === 'aborting' ? 'no pruning: the scheduler is being aborted' : `no pruning: the run ended ${outcome}`,
    catchUpRuns: (jobs: string[]) => `catch-up: running ${jobs.join(', ')} once now`,
    catchUpInstead: (after: string, jobs: string[]) =>
      `catch-up: ${after} did not complete; running ${jobs.join(', ')} instead`,
    stoppingLog: (job: string | null) =>
      job ? `finishing ${job}, then stopping; signal again to abort it` : 'stopping',
    abortingLog: (job: string) => `aborting ${job}`,
    retentionFailed: (msg: string) => `retention FAILED: ${msg}`,
    outcome: {
      completed: 'OK',
      partial: 'PARTIAL',
      failed: 'FAILED',
      interrupted: 'INTERRUPTED',
      verified: 'VERIFIED',
      'verify-failed': 'VERIFY FAILED',
      drilled: 'DRILLED',
      'drill-failed': 'DRILL FAILED',
    } satisfies Record<JobOutcome, string> as Record<string, string>,
    lastOutcome: 'Last',
    startFailed: 'The scheduler could not start.',
    abortedCode: (code: number) => `Stopped (exit code ${code}).`,
    title: 'Scheduler (foreground)',
    noJobs: 'No jobs are configured. Use 2 in the main menu to add one.',
    job: 'Job',
    when: 'When',
    nextRun: 'Next run',
    ok: 'succeeded',
    failed: 'failed',
    counts: (ok: number, failed: number) => `since start: ${ok} succeeded, ${failed} failed`,
    running: 'Running',
    stopping: 'Stopping after the current job…',
    stopped: 'Stopped.',
    ctrlCAgain: 'A job is running. Press Ctrl-C once more to abort it safely (nothing partial is kept).',
    aborting: 'Aborting the current job…',
    started: (job: string) => `${job}: started`,
    finished: (job: string, status: string, id: string) => `${job}: ${status} ${id}`,
    failedLine: (job: string, msg: string) => `${job}: FAILED: ${msg}`,
    idle: 'Waiting for the next run.',
    checking: 'Looking for runs missed while the scheduler was stopped…',
    catchUpIntro: 'Missed while the scheduler was not running. Catch-up runs, one at a time:',
    catchUpRun: (job: string, what: string, missed: string) => `${job}: ${what}, missed ${missed}`,
    catchUpCovers: (jobs: string[]) => `also covers the missed ${jobs.join(', ')} (no separate run)`,
    catchUpSatisfied: (job: string, by: string) => `${job}: already covered by ${by}'s last run`,
    catchUpWhat: (type: string) =>
      type === 'verify' ? 'verify' : type === 'drill' ? 'restore drill' : `${type} backup`,
    catchUpSkipNote: 'Skipped jobs run at their next scheduled time.',
    catchUpSkipped: 'catch-up skipped: jobs run at their next scheduled time',
  },
};

export type Catalogue = typeof en;
