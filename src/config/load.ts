/**
 * Loading `backup_config.json`: its text, the `${VAR}` values (the environment and the `.env` beside it), the schema,
 * and the checks that name a field and give a hint for each mistake. Why one file of about 580 lines: every error
 * about the config file is said here, the same way, naming the file and the field.
 */
import { statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { english, nestedPhrase, phrase, type Phrase } from '../core/phrases.js';
import { NotRegularFileError, notRegularKind, readRegularFileSync, TooLargeFileError } from '../core/regular-file.js';
import { formatBytes } from '../core/format.js';
import type {
  BackupConfig,
  DatabaseConfig,
  DrillServerConfig,
  EngineName,
  LoadedConfig,
  NotificationConfig,
  UnsetVariable,
} from '../core/types.js';
import { validatorsFor } from '../drivers/validators.js';
import { parsePgUrl } from '../drivers/postgres/config.js';
import { normalizeDestinations } from '../destinations/config.js';
import { normalizeEncryption } from './encryption.js';
import { validateJobs } from '../scheduler/when.js';
import {
  CONFIG_MAX_BYTES,
  dotEnvLineWithout,
  firstNonUtf8Line,
  interpolate,
  NotUtf8TextError,
  readDotEnv,
} from './interpolate.js';
import { duplicateKey } from './duplicate-keys.js';
import { joinPath, validateAgainstSchema, type SchemaProblem } from './schema.js';
import { emailAddressProblem, webhookUrlProblem } from '../notify/checks.js';

export interface LoadOptions {
  /** `--config` from the command line. */
  configPath?: string;
  /** Environment (defaults to process.env); RESPALDO_CONFIG and `${VAR}` values come from it. */
  env?: NodeJS.ProcessEnv;
  /** Folder the default `./backup_config.json` is looked up in (defaults to process.cwd()). */
  cwd?: string;
}

/** `--config PATH`, else `RESPALDO_CONFIG`, else `./backup_config.json`; always absolute. */
export function resolveConfigPath(opts: LoadOptions = {}): string {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const chosen = opts.configPath ?? env.RESPALDO_CONFIG ?? 'backup_config.json';
  return resolve(cwd, chosen);
}

/**
 * Reads, interpolates and validates backup_config.json. Every problem is a ConfigError naming the
 * file and the JSON path of the field; nothing on disk is touched.
 */
export async function loadConfig(opts: LoadOptions = {}): Promise<LoadedConfig> {
  const secretsSeen: string[] = [];
  try {
    return await loadConfigUnmasked(opts, secretsSeen);
  } catch (err) {
    // A field's value quoted in the error may be a ${VAR}'s (a password put where a path or a time goes)
    if (err instanceof ConfigError && secretsSeen.length) {
      // As written and as quoted in JSON (a value found is quoted; the menu's phrases carry JSON of JSON)
      const escaped = (x: string) => JSON.stringify(x).slice(1, -1);
      const forms = secretsSeen.filter(Boolean).flatMap((x) => [escaped(escaped(x)), escaped(x), x]);
      const hide = (text: string) => forms.reduce((t, x) => t.split(x).join('***'), text);
      err.message = hide(err.message);
      if (err.hint) (err as { hint: string }).hint = hide(err.hint);
      // The menu says the phrases: their parameters (a value found, quoted) are masked the same way
      const hidePhrase = <T extends { params: Record<string, string> }>(p: T): T => ({
        ...p,
        params: Object.fromEntries(Object.entries(p.params).map(([k, v]) => [k, hide(v)])),
      });
      if (err.phrases)
        err.phrases = {
          ...err.phrases,
          ...(err.phrases.message ? { message: hidePhrase(err.phrases.message) } : {}),
          ...(err.phrases.hint ? { hint: hidePhrase(err.phrases.hint) } : {}),
        };
    }
    throw err;
  }
}

/**
 * The `.env` beside the config as KEY → value. One that cannot be read is a config error naming it (exit 3): a folder
 * named `.env` was an internal error (exit 1, a stack), and one the user may not read exit 7 with a hint about the
 * backup folder.
 */
function dotEnvBeside(file: string): Record<string, string> {
  try {
    return readDotEnv(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR')
      throw new ConfigError(
        file,
        undefined,
        'is a folder: respaldo reads the file .env beside the config for its ${VAR} values (KEY=VALUE lines)',
        'Move that folder away, or make .env the file of the values, then run the command again; nothing was changed.',
      );
    if (code === 'EACCES' || code === 'EPERM')
      throw new ConfigError(
        file,
        undefined,
        "permission denied (it holds the values of the config's ${VAR})",
        `Run as a user that can read it, or let this user read it (chmod, chown), then run the command again; nothing was changed.`,
      );
    if (err instanceof NotRegularFileError) throw notRegular(file, err, 'config.dotEnvNotRegular');
    if (err instanceof NotUtf8TextError) throw notUtf8(file, err.line, false);
    if (err instanceof TooLargeFileError) throw tooLarge(file, err, true);
    throw err;
  }
}

async function loadConfigUnmasked(opts: LoadOptions, secretsSeen: string[]): Promise<LoadedConfig> {
  const file = resolveConfigPath(opts);
  const baseDir = dirname(file);
  const text = readConfigText(file);
  const raw = parseJson(file, text);
  const env = { ...dotEnvBeside(resolve(baseDir, '.env')), ...(opts.env ?? process.env) };
  const { value, secrets, missing, malformed, emptied } = interpolate(raw, env);
  secretsSeen.push(...secrets);
  const odd = malformed[0];
  if (odd)
    throw new ConfigError(
      file,
      odd.path,
      `${odd.text} is not a variable respaldo reads (it reads \${NAME} alone: letters, digits and _; no defaults such as :-)`,
      'Write ${NAME} and give NAME its value in the environment or in .env; write $${ for a literal ${.',
    );
  const hintFor = (variable: string): string => {
    const dotEnv = resolve(baseDir, '.env');
    const line = dotEnvLineWithout(dotEnv, variable);
    return line
      ? `Line ${line} of ${dotEnv} names ${variable} but is not KEY=VALUE, so it is passed over: write it as ${variable}=value.`
      : `Set ${variable} in the environment or in ${dotEnv}.`;
  };
  // A variable of a destination stops only the commands that use that destination: on the new-server day the
  // .env holding the other destinations' secrets is often gone, and `restore --from nas` needs none of them.
  const unsetAt = new Map<number, UnsetVariable>();
  for (const m of missing) {
    const i = destinationIndex(m.path);
    if (i !== undefined && !unsetAt.has(i)) unsetAt.set(i, { ...m, hint: hintFor(m.variable) });
  }
  const first = missing.find((m) => destinationIndex(m.path) === undefined);
  if (first) throw new ConfigError(file, first.path, `\${${first.variable}} is not set`, hintFor(first.variable));
  // The fields of such a destination hold `${VAR}` as written: checked once it is set.
  const problems = validateAgainstSchema(value).filter((p) => !unsetAt.has(destinationIndex(p.path) ?? -1));
  // "is empty: fill it in" of a field that reads ${BK_DIR} in the file: the variable is set, to nothing.
  const blank = emptied.find((e) => problems.some((p) => p.path === e.path && p.phrase.id === 'schema.empty'));
  if (blank) {
    const problem = phrase('config.variableEmpty', { variable: blank.variable });
    const hint = phrase('config.variableEmptyHint', { variable: blank.variable, env: resolve(baseDir, '.env') });
    const message = phrase('config.fieldProblem', { file, field: blank.path, ...nestedPhrase(problem) });
    throw new ConfigError(file, blank.path, english(problem), english(hint)).withPhrases(message, hint);
  }
  if (problems.length) throw schemaError(file, problems);
  const doc = value as BackupConfig;
  const written = raw as { databases?: unknown[]; drill?: { server?: unknown } };
  const databases = doc.databases.map((db, i) =>
    withPasswordVariable(normalizeDatabase(file, db, i, baseDir), written.databases?.[i]),
  );
  checkUniqueNames(file, databases);
  const secretValues = new Set(secrets);
  for (const db of databases) {
    if (db.password) secretValues.add(db.password);
    const urlPassword = db.url ? passwordFromUrl(db.url) : undefined;
    if (urlPassword) secretValues.add(urlPassword);
  }
  checkCompressionLevels(file, doc, databases);
  const server = normalizeDrillServer(file, doc, baseDir);
  const drillServer = server && withPasswordVariable(server, written.drill?.server);
  if (drillServer?.password) secretValues.add(drillServer.password);
  const drillUrlPassword = drillServer?.url ? passwordFromUrl(drillServer.url) : undefined;
  if (drillUrlPassword) secretValues.add(drillUrlPassword);
  const destinations = normalizeDestinations(file, doc, baseDir, secretValues, unsetAt);
  const unsetDestinations = Object.fromEntries(
    [...unsetAt].map(([i, u]) => [destinations[i]?.name ?? `destinations[${i}]`, u] as const),
  );
  const encryption = await normalizeEncryption(file, doc, baseDir);
  const jobProblem = validateJobs(
    doc.schedule.jobs,
    'schedule.jobs',
    databases.map((d) => d.name),
  )[0];
  if (jobProblem) throw new ConfigError(file, jobProblem.path, jobProblem.problem, jobProblem.hint);
  const backupDir = resolve(baseDir, doc.backupDir);
  checkBackupDir(file, backupDir, databases);
  return {
    ...doc,
    backupDir,
    databases,
    destinations,
    ...(unsetAt.size ? { unsetDestinations } : {}),
    ...(encryption ? { encryption } : {}),
    files: {
      config: doc.files.config.map((f) => resolve(baseDir, f)),
      application: doc.files.application.map((a) => ({ ...a, path: resolve(baseDir, a.path) })),
    },
    notifications: normalizeNotifications(file, doc.notifications ?? []),
    ...(doc.metrics?.textfile ? { metrics: { textfile: resolve(baseDir, doc.metrics.textfile) } } : {}),
    ...(drillServer ? { drill: { ...doc.drill, server: drillServer } } : {}),
    file,
    baseDir,
    secrets: [...secretValues],
  };
}

/** At most this many schema problems are listed (the rest counted): the screen of a menu holds 24 lines. */
const LISTED_PROBLEMS = 6;

/**
 * The config error for the schema's `problems`: each named by its field's path with what was found and what was
 * expected, one a line when several, their hints after; in English and as phrases (the menu's language).
 */
function schemaError(file: string, problems: readonly SchemaProblem[]): ConfigError {
  const listed = problems.slice(0, LISTED_PROBLEMS);
  const items = JSON.stringify(
    listed.map((p) => ({
      path: p.path,
      id: p.phrase.id,
      params: p.phrase.params,
      hint: p.hintPhrase.id,
      hintParams: p.hintPhrase.params,
    })),
  );
  const params = { file, count: String(problems.length), more: String(problems.length - listed.length), items };
  const message = phrase('config.schemaProblems', params);
  const hint = phrase('config.schemaHints', params);
  const first = problems[0]!;
  const err = new ConfigError(file, first.path || undefined, first.problem, english(hint)).withPhrases(message, hint);
  // The whole list, where the ConfigError's own message says the first problem only
  err.message = english(message);
  return err;
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/**
 * `backupDir` must be a folder (or not exist yet), and a SQLite database `path` must not be a folder: said naming
 * the field, instead of an internal error (mkdir EEXIST) or SQLite's "disk I/O error".
 */
function checkBackupDir(file: string, backupDir: string, databases: readonly DatabaseConfig[]): void {
  const kind = (p: string) => {
    try {
      return statSync(p).isDirectory() ? 'folder' : 'file';
    } catch {
      return null;
    }
  };
  if (kind(backupDir) === 'file') {
    const problem = phrase('config.backupDirFile', { dir: backupDir });
    const hint = phrase('config.backupDirFileHint');
    const message = phrase('config.fieldProblem', { file, field: 'backupDir', ...nestedPhrase(problem) });
    throw new ConfigError(file, 'backupDir', english(problem), english(hint)).withPhrases(message, hint);
  }
  databases.forEach((db, i) => {
    // A FIFO there blocked SQLite's first read, and the backup, forever (SIGTERM included); a device was read as one.
    const st = db.engine === 'sqlite' && db.path ? statOrNull(db.path) : null;
    const what = st && notRegularKind(st);
    if (what)
      throw new ConfigError(
        file,
        `databases[${i}].path`,
        `${db.path} is ${what}, not a SQLite database file`,
        `Point "path" of "${db.name}" at the database file, then run the command again; nothing was changed.`,
      );
  });
}

/** The config error for `file` (the config, or the .env beside it) that is no regular file, in English and phrases. */
function notRegular(
  file: string,
  err: NotRegularFileError,
  id: 'config.notRegular' | 'config.dotEnvNotRegular',
): ConfigError {
  const message = phrase(id, { file, kind: err.kind });
  const hint = phrase(id === 'config.notRegular' ? 'config.notRegularHint' : 'config.dotEnvNotRegularHint');
  const problem = english(message).slice(file.length + 2);
  return new ConfigError(file, undefined, problem, english(hint)).withPhrases(message, hint);
}

/** A problem of the config file as a whole, said by `message` (which starts with `file: `) and `hint`. */
function configSaid(file: string, message: Phrase, hint: Phrase): ConfigError {
  const problem = english(message).slice(file.length + 2);
  return new ConfigError(file, undefined, problem, english(hint)).withPhrases(message, hint);
}

/** The config error for `file` (the config, or the .env beside it) whose line `line` is no UTF-8. */
function notUtf8(file: string, line: number, utf16: boolean): ConfigError {
  const params = { file, line: String(line), utf16: utf16 ? 'yes' : '' };
  return configSaid(file, phrase('config.notUtf8', params), phrase('config.notUtf8Hint'));
}

/** The config error for `file` (the config, or the .env beside it when `dotEnv`) too large to be one, never read. */
function tooLarge(file: string, err: TooLargeFileError, dotEnv: boolean): ConfigError {
  const params = { file, size: formatBytes(err.size), max: formatBytes(err.maxBytes), dotEnv: dotEnv ? 'yes' : '' };
  return configSaid(file, phrase('config.tooLarge', params), phrase('config.tooLargeHint', params));
}

function readConfigText(file: string): string {
  try {
    const buf = readRegularFileSync(file, { maxBytes: CONFIG_MAX_BYTES });
    const line = firstNonUtf8Line(buf);
    if (line !== null) {
      throw notUtf8(file, line, (buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff));
    }
    return buf.toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if (err instanceof TooLargeFileError) throw tooLarge(file, err, false);
    if (err instanceof NotRegularFileError && err.code === 'ENOTREG') throw notRegular(file, err, 'config.notRegular');
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw configSaid(file, phrase('config.notFound', { file }), phrase('config.notFoundHint'));
    if (code === 'EACCES') throw configSaid(file, phrase('config.denied', { file }), phrase('config.deniedHint'));
    if (code === 'EISDIR') {
      const inside = resolve(file, 'backup_config.json');
      throw configSaid(file, phrase('config.isFolder', { file }), phrase('config.isFolderHint', { inside }));
    }
    if (code === 'ELOOP') throw configSaid(file, phrase('config.linkLoop', { file }), phrase('config.linkLoopHint'));
    // Said "fix the field named above" of a file that has none (an I/O error of a damaged disk, say).
    throw configSaid(
      file,
      phrase('config.unreadable', { file, detail: (err as Error).message }),
      phrase('config.unreadableHint'),
    );
  }
}

function parseJson(file: string, raw: string): unknown {
  // A byte order mark (Notepad writes one) is no JSON, and its error named an invisible character.
  const text = raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const offset = pos ? Number(pos[1]) : jsonErrorOffset(text);
    let where = '';
    if (offset !== undefined) {
      const before = text.slice(0, offset);
      const line = before.split('\n').length;
      const col = before.length - before.lastIndexOf('\n');
      where = ` at line ${line}, column ${col}`;
    }
    throw new ConfigError(
      file,
      undefined,
      `malformed JSON${where}: ${msg}`,
      'Fix the JSON syntax (a missing comma or quote, a trailing comma) and run again.',
    );
  }
  const twice = duplicateKey(text);
  if (twice) {
    const problem = phrase('config.writtenTwice', { first: String(twice.firstLine), line: String(twice.line) });
    const hint = phrase('config.writtenTwiceHint');
    const message = phrase('config.fieldProblem', { file, field: twice.path, ...nestedPhrase(problem) });
    throw new ConfigError(file, twice.path, english(problem), english(hint)).withPhrases(message, hint);
  }
  return doc;
}

/**
 * Offset of the first character JSON.parse rejects, for errors whose message carries no position
 * (Node 20: "Unexpected token ']', ... is not valid JSON"). A prefix that is fine so far only fails
 * at its end; the shortest prefix that fails before its end ends just after the bad character.
 */
function jsonErrorOffset(text: string): number | undefined {
  const failsInside = (k: number): boolean => {
    try {
      JSON.parse(text.slice(0, k));
      return false;
    } catch (err) {
      const m = (err as Error).message;
      if (/end of JSON input/i.test(m)) return false;
      const at = /position (\d+)/.exec(m);
      return at ? Number(at[1]) < k : true;
    }
  };
  if (!failsInside(text.length)) return undefined;
  let lo = 0;
  let hi = text.length;
  while (lo + 1 < hi) {
    const mid = (lo + hi) >> 1;
    if (failsInside(mid)) hi = mid;
    else lo = mid;
  }
  return hi - 1;
}

/** Engine from an explicit field or from the URL scheme. Pure. */
export function detectEngine(db: { engine?: string; url?: string; path?: string }): EngineName | undefined {
  if (db.engine) return db.engine as EngineName;
  const url = db.url;
  if (url) {
    if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres';
    if (/^(sqlserver|mssql):\/\//i.test(url)) return 'sqlserver';
    if (/^sqlite:/i.test(url) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return 'sqlite';
    return undefined;
  }
  if (db.path) return 'sqlite';
  return undefined;
}

function normalizeDatabase(file: string, db: DatabaseConfig, index: number, baseDir: string): DatabaseConfig {
  const at = `databases[${index}]`;
  const engine = detectEngine(db);
  if (!engine) {
    const problem = db.url ? `cannot tell the engine from url` : 'engine, url or path is required';
    throw new ConfigError(
      file,
      db.url ? `${at}.url` : `${at}.engine`,
      problem,
      'Set "engine" to sqlite, postgres or sqlserver, or use a postgresql://, sqlserver:// or sqlite: URL.',
    );
  }
  // An engine given with a URL of another (`"engine": "sqlite"` and a postgresql:// URL) was read as a file path.
  const fromUrl = db.engine && db.url ? detectEngine({ url: db.url }) : undefined;
  if (fromUrl && fromUrl !== engine)
    throw new ConfigError(
      file,
      `${at}.url`,
      `is a ${fromUrl} URL, and "engine" says ${engine}`,
      `Remove "engine" (the URL tells it), or give a ${engine} URL.`,
    );
  if (engine === 'sqlite' && db.path && db.url)
    throw new ConfigError(
      file,
      `${at}.url`,
      'and "path" both name the SQLite file (the url was ignored)',
      'Keep one of them: "path": "./data/users.db", or "url": "sqlite:./data/users.db".',
    );
  // A URL written in "path" (`"path": "sqlite:./data/a.db"`) named a file `sqlite:./data/a.db` in the config's folder,
  // found missing at the first backup. One-letter schemes are Windows drives (`C:\data\a.db`), a path.
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(db.path ?? '')?.[1];
  if (scheme)
    throw new ConfigError(
      file,
      `${at}.path`,
      `is a ${scheme}: URL, not a file path`,
      /^sqlite$/i.test(scheme)
        ? `Move it to "url", or give the file alone: "path": "${db.path!.replace(/^sqlite:(\/\/)?/i, '')}".`
        : 'Give a database URL in "url"; "path" is the file of a SQLite database (a file whose name has a colon: "./name:…").',
    );
  const out: DatabaseConfig = { ...db, engine };
  if (engine === 'sqlite') {
    const fromUrl = db.url?.replace(/^sqlite:(\/\/)?/i, '');
    const p = db.path ?? fromUrl;
    if (p) out.path = isAbsolute(p) ? p : resolve(baseDir, p);
  }
  for (const key of ['localBackupDir', 'binPath'] as const) {
    const v = out[key];
    if (typeof v === 'string' && v) out[key] = resolve(baseDir, v);
  }
  const problem = validatorsFor(engine).validateConfig(out)[0];
  if (problem) throw new ConfigError(file, joinPath(at, problem.path), problem.problem, problem.hint);
  return out;
}

/**
 * `drill.server`: a PostgreSQL server (the only engine whose drills can move to another server);
 * its problems name their field under `drill.server`. binPath is resolved against the config folder.
 */
function normalizeDrillServer(file: string, doc: BackupConfig, baseDir: string): DrillServerConfig | undefined {
  const server = doc.drill?.server;
  if (!server) return undefined;
  if (server.url !== undefined && detectEngine({ url: server.url }) !== 'postgres') {
    const hint = 'drill.server is a PostgreSQL server: postgresql://USER:${DRILL_PG_PASSWORD}@HOST:5432/postgres.';
    throw new ConfigError(file, 'drill.server.url', 'is not a postgresql:// URL', hint);
  }
  const problem = validatorsFor('postgres').validateDrillServer?.(server)[0];
  if (problem) throw new ConfigError(file, joinPath('drill.server', problem.path), problem.problem, problem.hint);
  return server.binPath ? { ...server, binPath: resolve(baseDir, server.binPath) } : server;
}

/** gzip has levels 1–9, zstd 1–19: a level past the codec's range names its field. */
function checkCompressionLevels(file: string, doc: BackupConfig, dbs: DatabaseConfig[]): void {
  if (doc.compression.codec !== 'gzip') return;
  const hint = 'gzip levels are 1 (fastest) to 9 (smallest); levels up to 19 are for "codec": "zstd".';
  if ((doc.compression.level ?? 0) > 9)
    throw new ConfigError(file, 'compression.level', 'must be at most 9 for gzip', hint);
  const i = dbs.findIndex((d) => (d.compressionLevel ?? 0) > 9);
  if (i >= 0) throw new ConfigError(file, `databases[${i}].compressionLevel`, 'must be at most 9 for gzip', hint);
}

/**
 * Fills each channel's defaults (port, tls, format) and checks what the schema cannot: a webhook URL (scheme, port),
 * and email addresses, which would otherwise fail, or go nowhere, only when an alert is sent.
 */
function normalizeNotifications(file: string, channels: NotificationConfig[]): NotificationConfig[] {
  return channels.map((c, i) => {
    const at = `notifications[${i}]`;
    if (c.type === 'webhook') {
      const bad = webhookUrlProblem(c.url);
      if (bad) throw new ConfigError(file, `${at}.url`, bad.problem, bad.hint);
      return { ...c, format: c.format ?? 'json' };
    }
    const addresses: [string, string][] = [
      [`${at}.from`, c.from],
      ...c.to.map((t, k): [string, string] => [`${at}.to[${k}]`, t]),
    ];
    for (const [path, address] of addresses) {
      const bad = emailAddressProblem(address);
      if (bad) throw new ConfigError(file, path, bad.problem, bad.hint);
    }
    const tls = c.tls ?? 'auto';
    return { ...c, tls, port: c.port ?? (tls === 'implicit' ? 465 : 587) };
  });
}

function checkUniqueNames(file: string, dbs: DatabaseConfig[]): void {
  const seen = new Map<string, number>();
  dbs.forEach((db, i) => {
    const prev = seen.get(db.name.toLowerCase());
    if (prev !== undefined)
      throw new ConfigError(
        file,
        `databases[${i}].name`,
        `"${db.name}" is already used by databases[${prev}]`,
        'Give every database a different name.',
      );
    seen.set(db.name.toLowerCase(), i);
  });
}

/**
 * The password in a database URL, to be masked wherever respaldo writes. A PostgreSQL URL is read as the driver
 * reads it (parsePgUrl: the user information ends at the last "@", so a raw `${DB_PASSWORD}` holding "@", "/" or
 * "#" is one password); WHATWG's URL would cut it at the first of them and mask a piece of it everywhere instead.
 */
function passwordFromUrl(url: string): string | undefined {
  try {
    if (/^postgres(?:ql)?:\/\//i.test(url)) return parsePgUrl(url).password || undefined;
    const u = new URL(url);
    return u.password ? decodeURIComponent(u.password) : undefined;
  } catch {
    return undefined;
  }
}

/** The `${NAME}` in `text` (not a literal `$${`), else undefined. */
function variableIn(text: string): string | undefined {
  return /(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(text)?.[1];
}

/**
 * `entry` with the `${VAR}` its password came from, read in `written` (the entry as written, before interpolation):
 * its "password" when that gave the password, else the password part of its url (or the url's own variable, when
 * the whole url is one). Entries whose password is written out get none.
 */
function withPasswordVariable<T extends { password?: string; url?: string; passwordVariable?: string }>(
  entry: T,
  written: unknown,
): T {
  const w = (written ?? {}) as { password?: unknown; url?: unknown };
  let variable: string | undefined;
  if (typeof entry.password === 'string' && entry.password !== '') {
    if (typeof w.password === 'string') variable = variableIn(w.password);
  } else if (typeof w.url === 'string' && entry.url && passwordFromUrl(entry.url)) {
    const userinfo = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^@/?#]*)@/.exec(w.url)?.[1];
    const secret = userinfo?.includes(':') ? userinfo.slice(userinfo.indexOf(':') + 1) : undefined;
    variable = secret !== undefined ? variableIn(secret) : /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(w.url)?.[1];
  }
  return variable ? { ...entry, passwordVariable: variable } : entry;
}

/** The index `i` of a path `destinations[i]…`, else undefined. */
function destinationIndex(path: string): number | undefined {
  const i = /^destinations\[(\d+)\]/.exec(path)?.[1];
  return i === undefined ? undefined : Number(i);
}
