import { phrase, type Phrase } from '../../core/phrases.js';
import { quoteIdent } from './args.js';

/**
 * Pure reading of `pg_dumpall --globals-only` output (roles, memberships, tablespaces) and
 * planning of the roles a restore needs but the server lacks (`--create-roles`). Only missing
 * roles are created; existing roles are never altered and tablespaces are never created.
 * Nothing here does I/O; the caller runs the statements in one transaction.
 *
 * Why one file of about 470 lines: the reader of the dump's statements and the plan built from what it read
 * change together; both are tested as tables in test/postgres-globals.test.ts.
 */

/** A role as stored in the globals dump. */
export interface StoredRole {
  /** Unquoted role name. */
  name: string;
  /**
   * The text after `ALTER ROLE <name> WITH ` (no trailing `;`), or null when the dump has none. May hold a password
   * hash.
   */
  attributes: string | null;
  /** Full `ALTER ROLE … [IN DATABASE …] SET …` statements for this role, without `;`. */
  settings: string[];
  /** Full `COMMENT ON ROLE … IS …` statement without `;`, or null. */
  comment: string | null;
}

/** `member` is granted membership in `role`; `statement` is the full GRANT it came from, without `;`. */
export interface StoredMembership {
  role: string;
  member: string;
  statement: string;
}

/**
 * What a globals dump holds. `unrecognized` lists statements not understood (password literals masked), for warnings.
 */
export interface StoredGlobals {
  roles: StoredRole[];
  memberships: StoredMembership[];
  /** Names of the tablespaces in the dump (listed only; never created). */
  tablespaces: string[];
  unrecognized: string[];
}

/** Roles to create, the SQL that creates them, and notes on what was left out. */
export interface RoleCreationPlan {
  /** The roles the statements create, in order, with an operator-readable summary (never the password). */
  create: { name: string; summary: string }[];
  /** SQL to run in order (one transaction), without trailing semicolons. Holds password hashes: do not print it. */
  statements: string[];
  /** What is left out and why (memberships not granted, roles not created), as phrases: warnings of the restore. */
  skipped: Phrase[];
}

type TokenKind = 'word' | 'ident' | 'string' | 'number' | 'punct';

interface Token {
  kind: TokenKind;
  /** Word: ASCII-lowercased (as PostgreSQL folds it); ident/string: unquoted content; else the text. */
  value: string;
  start: number;
  end: number;
}

interface Statement {
  text: string;
  tokens: Token[];
  /** Ended by `;` with every quote closed. */
  complete: boolean;
  /** A psql backslash command (one line). */
  meta: boolean;
}

const WORD = /[A-Za-z_\u0080-\uFFFF][A-Za-z0-9_$\u0080-\uFFFF]*/y;
const NUMBER = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uFFFF][A-Za-z0-9_\u0080-\uFFFF]*)?\$/y;

function matchAt(re: RegExp, s: string, at: number): string | null {
  re.lastIndex = at;
  return re.exec(s)?.[0] ?? null;
}

/** Reads a quoted token starting at `at` (the opening quote); `backslash` for E'' strings. */
function readQuoted(
  s: string,
  at: number,
  quote: string,
  backslash: boolean,
): { value: string; end: number; closed: boolean } {
  let value = '';
  let i = at + 1;
  while (i < s.length) {
    const c = s[i] as string;
    if (backslash && c === '\\' && i + 1 < s.length) {
      value += s.slice(i, i + 2);
      i += 2;
    } else if (c === quote) {
      if (s[i + 1] === quote) {
        value += quote;
        i += 2;
      } else {
        return { value, end: i + 1, closed: true };
      }
    } else {
      value += c;
      i++;
    }
  }
  return { value, end: s.length, closed: false };
}

/**
 * Splits SQL into statements on `;` outside quotes ('…', E'…', "…", $tag$…$tag$) and comments
 * (`--`, nested `/* *\/`). psql backslash commands become one-line `meta` statements.
 */
function splitStatements(sql: string): Statement[] {
  const out: Statement[] = [];
  let tokens: Token[] = [];
  let broken = false;
  const flush = (complete: boolean) => {
    const first = tokens[0];
    const last = tokens[tokens.length - 1];
    if (first && last)
      out.push({ text: sql.slice(first.start, last.end), tokens, complete: complete && !broken, meta: false });
    tokens = [];
    broken = false;
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < sql.length && depth > 0) {
        if (sql.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else {
          i++;
        }
      }
      if (depth > 0) broken = true;
    } else if (c === ';') {
      flush(true);
      i++;
    } else if (c === '\\') {
      const nl = sql.indexOf('\n', i);
      const end = nl < 0 ? sql.length : nl;
      out.push({ text: sql.slice(i, end).trimEnd(), tokens: [], complete: true, meta: true });
      i = end;
    } else if (c === "'" || c === '"' || ((c === 'E' || c === 'e') && next === "'")) {
      const escaped = c !== "'" && c !== '"';
      const q = readQuoted(sql, escaped ? i + 1 : i, escaped ? "'" : c, escaped);
      if (!q.closed) broken = true;
      tokens.push({ kind: c === '"' ? 'ident' : 'string', value: q.value, start: i, end: q.end });
      i = q.end;
    } else if (c === '$' && matchAt(DOLLAR_TAG, sql, i)) {
      const tag = matchAt(DOLLAR_TAG, sql, i) as string;
      const close = sql.indexOf(tag, i + tag.length);
      if (close < 0) broken = true;
      const end = close < 0 ? sql.length : close + tag.length;
      tokens.push({ kind: 'string', value: sql.slice(i + tag.length, close < 0 ? sql.length : close), start: i, end });
      i = end;
    } else {
      const word = matchAt(WORD, sql, i);
      const number = word === null ? matchAt(NUMBER, sql, i) : null;
      const text = word ?? number ?? c;
      const value = word !== null ? word.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : text;
      tokens.push({
        kind: word !== null ? 'word' : number !== null ? 'number' : 'punct',
        value,
        start: i,
        end: i + text.length,
      });
      i += text.length;
    }
  }
  flush(false);
  return out;
}

function isWord(t: Token | undefined, ...words: string[]): boolean {
  return t?.kind === 'word' && words.includes(t.value);
}

function nameOf(t: Token | undefined): string | null {
  return t && (t.kind === 'word' || t.kind === 'ident') && t.value !== '' ? t.value : null;
}

/** Statement text with the literal after each PASSWORD replaced, for warnings. */
function maskPasswords(st: Statement): string {
  let text = st.text;
  const base = st.tokens[0]?.start ?? 0;
  for (let k = st.tokens.length - 1; k > 0; k--) {
    const t = st.tokens[k] as Token;
    if (t.kind === 'string' && isWord(st.tokens[k - 1], 'password'))
      text = `${text.slice(0, t.start - base)}'***'${text.slice(t.end - base)}`;
  }
  return text;
}

/** Comma-separated role names in tokens[from, to), or null when anything else is there. */
function nameList(tokens: Token[], from: number, to: number): string[] | null {
  const names: string[] = [];
  for (let k = from; k < to; k += 2) {
    const name = nameOf(tokens[k]);
    if (name === null) return null;
    names.push(name);
    if (k + 1 < to && tokens[k + 1]?.value !== ',') return null;
  }
  return names.length > 0 && (to - from) % 2 === 1 ? names : null;
}

interface RoleGrant {
  roles: string[];
  members: string[];
  /** The `WITH …` clause as written, or ''. */
  options: string;
}

const GRANT_OPTION_WORDS = new Set(['admin', 'inherit', 'set', 'option', 'true', 'false']);

/** `GRANT role[, …] TO member[, …] [WITH …] [GRANTED BY grantor]`, or null. */
function readRoleGrant(st: Statement): RoleGrant | null {
  const t = st.tokens;
  if (!isWord(t[0], 'grant')) return null;
  const to = t.findIndex((x) => isWord(x, 'to'));
  if (to < 0) return null;
  const roles = nameList(t, 1, to);
  let end = t.length;
  if (isWord(t[end - 3], 'granted') && isWord(t[end - 2], 'by') && nameOf(t[end - 1]) !== null) end -= 3;
  const withAt = t.findIndex((x, k) => k > to && isWord(x, 'with'));
  const membersEnd = withAt >= 0 && withAt < end ? withAt : end;
  const members = nameList(t, to + 1, membersEnd);
  if (!roles || !members) return null;
  const optionTokens = t.slice(membersEnd + 1, end);
  if (
    membersEnd < end &&
    (optionTokens.length === 0 ||
      !optionTokens.every((x) => x.value === ',' || (x.kind === 'word' && GRANT_OPTION_WORDS.has(x.value))))
  )
    return null;
  const base = t[0]?.start ?? 0;
  const first = optionTokens[0];
  const last = optionTokens[optionTokens.length - 1];
  const options = first && last ? ` WITH ${st.text.slice(first.start - base, last.end - base)}` : '';
  return { roles, members, options };
}

/** GRANT/REVOKE … ON TABLESPACE, ALTER TABLESPACE, COMMENT ON TABLESPACE. */
function isTablespaceExtra(t: Token[]): boolean {
  if (isWord(t[0], 'alter') && isWord(t[1], 'tablespace')) return true;
  if (isWord(t[0], 'comment') && isWord(t[1], 'on') && isWord(t[2], 'tablespace')) return true;
  if (isWord(t[0], 'grant', 'revoke')) return t.some((x, k) => isWord(x, 'on') && isWord(t[k + 1], 'tablespace'));
  return false;
}

/**
 * Reads `pg_dumpall --globals-only` output (plain SQL). Recognizes CREATE ROLE, ALTER ROLE … WITH,
 * ALTER ROLE … [IN DATABASE …] SET, COMMENT ON ROLE, role GRANTs, CREATE TABLESPACE (and the ALTER,
 * GRANT, REVOKE and COMMENT on tablespaces that follow it). Session `SET`s and psql's
 * `\restrict`/`\unrestrict` are ignored; everything else, including SECURITY LABEL, other psql
 * commands and an unterminated last statement, goes to `unrecognized`. Never throws.
 */
export function parseGlobals(sql: string): StoredGlobals {
  const globals: StoredGlobals = { roles: [], memberships: [], tablespaces: [], unrecognized: [] };
  const roles = new Map<string, StoredRole>();
  for (const st of splitStatements(sql)) {
    if (st.meta) {
      if (!/^\\(un)?restrict(\s|$)/.test(st.text)) globals.unrecognized.push(st.text);
      continue;
    }
    if (!understood(st, roles, globals)) globals.unrecognized.push(maskPasswords(st));
  }
  globals.roles = [...roles.values()];
  return globals;
}

function understood(st: Statement, roles: Map<string, StoredRole>, globals: StoredGlobals): boolean {
  const t = st.tokens;
  if (!st.complete) return false;
  if (isWord(t[0], 'set')) return true;
  const base = t[0]?.start ?? 0;
  const name = nameOf(t[2]);
  if (isWord(t[0], 'create') && isWord(t[1], 'role') && name !== null && t.length === 3) {
    if (!roles.has(name)) roles.set(name, { name, attributes: null, settings: [], comment: null });
    return true;
  }
  const role = name === null ? undefined : roles.get(name);
  if (isWord(t[0], 'alter') && isWord(t[1], 'role') && role) {
    const attrs = t[4];
    if (isWord(t[3], 'with') && attrs) {
      role.attributes = st.text.slice(attrs.start - base);
      return true;
    }
    const inDatabase = isWord(t[3], 'in') && isWord(t[4], 'database') && nameOf(t[5]) !== null;
    if (isWord(t[inDatabase ? 6 : 3], 'set') && t.length > (inDatabase ? 7 : 4)) {
      role.settings.push(st.text);
      return true;
    }
    return false;
  }
  if (isWord(t[0], 'comment') && isWord(t[1], 'on') && isWord(t[2], 'role') && isWord(t[4], 'is') && t.length === 6) {
    const target = roles.get(nameOf(t[3]) ?? '');
    if (!target || !(t[5]?.kind === 'string' || isWord(t[5], 'null'))) return false;
    target.comment = st.text;
    return true;
  }
  if (isWord(t[0], 'create') && isWord(t[1], 'tablespace') && name !== null) {
    if (!globals.tablespaces.includes(name)) globals.tablespaces.push(name);
    return true;
  }
  if (isTablespaceExtra(t)) return true;
  const grant = readRoleGrant(st);
  if (!grant) return false;
  for (const r of grant.roles)
    for (const member of grant.members) globals.memberships.push({ role: r, member, statement: st.text });
  return true;
}

const ROLE_FLAGS = new Set([
  'superuser',
  'nosuperuser',
  'inherit',
  'noinherit',
  'createrole',
  'nocreaterole',
  'createdb',
  'nocreatedb',
  'login',
  'nologin',
  'replication',
  'noreplication',
  'bypassrls',
  'nobypassrls',
]);

/** Attribute words in `ALTER ROLE … WITH` text, or the first word not understood (never a literal). */
function readAttributes(text: string): { flags: Set<string>; password: boolean } | { problem: string } {
  const parts = splitStatements(`${text};`);
  const t = parts[0]?.tokens ?? [];
  if (parts.length !== 1 || !parts[0]?.complete || parts[0].meta) return { problem: '(not one list of attributes)' };
  const flags = new Set<string>();
  let password = false;
  let k = 0;
  while (k < t.length) {
    const tok = t[k] as Token;
    if (tok.kind === 'word' && ROLE_FLAGS.has(tok.value)) {
      flags.add(tok.value);
      k++;
    } else if (isWord(tok, 'connection') && isWord(t[k + 1], 'limit')) {
      k += t[k + 2]?.value === '-' ? 3 : 2;
      if (t[k]?.kind !== 'number') return { problem: 'CONNECTION LIMIT' };
      k++;
    } else if (isWord(tok, 'valid') && isWord(t[k + 1], 'until') && t[k + 2]?.kind === 'string') {
      k += 3;
    } else if (isWord(tok, 'password') || (isWord(tok, 'encrypted') && isWord(t[k + 1], 'password'))) {
      k += isWord(tok, 'encrypted') ? 2 : 1;
      if (t[k]?.kind === 'string') password = true;
      else if (!isWord(t[k], 'null')) return { problem: 'PASSWORD' };
      k++;
    } else {
      return {
        problem: tok.kind === 'word' ? tok.value.toUpperCase() : tok.kind === 'punct' ? tok.value : `(${tok.kind})`,
      };
    }
  }
  return { flags, password };
}

const SUMMARY_FLAGS = ['superuser', 'createdb', 'createrole', 'replication', 'bypassrls'];

/**
 * Plans creating the roles of `globals` that are not in `existing` (all role names on the server,
 * predefined `pg_*` roles included), limited to `only` when given: CREATE ROLE, ALTER ROLE … WITH
 * the stored attributes, the role's settings and comment; then the memberships of the new roles
 * in roles that exist afterwards, without GRANTED BY (an existing role never gains a membership). A role whose
 * attributes are
 * not understood is not created (noted in `skipped`). Existing roles get no statement at all.
 */
export function planMissingRoles(
  globals: StoredGlobals,
  existing: ReadonlySet<string>,
  opts: { only?: readonly string[] } = {},
): RoleCreationPlan {
  const plan: RoleCreationPlan = { create: [], statements: [], skipped: [] };
  const only = opts.only ? new Set(opts.only) : null;
  const inBackup = new Set(globals.roles.map((r) => r.name));
  for (const name of only ?? []) {
    if (!inBackup.has(name)) plan.skipped.push(phrase('role.notInBackup', { role: quoteIdent(name) }));
    else if (existing.has(name)) plan.skipped.push(phrase('role.exists', { role: quoteIdent(name) }));
  }
  const created = new Set<string>();
  for (const role of globals.roles) {
    if (existing.has(role.name) || created.has(role.name) || (only && !only.has(role.name))) continue;
    if (role.name.startsWith('pg_')) {
      plan.skipped.push(phrase('role.reserved', { role: quoteIdent(role.name) }));
      continue;
    }
    const attrs =
      role.attributes === null ? { flags: new Set<string>(), password: false } : readAttributes(role.attributes);
    if ('problem' in attrs) {
      plan.skipped.push(phrase('role.attributes', { role: quoteIdent(role.name), problem: attrs.problem }));
      continue;
    }
    const quoted = quoteIdent(role.name);
    plan.statements.push(`CREATE ROLE ${quoted}`);
    if (role.attributes !== null) plan.statements.push(`ALTER ROLE ${quoted} WITH ${role.attributes}`);
    plan.statements.push(...role.settings);
    if (role.comment !== null) plan.statements.push(role.comment);
    const summary = SUMMARY_FLAGS.filter((f) => attrs.flags.has(f)).map((f) => f.toUpperCase());
    summary.push(attrs.flags.has('login') ? 'LOGIN' : 'NOLOGIN');
    if (attrs.password) summary.push('password');
    plan.create.push({ name: role.name, summary: summary.join(', ') });
    created.add(role.name);
  }
  const present = (name: string) => existing.has(name) || created.has(name);
  const granted = new Set<string>();
  for (const m of globals.memberships) {
    if (!present(m.role) || !present(m.member)) {
      plan.skipped.push(membershipNote(m, present));
      continue;
    }
    if (!created.has(m.member)) {
      // Granting a role to an existing member would change that existing role's privileges.
      if (created.has(m.role))
        plan.skipped.push(
          phrase('role.membershipExisting', { member: quoteIdent(m.member), role: quoteIdent(m.role) }),
        );
      continue;
    }
    const options = splitStatements(m.statement).map(readRoleGrant)[0]?.options ?? '';
    const sql = `GRANT ${quoteIdent(m.role)} TO ${quoteIdent(m.member)}${options}`;
    if (!granted.has(sql)) plan.statements.push(sql);
    granted.add(sql);
  }
  return plan;
}

function membershipNote(m: StoredMembership, present: (name: string) => boolean): Phrase {
  const names = { member: quoteIdent(m.member), role: quoteIdent(m.role) };
  const missing = [m.role, m.member].filter((n) => !present(n)).map(quoteIdent);
  return missing.length > 1
    ? phrase('role.membershipBothMissing', names)
    : phrase('role.membershipMissing', { ...names, missing: missing.join('') });
}

/**
 * `DROP ROLE IF EXISTS` for roles created by a plan, last created first. A drop fails while the
 * role still owns objects or holds privileges in some database (drop those first).
 */
export function dropCreatedRolesSql(names: readonly string[]): string[] {
  return [...names].reverse().map((name) => `DROP ROLE IF EXISTS ${quoteIdent(name)}`);
}
